#!/bin/bash
# make check: host unit tests, the packaging's host tests (man pages,
# completion, make install), a bounded fuzzing run, the VM runner's own tests
# and single-boot cases (tests/boot/packages.sh: make deb, installed), then the
# VM suite.
# Every test prints "PASS: name", "FAIL: name: why" or "SKIP: name: why";
# the last line is the tally, "N passed, N failed, N skipped".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

logdir=$TOP/build/check
rm -rf "$logdir"
mkdir -p "$logdir"
cd "$TOP"

section() { printf '\n== %s\n' "$1"; }

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

section "fuzzing (the recording reader, FUZZ_SECS=${FUZZ_SECS:-60})"
if make -s fuzz-build; then
	scripts/fuzz.sh
else
	echo "FAIL: record_fuzz: make fuzz-build failed"
fi 2>&1 | tee "$logdir/fuzz.log"

section "VM runner (scripts/vm) and single-boot cases"
for t in tests/rig/*.sh tests/boot/*.sh; do
	bash "$t" || echo "FAIL: $(basename "$t"): exit $?"
done 2>&1 | tee "$logdir/rig.log"

section "VM suite (kernel ${KVER:-7.2})"
# the ioctl stress's knobs (tests/vm/stress_test.sh) go into the guest
HEAPSTAT_VM_NOBUILD=1 scripts/vm --kernel "${KVER:-7.2}" --load-heaps --cmdline kmemleak=on \
	--timeout $((1500 + ${STRESS_SECS:-20})) -- \
	env STRESS_SECS="${STRESS_SECS:-20}" ${STRESS_SEED:+STRESS_SEED=$STRESS_SEED} \
	sh /heapstat/tests/vm/run.sh 2>&1 | tee "$logdir/vm.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || echo "FAIL: vm-suite: scripts/vm exited $rc (see above)" | tee -a "$logdir/vm.log"

cat "$logdir"/*.log >"$logdir/all.log"
pass=$(grep -c '^PASS: ' "$logdir/all.log")
fail=$(grep -c '^FAIL: ' "$logdir/all.log")
skip=$(grep -c '^SKIP: ' "$logdir/all.log")
if [ "$fail" -gt 0 ]; then
	section "failed"
	grep '^FAIL: ' "$logdir/all.log"
fi
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
