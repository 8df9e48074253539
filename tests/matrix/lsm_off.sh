#!/bin/bash
# A kernel built with the BPF LSM but booted without it among the active
# LSMs (lsm=lockdown): its programs would load and attach there and never
# run, so a limit would hold nothing. heapstat limit refuses to set one
# (exit 2: the system cannot do it), says why, pins nothing and changes
# nothing; limit show stays empty; exec --create --set removes the cgroups it
# made for the limit; exec --set with a dmem limit before the refused one
# leaves dmem.max as it was, and exec --create with one enables no controller
# at the root (7.2, its CMA heap module loaded).
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
	heaps=
	[ "$k" = 7.2 ] && heaps="--load heapstat_cma_heap"	# no heap modules for 6.1
	out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --kernel "$k" $heaps --cmdline lsm=lockdown \
		--timeout 300 -- sh -c '
		modprobe system_heap 2>/dev/null	# a module on 7.2, built in on 6.1
		mkdir -p /sys/fs/cgroup/x
		heapstat limit set /x system 1M >/tmp/o 2>/tmp/e; rc=$?
		echo "lsm_off: set rc=$rc out=$(wc -c </tmp/o) $(cat /tmp/e)"
		echo "lsm_off: pinned $(ls /sys/fs/bpf/heapstat 2>/dev/null | wc -l)"
		heapstat limit show -j >/tmp/o; echo "lsm_off: show rc=$? $(jq -c . /tmp/o)"
		sh -c "echo \$\$ >/sys/fs/cgroup/x/cgroup.procs; exec dmabuf_alloc -H system -s 4M -n 1"
		echo "lsm_off: alloc rc=$?"
		heapstat limit exec --create --set system=1M /newcg/sub -- true 2>/dev/null
		echo "lsm_off: exec rc=$? $(ls -d /sys/fs/cgroup/newcg 2>/dev/null)"
		H=default_cma_region
		if [ -e /dev/dma_heap/$H ]; then
			echo on >/sys/module/heapstat_core/parameters/accounting	# it charges dmem
			mkdir /sys/fs/cgroup/y
			heapstat limit exec --set $H=1M --set system=1M /y -- true 2>/dev/null
			echo "lsm_off: mixed rc=$? $(cat /sys/fs/cgroup/y/dmem.max)"
			# dmem off for the root'"'"'s children: exec --create would enable it
			echo -dmem >/sys/fs/cgroup/cgroup.subtree_control
			heapstat limit exec --create --set $H=1M --set system=1M /newz/sub -- true 2>/dev/null
			echo "lsm_off: root rc=$? $(ls -d /sys/fs/cgroup/newz 2>/dev/null)$(grep -o dmem \
				/sys/fs/cgroup/cgroup.subtree_control)"
		else
			echo "lsm_off: mixed none"
			echo "lsm_off: root none"
		fi' 2>&1)
	rc=$?
	check "limit set refused, said why" "$(line "set ")" "rc=2 out=0 $want"
	check "nothing pinned" "$(line "pinned ")" 0
	check "limit show: no limit" "$(line "show ")" "rc=0 []"
	check "nothing limited: 4 MiB in /x" "$(line "alloc ")" "rc=0"
	check "exec --create --set refused: exit 2, the cgroups it made gone" "$(line "exec ")" "rc=2 "
	if [ "$k" = 7.2 ]; then
		check "exec --set dmem and bpf-lsm refused: exit 2, dmem.max as it was" \
			"$(line "mixed ")" "rc=2 dma-heap/default_cma_region max"
		check "exec --create --set dmem and bpf-lsm refused before anything is made: no cgroup, dmem not enabled at the root" \
			"$(line "root ")" "rc=2 "
	else
		check "no heap modules: no dmem limit to leave as it was" "$(line "mixed ")" none
		check "no heap modules: no dmem to enable at the root" "$(line "root ")" none
	fi
	[ $rc = 0 ] || echo "FAIL: $name: scripts/vm exited $rc: $(tail -n 40 <<<"$out")"
done
exit 0
