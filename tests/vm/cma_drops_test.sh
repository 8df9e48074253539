#!/bin/sh
# CMA activity stays exact when the ring buffer drops events: a report is
# stopped (SIGSTOP) while 40000 allocations are refused (EINVAL: in
# aggregate mode only failures take events, 40000 against a ring of 256 KiB
# that holds 1724), 10001 buffers of 4 KiB pass through the CMA heap, then
# 128 of 1 MiB fill the area and every other one is freed, and 2 MiB
# requests fail on the holes. Its counts must equal CMA sysfs' deltas over the same time, and its
# free-extent map what the debugfs bitmap and maxchunk show at the end.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
A=reserved
N=10000
F=40000
FAILS=3
RING=1724
mode=${ATTACH:-auto}
pass() { echo "PASS: cma_drops: [$mode] $1"; }
fail() { echo "FAIL: cma_drops: [$mode] $1: $2"; }
[ -e /dev/dma_heap/default_cma_region ] || { echo "SKIP: cma_drops: no heapstat CMA heap"; exit 0; }
[ -r /sys/kernel/debug/cma/$A/ranges/0/bitmap ] ||
	{ echo "SKIP: cma_drops: no debugfs bitmap of $A"; exit 0; }
sysfs() { cat /sys/kernel/mm/cma/$A/$1; }

rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 600 --attach $mode >"$tmp/json" 2>"$tmp/err" &
rep=$!
wait_ready $rs $rep
ok0=$(sysfs alloc_pages_success) rel0=$(sysfs release_pages_success) bad0=$(sysfs alloc_pages_fail)
kill -STOP $rep
dmabuf_alloc -H default_cma_region -s 4K --fail $F --skip $N -n 1
dmabuf_alloc -H default_cma_region -s 1M -n 128 --holes -w 600 -R "$tmp/ready" &
held=$!
i=0
while [ ! -e "$tmp/ready" ] && kill -0 $held 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
i=0
while [ $i -lt $FAILS ]; do
	dmabuf_alloc -H default_cma_region -s 2M 2>/dev/null && echo "FAIL: cma_drops: 2 MiB fit in a hole"
	i=$((i + 1))
done
ok=$(($(sysfs alloc_pages_success) - ok0))
rel=$(($(sysfs release_pages_success) - rel0))
bad=$(($(sysfs alloc_pages_fail) - bad0))
kill -CONT $rep
kill -INT $rep
wait $rep
rc=$?
maxchunk=$(cat /sys/kernel/debug/cma/$A/maxchunk)
kill $held
wait

d=$(jq .drops "$tmp/json")
if [ $rc = 0 ] && [ -n "$d" ] && [ "$d" -ge $((F - RING)) ] && [ "$d" -le $((F + 2 * FAILS)) ]; then
	pass "the ring dropped events while the report was stopped"
else
	fail "the ring dropped events while the report was stopped" \
		"exit $rc: drops '$d' $(cat "$tmp/err")"
fi
# counts come from BPF maps: exact whatever the ring dropped
c=$(jq -M -c --arg a $A '.cma_activity[] | select(.area == $a)' "$tmp/json")
if echo "$c" | jq_true --argjson ok $ok --argjson rel $rel --argjson bad $bad --argjson n $N \
	--argjson fails $FAILS '.alloc_bytes == $ok * 4096 and .release_bytes == $rel * 4096
	and .failures * 2097152 == $bad * 4096 and .failures == $fails and .allocs == $n + 1 + 128
	and .latency_ns.p50 > 0 and .latency_ns.max >= .latency_ns.p99' >/dev/null; then
	pass "allocations, releases and failures equal CMA sysfs' deltas despite the drops"
else
	fail "allocations, releases and failures equal CMA sysfs' deltas despite the drops" \
		"sysfs pages: alloc $ok release $rel fail $bad; report: $c"
fi
# the map kept in BPF against the debugfs bitmap the report read at its end
t=$(jq -M -c --arg a $A '.cma_areas[] | select(.name == $a) |
	[(.traced | del(.fragmentation)), {free_bytes, largest_free_bytes, free_extents_by_order}]' "$tmp/json")
if echo "$t" | jq_true --argjson maxchunk "$maxchunk" '.[0] == .[1]
	and .[0].largest_free_bytes == $maxchunk * 4096 and .[0].largest_free_bytes == 1048576
	and .[0].free_extents_by_order == {"8": 64}' >/dev/null; then
	pass "free extents traced despite the drops match the bitmap and maxchunk"
else
	fail "free extents traced despite the drops match the bitmap and maxchunk" "maxchunk $maxchunk: $t"
fi
rm -rf "$tmp"
exit 0
