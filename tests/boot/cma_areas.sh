#!/bin/bash
# More than one CMA area: heapstat_cma_heap adds one heap per area the kernel
# lists for DMA (the default one and the device tree's reserved-memory pools;
# areas the kernel makes for NUMA nodes, hugetlb or crash kernels are not
# among them), named default_cma_region for the default and the area's name
# for the others. x86 has only the default area (no device tree), so this
# boots arm64: QEMU's virt machine with cma=64M and tests/dt/cma_areas.dtsi's
# two pools, camera (32 MiB) and video (16 MiB), and the chunk heap on video
# (cma_area=video). tests/dt/cma_areas.c checks the heaps and areas by name,
# each heap's dmem capacity against its area's size, and that a buffer from
# each heap takes its pages from its own area alone (CMA sysfs), then
# heap_test runs on the heaps of the device tree's areas. dmesg must stay
# clean.
#
# Then heapstat itself (make arm64 builds it static): dmabuf_alloc holds
# buffers of every heap (--background: init has no shell), and heapstat
# report (--source procfs: this kernel has no BPF) as tables, JSON and CSV,
# and heaptop -b -n 1 and -j -n 1 must show one row per heap, named, with
# exactly the bytes held (the chunk heap's rounded up to whole 64 KiB
# chunks), and each CMA area by name with its size and its used bytes: those
# before the holders (a report taken then) plus theirs. heaptop must say
# that nothing is traced, and why. The guest prints each command's output
# after a line "cma_areas: run: COMMAND" (tests/dt/init.c); it is checked
# here, on the host.
top=$(cd "$(dirname "$0")/../.." && pwd)
name=cma_areas
. "$top/tests/dt/lib.sh"

# the areas, from cma= below and tests/dt/cma_areas.dtsi: name and bytes
areas=("reserved $((64 << 20))" "camera $((32 << 20))" "video $((16 << 20))")
# what is held: heap, its area, buffer size, count, the heap's granule (the
# chunk heap's 64 KiB chunks; one page for the others)
holds=(
	"default_cma_region reserved $((1 << 20)) 3 4096"
	"camera camera $((5 << 20)) 2 4096"
	"video video $((768 << 10)) 4 4096"
	"chunk-video video $((100 << 10)) 3 65536"
)

dt_setup cma_areas heap_test dmabuf_alloc heapstat heaptop
for m in vgem heapstat_core heapstat_cma_heap heapstat_importer; do
	dt_module $m
done
dt_module heapstat_chunk_heap cma_area=video
report="/heapstat report --source procfs"
{
	echo "/cma_areas default_cma_region=reserved camera=camera video=video chunk-video=video:65536"
	echo "/heap_test camera video chunk-video:65536"
	echo "$report cma --csv"
	for h in "${holds[@]}"; do
		read -r heap _ size count _ <<<"$h"
		echo "/dmabuf_alloc -H $heap -s $size -n $count --background -w 3600"
	done
	echo "$report"
	echo "$report -j"
	echo "$report heaps --csv"
	echo "$report cma --csv"
	echo "/heaptop -b -n 1"
	echo "/heaptop -j -n 1"
} >"$dt_root/run"
dt_run $name "$top/tests/dt/cma_areas.dtsi" "heapstat.case=$name cma=64M dma_heap.mem_accounting=1"
grep -E "^dmesg: " <<<"$out" >&2
export LC_ALL=C	# names sorted as heapstat sorts them

pass() { echo "PASS: $name: $1"; }
check() {	# check WHAT GOT WANT
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		echo "FAIL: $name: $1: got '$(tr '\n' '|' <<<"$2")', want '$(tr '\n' '|' <<<"$3")'"
	fi
}

# the output of the Nth run of COMMAND (default the first): the lines after its
# "run:" line up to the next command's, the end, or a test line
section() {
	awk -v want="$name: run: $1" -v nth="${2:-1}" -v pfx="$name: " '
		$0 == want { on = (++seen == nth); next }
		index($0, pfx) == 1 || /^(PASS|FAIL|SKIP): / { on = 0 }
		on' <<<"$out"
}

# a size as heapstat's tables show it (tools/lib/util.c format_size: %.1f of
# the largest unit under which it stays at least 1; 1024.0 of one is 1.0 of
# the next)
hsize() {
	awk -v b="$1" 'BEGIN { if (b < 1024) { print b; exit }
		x = b / 1024; u = 1; while (x >= 1024 && u < 6) { x /= 1024; u++ }
		if (x >= 1023.95 && u < 6) { x /= 1024; u++ }
		printf "%.1f%s\n", x, substr("KMGTPE", u, 1) }'
}

# what must be shown, sorted by name: heaps "name bytes count", areas
# "name total used"; used is the report's before the holders, plus theirs
declare -A held used
want_heaps='' want_areas=''
for h in "${holds[@]}"; do
	read -r heap area size count granule <<<"$h"
	bytes=$(((size + granule - 1) / granule * granule * count))
	want_heaps+="$heap $bytes $count"$'\n'
	held[$area]=$((${held[$area]:-0} + bytes))
done
want_heaps=$(sort <<<"$want_heaps" | sed '/^$/d')
before=$(section "$report cma --csv" 1)
for a in "${areas[@]}"; do
	read -r area total <<<"$a"
	base=$(awk -F, -v a="$area" '$1 == a { print $3 }' <<<"$before")
	[ -n "$base" ] || echo "FAIL: $name: CMA area $area not in the report before the holders: $before"
	used[$area]=$((${base:-0} + ${held[$area]:-0}))
	want_areas+="$area $total ${used[$area]}"$'\n'
done
want_areas=$(sort <<<"$want_areas" | sed '/^$/d')
# nothing but the heaps takes from the device tree's pools: theirs is all the holders'
got=$(awk -F, '$1 == "camera" || $1 == "video" { print $1, $3 }' <<<"$before" | sort)
check "before the holders, areas camera and video are unused (reserved: $(awk -F, \
	'$1 == "reserved" { print $3 }' <<<"$before") bytes, the kernel's)" \
	"$got" "$(printf 'camera 0\nvideo 0')"
names=$(cut -d' ' -f1 <<<"$want_heaps" | paste -sd' ')
echo "$name: holding (heap bytes buffers): $(paste -sd, <<<"$want_heaps")" >&2
echo "$name: CMA areas (name total used): $(paste -sd, <<<"$want_areas")" >&2

# the tables: the heaps, and the CMA areas with their sizes human-readable
text=$(section "$report")
got=$(awk '/^HEAP +BYTES +BUFFERS$/ { on = 1; next } on && !NF { exit } on' <<<"$text" |
	awk '{ print $1, $2, $3 }')
want=$(while read -r heap bytes count; do echo "$heap $(hsize "$bytes") $count"; done <<<"$want_heaps")
check "report: the heaps table has a row per heap, bytes and buffers held ($names)" "$got" "$want"
got=$(awk '/^CMA-AREA / { on = 1; next } on && (!NF || /^\(/) { exit } on' <<<"$text" |
	awk '{ print $1, $2, $3 }' | sort)
want=$(while read -r area total u; do echo "$area $(hsize "$total") $(hsize "$u")"; done <<<"$want_areas")
check "report: the CMA table has each area, its size and used" "$got" "$want"

# JSON and CSV: exact bytes
json=$(section "$report -j")
got=$(jq -r '.heaps[] | "\(.name) \(.bytes) \(.buffers)"' <<<"$json" 2>&1 | sort)
check "report -j: heaps[] has a row per heap, exact bytes and buffers" "$got" "$want_heaps"
got=$(jq -r '.dma_heap_devices | join(" ")' <<<"$json" 2>&1)
check "report -j: dma_heap_devices are the four heaps" "$got" "$names"
got=$(jq -r '.cma_areas[] | "\(.name) \(.total_bytes) \(.used_bytes)"' <<<"$json" 2>&1 | sort)
check "report -j: cma_areas[] has each area, exact total and used bytes" "$got" "$want_areas"
got=$(jq -r '[.cgroups[].heaps[] | select(.cgroup == "/") | "\(.heap) \(.bytes) \(.buffers)"]
	| sort | .[]' <<<"$json" 2>&1)
check "report -j: the root cgroup has a row per heap, exact bytes" "$got" "$want_heaps"
got=$(section "$report heaps --csv" | tail -n +2 | tr , ' ' | sort)
check "report heaps --csv: a record per heap, exact bytes" "$got" "$want_heaps"
got=$(section "$report cma --csv" 2 | tail -n +2 | awk -F, '{ print $1, $2, $3 }' | sort)
check "report cma --csv: a record per area, exact total and used bytes" "$got" "$want_areas"

# heaptop's plain frame: meters per area and heap, a row per heap (cgroup /)
frame=$(section "/heaptop -b -n 1")
grep -q '^heaptop - .*\[not traced\]' <<<"$frame" &&
	grep -q '^NOT TRACED (snapshots only: .*): this kernel has no BTF' <<<"$frame" &&
	pass "heaptop -b: a frame of snapshots, saying tracing is off for want of BTF" ||
	echo "FAIL: $name: heaptop -b: a frame saying tracing is off for want of BTF: $frame"
got=$(awk '/^CGROUP +HEAP +BYTES +BUFS/ { on = 1; next } on && !NF { exit } on' <<<"$frame" |
	awk '{ print $1, $2, $3, $4 }' | sort)
want=$(while read -r heap bytes count; do echo "/ $heap $(hsize "$bytes") $count"; done <<<"$want_heaps")
check "heaptop -b: a row per heap, bytes and buffers held" "$got" "$want"
got=$(sed -n 's/^HEAPS //p' <<<"$frame" | sed 's/  /\n/g' | sort)
want=$(while read -r heap bytes count; do echo "$heap $(hsize "$bytes") in $count"; done <<<"$want_heaps")
check "heaptop -b: the heaps meter shows each heap" "$got" "$want"
got=$(sed -En 's|^CMA +([^ ]+) +\[[#.]+\] +([^/ ]+)/([^ ]+) .*|\1 \3 \2|p' <<<"$frame" | sort)
want=$(while read -r area total u; do echo "$area $(hsize "$total") $(hsize "$u")"; done <<<"$want_areas")
check "heaptop -b: a CMA meter per area, used of its size" "$got" "$want"

# heaptop's JSON frame: exact bytes
jframe=$(section "/heaptop -j -n 1")
got=$(jq -r '[.rows[] | "\(.cgroup) \(.heap) \(.bytes) \(.buffers)"] | sort | .[]' <<<"$jframe" 2>&1)
want=$(sed 's|^|/ |' <<<"$want_heaps")
check "heaptop -j: rows[] has a row per heap, exact bytes" "$got" "$want"
got=$(jq -r '.cma[] | "\(.name) \(.total_bytes) \(.used_bytes)"' <<<"$jframe" 2>&1 | sort)
check "heaptop -j: cma[] has each area, exact total and used bytes" "$got" "$want_areas"
got=$(jq -r '"\(.tracing.attached) \(.tracing.missing)"' <<<"$jframe" 2>&1)
check "heaptop -j: tracing off, and why" "${got%%:*}" "false this kernel has no BTF (/sys/kernel/btf/vmlinux)"
exit 0
