#!/bin/sh
# heapstat limit on the bpf-lsm backend: upstream's system heap with
# dma_heap.mem_accounting off charges nobody, so `limit set` loads and pins
# heapstat's BPF-LSM programs. At the byte boundary (EAGAIN, nothing
# charged), hierarchy, show/report/heaptop from one model (usage, limit,
# headroom, hits), a refusal of a process moved while it allocated counted
# once, exec --create, non-root refused, bad input changing nothing, the
# last clear unpinning, another build's pins refused. Run by
# tests/boot/lsm_limit.sh:
#   scripts/vm --load system_heap -- sh /heapstat/tests/vm/lsm/cli.sh
. "$(dirname "$0")/../../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
P=/sys/fs/bpf/heapstat/limit
H=system
M=1048576
pass() { echo "PASS: limit_lsm: $1"; }
fail() { echo "FAIL: limit_lsm: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: limit_lsm: no system heap"; exit 0; }
# (no such parameter before 7.x: the system heap charged nobody)
[ "$(cat /sys/module/dma_heap/parameters/mem_accounting 2>/dev/null || echo N)" = N ] ||
	{ echo "SKIP: limit_lsm: dma_heap.mem_accounting is on"; exit 0; }
# show -j's field of CGROUP's row: usage_bytes, limit_bytes...
shown() { heapstat limit show "$1" -j | jq -r --arg c "$1" --arg h $H ".[] | select(.cgroup == \$c and .heap == \$h) | .$2"; }
usage_is() {	# usage_is CGROUP BYTES: within 5 s (a release waits for the last fput)
	_i=0
	while [ "$(shown $1 usage_bytes)" != "$2" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ "$(shown $1 usage_bytes)" = "$2" ]
}
alloc() {	# alloc CGROUP ARGS...: dmabuf_alloc in CGROUP, its stderr in $tmp/err
	cg=$1
	shift
	sh -c "echo \$\$ >$S$cg/cgroup.procs; exec dmabuf_alloc -H $H $*" 2>$tmp/err
}
hold() {	# hold CGROUP READY ARGS...: a holder in CGROUP, its pid in $holder
	cg=$1 r=$tmp/$2
	shift 2
	sh -c "echo \$\$ >$S$cg/cgroup.procs; exec dmabuf_alloc -H $H $* -w 120 -R $r" &
	holder=$!
	while [ ! -e $r ] && kill -0 $holder 2>/dev/null; do sleep 0.1; done
}

mkdir -p $S/ll $S/lp/c $S/lp/c2 $S/sib
[ ! -e $P ] || fail "setup" "limits pinned before the test"

# bad input first: nothing is loaded, nothing changes
for args in "set / $H 1M" "set /ll $H -1" "set /ll $H 1.5G" "set /ll nosuchheap 1M" \
	"set /nosuch $H 1M" "set /ll $H 18446744073709551616" \
	"exec --create --set $H=1M /ll/cgroup.procs -- true"; do
	heapstat limit $args >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && [ -s $tmp/e ] && [ ! -e $P ] && pass "refuses '$args', nothing pinned" ||
		fail "refuses '$args', nothing pinned" "exit $rc: $(cat $tmp/e) $(ls $P 2>&1)"
done
[ -z "$(cat $S/ll/cgroup.subtree_control)" ] && pass "exec --create on a file: no controller enabled" ||
	fail "exec --create on a file: no controller enabled" "$(cat $S/ll/cgroup.subtree_control)"

heapstat limit set /ll $H 1M && [ -e $P/link_file_ioctl ] && [ "$(stat -c %a /sys/fs/bpf/heapstat)" = 700 ] &&
	pass "set loads and pins the programs (0700)" ||
	fail "set loads and pins the programs (0700)" "$(ls -la /sys/fs/bpf/heapstat $P 2>&1)"
heapstat limit show /ll -j >$tmp/show
jq_true --arg h $H '.[] | select(.cgroup == "/ll" and .heap == $h) | .backend == "bpf-lsm" and
	.limit_bytes == 1048576 and .own_limit_bytes == 1048576 and .usage_bytes == 0 and
	.headroom_bytes == 1048576 and .limit_source == "bpf:limits" and .usage_source == "bpf:usage"' \
	$tmp/show >/dev/null && pass "show: backend bpf-lsm, limit, usage 0, sources" ||
	fail "show: backend bpf-lsm, limit, usage 0, sources" "$(cat $tmp/show)"

# exactly the limit fits; one page more is EAGAIN and charges nothing
hold /ll r1 -s 256K -n 4
alloc /ll -s 4K
rc=$?
if [ -e $tmp/r1 ] && [ $rc != 0 ] && grep -q 'Resource temporarily unavailable' $tmp/err &&
	[ "$(shown /ll usage_bytes)" = $M ] && [ "$(shown /ll headroom_bytes)" = 0 ]; then
	pass "4 x 256 KiB fit 1M; one page more: EAGAIN, nothing charged"
else
	fail "4 x 256 KiB fit 1M; one page more: EAGAIN, nothing charged" \
		"rc $rc usage $(shown /ll usage_bytes): $(cat $tmp/err)"
fi
# the refusal waited in the pinned ring: limit events without -f reads it, once
heapstat limit events -j >$tmp/ev 2>$tmp/eve
rc=$?
if [ $rc = 0 ] && [ "$(wc -l <$tmp/ev)" = 1 ] && jq_true --arg h $H --argjson p $holder '
	.backend == "bpf-lsm" and .when == "ioctl" and .cgroup == "/ll" and .heap == $h and
	.requested_bytes == 4096 and .usage_bytes == 1048576 and .limit_bytes == 1048576 and
	.limit_cgroup == "/ll" and .comm == "dmabuf_alloc" and .top_holders[0].pid == $p and
	.top_holders[0].bytes == 1048576' $tmp/ev >/dev/null && [ -z "$(heapstat limit events -j)" ]; then
	pass "limit events: the bpf-lsm refusal kept until read, with its limit and top holder"
else
	fail "limit events: the bpf-lsm refusal kept until read, with its limit and top holder" \
		"exit $rc: $(cat $tmp/ev $tmp/eve)"
fi
# report and heaptop print the same numbers: the model reads the pinned maps
heapstat report -j -c /ll >$tmp/rep
jq_true --arg h $H '.cgroups[] | select(.path == "/ll") | .heaps[] | select(.heap == $h) |
	.bytes == 1048576 and .charged_bytes == 1048576 and .charged_by == "bpf-lsm" and
	.limit_bytes == 1048576 and .headroom_bytes == 0 and .limit_hits == 1' $tmp/rep >/dev/null &&
	pass "report: held, charged by bpf-lsm, limit, headroom 0, 1 hit" ||
	fail "report: held, charged by bpf-lsm, limit, headroom 0, 1 hit" "$(jq -c .cgroups $tmp/rep)"
heaptop -b -n 1 -j -c /ll >$tmp/top 2>$tmp/tope
jq_true --arg h $H '.rows[] | select(.cgroup == "/ll" and .heap == $h) |
	.charged_bytes == 1048576 and .limit_bytes == 1048576 and .limit_hits == 0' $tmp/top >/dev/null &&
	pass "heaptop: the same row (no hit since it started)" ||
	fail "heaptop: the same row (no hit since it started)" "$(cat $tmp/top $tmp/tope | head -c 2000)"
kill -9 $holder
wait $holder 2>/dev/null
usage_is /ll 0 && pass "usage back to 0 after kill -9" || fail "usage back to 0 after kill -9" "$(shown /ll usage_bytes)"

# While traced, heaptop, the exporter and report -d count the refusals from
# their start, as failures too (refused in the ioctl, the attempt never
# reaches the collector's programs), and on while no limit is set, the
# cgroup allocating (a traced row), and across the programs pinned anew
# (the last limit cleared, then set again: new cells, from 0).
hold /ll r1b -s 1M -n 1
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heaptop -b -j -d 1 -c /ll >$tmp/live 2>$tmp/livee &
tpid=$!
wait_ready $rs $tpid
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heaptop -b -j -d 1 -c /ll --keep-removed 0 >$tmp/live0 2>&1 &
t0pid=$!
wait_ready $rs $t0pid
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat export --listen 127.0.0.1:9481 2>$tmp/expe &
xpid=$!
wait_ready $rs $xpid
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 600 -c /ll >$tmp/repd 2>$tmp/repde &
rpid=$!
wait_ready $rs $rpid
i=0
while [ ! -s $tmp/live ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done	# its first frame
alloc /ll -s 4K
rc1=$?
sleep 3		# read (every second): the last clear takes the cells
heapstat limit clear /ll 2>$tmp/clr && [ ! -e $P ]
rc2=$?
grep -qx "heapstat limit: note: 1 refusal event not taken by 'heapstat limit events' went with the programs (a 'limit events -f' running reads them)" $tmp/clr &&
	pass "the last clear says the refusal event no one read" ||
	fail "the last clear says the refusal event no one read" "$(cat $tmp/clr)"
alloc /ll -s 4K		# no limit: allocates, a traced row
rc3=$?
sleep 7		# a model read since, with no limit set
wget -q -O $tmp/metrics1 http://127.0.0.1:9481/metrics
heapstat limit set /ll $H 1M
rc4=$?
alloc /ll -s 4K
rc5=$?
# a job whose every allocation was refused, its cgroup removed: its row and
# counts stay, by its path (the collector never saw it)
mkdir $S/ll/rej
alloc /ll/rej -s 4K
rc6=$?
sleep 2		# read while it is there: named
i=0
until rmdir $S/ll/rej 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 7		# a model read since: the BPF-LSM's cells are read every 5 s
wget -q -O $tmp/metrics http://127.0.0.1:9481/metrics
kill -INT $tpid $rpid $xpid $t0pid
wait $tpid $rpid $xpid $t0pid
row='.rows[] | select(.cgroup == "/ll" and .heap == $h)'
rej='.rows[] | select(.cgroup == "/ll/rej" and .heap == $h)'
if [ $rc1 != 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ $rc4 = 0 ] && [ $rc5 != 0 ] && [ $rc6 != 0 ] &&
	jq -s -e --arg h $H "
	(.[0] | $row | .limit_hits == 0 and .failures == 0) and
	(.[-1] | $row | .limit_hits == 2 and .failures == 2 and .allocated.allocs == 1 and
		.allocated.failures.limit == 2) and
	(.[-1] | $rej | .cgroup_removed and .limit_hits == 1 and .failures == 1) and
	([.[] | $row | .limit_hits] | . == sort) and
	([.[] | .failures_per_sec * .interval_s] | add | . > 2.99 and . < 3.01)" $tmp/live >/dev/null; then
	pass "heaptop: bpf-lsm refusals since it started, in HITS and FAIL, none lost between pins nor with a removed cgroup"
else
	fail "heaptop: bpf-lsm refusals since it started, in HITS and FAIL, none lost between pins nor with a removed cgroup" \
		"$rc1 $rc2 $rc3 $rc4 $rc5 $rc6: $(jq -c "[.failures_per_sec, .interval_s, ($row | .limit_hits, .failures, .allocated), ([$rej] | length)]" --arg h $H $tmp/live) $(cat $tmp/livee)"
fi
# each frame's rows count the refusals its failures/s counted, not a model later
jq -s -e '[foreach .[] as $f (0; . + $f.failures_per_sec * $f.interval_s;
	[(. + 0.5 | floor), ([$f.rows[].limit_hits] | add // 0)])] | all(.[0] == .[1])' \
	$tmp/live >/dev/null &&
	pass "heaptop: a refusal in a row's HITS in the frame whose failures/s counts it" ||
	fail "heaptop: a refusal in a row's HITS in the frame whose failures/s counts it" \
		"$(jq -c '[.failures_per_sec * .interval_s, [.rows[] | .limit_hits]]' $tmp/live)"
jq -s -e --arg h $H "(.[-1] | [$rej] | length == 0) and (.[-1] | $row | .limit_hits == 2)" \
	$tmp/live0 >/dev/null &&
	pass "heaptop --keep-removed 0: the removed job's row gone, the others' counts kept" ||
	fail "heaptop --keep-removed 0: the removed job's row gone, the others' counts kept" \
		"$(jq -c "[.interval_s, [.rows[] | [.cgroup, .limit_hits]]]" $tmp/live0 | tail -n 3)"
lines() {	# lines N FILE: FILE has /ll's refusals and limit failures, N each
	grep -qx "heapstat_limit_refusals_total{cgroup=\"/ll\",heap=\"system\"} $1" $2 &&
		grep -qx "heapstat_allocation_failures_total{cgroup=\"/ll\",heap=\"system\",class=\"limit\"} $1" $2
}
if lines 1 $tmp/metrics1 && lines 2 $tmp/metrics &&
	grep -qx 'heapstat_limit_refusals_total{cgroup="/ll/rej",heap="system"} 1' $tmp/metrics; then
	pass "export: the same refusals, as refusals and limit failures, 1 with no limit set, then 2; the removed job's 1"
else
	fail "export: the same refusals, as refusals and limit failures, 1 with no limit set, then 2; the removed job's 1" \
		"$(grep -E 'refusals_total|failures_total' $tmp/metrics1 $tmp/metrics) $(cat $tmp/expe)"
fi
jq_true --arg h $H '.cgroups[] | select(.path == "/ll") | .heaps[] | select(.heap == $h) |
	.limit_hits == 2 and .allocated.failures.limit == 2 and .allocated.allocs == 1' $tmp/repd >/dev/null &&
	jq_true --arg h $H '.cgroups[] | select(.path == "/ll/rej") | .heaps[] | select(.heap == $h) |
	.cgroup_removed and .limit_hits == 1' $tmp/repd >/dev/null &&
	pass "report -d: the same refusals, the removed job's too" ||
	fail "report -d: the same refusals, the removed job's too" "$(jq -c .cgroups $tmp/repd) $(cat $tmp/repde)"
kill $holder
wait $holder 2>/dev/null
heapstat limit events -j >/dev/null	# the second refusal read (taken), as the tests below expect
usage_is /ll 0 || fail "usage back to 0" "$(shown /ll usage_bytes)"

# A refusal at the export of a process moved while it allocated: the bpf-lsm
# counts it in the cgroup its ioctl began in (the one it charges), the
# collector sees the EAGAIN in the one it ended in. report -d counts it once,
# where the bpf-lsm did and its refusal event says. held_alloc holds its
# 1 MiB inside the ioctl, checked (room for it under /mv's 1 MiB), while its
# command takes 4 KiB of the room and moves it from /mv/a to /mv/b.
mkdir -p $S/mv/a $S/mv/b
heapstat limit set /mv $H 1M
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 600 -c /mv >$tmp/mvd 2>$tmp/mvde &
rpid=$!
wait_ready $rs $rpid
out=$(sh -c "echo \$\$ >$S/mv/a/cgroup.procs; exec held_alloc $H 1M sh -c '
	dmabuf_alloc -H $H -s 4K -w 120 -R $tmp/fill >/dev/null 2>&1 & echo \$! >$tmp/fillpid
	while [ ! -e $tmp/fill ]; do sleep 0.1; done
	echo \$HELD_PID >$S/mv/b/cgroup.procs'" 2>&1)
kill -INT $rpid
wait $rpid
heapstat limit events -j >$tmp/mvev 2>&1
kill "$(cat $tmp/fillpid)"
[ "$out" = "held=1 cmd=0 errno=11" ] &&
	jq_true -s 'length == 1 and (.[0] | .when == "export" and .cgroup == "/mv/a" and
		.limit_cgroup == "/mv")' $tmp/mvev &&
	pass "moved while allocating: EAGAIN, refused at the export, its event in the cgroup it began in" ||
	fail "moved while allocating: EAGAIN, refused at the export, its event in the cgroup it began in" \
		"$out; $(cat $tmp/mvev)"
mvrow() {	# mvrow CGROUP: its row's limit hits and limit failures
	jq -r --arg c "$1" --arg h $H '[.cgroups[] | select(.path == $c) | .heaps[] |
		select(.heap == $h) | .limit_hits, .allocated.failures.limit] | map(tostring) | join(" ")' $tmp/mvd
}
[ "$(mvrow /mv/a)" = "1 1" ] && [ "$(mvrow /mv/b)" = "0 0" ] &&
	pass "report -d: the moved process's refusal counted once, in the cgroup it began in" ||
	fail "report -d: the moved process's refusal counted once, in the cgroup it began in" \
		"/mv/a: $(mvrow /mv/a), /mv/b: $(mvrow /mv/b): $(jq -c .cgroups $tmp/mvd) $(cat $tmp/mvde)"
heapstat limit clear /mv $H

# buffers held by an O_PATH file of each alone, their own fds closed: the
# buffer's file is released, its memory is not, and stays charged until
# that file goes (it was uncharged at the release: any amount could be kept)
hold /ll r9 -s 512K -n 2 --path-hold
alloc /ll -s 512K
rc=$?
held=$(shown /ll usage_bytes)
kill $holder
wait $holder 2>/dev/null
if [ -e $tmp/r9 ] && [ $rc != 0 ] && grep -q 'Resource temporarily unavailable' $tmp/err &&
	[ "$held" = $M ] && usage_is /ll 0; then
	pass "buffers held by O_PATH files alone stay charged (EAGAIN past the limit), then 0"
else
	fail "buffers held by O_PATH files alone stay charged (EAGAIN past the limit), then 0" \
		"rc $rc usage $held, then $(shown /ll usage_bytes): $(cat $tmp/err)"
fi
heapstat limit events -j >/dev/null	# its refusal read (taken), as the tests below expect

# a parent's limit binds both children; a sibling is free
heapstat limit set /lp $H 1M
hold /lp/c r2 -s 1M
alloc /lp/c2 -s 4K; rc1=$?
mv $tmp/err $tmp/err1
alloc /sib -s 2M; rc2=$?
if [ $rc1 != 0 ] && grep -q 'Resource temporarily unavailable' $tmp/err1 && [ $rc2 = 0 ] &&
	[ "$(shown /lp usage_bytes)" = $M ] && [ "$(shown /lp/c2 limit_cgroup)" = /lp ] &&
	[ "$(shown /lp/c2 headroom_bytes)" = 0 ]; then
	pass "a parent's limit binds both children; a sibling is free"
else
	fail "a parent's limit binds both children; a sibling is free" \
		"rc $rc1/$rc2 /lp $(shown /lp usage_bytes): $(cat $tmp/err1 $tmp/err)"
fi
# one below what the cgroup holds is kept (dmem's would not be), and said
heapstat limit set /lp $H 512K 2>$tmp/e; rc=$?
[ $rc = 0 ] && [ "$(shown /lp limit_bytes)" = 524288 ] &&
	[ "$(cat $tmp/e)" = "heapstat limit: note: /lp holds 1.0M of $H, above the limit: its allocations are refused until it frees below it" ] &&
	pass "a limit below what the cgroup holds: kept, said" ||
	fail "a limit below what the cgroup holds: kept, said" "exit $rc, $(shown /lp limit_bytes): $(cat $tmp/e)"
heapstat limit set /lp $H 1M
kill $holder
wait $holder 2>/dev/null

# a job's cgroup removed while its buffer lives on (its holder moved out):
# traced, the removed job has a row, with no charge of its own (as dmem's
# files of a removed cgroup are not read); its parent's own charge has it,
# which the job's row had too
mkdir -p $S/rj/job $S/rjsvc
heapstat limit set /rj $H 8M
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 60 >$tmp/rj.json 2>$tmp/rj.err &
rp=$!
wait_ready $rs $rp
hold /rj/job rj -s 1M
echo $holder >$S/rjsvc/cgroup.procs
rmdir $S/rj/job
kill -INT $rp
wait $rp
rj() { jq -c --arg c "$1" --arg h $H '[.cgroups[] | select(.path == $c) | .heaps[] | select(.heap == $h) |
	[.cgroup_removed, .charged_bytes, .own_charged_bytes]]' $tmp/rj.json; }
[ "$(rj /rj)" = "[[false,$M,$M]]" ] && [ "$(rj /rj/job)" = "[[true,null,null]]" ] &&
	pass "a removed job's charge is its parent's own alone" ||
	fail "a removed job's charge is its parent's own alone" "/rj $(rj /rj), /rj/job $(rj /rj/job): $(cat $tmp/rj.err)"
kill $holder
wait $holder 2>/dev/null
heapstat limit clear /rj
rmdir $S/rj $S/rjsvc
# -c reads without taking: the ring gives its events up only in order, and
# taking /lp's refusal would take every other cgroup's with it. The same
# event by its monotonic_ns: two processes' wall clocks of it may round to
# two milliseconds
heapstat limit events -j -c /ll >$tmp/ev1 2>&1
heapstat limit events -j -c /lp >$tmp/ev2 2>&1
heapstat limit events -j >$tmp/ev3 2>&1
heapstat limit events -j >$tmp/ev4 2>&1
[ ! -s $tmp/ev1 ] && [ "$(jq -r .limit_cgroup $tmp/ev2)" = /lp ] && [ ! -s $tmp/ev4 ] &&
	[ "$(jq -c 'del(.top_holders, .time)' $tmp/ev2)" = "$(jq -c 'del(.top_holders, .time)' $tmp/ev3)" ] &&
	pass "limit events -c: read without taking the others' or its own" ||
	fail "limit events -c: read without taking the others' or its own" \
		"$(for f in ev1 ev2 ev3 ev4; do echo "$f: $(cat $tmp/$f)"; done)"
# a cgroup removed before its refusal is read: named by its id, its path unknown
mkdir $S/lp/gone
id=$(stat -c %i $S/lp/gone)
alloc /lp/gone -s 2M
i=0
until rmdir $S/lp/gone 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
heapstat limit events -j >$tmp/ev5 2>&1
[ "$(jq -r '.cgroup + " " + .limit_cgroup' $tmp/ev5)" = "?$id /lp" ] &&
	pass "limit events: a removed cgroup's refusal names it ?<id>" ||
	fail "limit events: a removed cgroup's refusal names it ?<id>" "id $id: $(cat $tmp/ev5)"
# output it cannot write: said once, with why; the events taken
alloc /lp/c2 -s 2M
heapstat limit events >/dev/full 2>$tmp/e
rc=$?
[ $rc = 1 ] && [ "$(cat $tmp/e)" = "heapstat limit events: cannot write the events: No space left on device" ] &&
	pass "limit events >/dev/full: said once, why" || fail "limit events >/dev/full: said once, why" "exit $rc: $(cat $tmp/e)"

# killed with -9 in the middle of allocating: nothing stays charged
sh -c "echo \$\$ >$S/ll/cgroup.procs; exec lsm_limit race $H 64K 4 60 /ll" >/dev/null 2>&1 &
racer=$!
sleep 1
kill -9 $racer
wait $racer 2>/dev/null
usage_is /ll 0 && pass "kill -9 mid-allocation: nothing stays charged" ||
	fail "kill -9 mid-allocation: nothing stays charged" "$(shown /ll usage_bytes)"

# non-root: the CLI refuses, the pins cannot be reached, show says why it cannot read them
echo $$ >$S/ll/cgroup.procs
su -s /bin/sh nobody -c "
	heapstat limit set /ll $H max; echo rc=\$?
	heapstat limit clear /ll; echo rc=\$?
	rm -f $P/limits; echo rc=\$?
	heapstat limit show /ll" >$tmp/o 2>&1
echo $$ >$S/cgroup.procs
[ "$(grep -c '^rc=[12]$' $tmp/o)" = 3 ] && grep -q 'not shown: Permission denied (root only)' $tmp/o &&
	[ "$(shown /ll limit_bytes)" = $M ] &&
	pass "non-root: set, clear and unpinning refused; show says why" ||
	fail "non-root: set, clear and unpinning refused; show says why" "$(cat $tmp/o)"

# upstream's dmabuf-heaps kselftest under a bpf-lsm limit far above what it
# needs: the same results as without one, nothing left charged
ks() { sh -c "echo \$\$ >$S$1/cgroup.procs; exec dmabuf-heap" 2>&1 | sed -n 's/^\(not ok\|ok\) [0-9]* /\1 /p'; }
mkdir -p $S/ks
heapstat limit set /ks $H 256M
free=$(ks /sib)
lim=$(ks /ks)
[ -n "$lim" ] && [ "$free" = "$lim" ] && ! echo "$lim" | grep -q '^not ok' && usage_is /ks 0 &&
	pass "the dmabuf-heaps kselftest passes under a bpf-lsm limit as without" ||
	fail "the dmabuf-heaps kselftest passes under a bpf-lsm limit as without" "$free / $lim"
heapstat limit clear /ks

# exec: a new cgroup, its bpf-lsm limit, the command's status
heapstat limit exec --create --set $H=512K /ci/lsm1 -- sh -c \
	"dmabuf_alloc -H $H -s 512K && ! dmabuf_alloc -H $H -s 516K 2>/dev/null && exit 7"
rc=$?
[ $rc = 7 ] && [ "$(shown /ci/lsm1 limit_bytes)" = 524288 ] &&
	pass "exec --create: the cgroup, its bpf-lsm limit, the command's status" ||
	fail "exec --create: the cgroup, its bpf-lsm limit, the command's status" "exit $rc"

# clear: one heap, every heap of a cgroup; the last limit unpins everything
heapstat limit clear /ci/lsm1 $H && heapstat limit clear /ll && [ "$(shown /ll limit_bytes)" = "" ] &&
	[ -e $P ] && heapstat limit clear /lp $H && [ ! -e $P ] &&
	pass "clear lifts limits; the last one unpins" ||
	fail "clear lifts limits; the last one unpins" "$(heapstat limit show -j) $(ls $P 2>&1)"
heapstat limit clear /ll $H && pass "clearing a limit that is not set changes nothing" ||
	fail "clearing a limit that is not set changes nothing" "exit $?"
alloc /ll -s 2M && pass "without limits nothing is refused" ||
	fail "without limits nothing is refused" "$(cat $tmp/err)"

# a limit goes with its cgroup: a CI job's, its cgroup removed, is dropped by
# the next exec --set (g1's, so that a clear of g2, removed too, finds g2's
# the last), by a clear of the removed cgroup itself (exit 0: it is gone;
# with its heap named or not), which unpins with the last, and by a set (g3's:
# g4's clear finds none left but its own); a refused set drops nothing (g5's
# stays until g6's clear), nor does a clear of a path no limit was set on
# (a typo of g2's: exit 2, no such cgroup)
heapstat limit exec --create --set $H=1M /ci/g1 -- true && rmdir $S/ci/g1 &&
	heapstat limit exec --create --set $H=1M /ci/g2 -- true && rmdir $S/ci/g2
for args in "/ci/g22" "/ci/g22 $H"; do
	heapstat limit clear $args 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && [ -e $P ] && grep -q "^heapstat limit: no cgroup /ci/g22 (under" $tmp/e &&
		pass "clear $args, no cgroup, a removed one's limit pending: exit 2, nothing dropped" ||
		fail "clear $args, no cgroup, a removed one's limit pending: exit 2, nothing dropped" \
			"exit $rc: $(cat $tmp/e) $(ls $P 2>&1)"
done
heapstat limit clear /ci/g2 $H 2>$tmp/e
rc=$?
[ $rc = 0 ] && [ ! -e $P ] &&
	[ "$(cat $tmp/e)" = "heapstat limit: dropped 1 bpf-lsm limit of removed cgroups, the last: the programs are unpinned" ] &&
	pass "a removed cgroup's limit dropped by the next exec --set, and by a clear of it, unpinning" ||
	fail "a removed cgroup's limit dropped by the next exec --set, and by a clear of it, unpinning" \
		"exit $rc: $(cat $tmp/e) $(ls $P 2>&1)"
mkdir $S/ci/g3 $S/ci/g4 && heapstat limit set /ci/g3 $H 1M && rmdir $S/ci/g3 &&
	heapstat limit set /ci/g4 $H 1M && heapstat limit clear /ci/g4 2>$tmp/e && [ ! -s $tmp/e ] &&
	[ ! -e $P ] && pass "a removed cgroup's limit dropped by the next set" ||
	fail "a removed cgroup's limit dropped by the next set" "$(cat $tmp/e) $(ls $P 2>&1)"
mkdir $S/ci/g5 $S/ci/g6 && heapstat limit set /ci/g5 $H 1M && heapstat limit set /ci/g6 $H 1M &&
	rmdir $S/ci/g5 && ! heapstat limit set /ci/g6 nosuchheap 1M 2>/dev/null &&
	heapstat limit clear /ci/g6 2>$tmp/e && [ ! -e $P ] &&
	[ "$(cat $tmp/e)" = "heapstat limit: dropped 1 bpf-lsm limit of removed cgroups, the last: the programs are unpinned" ] &&
	pass "a refused set drops nothing; the next clear does" ||
	fail "a refused set drops nothing; the next clear does" "$(cat $tmp/e) $(ls $P 2>&1)"
rmdir $S/ci/g4 $S/ci/g6

# pins of another build (an older one had no charge_slots map): refused with
# what to do, exit 2, never taken for "nothing pinned" (a clear that succeeded
# would leave the limit in force); removed as told, limits work again
heapstat limit set /ll $H 1M && rm $P/charge_slots
stale() { grep -q "no map charge_slots.*rm -r $P" $tmp/e; }
for args in "set /ll $H 2M" "clear /ll $H" "clear /ll"; do
	heapstat limit $args >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && stale && [ -e $P/link_file_ioctl ] &&
		pass "another build's pins: '$args' refused, says what to do" ||
		fail "another build's pins: '$args' refused, says what to do" "exit $rc: $(cat $tmp/e)"
done
heapstat limit show >$tmp/o 2>$tmp/e && stale &&
	pass "another build's pins: show says what to do" ||
	fail "another build's pins: show says what to do" "$(cat $tmp/e)"
freed() {	# the programs detach once the kernel has let the pins go (RCU, a work item)
	_i=0
	until alloc /ll -s 2M || [ $_i -ge 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ $_i -lt 50 ]
}
! alloc /ll -s 2M && rm -r $P && freed && heapstat limit set /ll $H 1M &&
	heapstat limit clear /ll && [ ! -e $P ] &&
	pass "another build's pins: enforced until removed, then limits work again" ||
	fail "another build's pins: enforced until removed, then limits work again" \
		"$(cat $tmp/err) $(ls $P 2>&1)"
# another build's map of another layout (a .bss of 4 KiB): refused as
# well, never read as this build's
heapstat limit set /ll $H 1M && lsm_limit fake-pin bss 4096
heapstat limit set /ll $H 2M >$tmp/o 2>$tmp/e
rc=$?
heapstat limit show >$tmp/o 2>$tmp/e2
[ $rc = 2 ] && grep -q "map bss has 4-byte keys and 4096-byte values, this build's 4 and .*rm -r $P" $tmp/e &&
	grep -q "map bss has 4-byte keys and 4096-byte values" $tmp/e2 &&
	pass "another build's map layout: refused, says what to do" ||
	fail "another build's map layout: refused, says what to do" "exit $rc: $(cat $tmp/e $tmp/e2)"
rm -r $P && freed || fail "another build's map layout: removed" "$(ls $P 2>&1)"

# an exec whose later --set is refused (here the limits' table full, made
# to hold 2) undoes those it wrote: a limit made is cleared, one replaced
# set back; the command is not run, exit 1
if [ -e /dev/dma_heap/modname ]; then
	mkdir -p $S/ux1 $S/ux2
	HEAPSTAT_TEST_LIMIT_LIMITS=2 heapstat limit set /ux1 $H 1M
	undone() {	# undone LIMIT-BEFORE-AND-AFTER WHAT
		heapstat limit exec --set $H=2M --set modname=1M /ux2 -- touch $tmp/ran >$tmp/o 2>$tmp/e
		rc=$?
		[ $rc = 1 ] && [ ! -e $tmp/ran ] && [ ! -s $tmp/o ] && [ "$(shown /ux2 limit_bytes)" = "$1" ] &&
			grep -q "every one of the 2 bpf-lsm limits the programs keep is set" $tmp/e &&
			grep -q "^heapstat limit: undid the 1 --set written before it$" $tmp/e &&
			pass "exec, a later --set refused: $2, the command not run" ||
			fail "exec, a later --set refused: $2, the command not run" \
				"exit $rc, limit '$(shown /ux2 limit_bytes)': $(cat $tmp/o $tmp/e)"
	}
	undone "" "the limit it made cleared"
	heapstat limit set /ux2 $H 3M && undone $((3 * M)) "the limit it replaced set back"
	heapstat limit clear /ux2 && heapstat limit clear /ux1 && [ ! -e $P ] ||
		fail "exec, a later --set refused: cleared after" "$(ls $P 2>&1)"
	rmdir $S/ux1 $S/ux2
fi

for cg in ll lp/c lp/c2 lp sib ks ci/lsm1; do
	[ -e $S/$cg/cgroup.procs ] && kill -9 $(cat $S/$cg/cgroup.procs) 2>/dev/null
done
wait
rmdir $S/ll $S/lp/c $S/lp/c2 $S/lp $S/sib $S/ks $S/ci/lsm1 $S/ci 2>/dev/null
rm -rf "$tmp"
