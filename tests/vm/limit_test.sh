#!/bin/sh
# heapstat limit against the kernel's own files: the dmem backend at the byte
# boundary (EAGAIN, nothing charged), hierarchy, concurrent allocations under
# one limit (dmem.current sampled), limit events, memcg refused without
# --memcg, limit exec through libcgroup, show's numbers, a non-root user
# refused, bad input changing nothing. Needs scripts/vm --load-heaps.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
H=default_cma_region
M=1048576
pass() { echo "PASS: limit: $1"; }
fail() { echo "FAIL: limit: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: limit: no heap $H (scripts/vm --load-heaps)"; exit 0; }
cur() { sed -n "s|^dma-heap/$H ||p" "$S$1/dmem.current"; }	# cur CGROUP
max() { sed -n "s|^dma-heap/$H ||p" "$S$1/dmem.max"; }
peak() { sed -n "s|^dma-heap/$H ||p" "$S$1/dmem.peak"; }
alloc() {	# alloc CGROUP ARGS...: dmabuf_alloc in CGROUP, its stderr in $tmp/err
	cg=$1
	shift
	sh -c "echo \$\$ >$S$cg/cgroup.procs; exec dmabuf_alloc -H $H $*" 2>$tmp/err
}

mkdir -p $S/lim $S/lp $S/sib
echo "+dmem +memory" >$S/lp/cgroup.subtree_control
mkdir -p $S/lp/c $S/lp/c2
heapstat limit set /lim $H 1M && [ "$(max /lim)" = $M ] && pass "set writes dmem.max" ||
	fail "set writes dmem.max" "$(cat $S/lim/dmem.max)"

# exactly the limit succeeds; one page more is EAGAIN and charges nothing,
# and is a limit event: who asked, whose limit, its usage, the top holder
evp_rs=$(ready_socket) topj_rs=$(ready_socket) topb_rs=$(ready_socket)
NOTIFY_SOCKET=$evp_rs heapstat limit events -f -j -d 60 -c /lim >$tmp/ev 2>$tmp/eve &
evp=$!
NOTIFY_SOCKET=$topj_rs heaptop -j -d 0.5 -c /lim >$tmp/topj 2>&1 &
topj=$!
NOTIFY_SOCKET=$topb_rs heaptop -b -d 0.5 -c /lim >$tmp/topb 2>&1 &
topb=$!
wait_ready $evp_rs $evp	# the collectors are attached
wait_ready $topj_rs $topj
wait_ready $topb_rs $topb
# heaptop's first frames are out (seconds on the debug kernel): the hit comes after them
i=0
while { [ ! -s $tmp/topj ] || ! grep -q '^heaptop - ' $tmp/topb; } && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
sh -c "echo \$\$ >$S/lim/cgroup.procs; exec dmabuf_alloc -H $H -s 256K -n 4 -w 60 -R $tmp/r1" &
holder=$!
while [ ! -e $tmp/r1 ] && kill -0 $holder 2>/dev/null; do sleep 0.1; done
alloc /lim -s 4K
rc=$?
sleep 1
kill -INT $evp
wait $evp
evrc=$?
sleep 1
kill $topj $topb
wait $topj $topb 2>/dev/null
# heaptop: the row's HITS, and the last hit in the title
if last_line $tmp/topj | jq_true --arg h $H '(.rows[] | select(.cgroup == "/lim" and .heap == $h) |
	.limit_hits == 1) and .last_limit_hit.cgroup == "/lim" and .last_limit_hit.heap == $h and
	.last_limit_hit.limit_hits == 1' >/dev/null &&
	tail -n 40 $tmp/topb | grep -q "^heaptop - .*LIMIT HIT /lim $H [0-9]*s ago (1)\$" &&
	tail -n 40 $tmp/topb | grep -q "HITS" ; then
	pass "heaptop: the row's limit hits, the last hit in its title"
else
	fail "heaptop: the row's limit hits, the last hit in its title" "$(last_line $tmp/topj | head -c 3000; tail -n 12 $tmp/topb)"
fi
if [ $evrc = 0 ] && [ "$(wc -l <$tmp/ev)" = 1 ] && jq_true --arg h $H --argjson p $holder '
	.backend == "dmem" and .cgroup == "/lim" and .heap == $h and .requested_bytes == 4096 and
	.usage_bytes == 1048576 and .limit_bytes == 1048576 and .limit_cgroup == "/lim" and
	.comm == "dmabuf_alloc" and (.top_holders | length) == 1 and .top_holders[0].pid == $p and
	.top_holders[0].bytes == 1048576 and .top_holders[0].cgroup == "/lim"' $tmp/ev >/dev/null; then
	pass "limit events -f: the dmem refusal, its limit, usage and top holder"
else
	fail "limit events -f: the dmem refusal, its limit, usage and top holder" "exit $evrc: $(cat $tmp/ev $tmp/eve)"
fi
if [ -e $tmp/r1 ] && [ "$(cur /lim)" = $M ] && [ $rc != 0 ] &&
	grep -q 'Resource temporarily unavailable' $tmp/err; then
	pass "1 MiB in 4 buffers fits 1M; one page more: EAGAIN, nothing charged"
else
	fail "1 MiB in 4 buffers fits 1M; one page more: EAGAIN, nothing charged" \
		"ready $(ls $tmp) current $(cur /lim) rc $rc: $(cat $tmp/err)"
fi
kill -9 $holder
wait $holder 2>/dev/null
[ "$(cur /lim)" = 0 ] && pass "usage back to 0 after kill -9" || fail "usage back to 0 after kill -9" "$(cur /lim)"

# show: the limit, the usage and the headroom, and where each comes from
sh -c "echo \$\$ >$S/lim/cgroup.procs; exec dmabuf_alloc -H $H -s 256K -n 1 -w 60 -R $tmp/r2" &
holder=$!
wait_while '[ ! -e $tmp/r2 ]'
heapstat limit show /lim -j >$tmp/show
if jq_true --arg h $H '.[] | select(.cgroup == "/lim" and .heap == $h) | .backend == "dmem" and
	.limit_bytes == 1048576 and .own_limit_bytes == 1048576 and .limit_cgroup == "/lim" and
	.usage_bytes == 262144 and .headroom_bytes == 786432 and .limit_source == "dmem.max" and
	.usage_source == "dmem.current"' $tmp/show >/dev/null &&
	heapstat limit show | grep -q "^/lim .* $H .* dmem .* 1.0M /lim .* 256.0K .* 768.0K  dmem.max, dmem.current$"; then
	pass "show: limit, usage, headroom, backend and sources"
else
	fail "show: limit, usage, headroom, backend and sources" "$(cat $tmp/show; heapstat limit show)"
fi
# report and heaptop show the same limit and headroom: one model
heapstat report -j -c /lim | jq_true --arg h $H '.cgroups[0].heaps[] | select(.heap == $h) |
	.limit_bytes == 1048576 and .headroom_bytes == 786432 and .limit_cgroup == "/lim"' >/dev/null &&
	pass "report shows the same limit and headroom" ||
	fail "report shows the same limit and headroom" "$(heapstat report -j -c /lim | jq -c .cgroups)"
# below the usage: dmem keeps the limit it had, and says nothing; heapstat says so
heapstat limit set /lim $H 128K 2>$tmp/e
rc=$?
[ $rc = 1 ] && [ "$(max /lim)" = $M ] && grep -q "kept /lim's dmem.max for dma-heap/$H at 1.0M: its usage, 256.0K, is above 131072" $tmp/e &&
	pass "a limit below the usage: the kernel keeps the old one, and set fails saying so" ||
	fail "a limit below the usage: the kernel keeps the old one, and set fails saying so" \
		"exit $rc, max $(max /lim): $(cat $tmp/e)"
kill $holder
wait $holder 2>/dev/null

# a parent's limit binds its children; a sibling is free; a move into a child does not escape
heapstat limit set /lp $H 1M
sh -c "echo \$\$ >$S/lp/c/cgroup.procs; exec dmabuf_alloc -H $H -s 1M -w 60 -R $tmp/r3" &
h2=$!
wait_while '[ ! -e $tmp/r3 ]'
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat limit events -f -d 60 >$tmp/ev2 2>$tmp/eve &
evp=$!
wait_ready $rs $evp
alloc /lp/c2 -s 4K; rc1=$?
mv $tmp/err $tmp/err1
sleep 1
kill -INT $evp
wait $evp
# the table: the child asked, the parent's limit bound, the holder in the other child
grep -Eq "^[0-9:.]+ +[0-9]+ dmabuf_alloc +/lp/c2 +$H +dmem +4.0K +1.0M +1.0M +/lp +$h2:dmabuf_alloc:1.0M\$" $tmp/ev2 &&
	[ "$(wc -l <$tmp/ev2)" = 2 ] && pass "limit events: a child refused by its parent's limit, as a table" ||
	fail "limit events: a child refused by its parent's limit, as a table" "$(cat $tmp/ev2 $tmp/eve)"
alloc /sib -s 2M; rc2=$?
if [ $rc1 != 0 ] && grep -q 'Resource temporarily unavailable' $tmp/err1 && [ $rc2 = 0 ] &&
	[ "$(cur /lp)" = $M ] && [ "$(cur /lp/c2)" = 0 ]; then
	pass "a parent's limit binds both children; a sibling is free"
else
	fail "a parent's limit binds both children; a sibling is free" "rc $rc1/$rc2 /lp $(cur /lp): $(cat $tmp/err1 $tmp/err)"
fi
heapstat limit show /lp/c2 -j | jq_true --arg h $H '.[] | select(.heap == $h) | .limit_cgroup == "/lp"
	and .own_limit_bytes == null and .headroom_bytes == 0' >/dev/null &&
	pass "show: a child's limit is its parent's, with the parent's headroom" ||
	fail "show: a child's limit is its parent's, with the parent's headroom" "$(heapstat limit show /lp/c2 -j)"
kill $h2
wait $h2 2>/dev/null

# eight allocators at once against one limit: what they hold together never
# passes it, those that fit hold it all. dmem.current, sampled while they
# run, may read past the limit for a moment by what is in flight: the
# kernel's page_counter adds a charge, then takes it back when it passes
# max (page_counter_try_charge), so at most one 64K request per allocator
heapstat limit set /lim $H 1M
i=0
while [ $i -lt 8 ]; do
	(sh -c "echo \$\$ >$S/lim/cgroup.procs; exec dmabuf_alloc -H $H -s 64K -n 4 -w 120 -R $tmp/ok$i" \
		2>/dev/null || touch $tmp/no$i) &
	i=$((i + 1))
done
most=0 n=0
while [ "$(ls $tmp | grep -c '^ok\|^no')" -lt 8 ] && [ $n -lt 3000 ]; do
	c=$(cur /lim)
	[ "$c" -gt $most ] && most=$c
	n=$((n + 1))
done
ok=$(ls $tmp | grep -c '^ok')
held=$(cur /lim)
kill $(cat $S/lim/cgroup.procs) 2>/dev/null	# those that fit hold on until read
wait
[ $most -le $((M + 8 * 65536)) ] && [ $ok -ge 1 ] && [ $ok -le 4 ] && [ "$held" = $((ok * 262144)) ] &&
	[ "$(cur /lim)" = 0 ] &&
	pass "8 allocators asking 2 MiB under 1M: at most $most held, $ok fit, never over" ||
	fail "8 allocators asking 2 MiB under 1M: at most $most held, $ok fit, never over" \
		"held $held, now $(cur /lim), $n samples"

# 8 threads in 2 processes allocating and freeing against one limit: what
# they hold together (counted in shared memory) never passes it; dmem.current
# (sampled) passes it at most by the 8 requests in flight (as above)
heapstat limit set /lim $H 1M
rm -f /dev/shm/dmem_race
for i in 1 2; do
	sh -c "echo \$\$ >$S/lim/cgroup.procs; LSM_LIMIT_DMEM=1 LSM_LIMIT_SHARED=/dev/shm/dmem_race \
		exec lsm_limit race $H 64K 4 3 /lim" >$tmp/race$i &
done
wait
r="$(cat $tmp/race1) $(cat $tmp/race2)"
held=$(echo "$r" | sed -n 's/.*max_held=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
pk=$(echo "$r" | sed -n 's/.*peak=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
refused=$(echo "$r" | sed -n 's/.*refused=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[ -n "$held" ] && [ "$held" -le $M ] && [ "$held" -ge $((M / 2)) ] && [ "$pk" -le $((M + 8 * 65536)) ] &&
	[ "$refused" -gt 0 ] && [ "$(cur /lim)" = 0 ] &&
	pass "8 threads in 2 processes: never over the limit (held $held, dmem.current $pk, $refused refused)" ||
	fail "8 threads in 2 processes: never over the limit" "$r, now $(cur /lim)"
rm -f /dev/shm/dmem_race
# killed with -9 in the middle of allocating: nothing stays charged
sh -c "echo \$\$ >$S/lim/cgroup.procs; LSM_LIMIT_DMEM=1 exec lsm_limit race $H 64K 4 60 /lim" >/dev/null &
racer=$!
sleep 1
kill -9 $racer
wait $racer 2>/dev/null
i=0
while [ "$(cur /lim)" != 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cur /lim)" = 0 ] && pass "kill -9 mid-allocation: nothing stays charged" ||
	fail "kill -9 mid-allocation: nothing stays charged" "$(cur /lim)"

# clear lifts it; max and 0 are limits too
heapstat limit clear /lim && [ "$(max /lim)" = max ] && pass "clear: back to max" ||
	fail "clear: back to max" "$(max /lim)"
heapstat limit set /lim $H 0 && alloc /lim -s 4K
rc=$?
[ $rc != 0 ] && [ "$(max /lim)" = 0 ] && pass "a limit of 0 refuses every allocation" ||
	fail "a limit of 0 refuses every allocation" "rc $rc max $(max /lim)"
heapstat limit set /lim $H max && [ "$(max /lim)" = max ] && pass "set max lifts it" ||
	fail "set max lifts it" "$(max /lim)"

# bad input: a message, exit 2, nothing changed
heapstat limit set /lim $H 2M
for args in "set / $H 1M" "set /lim nosuchheap 1M" "set /nosuch $H 1M" "set /lim $H -1" "set /lim $H 1.5G" \
	"set /lim $H 18446744073709551616" "set /lim $H" "set lim $H 1M" "clear /nosuch" "frob" \
	"exec /lim" "show /nosuch" "set /lim/cgroup.procs $H 1M" "show /lim/dmem.max" \
	"exec --create --set nosuch=1M /lim/new -- true" "exec --create --set $H=x /lim/new -- true"; do
	heapstat limit $args >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && [ -s $tmp/e ] && [ "$(max /lim)" = $((2 * M)) ] && [ ! -e $S/lim/new ] &&
		pass "refuses '$args'" || fail "refuses '$args'" "exit $rc, max $(max /lim): $(cat $tmp/e)"
done
# strtoull() would skip white space and take a sign: not a size
heapstat limit set /lim $H "$(printf '\t-2')" >$tmp/o 2>$tmp/e
rc=$?
[ $rc = 2 ] && [ "$(max /lim)" = $((2 * M)) ] && pass "refuses a size of tab, -2" ||
	fail "refuses a size of tab, -2" "exit $rc, max $(max /lim): $(cat $tmp/e)"
# an empty cgroup is not "every cgroup" (clear '' cleared nothing and said
# nothing, exit 0)
empty() {
	rc=$1
	[ $rc = 2 ] && grep -q "cgroup ''" $tmp/e && [ "$(max /lim)" = $((2 * M)) ] &&
		pass "refuses an empty cgroup: $2" ||
		fail "refuses an empty cgroup: $2" "exit $rc, max $(max /lim): $(cat $tmp/e)"
}
heapstat limit clear "" >$tmp/o 2>$tmp/e; empty $? "clear ''"
heapstat limit show "" >$tmp/o 2>$tmp/e; empty $? "show ''"
heapstat limit set "" $H 1M >$tmp/o 2>$tmp/e; empty $? "set '' $H 1M"
heapstat limit events -c "" >$tmp/o 2>$tmp/e; empty $? "events -c ''"
# what the user typed comes back escaped, never raw to the terminal
heapstat limit show "$(printf '/\033]0;x\007y')" >$tmp/o 2>$tmp/e
rc=$?
[ $rc = 2 ] && ! grep -q "$(printf '\033')" $tmp/e && grep -qF '^[]0;x^Gy' $tmp/e &&
	pass "a cgroup typed with controls: an error that shows them escaped" ||
	fail "a cgroup typed with controls: an error that shows them escaped" "exit $rc: $(od -c $tmp/e | head)"

# -h: usage, examples, every verb, within 80 columns
heapstat limit -h >$tmp/h; rc=$?
[ $rc = 0 ] && grep -q '^EXAMPLES:' $tmp/h && [ "$(grep -c '^    heapstat limit ' $tmp/h)" -ge 8 ] &&
	(for v in set show clear events exec; do grep -q "heapstat limit $v" $tmp/h || exit 1; done) &&
	! awk 'length($0) > 80 { bad = 1 } END { exit !bad }' $tmp/h &&
	pass "-h: usage, examples of every verb, 80 columns" ||
	fail "-h: usage, examples of every verb, 80 columns" "exit $rc: $(cat $tmp/h)"

# the system heap under mem_accounting: memory.max, only when asked for
if [ -e /dev/dma_heap/system ] && [ "$(cat /sys/module/dma_heap/parameters/mem_accounting)" = Y ]; then
	heapstat limit set /lim system 64M 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && grep -q -- '--memcg' $tmp/e && [ "$(cat $S/lim/memory.max)" = max ] &&
		heapstat limit set /lim system 64M --memcg && [ "$(cat $S/lim/memory.max)" = 67108864 ] &&
		heapstat limit show /lim -j | jq_true '.[] | select(.heap == "system") | .backend == "memcg"
			and .all_memory and .limit_source == "memory.max"' >/dev/null &&
		heapstat limit clear /lim system --memcg && [ "$(cat $S/lim/memory.max)" = max ] &&
		pass "memcg: memory.max only with --memcg, shown as all memory" ||
		fail "memcg: memory.max only with --memcg, shown as all memory" "rc $rc: $(cat $tmp/e)"
	# exec takes --memcg for its --set, as its refusal advises
	heapstat limit exec --create --set system=64M /ci/mx -- true 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && grep -q -- '--memcg if that is meant' $tmp/e &&
		[ "$(heapstat limit exec --create --memcg --set system=64M /ci/mx -- cat $S/ci/mx/memory.max)" = 67108864 ] &&
		pass "memcg: exec --memcg --set, as the refusal without it advises" ||
		fail "memcg: exec --memcg --set, as the refusal without it advises" "rc $rc: $(cat $tmp/e)"
	# memory.max keeps whole pages (said); below one page it would be 0: refused
	heapstat limit set /lim system 1000 --memcg 2>$tmp/e1
	rc1=$?
	heapstat limit set /lim system 1000000 --memcg 2>$tmp/e2
	rc2=$?
	[ $rc1 = 2 ] && grep -q 'would be 0' $tmp/e1 && [ $rc2 = 0 ] &&
		grep -q 'whole pages: 999424$' $tmp/e2 && [ "$(cat $S/lim/memory.max)" = 999424 ] &&
		pass "memcg: whole pages, said; below one page refused" ||
		fail "memcg: whole pages, said; below one page refused" "$rc1 $rc2 $(cat $tmp/e1 $tmp/e2 $S/lim/memory.max)"
	# clear without --memcg leaves memory.max, and says so
	heapstat limit clear /lim 2>$tmp/e
	rc=$?
	[ $rc = 0 ] && [ "$(cat $S/lim/memory.max)" = 999424 ] &&
		grep -q "^heapstat limit: note: /lim's memory.max (976.0K) is left: it caps all of its memory; --memcg lifts it too$" $tmp/e &&
		heapstat limit clear /lim --memcg && [ "$(cat $S/lim/memory.max)" = max ] &&
		pass "memcg: clear without --memcg leaves memory.max and says so" ||
		fail "memcg: clear without --memcg leaves memory.max and says so" "rc $rc: $(cat $tmp/e $S/lim/memory.max)"
	heapstat limit set /lim $H 2M
fi

# sizes the kernel would read as max are refused: dmem keeps limits below
# LONG_MAX / PAGE_SIZE bytes; and a cgroup without dmem.max is told why
pc=$((0x7fffffffffffffff / $(awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps)))
heapstat limit set /lim $H $((pc - 1)) && [ "$(max /lim)" = $((pc - 1)) ] &&
	! heapstat limit set /lim $H $pc 2>$tmp/e; rc=$?
[ "$(max /lim)" = $((pc - 1)) ] && grep -q "reads a larger one as max" $tmp/e &&
	heapstat limit set /lim $H 2M && pass "dmem: a size the kernel would read as max refused" ||
	fail "dmem: a size the kernel would read as max refused" "rc $rc max $(max /lim): $(cat $tmp/e)"
mkdir -p $S/sib/nd
heapstat limit set /sib/nd $H 1M 2>$tmp/e
rc=$?
[ $rc = 2 ] && grep -q "cgroup /sib/nd has no dmem.max: dmem is not enabled in its parent's cgroup.subtree_control" $tmp/e &&
	heapstat limit clear /sib/nd $H && pass "dmem: a cgroup without dmem.max told why" ||
	fail "dmem: a cgroup without dmem.max told why" "rc $rc: $(cat $tmp/e)"
rmdir $S/sib/nd

# a limited cgroup's non-root process can neither raise the limit nor escape it
echo $$ >$S/lim/cgroup.procs
su -s /bin/sh nobody -c "
	heapstat limit set /lim $H max; echo rc=\$?
	echo 'dma-heap/$H max' >$S/lim/dmem.max; echo rc=\$?
	echo \$\$ >$S/sib/cgroup.procs; echo rc=\$?" >$tmp/o 2>&1
echo $$ >$S/cgroup.procs
[ "$(grep -c '^rc=[12]$' $tmp/o)" = 3 ] && [ "$(max /lim)" = $((2 * M)) ] &&
	pass "non-root: the CLI, dmem.max and cgroup.procs refuse" ||
	fail "non-root: the CLI, dmem.max and cgroup.procs refuse" "$(cat $tmp/o) max $(max /lim)"

# exec: a new cgroup through libcgroup, the limits set, the command's status
heapstat limit exec --create --set $H=512K /ci/run1 -- sh -c \
	"grep -q '^0::/ci/run1$' /proc/self/cgroup && dmabuf_alloc -H $H -s 512K && ! dmabuf_alloc -H $H -s 516K 2>/dev/null && exit 7"
rc=$?
[ $rc = 7 ] && [ "$(max /ci/run1)" = 524288 ] && pass "exec --create: the cgroup, its limit, the command's status" ||
	fail "exec --create: the cgroup, its limit, the command's status" "exit $rc max $(max /ci/run1)"
heapstat limit exec /nosuch -- true 2>/dev/null
[ $? = 2 ] && pass "exec: a cgroup that does not exist without --create" ||
	fail "exec: a cgroup that does not exist without --create" "exit $?"
# --create where a file is: refused before libcgroup enables a controller
# in what it takes for the parent (its subtree_control set, it takes no process)
heapstat limit exec --create /ci/run1/cgroup.procs -- true 2>$tmp/e
rc=$?
heapstat limit exec --create /ci/run1/cgroup.procs/x -- true 2>>$tmp/e
rc2=$?
[ $rc = 2 ] && [ $rc2 = 2 ] && [ -z "$(cat $S/ci/run1/cgroup.subtree_control)" ] &&
	[ "$(cat $tmp/e)" = "heapstat limit: failed to create cgroup /ci/run1/cgroup.procs: a file, not a cgroup
heapstat limit: failed to create cgroup /ci/run1/cgroup.procs/x: /ci/run1/cgroup.procs: a file, not a cgroup" ] &&
	heapstat limit exec /ci/run1 -- true && heapstat limit exec --create / -- true &&
	pass "exec --create: a file where the cgroup would be refused, nothing changed; / is there" ||
	fail "exec --create: a file where the cgroup would be refused, nothing changed; / is there" \
		"exit $rc $rc2: $(cat $tmp/e) subtree: $(cat $S/ci/run1/cgroup.subtree_control)"
# a level made here gets the kernel's files: /ci/fresh's cgroup.procs is one,
# which mkdir finds there (EEXIST) once /ci/fresh is made. Refused, and
# /ci/fresh removed again
heapstat limit exec --create /ci/fresh/cgroup.procs -- true 2>$tmp/e
rc=$?
[ $rc = 2 ] && [ ! -e $S/ci/fresh ] &&
	[ "$(cat $tmp/e)" = "heapstat limit: failed to create cgroup /ci/fresh/cgroup.procs: a file, not a cgroup" ] &&
	pass "exec --create: a kernel file in a level it made refused, exit 2, that level removed" ||
	fail "exec --create: a kernel file in a level it made refused, exit 2, that level removed" \
		"exit $rc: $(cat $tmp/e) $(ls $S/ci)"
# the command in heapstat's place: the same pid, so a SIGTERM sent to it is
# the command's (its trap runs, nothing is left running), and so is the status;
# a command not found exits 127, as with env
heapstat limit exec --create /ci/run2 -- sh -c \
	"trap 'exit 9' TERM; echo \$\$ >$tmp/run2; while :; do sleep 0.1; done" &
p=$!
i=0
while [ ! -s $tmp/run2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $p
wait $p
rc=$?
sleep 0.3
heapstat limit exec /ci/run2 -- /nonexistent/cmd 2>$tmp/e
rc2=$?
[ "$(cat $tmp/run2)" = $p ] && [ $rc = 9 ] && [ -z "$(cat $S/ci/run2/cgroup.procs)" ] &&
	[ $rc2 = 127 ] && grep -q "cannot run /nonexistent/cmd" $tmp/e &&
	pass "exec: the command in heapstat's place, SIGTERM its own; not found: 127" ||
	fail "exec: the command in heapstat's place, SIGTERM its own; not found: 127" \
		"pid $(cat $tmp/run2) of $p, exit $rc, left: $(cat $S/ci/run2/cgroup.procs); $rc2 $(cat $tmp/e)"

# exec --set of two heaps, the second below what the cgroup is charged (the
# kernel would keep its dmem.max): refused before either is written (the
# first stayed written, the command not run)
C=carveout-vm
if [ -e /dev/dma_heap/$C ]; then
	mkdir $S/xs
	sh -c "echo \$\$ >$S/xs/cgroup.procs; exec dmabuf_alloc -H $H -s 1M -w 60 -R $tmp/rxs" &
	xp=$!
	wait_while "[ ! -e $tmp/rxs ]"
	heapstat limit exec --set $C=64M --set $H=512K /xs -- touch $tmp/xsran 2>$tmp/e
	rc=$?
	cm=$(sed -n "s|^dma-heap/$C ||p" $S/xs/dmem.max)
	[ $rc = 1 ] && [ "$cm" = max ] && [ "$(max /xs)" = max ] && [ ! -e $tmp/xsran ] &&
		grep -q "is charged 1.0M of dma-heap/$H, above 524288" $tmp/e &&
		pass "exec --set below the charge: refused before any limit is written" ||
		fail "exec --set below the charge: refused before any limit is written" \
			"exit $rc, $C's dmem.max $cm, $H's $(max /xs): $(cat $tmp/e)"
	kill $xp
	wait $xp 2>/dev/null
	rmdir $S/xs
fi

# exec without --set needs no root, as with cgexec: in a subtree delegated
# to a user (its directory, cgroup.procs, cgroup.subtree_control and
# cgroup.threads chowned, as systemd delegates), from a shell of the user's
# there; elsewhere the kernel refuses the move; --set stays root's
# (--create of one that exists, root's but for its cgroup.procs: left root's)
mkdir -p $S/deleg/a $S/deleg/c
chown 65534 $S/deleg $S/deleg/cgroup.procs $S/deleg/cgroup.subtree_control $S/deleg/cgroup.threads \
	$S/deleg/c/cgroup.procs
chown -R 65534 $S/deleg/a
echo $$ >$S/deleg/a/cgroup.procs
su -s /bin/sh nobody -c "
	heapstat limit exec --create /deleg/b -- sh -c 'grep -q ^0::/deleg/b\$ /proc/self/cgroup && exit 3'
	echo rc=\$?
	heapstat limit exec --create /deleg/c -- sh -c 'grep -q ^0::/deleg/c\$ /proc/self/cgroup && exit 5'
	echo rc=\$?
	heapstat limit exec /ci/run1 -- true; echo rc=\$?
	heapstat limit exec --set $H=1M /deleg/b -- true; echo rc=\$?" >$tmp/o 2>&1
echo $$ >$S/cgroup.procs
want="rc=3
rc=5
heapstat limit: failed to move the process into cgroup /ci/run1: not allowed (most often: no write permission there)
rc=125
heapstat limit: only root sets limits: try sudo heapstat limit
rc=2"
[ "$(cat $tmp/o)" = "$want" ] && [ "$(stat -c %U $S/deleg/b)/$(stat -c %U $S/deleg/c)" = nobody/root ] &&
	pass "exec: a user in a delegated subtree, as with cgexec; elsewhere refused; --set root's" ||
	fail "exec: a user in a delegated subtree, as with cgexec; elsewhere refused; --set root's" \
		"$(cat $tmp/o); owners $(stat -c %U $S/deleg/b) $(stat -c %U $S/deleg/c)"

# a cgroup whose path leaves no room for "/dmem.current" (4,076 bytes, which a
# user with a delegated subtree can make) is left unread: it ended report and
# every limit verb for every cgroup ("failed to read the cgroups")
n=$(printf '%0200d' 0 | tr 0 n)
(cd $S && mkdir long && cd long && for i in $(seq 20); do mkdir $n && cd $n || exit 1; done &&
	mkdir $(printf '%050d' 0 | tr 0 l))
heapstat report cgroups >/dev/null 2>$tmp/e1; r1=$?
heapstat limit show >/dev/null 2>>$tmp/e1; r2=$?
heapstat limit set /lim $H 2M 2>>$tmp/e1; r3=$?
[ "$r1/$r2/$r3" = 0/0/0 ] && [ "$(max /lim)" = $((2 * M)) ] && [ ! -s $tmp/e1 ] &&
	pass "a cgroup path too long for its files: report, show and set go on" ||
	fail "a cgroup path too long for its files: report, show and set go on" \
		"exits $r1/$r2/$r3, dmem.max $(max /lim): $(cat $tmp/e1)"
(cd $S/long && for i in $(seq 20); do cd $n; done && rmdir l* && for i in $(seq 20); do cd .. && rmdir $n; done)
rmdir $S/long

# --create below a cgroup that holds processes, for a dmem limit: the
# kernel enables no controller there (EBUSY); said which and why. Without
# --set, no controller is asked: made, run
mkdir $S/busy
sh -c "echo \$\$ >$S/busy/cgroup.procs; exec sleep 60" &
bp=$!
wait_while '[ -z "$(cat $S/busy/cgroup.procs)" ]'
heapstat limit exec --create --set $H=8M /busy/b -- true 2>$tmp/e3; rc=$?
heapstat limit exec --create /busy/c -- true 2>$tmp/e4; rc4=$?
kill $bp; wait $bp 2>/dev/null
want="heapstat limit: failed to create cgroup /busy/b: Device or resource busy (/busy holds processes: a cgroup with processes enables no controller for its children; move them into a child cgroup first)"
[ $rc = 1 ] && [ "$(cat $tmp/e3)" = "$want" ] && [ ! -e $S/busy/b ] && [ $rc4 = 0 ] && [ -d $S/busy/c ] &&
	pass "exec --create below a cgroup with processes: says which and why, exit 1" ||
	fail "exec --create below a cgroup with processes: says which and why, exit 1" "exit $rc/$rc4: $(cat $tmp/e3 $tmp/e4)"
rmdir $S/busy/b $S/busy/c 2>/dev/null; rmdir $S/busy

# heapstat_core's accounting off: its heaps charge nobody (their dmem regions
# stay), so a limit on one is bpf-lsm's, and it binds (dmem's bound nothing)
acc=/sys/module/heapstat_core/parameters/accounting
mkdir $S/off
# a dmem.max set while the heap charged: off, it binds nothing, and would
# again once on; a bpf-lsm limit set, or a clear, lifts it (one limit a
# cgroup x heap), said
heapstat limit set /off $H 2M
echo off >$acc
heapstat limit clear /off 2>$tmp/e
rc=$?
d1=$(max /off)
echo "dma-heap/$H 3145728" >$S/off/dmem.max
# (an exec whose later --set is refused, the limits' table made to hold one,
# lifts nothing: every --set is set back, the dmem.max too is as it was)
HEAPSTAT_TEST_LIMIT_LIMITS=1 heapstat limit exec --set $H=1M --set chunk-reserved=1M /off -- true \
	2>$tmp/e3
rc3=$?
d3=$(max /off)
heapstat limit set /off $H 1M 2>$tmp/e2
rc2=$?
d2=$(max /off)
[ $rc3 = 1 ] && [ "$d3" = 3145728 ] && grep -q "^heapstat limit: undid the 1 --set written before it$" $tmp/e3 &&
	! grep -q lifted $tmp/e3 &&
	pass "accounting off: an exec whose later --set is refused lifts no dmem.max" ||
	fail "accounting off: an exec whose later --set is refused lifts no dmem.max" \
		"exit $rc3, dmem.max $d3: $(cat $tmp/e3)"
[ $rc = 0 ] && [ $rc2 = 0 ] && [ "$d1" = max ] && [ "$d2" = max ] &&
	[ "$(cat $tmp/e)" = "heapstat limit: note: lifted /off's dmem.max for dma-heap/$H (2.0M), set while the heap charged dmem: its limits are bpf-lsm's" ] &&
	grep -qx "heapstat limit: note: lifted /off's dmem.max for dma-heap/$H (3.0M), .*" $tmp/e2 &&
	pass "accounting off: a clear, and a bpf-lsm limit set, lift the dmem.max set while it charged" ||
	fail "accounting off: a clear, and a bpf-lsm limit set, lift the dmem.max set while it charged" \
		"exits $rc/$rc2, dmem.max $d1/$d2: $(cat $tmp/e $tmp/e2)"
heapstat limit clear /off
# in a cgroup namespace whose root is two levels down (tests/vm/cgns.c), a
# path of 15 parts is level 17 of the hierarchy, which the programs do not
# follow (they once took the path's depth and kept a limit never enforced);
# one of 14 parts is level 16: set, and it binds there
e15=$(seq -s /e 15 | sed 's|^|/e|')
e14=${e15%/e15}
mkdir -p $S/ns1/ns2$e15
ns() { sh -c "echo \$\$ >$S/ns1/ns2/cgroup.procs; exec cgns $*"; }
# (libcgroup takes a cgroup2 mount without a controller for none: said)
ns heapstat limit set $e14 $H 1M 2>$tmp/e4
rc4=$?
[ $rc4 = 2 ] && [ "$(cat $tmp/e4)" = "heapstat limit: failed to set up libcgroup for /sys/fs/cgroup: it takes a cgroup2 mount without controllers for none (its cgroup.controllers is empty: the root of a cgroup namespace whose parent enables none for it)" ] &&
	pass "a cgroup namespace whose root has no controller: libcgroup's refusal said, exit 2" ||
	fail "a cgroup namespace whose root has no controller: libcgroup's refusal said, exit 2" \
		"exit $rc4: $(cat $tmp/e4)"
echo +memory >$S/ns1/cgroup.subtree_control
ns heapstat limit set $e15 $H 1M 2>$tmp/e5
rc5=$?
ns heapstat limit exec --create --set $H=1M $e15/x -- true 2>$tmp/e6
rc6=$?
# a buffer from before the first limit, held in the namespace: the seed
# charges it to every level of the hierarchy, those above the namespace's
# root too (a path there names none of them), as the programs charge
mkdir $S/ns1/ns2/pre
sh -c "echo \$\$ >$S/ns1/ns2/pre/cgroup.procs; exec dmabuf_alloc -H $H -s 512K -w 60 -R $tmp/rpre" &
pre=$!
wait_while '[ ! -e $tmp/rpre ]'
ns heapstat limit set $e14 $H 1M 2>$tmp/e7
rc7=$?
heapstat limit set /ns1 $H 4M
ns1_usage() { heapstat limit show /ns1 -j |
	jq -r ".[] | select(.cgroup == \"/ns1\" and .heap == \"$H\") | .usage_bytes"; }
seeded=$(ns1_usage)
kill $pre; wait $pre 2>/dev/null
wait_while '[ "$(ns1_usage)" != 0 ]'
unseeded=$(ns1_usage)
heapstat limit clear /ns1
[ "$seeded" = 524288 ] && [ "$unseeded" = 0 ] &&
	pass "a cgroup namespace: a buffer from before charged above the namespace's root, and uncharged" ||
	fail "a cgroup namespace: a buffer from before charged above the namespace's root, and uncharged" \
		"usage of /ns1 $seeded while held, $unseeded after"
alloc /ns1/ns2$e14 -s 512K -n 2 -w 0
rc8=$?
alloc /ns1/ns2$e14 -s 512K -n 3 -w 0
rc9=$?
ns heapstat limit clear $e14
want="is deeper than 16 levels (level 17 of the hierarchy, whose root is above the one seen here): limit an ancestor"
[ $rc5 = 2 ] && [ $rc6 = 2 ] && [ ! -e $S/ns1/ns2$e15/x ] && [ $rc7 = 0 ] && [ $rc8 = 0 ] && [ $rc9 != 0 ] &&
	grep -qF "heapstat limit: cgroup $e15 $want" $tmp/e5 &&
	[ "$(cat $tmp/e6)" = "heapstat limit: cgroup $e15/x is deeper than 16 levels (level 18 of the hierarchy, whose root is above the one seen here): limit an ancestor" ] &&
	grep -q 'Resource temporarily unavailable' $tmp/err &&
	pass "a cgroup namespace: the hierarchy's level limits a path's depth (17 refused, 16 binds)" ||
	fail "a cgroup namespace: the hierarchy's level limits a path's depth (17 refused, 16 binds)" \
		"exits $rc5/$rc6/$rc7/$rc8/$rc9, $(ls -d $S/ns1/ns2$e15/x 2>&1): $(cat $tmp/e5 $tmp/e6 $tmp/e7 $tmp/err)"
find $S/ns1 -depth -type d -exec rmdir {} + 2>/dev/null
heapstat limit set /off $H 1M
b=$(heapstat limit show /off -j | jq -r ".[] | select(.heap == \"$H\") | [.backend, .limit_bytes] | @tsv")
alloc /off -s 512K -n 3 -w 0
rc=$?
# and one deeper than the programs follow refused before anything is made
d=$(seq -s /d 17 | sed 's|^|/d|')
heapstat limit exec --create --set $H=1M $d -- true 2>$tmp/e2
rc2=$?
echo auto >$acc
[ $rc2 = 2 ] && [ ! -e $S/d1 ] &&
	[ "$(cat $tmp/e2)" = "heapstat limit: cgroup $d is deeper than 16 levels: limit an ancestor" ] &&
	pass "exec --create --set, a bpf-lsm limit 17 levels down: exit 2, nothing made" ||
	fail "exec --create --set, a bpf-lsm limit 17 levels down: exit 2, nothing made" \
		"exit $rc2, $(ls -d $S/d1 2>&1): $(cat $tmp/e2)"
find $S/d1 -depth -type d -exec rmdir {} + 2>/dev/null
# accounting on again: the limit set while off is still bpf-lsm's (its
# programs refuse), shown and cleared as such, the programs unpinned
b2=$(heapstat limit show /off -j | jq -r ".[] | select(.heap == \"$H\") | .backend")
heapstat limit clear /off
[ "$b2" = bpf-lsm ] && [ ! -e /sys/fs/bpf/heapstat/limit ] &&
	pass "accounting on again: the limit set while off shown and cleared as bpf-lsm's" ||
	fail "accounting on again: the limit set while off shown and cleared as bpf-lsm's" \
		"backend '$b2', pins: $(ls /sys/fs/bpf/heapstat/limit 2>&1 | head -n 3)"
[ "$b" = "$(printf 'bpf-lsm\t%s' $M)" ] && [ $rc != 0 ] &&
	grep -q "allocating 524288 bytes from $H: Resource temporarily unavailable" $tmp/err &&
	pass "heapstat_core accounting off: a limit on its heap is bpf-lsm's, and binds" ||
	fail "heapstat_core accounting off: a limit on its heap is bpf-lsm's, and binds" \
		"backend, limit: $b; exit $rc: $(cat $tmp/err)"

heapstat limit clear /lim
# nothing of this test may outlive it
for cg in off lim lp/c lp/c2 lp sib ci/run1 ci/run2 ci/mx deleg/a deleg/b deleg/c; do
	[ -e $S/$cg/cgroup.procs ] && kill -9 $(cat $S/$cg/cgroup.procs) 2>/dev/null
done
wait
rmdir $S/off $S/lim $S/lp/c $S/lp/c2 $S/lp $S/sib $S/ci/run1 $S/ci/run2 $S/ci/mx $S/ci $S/deleg/a $S/deleg/b \
	$S/deleg/c $S/deleg 2>/dev/null
rm -rf "$tmp"
