#!/bin/sh
# heapstat record --stacks on a program with known allocations and known
# stacks (tests/vm/leaker.c), in a cgroup limited to 8 MiB of
# default_cma_region: four 1 MiB system-heap buffers and one 1 MiB CMA-heap
# buffer allocated and freed, three CMA-heap buffers of 1, 2 and 3 MiB
# leaked from leak_three() to two children (the first keeps the 3 MiB one,
# the second the others), one 4 MiB allocation refused by the limit in
# fail_one(). analyze must give exactly those leaks and holders, each leak
# and the failure with its stack (the function that allocated, through
# ioctl() in the C library, and the kernel's frames: symbolized while
# recorded), the exact peaks, --fail-on leaks failing; the recording keeps the leaker's build id (set at link time). A
# recording without --stacks has none. What stacks cost in bytes an event.
. "$(dirname "$0")/../lib.sh"
S=/sys/fs/cgroup
H=default_cma_region
M=1048576
BUILD_ID=686561707374617420737461636b73206c65616b	# Makefile: LEAKER_BUILD_ID
tmp=$(mktemp -d)
pass() { echo "PASS: record_stacks: $1"; }
fail() { echo "FAIL: record_stacks: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: record_stacks: no heap $H (scripts/vm --load-heaps)"; exit 0; }
command -v leaker >/dev/null || { echo "FAIL: record_stacks: no leaker (make)"; exit 0; }

mkdir -p $S/rs
heapstat limit set /rs $H 8M >/dev/null
# in the limited cgroup: its children (the command's cgroup) are held to it
record() {
	sh -c "echo \$\$ >$S/rs/cgroup.procs; exec heapstat record $1 -o $2 -- leaker $3" \
		>$2.out 2>&1
}
record --stacks $tmp/s1 $tmp/pids1
rc=$?
read a b <$tmp/pids1 2>/dev/null
[ $rc = 0 ] && [ -s $tmp/s1 ] && [ -n "$b" ] && pass "record --stacks exits with the command's status" ||
	fail "record --stacks exits with the command's status" "exit $rc: $(cat $tmp/s1.out)"

heapstat analyze $tmp/s1 -j >$tmp/a.json 2>$tmp/a.err
rc=$?
# the leaks, oldest first: 1, 2 and 3 MiB
if [ $rc = 0 ] && jq_true --arg h $H --argjson a "${a:-0}" --argjson b "${b:-0}" --argjson m $M '
	.recording.exit == 0 and .recording.truncated == false and .recording.drops == 0 and
	(.leaks | length) == 3 and .leaked_bytes == 6 * $m and
	([.leaks[].bytes] == [$m, 2 * $m, 3 * $m]) and
	([.leaks[] | .heap == $h and .comm == "leaker" and .in_final_snapshot and .holders == 1]
	 | all) and
	([.leaks[].held_by] == [$b, $b, $a]) and
	([.peaks[] | select(.cgroup == null and .heap == $h)][0].peak_bytes == 6 * $m) and
	([.peaks[] | select(.cgroup == null and .heap == "system")][0].peak_bytes == 4 * $m) and
	.failures.limit == 1 and .failed_allocations == 1 and (.failed | length) == 1 and
	.failed[0].class == "limit" and .failed[0].requested_bytes == 4 * $m and
	.failed[0].heap == $h and .failed[0].comm == "leaker"' $tmp/a.json >/dev/null; then
	pass "analyze: the 3 leaks, their holders, the peaks, the limit failure"
else
	fail "analyze: the 3 leaks, their holders, the peaks, the limit failure" \
		"exit $rc, holders $a $b: $(cat $tmp/a.err $tmp/a.json)"
fi

# each stack: the kernel's frames (innermost first, down to the system
# call's entry), then the user's: ioctl() in the C library, then the
# function that called alloc_buf(), then main()
stack_ok() {	# FUNCTION: a jq test of a stack .
	echo '
	([.[] | select(endswith("(vmlinux)"))] | length) >= 2 and
	(map(test("^(__x64_sys_ioctl|__se_sys_ioctl|__do_sys_ioctl)\\+0x[0-9a-f]+ \\(vmlinux\\)$"))
	 | any) and
	(map(test("^entry_SYSCALL_64[a-z_]*\\+0x[0-9a-f]+ \\(vmlinux\\)$")) | any) and
	(index([.[] | select(test("^ioctl\\+0x[0-9a-f]+ \\(/.*libc\\.so\\.6\\)$"))][0]) ==
	 ([.[] | select(endswith("(vmlinux)"))] | length)) and
	(map(test("^'$1'\\+0x[0-9a-f]+ \\(/.*/leaker\\)$")) | index(true)) ==
	 (map(test("^ioctl\\+")) | index(true)) + 1 and
	(map(test("^main\\+0x[0-9a-f]+ \\(/.*/leaker\\)$")) | index(true)) ==
	 (map(test("^ioctl\\+")) | index(true)) + 2'
}
if jq_true "[.leaks[].stack | $(stack_ok leak_three)] | length == 3 and all" $tmp/a.json >/dev/null &&
	jq_true ".failed[0].stack | $(stack_ok fail_one)" $tmp/a.json >/dev/null &&
	jq_true '[.leaks[].stack] | unique | length == 1' $tmp/a.json >/dev/null; then
	pass "analyze: each leak's and the failure's stack: kernel, ioctl(), leak_three/fail_one, main"
else
	fail "analyze: each leak's and the failure's stack: kernel, ioctl(), leak_three/fail_one, main" \
		"$(jq -c '[.leaks[].stack, .failed[].stack]' $tmp/a.json)"
fi
# the collector's own frames (its BPF program, the trampoline) are left out;
# the fexit trampoline stands in dma_heap_ioctl()'s frame: the kernel's
# frames start at the system call
jq_true '[.leaks[0].stack[] | select(test("^(bpf_|dma_heap_ioctl)"))] | length == 0' $tmp/a.json \
	>/dev/null && jq_true '.leaks[0].stack[0] | test("^__x64_sys_ioctl\\+0x[0-9a-f]+ \\(vmlinux\\)$")' \
	$tmp/a.json >/dev/null && pass "analyze: the kernel's frames start at the system call" ||
	fail "analyze: the kernel's frames start at the system call" "$(jq -c '.leaks[0].stack' $tmp/a.json)"

# in the text, the three leaks' one stack is shown under the first, and
# named under the others (a loop's thousand leaks were a thousand copies)
heapstat analyze $tmp/s1 >$tmp/a.txt 2>&1
first=$(jq -r '.leaks[0].inode' $tmp/a.json)
[ "$(grep -c '^        leak_three+0x[0-9a-f]* (/.*/leaker)$' $tmp/a.txt)" = 1 ] &&
	[ "$(grep -c "^        (the stack of inode $first, above)\$" $tmp/a.txt)" = 2 ] &&
	[ "$(grep -c '^        fail_one+0x[0-9a-f]* (/.*/leaker)$' $tmp/a.txt)" = 1 ] &&
	grep -q "^$H .*4.0M .*leaker .*limit at " $tmp/a.txt &&
	pass "analyze: the frames under each leak and failure in the table, a stack shown once" ||
	fail "analyze: the frames under each leak and failure in the table, a stack shown once" \
		"$(cat $tmp/a.txt)"

heapstat analyze $tmp/s1 --fail-on leaks >/dev/null 2>$tmp/e1
rc=$?
[ $rc = 1 ] && grep -q "leaks: 3 buffers, 6.0M" $tmp/e1 && pass "--fail-on leaks: exit 1" ||
	fail "--fail-on leaks: exit 1" "exit $rc: $(cat $tmp/e1)"

# the leaker's build id, as linked, in the recording (a string record)
[ "$(grep -c $BUILD_ID $tmp/s1)" -ge 1 ] && pass "the recording keeps the leaker's build id" ||
	fail "the recording keeps the leaker's build id" "no $BUILD_ID in it"
kill $a $b 2>/dev/null

# without --stacks: the same run, no stack anywhere
record "" $tmp/s2 $tmp/pids2
rc=$?
read a2 b2 <$tmp/pids2 2>/dev/null
heapstat analyze $tmp/s2 -j >$tmp/b.json 2>$tmp/b.err
[ $rc = 0 ] && jq_true '(.leaks | length) == 3 and .failed_allocations == 1 and
	([.leaks[], .failed[] | has("stack")] | any | not)' $tmp/b.json >/dev/null &&
	[ "$(grep -c $BUILD_ID $tmp/s2)" = 0 ] &&
	pass "without --stacks: no stack" ||
	fail "without --stacks: no stack" "exit $rc: $(cat $tmp/s2.out $tmp/b.err $tmp/b.json)"
kill $a2 $b2 2>/dev/null

# what stacks cost: bytes an event, with and without (one stack record per
# distinct stack; an alloc record carries its id)
e1=$(jq .recording.events $tmp/a.json)
e2=$(jq .recording.events $tmp/b.json)
s1=$(wc -c <$tmp/s1)
s2=$(wc -c <$tmp/s2)
echo "# record_stacks: leaker: $s1 bytes for $e1 events with --stacks, $s2 for $e2 without"
if command -v dmabuf_alloc >/dev/null; then
	for st in --stacks ""; do
		heapstat record $st -o $tmp/c$st -- dmabuf_alloc -H system -s 4K -n 1000 -r 1000 \
			>/dev/null 2>&1
		echo "# record_stacks: 1000 allocations and releases ${st:-without stacks}:" \
			"$(wc -c <$tmp/c$st) bytes, $(heapstat analyze $tmp/c$st -j |
			jq .recording.events) events"
	done
fi

# a process that maps a deleted file and put a FIFO where its name (with
# " (deleted)") would be: the symbols are read from the mapping itself
# (map_files), never from that FIFO, whose open would wait for a writer for
# good (heapstat then deaf even to Ctrl-C)
mkdir $tmp/d
cp "$(command -v dmabuf_alloc)" $tmp/d/da
$tmp/d/da -H system -s 4K --signals -w 120 -R $tmp/d/r 2>$tmp/d/err &
da=$!
wait_while '[ ! -e $tmp/d/r ]'
rm $tmp/d/da
mkfifo "$tmp/d/da (deleted)"
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record --stacks -o $tmp/fifo.rec 2>$tmp/fifo.err &
rec=$!
wait_ready "$rs" $rec
kill -ALRM $da	# its fds closed,
wait_while '[ ! -s $tmp/d/r.done ]'
kill -ALRM $da	# and a buffer allocated anew: its stack symbolized
wait_while '[ "$(wc -l <$tmp/d/r.done)" -lt 2 ]'
sleep 1
kill -INT $rec
i=0
while alive $rec && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if alive $rec; then
	kill -9 $rec
	rc=alive
else
	wait $rec
	rc=$?
fi
heapstat analyze -j $tmp/fifo.rec >$tmp/fifo.json 2>>$tmp/fifo.err
[ $rc = 0 ] && jq_true --argjson p $da '[.leaks[] | select(.pid == $p)][0].stack
	| map(select(test("^ioctl\\+0x[0-9a-f]+ \\(.*libc"))) | length == 1' $tmp/fifo.json >/dev/null &&
	pass "a FIFO at a deleted mapping's name: never opened, the stack symbolized, INT ends it" ||
	fail "a FIFO at a deleted mapping's name: never opened, the stack symbolized, INT ends it" \
		"exit $rc: $(cat $tmp/fifo.err) $(jq -c '.leaks' $tmp/fifo.json 2>/dev/null)"
kill $da 2>/dev/null

heapstat limit clear /rs >/dev/null
reap_records /rs
rmdir $S/rs 2>/dev/null
rm -rf "$tmp"
