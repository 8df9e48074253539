#!/bin/sh
# make bench, inside the VM: heapstat's heaps against upstream's CMA heap.
modprobe cma_heap || exit 1				# upstream: default_cma_region
modprobe heapstat_cma_heap name_prefix=hs_ || exit 1	# ours, same area
modprobe heapstat_chunk_heap || exit 1
mkdir -p /sys/fs/cgroup/bench
echo $$ >/sys/fs/cgroup/bench/cgroup.procs		# charges land in a real cgroup
heap_bench default_cma_region hs_default_cma_region chunk-reserved
