#!/bin/bash
# scripts/vm's contract: kernel version, exit status, argument passing, --add,
# the dmesg scan and the timeout. Each case boots the reference kernel.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
vm() { HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS: vm_runner: $1"; }
fail() { echo "FAIL: vm_runner: $1: $2"; }

# one boot for what needs no boot of its own: the kernel, the arguments, an
# added file, the network without --forward (a loopback up, no eth0), the mounts
echo "hello from the host" >"$tmp/note"
out=$(vm --add "$tmp/note:/etc/note" -- sh -c 'uname -r; printf "%s|" "$@"; echo; cat /etc/note
	ip -o link show lo | grep -c "UP"; ip link show eth0 >/dev/null 2>&1 || echo none
	cat /proc/sys/kernel/randomize_va_space
	for t in proc sysfs devtmpfs debugfs tracefs bpf cgroup2; do
		grep -q " $t " /proc/mounts || echo "missing $t"
	done
	cat /sys/fs/cgroup/cgroup.subtree_control' argv0 "a b" "it's" '$HOME' 2>"$tmp/err"); rc=$?
line() { sed -n "${1}p" <<<"$out"; }
if [ $rc = 0 ] && [[ "$(line 1)" =~ ^7\.2\.[0-9]+$ ]]; then pass "uname prints 7.2.x"
else fail "uname prints 7.2.x" "exit $rc, output '$out' $(cat "$tmp/err")"; fi
if [ $rc = 0 ] && [ "$(line 2)" = "a b|it's|\$HOME|" ]; then pass "arguments arrive unchanged"
else fail "arguments arrive unchanged" "exit $rc, output '$out'"; fi
if [ $rc = 0 ] && [ "$(line 3)" = "hello from the host" ]; then pass "--add copies a file"
else fail "--add copies a file" "exit $rc, output '$out'"; fi
if [ $rc = 0 ] && [ "$(line 4)" = 1 ] && [ "$(line 5)" = none ]; then pass "no --forward: loopback up, no eth0"
else fail "no --forward: loopback up, no eth0" "exit $rc, output '$out'"; fi
# address-space randomization off unless --aslr (below)
if [ $rc = 0 ] && [ "$(line 6)" = 0 ]; then pass "the guest boots with norandmaps"
else fail "the guest boots with norandmaps" "exit $rc, output '$out'"; fi
rest=$(sed 1,6d <<<"$out")
if [ $rc = 0 ] && ! grep -q missing <<<"$rest" && grep -qw dmem <<<"$rest" && grep -qw memory <<<"$rest"; then
	pass "filesystems mounted, controllers enabled"
else fail "filesystems mounted, controllers enabled" "exit $rc, output '$out'"; fi

got=$(vm --aslr -- cat /proc/sys/kernel/randomize_va_space 2>"$tmp/err"); rc=$?
if [ $rc = 0 ] && [ "$got" = 2 ]; then pass "--aslr: the guest randomizes its address spaces"
else fail "--aslr: the guest randomizes its address spaces" "exit $rc, output '$got' $(cat "$tmp/err")"; fi

vm -- false 2>"$tmp/err"; rc=$?
if [ $rc = 1 ]; then pass "false exits 1"; else fail "false exits 1" "exit $rc"; fi

vm -- sh -c 'exit 7' 2>"$tmp/err"; rc=$?
if [ $rc = 7 ]; then pass "exit status passes through"; else fail "exit status passes through" "exit $rc"; fi

vm -- sh -c 'echo "WARNING: test" >/dev/kmsg' 2>"$tmp/err"; rc=$?
if [ $rc != 0 ] && grep -q 'WARNING: test' "$tmp/err"; then pass "dmesg WARNING fails the run"
else fail "dmesg WARNING fails the run" "exit $rc, stderr: $(cat "$tmp/err")"; fi

start=$(date +%s)
vm --timeout 8 -- sleep 1000 2>"$tmp/err"; rc=$?
took=$(( $(date +%s) - start ))
if [ $rc = 124 ] && grep -q 'timeout: .*it had reached: ' "$tmp/err" && [ $took -lt 40 ]; then
	pass "hung guest killed at the timeout, saying how far it got"
else fail "hung guest killed at the timeout, saying how far it got" "exit $rc after ${took}s: $(cat "$tmp/err")"; fi

# guest_up [OPTION...]: a guest that prints "up" and sleeps, in the background
# (its scripts/vm's pid in $v: a signal to it stops the guest), once it
# printed or ended
guest_up() {
	HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" "$@" --timeout 300 -- \
		sh -c 'echo up; exec sleep 1000' >"$tmp/out" 2>"$tmp/err" &
	v=$!
	for _ in $(seq 600); do
		grep -q '^up' "$tmp/out" 2>/dev/null && break
		kill -0 $v 2>/dev/null || break
		sleep 0.2
	done
}

# a signal stops the guest at once, and scripts/vm says how far it got (its
# command had started: it printed)
guest_up
start=$(date +%s)
kill $v
wait $v; rc=$?
took=$(( $(date +%s) - start ))
if [ $rc = 130 ] && grep -q 'stopped; the guest had reached: init modules command$' "$tmp/err" &&
	[ $took -lt 20 ]; then pass "a signal stops the guest at once, saying how far it got"
else fail "a signal stops the guest at once, saying how far it got" "exit $rc after ${took}s: $(cat "$tmp/out" "$tmp/err")"; fi

# a guest that never reaches its init (QEMU's CPUs held stopped, -S) is booted
# once more, then given up
start=$(date +%s)
HEAPSTAT_VM_BOOT_SECS=4 HEAPSTAT_QEMU_EXTRA=-S vm -- true 2>"$tmp/err"; rc=$?
took=$(( $(date +%s) - start ))
if [ $rc != 0 ] && [ "$(grep -c 'init did not start in 4s; booting again' "$tmp/err")" = 1 ] &&
	grep -q 'init did not start in 4s, twice' "$tmp/err" && [ $took -lt 60 ]; then
	pass "a boot that never reaches init is tried twice, then given up"
else fail "a boot that never reaches init is tried twice, then given up" "exit $rc after ${took}s: $(cat "$tmp/err")"; fi

# --forward: a host port reaches a guest's listening socket (QEMU's user
# networking)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
vm --timeout 120 --forward "$port:8080" -- sh -c 'ip -o addr show eth0 | grep -o "inet [0-9./]*"
	echo hello-from-guest | nc -l -p 8080' >"$tmp/out" 2>"$tmp/err" &
v=$!
got=
for _ in $(seq 300); do
	# a connection before the guest listens ends at once; the one it takes may
	# bring its line seconds later on a busy host, and is the only one
	got=$(timeout 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && cat <&3" 2>/dev/null)
	[ -n "$got" ] && break
	kill -0 $v 2>/dev/null || break
	sleep 0.2
done
wait $v; rc=$?
if [ $rc = 0 ] && [ "$got" = hello-from-guest ] && grep -q 'inet 10.0.2.15/24' "$tmp/out"; then
	pass "--forward: the host's port reaches the guest (eth0 10.0.2.15/24)"
else fail "--forward: the host's port reaches the guest" "exit $rc, got '$got': $(cat "$tmp/out" "$tmp/err")"; fi

# the guest's CPUs: by default taken in turns by one host thread of QEMU's
# (single-threaded TCG), one thread each with --mttcg: told by the names of
# QEMU's threads, which scripts/vm turns on
tcg_threads() {	# the TCG threads of the QEMU under pid $1, as "name,name"
	local pids=$1 all= p
	while [ -n "$pids" ]; do
		all="$all $pids"
		pids=$(for p in $pids; do pgrep -P "$p"; done)
	done
	for p in $all; do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ] || continue
		cat /proc/"$p"/task/*/comm 2>/dev/null | grep '/TCG$' | sort | paste -sd,
	done
}
for mode in "" --mttcg; do
	HEAPSTAT_ACCEL=tcg guest_up $mode	# of TCG's threads: not on KVM
	got=$(tcg_threads $v)
	kill $v
	wait $v
	want="ALL CPUs/TCG" what="the guest's two CPUs run in turns by one host thread"
	[ -z "$mode" ] || want="CPU 0/TCG,CPU 1/TCG" what="--mttcg: a host thread for each of the guest's CPUs"
	if [ "$got" = "$want" ]; then pass "$what"
	else fail "$what" "QEMU's TCG threads '$got', want '$want': $(cat "$tmp/err")"; fi
done
vm --mttcg --icount -- true 2>"$tmp/err"; rc=$?
if [ $rc != 0 ] && grep -q -- '--mttcg and --icount exclude each other' "$tmp/err"; then
	pass "--mttcg with --icount is refused"
else fail "--mttcg with --icount is refused" "exit $rc: $(cat "$tmp/err")"; fi

vm --kernel /nonexistent -- true 2>"$tmp/err"; rc=$?
if [ $rc != 0 ] && grep -q "nonexistent" "$tmp/err"; then pass "bad --kernel is refused"
else fail "bad --kernel is refused" "exit $rc"; fi
exit 0
