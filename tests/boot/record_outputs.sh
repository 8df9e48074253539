#!/bin/bash
# heapstat analyze's outputs, checked on the host by real readers: a guest
# records a run with known behaviour and upstream's dmabuf-heaps kselftest
# (tests/vm/record/workload.sh), scripts/vm --fetch brings the recordings
# back, and each tests/record/*.sh checks one view of them (the CI gates,
# JUnit XML with xmllint, Perfetto with protoc, HTML in headless Chromium).
# Each prints its own PASS/FAIL lines; the recordings are kept in
# build/tests/recordings (a seed corpus for make fuzz too).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$top/build/tests/recordings
rm -rf "$dir"
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load-heaps --load system_heap --fetch "$dir" \
	--cmdline kmemleak=on -- sh /heapstat/tests/vm/record/workload.sh 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
if [ $rc != 0 ] || [ ! -s "$dir/run.hsrec" ]; then
	echo "FAIL: record_outputs: scripts/vm exited $rc: $(tail -n 40 <<<"$out")"
	exit 0
fi
for t in "$top"/tests/record/*.sh; do
	bash "$t" "$dir"
done
exit 0
