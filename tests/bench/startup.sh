#!/bin/sh
# make bench, inside the VM (booted with --icount: times are guest
# instructions): how long heapstat takes to start, with 100 buffers held.
# ONESHOT: `heapstat report -j` (the inventory only); TRACED: `heapstat
# report -j -d 0.01`, which loads and attaches the collector, traces 10 ms
# and reads the model; ATTACH: TRACED less ONESHOT and the 10 ms, what
# loading and attaching the collector costs; TOP: `heaptop -b -d 0.1 -n 1`,
# start to its first frame (100 ms after it attached) and exit, less the 100 ms. Medians of
# five.
modprobe system_heap || exit 1
tmp=$(mktemp -d)
val() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
med5() {	# med5 CMD...: the median wall time of five runs, in ms
	for i in 1 2 3 4 5; do runstat "$@" | val wall_ms; done | sort -n | sed -n 3p
}
dmabuf_alloc -H system -s 64K -n 100 -w 3600 -R "$tmp/ready" &
held=$!
while [ ! -e "$tmp/ready" ]; do sleep 0.1; done
heapstat report -j -d 0.01 >/dev/null	# warm every path once
one=$(med5 heapstat report -j)
traced=$(med5 heapstat report -j -d 0.01)
top=$(med5 heaptop -b -d 0.1 -n 1)
printf '%10s %10s %10s %10s\n' ONESHOT-ms TRACED-ms ATTACH-ms TOP-ms
awk -v o="$one" -v t="$traced" -v p="$top" \
	'BEGIN { printf "%10.1f %10.1f %10.1f %10.1f\n", o, t, t - o - 10, p - 100 }'
echo "startup: oneshot_ms=$one traced_ms=$traced top_ms=$top"
kill $held
wait
rm -rf "$tmp"
