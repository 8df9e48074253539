#!/bin/sh
# make demo, inside the VM: three cgroups allocate, free, share and leak
# dma-buf heap memory from three heaps while heaptop shows it; camera is
# limited (heapstat limit: dmem.max) and runs into it: heaptop's HITS and
# title show each refusal. q (or the end of batch mode) stops all. Arguments replace heaptop's batch options (default -b -n 5).
S=/sys/fs/cgroup
pids=

start() {	# start CGROUP ARGS...: run dmabuf_alloc in a cgroup
	cg=$1
	shift
	mkdir -p "$S/$cg"
	sh -c "echo \$\$ >$S/$cg/cgroup.procs; exec dmabuf_alloc $*" 2>/dev/null &
	pids="$pids $!"
}

mkdir -p $S/camera
heapstat limit set /camera default_cma_region 24M
# camera: frames of up to 8 MiB from CMA, six in flight, against a 24 MiB limit
start camera -H default_cma_region -s 8M -n 6 --churn 3600 -p 150
# gpu: big system-heap buffers coming and going, and two shared with two children
start gpu -H system -s 32M -n 4 --churn 3600 -p 400
start gpu -H system -s 16M -n 2 --share 2 -w 3600
# video: chunk-heap buffers, and system-heap ones piling up: one (up to 2 MiB)
# every 1.5 s, up to 64
start video -H chunk-reserved -s 4M -n 8 --churn 3600 -p 250
start video -H system -s 2M -n 64 --churn 3600 -p 1500

if [ "$(sed -n 's/.*heapstat.interactive=\([01]\).*/\1/p' /proc/cmdline)" = 1 ]; then
	heaptop
elif [ $# -gt 0 ]; then
	heaptop "$@"
else
	heaptop -b -n 5
fi
rc=$?
kill $pids 2>/dev/null
wait
exit $rc
