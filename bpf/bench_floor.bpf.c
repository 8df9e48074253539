// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of tracing a heap allocation at all: an fentry and an fexit on
 * dma_heap_ioctl that only count. make bench measures heapstat's collector
 * against it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 entries = 0, exits = 0;

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

char LICENSE[] SEC("license") = "GPL";
