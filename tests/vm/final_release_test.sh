#!/bin/sh
# The final release on the collector heapstat loads: a buffer is freed when
# its last holder goes, not when the fd it was allocated as is closed. Three
# workloads, each in its own cgroup, each buffer's size its own:
#   dup    1 MiB, held by a dup of its fd (the original closed), then the dup closed
#   map    2 MiB, held by a mapping (its fd closed), then unmapped
#   child  3 MiB, held by a forked child (the parent's fd closed), then the child exits
# Four reports trace from before the first allocation, one ended after each
# stage: the activity rows count no free until the last holder went, then
# exactly one with the buffer's bytes, and the charge goes with it, as
# dmem.current does. While only a mapping or the child holds a buffer, the
# report lists it (JSON and report buffers --csv) with that holder alone and
# its exporter; once freed, no more. Needs scripts/vm --load-heaps.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
H=default_cma_region
MiB=1048576
pass() { echo "PASS: final_release: $1"; }
fail() { echo "FAIL: final_release: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: final_release: no heap $H (scripts/vm --load-heaps)"; exit 0; }

wait_for() {	# wait_for CMD...: until CMD is true (30 s at most)
	_i=0
	until "$@"; do
		[ $_i -lt 300 ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
lines() { wc -l 2>/dev/null <"$1" || echo 0; }
done_after() { [ "$(lines "$tmp/$1.done")" -ge "$2" ]; }	# done_after NAME N: N signals acted on
exited() { ! [ -e /proc/$1 ] || grep -q "^State:[[:space:]]*Z" /proc/$1/status 2>/dev/null; }

# the reports: R1..R4, each ended after its stage
reps=
for st in 1 2 3 4; do
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat report -j -d 180 >"$tmp/j$st" 2>"$tmp/e$st" &
	reps="$reps $!"
	wait_ready $rs $!
done
end_report() {	# end_report STAGE
	p=$(echo $reps | cut -d' ' -f$1)
	kill -INT $p
	wait $p
	echo $? >"$tmp/rc$1"
}

start() {	# start NAME ARGS...: dmabuf_alloc in cgroup /fr_NAME, $tmp/NAME once set up
	name=$1
	shift
	mkdir -p $S/fr_$name
	sh -c "echo \$\$ >$S/fr_$name/cgroup.procs
		exec dmabuf_alloc -H $H --signals -w 180 -R $tmp/$name $*" &
}
start dup -s 1M --dup
dup=$!
start map -s 2M -M -r 1
map=$!
start child -s 3M --share 1
parent=$!
if ! wait_for [ -e $tmp/dup -a -e $tmp/map -a -e $tmp/child ]; then
	fail setup "workloads not ready"
	kill $reps $dup $map $parent
	wait
	exit 0
fi
child=$(cat $tmp/child.children)
kill -ALRM $parent	# the parent closes its fd: the child holds the buffer alone
wait_for done_after child 1 || fail setup "the parent did not close its fd"

# stage STAGE's report and dmem.current of /fr_NAME: one allocation of SIZE
# MiB, FREES final releases, the charge of what is still held
activity() {	# activity STAGE NAME SIZE FREES WHAT
	r=$(jq -M -c --arg cg /fr_$2 --arg heap $H \
		'.activity[] | select(.cgroup == $cg and .heap == $heap)' "$tmp/j$1")
	held=$(((1 - $4) * $3 * MiB))
	dmem=$(sed -n "s|^dma-heap/$H ||p" $S/fr_$2/dmem.current)
	if [ "$(cat "$tmp/rc$1")" = 0 ] && [ "$dmem" = $held ] &&
		echo "$r" | jq_true --argjson b $(($3 * MiB)) --argjson f $4 \
		'.allocs == 1 and .alloc_bytes == $b and .exports == 1 and .frees == $f and
		 .free_bytes == $f * $b and .charged_bytes == (1 - $f) * $b' >/dev/null; then
		pass "[stage $1] $2: $5"
	else
		fail "[stage $1] $2: $5" "exit $(cat "$tmp/rc$1"), dmem.current $dmem (want $held): $r $(cat "$tmp/e$1")"
	fi
}
buffer() {	# buffer STAGE NAME INO EXPORTER HOLDER FDS MAP-BYTES: INO in the stage's buffers[]
	b=$(jq -M -c --argjson ino "${3:-0}" '[.buffers[] | select(.inode == $ino)]' "$tmp/j$1")
	if echo "$b" | jq_true --arg cg /fr_$2 --argjson pid $4 \
		--argjson h "{\"pid\":$5,\"fds\":$6,\"map_bytes\":$7}" 'length == 1 and
		.[0].cgroup == $cg and .[0].pid == $pid and .[0].charged_cgroup == $cg and
		.[0].holders == [$h]' >/dev/null; then
		pass "[stage $1] $2: listed, exported by pid $4, held by pid $5 alone"
	else
		fail "[stage $1] $2: listed, exported by pid $4, held by pid $5 alone" "ino '$3': $b"
	fi
}
gone() {	# gone STAGE NAME INO: INO not in the stage's buffers[]
	jq_true --argjson ino "${3:-0}" '(.buffers | type == "array") and all(.buffers[]; .inode != $ino)' \
		"$tmp/j$1" >/dev/null && pass "[stage $1] $2: no longer listed" ||
		fail "[stage $1] $2: no longer listed" "ino '$3': $(jq -M -c .buffers "$tmp/j$1")"
}
listed() {	# listed STAGE NAME INO SIZE HOLDER: report buffers lists INO, held by HOLDER only
	heapstat report buffers --csv >"$tmp/b$1" 2>&1
	csv_lf "$tmp/b$1"
	if [ -n "$3" ] && grep -q "^$3,$H,,$(($4 * MiB)),[0-9?]*,[^,]*,$5\$" "$tmp/b$1"; then
		pass "[stage $1] $2: report buffers lists it, held by pid $5 alone"
	else
		fail "[stage $1] $2: report buffers lists it, held by pid $5 alone" "ino '$3': $(cat "$tmp/b$1")"
	fi
}

# stage 1: each buffer held by its other holder only
dup_ino=$(dmabuf_inodes $dup)
map_ino=$(awk '$6 ~ /^\/dmabuf:/ { print $5 }' /proc/$map/maps)
child_ino=$(dmabuf_inodes $child)
[ -z "$(dmabuf_inodes $map)$(dmabuf_inodes $parent)" ] && [ -n "$map_ino" ] && [ -n "$child_ino" ] &&
	[ "$child_ino" != "$map_ino" ] && pass "[stage 1] the map's and parent's fds are closed" ||
	fail "[stage 1] the map's and parent's fds are closed" \
		"map ino '$map_ino' fds '$(dmabuf_inodes $map)', parent fds '$(dmabuf_inodes $parent)'"
listed 1 map "$map_ino" 2 $map
listed 1 child "$child_ino" 3 $child
listed 1 dup "$dup_ino" 1 $dup
end_report 1
activity 1 dup 1 0 "the original fd closed, the dup holds it: no free"
activity 1 map 2 0 "the fd closed, the mapping holds it: no free"
activity 1 child 3 0 "the parent's fd closed, the child holds it: no free"
buffer 1 dup "$dup_ino" $dup $dup 1 0
buffer 1 map "$map_ino" $map $map 0 $((2 * MiB))
buffer 1 child "$child_ino" $parent $child 1 0

# stage 2: the dup closed
kill -ALRM $dup
wait_for done_after dup 1 || fail "stage 2" "the dup was not closed"
end_report 2
activity 2 dup 1 1 "the dup closed: freed"
activity 2 map 2 0 "still mapped: no free"
activity 2 child 3 0 "the child still holds it: no free"
gone 2 dup "$dup_ino"
buffer 2 map "$map_ino" $map $map 0 $((2 * MiB))

# stage 3: the mapping gone
kill -USR2 $map
wait_for done_after map 1 || fail "stage 3" "the buffer was not unmapped"
listed 3 child "$child_ino" 3 $child
end_report 3
activity 3 map 2 1 "unmapped: freed"
activity 3 child 3 0 "the child still holds it: no free"
gone 3 map "$map_ino"
buffer 3 child "$child_ino" $parent $child 1 0

# stage 4: the child exits
kill $child
wait_for exited $child || fail "stage 4" "child $child did not exit"
end_report 4
activity 4 dup 1 1 "freed once"
activity 4 map 2 1 "freed once"
activity 4 child 3 1 "the child exited: freed"
gone 4 child "$child_ino"

kill $dup $map $parent
wait
rmdir $S/fr_dup $S/fr_map $S/fr_child
rm -rf "$tmp"
