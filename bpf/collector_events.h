/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by collector.bpf.c and user space: fixed-width fields only. */
#ifndef HEAPSTAT_COLLECTOR_EVENTS_H
#define HEAPSTAT_COLLECTOR_EVENTS_H

#include "heap_name.h"

#ifndef __always_inline		/* user space */
#define __always_inline inline __attribute__((always_inline))
#endif

#define COLL_NAME_LEN	HEAP_NAME_LEN
#define COLL_COMM_LEN	16

enum coll_event_type {
	EV_HEAP_ALLOC = 1,	/* one DMA_HEAP_IOCTL_ALLOC, failed or not; with the
				 * buffer it exported under the heap's name (ino) */
	EV_BUF_EXPORT,		/* a dma-buf exported otherwise */
	EV_BUF_RELEASE,		/* its final release */
	EV_CMA_ALLOC,		/* one cma_alloc(), start to finish */
	EV_CMA_RELEASE,
	EV_BUF_FD,		/* recorders only: an fd made for a buffer, an fd of it
				 * taken by the kernel (an importer), or a mapping */
};

/* EV_BUF_FD: what happened (fd_kind) */
enum coll_fd_kind {
	FD_MADE = 1,		/* dma_buf_fd: an fd installed for the buffer */
	FD_TAKEN,		/* dma_buf_get: the kernel took the buffer from an fd */
	FD_MMAP,		/* dma_buf_mmap_internal, dma_buf_mmap: a user mapping */
};

/* why an allocation failed, when CMA was asked */
enum coll_fail_class {
	FAIL_NONE,
	FAIL_CAPACITY,		/* request > free pages of the area, or -ENOMEM
				 * not from CMA (more than the heap has, or the
				 * kernel's own memory ran out) */
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
	__u64 cgroup_id;	/* the task's cgroup2 id; a release: the exporting task's */
	__u64 bytes;		/* requested len, buffer size, or CMA pages * page size */
	__u64 latency_ns;	/* allocs: duration; release: lifetime */
	__u64 ino;		/* dma-buf inode */
	__u64 pfn;		/* CMA: first pfn */
	__u32 fail_class;	/* enum coll_fail_class */
	__u32 cma_busy;		/* busy retries seen during the call */
	__u64 cma_request;	/* pages CMA was asked for, and had free then */
	__u64 cma_available;
	__u64 buf_bytes;	/* the buffer's size: exports, releases, and allocs that exported one */
	char comm[COLL_COMM_LEN];
	char name[COLL_NAME_LEN];	/* heap, exporter or CMA area */
	__u32 kstack;		/* allocs, with stacks asked for: the `stacks` map's */
	__u32 ustack;		/* id + 1 of the kernel and user stacks, 0: none */
	__u32 fd_kind;		/* EV_BUF_FD: enum coll_fd_kind */
	__s32 fd;		/* EV_BUF_FD: the fd (FD_MADE, FD_TAKEN), -1 for a mapping */
	__u32 oom_victim;	/* failed allocs: the OOM killer had chosen the process */
	__u32 memcg_read;	/* allocs failed with ENOMEM or EINTR: the three below */
	__u64 memcg_id;		/* were read at the failure: the cgroup of the memcg limit */
	__u64 memcg_usage;	/* leaving the least room over the task (0: none), its */
	__u64 memcg_max;	/* memory.current and memory.max */
};

/*
 * Stacks of allocations (heapstat record --stacks): the `stacks` map keeps
 * each distinct one once, COLL_STACK_DEPTH return addresses deep at most
 * (innermost first), until the collector closes; a stack that finds no room
 * is counted in `stacks_lost` and its event says none.
 */
#define COLL_STACK_DEPTH	64
#define COLL_STACKS		4096

#define COLL_FAIL_CLASSES	(FAIL_OTHER + 1)	/* at most 8: the collector masks an index with 7 */

/*
 * In-kernel aggregates, exact whatever the ring buffer drops: one per
 * (cgroup, heap). Allocations count for the allocating task's cgroup under
 * the heap's name; exports and final releases for the exporting cgroup
 * under the exporter's name (the heap's, for heap buffers); releases of
 * buffers exported before tracing under cgroup 0.
 *
 * They are entries of an array (`aggs`, mapped by user space), taken in
 * order (`naggs`) and found by key through a small hash (`agg_index`): a
 * thread keeps the index of its last (cgroup, heap) and a buffer the index
 * of its exporter's, so an allocation and a release need no hash lookup.
 * The key is the address of the name (a heap's, or an exporter's constant
 * string); the name is copied into the entry once, when it is made. Entries
 * of one name at two addresses are summed by user space.
 */
struct coll_agg_key {
	__u64 cgroup_id;
	__u64 name_ptr;
};

struct coll_agg {
	__u64 allocs, alloc_bytes;	/* successful DMA_HEAP_IOCTL_ALLOCs, page aligned */
	__u64 failures[COLL_FAIL_CLASSES];
	__u64 exports, export_bytes;
	__u64 frees, free_bytes;
	__u64 charged_bytes;		/* heapstat heaps: charged minus uncharged */
};

#define COLL_NO_AGG	0xffffffffu

/*
 * Aggregate mode (every consumer but a recorder): allocation latencies and
 * buffer lifetimes as log-linear histograms, as bcc's latency tools keep
 * them, in the `hists` array at the index of their aggregate (the first
 * COLL_HISTS aggregates have one; `hists_lost` counts the values of the
 * others). Bucket 0 holds values below 2^min_shift, the last one values of
 * 2^max_shift and more; between, each power of two is split in 2^sub_bits
 * buckets of equal width, so a bucket's middle is within 1/2^(sub_bits+1)
 * of every value in it: 3.1% for latencies, 12.5% for lifetimes.
 */
#define COLL_HISTS		2048
#define COLL_LAT_SUB_BITS	4
#define COLL_LAT_MIN_SHIFT	9	/* 512 ns */
#define COLL_LAT_MAX_SHIFT	34	/* 17 s */
#define COLL_LIFE_SUB_BITS	2
#define COLL_LIFE_MIN_SHIFT	12	/* 4 us */
#define COLL_LIFE_MAX_SHIFT	46	/* 19.5 h */
#define COLL_HIST_BUCKETS(kind)	\
	(((COLL_##kind##_MAX_SHIFT - COLL_##kind##_MIN_SHIFT) << COLL_##kind##_SUB_BITS) + 2)
#define COLL_LAT_BUCKETS	COLL_HIST_BUCKETS(LAT)
#define COLL_LIFE_BUCKETS	COLL_HIST_BUCKETS(LIFE)

struct coll_hist {
	__u32 lat[COLL_LAT_BUCKETS];	/* every DMA_HEAP_IOCTL_ALLOC's, failed or not */
	__u32 life[COLL_LIFE_BUCKETS];	/* of the buffers finally released */
};

/*
 * The index of the highest bit set in v (0 < v < 2^63), without a branch:
 * each comparison a borrow's sign bit. Compiled for BPF, a comparison is a
 * jump, and five of them made 32 paths the verifier walked in every program
 * that takes a histogram bucket.
 */
static __always_inline __u32 coll_log2(__u64 v)
{
	__u32 r = 0, s;

	s = ((0xffffffffULL - v) >> 63) << 5; v >>= s; r |= s;
	s = ((0xffffULL - v) >> 63) << 4; v >>= s; r |= s;
	s = ((0xffULL - v) >> 63) << 3; v >>= s; r |= s;
	s = ((0xfULL - v) >> 63) << 2; v >>= s; r |= s;
	s = ((0x3ULL - v) >> 63) << 1; v >>= s; r |= s;
	return r | (__u32)(v >> 1);
}

/* the bucket of v in a histogram of the shape (min_shift, max_shift, sub_bits) */
static __always_inline __u32 coll_hist_bucket(__u64 v, __u32 min_shift, __u32 max_shift,
					      __u32 sub_bits)
{
	__u32 msb;

	if (v < (1ULL << min_shift))
		return 0;
	if (v >= (1ULL << max_shift))
		return ((max_shift - min_shift) << sub_bits) + 1;
	msb = coll_log2(v);
	return 1 + ((msb - min_shift) << sub_bits) +
	       (__u32)((v >> (msb - sub_bits)) & ((1u << sub_bits) - 1));
}

/* a removed cgroup's path, as the kernel's cgroup_rmdir tracepoint has it (cgroup_names.bpf.c) */
#define COLL_CGROUP_PATH_LEN	1024	/* the kernel's TRACE_CGROUP_PATH_LEN */
#define COLL_REMOVED_CGROUPS	4096	/* removed between two reads (every poll) */

struct coll_cgroup_path {
	char path[COLL_CGROUP_PATH_LEN];
};

struct coll_agg_entry {
	struct coll_agg agg;
	struct coll_agg_key key;
	__u32 ready;			/* key and name written */
	__u32 pad;
	char name[COLL_NAME_LEN];	/* at key.name_ptr */
};

/*
 * CMA areas, exact whatever the ring buffer drops. Counts per area: entries
 * of the `cma_aggs` array, taken in order (`ncma_aggs`), found by the address
 * of the area's name (in its struct cma: one per area) through the tiny
 * `cma_index` hash. Entries of one name are summed by user space.
 */
#define COLL_CMA_AREAS	32

struct coll_cma_agg {
	__u64 allocs, alloc_pages;	/* successful cma_alloc()s */
	__u64 failures, fail_pages;	/* failed ones: what CMA sysfs counts */
	__u64 busy_retries;		/* ranges given up because a page was busy */
	__u64 releases, release_pages;
};

struct coll_cma_entry {
	struct coll_cma_agg agg;
	__u64 name_ptr;
	__u32 ready;			/* name written */
	__u32 pad;
	char name[COLL_NAME_LEN];
	__u32 lat[COLL_LAT_BUCKETS];	/* aggregate mode: the timed allocations' latencies */
};

/*
 * An area's allocation bitmap, as the kernel keeps it (a bit per
 * 2^order_per_bit pages, set while allocated), in the `cma_bits` array from
 * word first_word on: 32 bits a word, in its low half; the high half marks
 * the bits a traced allocation, busy retry or release wrote (a release marks
 * before it clears). User space seeds the unmarked bits from the debugfs
 * bitmap once attached, each word by compare-and-swap, so a bit written by an
 * event meanwhile keeps the event's value. Areas of one range only (debugfs
 * publishes no sizes of the others), described to BPF before load. The
 * kernel traces a release after freeing its range: were the range taken
 * and traced again before that (the releasing task stopped in between), it
 * would show free until next written.
 */
#define COLL_CMA_MAPS		8
#define COLL_CMA_WORDS_MAX	(1 << 20)	/* every map's words: 32M bits */
#define COLL_CMA_WORD_BITS	32

struct coll_cma_map {
	__u64 base_pfn;
	__u64 nbits;
	__u32 order_per_bit;
	__u32 first_word;
};

/*
 * A buffer exported while tracing: slot (inode % COLL_SLOTS) of the `buffers`
 * array, mapped by user space, or an entry of the `buffers_spill` hash when
 * its slot is taken. Bit (slot / COLL_SLOTS_PER_MARK) of `slots_used` is set
 * once a slot of that run was written: user space need not map the others.
 * Written under `seq` (odd while written): a reader copies the slot between
 * two equal even reads of it, and takes it when its ino is the one looked for.
 */
#define COLL_SLOTS		(1 << 17)	/* a power of two */
#define COLL_SLOTS_PER_MARK	256
#define COLL_SLOT_MARKS		(COLL_SLOTS / COLL_SLOTS_PER_MARK / 64)	/* __u64 words */

struct coll_buf {
	__u64 key;			/* the inode that holds the slot, 0: free */
	__u64 ino;			/* the inode, once written (0 while being written) */
	__u32 seq;
	__u32 agg;			/* the aggregate of (exporting cgroup, exporter) */
	__u64 born_ns;
	__u64 cgroup_id;		/* exporting task's */
	__u64 charged_cgroup_id;	/* heapstat heaps: the cgroup charged, else 0 */
	__u64 bytes;
	__u32 tgid;
	__u32 pad;
	char comm[COLL_COMM_LEN];
};

/* what a full map cost: each counted in `lost` (collector.bpf.c) */
enum coll_lost {
	LOST_AGGS,			/* counts of a (cgroup, heap) past `aggs`' entries */
	LOST_CMA_AREAS,			/* counts of a CMA area past `cma_aggs`' */
	LOST_BUFFERS,			/* buffers neither their slot nor `buffers_spill` took */
	LOST_THREADS,			/* calls of threads whose storage could not be made */
	COLL_LOST_KINDS,
};

/*
 * What changed the inventory, for a live view that keeps one (want_log):
 * entry n of the `changes` array is written at n % COLL_LOG_ENTRIES, its
 * fields first, then seq = n + 1 by an atomic exchange. A reader of entry n
 * takes it when seq reads n + 1 before and after its copy, and the head
 * does not yet reach n + COLL_LOG_ENTRIES after it: less is not written
 * yet, more was written over, and a writer of entry n + COLL_LOG_ENTRIES
 * (its number taken from the head, then its fields) may be writing them
 * before its seq (the reader fell behind: it walks everything again).
 */
#define COLL_LOG_ENTRIES	8192	/* a power of two */

enum coll_log_kind {
	LOG_EXPORT = 1,			/* a buffer exported: ino, bytes, agg */
	LOG_RELEASE,			/* its final release: ino */
	LOG_HOLDER,			/* process ino (a tgid) may hold others now */
	LOG_ATTACH,			/* a buffer's importers changed (the buffers are
					 * walked again: ino is 0) */
};

struct coll_log {
	__u64 seq;
	__u64 ino;
	__u64 bytes;
	__u32 agg;
	__u32 kind;
};

/*
 * The collector's programs that only add to what it traces, by what they
 * add: the kernel refusing one of them takes that away, not the rest
 * (collector_refused()). HEAPSTAT_TEST_REFUSE=NAME makes the verifier
 * refuse the programs of one (coll_feature_name()), for tests.
 */
enum coll_feature {
	COLL_FEAT_CMA,		/* CMA allocations and releases */
	COLL_FEAT_CMA_BUSY,	/* CMA's busy retries */
	COLL_FEAT_HEAP_TP,	/* heapstat heaps' charges (their tracepoints) */
	COLL_FEAT_FDS,		/* fds made, taken and mapped */
	COLL_FEAT_HOLDERS,	/* holder changes (a live view walks every frame without) */
	COLL_FEAT_CGROUP_NAMES,	/* the paths of cgroups removed while tracing */
	COLL_FEATURES
};

/* tests (HEAPSTAT_TEST_REFUSE=session): the ioctl's fsession program refused,
 * not a feature: fentry and fexit stand in for it */
#define COLL_REFUSE_SESSION	31

#endif /* HEAPSTAT_COLLECTOR_EVENTS_H */
