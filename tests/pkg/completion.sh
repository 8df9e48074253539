#!/bin/bash
# Bash completion of heapstat and heaptop, as installed (make install into a
# scratch root): bash-completion's loader finds it by the command's name, and
# simulated command lines (COMP_WORDS) complete to exactly the candidates
# expected: commands and options from heapstat's own help, views, verbs,
# heaps from the heap directory, cgroups from the cgroup2 tree (both scratch
# trees here), option values.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
pass() { echo "PASS: completion: $1"; }
fail() { echo "FAIL: completion: $1: $2"; }

[ -f /usr/share/bash-completion/bash_completion ] || {
	echo "SKIP: completion: bash-completion is not installed"
	exit 0
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! out=$(make -s install DESTDIR="$tmp/root" prefix=/usr 2>&1); then
	fail install "$out"
	exit 0
fi
mkdir -p "$tmp/heaps" "$tmp/cg/camera/sub" "$tmp/cg/gpu" "$tmp/cg/video" "$tmp/files"
touch "$tmp/heaps/system" "$tmp/heaps/default_cma_region" "$tmp/heaps/chunk-reserved"
touch "$tmp/files/run.hsrec" "$tmp/files/other.hsrec"

# one bash for every case: each line of cases is "WORDS... | EXPECTED..." (the
# last word may be empty: ''), the candidates sorted
results=$(cd "$tmp/files" && PATH="$tmp/root/usr/sbin:$PATH" \
	XDG_DATA_DIRS="$tmp/root/usr/share" bash --norc --noprofile -c '
	. /usr/share/bash-completion/bash_completion
	__load_completion heapstat && __load_completion heaptop || echo "LOAD FAILED"
	_heapstat_heap_dir='"$tmp/heaps"' _heapstat_cgroup_root='"$tmp/cg"'
	complete -p heapstat heaptop
	t() {
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
		_heapstat 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " " | sed "s/ $//"; echo
	}
	t heapstat ""
	t heapstat -
	t heapstat -v r
	t heapstat report ""
	t heapstat report --
	t heapstat report --heap ""
	t heapstat report --heap=s
	t heapstat report -c ""
	t heapstat report --cgroup=/cam
	t heapstat report --source ""
	t heapstat report -d 5 --attach k
	t heapstat report buffers ""
	t heaptop --v
	t heaptop --view ""
	t heapstat top -b --
	t heapstat limit ""
	t heapstat limit set ""
	t heapstat limit set /gpu ""
	t heapstat limit set /gpu system ""
	t heapstat limit clear /camera d
	t heapstat limit show ""
	t heapstat limit exec --set ""
	t heapstat limit exec --create --
	t heapstat limit events -
	t heapstat record -
	t heapstat record -o ""
	t heapstat analyze ""
	t heapstat analyze run.hsrec --
	t heapstat export --
	t heapstat export --listen ""
	t heapstat export --textfile ""
	t heapstat export --cgroup-depth ""
	t heapstat nosuch ""
	echo END
')
want="complete -F _heapstat heapstat
complete -F _heapstat heaptop
analyze limit record report top
--help --verbose --version -V -h -v
record report
activity buffers cgroups cma heaps processes summary
--attach --cgroup --csv --duration --heap --help --json --pid --source --usage --verbose --version
chunk-reserved default_cma_region system
system
/camera /camera/sub /gpu /video
/camera /camera/sub
auto procfs
kprobe

--verbose --version --view
buffers cgroups processes
--batch --cgroup --delay --heap --help --iterations --json --keep-removed --rescan --usage --verbose --version --view
clear events exec set show
/camera /camera/sub /gpu /video
chunk-reserved default_cma_region system

default_cma_region
/camera /camera/sub /gpu /video
chunk-reserved= default_cma_region= system=
--cgroup --create --duration --follow --help --json --memcg --set --usage --verbose --version
--cgroup --create --duration --follow --help --json --memcg --set --usage --verbose --version -V -c -d -f -h -j -v
--cgroup --duration --flight --help --output --stacks --usage --verbose --version -F -V -c -d -h -o -v
other.hsrec run.hsrec
other.hsrec run.hsrec
--fail-on --help --html --json --junit --perfetto --usage --verbose --version
--cgroup-depth --help --interval --keep-removed --listen --max-series --textfile --usage --verbose --version
0.0.0.0:9464 127.0.0.1:9464 :9464 [::1]:9464



END"
# a command that export adds is one more candidate where commands are listed
if "$tmp/root/usr/sbin/heapstat" -h | grep -q '^  export '; then
	want=${want/analyze limit record report top/analyze export limit record report top}
fi
if [ "$results" = "$want" ]; then
	pass "$(($(wc -l <<<"$want") - 3)) command lines complete to exactly the expected candidates"
else
	fail "command lines complete to exactly the expected candidates" \
		"$(diff <(echo "$want") <(echo "$results") | head -n 20)"
fi

# cgroups from where cgroup2 is mounted (/sys/fs/cgroup/unified on a hybrid host),
# not from /sys/fs/cgroup whatever it holds
cg2=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cg2" ] && mkdir "$cg2/heapstat-completion.$$"; then
	want=$(find "$cg2" -mindepth 1 -maxdepth 1 -type d -printf '/%P\n' | LC_ALL=C sort | tr '\n' ' ')
	got=$(PATH="$tmp/root/usr/sbin:$PATH" XDG_DATA_DIRS="$tmp/root/usr/share" \
		bash --norc --noprofile -c '
	. /usr/share/bash-completion/bash_completion
	__load_completion heapstat
	COMP_WORDS=(heapstat report -c ""); COMP_CWORD=3; cur=""
	COMP_LINE="heapstat report -c "; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
	_heapstat 2>/dev/null
	printf "%s\n" "${COMPREPLY[@]}" | grep "^/[^/]*$" | LC_ALL=C sort | tr "\n" " "')
	[ -n "$want" ] && [ "$got" = "$want" ] &&
		pass "-c completes the cgroups under the cgroup2 mount ($cg2)" ||
		fail "-c completes the cgroups under the cgroup2 mount ($cg2)" "got '$got' want '$want'"
	rmdir "$cg2/heapstat-completion.$$"
fi
exit 0
