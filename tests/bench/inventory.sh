#!/bin/sh
# make bench, inside the VM: heapstat's inventory of N live dma-bufs against
# reading every /proc/*/fdinfo of the same set (fdinfo_scan): the snapshot
# with the BPF iterators loaded (inv_bench: what each heaptop refresh costs),
# the whole one-shot `heapstat report heaps` (loading the programs included),
# and heapstat's own /proc path; medians of three, wall time ratios, and
# heapstat's peak RSS.
modprobe system_heap || exit 1
echo 2000000 >/proc/sys/fs/nr_open
echo 2000000 >/proc/sys/fs/file-max
tmp=$(mktemp -d)
val() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
med3() {	# med3 CMD...: the runstat line of the median of three runs by wall time
	for i in 1 2 3; do runstat "$@"; done | sort -t= -k2 -n | sed -n 2p
}
ratio() { awk "BEGIN { printf \"%.1f\", $1 / $2 }"; }

printf '%-8s %9s %9s %9s %9s %11s %10s %12s %12s\n' BUFFERS FDINFO-ms LOAD-ms SNAP-ms \
	ONESHOT-ms FDINFO/SNAP FDINFO/ONE PROC-ONE-ms HS-RSS-KiB
for total in 10000 100000; do
	procs=10
	per=$((total / procs))
	rm -f "$tmp"/r*
	pids=
	for i in $(seq $procs); do
		sh -c "ulimit -n $((per + 64)); exec dmabuf_alloc -H system -s 4K -n $per -w 3600 -R $tmp/r$i" &
		pids="$pids $!"
	done
	while [ "$(ls "$tmp" | wc -l)" -lt $procs ]; do sleep 0.2; done
	# warm every path once, then time each
	fdinfo_scan >/dev/null
	heapstat report heaps >/dev/null
	inv=$(inv_bench 5)
	hs=$(med3 heapstat report heaps)
	h=$(echo "$hs" | val wall_ms) f=$(med3 fdinfo_scan | val wall_ms)
	p=$(runstat heapstat report heaps --source procfs | val wall_ms)
	seen=$(fdinfo_scan)
	[ "$seen" = "dmabufs=$total" ] || echo "fdinfo_scan saw $seen, not $total" >&2
	count=$(heapstat report heaps --csv | tr -d '\r' | sed -n 's/^system,[0-9]*,//p')
	[ "$count" = "$total" ] || echo "heapstat counted $count buffers, not $total" >&2
	[ "$(echo "$inv" | val buffers)" = "$total" ] || echo "inv_bench: $inv, not $total buffers" >&2
	l=$(echo "$inv" | val load_ms) n=$(echo "$inv" | val snapshot_ms)
	printf '%-8s %9s %9s %9s %9s %11s %10s %12s %12s\n' $total $f $l $n $h \
		"$(ratio $f $n)" "$(ratio $f $h)" $p "$(echo "$hs" | val maxrss_kb)"
	kill $pids
	wait
done
rm -rf "$tmp"
