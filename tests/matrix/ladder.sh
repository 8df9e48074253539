#!/bin/bash
# The attach ladder on one kernel of the matrix: every subcommand runs there
# (tests/matrix/ladder_guest.sh) and says which sources and attach methods it
# used; this asserts the ones that kernel must get, which README's
# supported-kernels table states.
#
# usage: tests/matrix/ladder.sh 7.2|7.2-debug|6.12|6.1|arm64|host
#
#   7.2, 7.2-debug  iter/dmabuf inventory; the heap ioctl as one fsession
#                   program (7.0+), tp_btf/dma_buf_export (7.0's dma_buf
#                   tracepoints), BPF trampolines elsewhere
#   6.12, 6.1       the task iterators (no iter/dmabuf before 6.16), which say
#                   what they miss; fentry+fexit on the heap ioctl (no
#                   fsession), fexit/dma_buf_export (no dma_buf
#                   tracepoints); on 6.1 without the CMA programs (its
#                   cma_alloc_finish tells no error: tools/lib/collector.c)
#   arm64           no BPF in that kernel: /proc's fdinfo, nothing traced, and
#                   heaptop says why
#   host            whatever the host kernel lets it use, said alike by every
#                   command, and why tracing is refused when it is
#
# On 7.2, 7.2-debug, 6.12 and 6.1 a bpf-lsm limit on the system heap holds
# at the byte too: set, the page past it refused with EAGAIN, its event,
# everything unpinned by the clear.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
k=${1:?usage: ladder.sh 7.2|7.2-debug|6.12|6.1|arm64|host}
name="ladder $k"
pass() { echo "PASS: $name: $*"; }
fail() { echo "FAIL: $name: $*"; }

task=iter/task_file+task_vma
case $k in
7.2|7.2-debug)	bufs=iter/dmabuf attach=tracing ioctl=fsession/dma_heap_ioctl
		export=tp_btf/dma_buf_export ;;
6.12|6.1)	bufs=$task attach=tracing ioctl=fentry+fexit/dma_heap_ioctl
		export=fexit/dma_buf_export ;;
arm64|host)	;;
*)		echo "usage: ladder.sh 7.2|7.2-debug|6.12|6.1|arm64|host" >&2; exit 2 ;;
esac

# the guest's lines, "ladder: CMD ...", into $out
case $k in
host)
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: $name: needs root"
		exit 0
	fi
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	out=$(PATH=$top/build:$top/build/tests:$PATH LADDER_TMP=$tmp sh "$top/tests/matrix/ladder_guest.sh" 2>&1)
	rc=$? ;;
arm64)
	. "$top/tests/dt/lib.sh"
	dt_setup heapstat heaptop dmabuf_alloc
	: >"$dt_tmp/none.dtsi"
	# no shell there (tests/dt/init): each command's output follows its "run:" line
	{
		echo "/heapstat report --source procfs -j"
		echo "/heaptop -j -n 1 -d 0.5"
		echo "/heapstat -v limit show"
	} >"$dt_root/run"
	dt_prepare "$dt_tmp/none.dtsi"
	out=$(dt_boot "")
	rc=$? ;;
*)
	out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" --timeout 900 -- \
		sh /heapstat/tests/matrix/ladder_guest.sh 2>&1)
	rc=$? ;;
esac
if [ $rc != 0 ]; then
	fail "the run failed (exit $rc): $(tail -n 30 <<<"$out")"
	exit 0
fi

# line CMD: the rest of its "ladder: CMD " line
line() { sed -n "s/^ladder: $1 //p" <<<"$out" | head -n 1; }
# check WHAT GOT WANT
check() {
	if [ "$2" = "$3" ]; then
		pass "$1: $2"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

if [ "$k" = arm64 ]; then
	# the JSON each command printed, after its "run:" line
	json() { awk -v c="$1" 'index($0, "run: " c) {on = 1; next} / run: / {on = 0}
		on && /^[{[]/ {print; exit}' <<<"$out"; }
	check "report --source procfs: sources" "$(json '/heapstat report' | jq -r '.sources.buffers')" procfs-fdinfo
	got=$(json /heaptop | jq -r '"\(.sources.buffers) attach=\(.sources.attach) traced=\(.tracing.attached)"')
	check "heaptop -j: sources, not traced" "$got" "procfs-fdinfo attach=null traced=false"
	why=$(json /heaptop | jq -r .tracing.missing)
	[ -n "$why" ] && [ "$why" != null ] && pass "heaptop says why nothing is traced: $why" ||
		fail "heaptop says why nothing is traced: $why"
	check "limit show -v" "$(grep -m1 '^heapstat limit show: ' <<<"$out")" \
		"heapstat limit show: buffers from none, holders from none; not traced"
	grep -q '^FAIL: ' <<<"$out" && fail "a command failed: $(grep '^FAIL: ' <<<"$out")"
	exit 0
fi

if [ "$k" = host ]; then
	# what the host gives, said alike by every command
	r=$(line report-d)
	bufs=$(sed -n 's/.*buffers=\([^ ]*\).*/\1/p' <<<"$r")
	attach=$(sed -n 's/.*attach=\([^ ]*\).*/\1/p' <<<"$r")
	ioctl=$(sed -n 's/.*ioctl=\([^ ]*\).*/\1/p' <<<"$r")
	export=$(sed -n 's/.*export=\([^ ]*\).*/\1/p' <<<"$r")
	echo "ladder on the host ($(uname -r)): buffers from $bufs, attach $attach ($ioctl, $export)"
fi
holders=$task
[ "$bufs" = procfs-fdinfo ] && holders=procfs-fdinfo
traced=true
[ "$attach" = null ] && traced=false
want_v="buffers from $bufs, holders from $holders; traced by $attach ($ioctl, $export)"
[ $traced = true ] || want_v="buffers from $bufs, holders from $holders; not traced"
snap_v="buffers from $bufs, holders from $holders; not traced"
sel="buffers=$bufs holders=$holders"

r=$(line report)
check "report -j: sources" "$(sed 's/ bytes=.*//' <<<"$r")" "rc=0 $sel attach=null ioctl=null export=null"
[ "$k" = host ] || check "report -j: the buffers held" "${r##* bytes=}" $((2 << 20))
check "report -v" "$(line report-v)" "$snap_v"
# the light skeletons' loader run here, not verified and run by the kernel (lskel_run.c)
[ "$bufs" = procfs-fdinfo ] ||
	check "report -v: the iterators' loading" "$(line report-loaded)" "their loader run in user space"
check "report -d -j: sources and attach" "$(line report-d)" \
	"rc=0 $sel attach=$attach ioctl=$ioctl export=$export traced=$traced"
check "report -d -v" "$(line report-d-v)" "$want_v"
# the BTF-typed mode's collector as a light skeleton, its loader run here (light_load.c)
# (where the iterators' light skeletons are refused, libbpf loads the collector)
case $attach in
tracing) loaded="its loader run in user space"
	[ "$bufs" = procfs-fdinfo ] && loaded=libbpf ;;
kprobe) loaded=libbpf ;;
*) loaded= ;;
esac
check "report -d -v: the collector's loading" "$(line report-d-loaded)" "$loaded"
why=$(line report-d-why)
if [ $traced = true ]; then
	check "report -d: nothing missing" "$why" ""
elif [ -n "$why" ]; then
	pass "report -d says why nothing is traced: $why"
else
	fail "report -d says why nothing is traced: it does not"
fi
check "top -b -n 1" "$(line top-b | sed 's/ lines=.*//')" "rc=0"
check "top -j: sources and attach" "$(line top-j)" "rc=0 $sel attach=$attach ioctl=$ioctl export=$export traced=$traced"
check "top -v" "$(line top-v)" "$want_v"
check "limit show" "$(line limit-show)" "rc=0"
check "limit show -v" "$(line limit-show-v)" "buffers from none, holders from none; not traced"
if [ "$k" != host ]; then
	# the bpf-lsm backend loads, seeds (the 2 MiB held are in the root: nobody's), refuses at the byte
	check "limit set: bpf-lsm" "$(line limit-set)" "rc=0 bpf-lsm 196608 0 "
	check "limit: the page past it refused" "$(line limit-alloc)" "rc=1 eagain=1"
	check "limit events" "$(line limit-events)" "bpf-lsm /ladder 65536 196608 196608 "
	check "limit clear: unpinned" "$(line limit-clear)" "rc=0 pinned=0"
fi
if [ $traced = true ]; then
	check "record" "$(line record)" "rc=0"
	check "record -v" "$(line record-v)" "$want_v"
	check "analyze -j" "$(line analyze)" "rc=0 json=object"
	check "export --textfile: traced" "$(line export)" "tracing=1"
else
	# nothing can be recorded where nothing traces: it says why, exit 1
	check "record, untraced: refused" "$(line record)" "rc=1"
	check "export --textfile: snapshots" "$(line export)" "tracing=0"
fi
check "export -v" "$(line export-v)" "$want_v"
