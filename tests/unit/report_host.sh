#!/bin/bash
# heapstat report on the host kernel, whatever it has: as root it reports
# (and says when there are no heaps) and exits 0; otherwise exit 2 and why.
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$top/build/heapstat" report -j 2>&1); rc=$?
if [ "$(id -u)" != 0 ]; then
	[ $rc = 2 ] && grep -q 'must run as root' <<<"$out" &&
		echo "PASS: report_host: refused without root, exit 2" ||
		echo "FAIL: report_host: refused without root, exit 2: exit $rc: $out"
	exit 0
fi
if [ $rc = 0 ] && jq_true '(.buffers | type == "array") and (.dma_heap_devices | type == "array")' <<<"$out" >/dev/null; then
	echo "PASS: report_host: JSON on the host kernel, exit 0"
else
	echo "FAIL: report_host: JSON on the host kernel, exit 0: exit $rc: $out"
fi
out=$("$top/build/heapstat" report 2>&1); rc=$?
if [ $rc = 0 ] && { [ -e /dev/dma_heap ] || grep -q 'no DMA-BUF heaps here' <<<"$out"; }; then
	echo "PASS: report_host: says when the kernel has no heaps"
else
	echo "FAIL: report_host: says when the kernel has no heaps: exit $rc: $out"
fi
