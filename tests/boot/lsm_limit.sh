#!/bin/bash
# The bpf-lsm limit backend, in a boot of its own: upstream's system heap
# without dma_heap.mem_accounting charges nobody (make check's main boot has
# it on). tests/vm/lsm/backend.sh drives the programs through their library,
# tests/vm/lsm/cli.sh through heapstat limit, tests/vm/lsm/record.sh
# heapstat record of its refusals. The guest's test lines are
# this test's; a boot that fails or leaves a splat in dmesg fails it.
# usage: tests/boot/lsm_limit.sh [PART...]: those of the three only, in that
# boot (each begins and ends with nothing pinned): make check boots cli apart
# from backend and record, at once.
# One CPU: with two, QEMU's multi-threaded TCG once in a few boots ran an
# int3 inside a BPF trampoline being torn down when the last limit was
# unpinned (text patching already finished; an Oops, the boot lost). Not
# seen with one CPU nor under -icount; docs/benchmarks.md tells more.
# KVER picks the kernel (7.2; make check-all: 6.12 and 6.1 too, whose
# system heap is built in and charges nobody).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# the reference kernel's: tests/kmod's modname heap (built for it alone), and
# vgem, which exports a driver's buffer beside it
loads=system_heap
[ "${KVER:-7.2}" = 7.2 ] && loads=$loads,vgem,heapstat_modname_heap
parts=${*:-backend cli record}
for p in $parts; do
	case $p in
	backend | cli | record) ;;
	*) echo "FAIL: lsm_limit: no part '$p' (backend, cli, record)"; exit 0 ;;
	esac
done
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "${KVER:-7.2}" --cpus 1 --load $loads \
	--cmdline kmemleak=on --timeout 900 -- sh -c '
	for p in '"$parts"'; do sh /heapstat/tests/vm/lsm/$p.sh; done
	. /heapstat/tests/lib.sh; leak_check "lsm_limit: kmemleak: unreferenced objects" || :' 2>&1); rc=$?
# on another kernel, its lines say which
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out" | sed "s/^\(PASS\|FAIL\|SKIP\): /&${KVER:+$KVER: }/"
grep -E '^lsm_limit: ' <<<"$out" >&2
[ $rc = 0 ] || echo "FAIL: lsm_limit ${KVER:-7.2} ($parts): scripts/vm exited $rc: $(grep -vE '^(PASS|SKIP): ' <<<"$out" | tail -n 40)"
exit 0
