#!/bin/sh
# make bench, inside the VM: heaptop refreshing every second over 10k live
# buffers held by 1k processes in 1k cgroups (cgroup_load.sh), FRAMES (60)
# frames steady, then FRAMES frames with two processes allocating and
# freeing 4 KiB buffers, 1000 a second (STEADY=1: the steady part alone),
# all of HEAP (default system).
# Prints heaptop's CPU time over each part (its /proc/PID/stat; loading and
# the first frame left out), its RSS and peak RSS, the churn's rate as heaptop saw it,
# and the reference loop's time in this guest (scripts/bench.sh times the host's).
. /heapstat/tests/bench/cgroup_load.sh
frames=${FRAMES:-60}
ch=
tmp=$(mktemp -d)

cgroup_load || exit 1
heaptop -b -n 1 -d 1 | grep -c '^/bench/' | sed 's/^/rows=/'
refloop
heaptop -b -d 1 -n $((2 * frames + 30)) >$tmp/frames &
rs=$!
pid=
while [ -z "$pid" ]; do
	sleep 0.5
	pid=$(for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = heaptop ] && echo ${p#/proc/}; done)
done
sleep 5	# loaded, the first inventory taken
# utime + stime in clock ticks (100 a second), and the guest's time
ticks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
uptime_ms() { awk '{ printf "%.0f\n", $1 * 1000 }' /proc/uptime; }
part() {
	_t0=$(ticks) _w0=$(uptime_ms)
	sleep $frames
	echo "$1: frames=$frames cpu_ms=$((($(ticks) - _t0) * 10)) wall_ms=$(($(uptime_ms) - _w0))"
}
part steady
echo "steady_rss_kb=$(rss_of heaptop)"
if [ -z "$STEADY" ]; then
	# two processes, each allocating (and freeing one) every 2 ms, paced:
	# 1000 a second together
	mkdir $S/bench/churn
	for i in 1 2; do
		sh -c "echo \$\$ >$S/bench/churn/cgroup.procs; exec dmabuf_alloc -H $heap -s 4K -n 10 --churn $((frames + 10)) -p 2" &
		ch="$ch $!"
	done
	sleep 3
	part churn
	echo "churn_rss_kb=$(rss_of heaptop)"
	kill $ch
	wait $ch 2>/dev/null
fi
echo "peak_rss_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$pid/status)"
kill -INT $pid
wait $rs
# heaptop's own count of the churn's allocations a second: the median of
# the churning part's last frames (the very last came after it stopped)
[ -z "$STEADY" ] && grep '^heaptop - ' $tmp/frames | tail -n $((frames / 2 + 2)) | head -n $((frames / 2)) |
	sed -n 's/.*alloc\/s \([0-9.]*\).*/\1/p' | sort -n | awk '{ v[NR] = $1 }
	END { print "churn_alloc_per_s=" v[int((NR + 1) / 2)] }'
refloop
kill $(jobs -p) 2>/dev/null
wait
