#!/bin/sh
# A program of the collector's that the kernel refuses takes away what it
# traces, not the rest: heapstat says which program, why and what it goes
# without (sources.without in JSON, a line on stderr) and counts everything
# else exactly. The refusals are the verifier's own: HEAPSTAT_TEST_REFUSE
# (a test's knob) makes the programs of one feature read past their stack,
# code the verifier otherwise drops unread (bpf/collector.bpf.c). The heap
# ioctl's fsession program refused is no loss: fentry and fexit stand in.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
pass() { echo "PASS: refused: $1"; }
fail() { echo "FAIL: refused: $1: $2"; }
[ -e /dev/dma_heap/system ] && [ -e /dev/dma_heap/default_cma_region ] ||
	{ echo "SKIP: refused: no system or CMA heap"; exit 0; }
mkdir -p $S/rf

# CMA's programs refused: allocations from a CMA heap still counted
rs=$(ready_socket)
NOTIFY_SOCKET=$rs HEAPSTAT_TEST_REFUSE=cma heapstat report -j -d 600 >$tmp/json 2>$tmp/err &
rep=$!
wait_ready $rs $rep
sh -c "echo \$\$ >$S/rf/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 3"
sh -c "echo \$\$ >$S/rf/cgroup.procs; exec dmabuf_alloc -H default_cma_region -s 64K -n 2"
sleep 1
kill -INT $rep
wait $rep
rc=$?
row() { jq -M -c --arg h "$1" '[.activity[] | select(.cgroup == "/rf" and .heap == $h)][0]' $tmp/json; }
if [ $rc = 0 ] &&
	jq_true '.sources.without == [{"what": "cma", "program": "cma_alloc_start", "error": "Permission denied"}]' $tmp/json >/dev/null &&
	grep -q "refused the collector's program cma_alloc_start (Permission denied); going on without CMA allocations" $tmp/err; then
	pass "report: CMA's program refused, said in JSON and on stderr"
else
	fail "report: CMA's program refused, said in JSON and on stderr" \
		"exit $rc: $(jq -c .sources $tmp/json) $(cat $tmp/err)"
fi
if row system | jq_true '.allocs == 3 and .frees == 3 and .alloc_bytes == 12288' >/dev/null &&
	row default_cma_region | jq_true '.allocs == 2 and .frees == 2 and .alloc_bytes == 131072' >/dev/null; then
	pass "report: the rest counted exactly"
else
	fail "report: the rest counted exactly" "$(row system) $(row default_cma_region)"
fi

# the heap ioctl's fsession program refused (a kernel that names sessions
# and yet refuses this one): fentry and fexit stand in, nothing is lost, and
# only the variant says so
rm -f $tmp/json $tmp/err
rs=$(ready_socket)
NOTIFY_SOCKET=$rs HEAPSTAT_TEST_REFUSE=session heapstat report -j -d 600 >$tmp/json 2>$tmp/err &
rep=$!
wait_ready $rs $rep
sh -c "echo \$\$ >$S/rf/cgroup.procs; exec dmabuf_alloc -H system -s 4K -n 3"
sleep 1
kill -INT $rep
wait $rep
rc=$?
if [ $rc = 0 ] && [ ! -s $tmp/err ] &&
	jq_true '.sources.ioctl_variant == "fentry+fexit/dma_heap_ioctl" and .sources.without == []' \
		$tmp/json >/dev/null &&
	row system | jq_true '.allocs == 3 and .frees == 3 and .alloc_bytes == 12288' >/dev/null; then
	pass "report: the ioctl's session refused, fentry and fexit instead, counted exactly"
else
	fail "report: the ioctl's session refused, fentry and fexit instead, counted exactly" \
		"exit $rc: $(jq -c .sources $tmp/json) $(row system) $(cat $tmp/err)"
fi

# the fds' programs refused, then the holders': heaptop walks every frame
for f in fds holders; do
	prog=dma_buf_fd_raw
	[ $f = holders ] && prog=dma_buf_dynamic_attach_raw
	HEAPSTAT_TEST_REFUSE=$f heaptop -b -j -n 3 -d 0.3 >$tmp/frames 2>$tmp/terr
	rc=$?
	if [ $rc = 0 ] && [ "$(wc -l <$tmp/frames)" = 3 ] && last_line $tmp/frames |
		jq_true --arg f $f --arg p $prog '.sources.without == [{"what": $f, "program": $p, "error": "Permission denied"}] and .inventory == "untraced"' >/dev/null &&
		grep -q "program $prog (Permission denied)" $tmp/terr; then
		pass "heaptop: the $f programs refused, every frame walked, said"
	else
		fail "heaptop: the $f programs refused, every frame walked, said" \
			"exit $rc: $(last_line $tmp/frames | jq -c '[.sources, .inventory]') $(cat $tmp/terr)"
	fi
done
# the removed cgroups' program (loaded in the first interval) refused: said,
# the rest traced
HEAPSTAT_TEST_REFUSE=cgroup_names heaptop -b -j -n 3 -d 0.3 >$tmp/frames 2>$tmp/terr
rc=$?
if [ $rc = 0 ] && last_line $tmp/frames | jq_true '.sources.without == [{"what": "cgroup_names",
	"program": "cgroup_names_rmdir", "error": "Permission denied"}] and .inventory != "untraced"' \
	>/dev/null && [ "$(grep -c 'program cgroup_names_rmdir (Permission denied)' $tmp/terr)" = 1 ]; then
	pass "heaptop: the removed cgroups' program refused, said once, the rest traced"
else
	fail "heaptop: the removed cgroups' program refused, said once, the rest traced" \
		"exit $rc: $(last_line $tmp/frames | jq -c '[.sources, .inventory]') $(cat $tmp/terr)"
fi
heaptop -b -j -n 3 -d 0.3 >$tmp/frames 2>$tmp/terr
rc=$?
if [ $rc = 0 ] && last_line $tmp/frames | jq_true '.sources.without == [] and .inventory != "untraced"' >/dev/null &&
	[ ! -s $tmp/terr ]; then
	pass "heaptop: nothing refused, nothing said, frames kept"
else
	fail "heaptop: nothing refused, nothing said, frames kept" \
		"exit $rc: $(last_line $tmp/frames | jq -c '[.sources, .inventory]') $(cat $tmp/terr)"
fi
rmdir $S/rf
rm -rf $tmp
