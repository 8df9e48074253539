#!/bin/bash
# A kernel that reserved no CMA memory (cma=0: /proc/meminfo's CmaTotal 0)
# has no area for CMA's tracepoints to ever fire in, so the collector loads
# none of its four CMA programs there. Its links, as the guest lists them
# from heapstat's fdinfo while it traces, must be the heap ioctl's session
# (a tracing link, attach type BPF_TRACE_FSESSION: 58), the release's fentry
# (BPF_TRACE_FENTRY: 24), the export's tracepoint and cgroup_rmdir's (the
# removed cgroups' names: raw tracepoint links) and nothing else (each CMA
# program is one more raw tracepoint link); the
# allocations made meanwhile are counted, no CMA area is reported, and dmesg
# stays clean.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
name=no_cma
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load system_heap --cmdline cma=0 --timeout 300 -- sh -c '
	. /heapstat/tests/lib.sh
	echo "no_cma: $(grep CmaTotal /proc/meminfo | tr -s " ")"
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat report -j -d 60 >/tmp/r.json & p=$!
	wait_ready $rs $p
	cat /proc/$p/fdinfo/* >/tmp/fdinfo 2>/dev/null
	echo "no_cma: links: $(sed -n "s/^link_type:[[:space:]]*//p" /tmp/fdinfo | sort | tr "\n" " ")"
	echo "no_cma: attach types: $(sed -n "s/^attach_type:[[:space:]]*//p" /tmp/fdinfo | sort -n | tr "\n" " ")"
	dmabuf_alloc -H system -s 64K -n 3 >/dev/null
	kill -INT $p	# stops tracing, and reports
	wait $p
	echo "no_cma: rc=$? $(jq -c "{allocs: [.activity[] | select(.heap == \"system\") | .allocs],
		cma: .cma_areas, without: .sources.without}" /tmp/r.json)"' 2>&1); rc=$?
line() { sed -n "s/^no_cma: $1//p" <<<"$out" | tr -d '\r' | head -n 1; }
check() {
	if [ "$2" = "$3" ]; then
		echo "PASS: $name: $1"
	else
		echo "FAIL: $name: $1: got '$2', want '$3'"
	fi
}
check "the kernel reserved no CMA memory" "$(line "CmaTotal: ")" "0 kB"
check "the collector's links: the export's and cgroup_rmdir's tracepoints, the release, the ioctl's session" \
	"$(line "links: ")" "raw_tracepoint raw_tracepoint tracing tracing "
check "the tracing links: an fentry and a session" "$(line "attach types: ")" "24 58 "
check "the allocations counted, no CMA area, nothing refused" "$(line "rc=")" \
	'0 {"allocs":[3],"cma":[],"without":[]}'
[ $rc = 0 ] || echo "FAIL: $name: scripts/vm exited $rc: $(tail -n 40 <<<"$out")"
exit 0
