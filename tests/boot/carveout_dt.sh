#!/bin/bash
# The carveout heap's device-tree source, on arm64 (x86 has no device tree):
# QEMU's virt machine boots heapstat's arm64 kernel (make arm64) with
# tests/dt/carveout.dtsi added to the device tree it generates, the heap
# modules load with no range parameter, and tests/vm/heap_test runs on the
# two heaps the reserved-memory nodes made, mapped and no-map, as it does on
# x86 for the memmap= ranges. dmesg must stay clean.
top=$(cd "$(dirname "$0")/../.." && pwd)
name="arm64 dt"
. "$top/tests/dt/lib.sh"

dt_setup heap_test
for m in vgem heapstat_core heapstat_carveout_heap heapstat_importer; do
	dt_module $m
done
dt_run carveout_dt "$top/tests/dt/carveout.dtsi" "dma_heap.mem_accounting=1"
grep -E '^(dmesg|carveout_dt): ' <<<"$out" | grep -v 'done$' >&2
# the heaps are the device tree's, named after their nodes
for h in carveout-camera carveout-secure:nomap; do
	if grep -qx "carveout_dt: heap $h" <<<"$out"; then
		echo "PASS: $name: reserved-memory node made heap ${h%:*}"
	else
		echo "FAIL: $name: reserved-memory node made heap ${h%:*}"
	fi
done
