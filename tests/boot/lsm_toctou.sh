#!/bin/bash
# The bpf-lsm backend against a length changed between its hook's read and
# the kernel's (tests/vm/lsm/toctou.sh), in a boot of its own with two CPUs,
# each a host thread of its own (--mttcg): the race needs both running at once,
# which neither one CPU nor scripts/vm's default (one emulator thread taking
# the CPUs in turns, 100 ms each, as -icount does) gives. The
# programs are attached on an idle system and never detached in this boot.
# The guest's test lines are this test's; a boot that fails or leaves a
# splat in dmesg fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --cpus 2 --mttcg --load system_heap --cmdline kmemleak=on --timeout 600 -- sh -c '
	sh /heapstat/tests/vm/lsm/toctou.sh
	. /heapstat/tests/lib.sh; leak_check "lsm_toctou: kmemleak: unreferenced objects" || :' 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
grep -E '^lsm_limit: ' <<<"$out" >&2
[ $rc = 0 ] || echo "FAIL: lsm_toctou: scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
