#!/bin/bash
# Loading heapstat's heap modules, each case in its own boot (a heap cannot be
# removed once added): a name taken by upstream's CMA heap, name_prefix=,
# accounting=auto following dma_heap.mem_accounting or switched at run time,
# and a carveout range refused among others.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
vm() { HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" "$@"; }
pass() { echo "PASS: heap_modules: $1"; }
fail() { echo "FAIL: heap_modules: $1: $2"; }

# upstream's cma_heap holds default_cma_region: ours refuses it with a message
# and no sysfs duplicate warning, then loads beside it with a prefix
out=$(vm --load cma_heap -- sh -c '
	modprobe heapstat_cma_heap; echo "rc=$?"
	dmesg | grep -o "a heap named .default_cma_region. exists already.*"
	modprobe heapstat_cma_heap name_prefix=hs_; echo "rc=$?"
	ls /dev/dma_heap | tr "\n" " "' 2>&1); rc=$?
if [ $rc = 0 ] && grep -q '^rc=1$' <<<"$out" && grep -q 'exists already; load with name_prefix=' <<<"$out" &&
	grep -q '^rc=0$' <<<"$out" && grep -q 'hs_default_cma_region' <<<"$out"; then
	pass "a taken name fails the load clearly; name_prefix= adds ours beside it"
else
	fail "a taken name fails the load clearly; name_prefix= adds ours beside it" "exit $rc: $out"
fi

# without dma_heap.mem_accounting=1, auto charges nothing until switched on
out=$(vm --load heapstat_cma_heap --timeout 180 -- sh -c '
	cat /sys/module/heapstat_core/parameters/accounting
	mkdir /sys/fs/cgroup/t; echo $$ >/sys/fs/cgroup/t/cgroup.procs
	held() {	# held FILE: a 1 MiB buffer held until it is read
		dmabuf_alloc -H default_cma_region -s 1M -w 30 -R $1 & p=$!
		while [ ! -e $1 ] && kill -0 $p 2>/dev/null; do sleep 0.1; done
		grep default_cma_region /sys/fs/cgroup/t/dmem.current; kill $p; wait $p
	}
	held /tmp/r1
	echo on >/sys/module/heapstat_core/parameters/accounting
	held /tmp/r2
	echo off >/sys/module/heapstat_core/parameters/accounting
	grep default_cma_region /sys/fs/cgroup/t/dmem.current
	echo bogus >/sys/module/heapstat_core/parameters/accounting; echo "rc=$?"' 2>&1); rc=$?
want='auto
dma-heap/default_cma_region 0
dma-heap/default_cma_region 1048576
dma-heap/default_cma_region 0'
if [ $rc = 0 ] && [ "$(head -n4 <<<"$out")" = "$want" ] && grep -q 'rc=1' <<<"$out"; then
	pass "accounting=auto follows dma_heap.mem_accounting and switches at run time"
else
	fail "accounting=auto follows dma_heap.mem_accounting and switches at run time" "exit $rc: $out"
fi

# a range refused (not page aligned) before good ones: said, and the others
# added (the first refusal ended the load, the others with it)
out=$(vm --load heapstat_core --cmdline "$HEAPSTAT_CARVEOUT_CMDLINE" -- sh -c '
	modprobe heapstat_carveout_heap base=0x30000800,0x30100000,0x30200000 \
		size=0x100000,0x100000,0x100000 names=bad,good,too; echo "rc=$?"
	dmesg | grep -o "carveout-bad: range .* is empty or not page aligned"
	echo "heaps: $(ls /dev/dma_heap | tr "\n" " ")"' 2>&1); rc=$?
if [ $rc = 0 ] && grep -q '^rc=0$' <<<"$out" && grep -q 'carveout-bad: range' <<<"$out" &&
	grep -q '^heaps: .*carveout-good carveout-too' <<<"$out" && ! grep -q 'carveout-bad ' <<<"$out"; then
	pass "a carveout range refused is said, and the ranges after it added"
else
	fail "a carveout range refused is said, and the ranges after it added" "exit $rc: $out"
fi
exit 0
