/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a recording says, computed once: heapstat analyze's text and JSON,
 * its --fail-on checks, and its JUnit, Perfetto and HTML files are views of
 * this (one model, many views). an_read() folds a recording's records into
 * struct analysis; nothing here prints.
 *
 * Times are the recording's CLOCK_MONOTONIC nanoseconds; an_rel() makes
 * them relative to the recording's start (its header). Strings are the
 * reader's, alive until an_free().
 */
#ifndef HEAPSTAT_ANALYSIS_H
#define HEAPSTAT_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/collector.h"
#include "lib/hindex.h"
#include "lib/record.h"

/* a buffer allocated while recorded */
struct an_buffer {
	uint64_t ino, ts, size, cgroup_id;
	uint64_t released_ts;		/* 0 while alive */
	uint32_t pid, tid, stack_id;
	const char *comm, *heap;
	bool released;
	bool in_final;			/* in the final snapshot */
	uint32_t holders, holder;	/* there: how many held it, the first */
	uint32_t fds[REC_FD_TAKEN + 1];	/* fd records by kind (enum rec_fd_kind) */
	bool early;			/* only records that come before an allocation's
					 * (its fds, a racing release): not (yet) a
					 * buffer allocated while recorded */
};

/* a cgroup x heap's bytes alive, and their peak */
struct an_usage {
	uint64_t cgroup_id;		/* 0: the heap over all cgroups */
	const char *heap;
	int64_t bytes;
	uint64_t peak, peak_ts;
};

/* a change of a usage's bytes: the counters over time */
struct an_step {
	uint64_t ts;
	uint32_t usage;			/* index in analysis.use */
	int64_t bytes;			/* after the change */
	size_t seq;			/* its place in the recording: order among equal times */
};

/* every allocation attempt, in the recording's order */
struct an_alloc {
	uint64_t ts;			/* when it returned */
	uint64_t latency_ns;
	uint64_t requested, allocated, cgroup_id, ino;
	uint32_t pid, tid, fail_class, stack_id;
	int32_t err;			/* 0 or -errno */
	const char *comm, *heap;
};

/* sorted values of one heap (latencies or lifetimes), for percentiles */
struct an_dist {
	const char *heap;
	uint64_t *v;
	size_t n, cap;
};

struct an_cgroup {
	uint64_t id;
	const char *path;
};

/* a stack record's frames as the views show them (an_stack()) */
struct an_stack {
	uint32_t id;
	size_t n;
	const char **frames;		/* "function+0x1a (binary)", one allocation */
};

struct an_thread {
	uint32_t pid, tid;
	const char *comm;
	uint64_t cgroup_id;
};

struct analysis {
	const char *file;
	struct rec_reader *r;
	const struct rec_header *hdr;
	bool truncated;
	uint64_t cut;			/* when truncated: the end of the last whole record */
	const char *damage;		/* and what was found there */

	struct an_buffer *bufs;		/* by ino, open addressing: nbufs used of bufcap */
	size_t nbufs, bufcap;
	const struct an_buffer **leaks;	/* alive at the end, oldest first */
	size_t nleaks;
	uint64_t leaked_bytes;

	struct an_usage *use;
	size_t nuse, usecap;
	struct an_step *steps;
	size_t nsteps, stepcap;
	struct an_alloc *allocs;
	size_t nallocs, alloccap;
	struct rec_limit *limits;	/* refusals by a limit */
	size_t nlimits, limitcap;
	struct rec_cma *cma;		/* CMA allocations and releases */
	size_t ncma, cmacap;
	struct rec_cma_state *cma_states;	/* each area's, at snapshots and checkpoints */
	size_t ncma_states, cmastatecap;
	struct an_dist *latency;	/* per heap: successful allocations' latency */
	size_t nlatency, latcap;
	struct an_dist *lifetime;	/* per heap: released buffers' lifetimes */
	size_t nlifetime, lifecap;
	struct an_cgroup *cgs;
	size_t ncgs, cgcap;
	struct an_thread *threads;
	size_t nthreads, threadcap;
	const char **heaps;		/* every heap the recording names */
	size_t nheaps, heapcap;
	struct an_stack *stacks;	/* by id */
	size_t nstacks, stackcap;
	size_t stack_text;		/* the bytes of their frames' text (fold_stack()) */
	struct hindex use_ix, cg_ix, thread_ix;	/* use, cgs, threads */
	struct hindex heap_ix, lat_ix, life_ix;	/* heaps, latency, lifetime: by name */
	size_t *by_heap;		/* the buffers' slots by heap, cgroup id, then slot */
	size_t nby_heap;

	uint64_t failures[FAIL_CLASSES], failed;
	bool *in_ioctl;			/* by limits[]: a bpf-lsm refusal in the ioctl */
	uint64_t ioctl_refusals;	/* how many: failed allocations no alloc record has */
	uint64_t fds[REC_FD_TAKEN + 1];	/* fd records by kind, every buffer's */
	uint64_t events, drops, first_ts, last_ts;
	/* where the start and the final snapshots read the buffers (enum
	 * inv_source, as recorded), whether there was one (by REC_SNAP_START, _FINAL) */
	uint32_t snap_source[REC_SNAP_FINAL + 1];
	bool snapped[REC_SNAP_FINAL + 1];
	bool ended;
	struct rec_end end;
};

/*
 * Read and fold the recording at @file. 0, or -errno with why in @why: a
 * file that is no recording or of a newer version (-EINVAL,
 * -EPROTONOSUPPORT), or unreadable; -ENODATA: cut inside its header. A
 * recording cut later is read up to its cut: 0 and a->truncated.
 */
int an_read(struct analysis *a, const char *file, char *why, size_t why_len);
void an_free(struct analysis *a);

/* the row of cgroup @cgroup_id (0: all of them) x @heap; NULL when none */
const struct an_usage *an_usage_of(const struct analysis *a, uint64_t cgroup_id, const char *heap);
/* ns since the recording's start */
uint64_t an_rel(const struct analysis *a, uint64_t ts);
/* ns from the first event to the last */
uint64_t an_span(const struct analysis *a);
/* a cgroup's path, "?" when the recording never named it */
const char *an_cgroup_path(const struct analysis *a, uint64_t id);
const char *an_error_text(int32_t err);
/* "bpf-lsm", "dmem", "memcg", "?": what enforced the limit that refused */
const char *an_limit_backend(uint32_t backend);
/* "ioctl", "export", "full", "?", NULL when not told: where a bpf-lsm limit refused */
const char *an_limit_when(uint32_t when);
/* whose limit refused is known: not for a dmem refusal whose limit went with its cgroup */
static inline bool an_limit_bound(const struct rec_limit *l)
{
	return l->bound_cgroup_id != 0;
}

/* the path of the cgroup whose limit refused; NULL when an_limit_bound() is not */
static inline const char *an_limit_cgroup(const struct analysis *a, const struct rec_limit *l)
{
	return an_limit_bound(l) ? an_cgroup_path(a, l->bound_cgroup_id) : NULL;
}

/* its usage and limit are known too: not for a bpf-lsm refusal for want of a slot */
static inline bool an_limit_known(const struct rec_limit *l)
{
	return an_limit_bound(l) &&
	       !(l->usage == REC_LIMIT_UNKNOWN && l->limit == REC_LIMIT_UNKNOWN);
}
/* the peak of a heap over all cgroups, 0 when the heap was never used */
uint64_t an_heap_peak(const struct analysis *a, const char *heap);
/*
 * Whether the recording names @heap: its snapshots list the system's heaps
 * (since format 1.3), and allocations, refusals and checkpoints name theirs.
 */
bool an_heap_named(const struct analysis *a, const char *heap);
/* a heap's latency or lifetime values, NULL when it has none */
const struct an_dist *an_latency(const struct analysis *a, const char *heap);
const struct an_dist *an_lifetime(const struct analysis *a, const char *heap);
/* the value below which pct percent of d's values are (nearest rank); 0 when empty */
uint64_t an_percentile(const struct an_dist *d, double pct);
/*
 * Stack @id's frames, innermost first, each "function+0x12 (binary)" or
 * "0x7f12... (binary)" when unsymbolized; NULL when the recording has no
 * stack @id (recorded without --stacks: every stack_id is 0).
 */
const char *const *an_stack(const struct analysis *a, uint32_t id, size_t *n);
/* its position in a->stacks (SIZE_MAX: none), for a view that marks those it showed */
size_t an_stack_index(const struct analysis *a, uint32_t id);

/* an area's states over the run: the first, the last, the worst */
struct an_cma_summary {
	const char *area;
	uint64_t total_bytes;
	size_t samples;
	const struct rec_cma_state *first, *last;
	uint64_t used_max;
	bool extents;			/* the largest free extents are known */
	uint64_t largest_free_min;	/* when extents */
	double fragmentation_max;	/* 1 - largest free extent / free bytes, when extents */
	uint64_t fragmentation_max_ts;
	uint64_t busy;			/* busy retries its allocations went through */
};

/* the summary of each CMA area the recording has states of, in order of appearance */
int an_cma_summaries(const struct analysis *a, struct an_cma_summary **out, size_t *n);
/* 1 - largest free extent / free bytes: 0 all free space in one piece; 0 when nothing is free */
double an_cma_fragmentation(const struct rec_cma_state *s);

/* who held a heap's bytes at ts: by allocating process x cgroup */
struct an_holding {
	uint32_t pid;
	const char *comm;
	uint64_t cgroup_id, bytes, buffers;
};

/*
 * The buffers of @heap (of @cgroup_id, or of every cgroup when 0) alive at
 * @ts (allocated then or before, released after), summed by the process
 * that allocated them and its cgroup, most bytes first; *out is the
 * caller's to free.
 */
int an_held_at(const struct analysis *a, const char *heap, uint64_t cgroup_id, uint64_t ts,
	       struct an_holding **out, size_t *n);
/* "no end (cut short)", "exited 5", "killed by signal 9", "no command" */
const char *an_end_text(const struct analysis *a, char *buf, size_t len);
/* "pid 69", "pid 69 and others", "nobody (kernel-held)", "not in the final snapshot" */
const char *an_held_by(const struct an_buffer *b, char *buf, size_t len);

#endif
