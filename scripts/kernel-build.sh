#!/bin/bash
# Build a heapstat kernel: tinyconfig + scripts/kconfig/heapstat.config.
#
#   KVER=7.2|6.12|6.1  Debian source package to build (default 7.2)
#   KFLAVOR=debug   the debug flavour: scripts/kconfig/heapstat-debug.config
#                   (KASAN, KFENCE, lockdep, kmemleak on, fault injection)
#                   merged last, in a build directory of its own (x86 only)
#   KFLAVOR=preempt full preemption and preemptible RCU, as distributions
#                   build: scripts/kconfig/heapstat-preempt.config (x86 only)
#   KSRC=<dir>      any other kernel tree instead
#   KARCH=arm64     cross-build for QEMU's arm64 virt machine instead, from
#                   scripts/kconfig/heapstat-arm64.config (device-tree tests)
#   KCACHED=1       only report a finished build: exit 3 if there is none
#
# The build lives in $HEAPSTAT_CACHE/build/<version>[-arm64|-debug]-<fragment hash>;
# a warm cache rebuilds nothing. Prints the build directory on stdout; it
# holds bzImage (arm64: Image), vmlinux, the config, and modules under mod/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

frag=$TOP/scripts/kconfig/heapstat.config
karch=${KARCH:-x86_64}
case $karch in
x86_64)	cross=() image=bzImage suffix= ;;
arm64)	cross=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) image=Image suffix=-arm64
	frag=$TOP/scripts/kconfig/heapstat-arm64.config ;;
*)	die "unsupported KARCH=$karch (x86_64 or arm64)" ;;
esac
if [ -n "${KCACHED:-}" ] && [ -z "${KSRC:-}" ]; then
	# without fetching: the source must be there already
	stamp=$HEAPSTAT_CACHE/src/linux-${KVER:-$HEAPSTAT_KVER_DEFAULT}.stamp
	[ -f "$stamp" ] || exit 3
	KSRC=$(cat "$stamp")
fi
if [ -n "${KSRC:-}" ]; then
	src=$(cd "$KSRC" && pwd)
	[ -f "$src/Makefile" ] && [ -d "$src/kernel" ] || die "KSRC=$KSRC is not a kernel tree"
else
	src=$("$TOP/scripts/kernel-fetch.sh")
fi
# the version as `make kernelversion` prints it, without running make
kversion=$(awk -F' = ' '$1 == "VERSION" {v = $2} $1 == "PATCHLEVEL" {p = $2}
	$1 == "SUBLEVEL" {s = $2} $1 == "EXTRAVERSION" {e = $2; exit}
	END {if (v == "") exit 1; printf "%s.%s.%s%s\n", v, p, s, e}' "$src/Makefile") ||
	die "cannot read the version of $src"
# an overlay for one release (heapstat-6.12.config) is merged after the fragment
frags=("$frag")
overlay=$TOP/scripts/kconfig/heapstat-$(cut -d. -f1,2 <<<"$kversion").config
[ -f "$overlay" ] && [ "$karch" = x86_64 ] && frags+=("$overlay")
case ${KFLAVOR:-} in
'')	;;
debug)	[ "$karch" = x86_64 ] || die "KFLAVOR=debug is x86_64 only"
	frags+=("$TOP/scripts/kconfig/heapstat-debug.config") suffix=-debug ;;
preempt) [ "$karch" = x86_64 ] || die "KFLAVOR=preempt is x86_64 only"
	frags+=("$TOP/scripts/kconfig/heapstat-preempt.config") suffix=-preempt ;;
*)	die "unsupported KFLAVOR=$KFLAVOR (debug, preempt, or unset)" ;;
esac
# key: version, fragments, and the tree's location (two trees of one version differ)
key=$( (cat "${frags[@]}"; echo "$src") | sha256sum | cut -c1-12)
out=$HEAPSTAT_CACHE/build/linux-$kversion$suffix-$key

mkdir -p "$out"
# one build at a time per directory: a second caller waits, then finds it done
exec 9>"$out.lock"
flock 9
jobs=$(nproc)
kmake() { make -C "$src" O="$out" "${cross[@]}" -j"$jobs" "$@"; }
q=/dev/null; [ "${V:-0}" = 1 ] && q=/dev/stderr
# uapi headers (drm, dma-heap, ...) for the tests
headers() { kmake -s INSTALL_HDR_PATH="$out/usr" headers_install >"$q" 2>&1; }

if [ -f "$out/.done" ]; then
	[ -d "$out/usr/include" ] || headers
	echo "$out"
	exit 0
fi
[ -z "${KCACHED:-}" ] || exit 3

log KERNEL "building $kversion in $out (${jobs} jobs, takes minutes when cold)"
# the fragment is merged onto tinyconfig, then every option is checked
kmake -s tinyconfig >"$q"
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >"$q"
kmake -s olddefconfig >"$q"
# symbols this tree defines: an older kernel lacks some (6.12 has no CGROUP_DMEM)
grep -rhoE '^[[:space:]]*(menu)?config [A-Z0-9_]+' --include='Kconfig*' "$src" |
	awk '{print "CONFIG_" $2}' | sort -u >"$out/.symbols"
bad=0
while IFS= read -r line; do
	case "$line" in
	'# CONFIG_'*' is not set')	# an overlay turning an option off
		sym=${line#\# } sym=${sym%% *}
		grep -q "^$sym=" "$out/.config" || continue ;;
	''|'#'*) continue ;;
	*)	grep -qxF "$line" "$out/.config" && continue
		sym=${line%%=*} ;;
	esac
	if ! grep -qxF "$sym" "$out/.symbols"; then
		warn "$kversion has no $sym"
	else
		warn "fragment option lost: $line (got: $(grep -E "^(# )?$sym[= ]" "$out/.config" || echo unset))"
		bad=1
	fi
done < <(cat "${frags[@]}" | grep -E '^(CONFIG_|# CONFIG_[A-Z0-9_]+ is not set)' |
	awk -F= '{k = $1; sub(/^# /, "", k); sub(/ .*/, "", k); last[k] = $0; order[k] = NR}
	END {for (k in last) print order[k], last[k]}' | sort -n | cut -d' ' -f2-)
[ $bad -eq 0 ] || die "the config fragment does not apply to $kversion (see above)"

log KERNEL "compiling (log: $out/build.log)"
if ! kmake "$image" modules >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	die "kernel build failed: $out/build.log"
fi
# 7.x's ftrace takes an odd target for a jump (the low bit marks it, see
# scripts/kconfig/heapstat-7.2.config): its own callbacks must be even
if grep -qx CONFIG_DYNAMIC_FTRACE_WITH_JMP=y "$out/.config"; then
	odd=$(awk '$3 ~ /^(ftrace_ops_list_func|ftrace_ops_assist_func|call_direct_funcs|ftrace_stub)$/ &&
		$1 ~ /[13579bdf]$/ {print $3}' "$out/System.map" | tr '\n' ' ')
	[ -z "$odd" ] || die "ftrace callbacks at odd addresses in $out ($odd):" \
		"ftrace would reach them by a jump one byte short; align functions (-O2)"
fi
rm -rf "$out/mod"
kmake -s INSTALL_MOD_PATH="$out/mod" modules_install >"$q" 2>&1
headers
touch "$out/.done"
echo "$out"
