#!/bin/sh
# A task is described again when it is no longer where its last process
# record said: one allocating in /rt/a, moved to /rt/b and allocating on, has
# a process record for each (so analyze names both cgroups), and so has a
# flight file written after the move while events of both are kept, the one
# that says /rt/b last. Read back with rec_dump (tests/vm/rec_dump.c).
. "$(dirname "$0")/../lib.sh"
S=/sys/fs/cgroup
tmp=$(mktemp -d)
pass() { echo "PASS: record_tasks: $1"; }
fail() { echo "FAIL: record_tasks: $1: $2"; }
modprobe system_heap 2>/dev/null

mkdir -p $S/rt/a $S/rt/b $tmp/fl
rp_rs=$(ready_socket) fp_rs=$(ready_socket)
NOTIFY_SOCKET=$rp_rs heapstat record -c /rt -o $tmp/r.hsrec -d 120 >$tmp/r.out 2>&1 &
rp=$!
NOTIFY_SOCKET=$fp_rs heapstat record --flight 1000 -c /rt -o $tmp/fl -d 120 >$tmp/f.out 2>&1 &
fp=$!
wait_ready $rp_rs $rp
wait_ready $fp_rs $fp
sh -c "echo \$\$ >$S/rt/a/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 4 --churn 4 -p 50" &
ap=$!
sleep 1.5
echo $ap >$S/rt/b/cgroup.procs
sleep 1.5
kill -USR1 $fp
wait $ap
kill -INT $rp	# ended with the workload, however long either took to start
wait $rp
rc=$?
wait_while '[ -z "$(ls $tmp/fl)" ]'
kill -INT $fp
wait $fp

rec_dump $tmp/r.hsrec >$tmp/r.json 2>&1
if [ $rc = 0 ] && jq_true -s --argjson p $ap '[.[] | select(.type == "process" and .tid == $p) |
	.cgroup] == ["/rt/a", "/rt/b"]' $tmp/r.json >/dev/null; then
	pass "a process record before and after the move"
else
	fail "a process record before and after the move" \
		"exit $rc: $(cat $tmp/r.out; grep '"process"' $tmp/r.json)"
fi
heapstat analyze -j $tmp/r.hsrec >$tmp/a.json 2>$tmp/a.err
jq_true '[.peaks[] | select(.heap == "system") | .cgroup] as $c |
	($c | index("/rt/a")) != null and ($c | index("/rt/b")) != null and ($c | index("?")) == null' \
	$tmp/a.json >/dev/null && pass "analyze names both cgroups" ||
	fail "analyze names both cgroups" "$(cat $tmp/a.err; jq -c .peaks $tmp/a.json)"

set -- $tmp/fl/heapstat-*-sigusr1.hsrec
rec_dump "$1" >$tmp/f.json 2>&1
heapstat analyze -j "$1" >$tmp/fa.json 2>&1
jq_true -s --argjson p $ap '[.[] | select(.type == "process" and .tid == $p) | .cgroup] ==
	["/rt/a", "/rt/b"]' $tmp/f.json >/dev/null &&
	jq_true '[.peaks[] | select(.heap == "system") | .cgroup] as $c |
	($c | index("/rt/a")) != null and ($c | index("/rt/b")) != null' $tmp/fa.json >/dev/null &&
	pass "--flight: the task before and after, both cgroups named" ||
	fail "--flight: the task before and after, both cgroups named" \
		"$(ls $tmp/fl; cat $tmp/f.out; grep '"process"' $tmp/f.json; jq -c .peaks $tmp/fa.json)"
rmdir $S/rt/a $S/rt/b $S/rt
rm -rf $tmp
