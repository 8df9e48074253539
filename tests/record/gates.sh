#!/bin/bash
# analyze on the known run (tests/vm/record/workload.sh): who held the peak,
# the latency and lifetime counts, and p99 gates that fail and pass.
# usage: tests/record/gates.sh DIR (holding run.hsrec)
. "$(dirname "$0")/../lib.sh"
hs=${HEAPSTAT:-$(cd "$(dirname "$0")/../.." && pwd)/build/heapstat}
f=$1/run.hsrec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: record_outputs: $1"; }
fail() { echo "FAIL: record_outputs: $1: $2"; }

"$hs" analyze "$f" -j >"$tmp/a.json" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && jq_true '
	([.peaks[] | select(.cgroup == null and .heap == "system")][0] |
	 .peak_bytes == 4194304 and (.held_then | length) == 1 and .held_then[0].bytes == 4194304 and
	 .held_then[0].buffers == 4 and .held_then[0].comm == "dmabuf_alloc") and
	([.peaks[] | select(.cgroup == null and .heap == "default_cma_region")][0] |
	 .held_then[0].bytes == 6291456 and .held_then[0].buffers == 3) and
	([.heaps[] | select(.heap == "system")][0] | .latency.count == 4 and .lifetime.count == 4 and
	 .latency.p50_ns <= .latency.p90_ns and .latency.p90_ns <= .latency.p99_ns and
	 .latency.p99_ns <= .latency.max_ns and .latency.p50_ns > 0) and
	([.heaps[] | select(.heap == "default_cma_region")][0] | .latency.count == 3 and .lifetime == null)
	' "$tmp/a.json" >/dev/null; then
	pass "analyze -j: who held each peak, latency and lifetimes per heap"
else
	fail "analyze -j: who held each peak, latency and lifetimes per heap" "exit $rc: $(cat "$tmp/err" "$tmp/a.json")"
fi

# the events' span, on the clock of each peak's time (the recording's start):
# every peak inside it, and the text's summary line saying the same
span=$("$hs" analyze "$f" |
	sed -n 's/^[0-9]* events over \([^ ]*\) (\([^ ]*\) to \([^ ]*\) from the start), .*/\1 \2 \3/p')
if jq_true '.recording as $r | $r.first_event_ns < $r.last_event_ns and
	$r.duration_ns == $r.last_event_ns - $r.first_event_ns and
	([.peaks[].at_ns] | length > 0 and all(. >= $r.first_event_ns and . <= $r.last_event_ns))' \
	"$tmp/a.json" >/dev/null && [ -n "$span" ]; then
	pass "analyze: the events' span from the start holds every peak, text and -j alike"
else
	fail "analyze: the events' span from the start holds every peak, text and -j alike" \
		"'$span' $(jq -c '[.recording, [.peaks[].at_ns]]' "$tmp/a.json")"
fi

# each leaked buffer's own fd, made inside its allocation's ioctl (so its
# record comes before the allocation's), counted with the buffer
if jq_true '(.leaks | length) == 3 and all(.leaks[]; .fds_made >= 1) and
	.fd_events.made >= (.leaks | length)' "$tmp/a.json" >/dev/null; then
	pass "analyze -j: a leaked buffer's fds made count the allocation's own"
else
	fail "analyze -j: a leaked buffer's fds made count the allocation's own" \
		"$(jq -c '[.leaks[] | {inode, fds_made}], .fd_events' "$tmp/a.json")"
fi

# the 4 MiB allocation /rec's 8 MiB limit refused with 6 MiB held: whose
# limit, at what usage, in -j and in the text alike; its thread (a
# single-threaded process's: its pid), no bpf-lsm `when`
if jq_true '.limit_refusals | length == 1 and (.[0] | .heap == "default_cma_region" and
	.requested_bytes == 4194304 and .usage_bytes == 6291456 and .limit_bytes == 8388608 and
	.limit_cgroup == "/rec" and (.cgroup | startswith("/rec/")) and .backend == "dmem" and
	.tid == .pid and .when == null)' \
	"$tmp/a.json" >/dev/null &&
	"$hs" analyze "$f" | grep -A2 "^REFUSED BY A LIMIT: 1$" |
	grep -q " /rec  *default_cma_region  *4\.0M  *6\.0M  *8\.0M dmem$"; then
	pass "analyze: the limit refusal, whose limit and its usage, -j and text"
else
	fail "analyze: the limit refusal, whose limit and its usage, -j and text" \
		"$(jq -c .limit_refusals "$tmp/a.json"; "$hs" analyze "$f" | grep -A2 REFUSED)"
fi

# p99 gates either side of the recorded p99
p99=$(jq '[.heaps[] | select(.heap == "system")][0].latency.p99_ns' "$tmp/a.json")
"$hs" analyze "$f" --fail-on "p99:system>$((p99 - 1))ns" >/dev/null 2>"$tmp/e1"; r1=$?
"$hs" analyze "$f" --fail-on "p99:system>${p99}ns" >/dev/null 2>"$tmp/e2"; r2=$?
[ $r1 = 1 ] && grep -q "^heapstat analyze: p99:system: .* over " "$tmp/e1" && [ $r2 = 0 ] &&
	[ ! -s "$tmp/e2" ] &&
	pass "--fail-on p99:HEAP>TIME fails one ns below the p99, passes at it" ||
	fail "--fail-on p99:HEAP>TIME fails one ns below the p99, passes at it" \
		"$r1 $r2: $(cat "$tmp/e1" "$tmp/e2")"
# a heap the guest had but the run never used passes (its snapshots list the
# system's heaps); one it did not have is a typo: refused, exit 2, naming them
"$hs" analyze "$f" --fail-on "peak:carveout-vm>0,p99:carveout-vm>1ns" >/dev/null 2>"$tmp/e1"; r1=$?
"$hs" analyze "$f" --fail-on "leaks,p99:nosuchheap>1us" --perfetto "$tmp/nope.pftrace" >/dev/null 2>"$tmp/e2"; r2=$?
"$hs" analyze "$f" --fail-on "," >/dev/null 2>"$tmp/e3"; r3=$?
[ $r1 = 0 ] && [ ! -s "$tmp/e1" ] && [ $r2 = 2 ] && [ ! -e "$tmp/nope.pftrace" ] &&
	grep -q "^heapstat analyze: --fail-on p99:nosuchheap>1us: .*run.hsrec has no heap 'nosuchheap' (its heaps: .*carveout-vm.*)$" "$tmp/e2" &&
	[ $r3 = 2 ] && grep -q "',' names no check" "$tmp/e3" &&
	pass "--fail-on: an unused heap passes, an unknown heap (no trace written) and no check are refused" ||
	fail "--fail-on: an unused heap passes, an unknown heap (no trace written) and no check are refused" \
		"$r1 $r2 $r3: $(cat "$tmp/e1" "$tmp/e2" "$tmp/e3")"
# refused, saying what is wrong: the check, or its threshold
for bad in "p99:>5|is not a check" "peak:system|is not a check" "p99:system>|the time '' is not a time" \
	"p99:system>5 ms|the time '5 ms' is not a time" "p99:system>-1|the time '-1' is not a time" \
	"p99:system>5h|the time '5h' is not a time" "p99:system>1e3ms|the time '1e3ms' is not a time" \
	"p99:system>0x10|the time '0x10' is not a time" \
	"p99:system>0.0000001ms|the time '0.0000001ms' is below a nanosecond or too large" \
	"peak:system>4MB|the size '4MB' is not bytes with an optional K, M or G suffix" \
	"peak:system>99999999999999999999|the size '99999999999999999999' is too large"; do
	"$hs" analyze "$f" --fail-on "${bad%%|*}" >/dev/null 2>"$tmp/e"; rc=$?
	[ $rc = 2 ] && grep -qF -- "${bad#*|}" "$tmp/e" && pass "--fail-on refuses '${bad%%|*}', says why" ||
		fail "--fail-on refuses '${bad%%|*}', says why" "exit $rc: $(cat "$tmp/e")"
done
# a threshold a byte below the peak: not said as 4.0M over 4.0M
"$hs" analyze "$f" --fail-on "peak:system>4194303" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc = 1 ] && grep -qx "heapstat analyze: peak:system: 4194304 bytes over 4194303 bytes" "$tmp/e" &&
	pass "--fail-on peak a byte below: the bytes said, not a size rounded alike" ||
	fail "--fail-on peak a byte below: the bytes said" "exit $rc: $(cat "$tmp/e")"

# CMA over the run: the area behind default_cma_region starts empty and ends
# holding the three leaked buffers, and its largest free extent shrank by them at least
if jq_true '(.leaks | map(select(.heap == "default_cma_region").bytes) | add) as $l |
	[.cma[] | select(.area == "reserved")][0] | .samples >= 2 and .used_bytes_start == 0 and
	.used_bytes_end == $l and .used_bytes_max >= $l and
	.largest_free_bytes_min <= .total_bytes - $l and .fragmentation_max >= 0' "$tmp/a.json" >/dev/null; then
	pass "analyze -j: the CMA area over the run (used at start and end, largest free extent)"
else
	fail "analyze -j: the CMA area over the run (used at start and end, largest free extent)" \
		"$(jq -c .cma "$tmp/a.json")"
fi

# a header cut short and one damaged: exit 3, each said for what it is
head -c 30 "$f" >"$tmp/cut.hsrec"
cp "$f" "$tmp/bad.hsrec"
printf '\377' | dd of="$tmp/bad.hsrec" bs=1 seek=14 conv=notrunc 2>/dev/null
"$hs" analyze "$tmp/cut.hsrec" >/dev/null 2>"$tmp/e1"; rc1=$?
"$hs" analyze "$tmp/bad.hsrec" >/dev/null 2>"$tmp/e2"; rc2=$?
[ $rc1 = 3 ] && grep -q "the file ends inside a record" "$tmp/e1" &&
	[ $rc2 = 3 ] && grep -q "more than a record may have" "$tmp/e2" &&
	pass "analyze: a header cut short and one damaged, exit 3, each said as it is" ||
	fail "analyze: a header cut short and one damaged, exit 3, each said as it is" \
		"exit $rc1: $(cat "$tmp/e1"); exit $rc2: $(cat "$tmp/e2")"

# its output lost (a full device): exit 2, as for any file it cannot write,
# over a failed check's 1 and a cut recording's 3; said once
head -c $(($(stat -c %s "$f") - 4)) "$f" >"$tmp/end.hsrec"
"$hs" analyze "$f" --fail-on leaks >/dev/full 2>"$tmp/e1"; rc1=$?
"$hs" analyze "$tmp/end.hsrec" -j >/dev/full 2>"$tmp/e2"; rc2=$?
"$hs" analyze "$tmp/end.hsrec" >/dev/null 2>/dev/null; rc3=$?
lost="^heapstat analyze: failed to write the output: No space left on device$"
[ $rc1 = 2 ] && [ "$(grep -c "$lost" "$tmp/e1")" = 1 ] && [ $rc2 = 2 ] && [ $rc3 = 3 ] &&
	[ "$(grep -c "$lost" "$tmp/e2")" = 1 ] &&
	pass "analyze: its output lost, exit 2 over a failed check's 1 and a cut file's 3" ||
	fail "analyze: its output lost, exit 2 over a failed check's 1 and a cut file's 3" \
		"exit $rc1: $(cat "$tmp/e1"); exit $rc2 ($rc3): $(cat "$tmp/e2")"
