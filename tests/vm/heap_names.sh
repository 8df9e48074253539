#!/bin/sh
# Heap names past 31 bytes, up to the 63 that heapstat keeps whole
# (bpf/heap_name.h): the carveout heap loaded with two such names that share
# their first 45 bytes, A of 63 bytes and B of 45, and six more of 63 bytes
# not UTF-8 (0xff..., escaped four bytes a byte), on the eight ranges of $1
# (its base= and size=). Each heap must be one
# row under its whole name, its buffers, its dmem charge and its limit
# together, in report (BPF and procfs), its --heap filter, report -d's
# activity, heaptop, a recording and limit's events; then, heapstat_core's
# accounting off, as a bpf-lsm heap in limit show and its refusal's event.
# Cut at 31 bytes as they were, both heaps' buffers were one row of a third
# name, and the charges another. Run by tests/boot/heap_names.sh.
. /heapstat/tests/lib.sh
pass() { echo "PASS: heap_names: $1"; }
fail() { echo "FAIL: heap_names: $1: $2"; }
tmp=$(mktemp -d)
S=/sys/fs/cgroup
SA=$(printf 'front_camera_isp_output_%030d' 1)
SB=$(printf 'front_camera_isp_output_%012d' 2)
A=carveout-$SA B=carveout-$SB
ff=$(printf '\377%.0s' $(seq 53))
X=
for i in 370 371 372 373 374 375; do X="$X,$ff$(printf "\\$i")"; done

# shellcheck disable=SC2086 # $1: options
if ! modprobe heapstat_carveout_heap $1 "names=$SA,$SB$X" ||
	[ ! -e "/dev/dma_heap/$A" ] || [ ! -e "/dev/dma_heap/$B" ] || [ ${#A} != 63 ]; then
	fail setup "heaps $(ls /dev/dma_heap | tr '\n' ' ')"
	exit 0
fi
echo +dmem >$S/cgroup.subtree_control
mkdir $S/cam
heapstat limit set /cam "$A" 2M >$tmp/set 2>&1 || fail "limit set $A" "$(cat $tmp/set)"

# traced from before the allocations to after them
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 120 >$tmp/rep.json 2>$tmp/rep.err & rp=$!
wait_ready $rs $rp || fail "report -d" "$(cat $tmp/rep.err)"
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/r.hsr -d 120 2>$tmp/rec.err & rcp=$!
wait_ready $rs $rcp || fail "record" "$(cat $tmp/rec.err)"
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat limit events -f -j -d 120 >$tmp/ev 2>$tmp/ev.err & evp=$!
wait_ready $rs $evp || fail "limit events -f" "$(cat $tmp/ev.err)"

alloc_in cam $tmp/ra 120 -H "$A" -s 1M -n 2
alloc_in cam $tmp/rb 120 -H "$B" -s 64K -n 3
wait_while "[ ! -e $tmp/ra ] || [ ! -e $tmp/rb ]"
# the next page past /cam's 2 MiB of A: refused
sh -c "echo \$\$ >$S/cam/cgroup.procs; exec dmabuf_alloc -H '$A' -s 4K" 2>/dev/null
rc=$?
[ $rc != 0 ] && pass "a page past the limit refused" || fail "a page past the limit refused" "exit $rc"

heapstat report -j >$tmp/snap.json 2>$tmp/snap.err
heapstat report -j --source procfs >$tmp/procfs.json 2>>$tmp/snap.err
# every heap named front_camera..., with its buffers and /cam's row
heaps='[.heaps[] | select(.name | contains("front_camera")) | [.name, .bytes, .buffers, .device, .charged_by]]'
rows='[.cgroups[] | select(.path == "/cam") | .heaps[] | [.heap, .bytes, .buffers, .charged_bytes, .limit_bytes]]'
want_heaps="[[\"$A\",2097152,2,true,\"dmem\"],[\"$B\",196608,3,true,\"dmem\"]]"
want_rows="[[\"$A\",2097152,2,2097152,2097152],[\"$B\",196608,3,196608,null]]"
for f in snap procfs; do
	h=$(jq -c "$heaps" $tmp/$f.json) r=$(jq -c "$rows" $tmp/$f.json)
	[ "$h" = "$want_heaps" ] && [ "$r" = "$want_rows" ] &&
		pass "report ($f): one row a heap, named whole, its buffers and its charge together" ||
		fail "report ($f): one row a heap, named whole, its buffers and its charge together" \
			"heaps $h, /cam $r: $(cat $tmp/snap.err)"
done
heapstat report -j --heap "$A" >$tmp/one.json 2>&1
jq_true '[.buffers[].heap] == ["'"$A"'", "'"$A"'"]' $tmp/one.json &&
	pass "--heap with the whole name" || fail "--heap with the whole name" "$(cat $tmp/one.json)"
# batch heaptop: the HEAPS line past a line's 1023 bytes goes on, every heap on it
for x in $(echo "$X" | tr , ' '); do
	dmabuf_alloc -H "carveout-$x" -s 4K -w 120 -R $tmp/rx &
	pids="$pids $!"
	wait_while "[ ! -e $tmp/rx ]"
	rm -f $tmp/rx
done
heaptop -b -n 1 >$tmp/top.txt 2>&1
awk '/^HEAPS /{on = 1; print; next} on && /^      /{print; next} {on = 0}' $tmp/top.txt >$tmp/heaps
n=0
for h in "$A" "$B" f8 f9 fa fb fc fd; do
	case $h in
	f?) h="carveout-$(printf '\\xff%.0s' $(seq 53))\\x$h" ;;
	esac
	grep -qF "$h" $tmp/heaps && n=$((n + 1))
done
[ $n = 8 ] && [ "$(wc -c <$tmp/heaps)" -gt 1024 ] && pass "heaptop -b: every heap on the HEAPS lines" ||
	fail "heaptop -b: every heap on the HEAPS lines" "$n of 8: $(cat $tmp/heaps)"
heaptop -j -n 1 >$tmp/top.json 2>&1
t=$(jq -c '[.rows[] | select(.cgroup == "/cam") | [.heap, .bytes, .charged_bytes]]' $tmp/top.json)
[ "$t" = "[[\"$A\",2097152,2097152],[\"$B\",196608,196608]]" ] &&
	pass "heaptop: one row a heap, named whole" || fail "heaptop: one row a heap, named whole" "$t: $(head -c 2000 $tmp/top.json)"

kill -INT $rp $rcp
wait $rp $rcp
a=$(jq -c '[.activity[] | select(.cgroup == "/cam") | [.heap, .allocs, .alloc_bytes, .failures.limit]]' $tmp/rep.json)
[ "$a" = "[[\"$A\",2,2097152,1],[\"$B\",3,196608,0]]" ] &&
	pass "report -d: the allocations and the refusal under each whole name" ||
	fail "report -d: the allocations and the refusal under each whole name" "$a: $(cat $tmp/rep.err)"
rec_dump $tmp/r.hsr >$tmp/r.json 2>&1
d=$(jq -sc '[.[] | select(.type == "alloc" and (.heap | contains("front_camera"))) | .heap] |
	group_by(.) | map([.[0], length])' $tmp/r.json)
[ "$d" = "[[\"$A\",3],[\"$B\",3]]" ] && pass "record: each allocation's heap named whole" ||
	fail "record: each allocation's heap named whole" "$d: $(cat $tmp/rec.err)"
wait_while "! grep -q . $tmp/ev"
e=$(jq -c '[.backend, .heap, .requested_bytes, .limit_bytes]' $tmp/ev)
[ "$e" = "[\"dmem\",\"$A\",4096,2097152]" ] && pass "limit events: the dmem refusal's heap named whole" ||
	fail "limit events: the dmem refusal's heap named whole" "$e: $(cat $tmp/ev.err)"
kill -INT $evp
wait $evp
kill $pids
wait
heapstat limit clear /cam >/dev/null 2>&1

# accounting off: B charges nobody, and a limit on it is bpf-lsm's
echo off >/sys/module/heapstat_core/parameters/accounting
heapstat limit set /cam "$B" 128K >$tmp/set 2>&1 || fail "limit set $B (bpf-lsm)" "$(cat $tmp/set)"
l=$(heapstat limit show /cam -j | jq -c '[.[] | [.heap, .backend, .limit_bytes]]')
[ "$l" = "[[\"$B\",\"bpf-lsm\",131072]]" ] && pass "limit show: the bpf-lsm limit under the whole name" ||
	fail "limit show: the bpf-lsm limit under the whole name" "$l"
sh -c "echo \$\$ >$S/cam/cgroup.procs; exec dmabuf_alloc -H '$B' -s 64K -n 3" 2>/dev/null
heapstat limit events -j >$tmp/ev 2>&1
e=$(jq -c '[.backend, .heap, .requested_bytes, .limit_bytes]' $tmp/ev)
[ "$e" = "[\"bpf-lsm\",\"$B\",65536,131072]" ] && pass "limit events: the bpf-lsm refusal's heap named whole" ||
	fail "limit events: the bpf-lsm refusal's heap named whole" "$e"
heapstat limit clear /cam >/dev/null 2>&1
rm -rf $tmp
