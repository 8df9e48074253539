#!/bin/bash
# Fetch Debian's linux-source-$KVER through a private apt configuration and
# extract its tarball into the cache. The system's apt sources stay untouched.
#
#   KVER=7.2  (default): trixie-backports' linux-source-7.2
#   KVER=6.12          : bookworm's linux-source-6.12 (from bookworm-security)
#   KVER=6.1           : bookworm's own kernel, linux-source-6.1 (bookworm main)
#
# Prints the extracted source directory on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KVER=${KVER:-$HEAPSTAT_KVER_DEFAULT}
case "$KVER" in
7.2)	suite=trixie-backports; pin=${KPIN:-7.2.12-1~bpo13+1}
	sources="http://deb.debian.org/debian trixie-backports main" ;;
6.12)	suite=bookworm-security; pin=${KPIN:-6.12.117-1~deb12u1}
	sources="http://deb.debian.org/debian-security bookworm-security main" ;;
6.1)	suite=bookworm; pin=${KPIN:-6.1.176-1}
	sources="http://deb.debian.org/debian bookworm main" ;;
*)	die "unsupported KVER=$KVER (7.2, 6.12 or 6.1; use KSRC=<dir> for any other tree)" ;;
esac
pkg=linux-source-$KVER

apt_dir=$HEAPSTAT_CACHE/apt-$suite
src_root=$HEAPSTAT_CACHE/src
mkdir -p "$apt_dir"/{lists/partial,archives/partial,etc/preferences.d} "$src_root"

exec 9>"$src_root/linux-$KVER.lock"
flock 9
# already extracted?
if [ -f "$src_root/linux-$KVER.stamp" ]; then
	cat "$src_root/linux-$KVER.stamp"
	exit 0
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt_dir/etc/sources.list" <<EOS
deb [signed-by=$keyring] $sources
EOS
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
	-o "Dir::Etc::SourceParts=$apt_dir/etc/no-parts"
	-o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::State::Status=$apt_dir/status"
	-o "Dir::Cache=$apt_dir/cache"
	-o "Dir::Cache::Archives=$apt_dir/archives"
	-o "APT::Architecture=amd64"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
)
mkdir -p "$apt_dir/etc/no-parts" "$apt_dir/cache"
touch "$apt_dir/status" "$apt_dir/etc/preferences"

log FETCH "$pkg from $suite"
apt-get "${apt_opts[@]}" -qq update >/dev/null

avail=$(apt-cache "${apt_opts[@]}" madison "$pkg" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')
[ -n "$avail" ] || die "$pkg is not in $suite"
ver=
if [ -n "$pin" ] && grep -qxF "$pin" <<<"$avail"; then
	ver=$pin
else
	# newest the suite still has
	ver=$(head -n1 <<<"$avail")
	[ -z "$pin" ] || warn "pinned $pkg $pin is gone from $suite, using $ver"
fi

deb=$(ls "$apt_dir"/archives/"${pkg}_${ver//:/%3a}"_all.deb 2>/dev/null || true)
[ -n "$deb" ] || (cd "$apt_dir/archives" && apt-get "${apt_opts[@]}" -qq download "$pkg=$ver" >/dev/null)
deb=$(ls "$apt_dir"/archives/"${pkg}_${ver//:/%3a}"_all.deb)
[ -f "$deb" ] || die "download of $pkg=$ver failed"

x=$(mktemp -d "$src_root/x.XXXXXX")
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$deb" "$x"
tarball=$(echo "$x"/usr/src/linux-source-*.tar.*)
[ -f "$tarball" ] || die "no source tarball in $deb"
log EXTRACT "$(basename "$tarball")"
mkdir "$x/t"
tar -C "$x/t" -xf "$tarball"
top=$(ls "$x/t")
[ -d "$x/t/$top/kernel" ] || die "unexpected layout in $(basename "$tarball")"
dst=$src_root/$top-${ver//[~+:]/_}
rm -rf "$dst"
mv "$x/t/$top" "$dst"
echo "$dst" >"$src_root/linux-$KVER.stamp"
rm -f "$deb"
echo "$dst"
