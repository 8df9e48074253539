// SPDX-License-Identifier: GPL-2.0
/*
 * For tests only: widens the window between the dma_buf_fd tracepoint and
 * the install of the fd it announces (dma_buf_fd() and dma_buf_fd_install()
 * fire it first), by spinning delay_ns in the tracepoint when the process
 * target_tgid makes an fd. Attached after heaptop's collector, it runs after
 * the collector has logged the fd, so that a frame can walk the process
 * while its fd is not there yet (tests/vm/fd_window.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid = 0;
const volatile __u64 delay_ns = 0;
__u64 delayed = 0;

static long until_due(__u64 i, void *due)
{
	return bpf_ktime_get_ns() >= *(__u64 *)due;
}

SEC("raw_tp/dma_buf_fd")
int fd_window(void *ctx)
{
	__u64 due;

	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	due = bpf_ktime_get_ns() + delay_ns;
	for (int i = 0; i < 64 && bpf_ktime_get_ns() < due; i++)
		bpf_loop(1 << 20, until_due, &due, 0);
	__sync_fetch_and_add(&delayed, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
