#!/bin/bash
# Heap names past 31 bytes (tests/vm/heap_names.sh), in a boot of its own:
# the carveout heap is loaded there under other names (a heap module stays
# once loaded), on eight ranges within the first that scripts/vm --load-heaps
# reserves (32 MiB at 0x30000000): 16 MiB, 8 MiB, and six of 1 MiB. One CPU, as
# tests/boot/lsm_limit.sh, for its bpf-lsm limit. Its test lines are this
# test's; a boot that fails or leaves a splat in dmesg fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --cpus 1 --load heapstat_core --timeout 600 \
	--cmdline "dma_heap.mem_accounting=1 $HEAPSTAT_CARVEOUT_CMDLINE" -- \
	sh /heapstat/tests/vm/heap_names.sh "base=0x30000000,0x31000000$(printf ',0x31%x00000' 8 9 10 11 12 13) size=0x1000000,0x800000$(printf ',0x100000%.0s' 1 2 3 4 5 6)" 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
[ $rc = 0 ] || echo "FAIL: heap_names: scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
