#!/bin/sh
# make bench, inside the VM: heapstat record's sustained rate and its bytes
# per event, and its drops when forced. A system-heap alloc+free loop at
# 4 KiB (trace_bench bare: nothing of its own attached) makes three events
# per pair (the fd made for the buffer, the allocation with its export, the
# final release) while heapstat
# record records everything; the recorder's CPU time (runstat) over the
# events it wrote, less a short run's (start-up and snapshots), is its cost
# per event, and events per CPU second its sustained rate (scripts/bench.sh turns it native-equivalent with the
# reference loop's slowdown). Then drops forced: the recorder stopped
# (SIGSTOP) while more pairs than its ring holds are made, and continued:
# the events recorded plus the drops it reports must be exactly three per pair.
modprobe system_heap 2>/dev/null
tmp=$(mktemp -d)
pairs=${PAIRS:-300000}		# trace_bench makes a tenth more first (its warm-up)
forced=${FORCED:-40000}

refloop

# the recorder's pid: runstat's child
recorder_of() {
	for p in /proc/[0-9]*; do
		[ "$(cat $p/comm 2>/dev/null)" = heapstat ] && [ "$(cut -d' ' -f4 $p/stat)" = "$1" ] &&
			basename $p
	done
}
record() {	# record FILE PAIRS [stop]: one run, runstat's line in $tmp/stat
	ready=$(ready_socket)
	NOTIFY_SOCKET=$ready runstat heapstat record -o "$1" >$tmp/stat &
	rs=$!
	while [ -z "$(recorder_of $rs)" ]; do sleep 0.1; done
	rp=$(recorder_of $rs)
	wait_ready $ready $rs
	[ "$3" = stop ] && kill -STOP $rp
	TRACE_BENCH_BALLAST=0 trace_bench bare 4096 "$2" >$tmp/load
	[ "$3" = stop ] && kill -CONT $rp
	sleep 1
	kill -INT $rp
	wait $rs
	sed -n 's/^bare: \([0-9.]*\) us per op/load_us_per_pair=\1/p' $tmp/load >>$tmp/stat
}
. /heapstat/tests/lib.sh

# what a recording costs whatever it records (loading, attaching, the
# snapshots): a short run first, taken off the long one's
record $tmp/b.hsrec 1000
heapstat analyze $tmp/b.hsrec -j >$tmp/b.json
echo "base: pairs=1100 events=$(jq .recording.events $tmp/b.json) $(tr '\n' ' ' <$tmp/stat)"

record $tmp/r.hsrec $pairs
heapstat analyze $tmp/r.hsrec -j >$tmp/a.json
events=$(jq .recording.events $tmp/a.json)
drops=$(jq .recording.drops $tmp/a.json)
bytes=$(stat -c %s $tmp/r.hsrec)
echo "sustained: pairs=$((pairs * 11 / 10)) events=$events drops=$drops file_bytes=$bytes $(tr '\n' ' ' <$tmp/stat)"

record $tmp/d.hsrec $forced stop
heapstat analyze $tmp/d.hsrec -j >$tmp/d.json
echo "forced: pairs=$((forced * 11 / 10)) events=$(jq .recording.events $tmp/d.json) drops=$(jq .recording.drops $tmp/d.json)"
rm -rf $tmp
