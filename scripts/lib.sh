# Shared helpers for heapstat's scripts: source it, don't run it.
HEAPSTAT_CACHE=${HEAPSTAT_CACHE:-${HOME:-/root}/.cache/heapstat}
HEAPSTAT_KVER_DEFAULT=7.2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log()  { printf '  %-7s %s\n' "$1" "$2" >&2; }
warn() { echo "heapstat: warning: $*" >&2; }
die()  { echo "heapstat: $*" >&2; exit 1; }

# heapstat's heap modules, as scripts/vm --load-heaps loads them: the
# carveout heap gets two ranges reserved at boot, a mapped one and a no-map one
HEAPSTAT_HEAP_MODULES="heapstat_cma_heap heapstat_chunk_heap heapstat_carveout_heap"
HEAPSTAT_CARVEOUT_CMDLINE='memmap=32M$0x30000000 memmap=16M$0x32000000'
HEAPSTAT_CARVEOUT_OPTIONS="base=0x30000000,0x32000000 size=0x2000000,0x1000000 names=vm,nomap no_map=0,1"
