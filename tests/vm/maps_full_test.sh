#!/bin/sh
# A full map of the collector's is said, by which map, and the rest keeps
# being counted: with room for two aggregates (HEAPSTAT_TEST_MAX_AGGS=2,
# a test's knob: 16384 cgroups are what fills it otherwise), three cgroups
# allocate and free three buffers each, one after the other. The first two
# are counted exactly, the third not at all, and report (JSON and table),
# heaptop and the exporter say counts were lost for the aggregate map, and
# exit 0. Then cgroups removed give theirs back (below), one after another
# and while others come and go.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
pass() { echo "PASS: maps_full: $1"; }
fail() { echo "FAIL: maps_full: $1: $2"; }
[ -e /dev/dma_heap/system ] || { echo "SKIP: maps_full: no system heap"; exit 0; }

export HEAPSTAT_TEST_MAX_AGGS=2
rep_rs=$(ready_socket) trep_rs=$(ready_socket) exp_rs=$(ready_socket)
NOTIFY_SOCKET=$rep_rs heapstat report -j -d 600 >"$tmp/json" 2>"$tmp/err" &
rep=$!
NOTIFY_SOCKET=$trep_rs heapstat report -d 600 >"$tmp/table" 2>"$tmp/terr" &
trep=$!
heaptop -j -d 0.3 >"$tmp/frames" 2>"$tmp/toperr" &
top=$!
mkdir $tmp/prom
NOTIFY_SOCKET=$exp_rs heapstat export --textfile $tmp/prom -i 0.3 2>"$tmp/experr" &
exp=$!
frames() { wc -l <"$tmp/frames"; }
wait_ready $rep_rs $rep
wait_ready $trep_rs $trep
wait_ready $exp_rs $exp
wait_frames 2
for c in mf1 mf2 mf3; do
	mkdir -p $S/$c
	sh -c "echo \$\$ >$S/$c/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 3"
done
n=$(frames)
wait_frames $((n + 2))
kill -INT $rep $trep $top
wait $rep
rc=$?
wait $trep
trc=$?
wait $top
sleep 1	# the exporter's last textfile, after the last allocation
kill -INT $exp
wait $exp
erc=$?

row() { jq -M -c --arg c "$1" '[.activity[] | select(.cgroup == $c and .heap == "system")][0]' "$tmp/json"; }
if [ $rc = 0 ] && row /mf1 | jq_true '.allocs == 3 and .frees == 3 and .alloc_bytes == 12288' >/dev/null &&
	row /mf2 | jq_true '.allocs == 3 and .frees == 3' >/dev/null && [ "$(row /mf3)" = null ]; then
	pass "the first two cgroups counted exactly, the third not at all"
else
	fail "the first two cgroups counted exactly, the third not at all" \
		"exit $rc: $(row /mf1) $(row /mf2) $(row /mf3) $(cat "$tmp/err")"
fi
if jq_true '.losses.aggregates >= 3 and .losses.ring == 0 and .losses.buffers == 0
	and .drops == .losses.aggregates' "$tmp/json" >/dev/null; then
	pass "JSON: the aggregate map's losses, apart"
else
	fail "JSON: the aggregate map's losses, apart" "$(jq -c '[.drops, .losses]' "$tmp/json")"
fi
if [ $trc = 0 ] && grep -q '^lost: [0-9]* counts not kept (aggregate map full' "$tmp/table" &&
	! grep -q 'ring buffer full' "$tmp/table"; then
	pass "table: which map was full"
else
	fail "table: which map was full" "exit $trc: $(grep -i lost "$tmp/table") $(cat "$tmp/terr")"
fi
if last_line "$tmp/frames" | jq_true '.losses.aggregates >= 3 and .drops == .losses.aggregates' >/dev/null &&
	[ ! -s "$tmp/toperr" ]; then
	pass "heaptop: which map was full, and it went on"
else
	fail "heaptop: which map was full, and it went on" \
		"$(last_line "$tmp/frames" | jq -c '[.drops, .losses]') $(cat "$tmp/toperr")"
fi
lost=$(sed -n 's/^heapstat_export_counts_lost_total{map="aggregates"} \([0-9]*\)$/\1/p' $tmp/prom/heapstat.prom)
if [ $erc = 0 ] && [ -n "$lost" ] && [ "$lost" -ge 3 ] &&
	grep -q '^heapstat_export_counts_lost_total{map="buffers"} 0$' $tmp/prom/heapstat.prom &&
	grep -q '^heapstat_export_events_dropped_total 0$' $tmp/prom/heapstat.prom; then
	pass "export: the aggregate map's losses in their own series"
else
	fail "export: the aggregate map's losses in their own series" \
		"exit $erc: $(grep -e lost -e dropped $tmp/prom/heapstat.prom) $(cat "$tmp/experr")"
fi
rmdir $S/mf1 $S/mf2 $S/mf3

# Cgroups removed give their aggregates back: with room for two, five
# cgroups made, used and removed one after the other (CI jobs) are each
# counted exactly by a report and heaptop running all along, nothing lost;
# the tree before lost the third and later
rm -f "$tmp/json" "$tmp/frames"
rep_rs=$(ready_socket)
NOTIFY_SOCKET=$rep_rs heapstat report -j -d 600 >"$tmp/json" 2>"$tmp/err" &
rep=$!
heaptop -j -d 0.3 >"$tmp/frames" 2>"$tmp/toperr" &
top=$!
wait_ready $rep_rs $rep
wait_frames 2
for c in rc1 rc2 rc3 rc4 rc5; do
	mkdir -p $S/$c
	sh -c "echo \$\$ >$S/$c/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 3"
	rmdir $S/$c
	sleep 3		# collector.c's COLL_RECYCLE_GRACE_NS, and a round
done
n=$(frames)
wait_frames $((n + 2))
kill -INT $rep $top
wait $rep
rc=$?
wait $top
want='[range(1; 6) | "/rc\(.)"]'
if [ $rc = 0 ] && jq_true "([.activity[] | select(.heap == \"system\" and (.cgroup | startswith(\"/rc\")))
	| select(.allocs == 3 and .frees == 3 and .alloc_bytes == 12288 and .cgroup_removed
		and .latency_ns.p50 != null and .lifetime_ns.p50 != null) | .cgroup] | sort) == $want
	and .losses.aggregates == 0" "$tmp/json" >/dev/null; then
	pass "report: five removed cgroups through two aggregates, each counted exactly"
else
	fail "report: five removed cgroups through two aggregates, each counted exactly" \
		"exit $rc: $(jq -c '[.losses, [.activity[] | select(.cgroup | startswith("/rc"))]]' "$tmp/json") $(cat "$tmp/err")"
fi
if last_line "$tmp/frames" | jq_true "([.rows[] | select(.heap == \"system\" and (.cgroup | startswith(\"/rc\")))
	| select(.allocated.allocs == 3 and .allocated.frees == 3) | .cgroup] | sort) == $want
	and .losses.aggregates == 0" >/dev/null && [ ! -s "$tmp/toperr" ]; then
	pass "heaptop: five removed cgroups through two aggregates, a row each, nothing lost"
else
	fail "heaptop: five removed cgroups through two aggregates, a row each, nothing lost" \
		"$(last_line "$tmp/frames" | jq -c '[.losses, [.rows[] | select(.cgroup | startswith("/rc"))]]') $(cat "$tmp/toperr")"
fi

# ... but not while a buffer it exported lives on: /rb1's process moves
# out holding its buffer, /rb1 is removed, /rb2 and /rb3 come and go through
# the other entry; the buffer's release, later, is still /rb1's
rm -f "$tmp/json"
rep_rs=$(ready_socket)
NOTIFY_SOCKET=$rep_rs heapstat report -j -d 600 >"$tmp/json" 2>"$tmp/err" &
rep=$!
wait_ready $rep_rs $rep
alloc_in rb1 $tmp/rb 60 -H system -s 4K
holder=$!
wait_while "[ ! -e $tmp/rb ]"
echo $holder >$S/cgroup.procs
rmdir $S/rb1
sleep 3		# ripe, and busy
for c in rb2 rb3; do
	mkdir -p $S/$c
	sh -c "echo \$\$ >$S/$c/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 3"
	rmdir $S/$c
	sleep 3
done
kill $holder
wait $holder
sleep 1
kill -INT $rep
wait $rep
rc=$?
got=$(jq -c '[.losses.aggregates, ([.activity[] | select(.heap == "system" and (.cgroup | startswith("/rb")))
	| [.cgroup, .allocs, .frees]] | sort)]' "$tmp/json")
if [ $rc = 0 ] && [ "$got" = '[0,[["/rb1",1,1],["/rb2",3,3],["/rb3",3,3]]]' ]; then
	pass "a removed cgroup's buffer living on keeps its aggregate: its release is the cgroup's"
else
	fail "a removed cgroup's buffer living on keeps its aggregate: its release is the cgroup's" \
		"exit $rc: $got $(cat "$tmp/err")"
fi

# ... and while others come and go: sixteen cgroups through eight entries,
# one made every 0.6 s (about four wait out their grace at once), each
# counted exactly
export HEAPSTAT_TEST_MAX_AGGS=8
rm -f "$tmp/json"
rep_rs=$(ready_socket)
NOTIFY_SOCKET=$rep_rs heapstat report -j -d 600 >"$tmp/json" 2>"$tmp/err" &
rep=$!
wait_ready $rep_rs $rep
mkdir -p $S/ch
jobs=
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	(mkdir $S/ch/c$i
	 sh -c "echo \$\$ >$S/ch/c$i/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 3"
	 rmdir $S/ch/c$i) &
	jobs="$jobs $!"
	sleep 0.6
done
wait $jobs
kill -INT $rep
wait $rep
rc=$?
got=$(jq -c '[.losses.aggregates, ([.activity[] | select(.heap == "system" and (.cgroup | startswith("/ch/")))
	| select(.allocs == 3 and .frees == 3 and .cgroup_removed)] | length)]' "$tmp/json")
if [ $rc = 0 ] && [ "$got" = '[0,16]' ]; then
	pass "sixteen cgroups coming and going through eight aggregates, each counted exactly"
else
	fail "sixteen cgroups coming and going through eight aggregates, each counted exactly" \
		"exit $rc: [lost, counted] $got $(cat "$tmp/err")"
fi
rmdir $S/ch
unset HEAPSTAT_TEST_MAX_AGGS
rm -rf "$tmp"
exit 0
