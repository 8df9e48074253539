#!/bin/sh
# heapstat's VM suite: runs inside the reference kernel's VM (scripts/vm).
cd /heapstat/tests/vm || exit 1

modprobe system_heap || echo "FAIL: setup: modprobe system_heap"
modprobe vgem || echo "FAIL: setup: modprobe vgem"
modprobe heapstat_importer || echo "FAIL: setup: modprobe heapstat_importer"

for t in chain_test; do
	/heapstat/bin/$t || echo "FAIL: $t: exit $?"
done

# heapstat's heaps (scripts/vm --load-heaps): each registered a dmem region
heaps=
for h in $(sed -n 's|^dma-heap/\([^ ]*\) .*|\1|p' /sys/fs/cgroup/dmem.capacity); do
	case $h in
	chunk-*) h="$h:$((4096 << $(cat /sys/module/heapstat_chunk_heap/parameters/order)))" ;;
	*-nomap) h="$h:nomap" ;;
	esac
	heaps="$heaps $h"
done
if [ -n "$heaps" ]; then
	heap_test $heaps || echo "FAIL: heap_test: exit $?"
else
	echo "FAIL: heap_test: no heapstat heap is loaded (scripts/vm --load-heaps)"
fi
for t in ./*_test.sh; do
	sh "$t" || echo "FAIL: $t: exit $?"
done
exit 0
