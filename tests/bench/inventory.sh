#!/bin/sh
# make bench, inside the VM: heapstat's inventory of N live dma-bufs (BPF
# iterators; heapstat report heaps, which takes the whole inventory and
# prints little) against reading every /proc/*/fdinfo of the same set
# (fdinfo_scan), and heapstat's own /proc path; wall time ratios and
# heapstat's peak RSS.
modprobe system_heap || exit 1
echo 2000000 >/proc/sys/fs/nr_open
echo 2000000 >/proc/sys/fs/file-max
tmp=$(mktemp -d)
val() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

printf '%-8s %12s %12s %14s %10s %10s %12s\n' BUFFERS HEAPSTAT-ms FDINFO-ms HEAPSTAT-PROC-ms \
	FDINFO/HS PROC/HS HS-RSS-KiB
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
	hs=$(runstat heapstat report heaps)
	fd=$(runstat fdinfo_scan)
	pr=$(runstat heapstat report heaps --source procfs)
	seen=$(fdinfo_scan)
	[ "$seen" = "dmabufs=$total" ] || echo "fdinfo_scan saw $seen, not $total" >&2
	count=$(heapstat report heaps --csv | sed -n 's/^system,[0-9]*,//p')
	[ "$count" = "$total" ] || echo "heapstat counted $count buffers, not $total" >&2
	h=$(echo "$hs" | val wall_ms) f=$(echo "$fd" | val wall_ms) p=$(echo "$pr" | val wall_ms)
	printf '%-8s %12s %12s %14s %10s %10s %12s\n' $total $h $f $p \
		"$(awk "BEGIN { printf \"%.1f\", $f / $h }")" "$(awk "BEGIN { printf \"%.1f\", $p / $h }")" \
		"$(echo "$hs" | val maxrss_kb)"
	kill $pids
	wait
done
rm -rf "$tmp"
