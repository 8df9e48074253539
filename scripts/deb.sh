#!/bin/bash
# make deb: the Debian packages heapstat and heapstat-dkms into OUTDIR, and
# lintian's verdict on them (its errors fail the build).
# dpkg-buildpackage builds in a copy of the tree (its clean step removes
# build/), under OUTDIR/src, and writes the packages beside that copy.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$(mkdir -p "${1:?usage: deb.sh OUTDIR}" && cd "$1" && pwd)
cd "$TOP"
version=$(cat VERSION)
# the one version: debian/changelog and kernel/dkms.conf say the same
clv=$(dpkg-parsechangelog -S Version)
[ "$clv" = "$version" ] || die "debian/changelog is at $clv, VERSION at $version"
grep -qx "PACKAGE_VERSION=\"$version\"" kernel/dkms.conf ||
	die "kernel/dkms.conf's PACKAGE_VERSION is not \"$version\""

src=$out/src/heapstat-$version
rm -rf "$out/src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"
# the tree as it is, committed or not, without what builds leave
tar -C "$TOP" --exclude=./build --exclude=./.git --exclude-vcs-ignores -cf - . | tar -C "$src" -xf -
log=$out/build.log
echo "  DEB     $out (log: $log)"
# through ccache where it is installed (scripts/deps.sh): the copy is built
# whole each time, and make check's packages.sh makes it at every run
[ -d /usr/lib/ccache ] && export PATH=/usr/lib/ccache:$PATH
# not the caller's make flags (make -s deb, BUILD=...): debian/rules' make has its own
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b -j2) \
	>"$log" 2>&1 || {
	tail -30 "$log" >&2
	die "dpkg-buildpackage failed"
}
mv "$out/src"/*.deb "$out/src"/*.changes "$out/src"/*.buildinfo "$out"/
rm -rf "$out/src"
changes=$(ls "$out"/heapstat_"$version"_*.changes)
# errors fail; warnings are shown (debian/*.lintian-overrides say why any is kept)
lintian --fail-on error --tag-display-limit 0 "$changes" | tee "$out/lintian.log"
ls "$out"/*.deb
