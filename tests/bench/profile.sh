#!/bin/bash
# Where a tracing variant's guest instructions go, per kernel function:
# trace_bench (or limit_bench) runs variant A, then variant B, alone for OPS
# system-heap alloc+free operations, each in a VM booted under -icount with a QEMU plugin
# (tests/bench/tbcount.c) counting the kernel's instructions per translation
# block; the difference B - A per operation is printed by function, largest
# first. Loading and boot are counted too: use many operations.
#
# usage: tests/bench/profile.sh [A B [OPS [SIZE]]]   (default: hooks heapstat 300000 4096)
# e.g.   tests/bench/profile.sh bare floor
# PROFILE_BENCH=limit: limit_bench's variants instead (none, dmem, lsm, floor;
# the system heap, in limit_bench's boot), e.g. PROFILE_BENCH=limit
# tests/bench/profile.sh none floor 100000
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
a=${1:-hooks} b=${2:-heapstat} ops=${3:-300000} size=${4:-4096}
out=$top/build/bench
mkdir -p "$out"
gcc -O2 -Wall -shared -fPIC -o "$out/tbcount.so" "$top/tests/bench/tbcount.c"

# the guest: run the variant; once its programs are loaded, list the kernel's
# text symbols (modules' and BPF programs' included, where the kernel names them)
cat >"$out/profile-guest.sh" <<'EOT'
echo 1 >/proc/sys/net/core/bpf_jit_kallsyms 2>/dev/null
. /heapstat/tests/lib.sh
if [ "$4" = limit ]; then
	limit_bench "$1" system "$3" "$2" &
	sleep 1		# its ballast made, its programs attached
else
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs trace_bench "$1" "$3" "$2" &
	wait_ready $rs $!	# until it attached
fi
awk '$2 ~ /^[tTwW]$/ { print "SYM", $1, $3 }' /proc/kallsyms
wait
EOT

bench=${PROFILE_BENCH:-trace}
vm=(--icount --load system_heap)
# limit_bench's boot, as make bench has it
[ "$bench" = trace ] || vm=(--icount --cpus 1 --load-heaps --load system_heap
	--cmdline dma_heap.mem_accounting=0)
for v in "$a" "$b"; do
	HEAPSTAT_QEMU_EXTRA="-plugin $out/tbcount.so,out=$out/tb-$v.txt" HEAPSTAT_VM_NOBUILD=1 \
		"$top/scripts/vm" "${vm[@]}" --timeout 3600 \
		--add "$out/profile-guest.sh:/profile.sh" -- sh /profile.sh "$v" "$ops" "$size" "$bench" \
		| tr -d '\r' >"$out/run-$v.txt"
	grep -m1 'us per op' "$out/run-$v.txt" || die "${bench}_bench $v failed: see $out/run-$v.txt"
	# read while attached: the programs are named only while loaded
	[ "$v" = bare ] || [ "$v" = none ] || grep -q '^SYM [0-9a-f]* bpf_prog_[0-9a-f]*_' "$out/run-$v.txt" ||
		echo "profile: $v's BPF programs ended before the kernel's symbols were read:" \
			"they count as the symbol before them (give more OPS)" >&2
	# instructions per function: symbols and blocks sorted together by address
	{ sed -n 's/^SYM \([0-9a-f]*\) \(.*\)/\1 S \2/p' "$out/run-$v.txt"
	  awk '{ printf "%s T %d\n", $1, $2 * $3 }' "$out/tb-$v.txt"; } |
		LC_ALL=C sort -k1,1 -s |
		awk '$2 == "S" { fn = $3; next } { n[fn == "" ? "?" : fn] += $3 }
		     END { for (f in n) print f, n[f] }' >"$out/fn-$v.txt"
done

# OPS measured plus trace_bench's warm-up of OPS/10
awk -v ops=$((ops + ops / 10)) -v a="$a" -v b="$b" '
	FNR == NR { x[$1] = $2; next }
	{ y[$1] = $2 }
	END {
		for (f in x) d[f] = (y[f] - x[f]) / ops
		for (f in y) d[f] = (y[f] - x[f]) / ops
		for (f in d) t += d[f]
		printf "%s - %s: %.0f guest instructions per operation, by function:\n", b, a, t
		for (f in d) if (d[f] >= 5 || d[f] <= -5) printf "%10.1f  %s\n", d[f], f | "sort -k1,1 -g -r"
	}' "$out/fn-$a.txt" "$out/fn-$b.txt"
