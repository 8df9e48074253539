#!/bin/bash
# The heaps' ioctl stress (tests/vm/stress_test.sh: every heap, an importer,
# heapstat tracing, the counts against the kernel's) in a boot of its own
# whose two CPUs run at once, each a host thread (--mttcg): the VM suite's
# guests take their CPUs in turns on one host thread (scripts/vm's default),
# 100 ms each, which leaves the heaps' and the collector's cross-CPU races
# unexercised.
# STRESS_SECS (20) and STRESS_SEED go into the guest; KVER picks the kernel
# (7.2; make check-all: 7.2-debug too, and HEAPSTAT_VM_BIN its heapstat
# under ASan and UBSan), STRESS_TIMEOUT the guest's watchdog. The guest's test
# lines are this test's; a boot that fails, leaks or leaves a splat in dmesg
# fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${STRESS_SECS:-20}
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "${KVER:-7.2}" --cpus 2 --mttcg --load-heaps \
	--load system_heap,vgem,heapstat_importer --cmdline kmemleak=on \
	--timeout "${STRESS_TIMEOUT:-$((600 + secs))}" -- \
	env STRESS_SECS="$secs" ${STRESS_SEED:+STRESS_SEED=$STRESS_SEED} sh -c '
	sh /heapstat/tests/vm/stress_test.sh
	. /heapstat/tests/lib.sh; leak_check "stress_smp: kmemleak: unreferenced objects" || :' 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out"
grep -E '^stress: ' <<<"$out" >&2
[ $rc = 0 ] || echo "FAIL: stress_smp: scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
