#!/bin/sh
# The collector loaded as a light skeleton (its loader made at run time and
# run in user space, tools/lib/light_load.c) is what libbpf's own load makes
# (HEAPSTAT_TEST_LIBBPF=1): the same programs and maps (collector_same), and
# the same counts traced.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
pass() { echo "PASS: collector_load: $1"; }
fail() { echo "FAIL: collector_load: $1: $2"; }
[ -e /dev/dma_heap/system ] || { echo "SKIP: collector_load: no system heap"; exit 0; }
mkdir -p $S/cload

out=$(collector_same 2>&1)
[ $? = 0 ] && pass "the same programs and maps either way ($out)" || fail "the same programs and maps either way" "$out"

# $1: the environment of the run, traced into $tmp/$2.*: three 64K
# system-heap buffers allocated and freed
run() {
	rs=$(ready_socket)
	env $1 NOTIFY_SOCKET=$rs heapstat -v report -j -d 120 >"$tmp/$2.json" 2>"$tmp/$2.err" &
	pid=$!
	wait_ready $rs $pid
	sh -c "echo \$\$ >$S/cload/cgroup.procs; exec dmabuf_alloc -H system -s 64K -n 3"
	kill -INT $pid
	wait $pid
	echo $?
}

rc1=$(run "" light)
rc2=$(run HEAPSTAT_TEST_LIBBPF=1 libbpf)
by() { sed -n 's/^heapstat report: collector loaded by //p' "$tmp/$1.err"; }
[ "$(by light)" = "its loader run in user space" ] && [ "$(by libbpf)" = libbpf ] &&
	pass "loaded by its loader in user space, and by libbpf when asked" ||
	fail "loaded by its loader in user space, and by libbpf when asked" \
		"'$(by light)', '$(by libbpf)'"
act() {
	jq -M -c '.activity[] | select(.cgroup == "/cload" and .heap == "system")
		| [.allocs, .alloc_bytes, .exports, .frees, .free_bytes]' "$tmp/$1.json"
}
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ "$(act light)" = "[3,196608,3,3,196608]" ] &&
	[ "$(act libbpf)" = "$(act light)" ] &&
	pass "the same counts traced either way" ||
	fail "the same counts traced either way" "exit $rc1/$rc2: $(act light) $(act libbpf)"
rmdir $S/cload
rm -rf "$tmp"
