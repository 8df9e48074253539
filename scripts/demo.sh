#!/bin/bash
# make demo: boot the reference VM, load the heapstat heaps with accounting
# on, and watch heaptop while a workload in three cgroups allocates, frees,
# shares and leaks (camera runs into its dmem.max). q quits and powers off.
# Without a terminal (CI), heaptop prints a few batch frames instead;
# arguments go to heaptop then (scripts/demo.sh -j -n 3).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=(--timeout 300)
if [ -t 0 ] && [ -t 1 ] && [ -z "${CI:-}" ]; then
	mode=(--interactive --timeout 0)
	echo "heapstat demo: booting the VM; press q to quit" >&2
fi
HEAPSTAT_VM_NOBUILD=1 exec "$TOP/scripts/vm" "${mode[@]}" \
	--load-heaps --load system_heap -- sh /heapstat/guest/demo.sh "$@"
