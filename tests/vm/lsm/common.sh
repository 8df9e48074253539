# Sourced by the bpf-lsm backend's tests (backend.sh, toctou.sh): helpers,
# and a skip unless the system heap charges nobody and the BPF LSM is active.
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
usage() { lsm_limit get $1 ${2:-system} | field usage; }	# usage CGROUP [HEAP]
# wait_file FILE PID [SECS]: until FILE exists or PID is gone (SECS, 30 unless
# given, at most)
wait_file() {
	_i=0
	while [ ! -e "$1" ] && kill -0 $2 2>/dev/null && [ $_i -lt $((${3:-30} * 10)) ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -e "$1" ]
}
# hold CGROUP SIZE N NAME: dmabuf_alloc in CGROUP holding N buffers; its pid in $held.
# It holds them for an hour: on the debug kernel this suite takes over 20
# minutes, and one check's allocations alone can take 10.
hold() {
	sh -c "echo \$\$ >$S$1/cgroup.procs; exec dmabuf_alloc -s $2 -n $3 -R $tmp/$4 -w 3600" &
	held=$!
	wait_file $tmp/$4 $held
}
# alloc CGROUP SIZE N: allocate and exit; dmabuf_alloc's message in $tmp/err, its pid in $apid
alloc() {
	sh -c "echo \$\$ >$S$1/cgroup.procs; exec dmabuf_alloc -s $2 -n $3" 2>$tmp/err &
	apid=$!
	wait $apid
}
# usage_is CGROUP BYTES [HEAP]: within 5 s (a release is deferred to the exiting task's last fput)
usage_is() {
	_i=0
	while [ "$(usage $1 $3)" != "$2" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ "$(usage $1 $3)" = "$2" ]
}

[ -e /dev/dma_heap/system ] || skip "no system heap (scripts/vm --load system_heap)"
# (no such parameter before 7.x: the system heap charged nobody)
[ "$(cat /sys/module/dma_heap/parameters/mem_accounting 2>/dev/null || echo N)" = N ] ||
	skip "dma_heap.mem_accounting is on: the system heap charges memcg"
# the BPF LSM is active: securityfs's list says so, else the boot (the
# reference kernel has no securityfs)
if [ -e /sys/kernel/security/lsm ]; then
	grep -q '\bbpf\b' /sys/kernel/security/lsm || skip "no BPF LSM ($(cat /sys/kernel/security/lsm))"
else
	dmesg | grep -q 'LSM support for eBPF active' || skip "no BPF LSM (not in CONFIG_LSM or lsm=)"
fi
