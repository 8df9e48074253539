#!/bin/sh
# In the guest, or on the host (tests/matrix/ladder.sh): every subcommand
# once, while dmabuf_alloc holds two 1 MiB system-heap buffers (where there
# is a system heap; a limit set only in the guest); one line per command,
# "ladder: CMD rc=N KEY=VALUE...", with the sources and attach methods the
# command said it used (its JSON, or its -v line on stderr). Scratch files
# in $LADDER_TMP (default /tmp).
say() { echo "ladder: $*"; }
# -v's line: "heapstat CMD: buffers from X, holders from Y; traced by M (HOOKS, HOOK)"
vline() { sed -n "s/^heapstat $1: \(buffers from \)/\1/p" "$2" | head -n 1; }	# its sources' line
srcs='.sources | "buffers=\(.buffers) holders=\(.holders) attach=\(.attach) ioctl=\(.ioctl_variant) export=\(.export_variant)"'

cd "${LADDER_TMP:-/tmp}" || exit 1
# a module on 7.2, built in before 6.18 (in the guest only: never the host's)
[ -d /heapstat/bin ] && modprobe system_heap 2>/dev/null
hold=0 work="sleep 0.5"
if [ -e /dev/dma_heap/system ]; then
	dmabuf_alloc -H system -s 1M -n 2 -w 300 -R ready >/dev/null & hold=$!
	i=0
	while [ ! -e ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	work="dmabuf_alloc -H system -s 64K -n 3 -r 1 -w 0"
fi

heapstat -v report -j >j 2>e; rc=$?
say "report rc=$rc $(jq -r "$srcs" j) bytes=$(jq '.processes[] | select(.pid == '$hold') | .fd_bytes' j 2>/dev/null)"
say "report-v $(vline report e)"
say "report-loaded $(sed -n 's/^heapstat report: iterators loaded by //p' e | head -n 1)"
heapstat -v report -d 1 -j >j 2>e; rc=$?
say "report-d rc=$rc $(jq -r "$srcs" j) traced=$(jq .tracing.attached j)"
say "report-d-v $(vline report e)"
say "report-d-why $(jq -r '.tracing.missing // empty' j)"
say "report-d-loaded $(sed -n 's/^heapstat report: collector loaded by //p' e | head -n 1)"
heapstat top -b -n 1 -d 0.5 >t 2>&1; rc=$?
say "top-b rc=$rc lines=$(wc -l <t)"
heapstat -v top -j -n 1 -d 0.5 >j 2>e; rc=$?
say "top-j rc=$rc $(jq -r "$srcs" j) traced=$(jq .tracing.attached j)"
say "top-v $(vline top e)"
heapstat -v limit show >t 2>e; rc=$?
say "limit-show rc=$rc"
say "limit-show-v $(vline 'limit show' e)"
# a bpf-lsm limit at the byte (in the guest: the system heap charges nobody
# there): 3 x 64 KiB fit in 192 KiB, the 4th is refused and is the event
if [ -d /heapstat/bin ] && [ $hold != 0 ]; then
	mkdir -p /sys/fs/cgroup/ladder
	heapstat limit set /ladder system 192K >t 2>e; rc=$?
	heapstat limit show -j /ladder >j 2>>e
	say "limit-set rc=$rc $(jq -r '.[] | "\(.backend) \(.limit_bytes) \(.usage_bytes)"' j) $(head -c 300 e)"
	sh -c 'echo $$ >/sys/fs/cgroup/ladder/cgroup.procs; exec dmabuf_alloc -H system -s 64K -n 4 -w 0' >/dev/null 2>e
	rc=$?
	say "limit-alloc rc=$rc eagain=$(grep -c 'Resource temporarily unavailable' e)"
	heapstat limit events -j >j 2>e
	say "limit-events $(jq -r '"\(.backend) \(.limit_cgroup) \(.requested_bytes) \(.usage_bytes) \(.limit_bytes)"' j | tr '\n' ' ')"
	heapstat limit clear /ladder >/dev/null 2>e; rc=$?
	say "limit-clear rc=$rc pinned=$(ls /sys/fs/bpf/heapstat 2>/dev/null | wc -l)"
	rmdir /sys/fs/cgroup/ladder
fi
heapstat -v record -o r.hsrec -- $work >/dev/null 2>e
rc=$?
say "record rc=$rc"
say "record-v $(vline record e)"
heapstat analyze -j r.hsrec >j 2>e; rc=$?
say "analyze rc=$rc json=$(jq -r type j 2>/dev/null)"
mkdir -p tf
heapstat -v export --textfile tf -i 1 2>e & x=$!
i=0
while [ ! -s tf/heapstat.prom ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill $x; wait $x
say "export tracing=$(sed -n 's/^heapstat_export_tracing \([0-9]*\)$/\1/p' tf/heapstat.prom)"
say "export-v $(vline export e)"
[ $hold = 0 ] || kill $hold
wait
exit 0
