// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of tracing a heap allocation at all: programs that only count,
 * on the hooks heapstat's collector uses on an alloc+free (an fentry and an
 * fexit on dma_heap_ioctl; the dma_buf_export tracepoint; an fentry on
 * dma_buf_file_release). make bench attaches the ioctl pair alone (the issue's
 * minimal program) and all four (the cost of the hooks before any work),
 * and measures heapstat's collector against both. The limit benchmark
 * (tests/bench/limit_bench.c) loads floor_lsm_ioctl and floor_lsm_release
 * too (not loaded otherwise: they need the BPF LSM) with the export counter:
 * the least a limit that sees the request, the buffer and its release costs.
 *
 * The need_* programs take the same four hooks and call what aggregate mode
 * cannot do without, and nothing else: the thread's storage at the ioctl's
 * entry, the export and the exit (the call's state, as the collector keeps
 * it), a clock read at the entry, the exit and the release (a latency and
 * a lifetime), the cgroup's id at the export. The floor of any collector
 * that keeps what heapstat's aggregate mode keeps, this way.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "dmabuf_iter.h"	/* DMA_BUF_MAGIC */

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

/*
 * The buffer's end as a limit takes it: an LSM program (the kernel never
 * skips one) for every inode freed, counting the dma-bufs'. Loaded by the
 * limit benchmark only, as floor_lsm_ioctl.
 */
SEC("lsm/inode_free_security")
int BPF_PROG(floor_lsm_release, struct inode *inode)
{
	if (inode->i_sb->s_magic == DMA_BUF_MAGIC)
		__sync_fetch_and_add(&releases, 1);
	return 0;
}

struct need {
	__u64 start_ns;
	__u64 cgroup_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct need);
} needs SEC(".maps");

__u64 need_sum = 0;	/* what they read, kept so that nothing is optimised out */

SEC("fentry/dma_heap_ioctl")
int BPF_PROG(need_entry)
{
	struct need *n = bpf_task_storage_get(&needs, bpf_get_current_task_btf(), NULL,
					      BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (n)
		n->start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/dma_buf_export")
int BPF_PROG(need_export)
{
	struct need *n = bpf_task_storage_get(&needs, bpf_get_current_task_btf(), NULL, 0);

	if (n)
		n->cgroup_id = bpf_get_current_cgroup_id();
	return 0;
}

SEC("fexit/dma_heap_ioctl")
int BPF_PROG(need_exit)
{
	struct need *n = bpf_task_storage_get(&needs, bpf_get_current_task_btf(), NULL, 0);

	if (n)
		__sync_fetch_and_add(&need_sum, bpf_ktime_get_ns() - n->start_ns + n->cgroup_id);
	return 0;
}

SEC("fentry/dma_buf_file_release")
int BPF_PROG(need_release)
{
	__sync_fetch_and_add(&need_sum, bpf_ktime_get_ns());
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
