#!/bin/sh
# heapstat report against a known workload: bytes and counts per heap,
# cgroup, process and buffer exactly, beside the kernel's own numbers
# (dmem.current, debugfs bufinfo, fdinfo); filters, checked before -d
# traces; -d's duration; names as set, from either source. Needs
# scripts/vm --load-heaps.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
pids=
pass() { echo "PASS: report: $1"; }
fail() { echo "FAIL: report: $1: $2"; }

for h in system default_cma_region chunk-reserved; do
	[ -e /dev/dma_heap/$h ] || { echo "SKIP: report: no heap $h (scripts/vm --load-heaps)"; exit 0; }
done

mkdir -p $S/video
echo "dma-heap/default_cma_region 16M" >$S/video/dmem.max
alloc_in camera "$tmp/r1" 600 -H system -s 1M -n 3 -r 1
alloc_in video "$tmp/r2" 600 -H default_cma_region -s 4M -n 1 --share 1
alloc_in gpu "$tmp/r3" 600 -H chunk-reserved -s 100K -n 2 -M	# 128K buffers, 100K mapped
i=0
while [ ! -e "$tmp/r1" ] || [ ! -e "$tmp/r2" ] || [ ! -e "$tmp/r3" ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -lt 300 ] || { fail setup "workload not ready"; kill $pids; exit 0; }
done

check() {	# check NAME FILE EXPECTED-LINE...: every line is in FILE
	name=$1 file=$2
	shift 2
	for want in "$@"; do
		grep -qxF "$want" "$file" || { fail "$name" "no line '$want' in: $(cat "$file")"; return; }
	done
	pass "$name"
}

for src in auto procfs; do
heapstat() { command heapstat "$@" --source $src; }
heapstat report heaps --csv >"$tmp/heaps" 2>&1
csv_lf "$tmp/heaps"
check "heaps: bytes and buffers per heap" "$tmp/heaps" \
	"system,2097152,2" "default_cma_region,4194304,1" "chunk-reserved,262144,2"
[ "$(wc -l <"$tmp/heaps")" = 4 ] || fail "[$src] heaps: only the live heaps" "$(cat "$tmp/heaps")"

heapstat report cgroups --csv >"$tmp/cgroups" 2>&1
csv_lf "$tmp/cgroups"
cut -d, -f1-4 "$tmp/cgroups" >"$tmp/held"	# the system heap's charge is memcg's: it varies
cut -d, -f1-7 "$tmp/cgroups" >"$tmp/charged"
check "cgroups: held beside charged" "$tmp/held" "/camera,system,2097152,2"
check "cgroups: dmem charges, each the cgroup's own" "$tmp/charged" \
	"/video,default_cma_region,4194304,1,4194304,dmem,4194304" \
	"/gpu,chunk-reserved,262144,2,262144,dmem,262144"
# the kernel's own charge agrees with the report's
for cg in video:default_cma_region:4194304 gpu:chunk-reserved:262144; do
	c=${cg%%:*} rest=${cg#*:}
	got=$(sed -n "s|^dma-heap/${rest%%:*} ||p" $S/$c/dmem.current)
	[ "$got" = "${rest#*:}" ] && pass "[$src] dmem.current of /$c is ${rest#*:}" ||
		fail "[$src] dmem.current of /$c is ${rest#*:}" "got '$got'"
done

heapstat report processes --csv >"$tmp/procs" 2>&1
csv_lf "$tmp/procs"
video_pids=$(grep ',/video,' "$tmp/procs" | cut -d, -f1 | tr '\n' ' ')
check "processes: fd, mapping and PSS bytes" "$tmp/procs" \
	"$(grep ',/camera,' "$tmp/procs" | cut -d, -f1),dmabuf_alloc,/camera,2097152,0,2097152,2" \
	"$(grep ',/gpu,' "$tmp/procs" | cut -d, -f1),dmabuf_alloc,/gpu,262144,204800,262144,2"
n=0
for p in $video_pids; do
	grep -qxF "$p,dmabuf_alloc,/video,4194304,0,2097152,1" "$tmp/procs" && n=$((n + 1))
done
[ $n = 2 ] && pass "[$src] processes: a shared buffer's PSS is split in two" ||
	fail "[$src] processes: a shared buffer's PSS is split in two" "$(cat "$tmp/procs")"

heapstat report buffers --csv >"$tmp/bufs" 2>&1
csv_lf "$tmp/bufs"
total=$(awk -F, 'NR > 1 { s += $4 } END { print s }' "$tmp/bufs")
kernel=$(sed -n 's/^Total [0-9]* objects, \([0-9]*\) bytes$/\1/p' /sys/kernel/debug/dma_buf/bufinfo)
[ "$(($(wc -l <"$tmp/bufs") - 1))" = 5 ] && [ "$total" = "$kernel" ] && [ "$total" = 6553600 ] &&
	pass "[$src] buffers: five, as many bytes as debugfs bufinfo counts" ||
	fail "[$src] buffers: five, as many bytes as debugfs bufinfo counts" "bufinfo $kernel: $(cat "$tmp/bufs")"
# an inode from fdinfo of the camera process is listed with its size
cam=$(grep ',/camera,' "$tmp/procs" | cut -d, -f1)
fdino=$(dmabuf_inodes $cam | head -n1)
grep -q "^$fdino,system,,1048576,0\\{0,1\\},,$cam\$" "$tmp/bufs" && pass "[$src] buffers: fdinfo's inode, size and holder" ||
	fail "[$src] buffers: fdinfo's inode, size and holder" "ino $fdino pid $cam: $(cat "$tmp/bufs")"

unset -f heapstat
done

# filters
heapstat report processes --csv -c /video >"$tmp/f1" 2>&1
csv_lf "$tmp/f1"
[ "$(($(wc -l <"$tmp/f1") - 1))" = 2 ] && ! grep -q camera "$tmp/f1" && pass "filter: -c /video" ||
	fail "filter: -c /video" "$(cat "$tmp/f1")"
heapstat report heaps --csv --heap system >"$tmp/f2" 2>&1
csv_lf "$tmp/f2"
[ "$(cat "$tmp/f2")" = "heap,bytes,buffers
system,2097152,2" ] && pass "filter: --heap system" || fail "filter: --heap system" "$(cat "$tmp/f2")"
heapstat report heaps --csv -p "$cam" >"$tmp/f3" 2>&1
csv_lf "$tmp/f3"
[ "$(cat "$tmp/f3")" = "heap,bytes,buffers
system,2097152,2" ] && pass "filter: -p PID" || fail "filter: -p PID" "$(cat "$tmp/f3")"

# -p: the process's buffers and its cgroup's rows, not another cgroup's limit
heapstat report cgroups --csv -p "$cam" >"$tmp/f4" 2>&1
csv_lf "$tmp/f4"
[ "$(cut -d, -f1-4 "$tmp/f4" | tail -n +2)" = "/camera,system,2097152,2" ] &&
	pass "filter: -p PID: its cgroup's rows alone (not /video's limit)" ||
	fail "filter: -p PID: its cgroup's rows alone (not /video's limit)" "$(cat "$tmp/f4")"
# the cgroup and process named are checked before tracing, not after it
t0=$(date +%s)
heapstat report -d 30 -c /nosuch >/dev/null 2>"$tmp/e1"; r1=$?
heapstat report -d 30 -p 999999 >/dev/null 2>"$tmp/e2"; r2=$?
[ $r1 = 2 ] && [ $r2 = 2 ] && [ $(($(date +%s) - t0)) -lt 10 ] && grep -q "no cgroup /nosuch" "$tmp/e1" &&
	grep -q "no process 999999" "$tmp/e2" && pass "-d with a cgroup or process that is not there: exit 2 at once" ||
	fail "-d with a cgroup or process that is not there: exit 2 at once" \
		"$r1 $r2 after $(($(date +%s) - t0)) s: $(cat "$tmp/e1" "$tmp/e2")"
# the duration is the time traced, from the attach: not the collector's load too
d=$(heapstat report -d 0.05 -j 2>/dev/null | jq .duration_s)
awk -v d="$d" 'BEGIN { exit !(d >= 0.05 && d < 0.1) }' && pass "-d 0.05: duration_s $d, the time traced" ||
	fail "-d 0.05: duration_s, the time traced" "$d"

# gone while traced, as a CI job's: a cgroup named with -c removed, and a
# process named with -p exited, during -d; their traced rows are reported
# (they were checked before the trace), exit 0. The process's pid is taken
# by another in another cgroup before the trace ends: not the one named
mkdir -p $S/gone/job $S/reuse
sh -c "echo \$\$ >$S/gone/job/cgroup.procs; : >$tmp/in1; while [ ! -e $tmp/go1 ]; do sleep 0.05; done
	exec dmabuf_alloc -H system -s 1M -n 2 -w 0" &
job=$!
sh -c "echo \$\$ >$S/gone/cgroup.procs; : >$tmp/in2; while [ ! -e $tmp/go2 ]; do sleep 0.05; done
	exec dmabuf_alloc -H system -s 64K -n 3 -w 0" &
gp=$!
wait_while '[ ! -e $tmp/in1 ] || [ ! -e $tmp/in2 ]'
r1=$(ready_socket) r2=$(ready_socket)
NOTIFY_SOCKET=$r1 heapstat report -j -d 4 -c /gone/job >"$tmp/g1" 2>"$tmp/g1e" &
g1=$!
NOTIFY_SOCKET=$r2 heapstat report -j -d 8 -p $gp >"$tmp/g2" 2>"$tmp/g2e" &
g2=$!
wait_ready $r1 $g1
touch $tmp/go1	# whatever came of it: the allocators end
wait_ready $r2 $g2
touch $tmp/go2
wait $job
rmdir $S/gone/job
wait $gp
sh -c "echo \$\$ >$S/reuse/cgroup.procs; exec pid_at $gp dmabuf_alloc -H system -s 256K -w 60 -R $tmp/reused" &
rp=$!
wait_while '[ ! -e $tmp/reused ] && kill -0 $rp 2>/dev/null'
kill -0 $g2 2>/dev/null && reused=yes || reused="no: the trace was over"
wait $g1
e1=$?
wait $g2
e2=$?
[ -e $tmp/reused ] && kill $gp	# pid_at's child, under the pid taken again
wait $rp
if [ $e1 = 0 ] && jq_true '[.activity[] | select(.cgroup == "/gone/job") | .allocs] == [2] and
	[.cgroups[].heaps[] | select(.cgroup == "/gone/job") | .cgroup_removed] == [true]' "$tmp/g1" >/dev/null &&
   [ $e2 = 0 ] && grep -q "process $gp exited while traced" "$tmp/g2e" &&
	jq_true '[.activity[] | select(.cgroup == "/gone") | .allocs] == [3] and
	[.cgroups[].heaps[] | .cgroup] == ["/gone"] and .processes == []' "$tmp/g2" >/dev/null &&
   [ -e $tmp/reused ] && [ "$reused" = yes ]; then
	pass "-d: a cgroup removed and a process exited while traced (its pid then another's): their traced rows, exit 0"
else
	fail "-d: a cgroup removed and a process exited while traced (its pid then another's): their traced rows, exit 0" \
		"$e1 $e2, pid taken again: $reused: $(cat "$tmp/g1e" "$tmp/g2e"
		jq -c '[.activity, .cgroups, .processes]' "$tmp/g1" "$tmp/g2")"
fi
rmdir $S/gone $S/reuse

# names as their owners set them, whatever the source: a comm with a line
# break, a buffer name with leading blanks
mkdir -p $S/names
sh -c 'echo $$ >/sys/fs/cgroup/names/cgroup.procs
	exec dmabuf_alloc -w 600 -R "$0" -H system -s 4K --comm "$1" --name "$2"' \
	"$tmp/r4" "$(printf 'c\nd')" '  lead' &
pids="$pids $!"
wait_while '[ ! -e "$tmp/r4" ]'
for src in auto procfs; do
	heapstat report -j -c /names --source $src 2>/dev/null |
		jq -c '[.processes[0].comm, .buffers[0].name]' >"$tmp/n.$src"
done
[ "$(cat "$tmp/n.auto")" = '["c\nd","  lead"]' ] && cmp -s "$tmp/n.auto" "$tmp/n.procfs" &&
	pass "names: a comm's line break and a name's leading blanks kept, from either source" ||
	fail "names: a comm's line break and a name's leading blanks kept, from either source" \
		"$(cat "$tmp/n.auto") $(cat "$tmp/n.procfs")"
# memcg's numbers on a cgroup with a memcg-charged row only: not on /mq,
# whose row is its dmem limit's, and whose child holds a system-heap buffer
# (memcg is read on the way up)
if [ "$(cat /sys/module/dma_heap/parameters/mem_accounting 2>/dev/null)" = Y ]; then
	mkdir -p $S/mq
	echo "+memory" >$S/mq/cgroup.subtree_control
	echo "dma-heap/default_cma_region 16M" >$S/mq/dmem.max
	alloc_in mq/r "$tmp/r5" 600 -H system -s 64K
	wait_while '[ ! -e "$tmp/r5" ]'
	heapstat report -j >"$tmp/mj" 2>&1
	jq_true '([.cgroups[] | select(.path == "/mq")][0].memcg == null) and
		([.cgroups[] | select(.path == "/mq/r")][0].memcg.current_bytes > 0)' "$tmp/mj" >/dev/null &&
		pass "json: memcg on the cgroup with a memcg row, not on its parent" ||
		fail "json: memcg on the cgroup with a memcg row, not on its parent" \
			"$(jq -c '.cgroups[] | select(.path | startswith("/mq")) | [.path, .memcg]' "$tmp/mj")"
fi

# JSON: the documented fields, exact bytes
heapstat report -j >"$tmp/json" 2>&1
if jq_true '.sources.buffers == "iter/dmabuf"
	and ([.heaps[] | select(.name == "default_cma_region")][0] == {"name":"default_cma_region",
		"bytes":4194304,"buffers":1,"device":true,"charged_by":"dmem"})
	and ([.cgroups[] | select(.path == "/video")][0].heaps == [{"cgroup":"/video",
		"cgroup_removed":false,"heap":"default_cma_region","bytes":4194304,"buffers":1,"charged_bytes":4194304,
		"own_charged_bytes":4194304,"charged_by":"dmem","limit_bytes":16777216,
		"limit_cgroup":"/video","headroom_bytes":12582912,"limit_hits":0,"allocated":null}])
	and ([.buffers[] | select(.heap == "chunk-reserved")] | length == 2)
	and ([.buffers[] | select(.heap == "default_cma_region")][0].holders | length == 2)
	and .kernel_held.buffers == 0 and .drops == 0' "$tmp/json" >/dev/null; then
	pass "json: documented fields and exact bytes"
else
	fail "json: documented fields and exact bytes" "$(cat "$tmp/json")"
fi

# a buffer only the kernel holds: no fd, no mapping, no attachment
if [ -e /sys/kernel/debug/heapstat_importer ]; then
	dmabuf_alloc -H system -s 192K -K /sys/kernel/debug/heapstat_importer
	if heapstat report -j | jq_true '.kernel_held == {"bytes":196608,"buffers":1}
		and ([.buffers[] | select(.kernel_held)][0] | .bytes == 196608 and .holders == [])' >/dev/null; then
		pass "kernel-held: a buffer no process or device holds"
	else
		fail "kernel-held: a buffer no process or device holds" "$(heapstat report buffers)"
	fi
	echo drop >/sys/kernel/debug/heapstat_importer
	# a device that imported a buffer holds it: named, and not kernel-held
	dmabuf_alloc -H system -s 64K -A /sys/kernel/debug/heapstat_importer
	heapstat report -j >"$tmp/imp"
	if jq_true '.kernel_held.buffers == 0 and ([.buffers[] | select(.attachments == 1)] |
		length == 1 and .[0].bytes == 65536 and .[0].importers == ["heapstat_importer"])' \
		"$tmp/imp" >/dev/null && heapstat report buffers | grep -q " heapstat_importer "; then
		pass "importers: the attached device is named"
	else
		fail "importers: the attached device is named" "$(jq -c .buffers "$tmp/imp")"
	fi
	echo drop >/sys/kernel/debug/heapstat_importer
	# six attachments: all counted, the first four named
	dmabuf_alloc -H system -s 64K -A /sys/kernel/debug/heapstat_importer --attachments 6
	heapstat report -j >"$tmp/imp"
	jq_true '[.buffers[] | select(.attachments > 0)] | length == 1 and .[0].attachments == 6 and
		.[0].importers == ["heapstat_importer", "heapstat_importer", "heapstat_importer",
		"heapstat_importer"]' "$tmp/imp" >/dev/null &&
		pass "importers: six attachments counted, four named" ||
		fail "importers: six attachments counted, four named" "$(jq -c .buffers "$tmp/imp")"
	echo drop >/sys/kernel/debug/heapstat_importer
else
	echo "SKIP: report: kernel-held: no heapstat_importer module"
fi

# two exporters in turn, 2000 buffers: iter/dmabuf names an exporter only when it
# changes, and a record the kernel drops at a full read buffer (every 32 KiB
# here) and shows again must still carry its exporter's name
mkdir -p $S/mix
sh -c "echo \$\$ >$S/mix/cgroup.procs; ulimit -n 2100;
	exec dmabuf_alloc -H system,default_cma_region -s 4K -n 2000 -w 60 -R $tmp/mix" &
mixpid=$!
i=0
while [ ! -e "$tmp/mix" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
heapstat report -j >"$tmp/mixj"
if jq_true '[[.cgroups[] | select(.path == "/mix")][0].heaps[] | {heap, bytes, buffers}] ==
	[{"heap":"default_cma_region","bytes":4096000,"buffers":1000},
	 {"heap":"system","bytes":4096000,"buffers":1000}]' "$tmp/mixj" >/dev/null; then
	pass "2000 buffers of two exporters in turn: each counted to its own"
else
	fail "2000 buffers of two exporters in turn: each counted to its own" \
		"$(jq -c '.cgroups[] | select(.path == "/mix")' "$tmp/mixj")"
fi
# --heap: a process's totals over that heap's buffers alone, in every view
heapstat report processes --csv -c /mix --heap system >"$tmp/mixp" 2>&1
csv_lf "$tmp/mixp"
heapstat report -j -c /mix --heap system 2>/dev/null | jq -c '.processes' >"$tmp/mixpj"
heapstat top -b -n 1 -j -c /mix --heap system 2>/dev/null | jq -c '.processes' >"$tmp/mixt"
[ "$(tail -n +2 "$tmp/mixp")" = "$mixpid,dmabuf_alloc,/mix,4096000,0,4096000,1000" ] &&
	jq_true -n --slurpfile r "$tmp/mixpj" --slurpfile t "$tmp/mixt" --argjson p $mixpid \
		'$r == [[{pid: $p, comm: "dmabuf_alloc", cgroup: "/mix", fd_bytes: 4096000, map_bytes: 0,
		 pss_bytes: 4096000, buffers: 1000}]] and $t == $r' >/dev/null &&
	pass "--heap: a process's bytes and buffers of that heap alone (report CSV, JSON, top)" ||
	fail "--heap: a process's bytes and buffers of that heap alone (report CSV, JSON, top)" \
		"$(cat "$tmp/mixp" "$tmp/mixpj" "$tmp/mixt")"
kill $mixpid
wait $mixpid 2>/dev/null
rmdir $S/mix 2>/dev/null

# the system heap charges memcg when dma_heap.mem_accounting is set (make check boots so)
if [ "$(cat /sys/module/dma_heap/parameters/mem_accounting)" = Y ]; then
	mkdir -p $S/mc
	sh -c "echo \$\$ >$S/mc/cgroup.procs; exec dmabuf_alloc -H system -s 8M -w 60 -R $tmp/mc" &
	mc=$!
	wait_while '[ ! -e $tmp/mc ]'
	heapstat report -j -c /mc >"$tmp/mcj"
	kernel=$(sed -n 's/^kernel //p' $S/mc/memory.stat)
	# memcg's kernel line counts the buffer's pages and a little more (stack, page tables)
	if jq_true --argjson k "$kernel" '.mem_accounting and (.cgroups[] | select(.path == "/mc") |
		.bytes == 8388608 and .memcg.kernel_bytes >= 8388608 and
		.memcg.kernel_bytes < 8388608 + 1048576 and .memcg.max_bytes == null and
		(.memcg.kernel_bytes - $k | fabs) < 262144)' "$tmp/mcj" >/dev/null &&
		heapstat report cgroups -c /mc | grep -q "^/mc .* system .* 8.0M .*8.[0-9]M *$"; then
		pass "memcg: the system heap's buffer is in the cgroup's memory.stat kernel"
	else
		fail "memcg: the system heap's buffer is in the cgroup's memory.stat kernel" \
			"kernel=$kernel $(jq -c '.cgroups' "$tmp/mcj"); $(heapstat report cgroups -c /mc)"
	fi
	kill $mc
	wait $mc
fi

# the main thread gone first (a zombie leader, without fds or mm), three
# threads holding a buffer by fd and mapping: the process holds it once; a
# fourth thread's own fd table, shared with a fifth, holds another, once
# too; the same with the leader alive; from either source
for mode in zombie live; do
	rm -f "$tmp/zl"
	zombie_leader "$tmp/zl" 60 $([ $mode = live ] && echo live) &
	zl=$!
	i=0
	while [ ! -s "$tmp/zl" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	for src in auto procfs; do
		heapstat report -j --source $src >"$tmp/zlj" 2>&1
		jq_true --argjson p $zl '([.buffers[] | select(any(.holders[]; .pid == $p)) |
			{bytes, h: [.holders[] | select(.pid == $p)]}] | sort_by(.bytes)) ==
			[{"bytes":65536,"h":[{"pid":$p,"fds":1,"map_bytes":0}]},
			 {"bytes":1048576,"h":[{"pid":$p,"fds":1,"map_bytes":1048576}]}]
			and ([.processes[] | select(.pid == $p)][0] | .fd_bytes == 1114112 and
			.map_bytes == 1048576 and .buffers == 2)' "$tmp/zlj" >/dev/null &&
			pass "[$src] a $mode leader's threads: one fd and one mapping, once; a thread's own table's, once" ||
			fail "[$src] a $mode leader's threads: one fd and one mapping, once; a thread's own table's, once" \
				"$(jq -c --argjson p $zl '[.buffers[] | select(any(.holders[]; .pid == $p))], [.processes[] | select(.pid == $p)]' "$tmp/zlj")"
	done
	kill $zl
	wait $zl
done

# a regular file mapped whose path reads as a dma-buf's ("/dmabuf:...") and
# whose inode number is a live dma-buf's (a tmpfs numbers its files in
# turn) holds no dma-buf, from either source
alloc_in real "$tmp/r8" 600 -H system -s 4K
wait_while '[ ! -e "$tmp/r8" ]'
real=$(head -n 1 $S/real/cgroup.procs)
ino=$(dmabuf_inodes "$real" | head -n 1)
mkdir -p /dmabuf:fk && mount -t tmpfs -o nr_inodes=0 fk /dmabuf:fk && : >/dmabuf:fk/first
more=$((ino - $(stat -c %i /dmabuf:fk/first) - 1))
# the inode numbers dma-bufs have had since boot, as many files: tests before
# this one in the same guest may have made 60k and more (120k files take 10 s
# and 144 MiB in a guest booted with kmemleak=on); past 150k, too many to make
if [ $more -gt 150000 ]; then
	echo "SKIP: report: a file mapped at /dmabuf:...: dma-buf inode $ino, too many files to make"
elif [ $more -gt 0 ] && ! seq 1 $more | (cd /dmabuf:fk && xargs touch); then
	fail "a file with a dma-buf's inode number" "$more files not made"
elif : >/dmabuf:fk/same && [ "$(stat -c %i /dmabuf:fk/same)" = "$ino" ]; then
	alloc_in fake "$tmp/r9" 600 -n 0 --map-file /dmabuf:fk/same
	wait_while '[ ! -e "$tmp/r9" ]'
	fake=$(head -n 1 $S/fake/cgroup.procs)
	grep -q "/dmabuf:fk/same" /proc/$fake/maps || fail "a file named /dmabuf:fk/same mapped" "$(cat /proc/$fake/maps)"
	for src in auto procfs; do
		heapstat report -j --source $src >"$tmp/fk" 2>&1
		jq_true --argjson i "$ino" --argjson r "$real" '([.buffers[] | select(.inode == $i)][0].holders ==
			[{"pid":$r,"fds":1,"map_bytes":0}]) and ([.processes[] | select(.cgroup == "/fake")] == [])' \
			"$tmp/fk" >/dev/null &&
			pass "[$src] a file mapped at /dmabuf:..., its inode a dma-buf's, is no holder of it" ||
			fail "[$src] a file mapped at /dmabuf:..., its inode a dma-buf's, is no holder of it" \
				"$(jq -c --argjson i "$ino" '[.buffers[] | select(.inode == $i)], [.processes[] | select(.cgroup == "/fake")]' "$tmp/fk")"
	done
	kill "$fake"
	wait "$fake" 2>/dev/null
else
	fail "a file with a dma-buf's inode number" "$(stat -c %i /dmabuf:fk/same), not $ino"
fi
kill "$real"
wait "$real" 2>/dev/null
umount /dmabuf:fk && rmdir /dmabuf:fk

# buffers kept by an O_PATH open of /proc/self/fd/N alone (their own fds
# closed): off the kernel's list of buffers, their memory lives, and that
# process holds them, by that fd; its cgroup holds what the heap charged it
alloc_in opath "$tmp/r10" 600 -H default_cma_region -s 64K -n 2 --path-hold
wait_while '[ ! -e "$tmp/r10" ]'
op=$(head -n 1 $S/opath/cgroup.procs)
heapstat report -j >"$tmp/op" 2>&1
jq_true --argjson p "$op" '([.processes[] | select(.pid == $p)] | length == 1 and
	.[0].fd_bytes == 131072 and .[0].buffers == 2 and .[0].cgroup == "/opath") and
	([.buffers[] | select(any(.holders[]; .pid == $p)) | [.bytes, .heap, .holders]] ==
	 [[65536, "default_cma_region", [{"pid":$p,"fds":1,"map_bytes":0}]],
	  [65536, "default_cma_region", [{"pid":$p,"fds":1,"map_bytes":0}]]]) and
	([.cgroups[] | select(.path == "/opath") | .heaps[] | [.heap, .bytes, .charged_bytes]] ==
	 [["default_cma_region", 131072, 131072]])' "$tmp/op" >/dev/null &&
	pass "buffers kept by O_PATH files alone: their process holds them, its cgroup as charged" ||
	fail "buffers kept by O_PATH files alone: their process holds them, its cgroup as charged" \
		"$(jq -c --argjson p "$op" '[.processes[] | select(.pid == $p)], [.buffers[] | select(any(.holders[]; .pid == $p))], [.cgroups[] | select(.path == "/opath")]' "$tmp/op")"
kill "$op"
wait "$op" 2>/dev/null
rmdir $S/opath

# CSV lists every holder of a buffer (a table cuts the list: "+N")
alloc_in many "$tmp/r7" 600 -H system -s 4K --share 64
wait_while '[ ! -e "$tmp/r7" ]'
heapstat report buffers --csv -c /many >"$tmp/many" 2>&1
csv_lf "$tmp/many"
h=$(tail -n +2 "$tmp/many" | cut -d, -f7)
n=$(echo "$h" | tr ';' '\n' | grep -c '^[0-9][0-9]*$')
[ "$(wc -l <"$tmp/many")" = 2 ] && [ "$n" = 65 ] && [ "$(echo "$h" | tr ';' '\n' | wc -l)" = 65 ] &&
	pass "CSV: all 65 holders of a buffer, none cut" || fail "CSV: all 65 holders of a buffer, none cut" "$(cat "$tmp/many")"

# bad input
for args in "nosuchview" "-p 0" "-p x" "-c camera" "-j --csv" "heaps buffers" "-d 1 --attach x"; do
	heapstat report $args >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && [ -s "$tmp/err" ] && pass "refuses '$args'" ||
		fail "refuses '$args'" "exit $rc: $(cat "$tmp/err")"
done

kill $pids 2>/dev/null
wait
rmdir $S/mq/r $S/mq $S/names $S/many $S/fake $S/real 2>/dev/null
rm -rf "$tmp"
