#!/bin/sh
# heapstat record's limit records and its flight recorder, against what the
# kernel did: a dmem refusal recorded as exactly one limit record naming the
# cgroup whose dmem.max bound, with its dmem.current and dmem.max in bytes;
# --flight N writing exactly the last N events and the failure that
# triggered the file, analysable; SIGUSR1 writing a file, at most one a
# second; a refused process's buffers released after the trigger released
# in its file, no leak; a file that cannot be written said, recording going
# on; a directory that is not one refused with exit 2. The records are
# read back with rec_dump (tests/vm/rec_dump.c).
. "$(dirname "$0")/../lib.sh"
S=/sys/fs/cgroup
H=default_cma_region
M=1048576
tmp=$(mktemp -d)
pass() { echo "PASS: record_flight: $1"; }
fail() { echo "FAIL: record_flight: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: record_flight: no heap $H (scripts/vm --load-heaps)"; exit 0; }
# events: the event records of a dump
events() { grep -c '"type":"\(alloc\|export\|release\|fd\|cma\|limit\)"' "$1"; }

# a dmem refusal: /rfl may hold 4 MiB of the CMA heap, 3 MiB are held by a
# child, a 2 MiB allocation is refused
mkdir -p $S/rfl
heapstat limit set /rfl $H 4M || fail "limit set" "dmem.max of /rfl"
sh -c "echo \$\$ >$S/rfl/cgroup.procs; exec heapstat record -o $tmp/l.hsrec -- sh -c '
	dmabuf_alloc -H $H -s 1M -n 3 --background -w 60 -R $tmp/lbg
	dmabuf_alloc -H $H -s 2M 2>/dev/null
	exit 0'" >$tmp/l.out 2>&1
rc=$?
rec_dump $tmp/l.hsrec >$tmp/l.json
bound=$(stat -c %i $S/rfl)
if [ $rc = 0 ] && [ "$(grep -c '"type":"limit"' $tmp/l.json)" = 1 ] &&
	jq_true -s --arg h $H --argjson b $bound '
	([.[] | select(.type == "alloc" and .err != 0)]) as $f |
	($f | length) == 1 and $f[0].err == -11 and $f[0].fail_class == 4 and
	([.[] | select(.type == "limit")][0] | .backend == 2 and .bound_cgroup_id == $b and
	 .heap == $h and .requested == 2097152 and .usage == 3145728 and .limit == 4194304 and
	 .pid == $f[0].pid and .cgroup_id == $f[0].cgroup_id and .ts == $f[0].ts)' $tmp/l.json; then
	pass "a dmem refusal: one limit record, /rfl's dmem.max bound, usage 3M, limit 4M"
else
	fail "a dmem refusal: one limit record, /rfl's dmem.max bound, usage 3M, limit 4M" \
		"exit $rc, /rfl $bound: $(cat $tmp/l.out; grep -v snap $tmp/l.json)"
fi
heapstat analyze $tmp/l.hsrec >/dev/null 2>&1
rc=$?
[ $rc = 0 ] && pass "analyze reads the limit record" || fail "analyze reads the limit record" "exit $rc"
reap_records /rfl
heapstat limit clear /rfl $H
rmdir $S/rfl

# --flight 50: 200 allocations held by a child, then one that fails (more
# than the 128 MiB CMA area, refused before any page is taken): one file,
# the last 50 events (each allocation comes with the fd made for its buffer,
# just before it: the last 25 of each) and the failure
mkdir $tmp/fl
heapstat record --flight 50 -o $tmp/fl -- sh -c "
	dmabuf_alloc -H system -s 4K -n 200 --background -w 60 -R $tmp/fbg
	dmabuf_alloc -H $H -s 256M 2>/dev/null
	exit 3" >$tmp/f.out 2>&1
rc=$?
set -- $tmp/fl/heapstat-*-alloc-failed.hsrec
f=$1
rec_dump "$f" >$tmp/f.json 2>&1
if [ $rc = 3 ] && [ $# = 1 ] && [ -f "$f" ] && [ "$(ls $tmp/fl | wc -l)" = 1 ] &&
	grep -qx "heapstat record: wrote $f (alloc-failed, 51 events)" $tmp/f.out &&
	[ "$(events $tmp/f.json)" = 51 ] &&
	jq_true -s '[.[] | select(.type == "alloc")] as $a | ($a | length) == 26 and
	([$a[0:25][] | .err == 0 and .requested == 4096] | all) and $a[25].err == -12 and
	($a[0:25] | map(.ino) | unique | length) == 25 and
	([.[] | select(.type == "fd")] | map(.ino)) == ($a[0:25] | map(.ino)) and
	([.[] | select(.type == "fd") | .kind == 4] | all) and
	([.[] | select(.type == "snapshot-end")][0].buffers >= 200) and
	([.[] | select(.type == "process")] | length) >= 2 and .[-1].type == "eof" and
	.[-1].truncated == false and .[-2].type == "end"' $tmp/f.json; then
	pass "--flight 50: one file, the last 50 events and the failure"
else
	fail "--flight 50: one file, the last 50 events and the failure" \
		"exit $rc, files: $(ls $tmp/fl): $(cat $tmp/f.out; grep -v snap $tmp/f.json | tail -5)"
fi
# the 200 allocations are in order: the file's are the last 50 (inodes rise)
first=$(jq -s '[.[] | select(.type == "alloc" and .err == 0)][0].ino' $tmp/f.json)
last=$(jq -s '[.[] | select(.type == "alloc" and .err == 0)][-1].ino' $tmp/f.json)
[ -n "$first" ] && [ "$((last - first))" = 24 ] && pass "--flight 50: the last 50, in order" ||
	fail "--flight 50: the last 50, in order" "inodes $first to $last"
heapstat analyze -j "$f" >$tmp/fa.json 2>$tmp/fa.err
rc=$?
[ $rc = 0 ] && jq_true '.failed_allocations == 1 and .recording.truncated == false' $tmp/fa.json &&
	pass "--flight: the file is analysable" ||
	fail "--flight: the file is analysable" "exit $rc: $(cat $tmp/fa.err)"
reap_records ""

# SIGUSR1: a file of what was kept; a second within the second: none, counted
mkdir $tmp/fu
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record --flight 10 -o $tmp/fu -d 60 >$tmp/u.out 2>&1 &
rp=$!
wait_ready $rs $rp
dmabuf_alloc -H system -s 4K -n 3
sleep 0.5
kill -USR1 $rp
# the second once the first is begun (its file made): it comes while the
# first is written, or within a second of its end however slow the guest
wait_while '[ -z "$(ls $tmp/fu)" ]'
kill -USR1 $rp
sleep 0.5
kill -INT $rp
wait $rp
rc=$?
set -- $tmp/fu/heapstat-*-sigusr1.hsrec
rec_dump "$1" >$tmp/u.json 2>&1
if [ $rc = 0 ] && [ $# = 1 ] && [ -f "$1" ] && [ "$(ls $tmp/fu | wc -l)" = 1 ] &&
	[ "$(events $tmp/u.json)" = 9 ] &&
	[ "$(grep -c '"type":"alloc"' $tmp/u.json)" = 3 ] &&
	[ "$(grep -c '"type":"release"' $tmp/u.json)" = 3 ] &&
	[ "$(grep -c '"type":"fd"' $tmp/u.json)" = 3 ] &&
	grep -q "^heapstat record: wrote $1 (sigusr1, 9 events)" $tmp/u.out &&
	grep -q "1 files written, 1 triggers within a second of a file not written" $tmp/u.out &&
	heapstat analyze "$1" >/dev/null 2>&1; then
	pass "SIGUSR1: one file of 3 allocations, their fds and releases, the second signal counted"
else
	fail "SIGUSR1: one file of 3 allocations, their fds and releases, the second signal counted" \
		"exit $rc: $(ls $tmp/fu; cat $tmp/u.out; grep -v snap $tmp/u.json)"
fi

# SIGUSR1 amid churn (a buffer allocated and freed every 2 ms): a buffer
# released before the file's snapshot reached it is released in the file,
# no leak the snapshot shows gone; twice
mkdir $tmp/fc
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record --flight 1000 -o $tmp/fc -d 60 >$tmp/c.out 2>&1 &
rp=$!
wait_ready $rs $rp
dmabuf_alloc -H system -s 4K -n 8 --churn 60 -p 2 2>/dev/null &
churn=$!
sleep 1
kill -USR1 $rp
# a file a second at most, from the end of the last: the second once the
# first is written, however slow the guest
wait_while '! grep -q "^heapstat record: wrote" $tmp/c.out && kill -0 $rp 2>/dev/null'
sleep 1.2
kill -USR1 $rp
wait_while '[ "$(grep -c "^heapstat record: wrote" $tmp/c.out)" -lt 2 ] && kill -0 $rp 2>/dev/null'
kill $churn
wait $churn 2>/dev/null
kill -INT $rp
wait $rp
rc=$?
bad=
for f in $tmp/fc/heapstat-*-sigusr1.hsrec; do
	bad="$bad$(heapstat analyze -j "$f" 2>/dev/null | jq -c '[.recording.truncated,
		([.leaks[] | select(.in_final_snapshot | not)] | length)]')"
done
[ $rc = 0 ] && [ "$bad" = "[false,0][false,0]" ] &&
	pass "SIGUSR1 amid churn: each file's leaks in its snapshot, the releases before it in it" ||
	fail "SIGUSR1 amid churn: each file's leaks in its snapshot, the releases before it in it" \
		"exit $rc: $bad: $(ls $tmp/fc; cat $tmp/c.out)"

# a refused allocation whose process then exits at once, releasing what it
# held (the usual trigger): each file's buffers are in its snapshot (the
# process not gone yet) or released in it (the releases until its walk
# ended follow the snapshot), so no buffer reads as a leak that the
# snapshot shows gone
mkdir -p $S/fll $tmp/fx
heapstat limit set /fll $H 2M || fail "limit set" "dmem.max of /fll"
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record --flight 50 -o $tmp/fx -d 60 >$tmp/x.out 2>&1 &
rp=$!
wait_ready $rs $rp
for i in 1 2 3; do
	sh -c "echo \$\$ >$S/fll/cgroup.procs; exec dmabuf_alloc -H $H -s 1M -n 3" 2>/dev/null
	sleep 1.2	# a file a second at most
done
kill -INT $rp
wait $rp
rc=$?
n=0 bad=
for f in $tmp/fx/heapstat-*.hsrec; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	heapstat analyze -j "$f" >$tmp/xa.json 2>$tmp/xa.err
	a=$?
	jq_true '.failed_allocations >= 1 and
		([.leaks[] | select(.in_final_snapshot | not)] | length) == 0' $tmp/xa.json ||
		bad="$bad $f: exit $a: $(cat $tmp/xa.err; jq -c '[.failed_allocations, .leaks]' $tmp/xa.json)"
done
if [ $rc = 0 ] && [ $n -ge 2 ] && [ -z "$bad" ]; then
	pass "--flight: a refused process's buffers released after the trigger: released in its files, no leak ($n files)"
else
	fail "--flight: a refused process's buffers released after the trigger: released in its files, no leak" \
		"exit $rc, $n files:$bad: $(cat $tmp/x.out)"
fi
heapstat limit clear /fll $H
rmdir $S/fll

# a file that cannot be written (its directory gone): said, once a second
# at most, and recording goes on, the next file written; the exit says one
# was not
mkdir $tmp/fw
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record --flight 5 -o $tmp/fw -d 60 >$tmp/w.out 2>&1 &
rp=$!
wait_ready $rs $rp
rmdir $tmp/fw
kill -USR1 $rp
wait_while '! grep -q "failed to write a flight recording" $tmp/w.out && kill -0 $rp 2>/dev/null'
kill -USR1 $rp	# within the second of that failure: counted, not tried (nor said) again
sleep 0.3
mkdir $tmp/fw
sleep 1.2
kill -0 $rp 2>/dev/null && alive=yes || alive=no
kill -USR1 $rp
wait_while '[ -z "$(ls $tmp/fw)" ] && kill -0 $rp 2>/dev/null'
kill -INT $rp
wait $rp
rc=$?
set -- $tmp/fw/heapstat-*-sigusr1.hsrec
if [ $rc = 1 ] && [ $alive = yes ] && [ $# = 1 ] && [ -f "$1" ] &&
	heapstat analyze "$1" >/dev/null 2>&1 &&
	[ "$(grep -c 'failed to write a flight recording' $tmp/w.out)" = 1 ] &&
	grep -q "^heapstat record: 1 flight recordings could not be written" $tmp/w.out; then
	pass "--flight: a file not written is said, recording goes on, exit 1"
else
	fail "--flight: a file not written is said, recording goes on, exit 1" \
		"exit $rc, alive after: $alive: $(ls $tmp/fw; cat $tmp/w.out)"
fi

# a directory that is not one, or not there: exit 2 and why
touch $tmp/file
heapstat record --flight 5 -o $tmp/file -- true 2>$tmp/d1.err; r1=$?
heapstat record --flight 5 -o $tmp/none -- true 2>$tmp/d2.err; r2=$?
heapstat record --flight 5 -- true 2>$tmp/d3.err; r3=$?
[ $r1 = 2 ] && [ $r2 = 2 ] && [ $r3 = 2 ] && grep -q "is none" $tmp/d1.err &&
	grep -q "is none" $tmp/d2.err && grep -q "with -o DIR" $tmp/d3.err &&
	pass "--flight: no directory, exit 2" ||
	fail "--flight: no directory, exit 2" "$r1 $r2 $r3: $(cat $tmp/d1.err $tmp/d2.err $tmp/d3.err)"
rm -rf $tmp
