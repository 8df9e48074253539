#!/bin/bash
# heapstat report on an older kernel, 6.12 or 6.1 (bookworm's): no iter/dmabuf
# and no dmem there (charges null), so it falls back to the task iterators,
# says so, and still counts exactly; the collector counts exports and final
# releases.
# usage: report_old.sh 6.12|6.1. make check builds both first (make kernels);
# alone, it skips a kernel that is not built (make kernel KVER=6.1).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
k=${1:-6.12}
n=report_${k//./}
if ! KCACHED=1 KVER=$k "$top/scripts/kernel-build.sh" >/dev/null 2>&1; then
	echo "SKIP: $n: the $k kernel is not built (make kernel KVER=$k)"
	exit 0
fi
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" -- sh -c '
	dmabuf_alloc -H system -s 1M -n 3 -r 1 -w 30 -R /tmp/r &
	while [ ! -e /tmp/r ] && kill -0 $!; do sleep 0.1; done
	heapstat report heaps --csv
	heapstat report -j | jq -M -c .sources
	kill %1' 2>&1); rc=$?
want='heap,bytes,buffers
system,2097152,2
{"buffers":"iter/task_file+task_vma","holders":"iter/task_file+task_vma","note":"no BPF iter/dmabuf in this kernel (6.16+): buffers no process holds an fd to are not seen","charges":null,"attach":null,"ioctl_variant":null,"export_variant":null,"without":[]}'
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: $n: falls back to the task iterators, says so, counts exactly"
else
	echo "FAIL: $n: falls back to the task iterators, says so, counts exactly: exit $rc: $out"
fi

# the collector there: no dma_buf tracepoints (fexit on dma_buf_export), the
# final release at the dma-buf file's release, as on 7.2
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" -- sh -c '
	. /heapstat/tests/lib.sh
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat report -j -d 120 >/tmp/j 2>/tmp/e & p=$!
	wait_ready $rs $p
	mkdir /sys/fs/cgroup/old
	sh -c "echo \$\$ >/sys/fs/cgroup/old/cgroup.procs
		exec dmabuf_alloc -H system -s 64K -n 3 -r 1 -w 60 -R /tmp/r" & h=$!
	while [ ! -e /tmp/r ] && kill -0 $h; do sleep 0.1; done
	kill -INT $p; wait $p; echo "rc=$?"; cat /tmp/e
	jq -M -c ".activity[] | select(.cgroup == \"/old\") | [.allocs, .alloc_bytes, .exports,
		.frees, .free_bytes]" /tmp/j
	jq -M -c --argjson pid $h "[.buffers[] | select(.pid == \$pid) | .cgroup] | sort" /tmp/j
	jq -M -c "[.attach, .drops]" /tmp/j
	kill $h' 2>&1); rc=$?
want='rc=0
[3,196608,3,1,65536]
["/old","/old"]
["tracing",0]'
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: $n: the collector counts exports and final releases exactly"
else
	echo "FAIL: $n: the collector counts exports and final releases exactly: exit $rc: $out"
fi
