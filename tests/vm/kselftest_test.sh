#!/bin/sh
# Upstream's dmabuf-heaps kselftest (the reference kernel's
# tools/testing/selftests/dmabuf-heaps) under limits far above what it needs:
# every heapstat heap's dmem.max and the system heap's memory.max set with
# heapstat limit on one cgroup, the same results as in a cgroup without
# limits, and nothing left charged after. The failures it has here either
# way are known: carveout-nomap refuses mmap by design (3 tests), and the
# 32 MiB carveout-vm cannot give 32 x 1 MiB once the test's first case kept
# its 1 MiB buffer (upstream's test_alloc_and_import returns without closing).
. "$(dirname "$0")/../lib.sh"
S=/sys/fs/cgroup
pass() { echo "PASS: kselftest: $1"; }
fail() { echo "FAIL: kselftest: $1: $2"; }
command -v dmabuf-heap >/dev/null || { echo "SKIP: kselftest: no dmabuf-heap (make)"; exit 0; }
# ok / not ok and the message, without the test numbers
run() { sh -c "echo \$\$ >$S$1/cgroup.procs; exec dmabuf-heap" 2>&1 | sed -n 's/^\(not ok\|ok\) [0-9]* /\1 /p'; }

mkdir -p $S/ks_free $S/ks_lim
for h in $(sed -n 's|^dma-heap/\([^ ]*\) .*|\1|p' $S/dmem.capacity); do
	heapstat limit set /ks_lim "$h" 256M || fail "set" "$h"
done
[ -e /dev/dma_heap/system ] && [ "$(cat /sys/module/dma_heap/parameters/mem_accounting)" = Y ] &&
	heapstat limit set /ks_lim system 512M --memcg
free=$(run /ks_free)
lim=$(run /ks_lim)
if [ -n "$free" ] && [ "$free" = "$lim" ]; then
	pass "the same $(echo "$lim" | grep -c '^ok') passes under limits as without"
else
	fail "the same results under limits as without" "$(echo "$free" | diff - /dev/fd/3 3<<EOT
$lim
EOT
)"
fi
nomap=$(echo "$lim" | grep -c '^not ok FAIL (mmap() failed!*): Operation not permitted$')
full=$(echo "$lim" | grep -c '^not ok FAIL (Allocation (31) failed) -1$')
[ "$(echo "$lim" | grep -c '^not ok')" = 4 ] && [ "$nomap" = 3 ] && [ "$full" = 1 ] &&
	pass "only the known failures: nomap's mmap (3), carveout-vm full (1)" ||
	fail "only the known failures: nomap's mmap (3), carveout-vm full (1)" "$(echo "$lim" | grep '^not ok')"
left=$(sed -n 's|^dma-heap/[^ ]* \([0-9]*\)$|\1|p' $S/ks_lim/dmem.current | sort -u)
[ "$left" = 0 ] && pass "nothing left charged after" || fail "nothing left charged after" "$(cat $S/ks_lim/dmem.current)"
heapstat limit clear /ks_lim
[ -e /dev/dma_heap/system ] && [ "$(cat /sys/module/dma_heap/parameters/mem_accounting)" = Y ] &&
	heapstat limit clear /ks_lim system --memcg
rmdir $S/ks_free $S/ks_lim
