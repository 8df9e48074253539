#!/bin/sh
# The length read twice: the bpf-lsm hook reads an allocation's length from
# user memory, then dma_heap_ioctl() copies it again, and a thread of the
# allocating process flips it between 4 KiB and 2 MiB in between. Under a
# 1 MiB limit no 2 MiB buffer may get through, the usage never passes the
# limit and nothing is charged past it: the export reserves the real size and
# refuses the buffer's file (bpf/limit.bpf.c). The race must have happened
# (refusals at the export), or the test proves nothing: it needs two CPUs
# running at once, so tests/boot/lsm_toctou.sh boots two under
# multi-threaded TCG.
. "$(dirname "$0")/common.sh"

[ ! -e $P/limit ] || fail "setup" "limits pinned before the test"
mkdir -p $S/t
lsm_limit set /t system 1M >/dev/null
# rounds of TOCTOU_SECS (10) until the race happened, at most 6: a host
# whose other work leaves the guest's CPUs one core between them races less
late=0 round=0 over=
while [ "$late" = 0 ] && [ $round -lt 6 ]; do
	out=$(sh -c "echo \$\$ >$S/t/cgroup.procs; exec lsm_limit toctou system 4K 2M ${TOCTOU_SECS:-10} /t")
	late=$(lsm_limit events | grep -c 'when=export')
	round=$((round + 1))
	[ "$(echo "$out" | field big)" = 0 ] && [ "$(echo "$out" | field max_held)" -le 1048576 ] &&
		[ "$(echo "$out" | field peak)" -le 1048576 ] || over="$over round $round: $out;"
	echo "lsm_limit: toctou: round $round: $out; $late refused at the export so far"
done
st=$(lsm_limit stats)
echo "lsm_limit: toctou: $(echo "$st" | field unread) lengths read as 0"
check "the length race happened (refusals at the export)" '[ "$late" -gt 0 ]' "$out; $late at the export in $round rounds"
check "a length raised after the check never gets past the limit" \
	'[ -z "$over" ] && [ "$(echo "$st" | field overshoot)" = 0 ]' "$over $st"
check "usage returns to 0 after the length race" 'usage_is /t 0' "usage $(usage /t)"
# left pinned: the boot ends here (detaching under two emulated CPUs is what
# once took a guest down: tests/boot/lsm_limit.sh)
rm -rf "$tmp"
echo "lsm_limit: $npass passed, $nfail failed"
exit 0
