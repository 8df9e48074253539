#!/bin/sh
# The load heaptop's and the exporter's benchmarks measure against, inside the
# VM (sourced by tests/bench/heaptop.sh and tests/bench/export.sh): CGROUPS
# cgroups /bench/c1... (default 1000), each with a process holding PER live
# 4 KiB buffers (default 10) of HEAP (default system): 10k buffers held by 1k
# processes.
#
#   . /heapstat/tests/bench/cgroup_load.sh
#   cgroup_load          # made, and counted by heapstat report
#   rss_of COMM          # VmRSS in KiB of the process named COMM
S=/sys/fs/cgroup
cgroups=${CGROUPS:-1000}
per=${PER:-10}
heap=${HEAP:-system}

cgroup_load() {
	_cl_tmp=$(mktemp -d)
	modprobe system_heap || return 1
	mkdir -p $S/bench
	echo "+dmem +memory" >$S/bench/cgroup.subtree_control
	for _cl_i in $(seq $cgroups); do
		mkdir $S/bench/c$_cl_i
		sh -c "echo \$\$ >$S/bench/c$_cl_i/cgroup.procs; exec dmabuf_alloc -H $heap -s 4K -n $per -w 3600 -R $_cl_tmp/r$_cl_i" &
	done
	while [ "$(ls "$_cl_tmp" | wc -l)" -lt $cgroups ]; do sleep 0.5; done
	_cl_n=$(heapstat report heaps --csv | tr -d "\r" | sed -n "s/^$heap,[0-9]*,//p")
	[ "$_cl_n" = $((cgroups * per)) ] ||
		echo "heapstat counts $_cl_n buffers, not $((cgroups * per))" >&2
	rm -rf "$_cl_tmp"
}

rss_of() {
	for _ro_p in /proc/[0-9]*; do
		[ "$(cat $_ro_p/comm 2>/dev/null)" = "$1" ] &&
			sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' $_ro_p/status
	done
}
