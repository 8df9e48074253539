// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of tracing a heap allocation at all: programs that only count,
 * on the hooks heapstat's collector uses on an alloc+free (an fentry and an
 * fexit on dma_heap_ioctl; the dma_buf_export tracepoint; an fentry on
 * dma_buf_file_release). make bench attaches the ioctl pair alone (the issue's
 * minimal program) and all four (the cost of the hooks before any work),
 * and measures heapstat's collector against both. The limit benchmark
 * (tests/bench/limit_bench.c) loads floor_lsm_ioctl too (not loaded
 * otherwise: it needs the BPF LSM) with the export and release counters:
 * the least a limit that sees the request, the buffer and its release costs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 entries = 0, exits = 0, exports = 0, releases = 0;

__u64 ioctls = 0;

SEC("lsm.s/file_ioctl")
int BPF_PROG(floor_lsm_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	__sync_fetch_and_add(&ioctls, 1);
	return ret;
}

SEC("fentry/dma_heap_ioctl")
int BPF_PROG(floor_entry)
{
	__sync_fetch_and_add(&entries, 1);
	return 0;
}

SEC("fexit/dma_heap_ioctl")
int BPF_PROG(floor_exit)
{
	__sync_fetch_and_add(&exits, 1);
	return 0;
}

SEC("tp_btf/dma_buf_export")
int BPF_PROG(floor_export)
{
	__sync_fetch_and_add(&exports, 1);
	return 0;
}

SEC("fentry/dma_buf_file_release")
int BPF_PROG(floor_release)
{
	__sync_fetch_and_add(&releases, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
