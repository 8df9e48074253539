#!/bin/sh
# How a one-shot report names its holders' cgroups: from the cgroup2
# directories while the tree is small, with iter/cgroup from 350 cgroups
# below the root (tools/lib/inventory.c, CG_ITER_MIN: below that, loading the
# iterator costs more than the walk); either way the same path for a holder.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
S=/sys/fs/cgroup
MIN=350
pids=
pass() { echo "PASS: cgroup_walk: $1"; }
fail() { echo "FAIL: cgroup_walk: $1: $2"; }
below() { sed -n 's/^nr_descendants //p' $S/cgroup.stat; }

alloc_in cw/a/b "$tmp/ready" 120 -H system -s 4K -n 2
holder=$!
i=0
while [ ! -e "$tmp/ready" ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -lt 300 ] || { fail setup "workload not ready"; kill $pids; exit 0; }
done

# name SOURCE WHAT: the holder's cgroup, and what named it (heapstat -v)
name() {
	heapstat -v report -j >"$tmp/out" 2>"$tmp/err" || { fail "$2" "exit $?: $(cat "$tmp/err")"; return; }
	if ! grep -qxF "heapstat report: cgroups named from $1" "$tmp/err"; then
		fail "$2" "not named from $1 with $(below) cgroups: $(cat "$tmp/err")"
	elif ! jq_true --argjson p $holder '.processes[] | select(.pid == $p) | .cgroup == "/cw/a/b"' \
	    "$tmp/out"; then
		fail "$2" "holder $holder not in /cw/a/b: $(jq -c .processes "$tmp/out")"
	else
		pass "$2"
	fi
}

n=$(below)
if [ "$n" -lt $MIN ]; then
	name "the cgroup2 directories" "$n cgroups: the directories walked, the holder's path"
else
	fail "small tree" "$n cgroups below the root before the test made any more"
fi
# up to the threshold, beside the holder
mkdir -p $S/cw/many
k=0
while [ "$(below)" -lt $MIN ]; do
	k=$((k + 1))
	mkdir $S/cw/many/c$k || break
done
name "iter/cgroup" "$(below) cgroups: iter/cgroup loaded, the same path"

kill $pids 2>/dev/null
wait 2>/dev/null
while [ $k -gt 0 ]; do rmdir $S/cw/many/c$k; k=$((k - 1)); done
rmdir $S/cw/many $S/cw/a/b $S/cw/a $S/cw 2>/dev/null
rm -rf "$tmp"
exit 0
