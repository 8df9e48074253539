#!/bin/bash
# Regenerate vmlinux.h from the reference kernel's BTF (KVER, default 7.2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kbuild=$("$TOP/scripts/kernel-build.sh")
[ -f "$kbuild/vmlinux" ] || die "no vmlinux in $kbuild"
log GEN "vmlinux.h from $kbuild/vmlinux"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$kbuild/vmlinux" format c >"$tmp"
cat "$tmp" >"$TOP/vmlinux.h"
trap - EXIT
