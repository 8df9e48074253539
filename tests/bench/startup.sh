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
# what -icount makes of the kernel's page zeroing (rep stosb: a byte an
# instruction) against 8-byte stores, 16 MiB each
echo "emulation, 16 MiB zeroed: $(rep_count)"
# where loading goes: the verifier, program by program (each loaded alone),
# the iterators (a one-shot report loads iter/cgroup only for a large tree),
# and the collector's programs as
# heaptop loads them on this kernel (the ioctl's session, fentry, fexit and
# tracepoints); the objects are in /heapstat/bpf (scripts/bench.sh adds them
# to this boot)
echo "verifier, each program loaded alone (verify_time):"
{ verify_time /heapstat/bpf/dmabuf_iter.bpf.o dmabuf task_file task_vma &&
  verify_time /heapstat/bpf/cgroup_iter.bpf.o cgroup_tree; } |
	awk '{ print; sub("verify_us=", "", $2); t += $2 } END { printf "%-32s verify_us=%d\n", "iterators", t }'
# (the session program only in the object built for it, collector_fs)
verify_time /heapstat/bpf/collector_fs.bpf.o dma_heap_ioctl_session=fsession \
	dma_buf_export_tp dma_buf_release dma_buf_dynamic_attach_raw dma_buf_detach_raw \
	dma_buf_fd_raw dma_buf_get_raw dma_buf_mmap_internal_raw dma_buf_mmap_raw \
	sched_process_fork_raw sched_process_exec_raw cgroup_attach_task_raw exit_files_fexit \
	heapstat_heap_alloc heapstat_heap_free cma_alloc_start cma_alloc_busy_retry \
	cma_alloc_finish cma_release |
	awk '{ print; sub("verify_us=", "", $2); t += $2 } END { printf "%-32s verify_us=%d\n", "collector", t }'
kill $held
wait
rm -rf "$tmp"
