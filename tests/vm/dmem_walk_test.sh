#!/bin/sh
# dmem charges and limits read with the walk of the cgroup tree (heaptop,
# export: the kernel's pools, by iter/cgroup) against the same read from
# each cgroup's dmem.current and dmem.max (report): every row alike, and
# each as the kernel's files say. Cgroups charged and holding, charged for
# what they passed on, with dmem off below them, with a limit of "max"
# written as bytes, 400 with a limit each (more than one session of the
# cgroup iterator holds: INV_CGROUP_SESSION), and seen from a cgroup
# namespace (tests/vm/cgns.c). Needs scripts/vm --load-heaps.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
pids=
pass() { echo "PASS: dmem_walk: $1"; }
fail() { echo "FAIL: dmem_walk: $1: $2"; }
for h in default_cma_region chunk-reserved; do
	[ -e /dev/dma_heap/$h ] || { echo "SKIP: dmem_walk: no heap $h (scripts/vm --load-heaps)"; exit 0; }
done
grep -qw dmem $S/cgroup.subtree_control || echo +dmem >$S/cgroup.subtree_control

mkdir -p $S/dw/held $S/dw/moved $S/dw/limited $S/off/x
echo +dmem >$S/dw/cgroup.subtree_control
echo "dma-heap/default_cma_region 16M" >$S/dw/dmem.max
echo "dma-heap/default_cma_region 8M" >$S/dw/held/dmem.max
echo "dma-heap/chunk-reserved 1G" >$S/dw/limited/dmem.max
# above dmem's largest limit (PAGE_COUNTER_MAX pages' bytes): its file says "max"
echo "dma-heap/default_cma_region 9223372036854775807" >$S/dw/limited/dmem.max
mkdir $S/dw/many
echo +dmem >$S/dw/many/cgroup.subtree_control
for i in $(seq 400); do
	mkdir $S/dw/many/m$i
	echo "dma-heap/chunk-reserved $((i * 4096))" >$S/dw/many/m$i/dmem.max
done
alloc_in dw/held "$tmp/r1" 300 -H default_cma_region -s 4M -n 1
alloc_in dw/moved "$tmp/r2" 300 -H chunk-reserved -s 256K -n 2
mover=$!
alloc_in off/x "$tmp/r3" 300 -H default_cma_region -s 1M -n 1	# charged to /off: dmem is off in /off/x
i=0
while [ ! -e "$tmp/r1" ] || [ ! -e "$tmp/r2" ] || [ ! -e "$tmp/r3" ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -lt 300 ] || { fail setup "workload not ready"; kill $pids; exit 0; }
done
echo $mover >$S/dw/held/cgroup.procs	# its charge stays with /dw/moved

heaptop -b -j -n 1 >"$tmp/top" 2>"$tmp/err" || fail "heaptop" "exit $?: $(cat "$tmp/err")"
heapstat report -j >"$tmp/report" 2>"$tmp/err" || fail "report" "exit $?: $(cat "$tmp/err")"

jq_true '.sources.charges == "iter/cgroup"' "$tmp/top" >/dev/null &&
	pass "heaptop reads the charges with the walk" ||
	fail "heaptop reads the charges with the walk" "$(jq -c .sources "$tmp/top")"
jq_true '.sources.charges == "files"' "$tmp/report" >/dev/null &&
	pass "report reads them from the files" ||
	fail "report reads them from the files" "$(jq -c .sources "$tmp/report")"

cells='.cgroup + " " + .heap + " " + ([.bytes, .charged_bytes, .own_charged_bytes, .charged_by,
	.limit_bytes, .limit_cgroup, .headroom_bytes] | map(tostring) | join(" "))'
jq -r ".rows[] | $cells" "$tmp/top" | sort >"$tmp/top.rows"
jq -r ".cgroups[].heaps[] | $cells" "$tmp/report" | sort >"$tmp/report.rows"
if [ -s "$tmp/top.rows" ] && cmp -s "$tmp/top.rows" "$tmp/report.rows"; then
	pass "every row alike, $(wc -l <"$tmp/top.rows") rows"
else
	fail "every row alike" "$(diff "$tmp/report.rows" "$tmp/top.rows")"
fi

M=1048576
missing=
for want in \
	"/dw/held default_cma_region $((4 * M)) $((4 * M)) $((4 * M)) dmem $((8 * M)) /dw/held $((4 * M))" \
	"/dw/held chunk-reserved $((M / 2)) 0 0 dmem null null null" \
	"/dw/moved chunk-reserved 0 $((M / 2)) $((M / 2)) dmem null null null" \
	"/dw default_cma_region 0 $((4 * M)) 0 dmem $((16 * M)) /dw $((12 * M))" \
	"/dw/limited chunk-reserved 0 0 0 dmem 1073741824 /dw/limited 1073741824" \
	"/off/x default_cma_region $M null null null null null null" \
	"/off default_cma_region 0 $M $M dmem null null null"; do
	grep -qxF "$want" "$tmp/top.rows" || missing="$missing
$want"
done
[ "$(grep -c '^/dw/many/m[0-9]* chunk-reserved 0 0 0 dmem [0-9]* /dw/many/m' "$tmp/top.rows")" = 400 ] ||
	missing="$missing
400 rows of /dw/many"
[ -z "$missing" ] && pass "rows as the workload made them" ||
	fail "rows as the workload made them" "none of:$missing
in: $(cat "$tmp/top.rows")"

# in a cgroup namespace rooted at /dw/held (a container's view): its "/" is
# not the hierarchy's root, and has held's dmem.max; the regions are learnt
# from its dmem.current (dmem.capacity is the hierarchy root's alone). Holders
# outside it have paths such as "/../../x", read from files: "+files".
sh -c "echo \$\$ >$S/dw/held/cgroup.procs; exec cgns heaptop -b -j -n 1" >$tmp/nstop 2>&1
sh -c "echo \$\$ >$S/dw/held/cgroup.procs; exec cgns heapstat report -j" >$tmp/nsrep 2>&1
jq -r ".rows[] | select(.cgroup == \"/\") | $cells" $tmp/nstop | sort >$tmp/nstop.rows
jq -r ".cgroups[].heaps[] | select(.cgroup == \"/\") | $cells" $tmp/nsrep | sort >$tmp/nsrep.rows
grep -qxF "/ default_cma_region $((4 * M)) $((4 * M)) $((4 * M)) dmem $((8 * M)) / $((4 * M))" \
	$tmp/nstop.rows && cmp -s $tmp/nstop.rows $tmp/nsrep.rows &&
	jq_true '.sources.charges | startswith("iter/cgroup")' $tmp/nstop >/dev/null &&
	pass "a cgroup namespace's root has its limit" ||
	fail "a cgroup namespace's root has its limit" "$(cat $tmp/nstop.rows; echo; cat $tmp/nsrep.rows;
		head -c 600 $tmp/nstop)"

# and as the kernel's files say, for every row with a charge
bad=
while read -r cg heap bytes charged rest; do
	[ "$charged" = null ] && continue
	f=$(sed -n "s|^dma-heap/$heap ||p" "$S$cg/dmem.current")
	[ "$f" = "$charged" ] || bad="$bad $cg:$heap:$charged:$f"
done <"$tmp/top.rows"
[ -z "$bad" ] && pass "each charge is its dmem.current" || fail "each charge is its dmem.current" "$bad"

kill $pids
wait

rmdir $S/dw/many/m* $S/dw/many
rmdir $S/dw/held $S/dw/moved $S/dw/limited $S/dw $S/off/x $S/off
