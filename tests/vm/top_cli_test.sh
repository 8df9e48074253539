#!/bin/sh
# heaptop in batch mode against a known workload: bytes, buffers, limits,
# headroom and charges per cgroup x heap exactly, processes and buffers, and
# rows that appear and vanish while it runs. Bad input: a message, exit 2.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
pass() { echo "PASS: top_cli: $1"; }
fail() { echo "FAIL: top_cli: $1: $2"; }
for h in system default_cma_region; do
	[ -e /dev/dma_heap/$h ] || { echo "SKIP: top_cli: no heap $h"; exit 0; }
done

for args in "-d 0" "-d abc" "-d 0.05" "-n 0" "-n -1" "-x" "extra" "--view x" "-c camera"; do
	heaptop $args >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc = 2 ] && [ -s "$tmp/err" ]; then pass "refuses '$args'"
	else fail "refuses '$args'" "exit $rc, stderr '$(cat "$tmp/err")'"; fi
done
heaptop -h | grep -q '^EXAMPLES' && pass "-h shows examples" || fail "-h shows examples" "$(heaptop -h)"

mkdir -p $S/video
echo "dma-heap/default_cma_region 8M" >$S/video/dmem.max
alloc_in camera "$tmp/r1" 120 -H system -s 1M -n 3 -r 1
cam=$!
alloc_in video "$tmp/r2" 120 -H default_cma_region -s 4M -n 1 --share 1
vid=$!
alloc_in vanish "$tmp/r4" 120 -H system -s 64K -n 1
van=$!
wait_while '[ ! -e "$tmp/r1" ] || [ ! -e "$tmp/r2" ] || [ ! -e "$tmp/r4" ]'

heaptop -j -d 0.5 >"$tmp/frames" 2>"$tmp/err" &
top=$!
frames() { wc -l <"$tmp/frames"; }
wait_frames 1
# video's buffer is over its limit: refused, one failure on its row
sh -c "echo \$\$ >$S/video/cgroup.procs; exec dmabuf_alloc -H default_cma_region -s 8M" 2>/dev/null
n=$(frames)
wait_frames $((n + 2))
last=$(last_line "$tmp/frames")
row() { echo "$last" | jq -M -c --arg cg "$1" --arg heap "$2" '.rows[] | select(.cgroup == $cg and .heap == $heap)'; }
r=$(row /camera system)
echo "$r" | jq_true '.bytes == 2097152 and .buffers == 2 and .peak_bytes == 2097152 and .gone == false and
	.cgroup_removed == false' \
	>/dev/null && pass "camera: two 1 MiB system buffers held" || fail "camera: two 1 MiB system buffers held" "$r"
r=$(row /video default_cma_region)
echo "$r" | jq_true '.bytes == 4194304 and .buffers == 1 and .limit_bytes == 8388608 and
	.charged_bytes == 4194304 and .headroom_bytes == 4194304 and .failures == 1 and
	.charged_by == "dmem"' >/dev/null &&
	pass "video: held, dmem.max, dmem.current, headroom and the refused allocation" ||
	fail "video: held, dmem.max, dmem.current, headroom and the refused allocation" "$r"
echo "$last" | jq_true --argjson cam $cam '[.processes[] | select(.pid == $cam)][0] |
	.cgroup == "/camera" and .fd_bytes == 2097152 and .pss_bytes == 2097152' >/dev/null &&
	pass "processes: the camera process" || fail "processes: the camera process" "$(echo "$last" | jq -c .processes)"
used=$(( $(cat /sys/kernel/mm/cma/reserved/total_pages) - $(cat /sys/kernel/mm/cma/reserved/available_pages) ))
echo "$last" | jq_true --argjson used $((used * 4096)) '(.heaps[] | select(.name == "system") | .bytes == 2162688 and .buffers == 3)
	and (.heaps[] | select(.name == "default_cma_region") | .bytes == 4194304)
	and (.cma[] | select(.name == "reserved") | .used_bytes == $used and .largest_free_bytes > 0)
	and ([.buffers[] | select(.heap == "default_cma_region")][0].holders | length == 2)
	and .drops == 0' >/dev/null &&
	pass "meters: heaps, CMA sysfs, a shared buffer's two holders" ||
	fail "meters: heaps, CMA sysfs, a shared buffer's two holders" "used $used: $last"

# a cgroup appears, then its process and the cgroup vanish: a row of what it
# allocated stays, by its path; /vanish's, of buffers held from before, stays
# one frame, marked
alloc_in appear "$tmp/r3" 120 -H system -s 256K -n 2
app=$!
wait_while '[ ! -e "$tmp/r3" ]'
n=$(frames)
wait_frames $((n + 2))
# buffers exported since heaptop started know their exporter and age; older ones do not
last=$(last_line "$tmp/frames")
echo "$last" | jq_true --argjson p $app --argjson cam $cam '
	([.buffers[] | select(.holders[0].pid == $p)] | length == 2 and all(.[]; .pid == $p and
		.comm == "dmabuf_alloc" and .cgroup == "/appear" and .age_ns > 0 and .age_ns < 60000000000))
	and ([.buffers[] | select(.holders[0].pid == $cam)] | length == 2 and all(.[]; .age_ns == null))' \
	>/dev/null && pass "buffers: the age and exporter of those exported while it ran" ||
	fail "buffers: the age and exporter of those exported while it ran" "$(echo "$last" | jq -c .buffers)"
kill $app $van
wait $app $van 2>/dev/null
rmdir $S/appear $S/vanish
n=$(frames)
wait_frames $((n + 3))
kill -INT $top
wait $top
rc=$?
seen=$(jq -M -c '[.rows[] | select(.cgroup == "/vanish")] | if length == 0 then "none" elif .[0].gone then "gone" else "live" end' "$tmp/frames" | uniq | tr '\n' ' ')
case "$seen" in
*'"live" "gone" "none"'*) pass "a row that vanished stays one frame, marked gone" ;;
*) fail "a row that vanished stays one frame, marked gone" "sequence $seen" ;;
esac
last=$(last_line "$tmp/frames")
r=$(echo "$last" | jq -M -c '[.rows[] | select(.cgroup == "/appear" or (.cgroup | startswith("?")))]')
echo "$r" | jq_true 'length == 1 and .[0].heap == "system" and .[0].bytes == 0 and
	.[0].allocated.allocs == 2 and .[0].allocated.frees == 2 and .[0].gone == false and
	.[0].cgroup_removed' >/dev/null &&
	pass "a removed cgroup's row of what it allocated, by its path" ||
	fail "a removed cgroup's row of what it allocated, by its path" "$r"
[ $rc = 0 ] && [ ! -s "$tmp/err" ] && pass "SIGINT ends it cleanly" || fail "SIGINT ends it cleanly" "exit $rc: $(cat "$tmp/err")"

# plain frames: the header and each view
heaptop -b -n 1 -d 0.2 >"$tmp/t1" 2>&1 && grep -q '^CGROUP .* HEADROOM$' "$tmp/t1" &&
	grep -q '^/video .*default_cma_region .* 4.0M ' "$tmp/t1" &&
	heaptop -b -n 1 -d 0.2 --view processes -c /camera | grep -q "^ *$cam dmabuf_alloc .*/camera" &&
	heaptop -b -n 1 -d 0.2 --view buffers --heap default_cma_region | grep -q ' 4.0M ' &&
	pass "plain frames: cgroups, processes, buffers, filters" ||
	fail "plain frames: cgroups, processes, buffers, filters" "$(cat "$tmp/t1")"
# the buffers' HOLDERS, the line's last column: a holder's pid as it is (/camera
# holds two: one of its three released)
heaptop -b -n 1 -d 0.2 --view buffers -c /camera >"$tmp/t2" 2>&1
[ "$(grep -cE "^ *[0-9]+ system +1\.0M .* $cam\$" "$tmp/t2")" = 2 ] &&
	pass "plain frames: buffers held by one process name its pid" ||
	fail "plain frames: buffers held by one process name its pid" "$(cat "$tmp/t2")"
kill $cam $vid
wait
rm -rf "$tmp"
