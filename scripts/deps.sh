#!/bin/bash
# Install every Debian package heapstat's build, VM and tests need.
# Idempotent: quiet and fast when everything is already present.
set -euo pipefail

PKGS=(
	# user space and BPF
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
	libcgroup-dev libncurses-dev pkg-config
	# kernel build
	flex bison bc libssl-dev dwarves kmod rsync xz-utils python3 cpio
	# VM
	qemu-system-x86 busybox-static
	# arm64 VM for the device-tree carveout test
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm device-tree-compiler
	# heapstat for that VM, linked static (make arm64): the libraries it links, for arm64
	libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libcgroup-dev:arm64 libncurses-dev:arm64
	# tests and demo; gojq is the guests' jq (scripts/initramfs.sh); curl scrapes the
	# exporter, pgrep finds the VMs' processes
	tmux jq gojq curl procps
	# make fuzz (libFuzzer and the sanitizers' runtimes for clang), unit tests under valgrind
	libclang-rt-dev valgrind
	# heapstat analyze's outputs checked by real readers: JUnit XML (xmllint), Perfetto
	# (protoc --decode), HTML (headless Chromium; a font for its screenshot)
	libxml2-utils protobuf-compiler chromium fonts-dejavu-core
	# heapstat record --stacks: symbols and build-ids of the mapped binaries
	libdw-dev
	# heapstat export checked by real scrapers
	prometheus prometheus-node-exporter
	# make install / make deb: man pages, their lint, the Debian and DKMS packages; make
	# deb's compiler cache
	scdoc mandoc man-db lintian dkms dh-dkms debhelper dpkg-dev fakeroot bash-completion ccache
)

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
