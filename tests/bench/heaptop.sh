#!/bin/sh
# make bench, inside the VM: heaptop refreshing every second for 60 s over
# 10k live buffers held by 1k processes in 1k cgroups (cgroup_load.sh). Prints
# heaptop's CPU time and peak RSS, and the reference loop's time in this guest
# (the host's is timed by scripts/bench.sh, for the emulation's slowdown).
. /heapstat/tests/bench/cgroup_load.sh
frames=${FRAMES:-60}

cgroup_load || exit 1
heaptop -b -n 1 -d 1 | grep -c '^/bench/' | sed 's/^/rows=/'
refloop
# steady RSS near the end, beside runstat's peak
(sleep $((frames - 5)); echo "steady_rss_kb=$(rss_of heaptop)") &
runstat heaptop -b -d 1 -n $frames | sed "s/^/frames=$frames /"
wait $!
refloop
kill $(jobs -p) 2>/dev/null
wait
