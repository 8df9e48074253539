#!/bin/bash
# The carveout heaps where every streaming DMA mapping is bounced
# (swiotlb=force, as in an SEV or TDX guest): their memmap= ranges are not
# System RAM and have no direct mapping, so swiotlb has no CPU address to
# bounce through.
# The importer's mapping is refused (ENOMEM, the DMA API's refusal to
# bounce memory that is not RAM), never bounced through an unmapped
# address (a page fault in memcpy); every other check of heap_test passes
# there, both ranges, and dmesg stays clean.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load-heaps --load vgem,heapstat_importer \
	--cmdline swiotlb=force --timeout 300 -- sh -c '
	grep -o "swiotlb=force" /proc/cmdline
	heap_test carveout-vm:bounced carveout-nomap:nomap:bounced' 2>&1); rc=$?
fails=$(grep -c '^FAIL' <<<"$out")
passes=$(grep -c '^PASS: heap\[carveout-' <<<"$out")
if [ $rc = 0 ] && [ "$fails" = 0 ] && [ "$passes" -ge 20 ] &&
	grep -qx 'swiotlb=force' <<<"$out" &&
	grep -q '^PASS: heap\[carveout-vm\]: importer_maps_and_vmaps' <<<"$out" &&
	grep -q '^PASS: heap\[carveout-nomap\]: importer_maps_and_vmaps' <<<"$out"; then
	echo "PASS: carveout_swiotlb: swiotlb=force: an import of either range refused (ENOMEM), not bounced; heap_test's $passes checks pass"
else
	echo "FAIL: carveout_swiotlb: swiotlb=force: an import of either range refused (ENOMEM), not bounced: exit $rc: $(grep -v '^PASS' <<<"$out" | tail -n 30)"
fi
