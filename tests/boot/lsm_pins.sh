#!/bin/bash
# The bpf-lsm pins changing under a heapstat holding them
# (tests/vm/lsm/pins.sh): a set racing the unpinning of the last limit, limit
# events -f following programs pinned after it started, pins removed by
# hand. In a boot of its own, as tests/boot/lsm_limit.sh (one CPU: programs
# are unpinned there); its test lines are this test's; a boot that fails or
# leaves a splat in dmesg fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --cpus 1 --load system_heap --timeout 900 -- \
	sh /heapstat/tests/vm/lsm/pins.sh 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
grep -E '^lsm_limit: ' <<<"$out" >&2
[ $rc = 0 ] || echo "FAIL: lsm_pins: scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
