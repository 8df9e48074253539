#!/bin/sh
# The bpf-lsm pins changing under a heapstat that holds them open: a set
# whose pins the clear of the last limit (or the drop of a removed cgroup's)
# unpinned between its open and its write still sets a limit in force;
# limit events -f follows programs pinned after it started, and pinned anew
# after the last clear; pins removed by hand are refused as not whole
# (exit 2, what to do), and show says the limits are not in force. Run by
# tests/boot/lsm_pins.sh:
#   scripts/vm --load system_heap -- sh /heapstat/tests/vm/lsm/pins.sh
. "$(dirname "$0")/common.sh"
pass() { echo "PASS: lsm_pins: $1"; npass=$((npass + 1)); }
fail() { echo "FAIL: lsm_pins: $1: $2"; nfail=$((nfail + 1)); }
L=$P/limit
H=system
# refused CGROUP: a 2 MiB allocation there fails with EAGAIN
refused() {
	alloc $1 2M 1
	[ $? != 0 ] && grep -q 'Resource temporarily unavailable' $tmp/err
}
# freed CGROUP: a 2 MiB allocation there succeeds within 5 s (programs
# detach once the kernel lets the links go: RCU, a work item)
freed() {
	_i=0
	until alloc $1 2M 1 || [ $_i -ge 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ $_i -lt 50 ]
}
shown_limit() { heapstat limit show $1 -j 2>/dev/null | jq -r --arg c $1 '.[] | select(.cgroup == $c and .heap == "system") | .limit_bytes'; }

[ ! -e $L ] || fail "setup" "limits pinned before the test"
mkdir -p $S/r1 $S/r2 $S/a $S/b $S/w
# cgroups to walk: the set's walk between its open and its lock takes long
(cd $S/w && seq 1 ${PINS_CGROUPS:-3000} | xargs mkdir)

# in_window PID: the set is between its open and its write: the pinned maps
# open (8 fds), walking the cgroups (the root's fd), holding no lock (the
# collection after a set walks under its lock) and no usage cells mapped
# (the model's read of the limits, before the set)
in_window() {
	[ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'anon_inode:bpf-map')" = 8 ] &&
		ls -l /proc/$1/fd 2>/dev/null | grep -q -- '-> /sys/fs/cgroup$' &&
		! grep -q 'bpf-map' /proc/$1/maps 2>/dev/null &&
		! awk -v p=$1 '$5 == p { f = 1 } END { exit !f }' /proc/locks
}
running() { [ -e /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
# stop PID: stopped with SIGSTOP (once it is, or gone)
stop() {
	kill -STOP $1 2>/dev/null
	while running $1 && ! grep -q '^State:[[:space:]]*T' /proc/$1/status 2>/dev/null; do :; done
}
# race WHAT CMD: set /r2 stopped between its open and its write while CMD
# unpins everything (the last limit, /r1's, goes); the set exits 0 and its
# limit is in force. Stopped whenever it holds the maps open, and let go
# unless in that window; tried until caught there (5 times at most).
race() {
	what=$1 cmd=$2 caught=0 try=0
	while [ $caught = 0 ] && [ $try -lt 5 ]; do
		try=$((try + 1))
		mkdir -p $S/r1
		heapstat limit set /r1 $H 1M || { fail "$what" "set /r1 exit $?"; return; }
		heapstat limit set /r2 $H 1M 2>$tmp/set_err &
		spid=$!
		missed="never in it"
		while running $spid; do
			[ "$(ls -l /proc/$spid/fd 2>/dev/null | grep -c 'anon_inode:bpf-map')" = 8 ] || continue
			stop $spid
			in_window $spid && caught=1 && break
			kill -CONT $spid 2>/dev/null
		done
		if [ $caught = 1 ]; then
			eval "$cmd" >$tmp/cmd_out 2>&1
			[ ! -e $L ] || { caught=0; missed="still pinned: $(cat $tmp/cmd_out)"; }
		fi
		kill -CONT $spid 2>/dev/null
		wait $spid
		rc=$?
		[ $caught = 1 ] && break
		echo "lsm_limit: pins: $what: try $try missed the window ($missed)"
		heapstat limit clear /r2 $H 2>/dev/null
		heapstat limit clear /r1 $H 2>/dev/null
	done
	if [ $caught = 0 ]; then
		fail "$what" "the set was never caught between its open and its write"
	elif [ $rc = 0 ] && [ -e $L/limits ] && [ "$(shown_limit /r2)" = 1048576 ] && refused /r2; then
		pass "$what"
	else
		fail "$what" "exit $rc ($(cat $tmp/set_err)), limit $(shown_limit /r2), pins: $(ls $L 2>&1 | tr '\n' ' '), alloc: $(cat $tmp/err)"
	fi
	heapstat limit clear /r2 $H 2>/dev/null
	[ ! -e $L ] || { heapstat limit clear /r1 $H 2>/dev/null; rm -rf $L; }
}
race "a set racing the clear of the last limit: in force, exit 0" "heapstat limit clear /r1 $H"
race "a set racing the drop of a removed cgroup's last limit: in force, exit 0" \
	"rmdir $S/r1 && heapstat limit clear /a $H"
rmdir $S/w/* $S/w

# events -f: programs pinned after it started (nothing pinned at the start),
# then unpinned by the last clear and pinned anew
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat limit events -f -j -d 120 >$tmp/ev 2>$tmp/eve &
evp=$!
wait_ready $rs $evp
# events_of CGROUP N: N refusal events of CGROUP printed, within 10 s
events_of() {
	_i=0
	while [ "$(grep -c "\"cgroup\":\"$1\"" $tmp/ev)" -lt $2 ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ "$(grep -c "\"cgroup\":\"$1\"" $tmp/ev)" = $2 ]
}
heapstat limit set /a $H 1M && refused /a && events_of /a 1 &&
	jq_true '.backend == "bpf-lsm" and .cgroup == "/a" and .requested_bytes == 2097152 and
		.limit_bytes == 1048576' $tmp/ev >/dev/null &&
	pass "events -f: refusals of programs pinned after it started" ||
	fail "events -f: refusals of programs pinned after it started" "$(cat $tmp/ev $tmp/eve)"
heapstat limit clear /a $H && [ ! -e $L ] && heapstat limit set /a $H 1M && refused /a && events_of /a 2 &&
	pass "events -f: refusals of programs pinned anew after the last clear" ||
	fail "events -f: refusals of programs pinned anew after the last clear" "$(cat $tmp/ev $tmp/eve)"
kill -INT $evp
wait $evp
rc=$?
[ $rc = 0 ] && [ ! -s $tmp/eve ] && pass "events -f: exits 0 at Ctrl-C, nothing said" ||
	fail "events -f: exits 0 at Ctrl-C, nothing said" "exit $rc: $(cat $tmp/eve)"
heapstat limit clear /a $H

# links removed by hand: the programs detach; refused as not whole, with what
# to do, as a map gone is; show says the limits are not in force
not_whole() { grep -q "not in force.*no link $1 (removed by hand: .*rm -r $L" $tmp/e && ! grep -q 'another heapstat' $tmp/e; }
for links in 'link_*' link_inode_free; do
	heapstat limit set /a $H 1M && refused /a
	(cd $L && rm $links)
	[ "$links" = 'link_*' ] && name=file_ioctl || name=${links#link_}
	[ "$links" = 'link_*' ] && { freed /a || fail "$links removed: the programs detach" "$(ls $L)"; }
	heapstat limit set /b $H 1M >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && not_whole $name &&
		pass "$links removed: set refused (exit 2), says what to do" ||
		fail "$links removed: set refused (exit 2), says what to do" "exit $rc: $(cat $tmp/e)"
	heapstat limit clear /a $H >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && not_whole $name && [ -e $L/limits ] &&
		pass "$links removed: clear refused (exit 2), says what to do" ||
		fail "$links removed: clear refused (exit 2), says what to do" "exit $rc: $(cat $tmp/e)"
	heapstat limit show >$tmp/o 2>$tmp/e
	not_whole $name && pass "$links removed: show says the limits are not in force" ||
		fail "$links removed: show says the limits are not in force" "$(cat $tmp/e)"
	rm -r $L && freed /a && heapstat limit set /b $H 1M && refused /b && heapstat limit clear /b $H &&
		[ ! -e $L ] && pass "$links removed: removed as told, limits work again" ||
		fail "$links removed: removed as told, limits work again" "$(cat $tmp/err) $(ls $L 2>&1)"
done

# an earlier build's pins, whose release was the file's (its link pinned as
# link_file_release, as the one here renamed): refused as that build's, the
# limit still in force
heapstat limit set /a $H 1M && mv $L/link_inode_free $L/link_file_release
heapstat limit set /b $H 1M >$tmp/o 2>$tmp/e
rc=$?
[ $rc = 2 ] && grep -q "pinned in $L are an earlier heapstat build's: they hold as pinned.*rm -r $L" $tmp/e &&
	refused /a && pass "an earlier build's pins: refused as its, still in force, says what to do" ||
	fail "an earlier build's pins: refused as its, still in force, says what to do" \
		"exit $rc: $(cat $tmp/e)"
rm -r $L && freed /a || fail "an earlier build's pins: removed" "$(ls $L 2>&1)"

for cg in r1 r2 a b; do
	[ -e $S/$cg/cgroup.procs ] && kill -9 $(cat $S/$cg/cgroup.procs) 2>/dev/null
done
wait
rmdir $S/r1 $S/r2 $S/a $S/b 2>/dev/null
rm -rf "$tmp"
echo "lsm_limit: pins: $npass passed, $nfail failed"
exit 0
