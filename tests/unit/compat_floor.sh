#!/bin/bash
# kernel/compat.h stops a build below 7.1, or without CMA or dma-buf heaps,
# with a clear #error, and lets 7.1 with them on (with or without the dmem
# controller).
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/linux"
# as the kernel's build has it: IS_ENABLED() of include/linux/kconfig.h (its
# _MODULE half left out), forced in before every file
cat >"$tmp/kconfig.h" <<'EOT'
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x) ___is_defined(x)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define IS_ENABLED(option) __is_defined(option)
EOT
try() {		# try VERSION_CODE [-DCONFIG_X=1...]: preprocess compat.h with them
	cat >"$tmp/linux/version.h" <<EOT
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#define LINUX_VERSION_CODE $1
EOT
	shift
	echo '#include "compat.h"' | gcc -E -include "$tmp/kconfig.h" "$@" -I"$tmp" -I"$top/kernel" \
		- -o /dev/null 2>&1
}
both=(-DCONFIG_CMA=1 -DCONFIG_DMABUF_HEAPS=1)
out=$(try 'KERNEL_VERSION(7, 0, 9)' "${both[@]}"); rc=$?
if [ $rc != 0 ] && grep -q 'need Linux 7.1 or later' <<<"$out"; then
	echo "PASS: compat_floor: 7.0 is refused with the reason"
else
	echo "FAIL: compat_floor: 7.0 is refused with the reason: exit $rc: $out"
fi
out=$(try 'KERNEL_VERSION(7, 1, 0)' "${both[@]}"); rc=$?
if [ $rc = 0 ]; then echo "PASS: compat_floor: 7.1 builds"
else echo "FAIL: compat_floor: 7.1 builds: $out"; fi
for off in CONFIG_CMA CONFIG_DMABUF_HEAPS; do
	out=$(try 'KERNEL_VERSION(7, 2, 0)' $(printf '%s\n' "${both[@]}" | grep -v "$off")); rc=$?
	if [ $rc != 0 ] && grep -q 'need CONFIG_CMA and CONFIG_DMABUF_HEAPS' <<<"$out"; then
		echo "PASS: compat_floor: 7.2 without $off is refused with the reason"
	else
		echo "FAIL: compat_floor: 7.2 without $off is refused with the reason: exit $rc: $out"
	fi
done
