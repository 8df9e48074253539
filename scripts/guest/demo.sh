#!/bin/sh
# make demo, inside the VM: three cgroups allocate and free dma-buf heap
# memory while heapstat top shows it. q (or the end of batch mode) stops all.
S=/sys/fs/cgroup
pids=

start() {	# start CGROUP ARGS...: run dmabuf_alloc in a new cgroup
	cg=$1
	shift
	mkdir -p "$S/$cg"
	sh -c "echo \$\$ >$S/$cg/cgroup.procs; exec dmabuf_alloc $*" &
	pids="$pids $!"
}

start camera -H default_cma_region -s 8M -n 6 --churn 600 -p 150
start gpu -H system -s 32M -n 4 --churn 600 -p 400
start video -H chunk-reserved -s 4M -n 8 --churn 600 -p 250

if [ "$(sed -n 's/.*heapstat.interactive=\([01]\).*/\1/p' /proc/cmdline)" = 1 ]; then
	heapstat top
else
	heapstat top -b -n "${DEMO_FRAMES:-5}"
fi
rc=$?
kill $pids 2>/dev/null
wait
exit $rc
