#!/bin/sh
# Output that cannot lie or harm: names users control (a comm, a buffer's
# name, a cgroup's name) with escape sequences, quotes, commas and bytes that
# are not UTF-8 reach no terminal raw, keep JSON valid and CSV RFC 4180;
# report and heaptop write a buffer, a process and a cgroup row alike; a
# write error fails the command; a filter naming nothing is an error.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
# pad PREFIX NEXT FILE: the spaces after PREFIX (a basic regex) up to " NEXT"
# on FILE's first such line: a table cell's padding
pad() { sed -n "s|$1\( *\) $2.*|\1|p" "$3" | head -n 1 | awk '{ print length($0) }'; }
S=/sys/fs/cgroup
pass() { echo "PASS: output: $1"; }
fail() { echo "FAIL: output: $1: $2"; }
[ -e /dev/dma_heap/system ] || { echo "SKIP: output: no system heap"; exit 0; }

ESC=$(printf '\033')
evil_cg=$(printf 'ev,il"cg\033[31m')
mkdir -p "$S/$evil_cg"
# an OSC sequence that would set root's terminal title, then BEL
sh -c "echo \$\$ >'$S/$evil_cg/cgroup.procs'; exec dmabuf_alloc -H system -s 64K -w 300 \
	-R $tmp/r1 --comm \"\$(printf '\\033]0;pwned\\007')\" --name \"\$(printf 'n\\033[2J\\377,x')\"" &
p1=$!
sh -c "echo \$\$ >'$S/$evil_cg/cgroup.procs'; exec dmabuf_alloc -H system -s 128K -w 300 \
	-R $tmp/r2 --comm '=1+2'" &
p2=$!
i=0
while { [ ! -e $tmp/r1 ] || [ ! -e $tmp/r2 ]; } && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e $tmp/r1 ] && [ -e $tmp/r2 ] || { fail setup "workload not ready"; kill $p1 $p2; exit 0; }

# tables and heaptop: nothing raw, the controls shown
heapstat report >$tmp/t 2>&1
heapstat report buffers >>$tmp/t 2>&1
heaptop -b -n 1 -d 0.3 >>$tmp/t 2>&1
heaptop -b -n 1 -d 0.3 --view processes >>$tmp/t 2>&1
heaptop -b -n 1 -d 0.3 --view buffers >>$tmp/t 2>&1
if ! grep -q "$ESC" $tmp/t && grep -qF '^[]0;pwned^G' $tmp/t && grep -qF 'n^[[2J\xff,x' $tmp/t &&
	grep -qF '/ev,il"cg^[[31m' $tmp/t; then
	pass "tables and heaptop show controls as ^[ and \\xff, never raw"
else
	fail "tables and heaptop show controls as ^[ and \\xff, never raw" \
		"$(grep -c "$ESC" $tmp/t) raw ESC: $(tr "$ESC" '!' <$tmp/t | head -c 3000)"
fi

# JSON: valid, with the names' bytes escaped (ESC as \u001b, 0xff as \u00ff)
heapstat report -j >$tmp/j
heaptop -j -n 1 -d 0.3 >$tmp/tj
if jq -e . $tmp/j >/dev/null && jq -e . $tmp/tj >/dev/null && ! grep -q "$ESC" $tmp/j $tmp/tj &&
	grep -qF '"comm":"\u001b]0;pwned\u0007"' $tmp/j && grep -qF '"name":"n\u001b[2J\u00ff,x"' $tmp/j &&
	jq_true --argjson p $p1 '.processes[] | select(.pid == $p) | .comm == "\u001b]0;pwned\u0007"' $tmp/tj >/dev/null; then
	pass "JSON stays valid, names escaped"
else
	fail "JSON stays valid, names escaped" "$(head -c 2000 $tmp/j)"
fi

# CSV: quoted where RFC 4180 says, quotes doubled, no formula
heapstat report processes --csv >$tmp/c
heapstat report cgroups --csv >$tmp/cg
# each record (header too) ends in CRLF, and no CR is anywhere else
cr=$(printf '\r')
for f in $tmp/c $tmp/cg; do
	n=$(wc -l <$f)
	[ "$n" -gt 1 ] && [ "$(grep -c "$cr\$" $f)" = "$n" ] && [ "$(tr -cd '\r' <$f | wc -c)" = "$n" ] &&
		[ "$(tail -c 2 $f | od -An -c | tr -d ' ')" = '\r\n' ] &&
		pass "CSV: every record ends in CRLF (${f##*/})" ||
		fail "CSV: every record ends in CRLF (${f##*/})" "$(od -c $f | head -20)"
done
csv_lf $tmp/c $tmp/cg
if grep -qx "$p2,'=1+2,\"/ev,il\"\"cg^\[\[31m\",131072,0,131072,1" $tmp/c &&
	grep -q "^\"/ev,il\"\"cg^\[\[31m\",system,196608,2," $tmp/cg && ! grep -q "$ESC" $tmp/c $tmp/cg; then
	pass "CSV: RFC 4180 quoting, a formula made text"
else
	fail "CSV: RFC 4180 quoting, a formula made text" "$(cat $tmp/c $tmp/cg)"
fi

# one object, one JSON: report and heaptop write the same buffer, process and
# row (compared as JSON: an object's keys in any order)
b1=$(jq -c --argjson p $p2 '.buffers[] | select(.holders[0].pid == $p) | del(.age_ns)' $tmp/j)
b2=$(jq -c --argjson p $p2 '.buffers[] | select(.holders[0].pid == $p) | del(.age_ns)' $tmp/tj)
q1=$(jq -c --argjson p $p2 '.processes[] | select(.pid == $p)' $tmp/j)
q2=$(jq -c --argjson p $p2 '.processes[] | select(.pid == $p)' $tmp/tj)
r1=$(jq -c '.cgroups[].heaps[] | select(.heap == "system" and (.cgroup | startswith("/ev")))' $tmp/j)
r2=$(jq -c '.rows[] | select(.heap == "system" and (.cgroup | startswith("/ev")))
	| del(.peak_bytes, .allocs_per_sec, .frees_per_sec, .p50_ns, .p99_ns, .failures, .gone)
	| .allocated = null' $tmp/tj)
if [ -n "$b1" ] && [ -n "$q1" ] && [ -n "$r1" ] && jq_true -n --argjson b1 "$b1" \
	--argjson b2 "${b2:-null}" --argjson q1 "$q1" --argjson q2 "${q2:-null}" --argjson r1 "$r1" \
	--argjson r2 "${r2:-null}" '$b1 == $b2 and $q1 == $q2 and $r1 == $r2' >/dev/null; then
	pass "report -j and top -j: the same buffer, process and cgroup row"
else
	fail "report -j and top -j: the same buffer, process and cgroup row" "$b1 / $b2 / $q1 / $q2 / $r1 / $r2"
fi

# a write error on stdout is an error
for cmd in "heapstat report" "heapstat report -j" "heaptop -b -n 1 -d 0.2"; do
	$cmd >/dev/full 2>$tmp/e
	rc=$?
	[ $rc = 1 ] && grep -q 'No space left on device' $tmp/e && pass "'$cmd >/dev/full' fails" ||
		fail "'$cmd >/dev/full' fails" "exit $rc: $(cat $tmp/e)"
done

# filters: the cgroup with its descendants, "/x/" as "/x"; naming nothing is an error
mkdir -p $S/outp/child
sh -c "echo \$\$ >$S/outp/child/cgroup.procs; exec dmabuf_alloc -H system -s 256K -w 300 -R $tmp/r3" &
p3=$!
wait_while '[ ! -e $tmp/r3 ]'
a=$(heapstat report heaps --csv -c /outp/ 2>&1 | lf)
[ "$a" = "heap,bytes,buffers
system,262144,1" ] && pass "-c /outp/ takes /outp/child's buffer" || fail "-c /outp/ takes /outp/child's buffer" "$a"
for args in "-c /nosuch" "--heap nosuch" "-p 999999"; do
	heapstat report $args >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && [ ! -s $tmp/o ] && grep -q "no " $tmp/e && pass "report $args: an error" ||
		fail "report $args: an error" "exit $rc: $(cat $tmp/o $tmp/e)"
done
for h in "" . ..; do
	heapstat report --heap "$h" >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 2 ] && [ ! -s $tmp/o ] && grep -q "no heap or exporter '$h'" $tmp/e &&
		pass "report --heap '$h': an error, not the heaps' directory or its parent" ||
		fail "report --heap '$h': an error, not the heaps' directory or its parent" \
			"exit $rc: $(cat $tmp/o $tmp/e)"
done
heaptop -b -n 1 -c /nosuch >$tmp/o 2>$tmp/e
rc=$?
[ $rc = 2 ] && grep -q "no cgroup /nosuch" $tmp/e && pass "heaptop -c /nosuch: an error" ||
	fail "heaptop -c /nosuch: an error" "exit $rc: $(cat $tmp/e)"
for z in 0 0.0; do
	heaptop -b -n 2 -d 0.2 --rescan $z -j >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc = 0 ] && [ "$(jq -r .inventory $tmp/o | tr '\n' ' ')" = "first periodic " ] &&
		pass "heaptop --rescan $z walks every refresh" ||
		fail "heaptop --rescan $z walks every refresh" "exit $rc: $(cat $tmp/e) $(jq -c .inventory $tmp/o)"
done
# a holder gone between the first and second frames, before exit_files()'s hook
# is attached (live_sample()), its buffer kept by its child (no release): the
# second frame's walk finds it gone, and since its exit was not logged, the
# walk is compared with nothing (no difference counted, where one would be)
dmabuf_alloc -H system -s 1M --signals -w 60 -R $tmp/h1 >/dev/null &
h=$!
wait_while '[ ! -e $tmp/h1 ]'
kill -USR1 $h
wait_while '[ ! -s $tmp/h1.children ]'
hc=$(cat $tmp/h1.children)
heaptop -b -n 3 -d 1 --rescan 0 -j >$tmp/hf 2>$tmp/e &
t=$!
wait_while '[ ! -s $tmp/hf ]'
kill -KILL $h	# (its SIGTERM would end the child too)
wait $h 2>/dev/null
wait $t
rc=$?
first=$(head -n 1 $tmp/hf | jq -M -c "[.processes[] | select(.pid == $h or .pid == $hc)] | length")
last=$(tail -n 1 $tmp/hf)
kill $hc
[ $rc = 0 ] && [ "$first" = 2 ] && echo "$last" | jq_true "(.processes | map(.pid) | index($h)) == null
	and (.processes[] | select(.pid == $hc) | .fd_bytes == 1048576)
	and .inventory_stats.checks == 0 and .inventory_stats.differences == 0" >/dev/null &&
	pass "heaptop: a holder gone before the exit hook: gone, no difference counted" ||
	fail "heaptop: a holder gone before the exit hook: gone, no difference counted" \
		"exit $rc, listed first: $first: $(echo "$last" | jq -c .inventory_stats) $(cat $tmp/e)"

# long cgroup paths: each row ends in its own cgroup's name; a cell cut
# inside a character starts after it (no lone UTF-8 continuation byte, which
# an 8-bit terminal takes for a control: 0x9b is CSI)
long=/$(printf '%0200d' 0 | tr 0 a)/$(printf '%0100d' 0 | tr 0 b)
wide=/$(printf '%030d' 0 | sed 's/0/\\303\\233/g')z	# printf's octal: 30 U+00DB
mkdir -p "$S$long/leaf1" "$S$long/leaf2" "$S$(printf "$wide")"
p4=
for cg in "$long/leaf1" "$long/leaf2" "$(printf "$wide")"; do
	rm -f $tmp/r4
	sh -c "echo \$\$ >'$S$cg/cgroup.procs'; exec dmabuf_alloc -H system -s 4K -w 60 -R $tmp/r4" &
	p4="$p4 $!"
	wait_while '[ ! -e $tmp/r4 ]'
done
# and a name too long for its cell shows its start: a comm of 15 bytes, 13
# of them ESC (28 columns shown), in heaptop's 16
sh -c "exec dmabuf_alloc -H system -s 4K -w 60 -R $tmp/r4c --comm \"a\$(printf '\\033%.0s' \$(seq 13))z\"" &
p4="$p4 $!"
wait_while '[ ! -e $tmp/r4c ]'
heaptop -b -n 1 -d 0.3 >$tmp/o
heaptop -b -n 1 -d 0.3 --view processes >>$tmp/o
grep -qF ' a^[^[^[^[^[^[..  /' $tmp/o && pass "heaptop: a long comm's cell starts with it, ^[ never cut" ||
	fail "heaptop: a long comm's cell starts with it, ^[ never cut" "$(grep 'dmabuf_alloc\|\^\[' $tmp/o | head -n 20)"
# report cuts none: its COMM column is as wide as the widest, 28 or more, the others padded to it
heapstat report processes >$tmp/rp
esc=$(printf '\^\[%.0s' $(seq 13))
W=$(($(pad "^ *PID COMM" CGROUP $tmp/rp) + 4))
if [ $W -ge 28 ] && [ "$(pad "^ *[0-9]* a${esc}z" / $tmp/rp)" = $((W - 28)) ] &&
	[ "$(pad "^ *[0-9]* dmabuf_alloc" / $tmp/rp)" = $((W - 12)) ]; then
	pass "report: a long comm whole, its column as wide"
else
	fail "report: a long comm whole, its column as wide" "$(cat $tmp/rp)"
fi
n1=$(grep -c 'leaf1 ' $tmp/o) n2=$(grep -c 'leaf2 ' $tmp/o)
if [ "$n1" = 2 ] && [ "$n2" = 2 ] && grep -q 'z ' $tmp/o && ! LC_ALL=C grep -q "$(printf '\.\.[\200-\277]')" $tmp/o; then
	pass "heaptop: a long cgroup's cell ends in its name, never cut inside a character"
else
	fail "heaptop: a long cgroup's cell ends in its name, never cut inside a character" \
		"leaf1 $n1, leaf2 $n2: $(grep 'aaaa\|z ' $tmp/o | od -c | head -n 20)"
fi
kill $p4
wait $p4

# cells padded by screen columns, not bytes: /камера takes 7 (14 bytes), /中文
# 5 (7 bytes: two wide characters), a path of 15 wide ones 31; the HEAP column
# after each starts at one column (report: CGROUP as wide as the widest, 31
# here; heaptop 24, its cell the tail in ".." and 11 wide characters)
cyr=$(printf '/\320\272\320\260\320\274\320\265\321\200\320\260')
cjk=$(printf '/\344\270\255\346\226\207')
cjk15=/$(printf '%015d' 0 | sed 's/0/\\344\\270\\255/g')
cjk15=$(printf "$cjk15")
mkdir "$S$cyr" "$S$cjk" "$S$cjk15"
p5=
for cg in "$cyr" "$cjk" "$cjk15"; do
	rm -f $tmp/r5
	sh -c "echo \$\$ >'$S$cg/cgroup.procs'; exec dmabuf_alloc -H system -s 4K -w 60 -R $tmp/r5" &
	p5="$p5 $!"
	wait_while '[ ! -e $tmp/r5 ]'
done
heapstat report >$tmp/w1
heaptop -b -n 1 -d 0.3 >$tmp/w2
sp() { printf "%${1}s" ""; }
W=$(($(pad "^CGROUP" HEAP $tmp/w1) + 6))
tail15=..$(printf '%011d' 0 | sed 's/0/\\344\\270\\255/g')
tail15=$(printf "$tail15")
if [ $W -ge 31 ] && [ "$(pad "^$cyr" system $tmp/w1)" = $((W - 7)) ] &&
	[ "$(pad "^$cjk" system $tmp/w1)" = $((W - 5)) ] &&
	[ "$(pad "^$cjk15" system $tmp/w1)" = $((W - 31)) ] &&
	grep -q "^$cyr$(sp 17) system " $tmp/w2 &&
	grep -q "^$cjk$(sp 19) system " $tmp/w2 && grep -q "^$tail15 system " $tmp/w2; then
	pass "report and heaptop pad names by screen columns, wide characters two"
else
	fail "report and heaptop pad names by screen columns, wide characters two" \
		"$(grep -h "$cyr\|$cjk\|\.\.$(printf '\344\270\255')" $tmp/w1 $tmp/w2)"
fi
kill $p5
wait $p5
rmdir "$S$cyr" "$S$cjk" "$S$cjk15"

# cgroups whose paths are longer than PATH_MAX leave the cgroups after them
# named: a chain of 18 names of 250 bytes (the shell goes down 16: its
# working directory's path is at most PATH_MAX), then /deep/sib/child, after
# the chain in the tree's order, allocating while traced
name=$(printf '%0250d' 0 | tr 0 d)
mkdir $S/deep
(cd $S/deep && for i in $(seq 16); do mkdir $name && cd $name || exit 1; done &&
	mkdir $name $name/$name) ||
	fail "a cgroup deeper than PATH_MAX" "the chain not made"
mkdir -p $S/deep/sib/child
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heaptop -j -d 0.5 >$tmp/deep 2>&1 &
rp=$!
wait_ready $rs $rp	# traced from here (seconds on the debug kernel)
frames() { wc -l <$tmp/deep; }
wait_frames 1
sh -c "echo \$\$ >$S/deep/sib/child/cgroup.procs; exec dmabuf_alloc -H system -s 4K"
wait_frames $(($(frames) + 3))
kill $rp
wait $rp
last_line $tmp/deep | jq_true '[.rows[] | select(.cgroup == "/deep/sib/child" and .heap == "system")] |
	length == 1 and .[0].allocated.allocs == 1' >/dev/null &&
	pass "a cgroup deeper than PATH_MAX: its siblings' cgroups still named" ||
	fail "a cgroup deeper than PATH_MAX: its siblings' cgroups still named" \
		"$(last_line $tmp/deep | jq -c '[.rows[] | {cgroup, heap}]' 2>&1 | head -c 600)"
(cd $S/deep && for i in $(seq 16); do cd $name || exit 1; done && rmdir $name/$name $name &&
	for i in $(seq 16); do cd .. && rmdir $name; done)
rmdir $S/deep/sib/child $S/deep/sib $S/deep

kill $p1 $p2 $p3
wait
rmdir "$S/$evil_cg" $S/outp/child $S/outp "$S$long/leaf1" "$S$long/leaf2" "$S$long" \
	"$S${long%/*}" "$S$(printf "$wide")"
rm -rf "$tmp"
