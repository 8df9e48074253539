#!/bin/sh
# heaptop keeps its inventory between frames and applies what the collector
# logged: each traced change (allocations and frees, fork, mmap, cgroup move,
# exit, exec of a holder, the final release of what it held) shows in the
# next frames of a heaptop that walks everything again on its own only at
# its second frame (once exit_files()'s hook is attached), without a whole
# walk; frames without
# events keep the inventory; an untraced change (munmap) shows once the
# rescan interval has passed, and the rescan's check counts it, and nothing
# else, as a difference. On the system heap, which charges nothing, the
# models of the frames name cgroups without walking the cgroup tree again
# unless a cgroup came or went.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
MiB=1048576
pass() { echo "PASS: top_holders: $1"; }
fail() { echo "FAIL: top_holders: $1: $2"; }
mkdir -p $S/hold
sh -c "echo \$\$ >$S/hold/cgroup.procs; exec dmabuf_alloc -H system -s 1M -n 2 --signals -w 300 -R $tmp/r" &
owner=$!
wait_while '[ ! -e "$tmp/r" ]'

heaptop -j -d 0.5 --rescan 3600 >"$tmp/f" 2>"$tmp/err" &
top=$!
heaptop -j -d 0.5 --rescan 1 >"$tmp/p" 2>"$tmp/perr" &
top2=$!
frames() { wc -l <"$tmp/f"; }
# after an action: the frame that took the inventory again, and two more;
# settle N: the frames since frame N (taken before an action waited for)
settle() {
	n=$(frames)
	wait_frames $((n + 3))
	last=$(last_line "$tmp/f")
	since=$(whole_lines "$tmp/f" | tail -n +$((${1:-$n} + 1)) | jq -M -r .inventory | tr '\n' ' ')
}
proc() {	# proc PID: the process's entry in the last frame, or null
	echo "$last" | jq -M -c --argjson p "$1" '[.processes[] | select(.pid == $p)][0]'
}
check() {	# check WHAT JQ-FILTER INPUT
	if echo "$3" | jq_true "$2" >/dev/null 2>&1; then pass "$1"
	else fail "$1" "$3 (inventory since: $since)"; fi
}
# the frames since the action applied changes, and none walked whole
applied() {
	echo " $since " | grep -q ' changes ' &&
		! echo " $since " | grep -qE ' (first|periodic|lost|attachments|processes|walk|untraced) ' &&
		pass "$1: applied, not walked" || fail "$1: applied, not walked" "inventory since: $since"
}
stats() {	# stats FILE: the last frame's inventory_stats
	last_line "$1" | jq -M -c .inventory_stats
}

wait_frames 4
last=$(last_line "$tmp/f")
check "the owner holds two 1 MiB buffers by fd" '.fd_bytes == 2097152 and .map_bytes == 0' "$(proc $owner)"
# the second frame walks whole again: exit_files()'s hook attached after the first
kept=$(whole_lines "$tmp/f" | tail -n +3 | jq -M -r .inventory | grep -c '^kept$')
[ "$(head -n 2 "$tmp/f" | jq -M -r .inventory | tr '\n' ' ')" = "first exits " ] && [ "$kept" -ge 2 ] &&
	pass "frames without events keep the inventory" ||
	fail "frames without events keep the inventory" "$(jq -M -r .inventory "$tmp/f" | tr '\n' ' ')"

# 4 KiB buffers allocated and freed every millisecond for 3 s, 10 live
s0=$(stats "$tmp/f")
mkdir $S/hold/churn
sh -c "echo \$\$ >$S/hold/churn/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 10 --churn 3 -p 1" &
churn=$!
n0=$(frames)	# its changes may all be applied before it is waited for
wait $churn
rmdir $S/hold/churn
settle $n0
applied "churn"
check "churn: nothing walked whole after the second frame" '.walks == 2 and .updates >= 2' "$(stats "$tmp/f")"
check "churn: the periodic checks found no difference" \
	'.checks >= 2 and .differences == 0 and .last_difference == null' "$(stats "$tmp/p")"
check "churn: its buffers gone with it" \
	'[.processes[] | select(.pid == '$churn')] == [] and ([.rows[] | select(.cgroup == "/hold/churn" and .bytes > 0)] == [])' "$last"
# the system heap charges nothing: the churn's models name cgroups from the
# tree as walked when its cgroup came, not walked again for each
s1=$(stats "$tmp/f")
check "churn: models built without walking the cgroup tree again" \
	'(.[1].models - .[0].models) - (.[1].cgroup_walks - .[0].cgroup_walks) >= 2' "[$s0,$s1]"

# the changes kept between frames are bounded (a paused view, a long
# interval): past them the log counts as lost, and the next frame walks whole
# (50 here; 64k without HEAPSTAT_TEST_LIVE_CHANGES) instead of keeping more
HEAPSTAT_TEST_LIVE_CHANGES=50 heaptop -j -d 1 --rescan 3600 >"$tmp/b" 2>"$tmp/berr" &
btop=$!
frames() { wc -l <"$tmp/b"; }
wait_frames 2
sh -c "echo \$\$ >$S/hold/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 10 --churn 1 -p 1"
nb=$(frames)
wait_frames $((nb + 2))
since=$(whole_lines "$tmp/b" | tail -n +$((nb + 1)) | jq -M -r .inventory | tr '\n' ' ')
kill $btop
wait $btop
frames() { wc -l <"$tmp/f"; }
echo " $since " | grep -q ' lost ' && ! echo " $since " | grep -q ' changes ' &&
	pass "more changes than kept between frames: the log lost, the frame walks whole" ||
	fail "more changes than kept between frames: the log lost, the frame walks whole" \
		"inventory since: $since $(cat "$tmp/berr")"

# the forks can be applied while the test waits for the children: the frames from before
n0=$(frames)
kill -USR1 $owner
wait_while '[ ! -s "$tmp/r.children" ]'
kill -USR1 $owner
wait_while '[ "$(wc -l <"$tmp/r.children")" -lt 2 ]'
c1=$(sed -n 1p "$tmp/r.children") c2=$(sed -n 2p "$tmp/r.children")
settle $n0
# two 1 MiB buffers' thirds, 699050.67 bytes, rounded once
check "fork: both children hold the buffers, PSS split three ways" \
	".fd_bytes == 2097152 and .pss_bytes == 699051" "$(proc $c1)"
check "fork: the second child" '.fd_bytes == 2097152' "$(proc $c2)"
applied "fork"

n0=$(frames)
kill -USR2 $owner
settle $n0
check "mmap: the owner's mappings" '.map_bytes == 2097152' "$(proc $owner)"
applied "mmap"

n0=$(frames)	# the move is at once: its frame may come before settle looks
mkdir $S/hold2	# made while heaptop runs: its tree walked again
echo $c1 >$S/hold2/cgroup.procs
settle $n0
row=$(echo "$last" | jq -M -c '[.rows[] | select(.cgroup == "/hold2" and .heap == "system")][0]')
check "cgroup move: a row for the child's new cgroup, made since the start" '.bytes == 2097152 and .buffers == 2' "$row"
applied "cgroup move"

n0=$(frames)
kill $c1
settle $n0
check "exit: the child is gone, PSS split two ways" \
	"(.processes | map(.pid) | index($c1)) == null and
	 (.processes[] | select(.pid == $owner) | .pss_bytes == $MiB)" "$last"
applied "exit"

# unmapping is not traced: only the heaptop rescanning every second sees it
kill -USR2 $owner
settle
check "munmap: kept without an event" '.map_bytes == 2097152' "$(proc $owner)"
i=0
until last_line "$tmp/p" | jq_true --argjson p $owner \
	'.processes[] | select(.pid == $p) | .map_bytes == 0' >/dev/null 2>&1 || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "munmap: seen within the rescan interval" '.map_bytes == 0' \
	"$(last_line "$tmp/p" | jq -M -c --argjson p $owner '[.processes[] | select(.pid == $p)][0]')"
tail -n 5 "$tmp/p" | jq -M -r .inventory | grep -q '^periodic$' &&
	pass "--rescan 1: periodic walks" || fail "--rescan 1: periodic walks" "$(jq -M -r .inventory "$tmp/p" | tr '\n' ' ')"

n0=$(frames)
kill -HUP $owner
settle $n0
check "exec: the owner's fds closed on exec, the second child holds all" \
	"(.processes | map(.pid) | index($owner)) == null and
	 (.processes[] | select(.pid == $c2) | .pss_bytes == 2097152)" "$last"
applied "exec"
check "the munmap, two holds' bytes mapped, is all the checks found" \
	".differences == 2 and .last_difference.pid == $owner and .last_difference.fds == [1, 1] and
	 .last_difference.bytes == [$MiB, 0]" "$(stats "$tmp/p")"
check "without a rescan, two whole walks" '.walks == 2 and .checks == 0' "$(stats "$tmp/f")"

# the last holder closes its fds, which is not traced; its buffers' final
# releases are, and a process left holding only buffers released holds
# nothing: it goes, as a walk would have it
n0=$(frames)
kill -ALRM $c2
settle $n0
check "close: the last holder's buffers released, the holder gone" \
	"(.processes | map(.pid) | index($c2)) == null and
	 ([.rows[] | select(.cgroup == \"/hold\" and .heap == \"system\" and .bytes > 0)] == [])" "$last"
applied "close"
check "close: still two whole walks" '.walks == 2' "$(stats "$tmp/f")"

# the kernel logs a new fd before it installs it, and a frame can walk the
# process between the two: the frame after walks it once more. fd_window
# holds each fd back 300 ms after its tracepoint (frames every 500 ms): four
# processes, one buffer each, one after the other
for i in 1 2 3 4; do
	fd_window 300 sh -c "echo \$\$ >$tmp/w$i.pid; exec dmabuf_alloc -H system -s 1M -w 60 -R $tmp/w$i" \
		2>"$tmp/w$i.err" &
	wait_while '[ ! -e "$tmp/w$i" ]'
	settle
	w=$(cat "$tmp/w$i.pid")
	check "an fd walked before it was installed: seen by the frame after ($i)" \
		".fd_bytes == $MiB" "$(proc $w)"
	kill $w
	wait $!
	grep -q '^fd_window: 1 fds held back 300 ms$' "$tmp/w$i.err" &&
		pass "fd_window held the fd back ($i)" || fail "fd_window held the fd back ($i)" "$(cat "$tmp/w$i.err")"
done

# a holder that closes its buffer and makes another within a frame interval,
# its new fd held back 300 ms: a frame can walk it holding nothing; it stays
# a holder, and its fork right after counts
for i in 1 2 3 4 5; do
	fd_window 300 sh -c "echo \$\$ >$tmp/a$i.pid; exec dmabuf_alloc -H system -s 1M --signals -w 60 -R $tmp/a$i" \
		2>"$tmp/a$i.err" &
	wait_while '[ ! -e "$tmp/a$i" ]'
	settle
	a=$(cat "$tmp/a$i.pid")
	kill -ALRM $a
	wait_while '[ ! -s "$tmp/a$i.done" ]'
	kill -ALRM $a
	wait_while '[ "$(wc -l <"$tmp/a$i.done")" -lt 2 ]'
	kill -USR1 $a
	wait_while '[ ! -s "$tmp/a$i.children" ]'
	ac=$(cat "$tmp/a$i.children")
	settle
	check "a holder's new fd walked before it was installed: its child holds the new buffer ($i)" \
		".fd_bytes == $MiB" "$(proc $ac)"
	kill $a $ac
	wait $!
done

# a holder's child is a holder from its fork: its own fork before a frame
# lists it counts too
dmabuf_alloc -H system -s 1M --signals -w 60 -R "$tmp/n" &
nown=$!
wait_while '[ ! -e "$tmp/n" ]'
settle
kill -USR1 $nown
wait_while '[ ! -s "$tmp/n.children" ]'
n1=$(sed -n 1p "$tmp/n.children")
kill -USR1 $n1
wait_while '[ "$(wc -l <"$tmp/n.children")" -lt 2 ]'
n2=$(sed -n 2p "$tmp/n.children")
settle
check "a child's fork before a frame listed it: the grandchild holds the buffer" \
	".fd_bytes == $MiB" "$(proc $n2)"
kill $nown $n1 $n2
wait $nown
check "fds walked before they were installed, forks before a frame: still two whole walks" \
	'.walks == 2' "$(stats "$tmp/f")"

# buffers kept by O_PATH files alone (their fds closed, which is not traced,
# their final releases logged): the holder's walk for its new fds names them,
# as a whole walk does, so the checks find no more differences than before
d0=$(stats "$tmp/p" | jq -M .differences)
dmabuf_alloc -H system -s 256K -n 2 --path-hold -w 60 -R "$tmp/o" &
opath=$!
wait_while '[ ! -e "$tmp/o" ]'
settle
p0=$(wc -l <"$tmp/p")	# and two checks of the heaptop rescanning every second
wait_while '[ "$(tail -n +$((p0 + 1)) "$tmp/p" | jq -M -r .inventory | grep -c "^periodic$")" -lt 2 ]'
check "O_PATH files alone: their holder holds the buffers" \
	'.fd_bytes == 524288 and .buffers == 2' "$(proc $opath)"
check "O_PATH files alone: the checks found no difference" ".differences == $d0" "$(stats "$tmp/p")"
kill $opath
wait $opath

kill -INT $top $top2
wait $top $top2
[ ! -s "$tmp/err" ] && [ ! -s "$tmp/perr" ] && pass "no errors" ||
	fail "no errors" "$(cat "$tmp/err" "$tmp/perr")"
for a in 0.05 abc -1 3601; do
	heaptop -b -n 1 --rescan $a >/dev/null 2>"$tmp/e"
	rc=$?
	[ $rc = 2 ] && [ -s "$tmp/e" ] && pass "refuses --rescan $a" || fail "refuses --rescan $a" "exit $rc"
done
kill $owner $c2 2>/dev/null
wait
rmdir $S/hold2 $S/hold
rm -rf "$tmp"
