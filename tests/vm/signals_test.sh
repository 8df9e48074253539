#!/bin/sh
# An INT sent while a long-running command loads its BPF programs ends it as
# one sent later does: record writes a whole recording (and does not start
# its command: exit 124, the recording says it was not run), limit events -f and report -d stop and exit 0. Each starts as
# a shell starts a background job, with SIGINT ignored: a handler installed
# only once loaded leaves that INT lost, and the command running for ever.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
pass() { echo "PASS: signals: $1"; }
fail() { echo "FAIL: signals: $1: $2"; }

# early_int CMD...: CMD in the background, an INT as soon as heapstat catches
# it; $pid: its pid; $links: the BPF links it had then; $rc: its exit status,
# "alive" when it had not exited 30 s later (then killed). A guest that let
# the load end before the INT came (links already made) runs it again, three
# times at most: the INT is to come while loading
early_int() {
	for _ei_try in 1 2 3; do
		rm -f $tmp/ran
		int_once "$@"
		[ "$links" = 0 ] && break
	done
}
int_once() {
	"$@" >$tmp/out 2>$tmp/err &
	pid=$!
	_ei_i=0
	until { grep -qx heapstat /proc/$pid/comm && caught $pid 2; } 2>/dev/null ||
		[ $_ei_i -ge 1000 ]; do
		sleep 0.01
		_ei_i=$((_ei_i + 1))
	done
	links=$(ls -l /proc/$pid/fd 2>/dev/null | grep -c bpf_link)
	kill -INT $pid
	_ei_i=0
	while alive $pid && [ $_ei_i -lt 300 ]; do
		sleep 0.1
		_ei_i=$((_ei_i + 1))
	done
	if alive $pid; then
		kill -9 $pid
		wait $pid
		rc=alive
	else
		wait $pid
		rc=$?
	fi
}

early_int heapstat record -o $tmp/r.rec
heapstat analyze -j $tmp/r.rec >$tmp/r.json 2>$tmp/r.err
[ $links = 0 ] && [ $rc = 0 ] && jq_true '.recording.truncated == false' $tmp/r.json &&
	pass "record: an INT while loading, a whole recording" ||
	fail "record: an INT while loading, a whole recording" \
		"$links links at the INT, exit $rc: $(cat $tmp/err $tmp/r.err)"

early_int heapstat record -o $tmp/c.rec -- sh -c "echo ran >$tmp/ran; sleep 100"
heapstat analyze -j $tmp/c.rec >$tmp/c.json 2>$tmp/c.err
[ $links = 0 ] && [ $rc = 124 ] && [ ! -e $tmp/ran ] &&
	grep -qx "heapstat record: stopped before sh started: not run" $tmp/err &&
	jq_true '.recording.truncated == false and .recording.command_not_started' $tmp/c.json &&
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "heapstat-record-$pid")" ] &&
	pass "record -- CMD: an INT while loading, CMD not started, its cgroup gone" ||
	fail "record -- CMD: an INT while loading, CMD not started, its cgroup gone" \
		"$links links at the INT, exit $rc: $(cat $tmp/err $tmp/c.err)"

early_int heapstat limit events -f
[ $links = 0 ] && [ $rc = 0 ] && pass "limit events -f: an INT while loading ends it" ||
	fail "limit events -f: an INT while loading ends it" "$links links at the INT, exit $rc: $(cat $tmp/err)"

early_int heapstat report -d 60
[ $links = 0 ] && [ $rc = 0 ] && grep -q "^activity over" $tmp/out &&
	pass "report -d: an INT while loading, the report at once" ||
	fail "report -d: an INT while loading, the report at once" \
		"$links links at the INT, exit $rc: $(cat $tmp/out $tmp/err)"
# the command starts with the signals ignored that heapstat started with
# ignored (here INT and HUP, as nohup and a shell's background jobs have them),
# though heapstat catches them itself
sig_ign INT HUP -- heapstat record -o $tmp/i.rec -- grep ^SigIgn: /proc/self/status \
	>$tmp/ign 2>$tmp/ign.err; rc=$?
m=$(sed -n 's/^SigIgn:[[:space:]]*//p' $tmp/ign)
[ $rc = 0 ] && [ -n "$m" ] && [ $(((0x$m >> 1) & 1)) = 1 ] && [ $(((0x$m >> 0) & 1)) = 1 ] &&
	pass "record -- CMD: CMD starts with INT and HUP ignored, as heapstat was" ||
	fail "record -- CMD: CMD starts with INT and HUP ignored, as heapstat was" \
		"exit $rc, SigIgn ${m:-none}: $(cat $tmp/ign.err)"

# a hangup ends a recording whole, as INT and TERM do
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/h.rec -- sleep 100 2>$tmp/h.err &
pid=$!
wait_ready "$rs" $pid
# ready once it traces, before the command is spawned: the command once it is
wait_while '[ -z "$(children $pid)" ] && alive $pid'
cmd=$(children $pid)
kill -HUP $pid
wait $pid
rc=$?
heapstat analyze -j $tmp/h.rec >$tmp/h.json 2>>$tmp/h.err
[ $rc = 124 ] && jq_true '.recording.truncated == false' $tmp/h.json &&
	[ -n "$cmd" ] && alive "$cmd" &&
	pass "record: a HUP ends the recording whole (exit 124: the command goes on)" ||
	fail "record: a HUP ends the recording whole (exit 124: the command goes on)" \
		"exit $rc, command ${cmd:-not found}$(alive "${cmd:-0}" || echo ' gone'): $(cat $tmp/h.err)"
[ -z "$cmd" ] || kill $cmd

# started with SIGCHLD ignored, the command's exit is still seen (not reaped unseen)
start=$(date +%s)
sig_ign CHLD -- heapstat record -d 20 -o $tmp/ch.rec -- sh -c 'exit 3' 2>$tmp/ch.err
rc=$?
took=$(($(date +%s) - start))
[ $rc = 3 ] && [ $took -lt 15 ] &&
	pass "record: started with SIGCHLD ignored, the command's exit seen (its status 3)" ||
	fail "record: started with SIGCHLD ignored, the command's exit seen (its status 3)" \
		"exit $rc after $took s: $(cat $tmp/ch.err)"
rm -rf $tmp
