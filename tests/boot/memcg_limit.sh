#!/bin/bash
# The memcg backend's refusal, in a boot of its own: under
# dma_heap.mem_accounting the system heap charges memcg, and an allocation
# past memory.max is not refused with an errno: the kernel reclaims, then
# OOM-kills in the cgroup (here the allocator, whose ioctl then fails with
# ENOMEM). limit events -f shows it as a memcg limit event bound by the
# cgroup's memory.max; memory.events counts the kill. scripts/vm requires
# exactly that one OOM kill.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load system_heap --cmdline dma_heap.mem_accounting=1 \
	--expect-oom 1 --timeout 300 -- sh -c '
	. /heapstat/tests/lib.sh
	S=/sys/fs/cgroup
	echo +memory >$S/cgroup.subtree_control
	mkdir $S/mm
	heapstat limit set /mm system 32M 2>/dev/null; echo "without=$?"
	heapstat limit set /mm system 32M --memcg; echo "set=$?"
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat limit events -f -j -d 60 >/tmp/ev 2>/tmp/eve & evp=$!
	wait_ready $rs $evp
	sh -c "echo \$\$ >$S/mm/cgroup.procs; exec dmabuf_alloc -H system -s 64M" 2>/dev/null; echo "rc=$?"
	sleep 1
	kill -INT $evp; wait $evp; echo "events=$?"
	grep oom_kill $S/mm/memory.events
	jq -M -c "[.backend, .cgroup, .heap, .requested_bytes, .limit_bytes, .limit_cgroup, .comm]" /tmp/ev
	cat /tmp/eve' 2>&1); rc=$?
want='without=2
set=0
rc=137
events=0
oom_kill 1
["memcg","/mm","system",67108864,33554432,"/mm","dmabuf_alloc"]'
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: memcg_limit: past memory.max the allocator is OOM-killed, shown as a memcg limit event"
else
	echo "FAIL: memcg_limit: past memory.max the allocator is OOM-killed, shown as a memcg limit event: exit $rc: $out"
fi
