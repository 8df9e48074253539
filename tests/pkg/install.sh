#!/bin/bash
# make install into a scratch root (DESTDIR, prefix=/usr) installs exactly
# the expected files, links and modes; make uninstall leaves directories
# only. The version is VERSION's everywhere: heapstat --version, the man
# pages, the DKMS config, debian/changelog.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
pass() { echo "PASS: install: $1"; }
fail() { echo "FAIL: install: $1: $2"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
v=$(cat VERSION)
if ! out=$(make -s install DESTDIR="$tmp" prefix=/usr 2>&1); then
	fail "make install" "$out"
	exit 0
fi
got=$(cd "$tmp" && find . ! -type d \( -type l -printf '%M %p -> %l\n' -o -printf '%M %p\n' \) |
	LC_ALL=C sort -k2)
pages=$(for s in tools/man/*.8.scd; do
	p=$(basename "$s" .scd)
	[ "$p" = heapstat-export.8 ] && [ -z "$(ls tools/export/*.c 2>/dev/null)" ] && continue
	echo "-rw-r--r-- ./usr/share/man/man8/$p.gz"
done)
unit=
[ -f tools/export/heapstat-export.service ] &&
	unit="-rw-r--r-- ./usr/lib/systemd/system/heapstat-export.service"
srcs=$(for f in kernel/Kbuild kernel/Makefile kernel/*.c kernel/*.h kernel/trace/*.h kernel/dkms.conf; do
	echo "-rw-r--r-- ./usr/src/heapstat-$v/${f#kernel/}"
done)
want=$(LC_ALL=C sort -k2 <<EOF
-rwxr-xr-x ./usr/sbin/heapstat
lrwxrwxrwx ./usr/sbin/heaptop -> heapstat
-rw-r--r-- ./usr/share/bash-completion/completions/heapstat
lrwxrwxrwx ./usr/share/bash-completion/completions/heaptop -> heapstat
lrwxrwxrwx ./usr/share/man/man8/heapstat-top.8.gz -> heaptop.8.gz
$pages
$srcs
${unit:-}
EOF
)
want=$(grep . <<<"$want")
[ "$got" = "$want" ] && pass "exactly the $(wc -l <<<"$want") expected files, links and modes" ||
	fail "exactly the expected files, links and modes" "$(diff <(echo "$want") <(echo "$got"))"

# the installed pieces work: the binary's version, the pages (gzip), the DKMS config
msg=$("$tmp/usr/sbin/heapstat" --version; "$tmp/usr/sbin/heaptop" --help | head -n 1)
[ "$msg" = "heapstat $v
Usage: heaptop [OPTION...]" ] && pass "heapstat --version is VERSION's ($v); heaptop is top" ||
	fail "heapstat --version is VERSION's ($v); heaptop is top" "$msg"
bad=
for m in "$tmp"/usr/share/man/man8/*.gz; do
	foot=$(MANPAGER=cat man -l "$m" 2>&1 | tail -n 1)
	grep -q "^heapstat $v " <<<"$foot" || bad="$bad $(basename "$m"):'$foot'"
done
[ -z "$bad" ] && pass "every installed page reads, its footer says heapstat $v" ||
	fail "every installed page reads, its footer says heapstat $v" "$bad"
dv=$(set +u; . "$tmp/usr/src/heapstat-$v/dkms.conf" && echo "$PACKAGE_NAME $PACKAGE_VERSION")
cv=$(dpkg-parsechangelog -S Version 2>&1)
[ "$dv" = "heapstat $v" ] && [ "$cv" = "$v" ] && grep -qx "PACKAGE_VERSION=\"$v\"" kernel/dkms.conf &&
	pass "dkms.conf and debian/changelog are at $v" ||
	fail "dkms.conf and debian/changelog are at $v" "dkms.conf: $dv, changelog: $cv"

# the exporter's unit: ExecStart= names the sbindir installed to (prefix=/usr:
# /usr/sbin, the Debian package's), and systemd-analyze verify finds nothing
# wrong with it (its binary and man page: the scratch root's)
u=$tmp/usr/lib/systemd/system/heapstat-export.service
if [ -n "$unit" ]; then
	ex=$(sed -n 's/^ExecStart=//p' "$u")
	[ "$ex" = "/usr/sbin/heapstat export --listen 127.0.0.1:9464" ] &&
		pass "the unit's ExecStart= is /usr/sbin/heapstat's" ||
		fail "the unit's ExecStart= is /usr/sbin/heapstat's" "$ex"
	if command -v systemd-analyze >/dev/null; then
		sed "s|^ExecStart=/usr/sbin/|ExecStart=$tmp/usr/sbin/|" "$u" >"$tmp/heapstat-export.service"
		out=$(MANPATH=$tmp/usr/share/man systemd-analyze verify "$tmp/heapstat-export.service" 2>&1) &&
			[ -z "$out" ] && pass "systemd-analyze verify: the unit is clean" ||
			fail "systemd-analyze verify: the unit is clean" "$out"
		rm -f "$tmp/heapstat-export.service"
	else
		echo "SKIP: install: systemd-analyze verify: no systemd-analyze"
	fi
fi

# the packages make asks scripts/deps.sh for: the tool's alone for install
# (not the kernel build's, the VMs' or the tests': chromium, qemu, prometheus),
# and those hold what the tool's build links and runs
deps_of() { make -n "$@" 2>&1 | sed -n 's/.*scripts\/deps\.sh *//p' | head -n 1; }
got="install: '$(deps_of install DESTDIR="$tmp")' deb: '$(deps_of deb)' all: '$(deps_of)'"
[ "$got" = "install: 'tool' deb: 'tool package' all: ''" ] &&
	pass "make install asks deps.sh for the tool's packages, make deb for the packaging's too" ||
	fail "make install asks deps.sh for the tool's packages, make deb for the packaging's too" "$got"
tool=$(scripts/deps.sh --list tool)
bad=
for f in $(for l in bpf elf z cgroup ncursesw; do realpath -s "$(gcc -print-file-name=lib$l.so)"; done) \
	$(command -v clang bpftool llvm-strip scdoc gcc make); do
	p=$(dpkg -S "$f" 2>/dev/null | sed 's/[:,].*//')
	grep -qx "${p:-?}" <<<"$tool" || bad="$bad $f(${p:-no package})"
done
grep -qx 'chromium\|qemu-system-x86\|prometheus' <<<"$tool" && bad="$bad test-only-packages"
[ -z "$bad" ] && pass "deps.sh's tool group holds the libraries and programs the tool's build uses" ||
	fail "deps.sh's tool group holds the libraries and programs the tool's build uses" "$bad"
out=$(scripts/deps.sh --list nope 2>&1)
rc=$?
[ $rc = 2 ] && [ "$out" = "heapstat: deps.sh: no group 'nope' (groups: tool kernel vm test package)" ] &&
	pass "deps.sh refuses an unknown group, exit 2" ||
	fail "deps.sh refuses an unknown group, exit 2" "rc $rc: $out"

if ! out=$(make -s uninstall DESTDIR="$tmp" prefix=/usr 2>&1); then
	fail "make uninstall" "$out"
	exit 0
fi
left=$(cd "$tmp" && find . ! -type d)
[ -z "$left" ] && pass "make uninstall leaves directories only" ||
	fail "make uninstall leaves directories only" "$left"
exit 0
