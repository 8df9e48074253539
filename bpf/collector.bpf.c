// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat's collector: every DMA_HEAP_IOCTL_ALLOC attempt (heap, length,
 * result, latency, and for failures the CMA facts that classify them), every
 * dma-buf export and final release (exporter, size, inode, task, cgroup),
 * and every CMA allocation and release. Events go through a ring buffer,
 * without waking the reader (it drains the ring on its own schedule, which
 * saves a wakeup per event); what does not fit is counted in `dropped`.
 *
 * Attach variants: dma_buf_export through its tracepoint (7.0+) or fexit
 * (older); user space disables the one the kernel cannot take before load.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "collector_events.h"
#include "core_fixes.bpf.h"

#define DMA_HEAP_IOCTL_ALLOC_NR	0	/* _IOC_NR(DMA_HEAP_IOCTL_ALLOC) */
#define IOC_NR(cmd)		((cmd) & 0xff)
#define IOC_TYPE(cmd)		(((cmd) >> 8) & 0xff)
#define DMA_HEAP_IOC_MAGIC	'H'
#define MAX_BUFFERS		(1 << 17)
#define MAX_INFLIGHT		4096

/* filled in before load */
const volatile __u64 page_size = 4096;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* an ioctl or a CMA allocation in progress, per thread */
struct inflight {
	__u64 start_ns;
	__u64 len;
	__u64 cma_start_ns;
	__u64 cma_request;
	__u64 cma_available;
	__u32 cma_busy;
	__u32 in_heap_alloc;
	char heap[COLL_NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* live buffers seen exported: struct dma_buf address -> export time */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_BUFFERS);
	__type(key, __u64);
	__type(value, __u64);
} buffers SEC(".maps");

__u64 dropped = 0;		/* events the ring buffer had no room for */
__u64 untracked = 0;		/* buffers or calls a full map could not hold */

static __always_inline struct coll_event *event_new(__u32 type)
{
	struct coll_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline bool is_heap_alloc(unsigned int cmd)
{
	return IOC_TYPE(cmd) == DMA_HEAP_IOC_MAGIC && IOC_NR(cmd) == DMA_HEAP_IOCTL_ALLOC_NR;
}

SEC("fentry/dma_heap_ioctl")
int BPF_PROG(dma_heap_ioctl_entry, struct file *file, unsigned int cmd, unsigned long arg)
{
	struct inflight f = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	const char *name;

	if (!is_heap_alloc(cmd))
		return 0;
	f.start_ns = bpf_ktime_get_ns();
	f.in_heap_alloc = 1;
	/* the len as asked for: struct dma_heap_allocation_data starts with it */
	bpf_probe_read_user(&f.len, sizeof(f.len), (void *)arg);
	name = heap_name_of_file(file);
	if (name)
		bpf_probe_read_kernel_str(f.heap, sizeof(f.heap), name);
	if (bpf_map_update_elem(&inflight, &tid, &f, BPF_ANY))
		__sync_fetch_and_add(&untracked, 1);
	return 0;
}

static __always_inline __u32 classify(const struct inflight *f, long ret)
{
	if (ret == -11)			/* -EAGAIN: dmem.max */
		return FAIL_LIMIT;
	if (!f->cma_start_ns)	/* the heap refused before asking CMA */
		return ret == -12 ? FAIL_CAPACITY : FAIL_OTHER;
	if (f->cma_request > f->cma_available)
		return FAIL_CAPACITY;
	if (f->cma_busy)
		return FAIL_BUSY;
	return FAIL_FRAGMENTATION;
}

SEC("fexit/dma_heap_ioctl")
int BPF_PROG(dma_heap_ioctl_exit, struct file *file, unsigned int cmd, unsigned long arg, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *f;
	struct coll_event *e;

	if (!is_heap_alloc(cmd))
		return 0;
	f = bpf_map_lookup_elem(&inflight, &tid);
	if (!f)
		return 0;
	e = event_new(EV_HEAP_ALLOC);
	if (e) {
		e->err = ret;
		e->bytes = f->len;
		e->latency_ns = e->ts_ns - f->start_ns;
		e->fail_class = ret ? classify(f, ret) : FAIL_NONE;
		e->cma_busy = f->cma_busy;
		e->cma_request = f->cma_request;
		e->cma_available = f->cma_available;
		__builtin_memcpy(e->name, f->heap, sizeof(e->name));
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

/* size, inode and exporter of a buffer into its event */
static __always_inline void fill_buffer(struct coll_event *e, const struct dma_buf *dmabuf)
{
	const char *p;

	e->bytes = BPF_CORE_READ(dmabuf, size);
	e->ino = BPF_CORE_READ(dmabuf, file, f_inode, i_ino);
	p = BPF_CORE_READ(dmabuf, exp_name);
	if (p)
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), p);
}

static __always_inline void on_export(struct dma_buf *dmabuf)
{
	__u64 key = (__u64)dmabuf, now = bpf_ktime_get_ns();
	struct coll_event *e;

	if (bpf_map_update_elem(&buffers, &key, &now, BPF_ANY))
		__sync_fetch_and_add(&untracked, 1);
	e = event_new(EV_BUF_EXPORT);
	if (!e)
		return;
	fill_buffer(e, dmabuf);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* 7.0+: the dma_buf_export tracepoint */
SEC("tp_btf/dma_buf_export")
int BPF_PROG(dma_buf_export_tp, struct dma_buf *dmabuf)
{
	on_export(dmabuf);
	return 0;
}

/* older kernels */
SEC("fexit/dma_buf_export")
int BPF_PROG(dma_buf_export_fexit, const struct dma_buf_export_info *info, struct dma_buf *ret)
{
	if ((unsigned long)ret < (unsigned long)-4095)	/* !IS_ERR */
		on_export(ret);
	return 0;
}

SEC("fentry/dma_buf_release")
int BPF_PROG(dma_buf_release, struct dentry *dentry)
{
	struct dma_buf *dmabuf = BPF_CORE_READ(dentry, d_fsdata);
	__u64 key = (__u64)dmabuf, *born;
	struct coll_event *e;

	if (!dmabuf)	/* the export failed after making the file */
		return 0;
	e = event_new(EV_BUF_RELEASE);
	if (!e)
		goto out;
	born = bpf_map_lookup_elem(&buffers, &key);
	e->latency_ns = born ? e->ts_ns - *born : 0;	/* 0: exported before we attached */
	fill_buffer(e, dmabuf);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
out:
	bpf_map_delete_elem(&buffers, &key);
	return 0;
}

static __always_inline struct inflight *cma_inflight(bool create)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *f = bpf_map_lookup_elem(&inflight, &tid), zero = {};

	if (f || !create)
		return f;
	/* CMA asked by something other than a heap ioctl */
	bpf_map_update_elem(&inflight, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&inflight, &tid);
}

SEC("tp_btf/cma_alloc_start")
int BPF_PROG(cma_alloc_start, const char *name, unsigned long count,
	     unsigned long available, unsigned long total, unsigned int align)
{
	struct inflight *f = cma_inflight(true);

	if (!f) {
		__sync_fetch_and_add(&untracked, 1);
		return 0;
	}
	f->cma_start_ns = bpf_ktime_get_ns();
	f->cma_request = count;
	f->cma_available = available;
	f->cma_busy = 0;
	return 0;
}

SEC("tp_btf/cma_alloc_busy_retry")
int BPF_PROG(cma_alloc_busy_retry, const char *name, unsigned long pfn,
	     const struct page *page, unsigned long count, unsigned int align)
{
	struct inflight *f = cma_inflight(false);

	if (f)
		f->cma_busy++;
	return 0;
}

SEC("tp_btf/cma_alloc_finish")
int BPF_PROG(cma_alloc_finish, const char *name, unsigned long pfn, const struct page *page,
	     unsigned long count, unsigned int align, int err)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *f = cma_inflight(false);
	struct coll_event *e = event_new(EV_CMA_ALLOC);

	if (e) {
		e->err = err;
		e->pfn = pfn;
		e->bytes = count * page_size;
		if (f) {
			e->latency_ns = e->ts_ns - f->cma_start_ns;
			e->cma_busy = f->cma_busy;
			e->cma_request = f->cma_request;
			e->cma_available = f->cma_available;
		}
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	/* a heap ioctl keeps its entry for the class of its failure */
	if (f && !f->in_heap_alloc)
		bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

SEC("tp_btf/cma_release")
int BPF_PROG(cma_release, const char *name, unsigned long pfn, const struct page *page,
	     unsigned long count)
{
	struct coll_event *e = event_new(EV_CMA_RELEASE);

	if (!e)
		return 0;
	e->pfn = pfn;
	e->bytes = count * page_size;
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
