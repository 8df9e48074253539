#!/bin/sh
# A SCHED_FIFO thread that wakes every 100 us preempting another allocating
# on the same CPU (tests/vm/preempt_alloc.c), both allocating and freeing
# system-heap buffers for 3 s: report -d counts every allocation, and none of
# its hooks' calls was skipped. A kernel whose tracing programs can be
# preempted (preemptible RCU with full or lazy preemption) skips the same
# hook's program on that CPU meanwhile: losses.skipped says how many. The
# reference build's run with preemption off (tree RCU): exact.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
pass() { echo "PASS: preempt: $1"; }
fail() { echo "FAIL: preempt: $1: $2"; }
mkdir -p $S/preempt
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -d 8 -j >$tmp/j 2>$tmp/e &
r=$!
wait_ready "$rs" $r
n=$(sh -c "echo \$\$ >$S/preempt/cgroup.procs; exec preempt_alloc 3" | sed -n 's/^allocations //p')
wait $r
rc=$?
[ $rc = 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && jq_true --argjson n "$n" '.losses.skipped == 0 and
	([.activity[] | select(.cgroup == "/preempt" and .heap == "system")][0]
	 | .allocs == $n and .frees == $n)' $tmp/j >/dev/null &&
	pass "an RT thread preempting an allocating one: all $n allocations and frees counted, none skipped" ||
	fail "an RT thread preempting an allocating one: all allocations and frees counted, none skipped" \
		"exit $rc, $n allocations: $(jq -c '[.losses, [.activity[] | select(.cgroup == "/preempt")]]' \
		$tmp/j) $(cat $tmp/e)"
rmdir $S/preempt
rm -rf $tmp
