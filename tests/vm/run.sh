#!/bin/sh
# heapstat's VM suite: runs inside the reference kernel's VM (scripts/vm).
# SHARD=I/N: this guest's share when N guests run it at once (scripts/check.sh):
# every Nth test script from the Ith, the C programs in the first.
cd /heapstat/tests/vm || exit 1
shard=${SHARD:-1/1}
i=${shard%/*} n=${shard#*/}

modprobe system_heap || echo "FAIL: setup: modprobe system_heap"
modprobe vgem || echo "FAIL: setup: modprobe vgem"
modprobe heapstat_importer || echo "FAIL: setup: modprobe heapstat_importer"

# the C programs, in the first guest
programs() {
	/heapstat/bin/chain_test || echo "FAIL: chain_test: exit $?"

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
}
[ "$i" = 1 ] && programs
k=0
for t in ./*_test.sh; do
	k=$((k + 1))
	[ $(((k - 1) % n + 1)) = "$i" ] || continue
	sh "$t" || echo "FAIL: $t: exit $?"
done

# booted with kmemleak=on (make check): everything above must leave no leak
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak	# a second pass confirms young objects
	# a debugfs file has size 0: read it
	if [ -n "$(cat /sys/kernel/debug/kmemleak)" ]; then
		echo "FAIL: kmemleak: unreferenced objects after the suite ($shard)"
		head -n 40 /sys/kernel/debug/kmemleak
	else
		echo "PASS: kmemleak: no leak after the suite ($shard)"
	fi
fi
exit 0
