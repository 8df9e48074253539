#!/bin/sh
# The guest's half of tests/boot/export_prometheus.sh (scripts/vm --load-heaps
# --forward HOST:9464 --forward HOST2:9465 --fetch DIR): heapstat export
# --listen 0.0.0.0:9464 and --textfile /heapstat/out, both --cgroup-depth 1,
# attached before a workload of known sizes starts, so every number the host
# reads back through Prometheus is exact:
#   /gpu             system              3 x 1 MiB
#   /camera          default_cma_region  2 x 2 MiB under a 24 MiB dmem.max,
#                                        and one 32 MiB allocation it refuses
#   /we"ird\name é   system              1 x 64 KiB (a name to escape)
#   /bad<0xff>name   system              1 x 64 KiB (not UTF-8)
#   /bad<0xfe>name   system              1 x 64 KiB (not UTF-8 either: its own series)
#   /bad\xffname     system              1 x 64 KiB (the characters: its own series)
#   /deep/a, /deep/b system              2 + 1 x 64 KiB (folded into /deep)
# Prints "export-ready" when all is held, then waits for the host to connect
# to port 9465, stops both exporters with SIGTERM and prints their statuses.
. /heapstat/tests/lib.sh
S=/sys/fs/cgroup
H=default_cma_region
out=/heapstat/out
w=/tmp/export-w
weird='we"ird\name é'
bad=$(printf 'bad\377name')
bad2=$(printf 'bad\376name')
lit='bad\xffname'
modprobe system_heap || echo "export-workload: modprobe system_heap failed"
mkdir -p $out $w
mkdir -p $S/gpu $S/camera "$S/$weird" "$S/$bad" "$S/$bad2" "$S/$lit" $S/deep
echo "+dmem +memory" >$S/deep/cgroup.subtree_control
mkdir -p $S/deep/a $S/deep/b
echo "dma-heap/$H 24M" >$S/camera/dmem.max
sed -n "s|^dma-heap/$H |capacity=|p" $S/dmem.capacity

ex_rs=$(ready_socket) tf_rs=$(ready_socket)
NOTIFY_SOCKET=$ex_rs heapstat export --listen 0.0.0.0:9464 --cgroup-depth 1 2>$w/listen.err &
ex=$!
NOTIFY_SOCKET=$tf_rs heapstat export --textfile $out -i 1 --cgroup-depth 1 2>$w/textfile.err &
tf=$!
wait_ready $ex_rs $ex
wait_ready $tf_rs $tf

# run CGROUP ARGS...: dmabuf_alloc in CGROUP, in the background
run() {
	cg=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs"; exec dmabuf_alloc "$@"' "$S$cg" "$@" &
}
run /gpu -H system -s 1M -n 3 -w 900 -R $w/gpu
run /camera -H $H -s 2M -n 2 -w 900 -R $w/camera
run "/$weird" -H system -s 64K -n 1 -w 900 -R $w/weird
run "/$bad" -H system -s 64K -n 1 -w 900 -R $w/bad
run "/$bad2" -H system -s 64K -n 1 -w 900 -R $w/bad2
run "/$lit" -H system -s 64K -n 1 -w 900 -R $w/lit
run /deep/a -H system -s 64K -n 2 -w 900 -R $w/a
run /deep/b -H system -s 64K -n 1 -w 900 -R $w/b
i=0
while [ "$(ls $w | grep -cv err)" -lt 8 ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
sh -c 'echo $$ >'$S'/camera/cgroup.procs; exec dmabuf_alloc -H '$H' -s 32M' 2>$w/refused.err &&
	echo "the 32 MiB allocation over /camera's limit was not refused"
ls $w
echo "export-ready"

# until the host has read what it wanted
nc -l -p 9465 </dev/null >/dev/null
kill -TERM $ex $tf
wait $ex
r1=$?
wait $tf
r2=$?
echo "export-exit $r1 $r2"
cat $w/listen.err $w/textfile.err
kill $(jobs -p) 2>/dev/null
wait 2>/dev/null
exit 0
