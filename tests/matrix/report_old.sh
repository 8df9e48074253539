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
# The second process maps its two buffers and closes the first one's fd:
# that buffer is seen by its mapping alone, which names it; the third keeps
# its buffer by an O_PATH file alone, which names it too
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" -- sh -c '
	dmabuf_alloc -H system -s 1M -n 3 -r 1 -w 30 -R /tmp/r &
	dmabuf_alloc -H system -s 512K -n 2 -r 1 -M -w 30 -R /tmp/m &
	while { [ ! -e /tmp/r ] || [ ! -e /tmp/m ]; } && kill -0 %1 %2; do sleep 0.1; done
	dmabuf_alloc -H system -s 256K --path-hold -w 30 -R /tmp/p &
	while [ ! -e /tmp/p ] && kill -0 %3; do sleep 0.1; done
	heapstat report heaps --csv
	heapstat report -j | jq -M -c ".sources, [.processes[] | [.buffers, .fd_bytes, .map_bytes]]"
	kill %1 %2 %3' 2>&1); rc=$?
# (the guests' jq, gojq, prints an object's keys sorted)
want=$'heap,bytes,buffers\r\nsystem,3407872,5\r\n{"attach":null,"buffers":"iter/task_file+task_vma","charges":null,"export_variant":null,"holders":"iter/task_file+task_vma","ioctl_variant":null,"note":"no BPF iter/dmabuf in this kernel (6.16+): buffers no process holds by fd or mapping are not seen","untraced":[],"without":[]}
[[2,2097152,0],[2,524288,1048576],[1,262144,0]]'
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: $n: falls back to the task iterators, says so, counts exactly (a buffer mapped, its fd closed, and one an O_PATH file keeps, too)"
else
	echo "FAIL: $n: falls back to the task iterators, says so, counts exactly (a buffer mapped, its fd closed, and one an O_PATH file keeps, too): exit $rc: $out"
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

# CMA there (the built-in heap "reserved", cma=128M): each area's size and use
# read from debugfs (their CMA sysfs has only counters: the areas were not
# seen); on 6.12 the collector traces CMA, whose cma_alloc_start tells no free
# pages (a failure weighs the area's bitmap): 200M is a capacity failure, 16M
# into a full area of 1 MiB holes a fragmentation one, and report -d lives
# through CMA's first event (it crashed: a histogram without its shape). 6.1
# traces no CMA: its failures are the heap's ENOMEM alone.
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" -- sh -c '
	. /heapstat/tests/lib.sh
	dmabuf_alloc -H reserved -s 4M -n 2 -w 600 -R /tmp/c0 & h=$!
	wait_while "[ ! -e /tmp/c0 ]"
	heapstat report cma --csv | tr -d "\r" | grep ^reserved,
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat report -j -d 120 >/tmp/j 2>/tmp/e & p=$!
	wait_ready $rs $p
	dmabuf_alloc -H reserved -s 200M 2>/dev/null
	dmabuf_alloc -H reserved -s 1M -n 118 --holes -w 600 -R /tmp/c1 & f=$!
	wait_while "[ ! -e /tmp/c1 ]"
	dmabuf_alloc -H reserved -s 16M 2>/dev/null
	kill $f $h; wait $f $h
	kill -INT $p; wait $p; echo "rc=$?"; cat /tmp/e
	jq -M -c ".activity[] | select(.heap == \"reserved\") | [.cgroup, .allocs, .failures]" /tmp/j
	jq -M -c "[.cma_activity[] | [.area, .allocs, .failures]], .sources.untraced" /tmp/j' 2>&1); rc=$?
want='reserved,134217728,8388608,125829120,125829120,1,0.000,2048,0
rc=0'
if [ "$k" = 6.1 ]; then
	want="$want"'
["(before tracing)",0,{"busy":0,"capacity":0,"fragmentation":0,"limit":0,"other":0}]
["/",118,{"busy":0,"capacity":2,"fragmentation":0,"limit":0,"other":0}]
[]
["cma"]'
else	# 200M is more than the area: cma_alloc() gave up before its finish
	want="$want"'
["(before tracing)",0,{"busy":0,"capacity":0,"fragmentation":0,"limit":0,"other":0}]
["/",118,{"busy":0,"capacity":1,"fragmentation":1,"limit":0,"other":0}]
[["reserved",118,1]]
[]'
fi
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: $n: CMA areas from debugfs$([ "$k" = 6.1 ] || echo ", CMA traced: capacity and fragmentation told apart")"
else
	echo "FAIL: $n: CMA areas$([ "$k" = 6.1 ] || echo ", CMA traced"): exit $rc: $(diff <(echo "$want") <(echo "$out"))"
fi

# the kprobe mode there (--attach kprobe): it loads (6.1's verifier refused
# the failure counter's index, kept on the stack: "Permission denied") and
# counts allocations, frees and failures as the tracing mode does
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" -- sh -c '
	. /heapstat/tests/lib.sh
	modprobe system_heap 2>/dev/null
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat report -j -d 120 --attach kprobe >/tmp/j 2>/tmp/e & p=$!
	wait_ready $rs $p
	dmabuf_alloc -H system -s 64K -n 2 -w 0
	dmabuf_alloc -H system -s 64K -n 1 --fail 2 -w 0 2>/dev/null
	kill -INT $p; wait $p; echo "rc=$?"; cat /tmp/e
	jq -M -c "[.attach, (.activity[] | select(.heap == \"system\") | [.allocs, .frees, .failures.other])]" /tmp/j' 2>&1); rc=$?
want='rc=0
["kprobe",[3,3,2]]'
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: $n: the kprobe mode loads and counts allocations, frees and failures"
else
	echo "FAIL: $n: the kprobe mode loads and counts: exit $rc: $out"
fi

# record there: no dma_buf_fd tracepoints (7.0+), so the file says its fd
# records untraced (format 1.4) and analyze shows them so, not as zeros; 6.1
# traces no CMA though it has CMA memory: said too
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" -- sh -c '
	modprobe system_heap 2>/dev/null
	heapstat record -o /tmp/f.hsrec -- dmabuf_alloc -H system -s 64K -n 2 -M -w 0 2>/dev/null
	echo "rc=$?"
	heapstat analyze /tmp/f.hsrec | grep "^FDS\|^CMA.s allocations"
	heapstat analyze -j /tmp/f.hsrec | jq -M -c "[.fd_events, .untraced]"' 2>&1); rc=$?
want='rc=0
FDS: not traced (the recording'"'"'s kernel has no dma_buf_fd tracepoints: 7.0+)'
if [ "$k" = 6.1 ]; then
	want="$want
CMA's allocations and releases: not traced on the recording's kernel
[null,[\"fds\",\"cma\"]]"
else
	want="$want
[null,[\"fds\"]]"
fi
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: $n: record says what it could not trace; analyze shows it so, not as zeros"
else
	echo "FAIL: $n: record says what it could not trace: exit $rc: $(diff <(echo "$want") <(echo "$out"))"
fi
