#!/bin/bash
# make bench: every benchmark, each in one VM boot, reported as ratios.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

echo "== heaps (tests/bench/heaps.sh)"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --timeout 1200 -- sh /heapstat/tests/bench/heaps.sh

echo
echo "== inventory (tests/bench/inventory.sh)"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --mem 3G --timeout 1800 -- sh /heapstat/tests/bench/inventory.sh

echo
echo "== tracing overhead (trace_bench)"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --timeout 1200 --load system_heap -- trace_bench
