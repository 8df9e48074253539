/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF-LSM limit backend (bpf/limit.bpf.c): per cgroup x dma-heap byte
 * limits for heaps that charge nobody, enforced by programs pinned under
 * /sys/fs/bpf/heapstat/limit/ that outlive the process that set them.
 *
 * Every function returns 0 or a negative errno and, on failure, says what
 * failed in why (never printed here).
 */
#ifndef HEAPSTAT_LSM_LIMIT_H
#define HEAPSTAT_LSM_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "heap_name.h"
#include "limit.h"

#define LSM_LIMIT_PIN_DIR	"/sys/fs/bpf/heapstat"	/* 0700, and limit/ in it */
#define LSM_LIMIT_NONE		UINT64_MAX	/* no limit set */

struct lsm_limit;

/* lsm_limit_open() flags */
#define LSM_LIMIT_CREATE	1	/* load, attach and pin when nothing is pinned */
#define LSM_LIMIT_NOWAIT	2	/* -EAGAIN rather than wait for a load, set or clear */

/* one cgroup x heap */
struct lsm_limit_row {
	uint64_t cgroup_id;
	uint32_t dev;			/* the heap's device (major << 20 | minor) */
	char heap[HEAP_NAME_LEN];	/* its name in /dev/dma_heap, "" when gone */
	uint64_t usage;			/* bytes charged and reserved, descendants' too */
	uint64_t limit;			/* LSM_LIMIT_NONE: none */
	uint64_t refusals;		/* allocations its limit refused */
	uint64_t overshoot;		/* bytes charged past its limit */
	uint64_t hits;			/* allocations of its own tasks a limit refused */
};

/* how the backend fared, since it was first pinned */
struct lsm_limit_stats {
	uint64_t dropped;		/* refusal events the ring had no room for */
	uint64_t untracked;		/* charges kept with no buffer to release them */
	uint64_t stale;			/* allocations armed that ended before their export */
	uint64_t full;			/* allocations refused: the usage map was full */
	uint64_t overshoot_bytes;	/* charged past a limit */
	uint64_t seeded;		/* buffers from before, charged at the first pin */
	uint64_t seeded_bytes;
	uint64_t spills;		/* charges kept in the hash: their slot was held */
	uint64_t unread;		/* lengths read as 0 or wrapping (a racing writer,
					 * a torn read): reserved at the export */
};

int lsm_limit_open(struct lsm_limit **out, const char *pin_dir, unsigned int flags,
		   char *why, size_t why_len);
int lsm_limit_depth(const char *path, char *why, size_t why_len);
int lsm_limit_usable(char *why, size_t why_len);
int lsm_limit_set(struct lsm_limit *l, uint64_t cgroup_id, const char *heap, uint64_t bytes,
		  char *why, size_t why_len);
int lsm_limit_clear(struct lsm_limit *l, uint64_t cgroup_id, const char *heap, bool *unpinned,
		    char *why, size_t why_len);
/* lsm_limit_collect()'s */
struct lsm_collected {
	size_t dropped;		/* limits of removed cgroups dropped */
	size_t of_path;		/* of them, those set on the path asked about */
	bool unpinned;		/* none left: everything unpinned, the handle only closes */
};

int lsm_limit_collect(struct lsm_limit *l, const char *path, struct lsm_collected *out,
		      char *why, size_t why_len);
int lsm_limit_get(struct lsm_limit *l, uint64_t cgroup_id, const char *heap,
		  struct lsm_limit_row *out, char *why, size_t why_len);
int lsm_limit_rows(struct lsm_limit *l, struct lsm_limit_row **rows, size_t *n,
		   char *why, size_t why_len);
int lsm_limit_look(const char *pin_dir, unsigned int flags, struct lsm_limit_row **rows,
		   size_t *n, uint32_t *cells_id, char *why, size_t why_len);
int lsm_limit_events(struct lsm_limit *l, int timeout_ms,
		     int (*cb)(const struct limit_event *e, void *ctx), void *ctx,
		     char *why, size_t why_len);
int lsm_limit_watch(struct lsm_limit *l, int (*cb)(const struct limit_event *e, void *ctx),
		    void *ctx, uint64_t *overrun, char *why, size_t why_len);
int lsm_limit_stats(struct lsm_limit *l, struct lsm_limit_stats *out, char *why, size_t why_len);
uint64_t lsm_limit_misses(const char *pin_dir, const char *prog);
uint64_t lsm_limit_skips(const char *pin_dir);
void lsm_limit_event_heap(const struct limit_event *e, char *out);
uint32_t lsm_limit_cells_id(const struct lsm_limit *l);
uint64_t lsm_limit_unread_unpinned(const struct lsm_limit *l);
bool lsm_limit_created(const struct lsm_limit *l);
bool lsm_limit_current(struct lsm_limit *l);
void lsm_limit_close(struct lsm_limit *l);

#endif
