#!/bin/bash
# More than one CMA area: heapstat_cma_heap adds one heap per area the kernel
# lists for DMA (the default one and the device tree's reserved-memory pools;
# areas the kernel makes for NUMA nodes, hugetlb or crash kernels are not
# among them), named default_cma_region for the default and the area's name
# for the others. x86 has only the default area (no device tree), so this
# boots arm64: QEMU's virt machine with cma=64M and tests/dt/cma_areas.dtsi's
# two pools, camera (32 MiB) and video (16 MiB), and the chunk heap on video
# (cma_area=video). tests/dt/cma_areas.c checks the heaps and areas by name,
# each heap's dmem capacity against its area's size, and that a buffer from
# each heap takes its pages from its own area alone (CMA sysfs), then
# heap_test runs on the heaps of the device tree's areas. dmesg must stay
# clean. heapstat itself (report, heaptop) is not built for arm64.
top=$(cd "$(dirname "$0")/../.." && pwd)
name=cma_areas
. "$top/tests/dt/lib.sh"

dt_setup cma_areas heap_test
for m in vgem heapstat_core heapstat_cma_heap heapstat_importer; do
	dt_module $m
done
dt_module heapstat_chunk_heap cma_area=video
cat >"$dt_root/run" <<EOT
/cma_areas default_cma_region=reserved camera=camera video=video chunk-video=video:65536
/heap_test camera video chunk-video:65536
EOT
dt_run $name "$top/tests/dt/cma_areas.dtsi" "heapstat.case=$name cma=64M dma_heap.mem_accounting=1"
grep -E "^dmesg: " <<<"$out" >&2
exit 0
