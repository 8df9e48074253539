#!/bin/sh
# heaptop driven through tmux as a person would, at 80x24 and 200x60: sort,
# filters, view switch, pause, help, interval, a resize, a prompt on a tiny
# terminal, cgroups appearing and vanishing, the terminal given back on q and
# on SIGTERM, and -n.
command -v tmux >/dev/null || { echo "SKIP: top_tmux: no tmux in the guest"; exit 0; }
. "$(dirname "$0")/../lib.sh"
export LC_ALL=C.UTF-8
tmp=$(mktemp -d)
S=/sys/fs/cgroup
size=
pass() { echo "PASS: top_tmux: [$size] $1"; }
fail() { echo "FAIL: top_tmux: [$size] $1: $2"; }
T() { tmux -S "$tmp/sock" "$@"; }
trap "" PIPE
# tmux's commands through one client in control mode (tmux -C), attached to a
# session of its own that the tests' sessions come and go beside: a client
# started per command costs about 95 ms of the guest's emulated time, and the
# screen is looked at some 300 times. ctl ARGS...: the command's output, its
# status (an error's message on stderr)
T new-session -d -s ctl "sleep 3600"
mkfifo "$tmp/ctl.in" "$tmp/ctl.out"
T -C attach -t ctl <"$tmp/ctl.in" >"$tmp/ctl.out" &
ctl_pid=$!
exec 8>"$tmp/ctl.in" 9<"$tmp/ctl.out"
q="'"
ctl() {
	c=
	for a; do c="$c '${a//$q/$q\\$q$q}'"; done
	echo "$c" >&8 || return 1
	# the block of this command (its flags 1: this client's), whole before
	# printing, so that a reader stopping early leaves none of it behind
	while IFS= read -r l <&9; do
		case $l in %begin*\ 1) break ;; %exit*) return 1 ;; esac
	done
	o= n=0
	while IFS= read -r l <&9; do
		case $l in
		%end*) [ $n = 0 ] || printf '%s\n' "$o"; return 0 ;;
		%error*) echo "tmux: $o" >&2; return 1 ;;
		esac
		[ $n = 0 ] && o=$l || o="$o
$l"
		n=$((n + 1))
	done
	return 1
}
screen() { ctl capture-pane -p -t t; }
# until PATTERN is on the screen (or 15 s): 0 if it came
wait_for() {
	i=0
	while ! screen | grep -q -- "$1"; do
		[ $i -lt 150 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}
keys() { ctl send-keys -t t "$@"; }

alloc_in big "$tmp/r1" 300 -H system -s 1M -n 4
big=$!
alloc_in small "$tmp/r2" 300 -H system -s 64K -n 2
small=$!
wait_while '[ ! -e "$tmp/r1" ] || [ ! -e "$tmp/r2" ]'

for size in 80x24 200x60; do
	T new-session -d -s t -x ${size%x*} -y ${size#*x} sh
	keys 'PS1=prompt$\ ' Enter 'stty -g >'"$tmp/stty0" Enter 'heaptop' Enter
	if wait_for '^/big ' && wait_for '^/small '; then
		pass "cgroups view: both cgroups"
	else
		fail "cgroups view: both cgroups" "$(screen)"
	fi
	# sorted by bytes, largest first; s reverses
	order() { screen | grep -o '^/big\|^/small' | tr '\n' ' '; }
	[ "$(order)" = "/big /small " ] && keys s && wait_for 'sort BYTES up' && sleep 0.3 &&
		[ "$(order)" = "/small /big " ] && pass "s reverses the sort" ||
		fail "s reverses the sort" "$(screen)"
	keys s '<' && wait_for 'sort HEAP down' && keys '>' && wait_for 'sort BYTES down' &&
		pass "< > move the sort column" || fail "< > move the sort column" "$(screen)"
	# the table's columns past a narrow screen's edge: Right scrolls them into
	# view (the title and meters stay), Left back
	r12="Right Right Right Right Right Right Right Right Right Right Right Right"
	[ $size != 80x24 ] || { ! screen | grep -q HEADROOM && keys $r12 && wait_for HEADROOM &&
		screen | grep -q '^heaptop - ' && ! screen | grep -q '^CGROUP ' &&
		keys $(echo $r12 | sed 's/Right/Left/g') && wait_for '^CGROUP ' &&
		! screen | grep -q HEADROOM &&
		pass "Right scrolls the table to the columns past the edge, Left back" ||
		fail "Right scrolls the table to the columns past the edge, Left back" "$(screen)"; }
	keys c && wait_for '^cgroup (' && keys /small Enter && wait_for 'cgroup /small' &&
		sleep 0.3 && ! screen | grep -q '^/big ' && screen | grep -q '^/small ' &&
		pass "c filters by cgroup" || fail "c filters by cgroup" "$(screen)"
	# a path refused says why, the filter kept; one naming no cgroup says so
	keys c && wait_for '^cgroup (' && keys camera Enter &&
		wait_for "^cgroup 'camera': give a path from the cgroup2 root" &&
		screen | grep -q ', cgroup /small, 1 shown' && keys c && wait_for '^cgroup (' &&
		keys /nosuch Enter && wait_for ', cgroup /nosuch (no such cgroup), 0 shown' &&
		! screen | grep -q "^cgroup 'camera'" &&
		pass "c: a path refused says why; a path of no cgroup says so" ||
		fail "c: a path refused says why; a path of no cgroup says so" "$(screen)"
	keys c Enter h && wait_for '^heap (' && keys nosuchheap Enter &&
		wait_for 'heap nosuchheap (no such heap), 0 shown' &&
		sleep 0.3 && ! screen | grep -q '^/small \|^/big ' && keys h Enter &&
		wait_for '^/big ' && pass "h filters by heap; empty clears" ||
		fail "h filters by heap; empty clears" "$(screen)"
	keys v && wait_for 'view processes' && wait_for '^ *PID COMM' && keys v &&
		wait_for 'view buffers' && wait_for 'INODE HEAP' && keys v && wait_for 'view cgroups' &&
		pass "v cycles the views" || fail "v cycles the views" "$(screen)"
	keys p && wait_for '\[paused\]' && a=$(screen | head -n 1) && sleep 2.2 &&
		[ "$(screen | head -n 1)" = "$a" ] && keys p && wait_for '^heaptop: resumed' &&
		wait_for '^heaptop - ' && ! screen | grep -q paused &&
		[ "$(screen | head -n 1)" != "$a" ] &&
		pass "p pauses and resumes" || fail "p pauses and resumes" "$(screen)"
	keys '?' && wait_for 'heaptop keys' && ctl resize-window -t t -x 100 -y 30 && sleep 1.5 &&
		screen | grep -q 'heaptop keys' && ctl resize-window -t t -x ${size%x*} -y ${size#*x} &&
		keys x && wait_for '^CGROUP' &&
		pass "? shows the help, through a resize; a key returns" ||
		fail "? shows the help, through a resize; a key returns" "$(screen)"
	keys + && wait_for 'every 2s' && keys - - && wait_for 'every 0.5s' && keys + &&
		wait_for 'every 1s' && pass "+ - change the interval" || fail "+ - change the interval" "$(screen)"
	# a cgroup appears (a holder moved into it: a cgroup that allocated keeps
	# its row of what it did), then vanishes with its process; the row that
	# went is shown one frame: 2 s frames, for a busy host's slower looks at
	# the screen
	keys + && wait_for 'every 2s' || fail "+ to 2 s frames" "$(screen)"
	rm -f "$tmp/r3"
	alloc_in pre "$tmp/r3" 300 -H system -s 128K -n 1
	new=$!
	wait_while '[ ! -e "$tmp/r3" ]'
	mkdir $S/new && echo $new >$S/new/cgroup.procs
	wait_for '^/new '
	kill $new	# whether or not it showed: its cgroup goes
	wait $new 2>/dev/null
	rmdir $S/new
	wait_for '^/new .* gone ' && sleep 4.5 && ! screen | grep -q '^/new ' &&
		pass "a vanished cgroup's row goes, dimmed once" || fail "a vanished cgroup's row goes, dimmed once" "$(screen)"
	keys - && wait_for 'every 1s' || fail "- back to 1 s frames" "$(screen)"
	# the other size, then back: the layout follows
	ctl resize-window -t t -x 200 -y 60 && wait_for 'HEADROOM' &&
		ctl resize-window -t t -x ${size%x*} -y ${size#*x} && sleep 1.5 &&
		screen | grep -q '^heaptop - ' && pass "follows a resize" || fail "follows a resize" "$(screen)"
	keys q && wait_for '^prompt\$' && keys 'stty -g >'"$tmp/stty1" Enter && sleep 0.5 &&
		cmp -s "$tmp/stty0" "$tmp/stty1" && ! screen | grep -q '^heaptop - ' &&
		pass "q quits and gives the terminal back" || fail "q quits and gives the terminal back" "$(screen)"
	keys clear Enter "sh -c 'echo \$\$ >$tmp/pid; exec heaptop'" Enter && wait_for '^heaptop - ' &&
		kill -TERM "$(cat "$tmp/pid")" &&
		wait_for '^prompt\$' && keys 'stty -g >'"$tmp/stty2" Enter && sleep 0.5 &&
		cmp -s "$tmp/stty0" "$tmp/stty2" && pass "SIGTERM gives the terminal back" ||
		fail "SIGTERM gives the terminal back" "$(screen)"
	keys clear Enter 'heaptop -n 2 -d 0.5; echo "done rc=$?"' Enter && wait_for '^done rc=0' &&
		screen | grep -q '^heaptop - ' && screen | grep -q '^/big ' &&
		pass "-n 2: two frames, then it exits, the last left on the terminal" ||
		fail "-n 2: two frames, then it exits, the last left on the terminal" "$(screen)"
	ctl kill-session -t t
done
# the first frame within a second, whatever the interval; - and + apply from
# the key: started at an hour, - fifteen times is 109 ms, and frames come at
# once, not an hour later
clock() { screen | head -n 1 | cut -d' ' -f3; }	# the title's time
size=80x24
T new-session -d -s t -x 80 -y 24 "heaptop -d 3600; sleep 60"
wait_for '^heaptop - .*every 3600s' && first=$(clock) && keys - - - - - - - - - - - - - - - &&
	wait_for 'every 0.109s' && wait_for '^/big ' && sleep 1.2 && [ "$(clock)" != "$first" ] &&
	pass "an hour's interval: the first frame at once; - from it: frames at once" ||
	fail "an hour's interval: the first frame at once; - from it: frames at once" "$(screen)"
# the buffers view sorted by EXPORTER (pid/comm) of two processes' buffers
# exported while it traces: in order, and the other way round with s
for i in 1 2; do
	dmabuf_alloc -H system -s 4K -n 2 -w 60 -R "$tmp/ex$i.r" &
	ex="$ex $!"
done
wait_while '[ ! -e "$tmp/ex1.r" ] || [ ! -e "$tmp/ex2.r" ]'
exporters() { screen | awk '/^ *[0-9]+ +system/ { print $5 }' | grep -v '^?$' >"$1"; }
ordered() { sort -n ${2:-} "$1" | cmp -s - "$1"; }	# ordered FILE [-r]
keys v v && wait_for '^ *INODE' && keys '>' '>' && wait_for 'sort EXPORTER' && sleep 1.5 &&
	exporters "$tmp/ex1" && keys s && sleep 1.5 && exporters "$tmp/ex2" &&
	[ "$(wc -l <"$tmp/ex1")" = 4 ] && ! cmp -s "$tmp/ex1" "$tmp/ex2" &&
	{ { ordered "$tmp/ex1" && ordered "$tmp/ex2" -r; } || { ordered "$tmp/ex1" -r && ordered "$tmp/ex2"; }; } &&
	pass "EXPORTER sorts, s reverses it" || fail "EXPORTER sorts, s reverses it" "$(cat "$tmp/ex1" "$tmp/ex2"; screen)"
kill $ex
ctl kill-session -t t
# a terminal it does not know: said, exit 1 (not ncurses' own exit)
T new-session -d -s t -x 80 -y 24 "TERM=nosuchterm heaptop 2>$tmp/term.err; echo \$? >$tmp/rc; sleep 60"
wait_while '[ ! -s $tmp/rc ]'
[ "$(cat $tmp/rc)" = 1 ] &&
	grep -qx 'heaptop: cannot set up the terminal (TERM=nosuchterm): heaptop -b prints frames one after another' \
		$tmp/term.err &&
	pass "TERM unknown: said, exit 1" || fail "TERM unknown: said, exit 1" "exit $(cat $tmp/rc): $(cat $tmp/term.err)"
ctl kill-session -t t
rm -f $tmp/rc
# the cgroup prompt on a terminal started tiny: what is typed stays within its line
size=40x6
T new-session -d -s t -x 40 -y 6 "heaptop; echo \$? >$tmp/rc; sleep 60"
wait_for '^heaptop - ' && keys c && sleep 0.5 && keys "/$(printf '%0220d' 0)" && sleep 1 &&
	screen | grep -q '^cgroup .*0000$' && keys Escape && sleep 1.5 && keys q &&
	wait_while '[ ! -s $tmp/rc ]' && [ "$(cat $tmp/rc 2>/dev/null)" = 0 ] && pass "a long cgroup typed at the prompt" ||
	fail "a long cgroup typed at the prompt" "exit $(cat $tmp/rc 2>/dev/null): $(screen)"
ctl kill-session -t t
# at 30 columns: the prompt's label cut so that what is typed shows; the
# help's lines cut at the width, none wrapped onto the next
size=30x8
T new-session -d -s t -x 30 -y 8 "heaptop; sleep 60"
wait_for '^heaptop - ' && keys c && wait_for '^cgroup (' && keys /camera && wait_for ': /camera$' &&
	keys Escape && sleep 0.5 && keys '?' && wait_for '^heaptop keys' &&
	! screen | sed -n '2,7p' | grep -v '^  ' | grep -q . &&
	pass "a narrow terminal: what is typed shows, the help's lines cut" ||
	fail "a narrow terminal: what is typed shows, the help's lines cut" "$(screen)"
ctl kill-session -t t

# resumed after a pause, the first frame's rates are over an interval from
# the resume: a churn done while paused shows in none of them; a row that
# vanished while paused is in it, dimmed
size=80x24
alloc_in fleeting "$tmp/r5" 300 -H system -s 64K -n 1
fleeting=$!
wait_while '[ ! -e "$tmp/r5" ]'
T new-session -d -s t -x 80 -y 24 "heaptop; sleep 60"
mkdir -p $S/churn
paused=no
wait_for '^/big ' && wait_for '^/fleeting ' && keys p && wait_for '\[paused\]' &&
	sh -c "echo \$\$ >$S/churn/cgroup.procs; exec dmabuf_alloc -H system -s 64K -n 4 --churn 2 -p 50" &&
	paused=yes
kill $fleeting
wait $fleeting 2>/dev/null
rmdir $S/fleeting
[ $paused = yes ] && was=$(clock) && keys p && wait_for '^heaptop: resumed' && wait_for '^heaptop - ' &&
	first=$(screen) && [ "$(clock)" != "$was" ] &&
	[ "$(echo "$first" | awk '$1 == "/churn" { print $6 }')" = 0.0 ] &&
	echo "$first" | grep -q '^/fleeting .* gone ' &&
	pass "resumed: the first frame's rates from the resume, not over the pause; a row gone meanwhile dimmed" ||
	fail "resumed: the first frame's rates from the resume, not over the pause; a row gone meanwhile dimmed" "$(screen)"
ctl kill-session -t t
rmdir $S/churn

# a cgroup named beyond ASCII: wide characters in their columns (the next
# column where the others' is), typed at the prompt as they are; a resize
# while the prompt waits draws the frame to the new size at once
size=80x24
alloc_in 相机 "$tmp/r4" 300 -H system -s 64K -n 1
wide=$!
wait_while '[ ! -e "$tmp/r4" ]'
T new-session -d -s t -x 80 -y 24 "heaptop; sleep 60"
pad() { screen | sed -n "s|^$1\( *\)system .*|\1|p" | head -n 1 | wc -c; }
wait_for '^/相机 ' && wait_for '^/big ' && [ "$(pad /相机)" = $(($(pad /big) - 1)) ] &&
	pass "a cgroup of wide characters: its row's columns in place" ||
	fail "a cgroup of wide characters: its row's columns in place" "$(screen)"
keys c && wait_for '^cgroup (' && keys /相机 && wait_for '^cgroup (.*): /相机$' && keys Enter &&
	wait_for 'cgroup /相机, 1 shown' && sleep 0.3 && ! screen | grep -q '^/big ' &&
	pass "c takes a cgroup typed beyond ASCII" || fail "c takes a cgroup typed beyond ASCII" "$(screen)"
keys c && wait_for '^cgroup (' && ! screen | grep -q HEADROOM &&
	ctl resize-window -t t -x 200 -y 60 &&
	wait_for HEADROOM && screen | grep -q '^cgroup (' && keys Escape &&
	pass "a resize while a prompt waits: the frame drawn to the new size" ||
	fail "a resize while a prompt waits: the frame drawn to the new size" "$(screen)"
ctl kill-session -t t
kill $wide
wait $wide 2>/dev/null
rmdir "$S/相机"

kill $big $small
# the control client gone before its output's reader (it may wait forever on
# a write to no reader); its input is open in the processes started since
kill $ctl_pid
wait $ctl_pid
exec 8>&- 9<&-
T kill-server
wait
rm -rf "$tmp"
