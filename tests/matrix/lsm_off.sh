#!/bin/bash
# A kernel built with the BPF LSM but booted without it among the active
# LSMs (lsm=lockdown): its programs would load and attach there and never
# run, so a limit would hold nothing. heapstat limit refuses to set one
# (exit 2: the system cannot do it), says why, pins nothing and changes
# nothing; limit show stays empty; exec --create --set removes the cgroups it
# made for the limit.
#
# usage: tests/matrix/lsm_off.sh KERNEL...   (make check: 7.2 6.1)
#
# 7.2 says which LSMs are active (lsm_list_modules(2)); 6.1 does not (no
# securityfs there either): heapstat sees the attached program never run.
# In the matrix's section: 6.1 is built by then.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
check() {
	if [ "$2" = "$3" ]; then
		echo "PASS: $name: $1"
	else
		echo "FAIL: $name: $1: got '$2', want '$3'"
	fi
}
line() { sed -n "s/^lsm_off: $1//p" <<<"$out" | tr -d '\r' | head -n 1; }
want="heapstat limit: the BPF LSM is not active: its programs would attach and never run"
want="$want (boot with bpf in lsm=, or CONFIG_LSM) (bpf-lsm: heap 'system' charges no cgroup)"
for k in "$@"; do
	name="lsm_off $k"
	out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" --cmdline lsm=lockdown --timeout 300 -- sh -c '
		modprobe system_heap 2>/dev/null	# a module on 7.2, built in on 6.1
		mkdir -p /sys/fs/cgroup/x
		heapstat limit set /x system 1M >/tmp/o 2>/tmp/e; rc=$?
		echo "lsm_off: set rc=$rc out=$(wc -c </tmp/o) $(cat /tmp/e)"
		echo "lsm_off: pinned $(ls /sys/fs/bpf/heapstat 2>/dev/null | wc -l)"
		heapstat limit show -j >/tmp/o; echo "lsm_off: show rc=$? $(jq -c . /tmp/o)"
		sh -c "echo \$\$ >/sys/fs/cgroup/x/cgroup.procs; exec dmabuf_alloc -H system -s 4M -n 1"
		echo "lsm_off: alloc rc=$?"
		heapstat limit exec --create --set system=1M /newcg/sub -- true 2>/dev/null
		echo "lsm_off: exec rc=$? $(ls -d /sys/fs/cgroup/newcg 2>/dev/null)"' 2>&1)
	rc=$?
	check "limit set refused, said why" "$(line "set ")" "rc=2 out=0 $want"
	check "nothing pinned" "$(line "pinned ")" 0
	check "limit show: no limit" "$(line "show ")" "rc=0 []"
	check "nothing limited: 4 MiB in /x" "$(line "alloc ")" "rc=0"
	check "exec --create --set refused: exit 2, the cgroups it made gone" "$(line "exec ")" "rc=2 "
	[ $rc = 0 ] || echo "FAIL: $name: scripts/vm exited $rc: $(tail -n 40 <<<"$out")"
done
exit 0
