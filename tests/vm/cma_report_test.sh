#!/bin/sh
# heapstat report cma on an area fragmented on purpose: 128 buffers of 1 MiB
# fill the 128 MiB area, every other one is freed: 64 free extents of 1 MiB.
# Checked against CMA sysfs and debugfs maxchunk, the kernel's own numbers.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
pass() { echo "PASS: cma_report: $1"; }
fail() { echo "FAIL: cma_report: $1: $2"; }
A=reserved
[ -e /dev/dma_heap/default_cma_region ] || { echo "SKIP: cma_report: no heapstat CMA heap"; exit 0; }

dmabuf_alloc -H default_cma_region -s 1M -n 128 --holes -w 60 -R "$tmp/r" &
pid=$!
i=0
while [ ! -e "$tmp/r" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done

heapstat report cma --csv >"$tmp/csv" 2>&1
csv_lf "$tmp/csv"
want="$A,134217728,67108864,67108864,1048576,64,0.984,"
grep -q "^$want" "$tmp/csv" && pass "used, free, largest free extent, extents, fragmentation" ||
	fail "used, free, largest free extent, extents, fragmentation" "want $want in $(cat "$tmp/csv")"

avail=$(cat /sys/kernel/mm/cma/$A/available_pages)
maxchunk=$(cat /sys/kernel/debug/cma/$A/maxchunk)
heapstat report -j >"$tmp/json"
if jq_true --argjson avail "$avail" --argjson maxchunk "$maxchunk" '.cma_areas[] | select(.name == "reserved")
	| .total_bytes - .used_bytes == $avail * 4096 and .largest_free_bytes == $maxchunk * 4096
	and .free_extents_by_order == {"8": 64} and .fragmentation == 0.984375' "$tmp/json" >/dev/null; then
	pass "json agrees with sysfs available_pages and debugfs maxchunk"
else
	fail "json agrees with sysfs available_pages and debugfs maxchunk" \
		"avail $avail maxchunk $maxchunk: $(jq -c .cma_areas "$tmp/json")"
fi
# one number in every view: the free bytes the extents are of
fj=$(jq '.cma_areas[] | select(.name == "reserved") | .free_bytes' "$tmp/json")
fc=$(heapstat report cma --csv | lf | awk -F, -v a=$A '$1 == a { print $4 }')
[ -n "$fj" ] && [ "$fj" = "$fc" ] && pass "free bytes: JSON's and CSV's the same ($fj)" ||
	fail "free bytes: JSON's and CSV's the same" "JSON '$fj', CSV '$fc'"
kill $pid
wait
heapstat report cma --csv >"$tmp/csv" 2>&1
csv_lf "$tmp/csv"
grep -q "^$A,134217728,0,134217728,134217728,1,0.000," "$tmp/csv" && pass "all free again: one extent" ||
	fail "all free again: one extent" "$(cat "$tmp/csv")"
# without debugfs (a mount namespace of its own): no bitmap, so CSV's free
# extent fields are empty, never a "?" in a numeric column
unshare -m sh -c 'umount /sys/kernel/debug && heapstat report cma --csv' >"$tmp/csv" 2>"$tmp/err"
csv_lf "$tmp/csv"
grep -q "^$A,134217728,0,134217728,,,,[0-9]*,[0-9]*\$" "$tmp/csv" && ! grep -q '?' "$tmp/csv" &&
	pass "no bitmap: empty CSV fields" || fail "no bitmap: empty CSV fields" "$(cat "$tmp/csv" "$tmp/err")"
# and the text says what the bitmaps need: debugfs mounted, or root to read it
unshare -m sh -c 'umount /sys/kernel/debug && heapstat report cma' >"$tmp/t1" 2>&1
chmod 0700 /sys/kernel/debug
su nobody -s /bin/sh -c 'heapstat report cma --source procfs' >"$tmp/t2" 2>&1
grep -qx "(free extents need debugfs: mount -t debugfs none /sys/kernel/debug)" "$tmp/t1" &&
	grep -qx "(free extents need debugfs: only root reads debugfs)" "$tmp/t2" &&
	pass "no bitmap: said why, debugfs not mounted or not root's to read" ||
	fail "no bitmap: said why, debugfs not mounted or not root's to read" "$(cat "$tmp/t1" "$tmp/t2")"
rm -rf "$tmp"
