#!/bin/bash
# analyze --perfetto: the trace of the known run (tests/vm/record/workload.sh)
# and of upstream's kselftest, decoded by protoc with our subset of Perfetto's
# protos (tools/record/perfetto_trace.proto, upstream's field numbers), and
# checked against what analyze -j says of the same recording: the heap
# counters' peaks and ends, a slice per allocation attempt, an instant per
# failure, the processes and threads. Then the writer's samples (every record
# type: limit refusals, names with controls) and outputs that cannot be written.
# usage: tests/record/perfetto.sh DIR (holding run.hsrec, kselftest.hsrec and seeds/)
. "$(dirname "$0")/../lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
hs=${HEAPSTAT:-$root/build/heapstat}
proto=(-I "$root/tools/record" "$root/tools/record/perfetto_trace.proto")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: perfetto: $1"; }
fail() { echo "FAIL: perfetto: $1: $2"; }
if ! command -v protoc >/dev/null; then
	echo "SKIP: perfetto: no protoc to decode traces (scripts/deps.sh installs protobuf-compiler)"
	exit 0
fi

# the packets of a decoded trace, one a line: kind, timestamp, uuid (a track's
# or an event's track), type, counter value, pid, tid, name (a track's or an
# event's, quoted), process or thread name (quoted), counter unit
packets() {
	awk -v OFS='\t' '
	/^packet \{/ { kind = ts = id = type = val = pid = tid = name = pname = unit = "-"; next }
	/^  timestamp: / { ts = $2 }
	/^  (track_descriptor|track_event|clock_snapshot) \{/ { kind = $1 }
	/^    (uuid|track_uuid): / { id = $2 }
	/^    type: / { type = $2 }
	/^    counter_value: / { val = $2 }
	/^    name: / { name = substr($0, index($0, ":") + 2) }
	/^      pid: / { pid = $2 }
	/^      tid: / { tid = $2 }
	/^      (process_name|thread_name): / { pname = substr($0, index($0, ":") + 2) }
	/^      unit: / { unit = $2 }
	/^\}/ { print kind, ts, id, type, val, pid, tid, name, pname, unit }' "$1"
}

# decode DIR/NAME's trace into $tmp/NAME.{pftrace,txt,tsv}; true when it decodes whole
decode() {
	local f=$1 n=$2 raw
	"$hs" analyze "$f" --perfetto "$tmp/$n.pftrace" >/dev/null 2>"$tmp/$n.err" || return 1
	protoc --decode=perfetto.protos.Trace "${proto[@]}" <"$tmp/$n.pftrace" \
		>"$tmp/$n.txt" 2>>"$tmp/$n.err" || return 1
	raw=$(protoc --decode_raw <"$tmp/$n.pftrace" | grep -c '^1 {')
	packets "$tmp/$n.txt" >"$tmp/$n.tsv"
	# every packet decoded as a TracePacket; no field our proto does not know
	# (protoc shows those by number); every packet on our sequence and clock
	if [ "$raw" = 0 ] || [ "$(wc -l <"$tmp/$n.tsv")" != "$raw" ]; then
		echo "$(wc -l <"$tmp/$n.tsv") packets decoded of $raw" >>"$tmp/$n.err"
	elif grep -Eq '^ *[0-9]+( \{|:)' "$tmp/$n.txt"; then
		echo "unknown fields: $(grep -Em3 '^ *[0-9]+( \{|:)' "$tmp/$n.txt" | tr '\n' ' ')" >>"$tmp/$n.err"
	elif [ "$(grep -c '^  trusted_packet_sequence_id: 1$' "$tmp/$n.txt")" != "$raw" ] ||
	     [ "$(grep -c '^  timestamp_clock_id: 3$' "$tmp/$n.txt")" != "$((raw - 1))" ] ||
	     [ "$(awk '$1 == "clock_snapshot"' "$tmp/$n.tsv" | wc -l)" != 1 ]; then
		echo "not every packet on sequence 1, in CLOCK_MONOTONIC after one clock snapshot" >>"$tmp/$n.err"
	else
		return 0
	fi
	return 1
}

# counter NAME TSV: the values of the counter track named NAME, in order
counter() {
	awk -F'\t' -v n="\"$1\"" '
	$1 == "track_descriptor" && $8 == n && $10 == u { id[$3] = 1 }
	$1 == "track_event" && $4 == "TYPE_COUNTER" && ($3 in id) { print $5 }' \
		u="${3:-UNIT_SIZE_BYTES}" "$2"
}

# events on each track in time order, slices closed in the order opened
ordered() {
	awk -F'\t' '
	$1 == "track_event" {
		if ($3 in last && $2 + 0 < last[$3]) bad = bad " ts " $2 " on " $3
		last[$3] = $2 + 0
		if ($4 == "TYPE_SLICE_BEGIN") depth[$3]++
		if ($4 == "TYPE_SLICE_END" && --depth[$3] < 0) bad = bad " end at " $2 " on " $3
	}
	END { for (t in depth) if (depth[t]) bad = bad " open on " t; print bad }' "$1"
}

# count TSV CONDITION: how many packets meet the awk condition
count() {
	awk -F'\t' "$2"' { n++ } END { print n + 0 }' "$1"
}

# heap_peak JSON HEAP, heap_left JSON HEAP: its peak over all cgroups, its leaked bytes
heap_peak() {
	jq --arg h "$2" '[.peaks[] | select(.cgroup == null and .heap == $h)][0].peak_bytes' "$1"
}
heap_left() {
	jq --arg h "$2" '[.leaks[] | select(.heap == $h) | .bytes] | add // 0' "$1"
}

# attempts JSON: allocations that succeeded (latencies) and that failed
attempts() {
	jq '([.heaps[].latency.count // 0] | add) + .failed_allocations' "$1"
}

f=$1/run.hsrec
j=$tmp/run.json
"$hs" analyze "$f" -j >"$j" 2>"$tmp/run.jerr" || fail "run.hsrec: analyze -j" "$(cat "$tmp/run.jerr")"
if decode "$f" run; then
	pass "run.hsrec: the trace decodes whole as perfetto.protos.Trace"
else
	fail "run.hsrec: the trace decodes whole as perfetto.protos.Trace" "$(cat "$tmp/run.err")"
fi

# each heap's counter goes from 0 up to its peak and ends at its leaked
# bytes; each cgroup x heap's reaches its peak
for heap in system default_cma_region; do
	peak=$(heap_peak "$j" $heap)
	left=$(heap_left "$j" $heap)
	vals=$(counter "heap $heap" "$tmp/run.tsv" | tr '\n' ' ')
	what="run.hsrec: counter 'heap $heap' from 0 up to its peak $peak, ending at $left"
	[ "$peak" -gt 0 ] && [ "${vals%% *}" = 0 ] &&
		[ "$(printf '%s\n' $vals | sort -n | tail -1)" = "$peak" ] &&
		[ "$(printf '%s\n' $vals | tail -1)" = "$left" ] && pass "$what" ||
		fail "$what" "values: $vals"
done
bad=
while IFS=$'\t' read -r cg heap peak; do
	max=$(counter "heap $heap cgroup $cg" "$tmp/run.tsv" | sort -n | tail -1)
	[ "$max" = "$peak" ] || bad="$bad $cg/$heap: $max, not $peak;"
done < <(jq -r '.peaks[] | select(.cgroup) | [.cgroup, .heap, .peak_bytes] | @tsv' "$j")
n=$(jq '[.peaks[] | select(.cgroup)] | length' "$j")
[ "$n" -gt 0 ] && [ -z "$bad" ] && pass "run.hsrec: $n cgroup x heap counters reach their peaks" ||
	fail "run.hsrec: $n cgroup x heap counters reach their peaks" "$bad"

# the CMA area's pages: the default_cma_region heap's buffers are its only
# allocations in the known run (4 KiB pages: the VM is x86_64)
cma=$(awk -F'\t' '$1 == "track_descriptor" && $8 ~ /^"cma .* pages allocated"$/ { print $8 }' \
	"$tmp/run.tsv")
area=${cma#\"}
vals=$(counter "${area%\"}" "$tmp/run.tsv" UNIT_COUNT | tr '\n' ' ')
peak=$(($(heap_peak "$j" default_cma_region) / 4096))
left=$(($(heap_left "$j" default_cma_region) / 4096))
what="run.hsrec: one counter 'cma AREA pages allocated' up to $peak pages, ending at $left"
[ "$(echo "$cma" | grep -c .)" = 1 ] && [ "${vals%% *}" = 0 ] &&
	[ "$(printf '%s\n' $vals | sort -n | tail -1)" = $peak ] &&
	[ "$(printf '%s\n' $vals | tail -1)" = $left ] && pass "$what" || fail "$what" "$cma: $vals"

# the area's state over the run (cma-state records): used bytes from 0 at the
# start to the leaked buffers' at the end, the largest free extent never
# more than what the leaked buffers leave (values from analyze -j)
aname=${area%\"}
aname=${aname#cma }
aname=${aname% pages allocated}
used=$(counter "cma $aname used bytes" "$tmp/run.tsv" | tr '\n' ' ')
free=$(counter "cma $aname largest free bytes" "$tmp/run.tsv" | tr '\n' ' ')
a_total=$(jq --arg a "$aname" '[.cma[] | select(.area == $a)][0].total_bytes' "$j")
a_end=$(jq --arg a "$aname" '[.cma[] | select(.area == $a)][0].used_bytes_end' "$j")
a_min=$(jq --arg a "$aname" '[.cma[] | select(.area == $a)][0].largest_free_bytes_min' "$j")
samples=$(jq --arg a "$aname" '[.cma[] | select(.area == $a)][0].samples' "$j")
what="run.hsrec: counters 'cma AREA used bytes' (0 to $a_end) and 'largest free bytes' (down to $a_min), $samples samples each"
[ "$(echo $used | wc -w)" = "$samples" ] && [ "$(echo $free | wc -w)" = "$samples" ] &&
	[ "${used%% *}" = 0 ] && [ "$(printf '%s\n' $used | tail -1)" = "$a_end" ] &&
	[ "$(printf '%s\n' $free | sort -n | head -1)" = "$a_min" ] &&
	[ "$a_min" -le $((a_total - a_end)) ] && pass "$what" || fail "$what" "used: $used; free: $free"

# a slice per allocation attempt on its thread's track, an instant per failure
# naming its class
tries=$(attempts "$j")
failed=$(jq '.failed_allocations' "$j")
limit=$(jq '.failures.limit' "$j")
begins=$(awk -F'\t' '$1 == "track_descriptor" && $7 != "-" { t[$3] = 1 }
	$4 == "TYPE_SLICE_BEGIN" && ($3 in t) && $8 ~ /^"alloc / { n++ }
	END { print n + 0 }' "$tmp/run.tsv")
ends=$(count "$tmp/run.tsv" '$4 == "TYPE_SLICE_END"')
order=$(ordered "$tmp/run.tsv")
what="run.hsrec: $tries allocation slices on their threads, in order"
[ "$tries" -gt 0 ] && [ "$begins" = "$tries" ] && [ "$ends" = "$tries" ] && [ -z "$order" ] &&
	pass "$what" || fail "$what" "$begins begin, $ends end;$order"
insts=$(count "$tmp/run.tsv" '$4 == "TYPE_INSTANT" && $8 ~ /^"alloc failed /')
lim=$(count "$tmp/run.tsv" '$4 == "TYPE_INSTANT" && $8 ~ /^"alloc failed [^ ]+: limit"$/')
what="run.hsrec: $failed failure instant(s), $limit of class limit"
[ "$limit" -gt 0 ] && [ "$lim" = "$limit" ] && [ "$insts" = "$failed" ] && pass "$what" ||
	fail "$what" "$insts instants, $lim of limit"

# the leaking process and its main thread, by pid and comm
read -r pid comm < <(jq -r '.leaks[0] | "\(.pid) \(.comm)"' "$j")
p=$(awk -F'\t' -v pid="$pid" -v c="\"$comm\"" '
	$1 == "track_descriptor" && $6 == pid && $9 == c {
		print ($7 == "-" ? "process" : $7 == pid ? "thread" : "other") }' "$tmp/run.tsv" | sort)
what="run.hsrec: process and thread descriptors of pid $pid name $comm"
[ "$(echo $p)" = "process thread" ] && pass "$what" || fail "$what" "found: $(echo $p)"

# upstream's kselftest: decodes, a slice per attempt, an instant per failure
f=$1/kselftest.hsrec
"$hs" analyze "$f" -j >"$tmp/k.json" 2>/dev/null
tries=$(attempts "$tmp/k.json")
failed=$(jq '.failed_allocations' "$tmp/k.json")
what="kselftest.hsrec: decodes whole, $tries slices in order, $failed failure instants"
if decode "$f" k; then
	begins=$(count "$tmp/k.tsv" '$4 == "TYPE_SLICE_BEGIN"')
	insts=$(count "$tmp/k.tsv" '$4 == "TYPE_INSTANT" && $8 ~ /^"alloc failed /')
	order=$(ordered "$tmp/k.tsv")
	[ "$tries" -gt 0 ] && [ "$begins" = "$tries" ] && [ "$insts" = "$failed" ] &&
		[ -z "$order" ] && pass "$what" || fail "$what" "$begins slices, $insts instants;$order"
else
	fail "$what" "$(cat "$tmp/k.err")"
fi

# the writer's samples (tests/unit/record_samples.h), built here: limit
# refusals on their processes' tracks, names with controls shown as text_safe() does
if [ -s "$1/seeds/samples" ] && cp -r "$1/seeds" "$tmp/seeds"; then
	nlim=$(grep -c 'type = REC_LIMIT,' "$root/tests/unit/record_samples.h")
	if decode "$tmp/seeds/samples" s; then
		lims=$(awk -F'\t' '$1 == "track_descriptor" && $6 != "-" && $7 == "-" { p[$3] = 1 }
			$4 == "TYPE_INSTANT" && ($3 in p) && $8 ~ /^"limit refused / { n++ }
			END { print n + 0 }' "$tmp/s.tsv")
		names=$(grep -c '_name: "worker^I^\[\[31m"$' "$tmp/s.txt")
		[ "$nlim" -gt 0 ] && [ "$lims" = "$nlim" ] && [ "$names" = 2 ] &&
			[ -z "$(ordered "$tmp/s.tsv")" ] &&
			pass "samples: $nlim limit refusals on their processes, names with controls escaped" ||
			fail "samples: $nlim limit refusals on their processes, names with controls escaped" \
				"$lims refusals, $names names: $(grep '_name:' "$tmp/s.txt" | tr '\n' ' ')"
	else
		fail "samples: the trace decodes whole" "$(cat "$tmp/s.err")"
	fi
	decode "$tmp/seeds/empty" e && pass "samples: an empty recording's trace decodes" ||
		fail "samples: an empty recording's trace decodes" "$(cat "$tmp/e.err")"
	# records not in time order (a release drained before an allocation made
	# before it): the counters, written in time order, end where analyze does
	"$hs" analyze "$tmp/seeds/out-of-order" -j >"$tmp/o.json" 2>/dev/null
	left=$(heap_left "$tmp/o.json" system)
	if decode "$tmp/seeds/out-of-order" o; then
		vals=$(counter "heap system" "$tmp/o.tsv" | tr '\n' ' ')
		[ "$left" = 8192 ] && [ "$vals" = "0 4096 12288 8192 " ] &&
			pass "out of order: the heap's counter in time order, ending at the 8192 bytes leaked" ||
			fail "out of order: the heap's counter in time order, ending at the 8192 bytes leaked" \
				"leaked $left, values: $vals"
	else
		fail "out of order: the trace decodes whole" "$(cat "$tmp/o.err")"
	fi
else
	fail "samples: the writer's samples" "none in $1/seeds (tests/boot/record_outputs.sh)"
fi

# outputs that cannot be written: exit 2, said why, nothing on stdout, no half-written file
f=$1/run.hsrec
for out in "$tmp/no/such/dir/x.pftrace" "$tmp" /dev/full "$tmp/big.pftrace"; do
	case $out in
	/dev/full) what="a full device"; why="failed to write $out: No space left on device" ;;
	*big*) what="a file too large"; why="failed to write $out: File too large" ;;
	"$tmp") what="a directory"; why="failed to create $out: Is a directory" ;;
	*) what="a missing directory"; why="failed to create $out: No such file or directory" ;;
	esac
	# too large: over a 1 KiB file size limit (RLIMIT_FSIZE), a write fails with EFBIG
	(trap '' XFSZ; [ "${out##*/}" = big.pftrace ] && ulimit -f 1
	 exec "$hs" analyze "$f" --perfetto "$out") >"$tmp/o" 2>"$tmp/e"
	rc=$?
	[ $rc = 2 ] && [ "$(cat "$tmp/e")" = "heapstat analyze: $why" ] && [ ! -s "$tmp/o" ] &&
		[ ! -e "$tmp/big.pftrace" ] && [ -c /dev/full ] &&
		pass "--perfetto to $what: exit 2, said why, no file left" ||
		fail "--perfetto to $what: exit 2, said why, no file left" "exit $rc: $(cat "$tmp/e")"
done
