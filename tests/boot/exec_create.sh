#!/bin/bash
# heapstat limit exec --create under a root that enables no controller for
# its children (tests/vm/exec_create.sh), in a boot of its own: make check's
# main boot enables dmem and memory there. Its test lines are this test's; a
# boot that fails or leaves a splat in dmesg fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load-heaps --timeout 300 -- \
	sh /heapstat/tests/vm/exec_create.sh 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
[ $rc = 0 ] || echo "FAIL: exec_create: scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
