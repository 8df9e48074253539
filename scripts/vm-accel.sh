#!/bin/bash
# Print the QEMU accelerator to use: kvm only when a probe boot of this kernel
# under KVM succeeds, tcg otherwise. HEAPSTAT_ACCEL=tcg|kvm decides instead.
# The probe's result is cached per kernel image, host kernel and QEMU version.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bzimage=$1
case ${HEAPSTAT_ACCEL:-} in
tcg|kvm) echo "$HEAPSTAT_ACCEL"; exit 0 ;;
'') ;;
*) die "HEAPSTAT_ACCEL must be tcg or kvm, not '$HEAPSTAT_ACCEL'" ;;
esac
if [ ! -w /dev/kvm ]; then
	echo tcg
	exit 0
fi

key=$( (sha256sum <"$bzimage"; uname -r; qemu-system-x86_64 --version | head -n1) |
	sha256sum | cut -c1-12)
cache=$HEAPSTAT_CACHE/kvm-probe-$key
if [ ! -f "$cache" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo 'exec true' >"$tmp/cmd"
	"$TOP/scripts/initramfs.sh" -o "$tmp/i.cpio" -c "$tmp/cmd"
	result=tcg
	# a guest that crashes QEMU under KVM aborts it: the subshell, which does
	# not exec its last command, keeps the shell's "Aborted" report quiet
	if (timeout -k 2 30 qemu-system-x86_64 -nodefaults -display none -no-reboot \
		-accel kvm -cpu host -m 512M -smp 2 -kernel "$bzimage" -initrd "$tmp/i.cpio" \
		-append "console=ttyS0 loglevel=1 panic=-1" -serial null -serial "file:$tmp/ctl" \
		</dev/null >/dev/null 2>&1; exit $?) 2>/dev/null &&
		grep -q '^exit 0' "$tmp/ctl" 2>/dev/null; then
		result=kvm
	fi
	mkdir -p "$HEAPSTAT_CACHE"
	echo "$result" >"$cache"
fi
cat "$cache"
