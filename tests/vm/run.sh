#!/bin/sh
# heapstat's VM suite: runs inside the reference kernel's VM (scripts/vm).
cd /heapstat/tests/vm || exit 1

modprobe system_heap || echo "FAIL: setup: modprobe system_heap"

for t in chain_test; do
	/heapstat/bin/$t || echo "FAIL: $t: exit $?"
done
for t in ./*_test.sh; do
	sh "$t" || echo "FAIL: $t: exit $?"
done
exit 0
