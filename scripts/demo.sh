#!/bin/bash
# make demo: boot the reference VM and watch dma-buf heap usage live while a
# workload in three cgroups allocates and frees. q quits and powers off.
# Without a terminal (CI), heapstat prints a few batch frames instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=(--timeout 300)
if [ -t 0 ] && [ -t 1 ] && [ -z "${CI:-}" ]; then
	mode=(--interactive --timeout 0)
	echo "heapstat demo: booting the VM; press q to quit" >&2
fi
HEAPSTAT_VM_NOBUILD=1 exec "$TOP/scripts/vm" "${mode[@]}" \
	--load-heaps --load system_heap -- sh /heapstat/guest/demo.sh
