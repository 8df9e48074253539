#!/bin/bash
# The bpf-lsm limit on 7.2's preemptible flavour (make kernels: full
# preemption and preemptible RCU, as the distributions build), where the
# kernel skips a tracing program for the other tasks of a CPU on which one
# is preempted inside it: tests/vm/lsm/preempt.sh, upstream's system heap
# charging nobody. In the matrix's section: the flavour is built by then.
# The guest's test lines are this test's; a boot that fails or leaves a
# splat in dmesg fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel 7.2-preempt --cpus 1 --load system_heap \
	--timeout 300 -- sh /heapstat/tests/vm/lsm/preempt.sh 2>&1); rc=$?
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out" | sed 's/^\(PASS\|FAIL\|SKIP\): /&7.2-preempt: /'
[ $rc = 0 ] || echo "FAIL: lsm_preempt: scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
