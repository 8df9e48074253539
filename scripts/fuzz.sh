#!/bin/bash
# make fuzz: under libFuzzer with ASan and UBSan, FUZZ_SECS seconds (60) each,
# the recording reader (tools/lib/record_read.c: tests/fuzz/record_fuzz.c) and
# then heapstat analyze, every output of it (tests/fuzz/analyze_fuzz.c), from
# seeds the writer makes (tests/fuzz/record_seed.c) and real recordings
# (tests/fuzz/seeds/: tests/boot/record_outputs.sh's). Each one's corpus grows
# in build/fuzz/corpus/ (record_fuzz) or build/fuzz/analyze-corpus/ from run to
# run; a crash is kept in build/fuzz/artifacts/ (replay it: build/fuzz/NAME
# FILE). First, heapstat analyze and its outputs on every seed. Prints
# "PASS: record_fuzz: ..." or "FAIL: record_fuzz: ..." (and analyze_fuzz's) for
# scripts/check.sh to tally, and fails on a finding.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

secs=${FUZZ_SECS:-60}
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "FUZZ_SECS=$secs: a number of seconds, please"
dir=$TOP/build/fuzz
for f in record_fuzz analyze_fuzz record_seed; do
	[ -x "$dir/$f" ] || die "no $dir/$f: run make fuzz"
done
mkdir -p "$dir/corpus" "$dir/analyze-corpus" "$dir/seeds" "$dir/artifacts"
"$dir/record_seed" "$dir/seeds" || die "cannot write the seed corpus in $dir/seeds"

# analyze and every output of it on each seed, the cut ones too: each ends
# (0, or 3 for one cut short) within its timeout, without a crash
bad=
for f in "$dir/seeds"/* "$TOP"/tests/fuzz/seeds/*; do
	timeout 30 "${HEAPSTAT:-$TOP/build/heapstat}" analyze "$f" -j --html "$dir/seed.html" \
		--junit "$dir/seed.xml" --perfetto "$dir/seed.pftrace" >/dev/null 2>&1
	rc=$?
	[ $rc = 0 ] || [ $rc = 3 ] || bad="$bad ${f##*/}: exit $rc;"
done
if [ -z "$bad" ]; then
	echo "PASS: analyze_fuzz: analyze -j --html --junit --perfetto on every seed"
else
	echo "FAIL: analyze_fuzz: analyze -j --html --junit --perfetto on every seed:$bad"
fi

# fuzz NAME CORPUS: one fuzzer's run, its PASS or FAIL line; fails on a finding
fuzz() {
	local name=$1 corpus=$2 out=$dir/$1.log rc execs took cov n crash

	log FUZZ "$name for ${secs}s (log: ${out#"$TOP"/})"
	# a 64 KiB input holds every record type many times; records may be larger
	# (16 MiB), which the unit test covers
	"$dir/$name" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-dict="$TOP/tests/fuzz/record.dict" -artifact_prefix="$dir/artifacts/" \
		-print_final_stats=1 "$corpus" "$dir/seeds" "$TOP/tests/fuzz/seeds" >"$out" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
	took=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$out" | tail -1)
	n=$(find "$corpus" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		echo "PASS: $name: ${execs:-?} inputs in ${secs}s (${took:-?}/s), ${cov:-cov: ?}," \
			"corpus $n"
		return 0
	fi
	crash=$(grep -o "$dir/artifacts/[^ ]*" "$out" | tail -1)
	grep -E "^(==[0-9]+==ERROR|SUMMARY|$name:)|runtime error" "$out" | head -5 >&2
	echo "FAIL: $name: exit $rc${crash:+, input in ${crash#"$TOP"/}} (log: ${out#"$TOP"/})"
	return 1
}
failed=0
fuzz record_fuzz "$dir/corpus" || failed=1
fuzz analyze_fuzz "$dir/analyze-corpus" || failed=1
[ -z "$bad" ] && [ $failed = 0 ]
