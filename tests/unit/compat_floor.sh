#!/bin/bash
# kernel/compat.h stops a build below 7.1 with a clear #error, and lets 7.1 on.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/linux"
try() {		# try VERSION_CODE: preprocess compat.h against that version
	cat >"$tmp/linux/version.h" <<EOT
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#define LINUX_VERSION_CODE $1
EOT
	echo '#include "compat.h"' | gcc -E -I"$tmp" -I"$top/kernel" - -o /dev/null 2>&1
}
out=$(try 'KERNEL_VERSION(7, 0, 9)'); rc=$?
if [ $rc != 0 ] && grep -q 'need Linux 7.1 or later' <<<"$out"; then
	echo "PASS: compat_floor: 7.0 is refused with the reason"
else
	echo "FAIL: compat_floor: 7.0 is refused with the reason: exit $rc: $out"
fi
out=$(try 'KERNEL_VERSION(7, 1, 0)'); rc=$?
if [ $rc = 0 ]; then echo "PASS: compat_floor: 7.1 builds"
else echo "FAIL: compat_floor: 7.1 builds: $out"; fi
