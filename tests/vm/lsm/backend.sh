#!/bin/sh
# The BPF-LSM limit backend (bpf/limit.bpf.c, tools/lib/lsm_limit.c) against
# upstream's system heap, which charges nobody here (dma_heap.mem_accounting
# off): limits hold to the byte, hierarchically, under races, and outlive
# the process that set them (a length changed under the ioctl: toctou.sh).
# Run by tests/boot/lsm_limit.sh, in a boot of its own:
#   scripts/vm --load system_heap -- sh /heapstat/tests/vm/lsm/backend.sh
. "$(dirname "$0")/common.sh"
[ ! -e $P/limit ] || fail "setup" "limits pinned before the test"
for c in seed a b p p/c m m/child r sp rg; do mkdir -p $S/$c; done

# seeding: a buffer from before the first limit charges its first holder's
# cgroup; one held in the root cgroup nobody (the root has no limit)
hold /seed 1M 2 seed; seed=$held
hold "" 1M 1 rootheld; rootheld=$held
out=$(lsm_limit set /seed system 4M)
check "the first limit loads and pins the programs" '[ "$out" = created ] && [ -e $P/limit/link_file_ioctl ]' "'$out'"
mode=$(stat -c %a $P)/$(stat -c %a $P/limit)
check "the pin directories are 0700" '[ "$mode" = 700/700 ]' "$mode"
st=$(lsm_limit stats)
check "buffers from before charge their holder's cgroup, the root's nobody" \
	'[ "$(usage /seed)" = 2097152 ] && [ "$(echo "$st" | field seeded)" = 2 ]' "usage $(usage /seed), $st"
kill $seed $rootheld; wait $seed $rootheld
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

# a buffer whose slot (inode % 32768) a live one holds: charged and
# uncharged through the hash. Inodes count up: 3 x 32768 allocations and
# frees pass the held buffer's slot three times. On the debug kernel they
# take about ten minutes: the check waits for them, and the first holder
# must still hold its buffer then.
lsm_limit set /sp system 1M >/dev/null
hold /sp 4K 1 sp1; sp1=$held
sh -c "echo \$\$ >$S/sp/cgroup.procs; exec dmabuf_alloc -s 4K -n 1 -k 98304 -R $tmp/sp2 -w 600" &
sp2=$!
wait_file $tmp/sp2 $sp2 600; ready=$?
st=$(lsm_limit stats)
kill -0 $sp1 2>/dev/null; live=$?
check "a buffer whose slot is held is charged in the hash, and uncharged" \
	'[ $ready = 0 ] && [ $live = 0 ] && [ "$(echo "$st" | field spills)" -gt 0 ] && [ "$(usage /sp)" = 8192 ]' \
	"ready $ready, first holder live $live, usage $(usage /sp), $st"
kill $sp1 $sp2; wait $sp1 $sp2
check "usage returns to 0 after the spill" 'usage_is /sp 0' "usage $(usage /sp)"

# the refusal ring full: every refusal counted in its cell, the events it had
# no room for (about 2,000 fit) counted as dropped: kept + dropped = refused
lsm_limit set /rg system 4K >/dev/null
hold /rg 4K 1 rg; rg=$held
lsm_limit events >/dev/null
d0=$(lsm_limit stats | field dropped)
out=$(sh -c "echo \$\$ >$S/rg/cgroup.procs; exec lsm_limit try system 4K 3000")
kept=$(lsm_limit events | grep -c .)
d1=$(lsm_limit stats | field dropped)
check "the refusal ring full: kept + dropped = refused, every one counted in its cell" \
	'[ "$(echo "$out" | field refused)" = 3000 ] && [ $((d1 - d0)) -gt 0 ] && [ $((kept + d1 - d0)) = 3000 ] && [ "$(lsm_limit get /rg system | field refusals)" = 3000 ]' \
	"$out; kept $kept, dropped $((d1 - d0)); $(lsm_limit get /rg system)"
heapstat limit events >/dev/null 2>$tmp/e
check "limit events says refusals were dropped" \
	'grep -q "bpf-lsm refusal events were dropped since the first limit (no room in the ring)" $tmp/e' \
	"$(cat $tmp/e)"
kill $rg; wait $rg

# 8 threads in 2 processes against one limit never pass it
lsm_limit set /r system 1M >/dev/null
rm -f /dev/shm/lsm_race
racers=
for i in 1 2; do
	sh -c "echo \$\$ >$S/r/cgroup.procs; LSM_LIMIT_SHARED=/dev/shm/lsm_race exec lsm_limit race system 64K 4 3 /r" >$tmp/race$i &
	racers="$racers $!"
done
wait $racers
r1=$(cat $tmp/race1) r2=$(cat $tmp/race2)
max=$(echo "$r1" | field max_held) peak1=$(echo "$r1" | field peak) peak2=$(echo "$r2" | field peak)
refused=$(( $(echo "$r1" | field refused) + $(echo "$r2" | field refused) ))
check "racing threads never hold more than the limit" \
	'[ "$max" -le 1048576 ] && [ "$max" -ge 524288 ] && [ $refused -gt 0 ]' "$r1 / $r2"
check "the usage never passes the limit" '[ "$peak1" -le 1048576 ] && [ "$peak2" -le 1048576 ]' "$r1 / $r2"
check "usage returns to 0 after the race" 'usage_is /r 0' "usage $(usage /r)"

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
for c in seed a m r sp rg; do lsm_limit clear /$c system; done
out=$(lsm_limit clear /p system)
check "the last clear unpins everything" '[ "$out" = unpinned ] && [ ! -e $P/limit ]' "'$out', $(ls $P 2>&1)"
alloc /a 2M 1; rc=$?
check "without limits nothing is refused" '[ $rc = 0 ]' "exit $rc: $(cat $tmp/err)"

# the programs attached amid churn (a buffer every 2 ms), 30 ms before each
# (a test's knob): the buffer's end is hooked first and the ioctl's check
# last, so no buffer is charged whose release goes unseen, and nothing
# stays charged once the churn ends; nor is an allocation armed whose export
# goes unseen (stale: 36 with the ioctl's hook first)
mkdir -p $S/ach
sh -c "echo \$\$ >$S/ach/cgroup.procs; exec dmabuf_alloc -s 4K -n 8 --churn 60 -p 2" 2>$tmp/err &
cpid=$!
HEAPSTAT_TEST_ATTACH_PAUSE_MS=30 lsm_limit set /ach system 1G >/dev/null
sleep 0.2
kill $cpid
wait $cpid
usage_is /ach 0
st=$(lsm_limit stats)
check "limits set amid churn: nothing charged once it ends, no allocation armed unseen" \
	'[ "$(usage /ach)" = 0 ] && [ "$(echo "$st" | field stale)" = 0 ]' "$(usage /ach) bytes: $st"
out=$(lsm_limit clear /ach system)
rmdir $S/ach

# usage cells full (HEAPSTAT_TEST_LIMIT_CELLS=2, a test's knob: 65536
# cgroups x heaps fill it otherwise): an allocation that needs a third cell
# is refused (limits fail closed) and said as such; the others go on
for c in f1 f2 f3; do mkdir -p $S/$c; done
HEAPSTAT_TEST_LIMIT_CELLS=2 lsm_limit set /f1 system 1M >/dev/null
alloc /f1 4K 1; rc1=$?
alloc /f2 4K 1; rc2=$?
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat record -o $tmp/full.rec >/dev/null 2>$tmp/full.err &
rp=$!
wait_ready $rs $rp
alloc /f3 4K 1; rc3=$?
kill -INT $rp
wait $rp
rrc=$?
st=$(lsm_limit stats)
heapstat limit events -j >$tmp/o
heapstat analyze -j $tmp/full.rec >$tmp/full.json 2>>$tmp/full.err
check "usage cells full: the third cgroup's allocation is refused, counted" \
	'[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 1 ] && grep -q "Resource temporarily unavailable" $tmp/err && [ "$(echo "$st" | field full)" = 1 ]' \
	"exit $rc1 $rc2 $rc3: $st"
check "limit events: refused for no room, its usage and limit unknown" \
	'[ "$(grep -c . $tmp/o)" = 1 ] && jq_true ".limit_cgroup == \"/f3\" and .when == \"full\" and .usage_bytes == null and .limit_bytes == null" $tmp/o' \
	"$(cat $tmp/o)"
check "record: the refusal for no room as limit events says it, usage and limit unknown" \
	'[ $rrc = 0 ] && jq_true "[.limit_refusals[] | [.limit_cgroup, .usage_bytes, .limit_bytes, .backend]] == [[\"/f3\", null, null, \"bpf-lsm\"]]" $tmp/full.json' \
	"exit $rrc: $(jq -c .limit_refusals $tmp/full.json) $(cat $tmp/full.err)"
# a refusal is a hit where it is enacted, at the file's allocation: an export
# refused there (no room for /f3's cell) that failed before its file for
# another reason (past fs.file-max, for a task without CAP_SYS_ADMIN:
# ENFILE) was refused by no limit, and is neither counted nor told
sh -c "echo \$\$ >$S/f3/cgroup.procs; exec dmabuf_alloc -s 4K --drop-admin" 2>$tmp/err &
apid=$!
wait_while "[ \"\$(sed -n 's/.*) \(.\).*/\1/p' /proc/$apid/stat 2>/dev/null)\" != T ] && kill -0 $apid"
fmax=$(cat /proc/sys/fs/file-max)
echo 1 >/proc/sys/fs/file-max
kill -CONT $apid
wait $apid; rc=$?
echo $fmax >/proc/sys/fs/file-max
st=$(lsm_limit stats)
heapstat limit events -j >$tmp/o 2>&1; erc=$?
check "an export refused for no room that failed before its file (ENFILE) is no refusal" \
	'[ $rc = 1 ] && grep -q "Too many open files in system" $tmp/err && [ "$(echo "$st" | field full)" = 1 ] && [ $erc = 0 ] && [ ! -s $tmp/o ]' \
	"exit $rc: $(cat $tmp/err) $st; limit events: exit $erc: $(cat $tmp/o)"
# a cgroup gone, its cell idle: freed at the next limit set, and taken again
rmdir $S/f2
lsm_limit set /f1 system 1M >/dev/null
alloc /f3 4K 1; rc3=$?
check "a gone cgroup's idle cell freed by the next set and taken again" \
	'[ $rc3 = 0 ] && [ "$(lsm_limit stats | field full)" = 1 ] && [ "$(usage /f1)" = 0 ]' \
	"exit $rc3: $(cat $tmp/err) $(lsm_limit stats)"
# a level refusing at the export gives back what the levels above it reserved
# there: /f1 reserves, its child /f1/d finds no room for its cell
mkdir -p $S/f1/d
alloc /f1/d 4K 1; rc=$?
check "a level refusing gives back the levels above it" \
	'[ $rc = 1 ] && [ "$(usage /f1)" = 0 ] && [ "$(lsm_limit stats | field full)" = 2 ]' \
	"exit $rc: $(cat $tmp/err) usage $(usage /f1) $(lsm_limit stats)"
lsm_limit clear /f1 system >/dev/null
# the last clear returns with the programs detached: nothing refused at once
# (they were detached by a worker, a moment later: /f1/d refused for no cell)
alloc /f1/d 4K 1; rc=$?
check "the last clear returns with the programs detached" '[ $rc = 0 ]' "exit $rc: $(cat $tmp/err)"

# buffers from before with no room for their charges (the charges' slots
# and hash made one entry each: HEAPSTAT_TEST_LIMIT_SLOTS and _SPILL, a
# test's knobs) are charged all the same, as untracked, and stay charged
# after their release, as an export's would: limits hold. Unless they are
# gone by the seeding's second inventory: no release can take an untracked
# charge back, the seeding does. HEAPSTAT_TEST_SEED_PAUSE, a test's knob,
# pauses the seeding before each inventory: before the first, /sx's three
# exports (after the attach) take the slot, the hash's entry, and no room;
# before the second /sg's holder is killed
mkdir -p $S/sd $S/sg $S/sx
hold /sd 4K 3 sd; sd=$held
hold /sg 4K 3 sg; sg=$held
HEAPSTAT_TEST_LIMIT_SLOTS=1 HEAPSTAT_TEST_LIMIT_SPILL=1 HEAPSTAT_TEST_SEED_PAUSE=$tmp/pause \
	lsm_limit set /sd system 1M >$tmp/o &
setp=$!
wait_file $tmp/pause $setp	# (the pins are locked meanwhile: nothing reads them)
hold /sx 4K 3 sx; sx=$held
rm -f $tmp/pause
wait_file $tmp/pause $setp
kill $sg; wait $sg
rm -f $tmp/pause
wait $setp
st=$(lsm_limit stats)
check "buffers from before with no room for their charges are charged all the same" \
	'[ "$(cat $tmp/o)" = created ] && [ "$(usage /sd)" = 12288 ] && [ "$(echo "$st" | field untracked)" = 4 ] &&
	 [ "$(echo "$st" | field spills)" = 1 ]' \
	"'$(cat $tmp/o)', usage $(usage /sd), $st"
check "buffers gone before the seeding's second inventory: every charge taken back, untracked too" \
	'usage_is /sg 0' "usage $(usage /sg), $st"
check "exports between the attach and the seeding, one with no room, are charged once" \
	'[ "$(usage /sx)" = 12288 ]' "usage $(usage /sx), $st"
kill $sd $sx; wait $sd $sx
check "the untracked stay charged after their release, the rest not" \
	'usage_is /sx 4096 && usage_is /sd 12288' "usage $(usage /sd) $(usage /sx), $st"
lsm_limit clear /sd system >/dev/null

# a buffer from before whose charge found no cell for one of its levels
# (HEAPSTAT_TEST_LIMIT_CELLS=2): /wx's, seeded first (the lower inode), takes
# a cell, /wq/r's then /wq's and none at /wq/r. /wx gone and its cell freed
# by the next set, an allocation in /wq/r makes /wq/r's cell: the seeded
# buffer's release takes nothing from it, the level it never charged (it
# wrapped: 4 KiB less 1 MiB)
mkdir -p $S/wx $S/wq/r
hold /wx 1M 1 wx; wx=$held
hold /wq/r 1M 1 wq; wq=$held
HEAPSTAT_TEST_LIMIT_CELLS=2 lsm_limit set /wq system 8M >/dev/null
u0="$(usage /wx) $(usage /wq) $(usage /wq/r)"
kill $wx; wait $wx
usage_is /wx 0
rmdir $S/wx
lsm_limit set /wq system 8M >/dev/null
hold /wq/r 4K 1 wq2; wq2=$held
u1="$(usage /wq) $(usage /wq/r)"
kill $wq; wait $wq
check "a level a seed found no cell for is not uncharged at the release" \
	'[ "$u0" = "1048576 1048576 0" ] && [ "$u1" = "1052672 4096" ] && usage_is /wq 4096 && usage_is /wq/r 4096' \
	"seeded $u0, then $u1, then $(usage /wq) $(usage /wq/r): $(lsm_limit stats)"
kill $wq2; wait $wq2
check "and nothing is left charged" 'usage_is /wq 0 && usage_is /wq/r 0' "$(usage /wq) $(usage /wq/r)"
lsm_limit clear /wq system >/dev/null

# a heap whose buffers carry another exporter name than the heap's, as
# upstream's TEE heap's ("tee", its module's name): tests/kmod's modname heap,
# loaded by tests/boot/lsm_limit.sh on the reference kernel (7.x), where it
# is built. Its exports are the heap's while the ioctl lasts, and only then:
# an allocation the heap refused before exporting (--fail: EINVAL) leaves the
# thread armed, and a vgem buffer it exports next is not the heap's (charged
# to it, 64 KiB would pass a 32 KiB limit and be refused).
if [ -e /dev/dma_heap/modname ]; then
	mkdir -p $S/mn
	lsm_limit set /mn modname 1M >/dev/null
	sh -c "echo \$\$ >$S/mn/cgroup.procs; exec dmabuf_alloc -H modname -s 256K -n 4 -R $tmp/mn -w 3600" &
	mn=$!
	wait_file $tmp/mn $mn
	u=$(usage /mn modname)
	sh -c "echo \$\$ >$S/mn/cgroup.procs; exec dmabuf_alloc -H modname -s 4K" 2>$tmp/err
	rc=$?
	check "a heap whose buffers carry another exporter name: charged to the byte, the next page refused" \
		'[ "$u" = 1048576 ] && [ $rc = 1 ] && grep -q "Resource temporarily unavailable" $tmp/err' \
		"usage $u, exit $rc: $(cat $tmp/err)"
	kill $mn; wait $mn
	check "... and uncharged at their end" 'usage_is /mn 0 modname' "usage $(usage /mn modname)"
	lsm_limit set /mn modname 32K >/dev/null
	sh -c "echo \$\$ >$S/mn/cgroup.procs; exec dmabuf_alloc -H modname -s 4K --fail 1 -n 0 -V" 2>$tmp/err
	rc=$?
	check "... another exporter's buffer after an allocation that failed is not the heap's" \
		'[ $rc = 0 ] && usage_is /mn 0 modname' "exit $rc, usage $(usage /mn modname): $(cat $tmp/err)"
	lsm_limit clear /mn modname >/dev/null
	rmdir $S/mn
else
	case $(uname -r) in
	6.*) ;;
	*) fail "the modname heap" "not loaded (scripts/vm --load heapstat_modname_heap)" ;;
	esac
fi

# a cgroup removed frees its idle cells as it goes (fexit/cgroup_rmdir), not
# only at the next set: with two cells, twenty cgroups made under /ch, each
# allocating once and removed, take /ch's and one more in turn: none refused
mkdir -p $S/ch
HEAPSTAT_TEST_LIMIT_CELLS=2 lsm_limit set /ch system 1M >/dev/null
rcs=
for i in $(seq 20); do
	mkdir $S/ch/c$i
	alloc /ch/c$i 4K 1
	rcs="$rcs$?"
	rmdir $S/ch/c$i
done
st=$(lsm_limit stats)
check "removed cgroups' idle cells freed as they go" \
	'[ "$rcs" = 00000000000000000000 ] && [ "$(echo "$st" | field full)" = 0 ] && [ "$(usage /ch)" = 0 ]' \
	"exits $rcs: $(cat $tmp/err) $st"
# but not one that counted a refusal (its row shows it, a counter must not
# go down): kept, the next cgroup finds no cell, until the next set frees it
# (its limit cleared first: the helper's set drops no removed cgroup's)
mkdir $S/ch/r
lsm_limit set /ch/r system 4K >/dev/null
alloc /ch/r 8K 1; rc1=$?
lsm_limit clear /ch/r system >/dev/null
rmdir $S/ch/r
mkdir $S/ch/s
alloc /ch/s 4K 1; rc2=$?
lsm_limit set /ch system 1M >/dev/null
alloc /ch/s 4K 1; rc3=$?
rmdir $S/ch/s
check "a removed cgroup's cell that counted a refusal kept until the next set" \
	'[ $rc1$rc2$rc3 = 110 ]' "exits $rc1 $rc2 $rc3: $(lsm_limit stats)"
out=$(lsm_limit clear /ch system)
check "the last clear unpins everything, again" '[ "$out" = unpinned ] && [ ! -e $P/limit ]' "'$out', $(ls $P 2>&1)"

# a cell's home is its tag times a multiplier drawn as the programs load
# (limit.h: limit_home()): cgroups made (and removed) until eight have ids
# whose cells would crowd /cv's probe window under a multiplier known
# beforehand (the one this was before) fill nothing of /cv's. With 64 cells
# (the test's knob), about one id in 64 fits: /cv's first allocation was
# refused (full) with that multiplier.
mkdir -p $S/cv $S/cx
HEAPSTAT_TEST_LIMIT_CELLS=64 lsm_limit set /cx system 1G >/dev/null
known=11400714819323198485	# 0x9e3779b97f4a7c15
want=$(lsm_limit home /cv system $known 64)
n=0 i=0
while [ $n -lt 8 ] && [ $i -lt 4000 ]; do
	i=$((i + 1))
	mkdir $S/cx/a$i
	if [ "$(lsm_limit home /cx/a$i system $known 64)" = "$want" ]; then
		alloc /cx/a$i 4K 1 && n=$((n + 1))
	else
		rmdir $S/cx/a$i
	fi
done
alloc /cv 4K 1; rc=$?
check "cgroups whose ids were picked to crowd another's cell window do not" \
	'[ $n = 8 ] && [ $rc = 0 ]' "$n of 8 crowding cgroups in $i made; exit $rc: $(cat $tmp/err) $(lsm_limit stats)"
lsm_limit clear /cx system >/dev/null
for c in $S/cx/a*; do rmdir $c; done

for c in m/child m p/c p r sp rg b a seed f1/d f1 f2 f3 sd sg sx wq/r wq ch cx cv; do rmdir $S/$c 2>/dev/null; done
rm -rf "$tmp" /dev/shm/lsm_race
echo "lsm_limit: $npass passed, $nfail failed"
exit 0
