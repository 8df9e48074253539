#!/bin/bash
# The carveout heap's device-tree source, on arm64 (x86 has no device tree):
# QEMU's virt machine boots heapstat's arm64 kernel (make arm64) with
# tests/dt/carveout.dtsi added to the device tree it generates, the heap
# modules load with no range parameter, and tests/vm/heap_test runs on the
# two heaps the reserved-memory nodes made, mapped and no-map, as it does on
# x86 for the memmap= ranges. dmesg must stay clean.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
name="arm64 dt"
a64=$top/build/arm64
fail() { echo "FAIL: $name: $*"; exit 0; }

kb=$(KARCH=arm64 "$top/scripts/kernel-build.sh") || fail "the arm64 kernel does not build"
for f in init heap_test kernel/heapstat_core.ko kernel/heapstat_carveout_heap.ko \
	tests/kmod/heapstat_importer.ko; do
	[ -f "$a64/$f" ] || fail "no $a64/$f (make arm64)"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mem=512M
qemu=(qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m $mem -nographic -no-reboot)

# the device tree: QEMU's own for this machine, plus the reserved-memory nodes
"${qemu[@]}" -M virt,dumpdtb="$tmp/virt.dtb" >/dev/null 2>&1 || fail "qemu cannot dump its dtb"
dtc -q -I dtb -O dts -o "$tmp/virt.dts" "$tmp/virt.dtb" || fail "dtc cannot read QEMU's dtb"
cat "$tmp/virt.dts" "$top/tests/dt/carveout.dtsi" >"$tmp/test.dts"
dtc -q -I dts -O dtb -o "$tmp/test.dtb" "$tmp/test.dts" || fail "dtc: tests/dt/carveout.dtsi"

# initramfs: init, heap_test, the modules in dependency order (modules.dep)
root=$tmp/root
mkdir -p "$root/mod"
cp "$a64/init" "$a64/heap_test" "$root/"
mods=$kb/mod/lib/modules/$(cat "$kb/include/config/kernel.release")
deps() {	# the module's dependencies, deepest first, then itself
	local m
	for m in $(sed -n "s|^\([^:]*/$1\.ko\): *||p" "$mods/modules.dep" | tr ' ' '\n' | tac); do
		deps "$(basename "$m" .ko)"
	done
	find "$mods" -name "$1.ko"
}
{
	for m in $(deps vgem | awk '!seen[$0]++'); do
		cp "$m" "$root/mod/" && echo "/mod/$(basename "$m")"
	done
	for m in kernel/heapstat_core kernel/heapstat_carveout_heap tests/kmod/heapstat_importer; do
		cp "$a64/$m.ko" "$root/mod/" && echo "/mod/$(basename "$m").ko"
	done
} >"$root/modules"
grep -q vgem.ko "$root/modules" || fail "no vgem.ko in $mods"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initramfs.gz"

out=$(timeout 900 "${qemu[@]}" -kernel "$kb/arch/arm64/boot/Image" -initrd "$tmp/initramfs.gz" \
	-dtb "$tmp/test.dtb" -append "console=ttyAMA0 panic=-1 quiet dma_heap.mem_accounting=1" \
	</dev/null 2>&1 | tr -d '\r'); rc=$?
[ $rc = 0 ] || fail "qemu exit $rc: $(tail -n 20 <<<"$out")"
grep -q '^carveout_dt: done$' <<<"$out" || fail "the guest did not finish: $(tail -n 30 <<<"$out")"
# heap_test's own lines, marked as the arm64 run's
grep -E '^(PASS|FAIL|SKIP): ' <<<"$out" | sed -E "s/^(PASS|FAIL|SKIP): (carveout_dt: )?/\1: $name: /"
grep -E '^(dmesg|carveout_dt): ' <<<"$out" | grep -v 'done$' >&2
# the heaps are the device tree's, named after their nodes
for h in carveout-camera carveout-secure:nomap; do
	if grep -qx "carveout_dt: heap $h" <<<"$out"; then
		echo "PASS: $name: reserved-memory node made heap ${h%:*}"
	else
		echo "FAIL: $name: reserved-memory node made heap ${h%:*}"
	fi
done
