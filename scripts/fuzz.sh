#!/bin/bash
# make fuzz: the recording reader (tools/lib/record_read.c) under libFuzzer
# with ASan and UBSan (tests/fuzz/record_fuzz.c), for FUZZ_SECS seconds (60),
# from seeds the writer makes (tests/fuzz/record_seed.c) and real recordings
# (tests/fuzz/seeds/: tests/boot/record_outputs.sh's). The corpus grows in
# build/fuzz/corpus/ from run to run; a crash is kept in build/fuzz/artifacts/
# (replay it: build/fuzz/record_fuzz FILE). First, heapstat analyze and its
# outputs on every seed. Prints "PASS: record_fuzz: ..."
# or "FAIL: record_fuzz: ..." for scripts/check.sh to tally, and fails on a
# finding.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

secs=${FUZZ_SECS:-60}
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "FUZZ_SECS=$secs: a number of seconds, please"
dir=$TOP/build/fuzz
fuzzer=$dir/record_fuzz
[ -x "$fuzzer" ] && [ -x "$dir/record_seed" ] || die "no $fuzzer: run make fuzz"
mkdir -p "$dir/corpus" "$dir/seeds" "$dir/artifacts"
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
	echo "PASS: record_fuzz: analyze -j --html --junit --perfetto on every seed"
else
	echo "FAIL: record_fuzz: analyze -j --html --junit --perfetto on every seed:$bad"
fi

out=$dir/record_fuzz.log
log FUZZ "record_fuzz for ${secs}s (log: ${out#"$TOP"/})"
# a 64 KiB input holds every record type many times; records may be larger
# (16 MiB), which the unit test covers
"$fuzzer" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-dict="$TOP/tests/fuzz/record.dict" -artifact_prefix="$dir/artifacts/" \
	-print_final_stats=1 "$dir/corpus" "$dir/seeds" "$TOP/tests/fuzz/seeds" >"$out" 2>&1
rc=$?

final() { sed -n "s/^stat::$1: *//p" "$out" | tail -1; }
execs=$(final number_of_executed_units)
took=$(final average_exec_per_sec)
cov=$(grep -o 'cov: [0-9]*' "$out" | tail -1)
corpus=$(find "$dir/corpus" -type f | wc -l)
if [ "$rc" = 0 ]; then
	echo "PASS: record_fuzz: ${execs:-?} inputs in ${secs}s (${took:-?}/s), ${cov:-cov: ?}," \
		"corpus $corpus"
	[ -z "$bad" ]
	exit
fi
crash=$(grep -o "$dir/artifacts/[^ ]*" "$out" | tail -1)
grep -E '^(==[0-9]+==ERROR|SUMMARY|record_fuzz:)|runtime error' "$out" | head -5 >&2
echo "FAIL: record_fuzz: exit $rc${crash:+, input in ${crash#"$TOP"/}} (log: ${out#"$TOP"/})"
exit 1
