/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heaptop's frames: the holdings model, taken every refresh, with what
 * changes between two of them (rates, interval latencies, peaks, rows gone).
 */
#ifndef HEAPSTAT_LIVE_H
#define HEAPSTAT_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "cma.h"
#include "collector.h"
#include "holdings.h"
#include "inventory.h"

#define LIVE_RING_BYTES	COLL_AGG_RING_BYTES	/* the collector's event ring: failures only */
#define LIVE_DRAIN_MS	100		/* how often it is drained */
#define LIVE_RESCAN_MS	5000		/* default longest time an inventory is kept */
#define LIVE_FILES_MS	5000		/* the longest a model's cgroup files are kept */
#define LIVE_KEEP_REMOVED_MS	3600000	/* a removed cgroup's rows, from when it is settled:
					 * the default of --keep-removed */

/* a row of the model (a cgroup x heap) as this frame shows it */
struct live_row {
	const char *cgroup, *heap;	/* the frame's model's; a row gone: the frame before's */
	bool cgroup_removed;		/* only removed cgroups had that path (hold_cgroup) */
	struct hold_cell c;		/* the model's cell; a row gone: its last */
	const char *limit_cgroup;	/* where its limit is set; NULL: none */
	enum hold_charger charger;
	uint64_t peak;			/* the most bytes held since the row appeared */
	double alloc_rate, free_rate;	/* per second over the last interval */
	uint64_t p50_ns, p99_ns;	/* allocation latency over the last interval */
	uint64_t fails;			/* failed allocations since start */
	bool gone;			/* vanished since the last frame: shown once */
};

/* the last allocation a limit refused, as a row's limit_hits grew */
struct live_hit {
	char cgroup[CGROUP_PATH_MAX];
	char heap[COLL_NAME_LEN];
	uint64_t ts_ns;			/* the frame that saw it; 0: none yet */
	uint64_t hits;			/* the row's count then */
};

struct live_cma {
	const char *name;		/* the frame's own copy */
	uint64_t total, used;		/* CMA sysfs */
	uint64_t largest_free;		/* the free-extent map kept from events */
	double fragmentation;
	bool mapped;			/* largest_free and fragmentation are known */
};

/* how the inventory was kept up to date, since the start */
struct live_inv_stats {
	uint64_t walks;			/* walked whole */
	uint64_t updates;		/* changes applied (inventory_apply()) */
	uint64_t checks;		/* rescans compared with what was kept */
	uint64_t differences;		/* buffers and holds they differed by, less
					 * what changed while they walked */
	struct inv_difference last_difference;	/* the last of them (ino 0: none) */
	uint64_t models;		/* holdings models built */
	uint64_t cgroup_walks;		/* walks of the cgroup tree for them */
	uint64_t forgotten;		/* collector entries of removed cgroups dropped or
					 * merged (an hour after: forget_removed()) */
};

struct live_frame {
	uint64_t ts_ns;
	double interval_s;		/* since the previous frame */
	const struct holdings *h;	/* the model: taken again when something changed */
	struct live_row *rows;		/* by cgroup, then heap */
	size_t nrows, rows_cap;
	struct cma_area *areas;		/* CMA sysfs, as read */
	struct live_cma *cma;
	size_t ncma;
	double alloc_rate, free_rate, fail_rate;
	uint64_t drops;
	struct coll_losses losses;	/* drops, by cause */
	const struct inventory *inv;	/* for the processes and buffers views */
	const char *inv_taken;		/* why it was walked or updated for this frame,
					 * NULL: kept ("changes": updated) */
	struct live_inv_stats inv_stats;
	const char *no_tracing;		/* why nothing is traced; NULL: traced */
	bool exits_refused;		/* exit_files()'s hook, attached late, was refused now */
	struct live_hit last_hit;
};

struct live;

void live_fold_depth(struct live *l, unsigned int depth);
void live_keep_removed(struct live *l, uint64_t ms);
int live_open(struct live **out, enum coll_attach mode, uint64_t rescan_ms);
int live_sample(struct live *l, const struct live_frame **out);
int live_drain(struct live *l);
int live_rebase(struct live *l);
void live_name_removals(struct live *l);
struct collector *live_collector(struct live *l);
uint64_t live_start_ns(const struct live *l);
void live_close(struct live *l);

#endif
