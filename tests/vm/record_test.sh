#!/bin/sh
# heapstat record and analyze on a run with known behaviour: in a cgroup
# limited to 8 MiB of default_cma_region, a command allocates four 1 MiB
# system-heap buffers and frees them, leaks three 2 MiB CMA-heap buffers to a
# child it leaves behind, and fails one 4 MiB allocation on the limit.
# analyze must find exactly those leaks and who holds them, the exact peaks,
# the failure's class, gate CI with --fail-on, and analyse a recording whose
# recorder was killed up to its cut (exit 3). record exits with CMD's status,
# 124 when it stopped first (-d), which the recording says. A whole-system
# recording ended amid churn: every leak in the final snapshot (a buffer
# released while it was walked is no leak). Upstream's dmabuf-heaps
# kselftest recorded: no leak, nothing lost. A second recording to a file
# being written is refused.
. "$(dirname "$0")/../lib.sh"
S=/sys/fs/cgroup
H=default_cma_region
M=1048576
tmp=$(mktemp -d)
pass() { echo "PASS: record: $1"; }
fail() { echo "FAIL: record: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: record: no heap $H (scripts/vm --load-heaps)"; exit 0; }

mkdir -p $S/rec
heapstat limit set /rec $H 8M
sh -c "echo \$\$ >$S/rec/cgroup.procs; exec heapstat -v record -o $tmp/r1 -- sh -c '
	dmabuf_alloc -H system -s 1M -n 4 -r 2
	dmabuf_alloc -H $H -s 2M -n 3 --background -w 60 -R $tmp/bg
	dmabuf_alloc -H $H -s 4M 2>/dev/null
	exit 5'" >$tmp/out 2>&1
rc=$?
[ $rc = 5 ] && [ -s $tmp/r1 ] && pass "record exits with the command's status" ||
	fail "record exits with the command's status" "exit $rc: $(cat $tmp/out)"

heapstat analyze $tmp/r1 -j >$tmp/a.json 2>$tmp/a.err
rc=$?
bg=$(jq -r '.leaks[0].held_by' $tmp/a.json)
if [ $rc = 0 ] && jq_true --arg h $H '.recording.exit == 5 and .recording.truncated == false and
	.recording.drops == 0 and (.leaks | length) == 3 and .leaked_bytes == 6291456 and
	([.leaks[] | .heap == $h and .bytes == 2097152 and .comm == "dmabuf_alloc" and
	  (.cgroup | startswith("/rec/heapstat-record-")) and .in_final_snapshot and .holders == 1 and
	  .held_by != .pid] | all) and ([.leaks[].held_by] | unique | length) == 1 and
	([.peaks[] | select(.cgroup == null and .heap == $h)][0].peak_bytes == 6291456) and
	([.peaks[] | select(.cgroup == null and .heap == "system")][0].peak_bytes == 4194304) and
	.failures.limit == 1 and .failed_allocations == 1' $tmp/a.json >/dev/null &&
	[ "$(cat /proc/$bg/comm 2>/dev/null)" = dmabuf_alloc ]; then
	pass "analyze: the 3 leaks and their holder, the peaks, the limit failure"
else
	fail "analyze: the 3 leaks and their holder, the peaks, the limit failure" \
		"exit $rc: $(cat $tmp/a.err $tmp/a.json)"
fi
# -v: the file's format, and where its snapshots read the buffers, as record -v said
src=$(sed -n 's/^heapstat record: buffers from \([^,]*\), .*/\1/p' $tmp/out)
heapstat analyze -v $tmp/r1 2>&1 >/dev/null | grep -v '^libbpf: ' >$tmp/v.err
[ -n "$src" ] && [ "$(cat $tmp/v.err)" = "heapstat analyze: $tmp/r1: format 1.5; buffers from $src at the start, $src at the end" ] &&
	pass "analyze -v: the format, the snapshots' sources as record -v said ($src)" ||
	fail "analyze -v: the format, the snapshots' sources as record -v said" \
		"record: '$src', analyze: $(cat $tmp/v.err)"
heapstat analyze $tmp/r1 >$tmp/a.txt 2>&1
grep -q "^LEAKS: 3 buffers, 6.0M" $tmp/a.txt && grep -q "^FAILURES: 1 .* limit 1" $tmp/a.txt &&
	[ "$(grep -c " $H .*2.0M .*dmabuf_alloc .*/rec/heapstat-record-.* pid $bg\$" $tmp/a.txt)" = 3 ] &&
	pass "analyze: the same as a table" || fail "analyze: the same as a table" "$(cat $tmp/a.txt)"

# CI gates: each check fails alone, and passes when it holds
heapstat analyze $tmp/r1 --fail-on leaks >/dev/null 2>$tmp/e1; r1=$?
heapstat analyze $tmp/r1 --fail-on failures >/dev/null 2>$tmp/e2; r2=$?
heapstat analyze $tmp/r1 --fail-on peak:system\>3M >/dev/null 2>$tmp/e3; r3=$?
heapstat analyze $tmp/r1 --fail-on peak:system\>4M,peak:$H\>6M >/dev/null 2>$tmp/e4; r4=$?
[ $r1 = 1 ] && grep -q "leaks: 3 buffers, 6.0M" $tmp/e1 && [ $r2 = 1 ] && [ $r3 = 1 ] &&
	grep -q "peak:system: 4.0M over 3.0M" $tmp/e3 && [ $r4 = 0 ] &&
	pass "--fail-on: leaks, failures, peak:HEAP>SIZE" ||
	fail "--fail-on: leaks, failures, peak:HEAP>SIZE" "$r1 $r2 $r3 $r4: $(cat $tmp/e1 $tmp/e2 $tmp/e3 $tmp/e4)"
kill $bg 2>/dev/null

# the recorder killed with -9: analysed up to its cut, exit 3
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/r2 -d 60 >/dev/null 2>&1 &
rp=$!
wait_ready $rs $rp
dmabuf_alloc -H system -s 64K -n 50
sleep 1
kill -9 $rp
wait $rp 2>/dev/null
heapstat analyze $tmp/r2 -j >$tmp/b.json 2>$tmp/b.err
rc=$?
[ $rc = 3 ] && grep -q "cut short" $tmp/b.err && jq_true '.recording.truncated and .recording.events >= 50' \
	$tmp/b.json >/dev/null && pass "a recorder killed with -9: analysed up to the cut, exit 3" ||
	fail "a recorder killed with -9: analysed up to the cut, exit 3" "exit $rc: $(cat $tmp/b.err $tmp/b.json)"

# fds and mappings: an fd made for each of 3 buffers, each mapped once, and
# with the test importer loaded, 2 more taken by the kernel from their fds
heapstat record -o $tmp/r5 -- dmabuf_alloc -H system -s 64K -n 3 -m >/dev/null 2>&1
taken=0
if [ -e /sys/kernel/debug/heapstat_importer ]; then
	heapstat record -o $tmp/r6 -- dmabuf_alloc -H system -s 64K -n 2 \
		-K /sys/kernel/debug/heapstat_importer >/dev/null 2>&1
	echo drop >/sys/kernel/debug/heapstat_importer
	heapstat analyze $tmp/r6 -j >$tmp/f6.json 2>&1
	taken=$(jq '.fd_events.taken' $tmp/f6.json)
fi
heapstat analyze $tmp/r5 -j >$tmp/f.json 2>&1
jq_true '.fd_events == {"made": 3, "taken": 0, "mappings": 3}' $tmp/f.json >/dev/null &&
	{ [ ! -e /sys/kernel/debug/heapstat_importer ] || [ "$taken" = 2 ]; } &&
	pass "fds: 3 made, 3 mappings; 2 taken by an importer" ||
	fail "fds: 3 made, 3 mappings; 2 taken by an importer" \
		"$(jq -c .fd_events $tmp/f.json) taken $taken"

# NOTIFY_SOCKET told READY=1 before the command starts, which does not inherit it
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/r7 -- sh -c 'echo "[${NOTIFY_SOCKET-unset}]"' \
	>$tmp/n7 2>&1
wait_ready $rs "" $tmp/r7.ready
grep -qx '\[unset\]' $tmp/n7 && grep -qx 'STATUS=recording' $tmp/r7.ready &&
	pass "NOTIFY_SOCKET: READY=1, recording; the command does not inherit it" ||
	fail "NOTIFY_SOCKET: READY=1, recording; the command does not inherit it" \
		"$(cat $tmp/n7) / $(cat $tmp/r7.ready 2>/dev/null)"

# drops forced: the recorder stopped while more events than its ring holds
# are made (three per pair: the fd made for the buffer, trace_bench's alloc
# with its export, the release; no ballast, whose buffers would count;
# a tenth more pairs than asked, its warm-up); continued, it must tell
# exactly how many it lost: recorded + dropped = made
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/r4 >/dev/null 2>&1 &
rp=$!
wait_ready $rs $rp
kill -STOP $rp
TRACE_BENCH_BALLAST=0 trace_bench bare 4096 30000 >/dev/null
kill -CONT $rp
sleep 1
kill -INT $rp
wait $rp
heapstat analyze $tmp/r4 -j >$tmp/d.json 2>$tmp/d.err
ev=$(jq .recording.events $tmp/d.json)
dr=$(jq .recording.drops $tmp/d.json)
[ "$dr" -gt 0 ] 2>/dev/null && [ $((ev + dr)) = 99000 ] &&
	pass "drops forced: $ev recorded + $dr lost = the 99000 events made" ||
	fail "drops forced: recorded + lost = the 99000 events made" "$ev + $dr: $(cat $tmp/d.err)"

# upstream's dmabuf-heaps kselftest recorded, a workload nobody here wrote: it
# frees all it allocates by its exit, nothing is lost, and every allocation
# it made is in the recording (one alloc record per DMA_HEAP_IOCTL_ALLOC that
# reached a heap: as many buffers released as allocated)
if command -v dmabuf-heap >/dev/null; then
	heapstat record -o $tmp/r3 -- dmabuf-heap >/dev/null 2>&1
	heapstat analyze $tmp/r3 -j >$tmp/k.json 2>$tmp/k.err
	rc=$?
	[ $rc = 0 ] && jq_true '.recording.truncated == false and .recording.drops == 0 and
		.recording.events > 100 and (.leaks | length) == 0 and .leaked_bytes == 0 and
		([.peaks[] | select(.cgroup == null)] | length) >= 4' $tmp/k.json >/dev/null &&
		pass "the dmabuf-heaps kselftest recorded: no leak, nothing lost, every heap" ||
		fail "the dmabuf-heaps kselftest recorded: no leak, nothing lost, every heap" \
			"exit $rc: $(cat $tmp/k.err; head -c 2000 $tmp/k.json)"
fi

# stopped by -d before the command ended: 124, as timeout's, and the
# recording says so (JSON, text, the JUnit testcase "recording" failing)
sh -c "echo \$\$ >$S/rec/cgroup.procs; exec heapstat record -d 1 -o $tmp/run -- sh -c 'dmabuf_alloc -H system -s 4K -w 30'" \
	>$tmp/out 2>&1
rc=$?
heapstat analyze $tmp/run -j >$tmp/run.json 2>/dev/null
heapstat analyze $tmp/run --junit $tmp/run.xml >$tmp/run.txt 2>&1
if [ $rc = 124 ] && grep -q "stopped before sh exited" $tmp/out &&
	jq_true '.recording.command_running and .recording.exit == null and .recording.signal == null' \
	$tmp/run.json >/dev/null && grep -q "(still running when the recording stopped)" $tmp/run.txt &&
	grep -q '<failure message="[^"]*" type="command-running">' $tmp/run.xml; then
	pass "record -d before the command ended: 124, the recording says it was still running"
else
	fail "record -d before the command ended: 124, the recording says it was still running" \
		"exit $rc: $(cat $tmp/out) $(jq -c .recording $tmp/run.json) $(grep -A2 'name="recording"' $tmp/run.xml)"
fi
reap_records /rec

# stopped before the command started (a SIGINT while the recording's FIFO
# waits for its reader): 124, the command not run, and the recording says so
mkfifo $tmp/fifo
heapstat record -o $tmp/fifo -- touch $tmp/ran >$tmp/out 2>&1 &
rp=$!
wait_while '[ "$(cat /proc/$rp/wchan 2>/dev/null)" != wait_for_partner ]'
kill -INT $rp
cat $tmp/fifo >$tmp/nr
wait $rp
rc=$?
heapstat analyze $tmp/nr -j >$tmp/nr.json 2>/dev/null
heapstat analyze $tmp/nr --junit $tmp/nr.xml >$tmp/nr.txt 2>&1
if [ $rc = 124 ] && [ ! -e $tmp/ran ] && grep -q "stopped before touch started: not run" $tmp/out &&
	jq_true '.recording.command_not_started and (.recording.command_running | not) and
	.recording.exit == null' $tmp/nr.json >/dev/null &&
	grep -q "(not run: the recording stopped before it started)" $tmp/nr.txt &&
	grep -q '<failure message="[^"]*" type="command-not-started">' $tmp/nr.xml; then
	pass "record stopped before the command started: 124, not run, the recording says so"
else
	fail "record stopped before the command started: 124, not run, the recording says so" \
		"exit $rc: $(cat $tmp/out) $(jq -c .recording $tmp/nr.json) $(cat $tmp/nr.txt)"
fi

# a FIFO whose reader waits first (a pipeline's): the recording reaches it
# whole, nothing opened and closed on it before
mkfifo $tmp/fifo2
cat $tmp/fifo2 >$tmp/piped &
cp=$!
timeout -s KILL 60 heapstat record -o $tmp/fifo2 -d 0.5 >/dev/null 2>$tmp/pe
rc=$?
wait $cp
heapstat analyze -j $tmp/piped >$tmp/piped.json 2>>$tmp/pe
ra=$?
[ $rc = 0 ] && [ $ra = 0 ] && jq_true '.recording.truncated == false' $tmp/piped.json >/dev/null &&
	pass "record -o a FIFO whose reader waits: the recording whole" ||
	fail "record -o a FIFO whose reader waits: the recording whole" "exit $rc, analyze $ra: $(cat $tmp/pe)"

# a whole-system recording ended amid churn (a buffer allocated and freed
# every 2 ms): the releases drained after the final snapshot are the
# recording's, so each leak is one the snapshot has; twice. And once begun
# amid it, 30 ms between the collector's programs' attaches (a test's knob):
# the releases' hook is attached before the allocations', so no buffer
# allocated while attaching is released unseen (a leak in no snapshot)
dmabuf_alloc -H system -s 4K -n 8 --churn 60 -p 2 2>/dev/null &
churn=$!
bad= why=
for i in 1 2 3; do
	pause=
	[ $i = 3 ] && pause=30
	HEAPSTAT_TEST_ATTACH_PAUSE_MS=$pause heapstat record -d 1 -o $tmp/w$i >/dev/null 2>&1
	heapstat analyze $tmp/w$i -j >$tmp/w$i.json 2>/dev/null
	bad="$bad$(jq -c '[.recording.truncated, ([.leaks[] | select(.in_final_snapshot | not)] | length)]' \
		$tmp/w$i.json)"
	# what to tell it by, if it fails: the events lost, the leaks not in the snapshot
	why="$why $(jq -c '[.recording.drops, [.leaks[] | select(.in_final_snapshot | not)]]' $tmp/w$i.json)"
done
kill $churn
wait $churn 2>/dev/null
[ "$bad" = "[false,0][false,0][false,0]" ] &&
	pass "whole-system recording begun and ended amid churn: every leak in the final snapshot" ||
	fail "whole-system recording begun and ended amid churn: every leak in the final snapshot" "$bad:$why"

# two recordings to one file (two CI jobs' -o alike): the second refused,
# exit 2, the first's recording left whole
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/same -d 4 >$tmp/s1.out 2>&1 &
rp=$!
wait_ready $rs $rp
dmabuf_alloc -H system -s 4K -n 3
heapstat record -o $tmp/same -d 1 >/dev/null 2>$tmp/s2.err
r2=$?
wait $rp
r1=$?
heapstat analyze -j $tmp/same >$tmp/same.json 2>$tmp/sa.err
ra=$?
if [ $r1 = 0 ] && [ $r2 = 2 ] && [ $ra = 0 ] &&
	grep -qx "heapstat record: $tmp/same is being written by another recording" $tmp/s2.err &&
	jq_true '.recording.truncated == false and .fd_events.made >= 3' $tmp/same.json >/dev/null; then
	pass "two recordings to one file: the second refused (exit 2), the first whole"
else
	fail "two recordings to one file: the second refused (exit 2), the first whole" \
		"exits $r1 $r2, analyze $ra: $(cat $tmp/s1.out $tmp/s2.err $tmp/sa.err; jq -c .recording $tmp/same.json)"
fi

# a command line longer than a recording's string (64 KiB): recorded, the
# header's command cut and saying how much more there was
long=$(head -c 70000 /dev/zero | tr '\0' x)
heapstat record -o $tmp/long.rec -- sh -c 'exit 4' sh "$long" 2>$tmp/long.err
rc=$?
heapstat analyze -j $tmp/long.rec >$tmp/long.json 2>>$tmp/long.err
# "sh -c exit 4 sh " and the 70000 bytes, cut at 64 KiB less the 40 the end takes
tail=" ... ($((16 + 70000 - 65496)) bytes more)"
[ $rc = 4 ] && jq_true --arg t "$tail" '.recording.command | startswith("sh -c exit 4 sh xxx") and
	endswith($t) and length == 65496 + ($t | length)' $tmp/long.json >/dev/null &&
	pass "a command line past 64 KiB: recorded, the command cut and said so" ||
	fail "a command line past 64 KiB: recorded, the command cut and said so" \
		"exit $rc: $(cat $tmp/long.err) $(jq -c '.recording.command | .[-60:]' $tmp/long.json)"

# the disk full while the command runs (a tmpfs of 32 KiB, 900 allocations
# and their releases): said then, and the command runs to its end,
# unrecorded; heapstat exits 1 after it, saying its status
mkdir $tmp/small
mount -t tmpfs -o size=32k none $tmp/small
heapstat record -o $tmp/small/r -- sh -c "dmabuf_alloc -H system -s 4K -n 900; sleep 1; touch $tmp/ended; exit 7" \
	>$tmp/enospc 2>&1
rc=$?
[ -e $tmp/ended ] && ended=yes || ended=no
if [ $rc = 1 ] && [ $ended = yes ] && grep -q "No space left on device" $tmp/enospc &&
	grep -q "^heapstat record: sh exited with 7, unrecorded since" $tmp/enospc; then
	pass "the disk full: said, the command runs to its end, then exit 1"
else
	fail "the disk full: said, the command runs to its end, then exit 1" \
		"exit $rc, the command ended when heapstat did: $ended: $(cat $tmp/enospc)"
fi
sleep 1.5
umount $tmp/small
reap_records ""

# bad input: a clear message, exit 2
for args in "record" "record -o" "analyze" "analyze /nonexistent" "analyze /etc/passwd" \
	"analyze $tmp/r1 --fail-on bogus" "record -o $tmp/x -c /nosuch -d 1"; do
	heapstat $args >/dev/null 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && [ -s $tmp/e ] && pass "refuses '$args'" || fail "refuses '$args'" "exit $rc: $(cat $tmp/e)"
done

heapstat limit clear /rec
reap_records /rec
rmdir $S/rec 2>/dev/null
rm -rf "$tmp"
