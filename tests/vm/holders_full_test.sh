#!/bin/sh
# The collector's list of holders full (HEAPSTAT_TEST_MAX_HOLDERS=1: one
# process, where there are 8192): a process that takes a buffer when it is
# full cannot be listed by the collector, so every process's forks count
# until heaptop lists the holders again. A second holder forks a child at
# once, before heaptop's next frame: the child shows in the frames after,
# applied from the log, without a walk of everything.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
MiB=1048576
pass() { echo "PASS: holders_full: $1"; }
fail() { echo "FAIL: holders_full: $1: $2"; }
HEAPSTAT_TEST_MAX_HOLDERS=1 heaptop -j -d 0.5 --rescan 3600 >"$tmp/f" 2>"$tmp/err" &
top=$!
frames() { wc -l <"$tmp/f"; }
wait_frames 3
# the first holder fills the list
dmabuf_alloc -H system -s 1M -w 120 -R $tmp/a 2>/dev/null &
a=$!
wait_while '[ ! -e $tmp/a ]'
n0=$(frames)
wait_frames $((n0 + 2))
# the second, and its child forked at once
n0=$(frames)
dmabuf_alloc -H system -s 1M --share 1 -w 120 -R $tmp/b 2>/dev/null &
b=$!
wait_while '[ ! -e $tmp/b ]'
child=$(cat $tmp/b.children)
wait_frames $((n0 + 4))
last=$(last_line "$tmp/f")
since=$(whole_lines "$tmp/f" | tail -n +$((n0 + 1)) | jq -M -r .inventory | tr '\n' ' ')
if echo "$last" | jq_true --argjson c "${child:-0}" --argjson m $MiB \
	'[.processes[] | select(.pid == $c)][0].fd_bytes == $m' >/dev/null 2>&1 &&
	! echo " $since " | grep -qE ' (periodic|lost|walk|untraced) '; then
	pass "a holder the full list could not take: its child's fork logged, the child shown"
else
	fail "a holder the full list could not take: its child's fork logged, the child shown" \
		"child ${child:-?}, inventory since: $since; $(echo "$last" | jq -c '[.processes[] | {pid, fd_bytes}]') $(cat "$tmp/err")"
fi
kill $a $b $top 2>/dev/null
wait 2>/dev/null
rm -rf "$tmp"
