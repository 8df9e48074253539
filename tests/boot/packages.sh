#!/bin/bash
# The Debian packages, as a user who does not build from this tree gets them:
# make deb builds heapstat and heapstat-dkms (lintian: no error); both install
# on this host with dpkg -i (the DKMS postinst skips kernels without headers,
# as this host's), heapstat --version, man heapstat and the completion work,
# and dkms builds the heap modules against the reference kernel (and against
# its configuration without the dmem controller; skips it without CMA); dpkg
# --purge leaves the host as found. Then the package's heapstat, unpacked into a
# scratch root, and the DKMS-built modules run in the reference kernel's VM:
# the modules load and make their heap, the packaged heapstat reports it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
pass() { echo "PASS: packages: $1"; }
fail() { echo "FAIL: packages: $1: $2"; }
v=$(cat VERSION)
deb=$top/build/deb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! out=$(make -s deb 2>&1); then
	fail "make deb" "$(tail -n 20 <<<"$out")"
	exit 0
fi
tools=$deb/heapstat_${v}_amd64.deb
dkmsdeb=$deb/heapstat-dkms_${v}_all.deb
[ -f "$tools" ] && [ -f "$dkmsdeb" ] && pass "make deb builds heapstat and heapstat-dkms $v" ||
	fail "make deb builds heapstat and heapstat-dkms $v" "$(ls "$deb")"
grep -q '^E: ' "$deb/lintian.log" && fail "lintian: no error" "$(grep '^E: ' "$deb/lintian.log")" ||
	pass "lintian: no error ($(grep -c '^W: ' "$deb/lintian.log") warnings)"
# the exporter's unit, not enabled by the package: stopped when the package goes
prerm=$(dpkg-deb --ctrl-tarfile "$tools" | tar -xO ./prerm 2>&1)
grep -q "deb-systemd-invoke stop .*heapstat-export.service" <<<"$prerm" &&
	pass "the exporter's unit is stopped when the package is removed" ||
	fail "the exporter's unit is stopped when the package is removed" "prerm: $prerm"

# on the host, unless heapstat is installed here already (leave it be)
kdir=$(KCACHED=1 scripts/kernel-build.sh 2>/dev/null)
# the reference kernel's configuration changed by scripts/config's arguments,
# prepared for out-of-tree modules only (modules_prepare) with the reference
# build's Module.symvers (what was turned off exports nothing the modules use),
# cached in build/kvariant/NAME; prints its directory
variant() {
	local name=$1 d=$top/build/kvariant/$1 src
	shift
	src=$(readlink -f "$kdir/source")
	if [ ! -f "$d/.done" ] || [ "$(cat "$d/.done")" != "$kdir $*" ]; then
		rm -rf "$d" && mkdir -p "$d" && cp "$kdir/.config" "$d/.config" &&
			"$src/scripts/config" --file "$d/.config" "$@" &&
			make -C "$src" O="$d" -s olddefconfig >/dev/null &&
			make -C "$src" O="$d" -s -j"$(nproc)" modules_prepare >/dev/null &&
			cp "$kdir/Module.symvers" "$d/" && echo "$kdir $*" >"$d/.done" || return 1
	fi
	echo "$d"
}
if dpkg-query -W heapstat heapstat-dkms >/dev/null 2>&1; then
	echo "SKIP: packages: host install: heapstat is installed on this host already"
elif ! out=$(dpkg -i "$tools" "$dkmsdeb" 2>&1); then
	fail "dpkg -i both on the host" "$(tail -n 20 <<<"$out")"
	dpkg --purge heapstat heapstat-dkms >/dev/null 2>&1
else
	pass "dpkg -i both on the host"
	[ "$(/usr/sbin/heapstat --version)" = "heapstat $v" ] && pass "heapstat --version: heapstat $v" ||
		fail "heapstat --version: heapstat $v" "$(/usr/sbin/heapstat --version 2>&1)"
	page=$(MANPAGER=cat MANWIDTH=80 man heapstat 2>&1)
	top_page=$(man -w heapstat-top 2>&1; man -w heaptop 2>&1)
	grep -q '^ *heapstat - who holds how much of which DMA-BUF heap$' <<<"$page" &&
		[ "$top_page" = "/usr/share/man/man8/heaptop.8.gz
/usr/share/man/man8/heaptop.8.gz" ] &&
		pass "man heapstat, man heaptop, man heapstat-top" ||
		fail "man heapstat, man heaptop, man heapstat-top" "$(head -n 5 <<<"$page") $top_page"
	c=$(bash --norc -c '. /usr/share/bash-completion/bash_completion
		__load_completion heapstat && complete -p heapstat' 2>&1)
	[ "$c" = "complete -F _heapstat heapstat" ] && pass "bash completion loads for heapstat" ||
		fail "bash completion loads for heapstat" "$c"
	st=$(dkms status heapstat/"$v" 2>&1)
	[ "$st" = "heapstat/$v: added" ] && pass "dkms status: heapstat/$v added" ||
		fail "dkms status: heapstat/$v added" "$st"
	if [ -z "$kdir" ]; then
		echo "SKIP: packages: dkms build: the reference kernel is not built (make kernel)"
	else
		kver=$(cat "$kdir/include/config/kernel.release")
		if out=$(dkms build -m heapstat -v "$v" -k "$kver" --kernelsourcedir "$kdir" 2>&1); then
			mkdir -p "$tmp/ko"
			cp /var/lib/dkms/heapstat/"$v"/"$kver"/*/module/*.ko* "$tmp/ko/" 2>/dev/null
			n=$(ls "$tmp/ko" | grep -c '\.ko')
			[ "$n" = 4 ] && pass "dkms build against the reference kernel $kver: 4 modules" ||
				fail "dkms build against the reference kernel $kver: 4 modules" "$(ls "$tmp/ko")"
		else
			fail "dkms build against the reference kernel $kver" "$(tail -n 20 <<<"$out")"
		fi
		# an older kernel is skipped (BUILD_EXCLUSIVE_KERNEL: 7.1+), not failed
		dkms build -m heapstat -v "$v" -k 6.12.0 --kernelsourcedir "$kdir" >/dev/null 2>&1
		rc=$?
		[ $rc = 77 ] && pass "dkms build for 6.12: skipped (77), the modules need 7.1" ||
			fail "dkms build for 6.12: skipped (77), the modules need 7.1" "exit $rc"
		# a 7.2 without the dmem controller: built, and charging nobody (no
		# dmem symbol asked of the kernel); one without CMA: skipped (77)
		if d=$(variant nodmem -d CGROUP_DMEM --set-str LOCALVERSION -nodmem) &&
			out=$(dkms build -m heapstat -v "$v" -k "$kver-nodmem" --kernelsourcedir "$d" 2>&1); then
			ko=(/var/lib/dkms/heapstat/"$v"/"$kver"-nodmem/*/module/*.ko*)
			syms=$(nm -u "${ko[@]}" | grep -c dmem_)
			[ ${#ko[@]} = 4 ] && [ "$syms" = 0 ] &&
				pass "dkms build for 7.2 without CONFIG_CGROUP_DMEM: 4 modules, no dmem symbol" ||
				fail "dkms build for 7.2 without CONFIG_CGROUP_DMEM: 4 modules, no dmem symbol" \
					"${ko[*]}; $syms dmem symbols"
		else
			fail "dkms build for 7.2 without CONFIG_CGROUP_DMEM" "$(tail -n 20 <<<"$out")"
		fi
		d=$(variant nocma -d CMA --set-str LOCALVERSION -nocma) &&
			dkms build -m heapstat -v "$v" -k "$kver-nocma" --kernelsourcedir "$d" >/dev/null 2>&1
		rc=$?
		[ $rc = 77 ] && pass "dkms build for 7.2 without CONFIG_CMA: skipped (77)" ||
			fail "dkms build for 7.2 without CONFIG_CMA: skipped (77)" "exit $rc"
	fi
	# make install and uninstall beside the packages (another prefix): the
	# heapstat-dkms package's sources in /usr/src neither written over nor removed
	xp=$tmp/prefix
	said="make: /usr/src/heapstat-$v is the heapstat-dkms package's: left as it is"
	out=$(make -s install prefix="$xp" 2>&1); rc=$?
	out2=$(make -s uninstall prefix="$xp" 2>&1); rc2=$?
	ver=$(dpkg -V heapstat-dkms 2>&1)
	[ $rc = 0 ] && [ $rc2 = 0 ] && grep -qxF "$said" <<<"$out" && grep -qxF "$said" <<<"$out2" &&
		[ -z "$ver" ] && [ -f /usr/src/heapstat-"$v"/dkms.conf ] && [ ! -e "$xp/sbin/heapstat" ] &&
		pass "make install and uninstall leave the heapstat-dkms package's sources as they are" ||
		fail "make install and uninstall leave the heapstat-dkms package's sources as they are" \
			"exit $rc $rc2: $out $out2 dpkg -V: $ver"
	if out=$(dpkg --purge heapstat heapstat-dkms 2>&1) && [ ! -e /usr/sbin/heapstat ] &&
		[ ! -e /usr/src/heapstat-"$v" ] && [ ! -e /var/lib/dkms/heapstat ] &&
		! dpkg-query -W heapstat heapstat-dkms >/dev/null 2>&1; then
		pass "dpkg --purge leaves the host as found"
	else
		fail "dpkg --purge leaves the host as found" "$(tail -n 5 <<<"$out"; ls -d /usr/src/heapstat* /var/lib/dkms/heapstat 2>&1)"
	fi
fi

# in the VM: the package's heapstat from a scratch root, the DKMS-built modules;
# the one boot of make check with the address-space randomization users have
if [ -z "$kdir" ]; then
	echo "SKIP: packages: VM: the reference kernel is not built (make kernel)"
	exit 0
fi
dpkg -x "$tools" "$tmp/root"
adds=(--add "$tmp/root/usr/sbin/heapstat:/pkg/heapstat")
[ -d "$tmp/ko" ] && adds+=(--add "$tmp/ko:/pkg/ko")
out=$(HEAPSTAT_VM_NOBUILD=1 scripts/vm --aslr "${adds[@]}" --load system_heap -- sh -c '
	/pkg/heapstat --version
	if [ -d /pkg/ko ]; then
		insmod /pkg/ko/heapstat_core.ko* && insmod /pkg/ko/heapstat_cma_heap.ko* &&
			ls -1 /dev/dma_heap
	fi
	dmabuf_alloc -H system -s 1M -n 3 -r 1 -w 60 -R /tmp/r &
	[ -d /pkg/ko ] && dmabuf_alloc -H default_cma_region -s 64K -n 2 -w 60 -R /tmp/r2 &
	i=0	# 60 s at most: a helper that failed fails the output below, not the boot
	while { [ ! -e /tmp/r ] || { [ -d /pkg/ko ] && [ ! -e /tmp/r2 ]; }; } && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	/pkg/heapstat report heaps --csv; echo "rc=$?"' 2>&1)
rc=$?
want="heapstat $v"
[ -d "$tmp/ko" ] && want="$want
default_cma_region
system"
cr=$'\r'	# CSV's records end in CRLF
want="$want
heap,bytes,buffers$cr"
[ -d "$tmp/ko" ] && want="$want
default_cma_region,131072,2$cr"
want="$want
system,2097152,2$cr
rc=0"
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	pass "VM: the package's heapstat$([ -d "$tmp/ko" ] && echo " and the DKMS-built modules"): --version, report heaps"
else
	fail "VM: the package's heapstat and the DKMS-built modules: --version, report heaps" \
		"exit $rc: $(diff <(echo "$want") <(echo "$out") | head -n 20)"
fi
exit 0
