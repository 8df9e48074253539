#!/bin/bash
# tests/vm/stress_test.sh on upstream's heaps alone, in a boot of their own:
# the system heap without dma_heap.mem_accounting (charging nobody, so under
# a bpf-lsm limit: docs/errors.md's lsm column) and upstream's CMA heap (its
# cma column), which make check's main boot replaces with heapstat's. One
# CPU, as tests/boot/lsm_limit.sh (bpf-lsm programs unpinned under
# multi-threaded TCG). STRESS_SECS and STRESS_SEED as for the main boot.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
env="STRESS_SECS=${STRESS_SECS:-15} ${STRESS_SEED:+STRESS_SEED=$STRESS_SEED}"
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --cpus 1 \
	--load system_heap,cma_heap,heapstat_importer --cmdline kmemleak=on --timeout 600 -- sh -c "
	$env sh /heapstat/tests/vm/stress_test.sh
	. /heapstat/tests/lib.sh; leak_check 'stress_upstream: kmemleak: unreferenced objects' || :" 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
grep -E '^(stress|heap_stress): ' <<<"$out" >&2
[ $rc = 0 ] || echo "FAIL: stress_upstream: scripts/vm exited $rc:" \
	"$(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
