#!/bin/sh
# The bpf-lsm limit where the kernel skips tracing programs: booted on the
# preemptible flavour (tests/matrix/lsm_preempt.sh: full preemption and
# preemptible RCU, as the distributions build), an RT thread preempting an
# allocating one on its CPU (preempt_alloc) now and then lands inside one of
# the limit's tracing programs, which the kernel then skips for the other
# (their recursion_misses). A skipped export entry or refusal is charged at
# the export's exit; what an export whose exit was skipped reserved is given
# back at the thread's next allocation or its end, that buffer charged
# nowhere. So while the threads hold buffers, usage is what they hold less
# at most one buffer a skipped exit, never more; once they are gone, nothing
# stays charged; and limit show says how many calls were skipped.
. "$(dirname "$0")/common.sh"
secs=${PREEMPT_SECS:-5}
mkdir -p $S/pre
heapstat limit set /pre system 1G 2>$tmp/e ||
	fail "limit set /pre system 1G" "$(cat $tmp/e)"

# each thread keeps its last 256 buffers (the fds of both under 1024)
sh -c "echo \$\$ >$S/pre/cgroup.procs; exec preempt_alloc $secs 256" >$tmp/h &
hp=$!
wait_while "! grep -q '^holding' $tmp/h && kill -0 $hp 2>/dev/null"
n=$(sed -n 's/^allocations //p' $tmp/h)
held=$(( $(sed -n 's/^holding //p' $tmp/h | grep . || echo -1) * 4096 ))
ex=$(lsm_limit misses dma_buf_export_exit)
sk=$(lsm_limit stats | field skipped)
usage_is /pre $held	# (a buffer freed is released at its task's last fput)
u=$(usage /pre)
check "an RT thread preempting an allocating one: the kernel skipped the limit's programs" \
	'[ -n "$n" ] && [ "${sk:-0}" -gt 0 ]' "$n allocations, $sk calls skipped"
# (a loose lower bound: the exits skipped are counted over the whole run)
check "$n allocations, $sk calls skipped ($ex exits): usage $u while $held bytes are held, never more, less at most a buffer a skipped exit" \
	'[ -n "$u" ] && [ $held -ge 0 ] && [ "$u" -le $held ] && [ "$u" -ge $((held - ex * 4096)) ]' \
	"$(lsm_limit stats)"
kill $hp 2>/dev/null
wait $hp 2>/dev/null

# each frees every buffer at once
n=$(sh -c "echo \$\$ >$S/pre/cgroup.procs; exec preempt_alloc $secs" | sed -n 's/^allocations //p')
sk=$(lsm_limit stats | field skipped)
ex=$(lsm_limit misses dma_buf_export_exit)
usage_is /pre 0
left=$(usage /pre)
check "$n allocations and frees more, $sk calls skipped in all ($ex exits): nothing left charged once the threads are gone" \
	'[ "$left" = 0 ]' "$left bytes; $(lsm_limit stats)"
sk=$(lsm_limit stats | field skipped)
heapstat limit show /pre >/dev/null 2>$tmp/e
check "limit show says how many calls the kernel skipped" \
	'grep -q "skipped the bpf-lsm limits. programs $sk times" $tmp/e' "$(cat $tmp/e)"
heapstat limit clear /pre 2>$tmp/e || fail "limit clear /pre" "$(cat $tmp/e)"
rmdir $S/pre
rm -rf $tmp
