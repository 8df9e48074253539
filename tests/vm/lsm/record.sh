#!/bin/sh
# heapstat record on the bpf-lsm backend: a refusal of a limit on the
# system heap (upstream's, mem_accounting off) is recorded as exactly one
# limit record with the program's usage and limit, and stays in the
# backend's ring for heapstat limit events (record reads it without
# consuming it); --flight writes a file for it.
# Run by tests/boot/lsm_limit.sh:
#   scripts/vm --load system_heap -- sh /heapstat/tests/vm/lsm/record.sh
. "$(dirname "$0")/../../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
H=system
pass() { echo "PASS: record_lsm: $1"; }
fail() { echo "FAIL: record_lsm: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: record_lsm: no system heap"; exit 0; }
# (no such parameter before 7.x: the system heap charged nobody)
[ "$(cat /sys/module/dma_heap/parameters/mem_accounting 2>/dev/null || echo N)" = N ] ||
	{ echo "SKIP: record_lsm: dma_heap.mem_accounting is on"; exit 0; }
# the workload: 512 KiB held by a child, then 1 MiB refused by /lr's 1 MiB
work="dmabuf_alloc -H $H -s 512K --background -w 60 -R $tmp/bg.\$\$
	dmabuf_alloc -H $H -s 1M 2>/dev/null
	exit 0"

mkdir -p $S/lr
heapstat limit set /lr $H 1M || fail "limit set" "/lr"
heapstat limit events >/dev/null 2>&1	# what earlier tests left in the ring
sh -c "echo \$\$ >$S/lr/cgroup.procs; exec heapstat record -o $tmp/r.hsrec -- sh -c '$work'" \
	>$tmp/r.out 2>&1
rc=$?
rec_dump $tmp/r.hsrec >$tmp/r.json
b=$(stat -c %i $S/lr)
# refused in the ioctl, before the heap: no allocation record, the task's process record
if [ $rc = 0 ] && [ "$(grep -c '"type":"limit"' $tmp/r.json)" = 1 ] &&
	[ "$(grep -c '"type":"alloc".*"err":-' $tmp/r.json)" = 0 ] &&
	jq_true -s --arg h $H --argjson b $b '[.[] | select(.type == "limit")][0] as $l |
	$l.backend == 1 and $l.bound_cgroup_id == $b and $l.bound_cgroup == "/lr" and $l.heap == $h and
	$l.requested == 1048576 and $l.usage == 524288 and $l.limit == 1048576 and
	$l.tid == $l.pid and $l.when == 1 and
	([.[] | select(.type == "process" and .pid == $l.pid)] | length == 1 and
	 .[0].comm == "dmabuf_alloc" and .[0].cgroup_id == $l.cgroup_id and
	 (.[0].cgroup | startswith("/lr/heapstat-record-")))' $tmp/r.json; then
	pass "a bpf-lsm refusal: one limit record, /lr bound, usage 512K, limit 1M, who, in the ioctl"
else
	fail "a bpf-lsm refusal: one limit record, /lr bound, usage 512K, limit 1M, who, in the ioctl" \
		"exit $rc, /lr $b: $(cat $tmp/r.out; grep -v snap $tmp/r.json | tr '\n' ' ')"
fi
# the refusal, in the ioctl, is a failed allocation no alloc record has:
# --fail-on failures fails on it, and says what refused it
heapstat analyze $tmp/r.hsrec --fail-on failures --junit $tmp/a.xml >$tmp/a.out 2>$tmp/a.err
rc=$?
heapstat analyze $tmp/r.hsrec -j 2>/dev/null |
	jq -c '[.failed_allocations, .ioctl_refusals, (.limit_refusals[] | .when, .tid == .pid)]' >$tmp/a.j
[ $rc = 1 ] && [ "$(cat $tmp/a.j)" = '[0,1,"ioctl",true]' ] &&
	grep -q "^and 1 refused by a bpf-lsm limit in the ioctl" $tmp/a.out &&
	grep -q "failures: 1 failed allocation (1 refused by a bpf-lsm limit in the ioctl)" $tmp/a.err &&
	grep -q "$H 1.0M by pid [0-9]* in /lr/heapstat-record-[^ ]* at .*: refused by /lr.*s bpf-lsm limit in the ioctl (limit)" $tmp/a.xml &&
	pass "analyze --fail-on failures: a refusal in the ioctl fails it, its limit named" ||
	fail "analyze --fail-on failures: a refusal in the ioctl fails it, its limit named" \
		"exit $rc, $(cat $tmp/a.j): $(cat $tmp/a.out $tmp/a.err $tmp/a.xml)"
# the HTML page names the cgroup whose limit refused: /lr, which no process record names
heapstat analyze $tmp/r.hsrec --html $tmp/r.html >/dev/null 2>&1 &&
	grep -q '<td class="m">/lr</td>' $tmp/r.html &&
	pass "analyze --html: whose limit, /lr, named by the limit record" ||
	fail "analyze --html: whose limit, /lr, named by the limit record" \
		"$(grep -o '<td class="m">[^<]*</td>' $tmp/r.html | head -n 5)"
# not consumed: limit events still has it
heapstat limit events -j >$tmp/ev 2>&1
jq_true -s '[.[] | select(.backend == "bpf-lsm" and (.cgroup | startswith("/lr/heapstat-record-")))] |
	length == 1 and .[0].requested_bytes == 1048576' $tmp/ev &&
	pass "the refusal is still there for limit events" ||
	fail "the refusal is still there for limit events" "$(cat $tmp/ev)"
reap_records /lr

mkdir $tmp/fl
sh -c "echo \$\$ >$S/lr/cgroup.procs; exec heapstat record --flight 5 -o $tmp/fl -- sh -c '$work'" \
	>$tmp/f.out 2>&1
rc=$?
set -- $tmp/fl/heapstat-*-limit.hsrec
rec_dump "$1" >$tmp/f.json 2>&1
[ $rc = 0 ] && [ $# = 1 ] && [ -f "$1" ] && [ "$(ls $tmp/fl | wc -l)" = 1 ] &&
	[ "$(grep -c '"type":"limit"' $tmp/f.json)" = 1 ] &&
	[ "$(grep -c '"type":"process".*"comm":"dmabuf_alloc"' $tmp/f.json)" -ge 1 ] &&
	grep -q "^heapstat record: wrote $1 (limit, " $tmp/f.out &&
	heapstat analyze "$1" >/dev/null 2>&1 &&
	pass "--flight: a file for the refusal, with its limit record" ||
	fail "--flight: a file for the refusal, with its limit record" \
		"exit $rc: $(ls $tmp/fl; cat $tmp/f.out; grep -v snap $tmp/f.json | tr '\n' ' ')"
reap_records /lr

# the last limit cleared and set again while recording: the programs pinned
# anew write to a new ring, whose refusals are recorded too (the ring opened
# first was followed alone)
heapstat limit events >/dev/null 2>&1
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/p.hsrec -d 60 >$tmp/p.out 2>&1 &
rp=$!
wait_ready $rs $rp
refuse() { sh -c "echo \$\$ >$S/lr/cgroup.procs; exec dmabuf_alloc -H $H -s 2M" 2>/dev/null; }
refuse
heapstat limit clear /lr $H
heapstat limit set /lr $H 1M
refuse
sleep 1.5	# record looks for pins anew once a second
kill -INT $rp
wait $rp
rc=$?
n=$(rec_dump $tmp/p.hsrec | grep -c '"type":"limit"')
[ $rc = 0 ] && [ "$n" = 2 ] &&
	pass "the last limit cleared and set again while recording: both rings' refusals recorded" ||
	fail "the last limit cleared and set again while recording: both rings' refusals recorded" \
		"exit $rc, $n limit records: $(cat $tmp/p.out)"
heapstat limit events >/dev/null 2>&1
heapstat limit clear /lr $H
rmdir $S/lr
rm -rf $tmp
