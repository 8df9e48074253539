#!/bin/sh
# heap_stress (tests/stress/) against every heap for STRESS_SECS seconds (20),
# seeded by STRESS_SEED (else at random, printed: rerun with it), while
# heapstat report -d and heaptop trace. Then the kernel's ground truth is as
# before (dmem.current, CMA's free pages, debugfs bufinfo), and heapstat's
# aggregates for the stress's cgroups equal what the program counted: every
# allocation ioctl, its bytes, the exports and final releases, and the
# failures by class (EAGAIN: limit; ENOMEM: capacity, fragmentation or busy;
# the rest: other). The dmesg scan after the run (scripts/vm) catches WARN,
# BUG, KASAN and kmemleak reports.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
CG=$S/stress
SECS=${STRESS_SECS:-20}
SEED=${STRESS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
BUFINFO=/sys/kernel/debug/dma_buf/bufinfo
pass() { echo "PASS: stress: $1"; }
fail() { echo "FAIL: stress: $1: $2"; }
if [ -z "$(ls /dev/dma_heap 2>/dev/null)" ]; then
	echo "SKIP: stress: no dma-buf heap"
	exit 0
fi
echo "stress: seed $SEED, $SECS s (STRESS_SEED=$SEED STRESS_SECS=$SECS to run it again)"

# what must come back: CMA's free pages per area, the live buffers
cma_free() { for a in /sys/kernel/mm/cma/*; do echo "${a##*/} $(cat $a/available_pages)"; done; }
buffers() { sed -n 's/^Total \([0-9]*\) objects.*/\1/p' $BUFINFO; }
ACCOUNTING=/sys/module/heapstat_core/parameters/accounting
accounting=$(cat $ACCOUNTING 2>/dev/null)
cma_before=$(cma_free)
bufs_before=$(buffers)

# a heap nothing in the kernel charges (upstream's system heap without
# dma_heap.mem_accounting: tests/boot/stress_upstream.sh) gets a bpf-lsm
# limit on one of the stress's cgroups: heap_stress then takes it as of kind
# lsm (docs/errors.md)
mkdir -p $CG/s0 $CG/s1 $CG/s2
heaps=
lsm=
for h in /dev/dma_heap/*; do
	h=${h##*/}
	if [ "$h" = system ] && heapstat limit set /stress/s1 system 8M >"$tmp/limit" 2>&1; then
		lsm=system
		h=system:lsm
		echo "stress: bpf-lsm limit of 8 MiB on /stress/s1 for the system heap"
	fi
	heaps="$heaps $h"
done

# the same seed draws the same operations (a digest of them, 300 per thread)
seq() { heap_stress -s "$1" -n 300 -j 2 -t 120 $heaps | sed -n 's/^heap_stress: sequence=//p'; }
s1=$(seq "$SEED") s2=$(seq "$SEED") s3=$(seq "$((SEED + 1))")
if [ -n "$s1" ] && [ "$s1" = "$s2" ] && [ "$s1" != "$s3" ]; then
	pass "heap_stress: the same seed, the same operations ($s1)"
else
	fail "heap_stress: the same seed, the same operations" "'$s1', '$s2'; another seed: '$s3'"
fi

rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat report -j -d 3600 >"$tmp/json" 2>"$tmp/err" &
rep=$!
heaptop -b -j -d 1 >"$tmp/frames" 2>"$tmp/toperr" &
top=$!
frames() { wc -l <"$tmp/frames"; }
wait_ready $rs $rep
wait_frames 1
t0=$(date +%s)
heap_stress -s "$SEED" -t "$SECS" -c $CG $heaps >"$tmp/out" 2>&1 &
st=$!
# halfway, the buffers' table and CSV: names heap_stress set hold escapes,
# control characters and bytes that are not UTF-8, never printed raw
sleep $((SECS / 2))
heapstat report buffers >"$tmp/table" 2>&1
trc=$?
heapstat report buffers --csv >"$tmp/csv" 2>&1
crc=$?
wait $st
src=$?
t1=$(date +%s)
# the program's own verdicts (errno table, everything let go), and its failures
grep -E '^(PASS|FAIL|SKIP): ' "$tmp/out"
grep -q '^heap_stress: heap=' "$tmp/out" ||
	fail "heap_stress ran" "exit $src: $(tail -n 20 "$tmp/out")"
grep '^heap_stress: ' "$tmp/out"
echo "stress: heap_stress took $((t1 - t0)) s"
n=$(frames)
wait_frames $((n + 1))
kill -INT $rep
wait $rep
rc=$?
kill $top
wait $top

# heap_stress switches heapstat_core's accounting and puts it back: so must a crash
if [ -n "$accounting" ] && [ "$(cat $ACCOUNTING)" != "$accounting" ]; then
	fail "accounting put back" "$(cat $ACCOUNTING), was $accounting"
	echo "$accounting" >$ACCOUNTING
fi

# ---- the kernel's ground truth ----
cur=$(awk '$2 != 0' $CG/dmem.current)
if ! grep -q '^dma-heap/' $S/dmem.capacity; then
	echo "SKIP: stress: dmem charges: no heap charges dmem (heapstat's heaps not loaded)"
elif [ -z "$cur" ] && [ -n "$(cat $CG/dmem.current)" ]; then
	pass "every dmem charge of the stress cgroups given back"
else
	fail "every dmem charge of the stress cgroups given back" "$(cat $CG/dmem.current)"
fi
if [ -n "$lsm" ]; then
	use=$(heapstat limit show -j 2>&1 | jq -c '[.. | objects | select(.heap? == "system" and
		(.cgroup? // "" | startswith("/stress")))] | map(.usage_bytes)')
	if [ "$use" = "[0]" ]; then
		pass "bpf-lsm: the system heap's usage under the limit back to 0"
	else
		fail "bpf-lsm: the system heap's usage under the limit back to 0" \
			"$use: $(heapstat limit show 2>&1)"
	fi
	# its refusals, for the failure below to tell (the clear takes them)
	heapstat limit events -j >"$tmp/lsm_events" 2>&1
	heapstat limit clear /stress/s1 system 2>"$tmp/clear" ||
		fail "bpf-lsm: limit clear" "exit $?: $(cat "$tmp/clear")"
fi
cma_after=$(cma_free)
if [ "$cma_after" = "$cma_before" ]; then
	pass "every CMA area's free pages as before"
else
	fail "every CMA area's free pages as before" "before: $cma_before; after: $cma_after"
fi
b=$(buffers)
if [ -n "$b" ] && [ "$b" = "$bufs_before" ]; then
	pass "no dma-buf left (bufinfo: $b as before)"
else
	fail "no dma-buf left" "bufinfo: $bufs_before before, $b after: $(head -c 2000 $BUFINFO)"
fi

# ---- heapstat against the program's counts ----
# per heap, over the stress cgroups: heapstat's sums, then the program's
# (its counts are exact whatever the ring dropped: drops are only told)
if [ $rc = 0 ] && jq -e '.activity' "$tmp/json" >/dev/null; then
	pass "report -j -d: exit 0, valid JSON ($(jq .drops "$tmp/json") events dropped)"
else
	fail "report -j -d: exit 0, valid JSON" "exit $rc: $(head -c 500 "$tmp/err")"
fi
jq -r '[.activity[] | select(.cgroup | startswith("/stress/s"))] | group_by(.heap)[] |
	[.[0].heap, (map(.allocs) | add), (map(.alloc_bytes) | add), (map(.exports) | add),
	 (map(.export_bytes) | add), (map(.frees) | add), (map(.free_bytes) | add),
	 (map(.failures.limit) | add),
	 (map(.failures.capacity + .failures.fragmentation + .failures.busy) | add),
	 (map(.failures.other) | add)] | @tsv' "$tmp/json" >"$tmp/traced"
# key=value of one heap's line of heap_stress
val() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
counts_ok=1 export_ok=1 class_ok=1
grep '^heap_stress: heap=' "$tmp/out" >"$tmp/heaps"
while read -r _ line; do
	h=$(val "$line" heap)
	set -- $(awk -v h="$h" -F '\t' '$1 == h { $1 = ""; print }' "$tmp/traced")
	[ $# = 9 ] || set -- 0 0 0 0 0 0 0 0 0
	allocs=$(val "$line" allocs) bytes=$(val "$line" alloc_bytes)
	ex=$((allocs + $(val "$line" efault_exports)))
	exb=$((bytes + $(val "$line" efault_bytes)))
	if [ "$1 $2" != "$allocs $bytes" ]; then
		counts_ok=0
		fail "$h: allocations counted" "traced $1 allocs, $2 bytes; made $allocs, $bytes" \
			"(of them $(val "$line" foreign_allocs) through a command of a type other than 'H')"
	fi
	if [ "$3 $4 $5 $6" != "$ex $exb $ex $exb" ]; then
		export_ok=0
		fail "$h: exports and final releases counted" \
			"traced $3 exports ($4 bytes), $5 frees ($6 bytes); made $ex ($exb bytes)"
	fi
	eagain=$(val "$line" fail_eagain)
	if [ "$(val "$line" kind)" = lsm ]; then
		hits=$(jq --arg h "$h" '[.cgroups[].heaps[] | select(.heap == $h and
			(.cgroup | startswith("/stress/s"))) | .limit_hits] | add // 0' "$tmp/json")
		if [ "$hits" = "$eagain" ]; then
			pass "bpf-lsm: each of the $eagain EAGAINs on $h counted as a limit hit"
		else
			ev=$(jq -s -c 'group_by([.when, .comm]) | map([.[0].when, .[0].comm, length])' \
				"$tmp/lsm_events" 2>&1 | head -c 600)
			fail "bpf-lsm: each EAGAIN on $h counted as a limit hit" \
				"$hits hits, $eagain EAGAINs; refusal events by place and command: $ev"
		fi
		# refused by the ioctl hook, before dma_heap_ioctl(), the collector
		# sees no attempt; refused at the export (allocations that both passed
		# the check, racing for what room was left), it sees EAGAIN: report -d
		# counts each once as a limit failure, from the bpf-lsm's count
	fi
	other=$(val "$line" fail_other)
	# while a bpf-lsm limit is pinned, its hook reads the length of every
	# heap's allocation first: a NULL argument fails there (EFAULT too)
	[ -z "$lsm" ] || other=$((other - $(val "$line" null_efaults)))
	want="$eagain $(val "$line" fail_enomem) $other"
	if [ "$7 $8 $9" != "$want" ]; then
		class_ok=0
		fail "$h: failures by class (limit, capacity+fragmentation+busy, other)" \
			"traced $7 $8 $9; returned EAGAIN, ENOMEM, others: $want" \
			"($(val "$line" foreign_fails) through a command of another type," \
			"$(val "$line" efault_exports) EFAULT after the export)"
	fi
done <"$tmp/heaps"
if [ -s "$tmp/heaps" ]; then
	[ $counts_ok = 1 ] && pass "report -d: every heap's allocations and bytes as heap_stress made them"
	[ $export_ok = 1 ] && pass "report -d: every heap's exports and final releases as made"
	[ $class_ok = 1 ] && pass "report -d: every heap's failures in the class of their errno"
fi

esc=$(printf '\033')
if [ $trc = 0 ] && [ $crc = 0 ] && [ -s "$tmp/table" ] &&
	! grep -q "$esc" "$tmp/table" "$tmp/csv"; then
	pass "report buffers: no name printed raw ($(grep -c '\^\[' "$tmp/table") rows show ESC as ^[)"
else
	fail "report buffers: no name printed raw" \
		"exit $trc/$crc: $(grep -c "$esc" "$tmp/table" "$tmp/csv")"
fi

# heaptop's frames: one JSON object each, the stress cgroups among their rows
if [ "$(frames)" -ge 2 ] && jq -e . "$tmp/frames" >/dev/null 2>&1 &&
	grep -q '"/stress/s0"' "$tmp/frames"; then
	pass "heaptop -b -j: $(frames) frames during the stress, each valid JSON"
else
	fail "heaptop -b -j: frames during the stress, each valid JSON" \
		"$(frames) frames: $(tail -c 300 "$tmp/frames") $(cat "$tmp/toperr")"
fi

rmdir $CG/s* $CG/killed $CG 2>/dev/null
rm -rf "$tmp"
exit 0
