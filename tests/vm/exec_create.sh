#!/bin/sh
# heapstat limit exec --create where the root enables no controller for its
# children (a host whose init did not: systemd enables no dmem), in a boot
# of its own (tests/boot/exec_create.sh): libcgroup 2.0 enables a controller
# in every parent but the root for a cgroup below the first level, so such a
# create failed with the first level made. A cgroup made with the
# controllers its --set need, no other (none without --set); a failure
# leaves nothing made; a cgroup that enables controllers for its children
# can hold no process: refused before any limit is written.
. /heapstat/tests/lib.sh
pass() { echo "PASS: exec_create: $1"; }
fail() { echo "FAIL: exec_create: $1: $2"; }
S=/sys/fs/cgroup
H=default_cma_region
tmp=$(mktemp -d)
echo "-dmem -memory" >$S/cgroup.subtree_control
[ -z "$(cat $S/cgroup.subtree_control)" ] || { fail setup "root: $(cat $S/cgroup.subtree_control)"; exit 0; }

heapstat limit exec --create /ci/t1 -- sh -c 'exit 7' 2>$tmp/e
rc=$?
[ $rc = 7 ] && [ -d $S/ci/t1 ] && [ -z "$(cat $S/cgroup.subtree_control $S/ci/cgroup.subtree_control)" ] &&
	pass "no --set, two levels deep: made, no controller enabled, the command's status" ||
	fail "no --set, two levels deep: made, no controller enabled, the command's status" \
		"exit $rc: $(cat $tmp/e) root: $(cat $S/cgroup.subtree_control)"

# a create that fails after dmem was enabled at the root for it (a kernel
# file where its cgroup would be): the root as it was, nothing made stays
heapstat limit exec --create --set $H=8M /cf/cgroup.procs -- true 2>$tmp/e
rc=$?
[ $rc = 2 ] && [ ! -e $S/cf ] && [ -z "$(cat $S/cgroup.subtree_control)" ] &&
	grep -q "a file, not a cgroup" $tmp/e &&
	pass "a create refused after dmem was enabled at the root: disabled again, nothing made" ||
	fail "a create refused after dmem was enabled at the root: disabled again, nothing made" \
		"exit $rc: $(cat $tmp/e) root: $(cat $S/cgroup.subtree_control) $(ls $S/cf 2>&1)"

heapstat limit exec --create --set $H=8M /cd/t1 -- cat $S/cd/t1/dmem.max >$tmp/o 2>$tmp/e
rc=$?
[ $rc = 0 ] && grep -qx "dma-heap/$H 8388608" $tmp/o &&
	[ "$(cat $S/cgroup.subtree_control)" = dmem ] && [ "$(cat $S/cd/cgroup.subtree_control)" = dmem ] &&
	pass "a dmem --set two levels deep: dmem enabled down to it, its dmem.max written" ||
	fail "a dmem --set two levels deep: dmem enabled down to it, its dmem.max written" \
		"exit $rc: $(cat $tmp/o $tmp/e) root: $(cat $S/cgroup.subtree_control)"

# /cd enables dmem for /cd/t1: it can hold no process, refused, nothing written
max0=$(cat $S/cd/dmem.max)
heapstat limit exec --set $H=4M /cd -- true 2>$tmp/e
rc=$?
[ $rc = 2 ] && grep -q "can hold no process" $tmp/e && [ "$(cat $S/cd/dmem.max)" = "$max0" ] &&
	pass "a cgroup that enables controllers for its children: refused, its limit unchanged" ||
	fail "a cgroup that enables controllers for its children: refused, its limit unchanged" \
		"exit $rc: $(cat $tmp/e) dmem.max $(cat $S/cd/dmem.max)"

# a parent holding a process enables no controller: nothing made stays
mkdir $S/busy
sh -c "echo \$\$ >$S/busy/cgroup.procs; exec sleep 60" &
sp=$!
wait_while '[ -z "$(cat $S/busy/cgroup.procs)" ]'
heapstat limit exec --create --set $H=8M /busy/a/b -- true 2>$tmp/e
rc=$?
[ $rc = 1 ] && [ ! -e $S/busy/a ] && pass "a create that failed leaves nothing made" ||
	fail "a create that failed leaves nothing made" "exit $rc: $(cat $tmp/e) $(ls $S/busy)"
kill $sp
wait
rmdir $S/busy/a/b $S/busy/a $S/busy $S/ci/t1 $S/ci $S/cd/t1 $S/cd $S/cf 2>/dev/null
rm -rf $tmp
