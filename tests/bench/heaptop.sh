#!/bin/sh
# make bench, inside the VM: heaptop refreshing every second for 60 s over
# 10k live buffers held by 1k processes in 1k cgroups. Prints heaptop's CPU
# time and peak RSS, and the reference loop's time in this guest (the host's
# is timed by scripts/bench.sh, for the emulation's slowdown).
modprobe system_heap || exit 1
S=/sys/fs/cgroup
tmp=$(mktemp -d)
cgroups=${CGROUPS:-1000}
per=${PER:-10}
frames=${FRAMES:-60}

mkdir -p $S/bench
echo "+dmem +memory" >$S/bench/cgroup.subtree_control
for i in $(seq $cgroups); do
	mkdir $S/bench/c$i
	sh -c "echo \$\$ >$S/bench/c$i/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n $per -w 3600 -R $tmp/r$i" &
done
while [ "$(ls "$tmp" | wc -l)" -lt $cgroups ]; do sleep 0.5; done
n=$(heapstat report heaps --csv | sed -n 's/^system,[0-9]*,//p')
[ "$n" = $((cgroups * per)) ] || echo "heapstat counts $n buffers, not $((cgroups * per))" >&2
heaptop -b -n 1 -d 1 | grep -c '^/bench/' | sed 's/^/rows=/'
refloop
# steady RSS near the end, beside runstat's peak
rss_of() {	# rss_of COMM: VmRSS in KiB of the process named COMM
	for p in /proc/[0-9]*; do
		[ "$(cat $p/comm 2>/dev/null)" = "$1" ] && sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' $p/status
	done
}
(sleep $((frames - 5)); echo "steady_rss_kb=$(rss_of heaptop)") &
runstat heaptop -b -d 1 -n $frames | sed "s/^/frames=$frames /"
wait $!
refloop
kill $(jobs -p) 2>/dev/null
wait
