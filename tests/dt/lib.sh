# shellcheck shell=bash disable=SC2154
# Helpers for the arm64 device-tree boot tests (tests/boot/carveout_dt.sh,
# cma_areas.sh): QEMU's virt machine boots heapstat's arm64 kernel (make
# arm64) with a .dtsi added to the device tree QEMU generates, from an
# initramfs of tests/dt/init, the modules it loads and the programs it runs.
# Source it with $top and $name set, then:
#   dt_setup PROGRAM...          the kernel, a scratch root, init and PROGRAMs
#                                of build/arm64 in it (fails the test if any is
#                                missing; a link, e.g. heaptop, stays a link)
#   dt_module MODULE [PARAMS]    load MODULE (ours in build/arm64, else the
#                                kernel's, after what it depends on)
#   dt_prepare DTSI              the device tree with DTSI, the initramfs
#   dt_boot APPEND               boot (APPEND added to the command line);
#                                the guest's output on stdout
# A failed step prints "FAIL: $name: why" and exits 0.
set -uo pipefail
. "$top/scripts/lib.sh"
a64=$top/build/arm64
fail() { echo "FAIL: $name: $*"; exit 0; }
dt_qemu=(qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 512M -nographic -no-reboot)

dt_setup() {
	local f
	kb=$(KARCH=arm64 "$top/scripts/kernel-build.sh") || fail "the arm64 kernel does not build"
	mods=$kb/mod/lib/modules/$(cat "$kb/include/config/kernel.release")
	dt_tmp=$(mktemp -d)
	trap 'rm -rf "$dt_tmp"' EXIT
	dt_root=$dt_tmp/root
	mkdir -p "$dt_root/mod"
	: >"$dt_root/modules"
	for f in init "$@"; do
		[ -f "$a64/$f" ] || fail "no $a64/$f (make arm64)"
		cp -P "$a64/$f" "$dt_root/"
	done
}

# the kernel's module and what it depends on, deepest first
dt_kernel_module() {
	local m
	for m in $(sed -n "s|^\([^:]*/$1\.ko\): *||p" "$mods/modules.dep" | tr ' ' '\n' | tac); do
		dt_kernel_module "$(basename "$m" .ko)"
	done
	find "$mods" -name "$1.ko"
}

dt_module() {
	local m=$1 f
	shift
	if [ -f "$a64/kernel/$m.ko" ] || [ -f "$a64/tests/kmod/$m.ko" ]; then
		f=$(ls "$a64/kernel/$m.ko" "$a64/tests/kmod/$m.ko" 2>/dev/null)
		cp "$f" "$dt_root/mod/" && echo "/mod/$m.ko${1:+ $*}" >>"$dt_root/modules"
		return
	fi
	for f in $(dt_kernel_module "$m"); do
		grep -qx "/mod/$(basename "$f")" "$dt_root/modules" && continue
		cp "$f" "$dt_root/mod/" && echo "/mod/$(basename "$f")" >>"$dt_root/modules"
	done
	grep -q "/$m\.ko" "$dt_root/modules" || fail "no $m.ko in $mods"
}

dt_prepare() {
	local dtsi=$1
	# the device tree: QEMU's own for this machine, plus the .dtsi
	"${dt_qemu[@]}" -M virt,dumpdtb="$dt_tmp/virt.dtb" >/dev/null 2>&1 || fail "qemu cannot dump its dtb"
	dtc -q -I dtb -O dts -o "$dt_tmp/virt.dts" "$dt_tmp/virt.dtb" || fail "dtc cannot read QEMU's dtb"
	cat "$dt_tmp/virt.dts" "$dtsi" >"$dt_tmp/test.dts"
	dtc -q -I dts -O dtb -o "$dt_tmp/test.dtb" "$dt_tmp/test.dts" || fail "dtc: $dtsi"
	(cd "$dt_root" && find . | cpio -o -H newc --quiet | gzip -1) >"$dt_tmp/initramfs.gz"
}

dt_boot() {
	timeout 900 "${dt_qemu[@]}" -kernel "$kb/arch/arm64/boot/Image" -initrd "$dt_tmp/initramfs.gz" \
		-dtb "$dt_tmp/test.dtb" -append "console=ttyAMA0 panic=-1 quiet $1" \
		</dev/null 2>&1 | tr -d '\r'
	return "${PIPESTATUS[0]}"
}

# dt_run CASE DTSI CMDLINE: boot with DTSI added to the device tree and CMDLINE;
# the guest's output, its lines named CASE, in $out; its test lines printed as
# this test's ($name). A boot that fails or does not finish is this test's FAIL.
dt_run() {
	dt_prepare "$2"
	out=$(dt_boot "$3")
	_dt_rc=$?
	[ $_dt_rc = 0 ] || fail "qemu exit $_dt_rc: $(tail -n 20 <<<"$out")"
	grep -q "^$1: done\$" <<<"$out" || fail "the guest did not finish: $(tail -n 30 <<<"$out")"
	grep -E '^(PASS|FAIL|SKIP): ' <<<"$out" | sed -E "s/^(PASS|FAIL|SKIP): ($1: )?/\1: $name: /"
}
