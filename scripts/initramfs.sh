#!/bin/bash
# Build the test VM's initramfs (uncompressed cpio archives, concatenated):
#   busybox, scripts/guest/init, the kernel build's modules, heapstat's built
#   binaries with their shared libraries, the tests, terminfo, extra files.
# All but the command, the modules to load and the extra files is the same for
# every boot of one build: that archive is made once and kept in
# build/initramfs/ (the four last used), keyed by what goes into it (each
# input's path, size and time); the rest is a small archive after it, which
# the kernel unpacks over the first.
#
# usage: initramfs.sh -k KBUILD -o OUT [-c CMDFILE] [-l MODULES] [-a HOST[:GUEST]]...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kbuild= out= cmdfile= loadmods= adds=()
while getopts k:o:c:l:a: o; do
	case $o in
	k) kbuild=$OPTARG ;;
	o) out=$OPTARG ;;
	c) cmdfile=$OPTARG ;;
	l) loadmods=$OPTARG ;;
	a) adds+=("$OPTARG") ;;
	*) die "usage: initramfs.sh -k KBUILD -o OUT [-c CMDFILE] [-l MODULES] [-a HOST[:GUEST]]..." ;;
	esac
done
[ -n "$out" ] || die "initramfs.sh: -o OUT is required"
bin=$(readlink -f "${HEAPSTAT_VM_BIN:-$TOP/build/heapstat}")

# beside the kept archives: one is linked, not copied
mkdir -p "$TOP/build/initramfs"
tmp=$(mktemp -d "$TOP/build/initramfs/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"
chmod 0755 "$root"	# the guest's /: other users (nobody, in tests) reach /bin

# an ELF file and every shared library it needs, at the same paths
copy_elf() {	# copy_elf FILE DEST, in $root
	local f=$1 dst=$2 lib
	install -D -m 0755 "$f" "$root$dst"
	strip --strip-debug "$root$dst" 2>/dev/null
	ldd "$f" >/dev/null 2>&1 || return 0	# static
	for lib in $(ldd "$f" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# the base, into $root
base() {
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,root,etc,lib,heapstat/bin,heapstat/tests}
	chmod 1777 "$root/tmp"
	bb=/bin/busybox		# busybox-static's: runs with no library
	[ -x $bb ] && ! ldd $bb >/dev/null 2>&1 ||
		die "no static busybox (scripts/deps.sh installs busybox-static)"
	cp $bb "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	install -m 0755 "$TOP/scripts/guest/init" "$root/init"
	# root, and an unprivileged user for tests of what it may not do
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

	# modules: the kernel's own, plus heapstat's if built
	if [ -n "$kbuild" ] && [ -d "$kbuild/mod/lib/modules" ]; then
		cp -a "$kbuild/mod/lib/modules" "$root/lib/"
		kver=$(ls "$root/lib/modules")
		# heapstat's own, when built for this kernel: the reference build's, or the
		# debug kernel's (make debug; its release ends in -debug)
		for ko in "$TOP"/build/kernel/*.ko "$TOP"/build/tests/kmod/*.ko \
			"$TOP"/build/debug/kernel/*.ko "$TOP"/build/debug/tests/kmod/*.ko; do
			[ -f "$ko" ] || continue
			[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$kver" ] || continue
			mkdir -p "$root/lib/modules/$kver/extra"
			cp "$ko" "$root/lib/modules/$kver/extra/"
		done
		# debug info is most of a module's size and slows the boot: keep .BTF
		find "$root/lib/modules" -name '*.ko' -exec strip --strip-debug {} +
		depmod -b "$root" "$kver"
	fi

	# heapstat's binaries and tests (HEAPSTAT_VM_BIN: another build of heapstat,
	# e.g. make san's, its sanitizers' libraries with it)
	[ -x "$bin" ] && copy_elf "$bin" /heapstat/bin/heapstat
	ln -sf heapstat "$root/heapstat/bin/heaptop"
	if [ -d "$TOP/build/tests" ]; then
		while IFS= read -r f; do
			copy_elf "$f" "/heapstat/bin/$(basename "$f")"
		done < <(find "$TOP/build/tests" -maxdepth 1 -type f -perm -u+x)
	fi
	# tools the tests use beyond busybox (tmux drives heaptop as a person would)
	for t in jq tmux; do
		command -v $t >/dev/null && copy_elf "$(command -v $t)" "/usr/bin/$t"
	done
	# the guests' jq is gojq: jq 1.6 compiles its builtins at every start, 250 ms
	# of emulated time a call (gojq's 30), and the VM suite calls it some 300
	# times. Its integers are exact (jq 1.6's are doubles); it prints an object's
	# keys sorted
	command -v gojq >/dev/null && copy_elf "$(command -v gojq)" /usr/bin/jq
	# tmux wants a UTF-8 locale: LC_ALL=C.UTF-8
	[ -d /usr/lib/locale/C.utf8 ] && mkdir -p "$root/usr/lib/locale" &&
		cp -a /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
	cp -a "$TOP/tests/." "$root/heapstat/tests/"
	mkdir -p "$root/heapstat/guest"
	cp -a "$TOP/scripts/guest/." "$root/heapstat/guest/"

	# terminfo for an interactive console
	for t in linux vt100 vt220 xterm xterm-256color screen screen-256color tmux tmux-256color; do
		for d in /lib/terminfo /usr/share/terminfo; do
			f=$d/${t:0:1}/$t
			[ ! -e "$f" ] || install -D -m 0644 "$(readlink -f "$f")" "$root/usr/share/terminfo/${t:0:1}/$t"
		done
	done
}

# its key: every input's path, size and time (a file rebuilt or edited makes
# another), and the installed packages by content: make check's packages.sh
# installs heapstat's and purges them again, which leaves dpkg's status as it
# was but newer, and every boot after rebuilt its archive (7 s each)
key=$( {
	echo "$kbuild"
	sha256sum /var/lib/dpkg/status
	find /bin/busybox "$TOP/scripts/initramfs.sh" "$TOP/scripts/guest" \
		"$TOP/tests" ${kbuild:+"$kbuild/mod/lib/modules"} -printf '%p %s %T@\n'
	find "$bin" -maxdepth 0 -printf '%p %s %T@\n'
	find "$TOP/build/tests" -maxdepth 1 -type f -perm -u+x -printf '%p %s %T@\n'
	for d in build/kernel build/tests/kmod build/debug/kernel build/debug/tests/kmod; do
		find "$TOP/$d" -maxdepth 1 -name '*.ko' -printf '%p %s %T@\n'
	done
	true	# a directory not there (no debug build) is no error
} 2>/dev/null | sha256sum | cut -c1-16)
cache=$TOP/build/initramfs/$key.cpio
# linked first: a kept archive another boot deletes meanwhile stays whole here
if ln "$cache" "$tmp/base.cpio" 2>/dev/null; then
	touch "$cache"
else
	base
	(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$tmp/base.cpio"
	ln -f "$tmp/base.cpio" "$tmp/keep.cpio"
	mv -f "$tmp/keep.cpio" "$cache"
	# the four last used are kept (the reference and debug kernels', the KVM probe's),
	# and no work directory of a run killed outright
	ls -t "$TOP/build/initramfs/"*.cpio | tail -n +5 | xargs -r rm -f
	find "$TOP/build/initramfs" -maxdepth 1 -name 'tmp.*' -mmin +60 -exec rm -rf {} +
	rm -rf "$root"
	mkdir -m 0755 "$root"
fi

# this boot's own: the command, the modules to load, the extra files
mkdir -p "$root/heapstat"
for a in "${adds[@]}"; do
	host=${a%%:*}
	guest=${a#*:}
	[ "$guest" = "$a" ] && guest=/heapstat/$(basename "$host")
	[ -e "$host" ] || die "--add: no such file: $host"
	mkdir -p "$root$(dirname "$guest")"
	cp -a "$host" "$root$guest"
	# a program: the shared libraries it needs too
	[ -f "$host" ] && [ -x "$host" ] && [ "$(head -c 4 "$host")" = $'\x7fELF' ] &&
		copy_elf "$host" "$guest"
done

[ -n "$cmdfile" ] && cp "$cmdfile" "$root/heapstat/cmd"
[ -n "$loadmods" ] && echo "$loadmods" >"$root/heapstat/load"

{
	cat "$tmp/base.cpio"
	(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet)
} >"$out"
