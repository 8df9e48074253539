#!/bin/sh
# make bench, inside the VM: heapstat export --listen scraped every second for
# 60 s (SCRAPES) over the load of heaptop's benchmark (cgroup_load.sh: 10k
# buffers held by 1k processes in 1k cgroups). Prints the exporter's CPU time
# over the scrapes alone (its /proc/PID/stat, loading and the first sample
# left out) and in all (runstat), its RSS, the series per scrape, and the
# reference loop's time in this guest (scripts/bench.sh times the host's).
. /heapstat/tests/bench/cgroup_load.sh
scrapes=${SCRAPES:-60}
url=http://127.0.0.1:9464/metrics
tmp=$(mktemp -d)

cgroup_load || exit 1
refloop
runstat heapstat export --listen 127.0.0.1:9464 >$tmp/runstat &
rs=$!
i=0
until wget -q -O $tmp/m $url 2>/dev/null || [ $i -ge 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
pid=$(for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = heapstat ] && echo ${p#/proc/}; done)
echo "rows=$(grep -c '^heapstat_cgroup_held_bytes{cgroup="/bench/' $tmp/m)" \
	"series=$(grep -vc '^#' $tmp/m) bytes=$(wc -c <$tmp/m)"
# utime + stime in clock ticks (100 a second)
ticks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
t0=$(ticks)
w0=$(awk '{ print $1 }' /proc/uptime)
for i in $(seq $scrapes); do
	wget -q -O $tmp/m $url || echo "scrape $i failed" >&2
	sleep 1
done
t1=$(ticks)
w1=$(awk '{ print $1 }' /proc/uptime)
echo "steady_rss_kb=$(rss_of heapstat)"
grep '^heapstat_export_scrape_duration_seconds ' $tmp/m
awk -v t0=$t0 -v t1=$t1 -v w0=$w0 -v w1=$w1 -v n=$scrapes 'BEGIN {
	printf "scrapes=%d cpu_ms=%.0f wall_ms=%.0f\n", n, (t1 - t0) * 10, (w1 - w0) * 1000 }'
kill -INT $pid
wait $rs
sed 's/^/total: /' $tmp/runstat
refloop
kill $(jobs -p) 2>/dev/null
wait
