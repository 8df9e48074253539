#!/bin/sh
# heapstat export in the VM suite (Prometheus itself reads it in
# tests/boot/export_prometheus.sh): the cardinality bounds against a workload
# of known sizes. 12 cgroups /exp/cN hold 64 KiB of the system heap each
# (12 rows); --max-series leaves out whole rows, those holding least first,
# and counts their series (/exp/c12 holds 128 KiB); --cgroup-depth 1 folds
# them all into /exp, exactly, a buffer two of its cgroups hold once; a scrape
# answered within the interval is that sample's; the textfile is replaced whole
# every interval.
. /heapstat/tests/lib.sh
S=/sys/fs/cgroup
tmp=$(mktemp -d)
pass() { echo "PASS: export: $1"; }
fail() { echo "FAIL: export: $1: $2"; }
[ -e /dev/dma_heap/system ] || { echo "SKIP: export: no system heap"; exit 0; }

mkdir -p $S/exp
echo "+dmem +memory" >$S/exp/cgroup.subtree_control
for i in $(seq 12); do
	mkdir -p $S/exp/c$i
	# /exp/c12 holds most: 2 buffers
	n=1
	[ $i = 12 ] && n=2
	sh -c "echo \$\$ >$S/exp/c$i/cgroup.procs
		exec dmabuf_alloc -H system -s 64K -n $n -w 300 -R $tmp/r$i" &
done
i=0
while [ "$(ls $tmp | grep -c '^r')" -lt 12 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done

# scrape PORT: the exposition, into $tmp/m
scrape() {
	i=0
	until wget -q -O $tmp/m http://127.0.0.1:$1/metrics 2>/dev/null || [ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
val() { awk -v k="$1 " 'index($0, k) == 1 { print $NF }' $tmp/m; }	# val SERIES: its value

# --max-series: first without a bound (F series not of rows, R of rows), then
# with room for one row: the one holding most is kept, the rest cut and counted
rowseries() { grep -e '^heapstat_cgroup_' -e '^heapstat_limit_refusals_total' -e '^heapstat_alloc' \
	-e '^heapstat_frees_total' -e '^heapstat_freed_bytes_total' $tmp/m | grep -vc '^heapstat_allocation_latency'; }
heapstat export --listen 127.0.0.1:9471 --max-series 0 2>$tmp/err1 &
p=$!
scrape 9471
kill -TERM $p
wait $p
rc=$?
total=$(grep -vc '^#' $tmp/m)
r=$(rowseries)
f=$((total - r))
most=$(grep '^heapstat_cgroup_held_bytes{' $tmp/m | sed 's/.* //' | sort -n | tail -n 1)
# the series of the row holding most (held, buffers, peak, refusals, charged when known)
top=$(grep "^heapstat_cgroup_held_bytes{.*} $most\$" $tmp/m | sed 's/^[a-z_]*{\(.*\)} .*/\1/' | head -n 1)
per=$(grep -c "^heapstat_[a-z_]*{$top} " $tmp/m)
heapstat export --listen 127.0.0.1:9471 --max-series $((f + per)) 2>>$tmp/err1 &
p=$!
scrape 9471
kill -TERM $p
wait $p
rc2=$?
kept=$(grep '^heapstat_cgroup_held_bytes{' $tmp/m)
cut=$(val heapstat_export_series_dropped)
if [ $rc = 0 ] && [ $rc2 = 0 ] && [ "$(grep -vc '^#' $tmp/m)" -le $((f + per)) ] &&
	[ "$(echo "$kept" | wc -l)" = 1 ] && [ "${kept##* }" = "$most" ] &&
	[ "$cut" = $((r - $(rowseries))) ] && [ "$most" -ge 131072 ]; then
	pass "--max-series: room for one row: the one holding most ($most bytes) kept, the other $cut series cut and counted; SIGTERM: exit 0"
else
	fail "--max-series: room for one row: the one holding most kept, the rest cut and counted" \
		"exit $rc $rc2, $f fixed, $r of rows, most $most ($per series: $top), kept '$kept', cut $cut: $(cat $tmp/err1)"
fi

# the row holding most does not fit (its limit gives it two series more) but
# smaller ones would: none is kept in its place
# (memory.max is a limit where the system heap charges memcg)
if [ "$(cat /sys/module/dma_heap/parameters/mem_accounting 2>/dev/null)" = Y ]; then
	echo 1G >$S/exp/c12/memory.max
	heapstat export --listen 127.0.0.1:9471 --max-series 0 2>>$tmp/err1 &
	p=$!
	scrape 9471
	kill -TERM $p
	wait $p
	f=$(($(grep -vc '^#' $tmp/m) - $(rowseries)))
	per12=$(grep -c '^heapstat_[a-z_]*{cgroup="/exp/c12",heap="system"} ' $tmp/m)
	per1=$(grep -c '^heapstat_[a-z_]*{cgroup="/exp/c1",heap="system"} ' $tmp/m)
	heapstat export --listen 127.0.0.1:9471 --max-series $((f + per12 - 1)) 2>>$tmp/err1 &
	p=$!
	scrape 9471
	kill -TERM $p
	wait $p
	if [ $per1 -lt $per12 ] && [ "$(rowseries)" = 0 ] && [ "$(val heapstat_export_series_dropped)" = $((r + 2)) ]; then
		pass "--max-series: the row holding most does not fit: none holding less kept in its place"
	else
		fail "--max-series: the row holding most does not fit: none holding less kept in its place" \
			"series of c12 $per12, c1 $per1; kept $(grep '^heapstat_cgroup_held_bytes{' $tmp/m)"
	fi
	echo max >$S/exp/c12/memory.max
fi

# a 64 KiB buffer held in /exp/sh1 and, by a child moved there, in /exp/sh2:
# once in each row, once in /exp's folded series
mkdir -p $S/exp/sh1 $S/exp/sh2
sh -c "echo \$\$ >$S/exp/sh1/cgroup.procs
	exec dmabuf_alloc -H system -s 64K -n 1 --share 1 -w 300 -R $tmp/sh" &
sh=$!
wait_while '[ ! -s $tmp/sh.children ]'
child=$(cat $tmp/sh.children)
echo $child >$S/exp/sh2/cgroup.procs

# folded into /exp: what its tree holds, exactly; within -i a scrape is the same sample's
heapstat export --listen 127.0.0.1:9472 --cgroup-depth 1 -i 3600 2>$tmp/err2 &
p=$!
scrape 9472
cp $tmp/m $tmp/m1
sleep 1
scrape 9472
held=$(val 'heapstat_cgroup_held_bytes{cgroup="/exp",heap="system"}')
bufs=$(val 'heapstat_cgroup_held_buffers{cgroup="/exp",heap="system"}')
peak=$(val 'heapstat_cgroup_peak_bytes{cgroup="/exp",heap="system"}')
folded=$(val heapstat_export_rows_folded)
grep -v scrape_duration $tmp/m1 >$tmp/a
grep -v scrape_duration $tmp/m >$tmp/b
if [ "$held" = $((14 * 65536)) ] && [ "$bufs" = 14 ] && [ "$peak" = "$held" ] && [ "$folded" -ge 14 ] &&
	! grep -q 'cgroup="/exp/' $tmp/m && cmp -s $tmp/a $tmp/b; then
	pass "--cgroup-depth 1: 14 cgroups' rows folded into /exp ($held bytes, $bufs buffers, one shared by two once, its peak no less), $folded folded; -i: one sample for two scrapes"
else
	fail "--cgroup-depth 1: rows folded into /exp, a shared buffer once, counted; -i: one sample" \
		"held $held, buffers $bufs, peak $peak, folded $folded: $(grep '/exp' $tmp/m | head -n 5; diff $tmp/a $tmp/b | head -n 5)"
fi
kill -INT $p
wait $p
rc=$?
[ $rc = 0 ] && pass "SIGINT: exit 0" || fail "SIGINT: exit 0" "exit $rc: $(cat $tmp/err2)"

# --textfile: replaced whole every interval, its mtime moving
mkdir $tmp/tf
heapstat export --textfile $tmp/tf -i 0.5 2>$tmp/err3 &
p=$!
i=0
while [ ! -s $tmp/tf/heapstat.prom ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ino1=$(stat -c %i $tmp/tf/heapstat.prom)
sleep 2
ino2=$(stat -c %i $tmp/tf/heapstat.prom)
kill -TERM $p
wait $p
rc=$?
last=$(tail -n 1 $tmp/tf/heapstat.prom)
if [ $rc = 0 ] && [ "$ino1" != "$ino2" ] && [ "$(ls -A $tmp/tf)" = heapstat.prom ] &&
	echo "$last" | grep -q '^heapstat_export_scrape_duration_seconds '; then
	pass "--textfile -i 0.5: replaced by rename (inode $ino1 then $ino2), whole, nothing else left"
else
	fail "--textfile -i 0.5: replaced by rename, whole" "exit $rc, inodes $ino1 $ino2, $(ls -A $tmp/tf), last '$last'"
fi

# a full disk (a tmpfs of one page, the exposition larger): the first file
# fails, said as the write's failure (ENOSPC), not the sample's; exit 1 at once
mkdir $tmp/full
if mount -t tmpfs -o size=4k heapstat $tmp/full; then
	heapstat export --textfile $tmp/full -i 0.5 2>$tmp/err4
	rc=$?
	umount $tmp/full
	got=$(grep -v 'not traced' $tmp/err4 | sed 's|/\.heapstat\.prom\.[^ :]*|/TMP|')
	want="heapstat export: cannot write $tmp/full/TMP: No space left on device"
	[ $rc = 1 ] && [ "$got" = "$want" ] &&
		pass "--textfile on a full disk: the write's failure said, exit 1" ||
		fail "--textfile on a full disk: the write's failure said, exit 1" "exit $rc: $got"
else
	fail "--textfile on a full disk" "no tmpfs"
fi

# --cgroup-depth 0: every row the root's, one whose removed cgroup's path the
# kernel cut (over 1,023 bytes: "?<id>") too, not a "?" of its own
n=$(printf 'x%.0s' $(seq 250))
L=/exp/A$n/B$n/C$n/D$n/E$n
mkdir -p $S$L
rs=$(ready_socket)
NOTIFY_SOCKET=$rs heapstat export --listen 127.0.0.1:9473 --cgroup-depth 0 2>$tmp/err4 &
p=$!
wait_ready $rs $p
sh -c 'echo $$ >"$0/cgroup.procs"; exec dmabuf_alloc -H system -s 64K -n 2' "$S$L"
rmdir $S$L $S/exp/A$n/B$n/C$n/D$n $S/exp/A$n/B$n/C$n $S/exp/A$n/B$n $S/exp/A$n
sleep 1.5
scrape 9473
kill -TERM $p
wait $p
if [ -z "$(grep '^heapstat_[a-z_]*{cgroup="[^/]' $tmp/m)" ] &&
	[ "$(val 'heapstat_allocations_total{cgroup="/",heap="system"}')" -ge 2 ]; then
	pass "--cgroup-depth 0: every row the root's, a removed cgroup's not named too"
else
	fail "--cgroup-depth 0: every row the root's, a removed cgroup's not named too" \
		"$(grep 'cgroup=' $tmp/m | grep -v '^#' | head -n 8) $(cat $tmp/err4)"
fi

kill $(jobs -p) $child 2>/dev/null
wait 2>/dev/null
wait_while 'kill -0 $child 2>/dev/null'
for i in $(seq 12); do rmdir $S/exp/c$i 2>/dev/null; done
rmdir $S/exp/sh1 $S/exp/sh2 2>/dev/null
rmdir $S/exp 2>/dev/null
rm -rf $tmp
exit 0
