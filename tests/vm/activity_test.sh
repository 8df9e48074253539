#!/bin/sh
# heapstat report --duration against a known sequence of allocations:
# counts, bytes, the exporting cgroup and pid, and each failure class; the
# releases of buffers from before tracing under "(before tracing)".
# ATTACH=kprobe runs it all again on kprobes and raw tracepoints.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
mode=${ATTACH:-auto}
pass() { echo "PASS: activity: [$mode] $1"; }
fail() { echo "FAIL: activity: [$mode] $1: $2"; }
for h in system default_cma_region; do
	[ -e /dev/dma_heap/$h ] || { echo "SKIP: activity: no heap $h"; exit 0; }
done
mkdir -p $S/act $S/lim
echo "dma-heap/default_cma_region 1M" >$S/lim/dmem.max

# buffers from before tracing, freed while it traces
sh -c "echo \$\$ >$S/act/cgroup.procs; exec dmabuf_alloc -H system -s 64K -n 3 -w 600 -R $tmp/r0" &
early=$!
wait_while '[ ! -e $tmp/r0 ]'
# a long duration, ended by SIGINT once the sequence is done
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 120 --attach $mode >"$tmp/json" 2>"$tmp/err" &
pid=$!
wait_ready $rs $pid
kill $early
wait $early
sh -c "echo \$\$ >$S/act/cgroup.procs
	exec dmabuf_alloc -H default_cma_region -s 1M -n 5 -r 2 -w 600 -R $tmp/r1" &
held=$!
# then a driver's export from the same thread: told apart from the heap's
sh -c "echo \$\$ >$S/act/cgroup.procs; exec dmabuf_alloc -H system -s 64K -n 3 --vgem-export"
sh -c "echo \$\$ >$S/act/cgroup.procs; exec dmabuf_alloc -H default_cma_region -s 200M" 2>/dev/null
sh -c "echo \$\$ >$S/lim/cgroup.procs; exec dmabuf_alloc -H default_cma_region -s 2M" 2>/dev/null
# fragmentation: fill the area with 1 MiB buffers, free every other, ask 16 MiB
wait_while '[ ! -e $tmp/r1 ]'
sh -c "echo \$\$ >$S/act/cgroup.procs
	exec dmabuf_alloc -H default_cma_region -s 1M -n 120 --holes -w 600 -R $tmp/r2" &
frag=$!
wait_while '[ ! -e $tmp/r2 ]'
sh -c "echo \$\$ >$S/act/cgroup.procs; exec dmabuf_alloc -H default_cma_region -s 16M" 2>/dev/null
kill $frag
wait $frag
kill -INT $pid
wait $pid
rc=$?
kill $held
wait

act() { jq -M -c --arg cg "$1" --arg heap "$2" '.activity[] | select(.cgroup == $cg and .heap == $heap)' "$tmp/json"; }
a=$(act /act default_cma_region)
# 5 + 120 allocations of 1 MiB succeed; 200M (capacity) and 16M (fragmentation)
# fail; 122 are freed (3 stay held)
if [ $rc = 0 ] && echo "$a" | jq_true '.allocs == 125 and .alloc_bytes == 131072000
	and .exports == 125 and .export_bytes == 131072000 and .charged_bytes == 3145728
	and .failures == {"capacity":1,"fragmentation":1,"busy":0,"limit":0,"other":0}
	and .frees == 122 and .free_bytes == 127926272 and .latency_ns.max >= .latency_ns.p99
	and .latency_ns.p99 >= .latency_ns.p50 and .latency_ns.p50 > 0' >/dev/null; then
	pass "CMA heap: allocations, frees, capacity and fragmentation failures"
else
	fail "CMA heap: allocations, frees, capacity and fragmentation failures" "exit $rc: $a $(cat "$tmp/err")"
fi
s=$(act /act system)
echo "$s" | jq_true '.allocs == 3 and .alloc_bytes == 196608 and .frees == 3 and .free_bytes == 196608
	and .exports == 3 and .charged_bytes == 0' \
	>/dev/null && pass "system heap: three 64K buffers, each freed" ||
	fail "system heap: three 64K buffers, each freed" "$s"
# lifetimes, export to final release: the three 1 MiB buffers held until the
# fragmentation step was done lived longer than the two closed at once
echo "$a" | jq_true '.lifetime_ns.p50 > 0 and .lifetime_ns.p99 >= .lifetime_ns.p50
	and .lifetime_ns.max >= .lifetime_ns.p99 and .lifetime_ns.max >= 100000000' >/dev/null &&
	echo "$s" | jq_true '.lifetime_ns.p50 > 0 and .lifetime_ns.max >= .lifetime_ns.p50' >/dev/null &&
	pass "buffer lifetimes: p50, p99, max" || fail "buffer lifetimes: p50, p99, max" "$a $s"
v=$(act /act drm)
echo "$v" | jq_true '.exports == 1 and .export_bytes == 65536 and .frees == 1 and .free_bytes == 65536
	and .allocs == 0 and .latency_ns == {"p50": null, "p99": null, "max": null}
	and .lifetime_ns.p50 > 0' >/dev/null &&
	pass "a vgem export after heap allocations in one thread (no allocation: no latency, null)" ||
	fail "a vgem export after heap allocations in one thread (no allocation: no latency, null)" "$v"
l=$(act /lim default_cma_region)
echo "$l" | jq_true '.allocs == 0 and .failures.limit == 1' >/dev/null &&
	pass "dmem.max refusal is a limit failure" || fail "dmem.max refusal is a limit failure" "$l"
# buffers exported while tracing know who exported them
b=$(jq -M -c --argjson pid "$held" '[.buffers[] | select(.pid == $pid)]' "$tmp/json")
echo "$b" | jq_true 'length == 3 and all(.[]; .cgroup == "/act" and .bytes == 1048576
	and .charged_cgroup == "/act")' >/dev/null &&
	pass "buffers: exporting pid, cgroup and the cgroup charged" ||
	fail "buffers: exporting pid, cgroup and the cgroup charged" "pid $held: $b"
b=$(jq -c '[.activity[] | select(.cgroup == "(before tracing)")]' "$tmp/json")
echo "$b" | jq_true 'length == 1 and .[0].heap == "system" and .[0].frees == 3 and
	.[0].free_bytes == 196608 and .[0].allocs == 0' >/dev/null &&
	pass "releases of buffers from before tracing: (before tracing)" ||
	fail "releases of buffers from before tracing: (before tracing)" "$b"
want=$([ $mode = kprobe ] && echo kprobe || echo tracing)
jq_true --arg want $want '.drops == 0 and .heap_tracepoints and .attach == $want and (.cma_activity[] | select(.area == "reserved") | .allocs >= 125 and .failures >= 1)' \
	"$tmp/json" >/dev/null && pass "CMA area activity, nothing dropped" ||
	fail "CMA area activity, nothing dropped" "$(jq -c '{drops, attach, cma_activity}' "$tmp/json")"
# the free-extent map kept from traced events agrees with the debugfs bitmap read after
t=$(jq -M -c '.cma_areas[] | select(.name == "reserved") |
	[(.traced | del(.fragmentation)), {free_bytes, largest_free_bytes, free_extents_by_order}]' "$tmp/json")
echo "$t" | jq_true '.[0] == .[1] and .[0].free_bytes > 0' >/dev/null &&
	pass "free extents traced from events match the bitmap" ||
	fail "free extents traced from events match the bitmap" "$t"
rm -rf "$tmp"
