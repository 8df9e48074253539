# Shared helpers for heapstat's scripts: source it, don't run it.
HEAPSTAT_CACHE=${HEAPSTAT_CACHE:-${HOME:-/root}/.cache/heapstat}
HEAPSTAT_KVER_DEFAULT=7.2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log()  { printf '  %-7s %s\n' "$1" "$2" >&2; }
warn() { echo "heapstat: warning: $*" >&2; }
die()  { echo "heapstat: $*" >&2; exit 1; }

# heapstat's heap modules, as scripts/vm --load-heaps loads them
HEAPSTAT_HEAP_MODULES="heapstat_cma_heap"
