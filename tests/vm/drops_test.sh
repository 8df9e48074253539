#!/bin/sh
# Events the ring buffer has no room for are counted and reported, and the
# in-kernel aggregates stay exact: three reports and heaptop are stopped
# (SIGSTOP) while 40000 allocations are refused (EINVAL) and 40001 buffers
# allocated and freed. In aggregate mode (theirs) only a failure takes an
# event: 40000 against a ring of 256 KiB that holds 1724 of them (152-byte
# records); the successful ones take none, and drop nothing; no hook's call
# is skipped (losses.skipped: see preempt_test.sh).
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
N=40000
F=40000
RING=1724
pass() { echo "PASS: drops: $1"; }
fail() { echo "FAIL: drops: $1: $2"; }
# a drop count: all but at most a ring's worth of the failures' events
dropped_ok() { [ -n "$1" ] && [ "$1" -ge $((F - RING)) ] && [ "$1" -le $F ]; }
[ -e /dev/dma_heap/system ] || { echo "SKIP: drops: no system heap"; exit 0; }
mkdir -p $S/drops

rep_rs=$(ready_socket) tab_rs=$(ready_socket) csv_rs=$(ready_socket)
NOTIFY_SOCKET=$rep_rs heapstat report -j -d 600 >"$tmp/json" 2>"$tmp/err" &
rep=$!
NOTIFY_SOCKET=$tab_rs heapstat report activity -d 600 >"$tmp/table" 2>"$tmp/terr" &
tab=$!
NOTIFY_SOCKET=$csv_rs heapstat report activity --csv -d 600 >"$tmp/csv" 2>"$tmp/cerr" &
csv=$!
heaptop -j -d 0.5 >"$tmp/frames" 2>"$tmp/toperr" &
top=$!
frames() { wc -l <"$tmp/frames"; }
wait_ready $rep_rs $rep
wait_ready $tab_rs $tab
wait_ready $csv_rs $csv
wait_frames 1
kill -STOP $rep $tab $csv $top
sh -c "echo \$\$ >$S/drops/cgroup.procs; exec dmabuf_alloc -s 4K --fail $F --skip $N -n 1"
n=$(frames)
kill -CONT $rep $tab $csv $top
kill -INT $rep $tab $csv
wait_frames $((n + 2))
kill $top
wait $rep
rc=$?
wait $tab
trc=$?
wait $csv
crc=$?
csv_lf "$tmp/csv"

act=$(jq -M -c '.activity[] | select(.cgroup == "/drops" and .heap == "system")' "$tmp/json")
if [ $rc = 0 ] && dropped_ok "$(jq .drops "$tmp/json")" &&
	jq_true '.losses.ring == .drops and .losses.aggregates == 0 and .losses.buffers == 0 and
		.losses.skipped == 0' "$tmp/json" >/dev/null; then
	pass "JSON: events dropped while the reader was stopped are counted"
else
	fail "JSON: events dropped while the reader was stopped are counted" \
		"exit $rc: drops $(jq .drops "$tmp/json") $(cat "$tmp/err")"
fi
# the aggregates do not come through the ring: exact whatever it dropped
if echo "$act" | jq_true --argjson n $N --argjson f $F '.allocs == $n + 1 and .alloc_bytes == ($n + 1) * 4096
	and .exports == $n + 1 and .frees == $n + 1 and .free_bytes == ($n + 1) * 4096
	and .failures.other == $f and .latency_ns.p50 > 0 and .latency_ns.max >= .latency_ns.p99
	and .lifetime_ns.p50 > 0' >/dev/null; then
	pass "allocations and frees exact despite the drops"
else
	fail "allocations and frees exact despite the drops" "$act"
fi
d=$(sed -n 's/^lost: \([0-9]*\) events (ring buffer full: .*$/\1/p' "$tmp/table")
if [ $trc = 0 ] && dropped_ok "$d"; then
	pass "table: the drops are printed"
else
	fail "table: the drops are printed" "exit $trc: '$d' $(cat "$tmp/table" "$tmp/terr")"
fi
# CSV keeps its rows and says it on stderr
d=$(sed -n 's/^heapstat: lost: \([0-9]*\) events (ring buffer full: .*$/\1/p' "$tmp/cerr")
if [ $crc = 0 ] && dropped_ok "$d" &&
	grep -q "^/drops,system,$((N + 1)),$(((N + 1) * 4096)),$((N + 1))," "$tmp/csv" &&
	[ "$(grep -vc '^[^,]*,[^,]*,[0-9]' "$tmp/csv")" = 1 ]; then
	pass "CSV: the drops on stderr, only rows on stdout"
else
	fail "CSV: the drops on stderr, only rows on stdout" "exit $crc: '$d' $(cat "$tmp/csv" "$tmp/cerr")"
fi
d=$(last_line "$tmp/frames" | jq .drops)
if dropped_ok "$d" && last_line "$tmp/frames" | jq_true '.losses.ring == .drops' >/dev/null; then
	pass "heaptop: the drops in its frames"
else
	fail "heaptop: the drops in its frames" "'$d' $(tail -c 300 "$tmp/frames") $(cat "$tmp/toperr")"
fi
wait
rm -rf "$tmp"
rmdir $S/drops
exit 0
