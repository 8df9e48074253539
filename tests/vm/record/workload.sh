#!/bin/sh
# A recording with known behaviour for the host's checks of analyze's outputs
# (tests/boot/record_outputs.sh): in a cgroup limited to 8 MiB of
# default_cma_region, a command allocates four 1 MiB system-heap buffers and
# frees them, leaks three 2 MiB CMA-heap buffers to a child it leaves
# behind, and fails one 4 MiB allocation on the limit. Written to
# /heapstat/out/run.hsrec, and upstream's dmabuf-heaps kselftest's
# recording to kselftest.hsrec, which scripts/vm --fetch brings back.
. "$(dirname "$0")/../../lib.sh"
S=/sys/fs/cgroup
H=default_cma_region
out=/heapstat/out
mkdir -p $out
[ -e /dev/dma_heap/$H ] || { echo "FAIL: record_outputs: no heap $H (scripts/vm --load-heaps)"; exit 1; }
mkdir -p $S/rec
heapstat limit set /rec $H 8M || exit 1
sh -c "echo \$\$ >$S/rec/cgroup.procs; exec heapstat record -o $out/run.hsrec -- sh -c '
	dmabuf_alloc -H system -s 1M -n 4 -r 2
	dmabuf_alloc -H $H -s 2M -n 3 --background -w 60 -R /tmp/bg
	dmabuf_alloc -H $H -s 4M 2>/dev/null
	exit 5'" >/tmp/rec.out 2>&1
rc=$?
[ $rc = 5 ] || { echo "FAIL: record_outputs: record exited $rc: $(cat /tmp/rec.out)"; exit 1; }
heapstat limit clear /rec
reap_records /rec
rmdir $S/rec 2>/dev/null
# a workload nobody here wrote, with many allocations: upstream's kselftest
if command -v dmabuf-heap >/dev/null; then
	# it exits 1: a few of its cases fail on heaps without a kernel mapping
	heapstat record -o $out/kselftest.hsrec -- dmabuf-heap >/dev/null 2>&1
	[ -s $out/kselftest.hsrec ] || echo "FAIL: record_outputs: no recording of the kselftest"
fi
exit 0
