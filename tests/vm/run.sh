#!/bin/sh
# heapstat's VM suite: runs inside the reference kernel's VM (scripts/vm).
# SHARD=I/N: this guest's share when N guests run it at once (scripts/check.sh):
# the C programs in the first; the test scripts, longest first, each to the
# guest with the least time so far, by the times below. EXCEPT="X_test.sh ...":
# those left out (make check runs the stress in a boot of its own).
cd /heapstat/tests/vm || exit 1
. ../lib.sh
shard=${SHARD:-1/1}
i=${shard%/*} n=${shard#*/}

modprobe system_heap || echo "FAIL: setup: modprobe system_heap"
modprobe vgem || echo "FAIL: setup: modprobe vgem"
modprobe heapstat_importer || echo "FAIL: setup: modprobe heapstat_importer"

# the C programs, in the first guest
programs() {
	/heapstat/bin/chain_test || echo "FAIL: chain_test: exit $?"

	# heapstat's heaps (scripts/vm --load-heaps): each registered a dmem region
	heaps=
	for h in $(sed -n 's|^dma-heap/\([^ ]*\) .*|\1|p' /sys/fs/cgroup/dmem.capacity); do
		case $h in
		chunk-*) h="$h:$((4096 << $(cat /sys/module/heapstat_chunk_heap/parameters/order)))" ;;
		*-nomap) h="$h:nomap" ;;
		esac
		heaps="$heaps $h"
	done
	if [ -n "$heaps" ]; then
		heap_test $heaps || echo "FAIL: heap_test: exit $?"
	else
		echo "FAIL: heap_test: no heapstat heap is loaded (scripts/vm --load-heaps)"
	fi
}
# seconds each took in one guest of three at once on a 2-core host, in one run
# of the suite as make check runs it (the C programs: PROGRAMS; each run prints
# its own "took:" lines; the stress, which make check runs in a boot of its own,
# as it took in one of two); a test not listed counts 10
secs() {
	cat <<'EOF'
69 top_tmux_test.sh
62 top_holders_test.sh
49 maps_full_test.sh
43 examples_test.sh
40 stress_test.sh
35 limit_test.sh
35 removed_cgroup_test.sh
32 record_test.sh
27 report_test.sh
19 output_test.sh
16 dmem_walk_test.sh
16 record_flight_test.sh
15 spill_test.sh
14 export_test.sh
13 cgroup_walk_test.sh
12 drops_test.sh
12 refused_test.sh
9 top_cli_test.sh
8 preempt_test.sh
8 record_stacks_test.sh
7 PROGRAMS
7 activity_kprobe_test.sh
7 final_release_test.sh
6 cma_drops_test.sh
6 holders_full_test.sh
5 collector_load_test.sh
5 record_tasks_test.sh
4 activity_test.sh
4 fault_test.sh
4 signals_test.sh
3 chunk_batch_test.sh
3 kselftest_test.sh
1 cma_report_test.sh
1 ftrace_test.sh
EOF
}
# this guest's tests: every guest makes the same choice
mine=$(
	for t in ./*_test.sh; do
		t=${t#./}
		case " ${EXCEPT:-} " in *" $t "*) continue ;; esac
		w=$(secs | sed -n "s/^\([0-9]*\) $t\$/\1/p")
		echo "${w:-10} $t"
	done | sort -k1,1nr -k2,2 | {
		s=1
		while [ $s -le "$n" ]; do eval "load_$s=0"; s=$((s + 1)); done
		load_1=$(secs | sed -n 's/^\([0-9]*\) PROGRAMS$/\1/p')
		while read -r w t; do
			least=1 s=2
			while [ $s -le "$n" ]; do
				eval "[ \$load_$s -lt \$load_$least ]" && least=$s
				s=$((s + 1))
			done
			eval "load_$least=\$((load_$least + w))"
			[ $least = "$i" ] && echo "$t"
		done
	}
)
# each part's seconds, for the table above, and the guest's CPU time in them
# (busy: /proc/stat's user, nice, system, irq and softirq, in 1/100 s): under
# TCG, what takes the host's CPU
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
took() {
	echo "took: $1 $(($(date +%s) - $2)) s, $((($(busy) - $3) / 100)) s busy ($shard)"
}
start=$(date +%s) cpu=$(busy)
if [ "$i" = 1 ]; then
	programs
	took PROGRAMS $start "$cpu"
fi
for t in ./*_test.sh; do
	echo "$mine" | grep -qx "${t#./}" || continue
	start=$(date +%s) cpu=$(busy)
	# a test that hangs fails alone, its guest going on to the next (the
	# longest takes 80 s here, about five times that under KASAN); what it
	# left running (timeout kills only its shell) goes with it, lest the
	# next tests' exact counts fail
	timeout -s KILL 900 sh "$t"
	rc=$?
	if [ $rc = 137 ]; then
		killall -KILL heapstat heaptop dmabuf_alloc tmux 2>/dev/null
		echo "FAIL: $t: killed after 900 s"
	elif [ $rc != 0 ]; then
		echo "FAIL: $t: exit $rc"
	fi
	took "${t#./}" $start "$cpu"
done

# booted with kmemleak=on (make check): everything above must leave no leak
if [ -w /sys/kernel/debug/kmemleak ] &&
	leak_check "kmemleak: unreferenced objects after the suite ($shard)" 40; then
	echo "PASS: kmemleak: no leak after the suite ($shard)"
fi
exit 0
