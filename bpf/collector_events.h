/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by collector.bpf.c and user space: fixed-width fields only. */
#ifndef HEAPSTAT_COLLECTOR_EVENTS_H
#define HEAPSTAT_COLLECTOR_EVENTS_H

#define COLL_NAME_LEN	32
#define COLL_COMM_LEN	16

enum coll_event_type {
	EV_HEAP_ALLOC = 1,	/* one DMA_HEAP_IOCTL_ALLOC, failed or not */
	EV_BUF_EXPORT,		/* a dma-buf was exported */
	EV_BUF_RELEASE,		/* its final release */
	EV_CMA_ALLOC,		/* one cma_alloc(), start to finish */
	EV_CMA_RELEASE,
};

/* why an allocation failed, when CMA was asked */
enum coll_fail_class {
	FAIL_NONE,
	FAIL_CAPACITY,		/* request > free pages of the area, or -ENOMEM
				 * before any CMA call (more than the heap has) */
	FAIL_FRAGMENTATION,	/* request <= free, but no free range large enough */
	FAIL_BUSY,		/* pages in the way could not be migrated (busy retry) */
	FAIL_LIMIT,		/* a cgroup limit (-EAGAIN) */
	FAIL_OTHER,		/* bad input and the like (-EINVAL, ...) */
};

struct coll_event {
	__u32 type;
	__u32 pid;		/* thread */
	__u32 tgid;
	__s32 err;		/* 0 or -errno */
	__u64 ts_ns;
	__u64 cgroup_id;	/* the task's cgroup2 id */
	__u64 bytes;		/* requested len, buffer size, or CMA pages * page size */
	__u64 latency_ns;	/* allocs: duration; release: lifetime */
	__u64 ino;		/* dma-buf inode */
	__u64 pfn;		/* CMA: first pfn */
	__u32 fail_class;	/* enum coll_fail_class */
	__u32 cma_busy;		/* busy retries seen during the call */
	__u64 cma_request;	/* pages CMA was asked for, and had free then */
	__u64 cma_available;
	char comm[COLL_COMM_LEN];
	char name[COLL_NAME_LEN];	/* heap, exporter or CMA area */
};

#endif /* HEAPSTAT_COLLECTOR_EVENTS_H */
