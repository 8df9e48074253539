#!/bin/bash
# heapstat analyze's outputs, checked on the host by real readers: a guest
# records a run with known behaviour and upstream's dmabuf-heaps kselftest
# (tests/vm/record/workload.sh), scripts/vm --fetch brings the recordings
# back with the writer's samples, and each tests/record/*.sh checks one view of them (the CI gates,
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
# and the writer's samples (tests/fuzz/record_seed.c): every record type, names with controls
if ! ${CC:-cc} -std=gnu11 -I"$top" -I"$top/tools" -I"$top/tests/unit" \
	"$top/tests/fuzz/record_seed.c" "$top"/tools/lib/record*.c "$top/tools/lib/util.c" "$top/tools/lib/hindex.c" \
	-o "$dir/record_seed" 2>"$dir/seed.err" || ! mkdir "$dir/seeds" ||
	! "$dir/record_seed" "$dir/seeds" 2>>"$dir/seed.err"; then
	echo "FAIL: record_outputs: the writer's samples: $(cat "$dir/seed.err")"
fi
for t in "$top"/tests/record/*.sh; do
	bash "$t" "$dir"
done
exit 0
