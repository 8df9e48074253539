#!/bin/bash
# make check: host unit tests, the packaging's host tests (man pages,
# completion, make install), a bounded fuzzing run, the VM runner's own tests
# and single-boot cases (tests/boot/packages.sh: make deb, installed), the VM
# suite on the reference kernel, then the kernel matrix: the attach ladder
# (tests/matrix/ladder.sh) on 7.2, 6.12, 6.1, arm64 and the host, and the
# older kernels' exact counts (tests/matrix/report_old.sh).
# make check-all (--all): also the whole VM suite on the debug kernel
# (KASAN, KFENCE, lockdep, kmemleak: make debug), and the ladder there.
#
# The matrix's kernels build in the background (niced) from the start, while
# the host tests and the reference kernel's boots run; the matrix waits for them.
# Every test prints "PASS: name", "FAIL: name: why" or "SKIP: name: why";
# the last line is the tally, "N passed, N failed, N skipped".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

all=0
[ "${1:-}" = --all ] && all=1
logdir=$TOP/build/check
rm -rf "$logdir"
mkdir -p "$logdir"
cd "$TOP"
start=$(date +%s)

section() { printf '\n== %s\n' "$1"; }
# the seconds since make check started, for the log
elapsed() { echo "($(( $(date +%s) - start )) s)"; }

# the matrix's kernels (cached after the first time), in the background
targets=kernels
[ $all = 1 ] && targets="debug kernels"
nice -n 19 make -s $targets >"$logdir/kernels.out" 2>&1 &
kbuild=$!

# the fuzzing run takes one core for FUZZ_SECS: beside the unit tests and the
# VM runner's boots, which leave the machine half idle; its log comes after them
fuzz_run() {
	if make -s fuzz-build; then
		scripts/fuzz.sh
	else
		echo "FAIL: record_fuzz: make fuzz-build failed"
	fi >"$logdir/fuzz.log" 2>&1
}
fuzz_run &
fuzz=$!

section "unit tests (host)"
{
	for t in build/tests/unit/*; do
		[ -x "$t" ] || continue
		"$t" || echo "FAIL: $(basename "$t"): exit $?"
	done
	for t in tests/unit/*.sh tests/pkg/*.sh; do
		bash "$t" || echo "FAIL: $(basename "$t"): exit $?"
	done
} 2>&1 | tee "$logdir/unit.log"

# boot_case TEST: one of them, its output kept in $logdir/boot/
boot_case() {
	local out
	out=$logdir/boot/$(basename "$1").out

	bash "$1" >"$out" 2>&1 || echo "FAIL: $(basename "$1"): exit $?" >>"$out"
}
export -f boot_case
export logdir
section "VM runner (scripts/vm) and single-boot cases $(elapsed)"
mkdir -p "$logdir/boot"
# two at a time (each mostly boots one guest CPU, or waits), printed in
# order; the bpf-lsm length race last and alone: it needs two host cores
# for its guest's two CPUs to race
cases=$(ls tests/rig/*.sh tests/boot/*.sh | grep -v '/lsm_toctou\.sh$')
xargs -P 2 -I{} bash -c 'boot_case "$1"' _ {} <<<"$cases"
boot_case tests/boot/lsm_toctou.sh
for t in $cases tests/boot/lsm_toctou.sh; do
	cat "$logdir/boot/$(basename "$t").out"
done | tee "$logdir/rig.log"

section "fuzzing (the recording reader, FUZZ_SECS=${FUZZ_SECS:-60}, run beside the above) $(elapsed)"
wait $fuzz
cat "$logdir/fuzz.log"

# vm_shard KERNEL I/N TIMEOUT STRESS: the VM suite's Ith share of N in a boot of KERNEL
vm_shard() {
	# the ioctl stress's knobs (tests/vm/stress_test.sh) go into the guest
	HEAPSTAT_VM_NOBUILD=1 scripts/vm --kernel "$1" --load-heaps --cmdline kmemleak=on \
		--timeout $(($3 + $4)) -- \
		env SHARD="$2" STRESS_SECS="$4" ${STRESS_SEED:+STRESS_SEED=$STRESS_SEED} \
		sh /heapstat/tests/vm/run.sh 2>&1 ||
		echo "FAIL: vm-suite $1 ($2): scripts/vm exited $? (see above)"
}
# vm_suite KERNEL LOG TIMEOUT STRESS BOOTS: the VM suite in BOOTS boots of
# KERNEL at once, the ioctl stress running STRESS seconds (STRESS_SECS sets it
# for every kernel)
vm_suite() {
	local secs=${STRESS_SECS:-$4} n=$5 s pids=()

	section "VM suite (kernel $1, $n boot$([ "$n" = 1 ] || echo s)) $(elapsed)"
	for ((s = 1; s <= n; s++)); do
		vm_shard "$1" "$s/$n" "$3" "$secs" >"$logdir/${2%.log}-$s.out" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((s = 1; s <= n; s++)); do
		cat "$logdir/${2%.log}-$s.out"
	done | tee "$logdir/$2"
}
# two boots at once: the reference suite's tests mostly wait or run on one
# guest CPU (warm make check: 487 s against 533 to 679 s with one boot)
vm_suite "${KVER:-7.2}" vm.log 1500 20 2

section "kernel matrix: the attach ladder, and the older kernels' counts $(elapsed)"
if ! wait $kbuild; then
	cat "$logdir/kernels.out"
	echo "FAIL: matrix: make $targets failed (see above)"
fi >"$logdir/kbuild.log"
cat "$logdir/kbuild.log"
# matrix_line TEST:KERNEL...: the matrix's tests in turn (ladder:K, report_old:K)
matrix_line() {
	local t

	for t in "$@"; do
		bash "tests/matrix/${t%%:*}.sh" "${t#*:}" || echo "FAIL: ${t%%:*} ${t#*:}: exit $?"
	done
}
# two lines at once: each test is mostly a boot of one guest CPU, or waits
line1="ladder:7.2 ladder:6.12 ladder:6.1"
[ $all = 1 ] && line1="$line1 ladder:7.2-debug"
# shellcheck disable=SC2086
matrix_line $line1 >"$logdir/matrix1.out" 2>&1 &
m1=$!
matrix_line ladder:arm64 ladder:host report_old:6.12 report_old:6.1 >"$logdir/matrix2.out" 2>&1
wait $m1
cat "$logdir/matrix1.out" "$logdir/matrix2.out" | tee "$logdir/matrix.log"

# KASAN and lockdep make it slower: a longer watchdog; the stress runs 2 minutes
# there; one boot: under KASAN each guest keeps its CPUs busy, and two at once
# were slower in the one run tried
[ $all = 1 ] && vm_suite 7.2-debug vm-debug.log 4000 120 1

cat "$logdir"/*.log >"$logdir/all.log"
pass=$(grep -c '^PASS: ' "$logdir/all.log")
fail=$(grep -c '^FAIL: ' "$logdir/all.log")
skip=$(grep -c '^SKIP: ' "$logdir/all.log")
if [ "$fail" -gt 0 ]; then
	section "failed"
	grep '^FAIL: ' "$logdir/all.log"
fi
echo
echo "took $(elapsed | tr -d '()')"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
