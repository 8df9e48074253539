#!/bin/bash
# heapstat report on the older-kernel target, 6.12: no iter/dmabuf and no
# dmem there, so it falls back to the task iterators, says so, and still counts exactly.
# Runs when the 6.12 kernel is built (make kernel KVER=6.12), else skips.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! KCACHED=1 KVER=6.12 "$top/scripts/kernel-build.sh" >/dev/null 2>&1; then
	echo "SKIP: report_612: the 6.12 kernel is not built (make kernel KVER=6.12)"
	exit 0
fi
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel 6.12 -- sh -c '
	dmabuf_alloc -H system -s 1M -n 3 -r 1 -w 30 -R /tmp/r &
	while [ ! -e /tmp/r ]; do sleep 0.1; done
	heapstat report heaps --csv
	heapstat report -j | jq -M -c .sources
	kill %1' 2>&1); rc=$?
want='heap,bytes,buffers
system,2097152,2
{"buffers":"iter/task_file+task_vma","holders":"iter/task_file+task_vma","note":"no BPF iter/dmabuf in this kernel (6.16+): buffers no process holds an fd to are not seen"}'
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: report_612: falls back to the task iterators, says so, counts exactly"
else
	echo "FAIL: report_612: falls back to the task iterators, says so, counts exactly: exit $rc: $out"
fi
