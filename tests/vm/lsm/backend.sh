#!/bin/sh
# The BPF-LSM limit backend (bpf/limit.bpf.c, tools/lib/lsm_limit.c) against
# upstream's system heap, which charges nobody here (dma_heap.mem_accounting
# off): limits hold to the byte, hierarchically, under races and a length
# changed under the ioctl, and outlive the process that set them.
# Run by tests/boot/lsm_limit.sh, in a boot of its own:
#   scripts/vm --load system_heap -- sh /heapstat/tests/vm/lsm/backend.sh
. "$(dirname "$0")/../../lib.sh"
S=/sys/fs/cgroup
P=/sys/fs/bpf/heapstat
tmp=$(mktemp -d)
npass=0 nfail=0
pass() { echo "PASS: lsm_limit: $1"; npass=$((npass + 1)); }
fail() { echo "FAIL: lsm_limit: $1: $2"; nfail=$((nfail + 1)); }
check() { if eval "$2"; then pass "$1"; else fail "$1" "$3"; fi; }
skip() { echo "SKIP: lsm_limit: $1"; exit 0; }
id_of() { stat -c %i $S$1; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p"; }
usage() { lsm_limit get $1 system | field usage; }
# wait_file FILE PID: until FILE exists or PID is gone (30 s at most)
wait_file() {
	_i=0
	while [ ! -e "$1" ] && kill -0 $2 2>/dev/null && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -e "$1" ]
}
# hold CGROUP SIZE N NAME: dmabuf_alloc in CGROUP holding N buffers; its pid in $held
hold() {
	sh -c "echo \$\$ >$S$1/cgroup.procs; exec dmabuf_alloc -s $2 -n $3 -R $tmp/$4 -w 600" &
	held=$!
	wait_file $tmp/$4 $held
}
# alloc CGROUP SIZE N: allocate and exit; dmabuf_alloc's message in $tmp/err, its pid in $apid
alloc() {
	sh -c "echo \$\$ >$S$1/cgroup.procs; exec dmabuf_alloc -s $2 -n $3" 2>$tmp/err &
	apid=$!
	wait $apid
}
# usage_is CGROUP BYTES: within 5 s (a release is deferred to the exiting task's last fput)
usage_is() {
	_i=0
	while [ "$(usage $1)" != "$2" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ "$(usage $1)" = "$2" ]
}

[ -e /dev/dma_heap/system ] || skip "no system heap (scripts/vm --load system_heap)"
[ "$(cat /sys/module/dma_heap/parameters/mem_accounting 2>/dev/null)" = N ] ||
	skip "dma_heap.mem_accounting is on: the system heap charges memcg"
# the BPF LSM is active: securityfs's list says so, else the boot (the
# reference kernel has no securityfs)
if [ -e /sys/kernel/security/lsm ]; then
	grep -q '\bbpf\b' /sys/kernel/security/lsm || skip "no BPF LSM ($(cat /sys/kernel/security/lsm))"
else
	dmesg | grep -q 'LSM support for eBPF active' || skip "no BPF LSM (not in CONFIG_LSM or lsm=)"
fi
[ ! -e $P/limit ] || fail "setup" "limits pinned before the test"
for c in seed a b p p/c m m/child r t; do mkdir -p $S/$c; done

# seeding: a buffer from before the first limit charges its first holder's cgroup
hold /seed 1M 2 seed; seed=$held
out=$(lsm_limit set /seed system 4M)
check "the first limit loads and pins the programs" '[ "$out" = created ] && [ -e $P/limit/link_file_ioctl ]' "'$out'"
mode=$(stat -c %a $P)/$(stat -c %a $P/limit)
check "the pin directories are 0700" '[ "$mode" = 700/700 ]' "$mode"
st=$(lsm_limit stats)
check "buffers from before charge their holder's cgroup" \
	'[ "$(usage /seed)" = 2097152 ] && [ "$(echo "$st" | field seeded)" = 2 ]' "usage $(usage /seed), $st"
kill $seed; wait $seed
check "a seeded buffer's release uncharges it" 'usage_is /seed 0' "usage $(usage /seed)"

# exactly the limit, then a page more is refused and charges nothing
lsm_limit set /a system 1M >/dev/null
hold /a 4K 256 a; a=$held
check "allocations adding up to the limit succeed" '[ "$(usage /a)" = 1048576 ]' "usage $(usage /a)"
alloc /a 4K 1; rc=$?
check "the next page is refused with EAGAIN" \
	'[ $rc = 1 ] && grep -q "Resource temporarily unavailable" $tmp/err' "exit $rc: $(cat $tmp/err)"
out=$(lsm_limit get /a system)
check "a refusal charges nothing and counts" \
	'[ "$(echo "$out" | field usage)" = 1048576 ] && [ "$(echo "$out" | field refusals)" = 1 ]' "$out"
ev=$(lsm_limit events)
want="event pid=$apid tgid=$apid comm=dmabuf_alloc cgroup=$(id_of /a) bound=$(id_of /a) heap=system requested=4096 usage=1048576 limit=1048576 when=ioctl"
check "the refusal is an event with who, where, how much and whose limit" '[ "$ev" = "$want" ]' "'$ev', want '$want'"
alloc /b 2M 1; rc=$?
check "a sibling is unaffected" '[ $rc = 0 ]' "exit $rc: $(cat $tmp/err)"
kill $a; wait $a
check "usage returns to 0 after the process exits" 'usage_is /a 0' "usage $(usage /a)"
hold /a 4K 256 a9; a=$held
kill -9 $a; wait $a 2>/dev/null
check "usage returns to 0 after kill -9" 'usage_is /a 0' "usage $(usage /a)"
alloc /a 1M 1; rc=$?
check "after the frees the limit's bytes are there again" '[ $rc = 0 ]' "exit $rc: $(cat $tmp/err)"

# hierarchy: a parent's limit binds its child
lsm_limit set /p system 1M >/dev/null
hold /p/c 1M 1 pc; pc=$held
lsm_limit events >/dev/null
alloc /p/c 4K 1; rc=$?
ev=$(lsm_limit events)
check "a parent's limit binds its child" \
	'[ $rc = 1 ] && [ "$(echo "$ev" | field bound)" = $(id_of /p) ] && [ "$(echo "$ev" | field cgroup)" = $(id_of /p/c) ]' \
	"exit $rc: $ev"
check "the child's allocation counts at both levels" \
	'[ "$(usage /p)" = 1048576 ] && [ "$(usage /p/c)" = 1048576 ]' "usage $(usage /p) $(usage /p/c)"
kill $pc; wait $pc

# moving into a child does not escape
lsm_limit set /m system 1M >/dev/null
hold /m 512K 1 m; m=$held
echo $m >$S/m/child/cgroup.procs
alloc /m/child 768K 1; rc=$?
check "moving into a child stays under the parent's limit" '[ $rc = 1 ]' "exit $rc"
alloc /m/child 512K 1; rc=$?
check "the moved process's charge stays where it was made" \
	'[ $rc = 0 ] && [ "$(usage /m)" = 524288 ] && [ "$(usage /m/child)" = 0 ]' \
	"exit $rc, usage $(usage /m) $(usage /m/child)"
kill $m; wait $m

# 8 threads in 2 processes against one limit never pass it
lsm_limit set /r system 1M >/dev/null
rm -f /dev/shm/lsm_race
for i in 1 2; do
	sh -c "echo \$\$ >$S/r/cgroup.procs; LSM_LIMIT_SHARED=/dev/shm/lsm_race exec lsm_limit race system 64K 4 3 /r" >$tmp/race$i &
done
wait
r1=$(cat $tmp/race1) r2=$(cat $tmp/race2)
max=$(echo "$r1" | field max_held) peak1=$(echo "$r1" | field peak) peak2=$(echo "$r2" | field peak)
refused=$(( $(echo "$r1" | field refused) + $(echo "$r2" | field refused) ))
check "racing threads never hold more than the limit" \
	'[ "$max" -le 1048576 ] && [ "$max" -ge 524288 ] && [ $refused -gt 0 ]' "$r1 / $r2"
check "the usage never passes the limit" '[ "$peak1" -le 1048576 ] && [ "$peak2" -le 1048576 ]' "$r1 / $r2"
check "usage returns to 0 after the race" 'usage_is /r 0' "usage $(usage /r)"

# a length changed between the hook's read and the kernel's: refused at the export
lsm_limit set /t system 1M >/dev/null
lsm_limit events >/dev/null
out=$(sh -c "echo \$\$ >$S/t/cgroup.procs; exec lsm_limit toctou system 4K 2M 4 /t")
late=$(lsm_limit events | grep -c 'when=export')
st=$(lsm_limit stats)
check "a length raised after the check never gets past the limit" \
	'[ "$(echo "$out" | field big)" = 0 ] && [ "$(echo "$out" | field max_held)" -le 1048576 ] && [ "$(echo "$out" | field peak)" -le 1048576 ] && [ "$(echo "$st" | field overshoot)" = 0 ]' \
	"$out; $st"
echo "lsm_limit: toctou: $out; $late refused at the export; $(echo "$st" | field unread) lengths read as 0"
check "usage returns to 0 after the length race" 'usage_is /t 0' "usage $(usage /t)"

# not root: the pins cannot be reached, so no limit can be read, raised or cleared
out=$(LSM_LIMIT_UID=65534 lsm_limit get /a system 2>&1); rc=$?
check "a non-root process cannot open the pins" '[ $rc != 0 ] && echo "$out" | grep -q "Permission denied"' "exit $rc: $out"
out=$(LSM_LIMIT_UID=65534 lsm_limit clear /a system 2>&1); rc=$?
check "a non-root process cannot clear a limit" \
	'[ $rc != 0 ] && echo "$out" | grep -q "Permission denied" && [ "$(lsm_limit get /a system | field limit)" = 1048576 ]' \
	"exit $rc: $out"
out=$(LSM_LIMIT_UID=65534 lsm_limit set /a system 2M 2>&1); rc=$?
check "a non-root process cannot raise a limit" \
	'[ $rc != 0 ] && echo "$out" | grep -q "Permission denied" && [ "$(lsm_limit get /a system | field limit)" = 1048576 ]' \
	"exit $rc: $out"

# the pins outlived every process that set them; the last clear unpins
for c in seed a m r t; do lsm_limit clear /$c system; done
out=$(lsm_limit clear /p system)
check "the last clear unpins everything" '[ "$out" = unpinned ] && [ ! -e $P/limit ]' "'$out', $(ls $P 2>&1)"
alloc /a 2M 1; rc=$?
check "without limits nothing is refused" '[ $rc = 0 ]' "exit $rc: $(cat $tmp/err)"

for c in m/child m p/c p t r b a seed; do rmdir $S/$c 2>/dev/null; done
rm -rf "$tmp" /dev/shm/lsm_race
echo "lsm_limit: $npass passed, $nfail failed"
exit 0
