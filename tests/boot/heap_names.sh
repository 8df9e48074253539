#!/bin/bash
# Heap names past 31 bytes (tests/vm/heap_names.sh), in a boot of its own:
# the carveout heap is loaded there under other names (a heap module stays
# once loaded), on the ranges scripts/vm --load-heaps reserves. One CPU, as
# tests/boot/lsm_limit.sh, for its bpf-lsm limit. Its test lines are this
# test's; a boot that fails or leaves a splat in dmesg fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --cpus 1 --load heapstat_core --timeout 600 \
	--cmdline "dma_heap.mem_accounting=1 $HEAPSTAT_CARVEOUT_CMDLINE" -- \
	sh /heapstat/tests/vm/heap_names.sh "${HEAPSTAT_CARVEOUT_OPTIONS% names=*}" 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
[ $rc = 0 ] || echo "FAIL: heap_names: scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
