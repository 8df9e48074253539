#!/bin/sh
# The collector keeps a traced buffer in slot (inode % 131072) of an array;
# a buffer whose slot a live one holds goes to a spill map. Two buffers held
# while 131070 come and go make the next two land on their slots: one is
# released (its free must count for its exporter's cgroup), one stays (the
# report must name its exporter). With a spill map of one entry, the second
# is lost, and the report says so.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
SLOTS=131072
pass() { echo "PASS: spill: $1"; }
fail() { echo "FAIL: spill: $1: $2"; }
[ -e /dev/dma_heap/system ] || { echo "SKIP: spill: no system heap"; exit 0; }
mkdir -p $S/spill

rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 600 >"$tmp/json" 2>"$tmp/err" &
rep=$!
wait_ready $rs $rep
# and one whose spill map holds one buffer: the second one there is lost, and said so
rs=$(ready_socket)
NOTIFY_SOCKET=$rs HEAPSTAT_TEST_MAX_SPILL=1 heapstat report -j -d 600 >"$tmp/json1" 2>"$tmp/err1" &
rep1=$!
wait_ready $rs $rep1
sh -c "echo \$\$ >$S/spill/cgroup.procs; exec dmabuf_alloc -s 4K -n 2 -w 600 -R $tmp/r1" &
first=$!
while [ ! -e $tmp/r1 ] && kill -0 $first 2>/dev/null; do sleep 0.1; done
sh -c "echo \$\$ >$S/spill/cgroup.procs
	exec dmabuf_alloc -s 8K --skip $((SLOTS - 2)) -n 2 -r 1 -w 600 -R $tmp/r2" &
second=$!
while [ ! -e $tmp/r2 ] && kill -0 $second 2>/dev/null; do sleep 0.1; done
a=$(dmabuf_inodes $first | sort -n | tail -n 1)
b=$(dmabuf_inodes $second)
kill -INT $rep $rep1
wait $rep
rc=$?
wait $rep1
rc1=$?
kill $first $second
wait

# precondition: nothing else exported a dma-buf meanwhile
if [ -n "$a" ] && [ -n "$b" ] && [ $((b - a)) = $SLOTS ]; then
	pass "the kept buffer's inode is $SLOTS after the first process's last"
else
	fail "the kept buffer's inode is $SLOTS after the first process's last" "inodes '$a' '$b'"
fi
act=$(jq -M -c '.activity[] | select(.cgroup == "/spill" and .heap == "system")' "$tmp/json")
# 2 + (SLOTS - 2) + 2 exported; SLOTS - 2 skipped and one more released
if [ $rc = 0 ] && echo "$act" | jq_true --argjson n $SLOTS '.allocs == $n + 2
	and .exports == $n + 2 and .export_bytes == 2 * 4096 + $n * 8192
	and .frees == $n - 1 and .free_bytes == ($n - 1) * 8192' >/dev/null; then
	pass "a buffer released from the spill map counts for its exporter's cgroup"
else
	fail "a buffer released from the spill map counts for its exporter's cgroup" \
		"exit $rc: $act $(cat "$tmp/err")"
fi
buf=$(jq -M -c --argjson ino "${b:-0}" '.buffers[] | select(.inode == $ino)' "$tmp/json")
echo "$buf" | jq_true --argjson pid $second '.cgroup == "/spill" and .pid == $pid
	and .bytes == 8192' >/dev/null &&
	pass "a live buffer in the spill map is told with its exporter" ||
	fail "a live buffer in the spill map is told with its exporter" "pid $second: $buf"
held=$(jq -M -c --argjson pid $first '[.buffers[] | select(.pid == $pid)] | length' "$tmp/json")
[ "$held" = 2 ] && pass "the two buffers in their slots are told with their exporter" ||
	fail "the two buffers in their slots are told with their exporter" "pid $first: $held"
# both of the second process's buffers found their slot taken: one fit the spill map
if [ $rc1 = 0 ] && jq_true '.losses.buffers == 1 and .losses.aggregates == 0 and .drops == 1' \
	"$tmp/json1" >/dev/null; then
	pass "a spill map full: the buffer it could not take is counted as lost"
else
	fail "a spill map full: the buffer it could not take is counted as lost" \
		"exit $rc1: $(jq -c '[.drops, .losses]' "$tmp/json1") $(cat "$tmp/err1")"
fi
rmdir $S/spill 2>/dev/null
rm -rf "$tmp"
exit 0
