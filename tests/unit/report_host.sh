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
[ "$(id -u)" = 0 ] || exit 0

# where the kernel refuses tracing (no trampolines, no kprobes), report -d and
# heaptop still run on snapshots, say what is missing, and exit 0
out=$("$top/build/heapstat" report -d 0.2 -j 2>/dev/null); rc=$?
if [ $rc = 0 ] && jq_true '(.tracing.attached and .tracing.missing == null and (.activity | type == "array"))
	or (.tracing.attached == false and (.tracing.missing | test("refused|failed")) and .activity == null)' <<<"$out" >/dev/null; then
	echo "PASS: report_host: report -d traces, or says why not and reports the snapshot"
else
	echo "FAIL: report_host: report -d traces, or says why not and reports the snapshot: exit $rc: $out"
fi
out=$("$top/build/heapstat" top -j -n 1 -d 0.2 2>&1); rc=$?
if [ $rc = 0 ] && jq_true '.tracing.attached or (.tracing.missing | length > 0)' <<<"$out" >/dev/null; then
	echo "PASS: report_host: heaptop runs, traced or on snapshots saying why"
else
	echo "FAIL: report_host: heaptop runs, traced or on snapshots saying why: exit $rc: $out"
fi

# cgroup2 is found where it is mounted (/sys/fs/cgroup/unified on a hybrid host)
cg2=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cg2" ] && mkdir "$cg2/heapstat-host-test" 2>/dev/null; then
	out=$("$top/build/heapstat" report processes -c /heapstat-host-test/ 2>&1); rc=$?
	rmdir "$cg2/heapstat-host-test"
	[ $rc = 0 ] && echo "PASS: report_host: -c finds a cgroup under the cgroup2 mount ($cg2)" ||
		echo "FAIL: report_host: -c finds a cgroup under the cgroup2 mount ($cg2): exit $rc: $out"
else
	echo "SKIP: report_host: no cgroup2 mount to make a cgroup in"
fi

# capabilities, not the uid: root without CAP_BPF is told so; /proc alone needs none
if command -v setpriv >/dev/null; then
	out=$(setpriv --bounding-set -bpf --inh-caps -bpf "$top/build/heapstat" report 2>&1); rc=$?
	[ $rc = 2 ] && grep -q 'needs CAP_BPF, which this process lacks' <<<"$out" &&
		echo "PASS: report_host: root without CAP_BPF: named, exit 2" ||
		echo "FAIL: report_host: root without CAP_BPF: named, exit 2: exit $rc: $out"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$top/build/heapstat" report --source procfs -j 2>&1); rc=$?
	[ $rc = 0 ] && jq_true '.sources.buffers == "procfs-fdinfo"' <<<"$out" >/dev/null &&
		echo "PASS: report_host: --source procfs as nobody, no BPF" ||
		echo "FAIL: report_host: --source procfs as nobody, no BPF: exit $rc: $out"
else
	echo "SKIP: report_host: capabilities: no setpriv"
fi
