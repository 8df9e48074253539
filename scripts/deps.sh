#!/bin/bash
# Install the Debian packages heapstat's build, VM and tests need: every one,
# or those of the groups named (the Makefile names `tool` for make install and
# make man, `tool package` for make deb). --list prints them instead.
# Idempotent: quiet and fast when everything is already present.
set -euo pipefail

declare -A GROUP=(
	# heapstat and heaptop, their BPF objects and man pages: what make install builds
	[tool]="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcgroup-dev
		libncurses-dev pkg-config scdoc"
	# the reference kernel and the heap modules
	[kernel]="flex bison bc libssl-dev dwarves kmod rsync xz-utils python3 cpio"
	# VM; arm64's for the device-tree carveout test, and heapstat for it, linked static
	# (make arm64): the libraries it links, for arm64
	[vm]="qemu-system-x86 busybox-static
		gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm device-tree-compiler
		libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libcgroup-dev:arm64
		libncurses-dev:arm64"
	# tests and demo; gojq is the guests' jq (scripts/initramfs.sh); curl scrapes the
	# exporter, pgrep finds the VMs' processes; make fuzz (libFuzzer and the sanitizers'
	# runtimes for clang), unit tests under valgrind, a signal sent at a syscall (strace's
	# fault injection); heapstat analyze's outputs checked by
	# real readers: JUnit XML (xmllint), Perfetto (protoc --decode), HTML (headless
	# Chromium; a font for its screenshot); heapstat export checked by real scrapers
	[test]="tmux jq gojq curl procps libclang-rt-dev valgrind strace
		libxml2-utils protobuf-compiler chromium fonts-dejavu-core
		prometheus prometheus-node-exporter"
	# make deb and the install tests: the pages' lint, the Debian and DKMS packages;
	# make deb's compiler cache
	[package]="mandoc man-db lintian dkms dh-dkms debhelper dpkg-dev fakeroot
		bash-completion ccache"
)
ORDER=(tool kernel vm test package)

list=0
if [ "${1:-}" = --list ]; then
	list=1
	shift
fi
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=("${ORDER[@]}")
PKGS=()
for g in "${groups[@]}"; do
	if [ -z "${GROUP[$g]+set}" ]; then
		echo "heapstat: deps.sh: no group '$g' (groups: ${ORDER[*]})" >&2
		exit 2
	fi
	read -r -d "" -a p <<<"${GROUP[$g]}" || true	# every line
	PKGS+=("${p[@]}")
done
if [ $list = 1 ]; then
	printf '%s\n' "${PKGS[@]}"
	exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "heapstat: missing packages: ${missing[*]}" >&2
	echo "heapstat: run as root, or: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "  DEPS    installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# the :arm64 packages come from Debian's arm64 archive, beside the host's
if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
	! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
