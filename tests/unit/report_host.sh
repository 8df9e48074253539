#!/bin/bash
# heapstat report on the host kernel, whatever it has: as root it reports
# (and says when there are no heaps) and exits 0; otherwise exit 2 and why.
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
hs=${HEAPSTAT:-$top/build/heapstat}	# HEAPSTAT: another build (make check: the sanitizers')
out=$("$hs" report -j 2>&1); rc=$?
if [ "$(id -u)" != 0 ]; then
	[ $rc = 2 ] && grep -q 'must run as root' <<<"$out" &&
		echo "PASS: report_host: refused without root, exit 2" ||
		echo "FAIL: report_host: refused without root, exit 2: exit $rc: $out"
	exit 0
fi
if [ $rc = 0 ] && jq_true '(.buffers | type == "array") and (.dma_heap_devices | type == "array")' <<<"$out" >/dev/null; then
	echo "PASS: report_host: JSON on the host kernel, exit 0"
else
	echo "FAIL: report_host: JSON on the host kernel, exit 0: exit $rc: $out"
fi
out=$("$hs" report 2>&1); rc=$?
if [ $rc = 0 ] && { [ -e /dev/dma_heap ] || grep -q 'no DMA-BUF heaps here' <<<"$out"; }; then
	echo "PASS: report_host: says when the kernel has no heaps"
else
	echo "FAIL: report_host: says when the kernel has no heaps: exit $rc: $out"
fi
[ "$(id -u)" = 0 ] || exit 0

# where the kernel refuses tracing (no trampolines, no kprobes), report -d and
# heaptop still run on snapshots, say what is missing, and exit 0
out=$("$hs" report -d 0.2 -j 2>/dev/null); rc=$?
if [ $rc = 0 ] && jq_true '(.tracing.attached and .tracing.missing == null and (.activity | type == "array"))
	or (.tracing.attached == false and (.tracing.missing | test("refused|failed")) and .activity == null)' <<<"$out" >/dev/null; then
	echo "PASS: report_host: report -d traces, or says why not and reports the snapshot"
else
	echo "FAIL: report_host: report -d traces, or says why not and reports the snapshot: exit $rc: $out"
fi
# the activity view is nothing but tracing: where it is refused, exit 1 and why,
# once (the text view says it on stdout, CSV keeps its header and says it on stderr)
if ! "$hs" report -d 0.2 -j 2>/dev/null | jq -e .tracing.attached >/dev/null; then
	tmp_out=$(mktemp) tmp_err=$(mktemp)
	csv_header="cgroup,heap,allocs,alloc_bytes,frees,free_bytes,allocs_per_sec,frees_per_sec,"
	csv_header+="p50_us,p99_us,max_us,life_p50_us,life_p99_us,life_max_us,fail_capacity,"
	csv_header+="fail_fragmentation,fail_busy,fail_limit,fail_other"
	"$hs" report activity -d 0.2 >"$tmp_out" 2>"$tmp_err"; r1=$?
	t1=$(cat "$tmp_out" "$tmp_err")
	"$hs" report activity -d 0.2 --csv >"$tmp_out" 2>"$tmp_err"; r2=$?
	if [ $r1 = 1 ] && [ "$(grep -c 'no activity: .*refused' <<<"$t1")" = 1 ] && [ $r2 = 1 ] &&
		[ "$(cat "$tmp_out")" = "$csv_header"$'\r' ] &&
		[ "$(grep -c '^heapstat report: no activity: .*refused' "$tmp_err")" = 1 ] &&
		[ "$(wc -l <"$tmp_err")" = 1 ]; then
		echo "PASS: report_host: report activity without tracing: exit 1, why said once, CSV's header"
	else
		echo "FAIL: report_host: report activity without tracing: exit 1, why said once, CSV's header:" \
			"exit $r1 $r2: $t1 / $(cat "$tmp_out" "$tmp_err")"
	fi
	rm -f "$tmp_out" "$tmp_err"
fi
out=$("$hs" top -j -n 1 -d 0.2 2>&1); rc=$?
if [ $rc = 0 ] && jq_true '.tracing.attached or (.tracing.missing | length > 0)' <<<"$out" >/dev/null; then
	echo "PASS: report_host: heaptop runs, traced or on snapshots saying why"
else
	echo "FAIL: report_host: heaptop runs, traced or on snapshots saying why: exit $rc: $out"
fi
# installed as heaptop, -v as heapstat -v top: libbpf's messages and the sources' line,
# said by heaptop
tmp_ht=$(mktemp -d)
ln -s "$(readlink -f "$hs")" "$tmp_ht/heaptop"
err=$("$tmp_ht/heaptop" -v -b -n 1 -d 0.2 2>&1 >/dev/null); rc=$?
if [ $rc = 0 ] && grep -q '^heaptop: buffers from [^ ]*, holders from ' <<<"$err" &&
	! grep -q '^heapstat' <<<"$err"; then
	echo "PASS: report_host: heaptop -v: where it read buffers and holders from"
else
	echo "FAIL: report_host: heaptop -v: where it read buffers and holders from: exit $rc: $err"
fi
rm -rf "$tmp_ht"
# -v after a command's name as before it: the same lines on stderr, the same output
for args in "report summary" "limit show"; do
	# shellcheck disable=SC2086
	before=$("$hs" -v $args 2>&1 >/dev/null; echo "exit $?"); rc1=${before##*exit }
	# shellcheck disable=SC2086
	after=$("$hs" $args -v 2>&1 >/dev/null; echo "exit $?"); rc2=${after##*exit }
	before=$(grep -v '^note: ' <<<"$before"); after=$(grep -v '^note: ' <<<"$after")
	if [ $rc1 = 0 ] && [ $rc2 = 0 ] && grep -q "^heapstat ${args%% *}.*: buffers from " <<<"$after" &&
		[ "$before" = "$after" ]; then
		echo "PASS: report_host: heapstat $args -v says what heapstat -v $args does"
	else
		echo "FAIL: report_host: heapstat $args -v says what heapstat -v $args does:" \
			"before '$before', after '$after'"
	fi
done

# in a PID namespace of its own (a container's), BPF's pids are not this /proc's:
# a snapshot, and heaptop's frames, take their holders from /proc and say so;
# what traces is refused, exit 2 and why; /proc alone still reports
if command -v unshare >/dev/null; then
	ns() { unshare --pid --fork --mount-proc "$hs" "$@"; }
	nserr=$(mktemp)
	from_proc='.sources.holders == "procfs-fdinfo" and
		(.sources.note | test("^in a PID namespace of its own"))'
	out=$(ns report -j 2>"$nserr"); rc=$?
	out1=$(ns report 2>&1); rc1=$?
	if [ $rc = 0 ] && [ $rc1 = 0 ] && jq_true "$from_proc" <<<"$out" >/dev/null &&
		grep -q "^buffers from [^,]*, holders from procfs-fdinfo$" <<<"$out1" &&
		grep -q "^note: in a PID namespace of its own" <<<"$out1"; then
		echo "PASS: report_host: in a PID namespace of its own: a snapshot, holders from its /proc"
	else
		echo "FAIL: report_host: in a PID namespace of its own: a snapshot, holders from its /proc:" \
			"exit $rc: $out $(cat "$nserr") / exit $rc1: $out1"
	fi
	out=$(ns top -j -n 1 -d 0.2 2>"$nserr"); rc=$?
	if [ $rc = 0 ] && jq_true "$from_proc"' and .tracing.attached == false and
			(.tracing.missing | test("^in a PID namespace of its own .*--pid=host"))' \
			<<<"$out" >/dev/null; then
		echo "PASS: report_host: in a PID namespace of its own: heaptop on snapshots, says why"
	else
		echo "FAIL: report_host: in a PID namespace of its own: heaptop on snapshots, says why:" \
			"exit $rc: $out $(cat "$nserr")"
	fi
	# without --mount-proc, /proc is the outer namespace's: its processes and pids
	out=$(unshare --pid --fork "$hs" report -j 2>"$nserr"); rc=$?
	if [ $rc = 0 ] && jq_true '.sources.holders == "procfs-fdinfo" and
			(.sources.note | test("with an outer one.s /proc: holders from that /proc")) or
			.sources.buffers == "procfs-fdinfo"' <<<"$out" >/dev/null; then
		echo "PASS: report_host: in a PID namespace of its own with the outer /proc: said"
	else
		echo "FAIL: report_host: in a PID namespace of its own with the outer /proc: said:" \
			"exit $rc: $out $(cat "$nserr")"
	fi
	rec=$(mktemp -u)
	out=$(ns report -d 0.1 2>&1); rc=$?
	out1=$(ns record -o "$rec" -d 0.1 2>&1); rc1=$?
	out2=$(ns limit events -j 2>&1); rc2=$?
	out3=$(ns report --source procfs -j 2>"$nserr"); rc3=$?
	if [ $rc = 2 ] && grep -q "PID namespace of its own.*--pid=host.*snapshots" <<<"$out" &&
		[ $rc1 = 2 ] && grep -q "PID namespace of its own" <<<"$out1" && [ ! -e "$rec" ] &&
		[ $rc2 = 2 ] && grep -q "PID namespace of its own" <<<"$out2" && [ $rc3 = 0 ] &&
		jq_true '.sources.buffers == "procfs-fdinfo"' <<<"$out3" >/dev/null; then
		echo "PASS: report_host: in a PID namespace of its own: report -d, record, limit events" \
			"refused, exit 2"
	else
		echo "FAIL: report_host: in a PID namespace of its own: report -d, record, limit events" \
			"refused, exit 2:" \
			"exit $rc: $out / exit $rc1: $out1 / exit $rc2: $out2 / exit $rc3: $out3"
	fi
	rm -f "$rec" "$nserr"
else
	echo "SKIP: report_host: in a PID namespace of its own: no unshare (util-linux)"
fi

# cgroup2 is found where it is mounted (/sys/fs/cgroup/unified on a hybrid host)
cg2=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cg2" ] && mkdir "$cg2/heapstat-host-test" 2>/dev/null; then
	out=$("$hs" report processes -c /heapstat-host-test/ 2>&1); rc=$?
	rmdir "$cg2/heapstat-host-test"
	[ $rc = 0 ] && echo "PASS: report_host: -c finds a cgroup under the cgroup2 mount ($cg2)" ||
		echo "FAIL: report_host: -c finds a cgroup under the cgroup2 mount ($cg2): exit $rc: $out"
else
	echo "SKIP: report_host: no cgroup2 mount to make a cgroup in"
fi

# capabilities, not the uid: root without CAP_BPF is told so; /proc alone needs none
if command -v setpriv >/dev/null; then
	out=$(setpriv --bounding-set -bpf --inh-caps -bpf "$hs" report 2>&1); rc=$?
	[ $rc = 2 ] && grep -q 'needs CAP_BPF, which this process lacks' <<<"$out" &&
		grep -qx 'heapstat report: hint: --source procfs reads /proc alone, without BPF (the processes this user may read)' <<<"$out" &&
		echo "PASS: report_host: root without CAP_BPF: named, exit 2, --source procfs hinted" ||
		echo "FAIL: report_host: root without CAP_BPF: named, exit 2, --source procfs hinted: exit $rc: $out"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$hs" report --source procfs -j 2>&1); rc=$?
	# init (root's, a command line) is not nobody's to read: said, counted
	[ $rc = 0 ] && jq_true '.sources.buffers == "procfs-fdinfo" and (.sources.note |
		test("; [1-9][0-9]* process(es)?. fds and mappings not ours to read \\(another user.s; root reads them\\): what they hold is not counted$"))' <<<"$out" >/dev/null &&
		echo "PASS: report_host: --source procfs as nobody, no BPF; the processes it may not read said" ||
		echo "FAIL: report_host: --source procfs as nobody, no BPF; the processes it may not read said: exit $rc: $out"
else
	echo "SKIP: report_host: capabilities: no setpriv"
fi

# -p names a process: a thread's id (its own /proc directory too) is refused,
# naming the process to give; a thread made here, so there is one
python3 -c 'import threading, time; threading.Thread(target=time.sleep, args=(30,), daemon=True).start(); time.sleep(30)' &
py=$!
tid=
for _ in $(seq 50); do
	tid=$(ls /proc/$py/task 2>/dev/null | grep -vx "$py" | head -n 1)
	[ -n "$tid" ] && break
	sleep 0.1
done
out=$("$hs" report -p "$tid" 2>&1); rc=$?
[ -n "$tid" ] && [ $rc = 2 ] && [ "$out" = "heapstat report: $tid is a thread of process $py: give the process" ] &&
	echo "PASS: report_host: -p with a thread's id: refused, its process named" ||
	echo "FAIL: report_host: -p with a thread's id: refused, its process named: tid '$tid' exit $rc: $out"
kill $py 2>/dev/null
wait $py 2>/dev/null

# no buffer: "none alive" only from a source that sees every buffer
# (iter/dmabuf); /proc sees those held by an fd alone
if [ "$("$hs" report -j 2>/dev/null | jq -r '"\(.buffers | length) \(.sources.buffers)"')" = "0 iter/dmabuf" ]; then
	a=$("$hs" report 2>&1 | grep '^note: no dma-buf')
	p=$("$hs" report --source procfs 2>&1 | grep '^note: no dma-buf')
	[ "$a" = "note: no dma-buf is alive" ] && [ "$p" = "note: no dma-buf seen" ] &&
		echo "PASS: report_host: no buffer: none alive by iter/dmabuf, none seen by /proc" ||
		echo "FAIL: report_host: no buffer: none alive by iter/dmabuf, none seen by /proc: '$a' '$p'"
else
	echo "SKIP: report_host: no buffer: this host has some, or no iter/dmabuf"
fi

# -p and -c together: a process not under the cgroup names nothing, and is
# refused as either alone would be (it printed empty tables, exit 0); one
# under it is taken
mine=$(sed -n 's/^0:://p' /proc/self/cgroup)
root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
if [ -n "$root" ] && mkdir "$root/hs_flt_$$" 2>/dev/null; then
	out=$("$hs" report --source procfs -p $$ -c /hs_flt_$$ 2>&1); rc=$?
	"$hs" report --source procfs -p $$ -c "$mine" >/dev/null 2>&1; rc2=$?
	rmdir "$root/hs_flt_$$"
	[ $rc = 2 ] && [ "$out" = "heapstat report: process $$ is in $mine, not under /hs_flt_$$" ] &&
		[ $rc2 = 0 ] &&
		echo "PASS: report_host: -p and -c naming nothing together: refused, exit 2; under it: taken" ||
		echo "FAIL: report_host: -p and -c naming nothing together: refused, exit 2; under it: taken: exit $rc/$rc2: $out"
else
	echo "SKIP: report_host: -p and -c together: no cgroup2 to make a cgroup in"
fi
exit 0
