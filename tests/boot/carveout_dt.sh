#!/bin/bash
# The carveout heap's device-tree source, on arm64 (x86 has no device tree):
# QEMU's virt machine boots heapstat's arm64 kernel (make arm64) with
# tests/dt/carveout.dtsi added to the device tree it generates, the heap
# modules load, and tests/vm/heap_test runs on the two heaps the
# reserved-memory nodes made, mapped and no-map, as it does on x86 for the
# memmap= ranges, and on one a range parameter made. dmesg must stay clean.
top=$(cd "$(dirname "$0")/../.." && pwd)
name="arm64 dt"
. "$top/tests/dt/lib.sh"

dt_setup heap_test
# and a third heap from a no-map range of no driver's, by the module's
# parameters: mapped by the CPU outside its direct map, where arm64's
# importers (not DMA-coherent) are refused
for m in vgem heapstat_core "heapstat_carveout_heap base=0x5b000000 size=0x400000 names=wb" \
	heapstat_importer; do
	dt_module $m
done
dt_run carveout_dt "$top/tests/dt/carveout.dtsi" "dma_heap.mem_accounting=1"
grep -E '^(dmesg|carveout_dt): ' <<<"$out" | grep -v 'done$' >&2
# the heaps are the device tree's, named after their nodes
for h in carveout-camera carveout-secure:nomap carveout-wb:noncoherent; do
	what="reserved-memory node made heap ${h%%:*}"
	[ "${h%%:*}" = carveout-wb ] && what="range parameter on a no-map node made heap carveout-wb"
	if grep -qx "carveout_dt: heap $h" <<<"$out"; then
		echo "PASS: $name: $what"
	else
		echo "FAIL: $name: $what"
	fi
done
