#!/bin/sh
# Fault injection, where the kernel has it (the debug kernel: make check-all):
# every heap's allocation, import (the test importer's attach, map for DMA
# and vmap) and mmap paths, each of their fault points failing in turn
# (tests/vm/fault_nth.c: failslab, fail_page_alloc, and fail_function on the
# heap modules' helpers that allow it). Each failure is a clean ENOMEM;
# afterwards nothing stays charged (dmem.current), no buffer is left, and
# heapstat report counted every failed allocation, as a capacity failure (an
# ENOMEM that is not CMA's). Leaks and splats: kmemleak and the runner's
# dmesg scan.
. "$(dirname "$0")/../lib.sh"
D=/sys/kernel/debug
S=/sys/fs/cgroup
CG=$S/fault
tmp=$(mktemp -d)
pass() { echo "PASS: fault: $1"; }
fail() { echo "FAIL: fault: $1: $2"; }
if [ ! -e /proc/thread-self/fail-nth ] || [ ! -d $D/failslab ] || [ ! -d $D/fail_page_alloc ]; then
	echo "SKIP: fault: no fault injection in this kernel (the debug kernel has it: make check-all)"
	exit 0
fi
# quiet (a forced failure's report is a stack: the runner would take it for a
# splat), and every allocation a fault point, not only the atomic ones
for a in failslab fail_page_alloc fail_function; do
	[ -d $D/$a ] && echo 0 >$D/$a/verbose
done
echo N >$D/failslab/ignore-gfp-wait
echo N >$D/fail_page_alloc/ignore-gfp-wait
echo N >$D/fail_page_alloc/ignore-gfp-highmem
echo 0 >$D/fail_page_alloc/min-order
fns=
if [ -d $D/fail_function ]; then
	for f in heapstat_clear_pages heapstat_page_buffer_export page_buffer_make_table \
		chunk_heap_take_chunks carveout_clear; do
		grep -q "^$f[[:space:]]" $D/fail_function/injectable || continue
		echo $f >$D/fail_function/inject &&
			echo 0xfffffffffffffff4 >$D/fail_function/$f/retval &&	# -ENOMEM
			fns="$fns $f"
	done
fi
if [ ! -d $D/fail_function ]; then
	echo "SKIP: fault: fail_function: not in this kernel (CONFIG_FAIL_FUNCTION: the debug kernel's)"
elif [ -n "$fns" ]; then
	pass "fail_function on the heap modules' helpers:$fns"
else
	fail "fail_function on the heap modules' helpers" "none injectable (ALLOW_ERROR_INJECTION)"
fi

mkdir -p $CG
echo "+dmem" >$S/cgroup.subtree_control 2>/dev/null
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 900 >$tmp/json 2>$tmp/err &
rep=$!
wait_ready $rs $rep
before=$(grep -c '^[0-9]' $D/dma_buf/bufinfo 2>/dev/null)
for h in $(ls /dev/dma_heap); do
	for op in alloc import mmap; do
		case "$h:$op" in *-nomap:mmap) continue ;; esac
		[ $op = import ] && [ ! -e $D/heapstat_importer ] && continue
		out=$(sh -c "echo \$\$ >$CG/cgroup.procs; exec fault_nth $h $op 64K" 2>&1)
		rc=$?
		points=$(echo "$out" | sed -n 's/.* points=\([0-9]*\).*/\1/p')
		if [ $rc = 0 ] && [ -n "$points" ] && [ "$points" -gt 0 ]; then
			pass "$h $op: $points fault points, each a clean ENOMEM or absorbed ($out)"
		else
			fail "$h $op: each fault point a clean ENOMEM or absorbed" "exit $rc: $out"
		fi
		[ $op = alloc ] && echo "$h $(echo "$out" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')" >>$tmp/failed
	done
done
kill -INT $rep
wait $rep
rc=$?
[ -d $D/fail_function ] && echo >$D/fail_function/inject

left=$(awk '$2 != 0' $CG/dmem.current 2>/dev/null)
[ -z "$left" ] && pass "nothing charged to $CG after" || fail "nothing charged to $CG after" "$left"
after=$(grep -c '^[0-9]' $D/dma_buf/bufinfo 2>/dev/null)
[ "$after" = "$before" ] && pass "no buffer left ($after as before)" ||
	fail "no buffer left" "$before before, $after after"
# every failed allocation counted, and as capacity
bad=
while read -r h n; do
	got=$(jq -M -c --arg h "$h" '[.activity[] | select(.cgroup == "/fault" and .heap == $h)
		| .failures] | first // {}' $tmp/json)
	echo "$got" | jq_true --argjson n "$n" '(.capacity // 0) == $n and
		((.fragmentation // 0) + (.busy // 0) + (.limit // 0) + (.other // 0)) == 0' >/dev/null ||
		bad="$bad $h: $n failed, report $got;"
done <$tmp/failed
[ $rc = 0 ] && [ -z "$bad" ] && pass "report counted every failed allocation, as capacity" ||
	fail "report counted every failed allocation, as capacity" "exit $rc:$bad $(cat $tmp/err)"
# the reports a failure may make, both the kernel's own for any exporter:
# dma_buf_vmap()'s WARN_ON_ONCE when an exporter's vmap fails, and the dump
# of an allocation that fails without __GFP_NOWARN (warn_alloc: upstream's
# system heap vmallocs so). Any other fails here, and is left for the
# runner's scan too.
dmesg >$tmp/dmesg
awk 'function flush() {
		if (blk != "" && blk !~ / at dma_buf_vmap\+/ && blk !~ /warn_alloc\+/)
			printf "%s", blk
		blk = ""; inb = 0
	}
	/-+\[ cut here \]-+/ { flush(); inb = 1 }
	!inb && /CPU: [0-9]+ UID: / { flush(); inb = 1 }
	inb { blk = blk $0 "\n"; if (/-+\[ end trace/ || /<\/TASK>/) flush(); next }
	/WARNING:|BUG:|Oops|KASAN|kmemleak: [0-9]+ new suspected|unreferenced object|Call Trace:/
	END { flush() }' $tmp/dmesg >$tmp/other
if [ -s $tmp/other ]; then
	fail "no kernel report but the expected ones of a failed allocation" "$(head -n 30 $tmp/other)"
else
	pass "no kernel report but the expected ones of a failed allocation ($(grep -c ' at dma_buf_vmap+' $tmp/dmesg) dma_buf_vmap WARN, $(grep -c 'warn_alloc+' $tmp/dmesg) warn_alloc)"
	dmesg -c >/dev/null
fi
rmdir $CG 2>/dev/null
rm -rf "$tmp"
exit 0
