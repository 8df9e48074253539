#!/bin/sh
# The activity test again, with the collector on kprobes and raw tracepoints
# (what kernels without BPF trampolines get): the same exact numbers.
ATTACH=kprobe exec sh "$(dirname "$0")/activity_test.sh"
