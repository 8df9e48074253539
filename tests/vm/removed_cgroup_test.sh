#!/bin/sh
# A cgroup removed while heapstat traces (a CI job's, ended with the job) keeps
# the path it had in every view, not its id: report -d, export, heaptop,
# record and limit events. A cgroup made again at that path is one row with it, its counts
# summed. In a cgroup namespace (the kernel's path is not the namespace's),
# the id. An hour after its counts settled, heaptop and the exporter drop its
# rows (below). Each job's cgroup is made, used and removed
# between two of the command's looks at the tree (heaptop's frames, a stopped
# recorder), so the path can only come from the kernel's cgroup_rmdir.
. /heapstat/tests/lib.sh
S=/sys/fs/cgroup
tmp=$(mktemp -d)
pass() { echo "PASS: removed cgroup: $1"; }
fail() { echo "FAIL: removed cgroup: $1: $2"; }
[ -e /dev/dma_heap/system ] || { echo "SKIP: removed cgroup: no system heap"; exit 0; }
mkdir -p $S/rmc

# job CGROUP ARGS: dmabuf_alloc ARGS in a new cgroup /rmc/CGROUP, removed after
job() {
	cg=$1
	shift
	mkdir -p $S/rmc/$cg
	sh -c "echo \$\$ >$S/rmc/$cg/cgroup.procs; exec dmabuf_alloc $*" >/dev/null 2>&1
	rmdir $S/rmc/$cg
}
no_ids() { ! grep -q '?[0-9]' "$1"; }

# report -d: /rmc/job twice (3 then 2 buffers of 64 KiB, each freed), /rmc/once
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 120 >$tmp/r.json 2>$tmp/r.err &
p=$!
wait_ready $rs $p
job job -H system -s 64K -n 3
job job -H system -s 64K -n 2
job once -H system -s 4K -n 1
kill -INT $p
wait $p
rc=$?
act() { jq -c --arg cg "$1" '[.activity[] | select(.cgroup == $cg and .heap == "system")]' $tmp/r.json; }
if [ $rc = 0 ] && act /rmc/job | jq_true 'length == 1 and .[0].allocs == 5 and
	.[0].alloc_bytes == 327680 and .[0].frees == 5 and .[0].free_bytes == 327680 and
	.[0].cgroup_removed' >/dev/null &&
	act /rmc/once | jq_true 'length == 1 and .[0].allocs == 1 and .[0].frees == 1 and
	.[0].cgroup_removed' >/dev/null &&
	jq_true '[.cgroups[].heaps[] | select(.cgroup == "/rmc/job")] | length == 1 and
	.[0].cgroup_removed' $tmp/r.json >/dev/null &&
	no_ids $tmp/r.json; then
	pass "report -d: a removed cgroup by its path; made again, one row of 5 allocations"
else
	fail "report -d: a removed cgroup by its path; made again, one row of 5 allocations" \
		"exit $rc: $(jq -c '[.activity[] | [.cgroup, .allocs]]' $tmp/r.json) $(cat $tmp/r.err)"
fi

# report -d's text: the removed cgroups named under the activity, the first
# eight in the table's order; a live cgroup's row is not among them
mkdir $S/rmc/live
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report activity -d 120 >$tmp/t.txt 2>$tmp/t.err &
p=$!
wait_ready $rs $p
for j in 0 1 2 3 4 5 6 7 8 9; do
	job t$j -H system -s 4K -n 1
done
sh -c "echo \$\$ >$S/rmc/live/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 1" >/dev/null 2>&1
kill -INT $p
wait $p
rc=$?
rmdir $S/rmc/live
rows=$(awk '$1 ~ "^/rmc/t" { printf "%s, ", $1 }' $tmp/t.txt)
note=$(grep '^note: removed while traced: ' $tmp/t.txt)
want="note: removed while traced: $(echo "$rows" | cut -d, -f1-8) and 2 more"
if [ $rc = 0 ] && [ "$(echo "$rows" | tr -cd , | wc -c)" = 10 ] && [ "$note" = "$want" ] &&
	grep -q '^/rmc/live ' $tmp/t.txt && [ "$(grep -c '^note: removed' $tmp/t.txt)" = 1 ]; then
	pass "report -d's text: the removed cgroups said under the activity, a live one not"
else
	fail "report -d's text: the removed cgroups said under the activity, a live one not" \
		"exit $rc: want '$want', got '$note': $(cat $tmp/t.txt $tmp/t.err)"
fi

# export: a job between two samples, then made again: its counters go on
scrape() {	# scrape FILE: a sample taken after now (one a second)
	sleep 1.2
	i=0
	until wget -q -O $1 http://127.0.0.1:9481/metrics 2>/dev/null || [ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
heapstat export --listen 127.0.0.1:9481 -i 1 2>$tmp/x.err &
p=$!
scrape $tmp/m0
job ex -H system -s 64K -n 2
scrape $tmp/m1
job ex -H system -s 64K -n 1
scrape $tmp/m2
kill -TERM $p
wait $p
rc=$?
val() { awk -v k='heapstat_allocations_total{cgroup="/rmc/ex",heap="system"} ' \
	'index($0, k) == 1 { print $NF }' $1; }
if [ $rc = 0 ] && [ "$(val $tmp/m1)" = 2 ] && [ "$(val $tmp/m2)" = 3 ] && no_ids $tmp/m2; then
	pass "export: a removed cgroup's counter under its path, going on when made again"
else
	fail "export: a removed cgroup's counter under its path, going on when made again" \
		"exit $rc: '$(val $tmp/m1)' '$(val $tmp/m2)': $(grep '^heapstat_allocations_total' $tmp/m2) $(cat $tmp/x.err)"
fi

# heaptop: a job inside one interval of frames; made again, its row's
# allocations since start are summed, those of the interval the new job's
frames() {	# frames N: wait for N frames
	i=0
	while [ "$(wc -l <$tmp/frames)" -lt $1 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heaptop -b -j -d 1.5 -n 3 >$tmp/frames 2>$tmp/t.err &
p=$!
wait_ready $rs $p
frames 1
job top -H system -s 64K -n 3
frames 2
job top -H system -s 64K -n 1
wait $p
rc=$?
last=$(last_line $tmp/frames | jq -c '.interval_s as $i | [.rows[] |
	select(.cgroup == "/rmc/top" and .heap == "system") | [.allocated.allocs, (.allocs_per_sec * $i + 0.5 | floor)]]')
if [ $rc = 0 ] && [ "$last" = '[[4,1]]' ] && no_ids $tmp/frames; then
	pass "heaptop: a removed cgroup's row by its path; made again, summed, its rate the new job's"
else
	fail "heaptop: a removed cgroup's row by its path; made again, summed, its rate the new job's" \
		"exit $rc: $last: $(jq -c '[.rows[] | [.cgroup, .heap, .allocated.allocs]]' $tmp/frames) $(cat $tmp/t.err)"
fi

# heaptop's text: the rows of removed cgroups named above the table, in its
# order, in a frame after the jobs (a live cgroup's row not among them)
mkdir $S/rmc/hlive
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heaptop -b -d 1 >$tmp/h.txt 2>$tmp/h.err &
p=$!
wait_ready $rs $p
for j in 0 1 2; do
	job h$j -H system -s 4K -n 1
done
sh -c "echo \$\$ >$S/rmc/hlive/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 1" >/dev/null 2>&1
titles() { grep -c '^heaptop - ' $tmp/h.txt; }
after=$(($(titles) + 1))
wait_while '[ $(titles) -le $after ]'
kill -INT $p
wait $p
rc=$?
rmdir $S/rmc/hlive
awk -v n=$after '/^heaptop - / { f++ } f == n' $tmp/h.txt >$tmp/h1.txt
rows=$(awk '$1 ~ "^/rmc/h[0-9]" { printf "%s, ", $1 }' $tmp/h1.txt)
note=$(grep '^note: removed while traced: ' $tmp/h1.txt)
if [ $rc = 0 ] && [ "$(echo "$rows" | tr -cd , | wc -c)" = 3 ] &&
	[ "$note" = "note: removed while traced: ${rows%, }" ] &&
	grep -q '^/rmc/hlive ' $tmp/h1.txt && [ "$(grep -c '^note: removed' $tmp/h1.txt)" = 1 ]; then
	pass "heaptop's text: the removed cgroups said above the table, a live one not"
else
	fail "heaptop's text: the removed cgroups said above the table, a live one not" \
		"exit $rc: rows '$rows', note '$note': $(cat $tmp/h1.txt $tmp/h.err)"
fi

# record: the recorder stopped while a job runs and its cgroup goes; resumed,
# the job's process record names the path the cgroup had
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/rec >/dev/null 2>$tmp/rec.err &
p=$!
wait_ready $rs $p
kill -STOP $p
job rec -H system -s 4K -n 1
kill -CONT $p
sleep 1
kill -INT $p
wait $p
rc=$?
heapstat analyze -j $tmp/rec >$tmp/a.json 2>$tmp/a.err
if [ $rc = 0 ] && jq_true '[.peaks[] | select(.cgroup == "/rmc/rec")] | length == 1' $tmp/a.json >/dev/null &&
	no_ids $tmp/a.json; then
	pass "record: a job's cgroup removed before its events were read, by its path"
else
	fail "record: a job's cgroup removed before its events were read, by its path" \
		"exit $rc: $(jq -c '[.peaks[] | .cgroup]' $tmp/a.json) $(cat $tmp/rec.err $tmp/a.err)"
fi

# limit events -f, the follower stopped until the jobs' cgroups went: a job
# refused by its own dmem limit is named by its path, its limit null (it went
# with the cgroup: not read); one refused by its parent's limit has that
# limit, read from the parent; one refused by its own limit under a parent
# whose limit had room is not laid to the parent's, nor to a cgroup made
# again at its path
H=default_cma_region
if [ -e /dev/dma_heap/$H ]; then
	echo "+dmem" >$S/rmc/cgroup.subtree_control
	mkdir $S/rmc/lj $S/rmc/lp $S/rmc/lq
	echo "dma-heap/$H 0" >$S/rmc/lj/dmem.max
	echo "dma-heap/$H 65536" >$S/rmc/lp/dmem.max
	echo "dma-heap/$H 1048576" >$S/rmc/lq/dmem.max
	echo "+dmem" >$S/rmc/lq/cgroup.subtree_control
	rs=$(ready_socket) rrs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat limit events -f -j -d 120 >$tmp/lev 2>$tmp/lev.err &
	p=$!
	NOTIFY_SOCKET=$rrs heapstat record -o $tmp/lrec >/dev/null 2>$tmp/lrec.err &
	rp=$!
	wait_ready $rs $p
	wait_ready $rrs $rp
	kill -STOP $p $rp
	job lj -H $H -s 4K
	job lp/a -H $H -s 128K
	mkdir $S/rmc/lq/b $S/rmc/lr
	echo "dma-heap/$H 0" >$S/rmc/lq/b/dmem.max
	echo "dma-heap/$H 0" >$S/rmc/lr/dmem.max
	job lq/b -H $H -s 4K	# (made with their limits above)
	job lr -H $H -s 4K
	# made again at the job's path, with room: another cgroup, not the one refused
	mkdir $S/rmc/lr
	echo "dma-heap/$H 1073741824" >$S/rmc/lr/dmem.max
	kill -CONT $p $rp
	sleep 1
	kill -INT $p $rp
	wait $p
	rc=$?
	wait $rp
	rrc=$?
	ev() { jq -c --arg cg "$1" 'select(.cgroup == $cg) | [.limit_cgroup, .usage_bytes, .limit_bytes]' $tmp/lev; }
	if [ $rc = 0 ] && [ "$(wc -l <$tmp/lev)" = 4 ] && jq_true --arg h $H '.backend == "dmem" and
		.heap == $h' $tmp/lev >/dev/null && [ "$(ev /rmc/lj)" = '[null,null,null]' ] &&
		[ "$(ev /rmc/lp/a)" = '["/rmc/lp",0,65536]' ] && [ "$(ev /rmc/lq/b)" = '[null,null,null]' ] &&
		[ "$(ev /rmc/lr)" = '[null,null,null]' ]; then
		pass "limit events -f: refusals read after their cgroups went: by path, a parent's limit named"
	else
		fail "limit events -f: refusals read after their cgroups went: by path, a parent's limit named" \
			"exit $rc: $(cat $tmp/lev $tmp/lev.err)"
	fi
	# the same in the recording: the parent's limit in its refusal's record,
	# the others' unknown (null; "-" in the table), not 0
	heapstat analyze -j $tmp/lrec >$tmp/la.json 2>$tmp/la.err
	heapstat analyze $tmp/lrec >$tmp/la.txt 2>>$tmp/la.err
	lr() { jq -c --arg cg "$1" '[.limit_refusals[] | select(.cgroup == $cg) | [.limit_cgroup,
		.usage_bytes, .limit_bytes, .backend]]' $tmp/la.json; }
	if [ $rrc = 0 ] && [ "$(lr /rmc/lp/a)" = '[["/rmc/lp",0,65536,"dmem"]]' ] &&
		[ "$(lr /rmc/lj)" = '[[null,null,null,"dmem"]]' ] &&
		[ "$(lr /rmc/lq/b)" = '[[null,null,null,"dmem"]]' ] &&
		[ "$(lr /rmc/lr)" = '[[null,null,null,"dmem"]]' ] &&
		grep -q "^ *[0-9.]*[mun]*s *[0-9]* /rmc/lj  *-  *$H  *4.0K  *-  *-  *dmem$" $tmp/la.txt; then
		pass "record: refusals read after their cgroups went, a parent's limit recorded"
	else
		fail "record: refusals read after their cgroups went, a parent's limit recorded" \
			"exit $rrc: $(jq -c .limit_refusals $tmp/la.json) $(grep -A4 REFUSED $tmp/la.txt) $(cat $tmp/lrec.err $tmp/la.err)"
	fi
	rmdir $S/rmc/lj $S/rmc/lp $S/rmc/lq $S/rmc/lr 2>/dev/null
	echo "-dmem" >$S/rmc/cgroup.subtree_control
fi

# in a cgroup namespace rooted at /rmc/ns: /job inside, /rmc/ns/job to the
# kernel's tracepoint; named by its id, not by a path the namespace has not
mkdir $S/rmc/ns
rs=$(ready_socket)
sh -c "echo \$\$ >$S/rmc/ns/cgroup.procs; NOTIFY_SOCKET=$rs exec cgns heapstat report -j -d 120" \
	>$tmp/ns.json 2>$tmp/ns.err &
p=$!
wait_ready $rs $p
job ns/job -H system -s 4K -n 1
kill -INT $p
wait $p
rc=$?
if [ $rc = 0 ] && jq_true '[.activity[] | select(.heap == "system")] | length == 1 and
	(.[0].cgroup | test("^\\?[0-9]+$")) and .[0].allocs == 1' $tmp/ns.json >/dev/null; then
	pass "in a cgroup namespace: a removed cgroup by its id, not the kernel's path"
else
	fail "in a cgroup namespace: a removed cgroup by its id, not the kernel's path" \
		"exit $rc: $(jq -c '[.activity[] | [.cgroup, .heap, .allocs]]' $tmp/ns.json) $(cat $tmp/ns.err)"
fi

# heaptop and the exporter drop a removed cgroup's rows an hour after its
# counts settled (4 s here: --keep-removed), not for ever; the
# heap's latency histogram keeps its allocations, never going down. Not the
# rows of a path a cgroup has again (/rmc/kf2, made again), nor the counts a
# folded series has of it (the exporter's --cgroup-depth 1: /rmc's)
heaptop -j -d 0.3 --keep-removed 4 >$tmp/kf.frames 2>$tmp/kf.err &
top=$!
mkdir $tmp/kf $tmp/kfd
es=$(ready_socket) ds=$(ready_socket)
NOTIFY_SOCKET=$es heapstat export --textfile $tmp/kf -i 0.3 --keep-removed 4 2>$tmp/kf.experr &
exp=$!
NOTIFY_SOCKET=$ds heapstat export --textfile $tmp/kfd --cgroup-depth 1 -i 0.3 --keep-removed 4 2>$tmp/kfd.experr &
dexp=$!
wait_ready $es $exp
wait_ready $ds $dexp
wait_while '[ "$(wc -l <$tmp/kf.frames)" -lt 2 ]'
job kf -H system -s 4K -n 3
job kf2 -H system -s 4K -n 3
pids=
alloc_in rmc/kf2 $tmp/kf2.ready 60 -H system -s 4K
holder=$!
wait_while "[ ! -e $tmp/kf2.ready ]"
sleep 1		# the exporters' files with them
cp $tmp/kf/heapstat.prom $tmp/kf.mid
cp $tmp/kfd/heapstat.prom $tmp/kfd.mid
count() { sed -n 's/^heapstat_allocation_latency_seconds_count{heap="system"} //p' "$1"; }
allocs() { sed -n "s|^heapstat_allocations_total{cgroup=\"$2\",heap=\"system\"} ||p" "$1"; }
forgot() { last_line $tmp/kf.frames | jq -r '.inventory_stats.forgotten_rows'; }
forgotten() { sed -n 's/^heapstat_export_rows_forgotten_total //p' "$1"; }
wait_while '[ "$(forgot)" = 0 ]'
wait_while '[ -n "$(allocs $tmp/kf/heapstat.prom /rmc/kf)" ]'
wait_while '[ "$(forgotten $tmp/kfd/heapstat.prom)" != 1 ]'	# /rmc/kf merged with kf2's first
cp $tmp/kf/heapstat.prom $tmp/kf.end
cp $tmp/kfd/heapstat.prom $tmp/kfd.end
rows() { last_line $tmp/kf.frames |
	jq -c "[.rows[] | select(.cgroup == \"$1\" and (.gone | not)) | .allocated.allocs]"; }
top_kf=$(rows /rmc/kf) top_kf2=$(rows /rmc/kf2)
kill $holder
wait $holder
kill -INT $top $exp $dexp
wait $top
trc=$?
wait $exp
erc=$?
wait $dexp
drc=$?
seen=$(grep -c '"cgroup":"/rmc/kf"' $tmp/kf.frames)
if [ $trc = 0 ] && [ "$seen" -gt 0 ] && [ "$top_kf" = '[]' ] && [ "$top_kf2" = '[4]' ] &&
	[ "$(forgot)" -ge 1 ] && [ ! -s $tmp/kf.err ]; then
	pass "heaptop: a removed cgroup's row dropped once settled and kept long enough; one made again keeps its counts"
else
	fail "heaptop: a removed cgroup's row dropped once settled and kept long enough; one made again keeps its counts" \
		"exit $trc, frames with it $seen, last: $top_kf $top_kf2 forgotten $(forgot) $(cat $tmp/kf.err)"
fi
got="$(allocs $tmp/kf.mid /rmc/kf) $(allocs $tmp/kf.end /rmc/kf)- $(allocs $tmp/kf.end /rmc/kf2) $(count $tmp/kf.mid) $(count $tmp/kf.end)"
if [ $erc = 0 ] && [ "$got" = "3 - 4 $(count $tmp/kf.mid) $(count $tmp/kf.mid)" ] &&
	[ "$(count $tmp/kf.mid)" -ge 7 ]; then
	pass "export: its series end, not a path made again's; the heap's latency histogram keeps every allocation"
else
	fail "export: its series end, not a path made again's; the heap's latency histogram keeps every allocation" \
		"exit $erc: kf, kf2, count: $got $(cat $tmp/kf.experr)"
fi
got="$(allocs $tmp/kfd.mid /rmc) $(allocs $tmp/kfd.end /rmc) $(count $tmp/kfd.mid) $(count $tmp/kfd.end)"
if [ $drc = 0 ] && [ "$got" = "7 7 $(count $tmp/kf.mid) $(count $tmp/kf.mid)" ] &&
	[ "$(forgotten $tmp/kfd.end)" = 1 ]; then
	pass "export --cgroup-depth 1: the folded series keeps its removed cgroups' counts, merged"
else
	fail "export --cgroup-depth 1: the folded series keeps its removed cgroups' counts, merged" \
		"exit $drc: /rmc's allocations and the latency count then and at the end: $got, forgotten $(forgotten $tmp/kfd.end) $(cat $tmp/kfd.experr)"
fi
rmdir $S/rmc/kf2 $S/rmc/ns $S/rmc
rm -rf $tmp
