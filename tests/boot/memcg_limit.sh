#!/bin/bash
# The memcg backend's refusal, in a boot of its own: under
# dma_heap.mem_accounting the system heap charges memcg, and an allocation
# past memory.max is not refused with an errno: the kernel reclaims, then
# OOM-kills in the cgroup (here the allocator, whose ioctl then fails with
# ENOMEM, or with EINTR when the kill finds it between two pages: either,
# as it happens). limit events -f and record show each such failure as a
# memcg limit event bound by the cgroup's memory.max, and heaptop's and
# report -d's rows count it in limit_hits; memory.events counts the kills.
# Each is judged by the limit and usage at the failure, which the collector
# reads then: small requests under a larger limit too, and with the limit
# raised before the views drain the events.
# An allocator killed by a user (EINTR too) is no limit event, though it
# asked for more than the room: in a cgroup whose OOM killer never killed,
# and in one where it did (the collector asks whether the OOM killer chose
# the process). A memory.max set below what a cgroup holds of the heap (which
# memcg cannot reclaim) OOM-kills the holder: limit set says so, and reads
# the page-rounded limit back. scripts/vm requires exactly the OOM kills
# counted.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
n=6
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load system_heap --cmdline dma_heap.mem_accounting=1 \
	--expect-oom $((n + 2)) --timeout 300 -- sh -c '
	. /heapstat/tests/lib.sh
	S=/sys/fs/cgroup
	echo +memory >$S/cgroup.subtree_control
	mkdir $S/mm $S/kk
	echo 400M >$S/kk/memory.max
	heapstat limit set /mm system 32M 2>/dev/null; echo "without=$?"
	heapstat limit set /mm system 32M --memcg; echo "set=$?"
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat limit events -f -j -d 120 >/tmp/ev 2>/tmp/eve & evp=$!
	wait_ready $rs $evp
	rr=$(ready_socket)
	NOTIFY_SOCKET=$rr heapstat record -o /tmp/r.hsr -d 120 2>/tmp/rece & rp=$!
	wait_ready $rr $rp
	rt=$(ready_socket)
	NOTIFY_SOCKET=$rt heaptop -b -j -d 0.5 >/tmp/top 2>/tmp/tope & tp=$!
	wait_ready $rt $tp
	ru=$(ready_socket)
	NOTIFY_SOCKET=$ru heapstat report -j -d 120 >/tmp/rep.json 2>/tmp/repe & rpp=$!
	wait_ready $ru $rpp
	rcs=
	for i in $(seq '$n'); do
		sh -c "echo \$\$ >$S/mm/cgroup.procs; exec dmabuf_alloc -H system -s 64M" 2>/dev/null
		rcs="$rcs $?"
	done
	echo "rc=$rcs"
	# 512 MiB asked under 400M: killed by hand 8 MiB in, long before the
	# limit, however fast the guest zeroes pages (a loop of builtins only;
	# the allocator gone meanwhile, a zombie, ends it too)
	hand_kill() {
		read base <$S/$1/memory.current
		sh -c "echo \$\$ >$S/$1/cgroup.procs; exec dmabuf_alloc -H system -s 512M" 2>/dev/null & kp=$!
		i=0
		until read v <$S/$1/memory.current; [ "$v" -ge $((base + 8388608)) ] || [ $i -ge 1000000 ] ||
			! read pid comm state rest </proc/$kp/stat 2>/dev/null || [ "$state" = Z ]; do
			i=$((i + 1))
		done
		kill -KILL $kp; wait $kp 2>/dev/null; echo "killed $1=$?"
	}
	hand_kill kk
	# and where the OOM killer did kill, its limit raised: still a user kill.
	# Raised at once, before the views drain the kills (every 100 ms,
	# record every 25 ms): each was judged by the limit at its failure
	heapstat limit set /mm system 400M --memcg; echo "raised=$?"
	hand_kill mm
	# small requests under a larger limit: 4 MiB buffers under 30M, the
	# one past it OOM-kills the allocator. Judged by memory.max and
	# memory.current as they were at the failure (the collector reads them
	# then): by the time a view drains the event, the killed allocator has
	# gone, the charge of its buffers with it, leaving 30M of room
	mkdir $S/ss
	heapstat limit set /ss system 30M --memcg; echo "small set=$?"
	sh -c "echo \$\$ >$S/ss/cgroup.procs; exec dmabuf_alloc -H system -s 4M -n 16" 2>/dev/null
	echo "small=$?"
	sleep 1
	kill -INT $evp; wait $evp; echo "events=$?"
	kill -INT $rp; wait $rp; echo "record=$?"
	kill -INT $rpp; wait $rpp; echo "report=$?"
	after=$(($(wc -l </tmp/top) + 1))
	wait_while "[ \$(wc -l </tmp/top) -le $after ]"
	kill -INT $tp; wait $tp; echo "heaptop=$?"
	sed -n "${after}p" /tmp/top | jq -M -c "([.rows[] | select(.heap == \"system\" and
		(.cgroup == \"/mm\" or .cgroup == \"/kk\" or .cgroup == \"/ss\")) | [.cgroup, .limit_hits]] | sort),
		[.last_limit_hit.cgroup, .last_limit_hit.heap, .last_limit_hit.limit_hits]"
	jq -M -c "[.cgroups[].heaps[] | select(.heap == \"system\" and
		(.cgroup == \"/mm\" or .cgroup == \"/kk\" or .cgroup == \"/ss\")) | [.cgroup, .limit_hits]] |
		sort" /tmp/rep.json
	grep oom_kill $S/mm/memory.events $S/kk/memory.events $S/ss/memory.events
	jq -M -c "[.backend, .cgroup, .heap, .requested_bytes, .limit_bytes, .limit_cgroup, .comm]" \
		/tmp/ev | uniq -c
	# /ss: at least 6 buffers held at the failure (the allocator gone since)
	jq -M -c "select(.cgroup == \"/ss\") | .usage_bytes >= 25165824" /tmp/ev
	heapstat analyze -j /tmp/r.hsr >/tmp/an.json; echo "analyze=$?"
	jq -M -c ".limit_refusals | map([.backend, .cgroup, .limit_cgroup, .requested_bytes,
		.limit_bytes]) | group_by(.) | map([length, .[0]])[]" /tmp/an.json
	jq -M -c "[.failed[] | select(.cgroup == \"/kk\" or .requested_bytes == 536870912) |
		[.cgroup, .errno, .requested_bytes]]" /tmp/an.json
	jq -M -c "[.failed[] | select(.cgroup == \"/mm\" and .requested_bytes == 67108864) | .errno] | group_by(.) |
		map({(.[0] | tostring): length}) | add | \"errnos \\(.)\"" -r /tmp/an.json
	mkdir $S/hh
	sh -c "echo \$\$ >$S/hh/cgroup.procs; exec dmabuf_alloc -H system -s 16M -w 120 -R /tmp/hh" & hp=$!
	wait_while "[ ! -e /tmp/hh ]"
	heapstat limit set /hh system 4097K --memcg 2>/tmp/hhe; echo "shrink=$?"
	# killed as wait waits (its death comes after the write returns), ash
	# says "Killed" on the stderr of wait
	wait $hp 2>/dev/null; echo "holder=$?"
	cat $S/hh/memory.max
	sed "s/^heapstat limit: //" /tmp/hhe
	cat /tmp/eve /tmp/rece /tmp/tope /tmp/repe' 2>&1); rc=$?
# which failure the kills made (ENOMEM 12, EINTR 4): as it happens, told
errnos=$(grep '^errnos ' <<<"$out")
out=$(grep -v '^errnos ' <<<"$out")
want="without=2
set=0
rc= 137 137 137 137 137 137
killed kk=137
raised=0
killed mm=137
small set=0
small=137
events=0
record=0
report=0
heaptop=0
[[\"/kk\",0],[\"/mm\",$n],[\"/ss\",1]]
[\"/ss\",\"system\",1]
[[\"/kk\",0],[\"/mm\",$n],[\"/ss\",1]]
/sys/fs/cgroup/mm/memory.events:oom_kill $n
/sys/fs/cgroup/kk/memory.events:oom_kill 0
/sys/fs/cgroup/ss/memory.events:oom_kill 1
      $n [\"memcg\",\"/mm\",\"system\",67108864,33554432,\"/mm\",\"dmabuf_alloc\"]
      1 [\"memcg\",\"/ss\",\"system\",4194304,31457280,\"/ss\",\"dmabuf_alloc\"]
true
analyze=0
[$n,[\"memcg\",\"/mm\",\"/mm\",67108864,33554432]]
[1,[\"memcg\",\"/ss\",\"/ss\",4194304,31457280]]
[[\"/kk\",4,536870912],[\"/mm\",4,536870912]]
shrink=0
holder=137
4194304
note: memory.max keeps whole pages: 4194304
note: to bring /hh under it, the kernel OOM-killed 1 of its tasks (memory.events oom_kill since the write)"
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: memcg_limit: past memory.max the allocator is OOM-killed, each time a memcg limit event (limit events, record) and a limit hit (heaptop, report -d); one killed by hand is neither"
else
	echo "FAIL: memcg_limit: past memory.max the allocator is OOM-killed, each time a memcg limit event (limit events, record) and a limit hit (heaptop, report -d); one killed by hand is neither: exit $rc: $out"
fi
echo "memcg_limit: errnos of the OOM-killed allocations: ${errnos#errnos }"
