#!/bin/sh
# The running kernel's ftrace callbacks sit at even addresses. 7.x's ftrace
# reads a call target's low bit as "a jump, not a call"
# (CONFIG_DYNAMIC_FTRACE_WITH_JMP) on its own callbacks too: one at an odd
# address is entered a byte short, and the kernel oopses whenever a BPF
# trampoline is rebuilt while tasks run through it, as heapstat's collectors
# do when a second one attaches (scripts/kconfig/heapstat-7.2.config).
pass() { echo "PASS: ftrace: $1"; }
fail() { echo "FAIL: ftrace: $1: $2"; }
syms="ftrace_ops_list_func ftrace_ops_assist_func call_direct_funcs ftrace_stub"
got=$(awk -v want=" $syms " '$2 ~ /^[tT]$/ && index(want, " " $3 " ") {print $3, $1}' /proc/kallsyms)
n=$(echo "$got" | grep -c .)
odd=$(echo "$got" | awk '$2 ~ /[13579bdf]$/ {print $1}')
zero=$(echo "$got" | awk '$2 ~ /^0+$/ {print $1}')
if [ "$n" = 4 ] && [ -z "$odd" ] && [ -z "$zero" ]; then
	pass "its callbacks at even addresses ($(echo "$got" | tr '\n' ' '| sed 's/ $//'))"
else
	fail "its callbacks at even addresses" "found $n of 4; odd: ${odd:-none}; hidden: ${zero:-none}"
fi
