/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heaptop's model, on the collector and the inventory: one frame per
 * refresh of rows cgroup x heap, header meters, processes and buffers.
 */
#ifndef HEAPSTAT_LIVE_H
#define HEAPSTAT_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "cma.h"
#include "collector.h"
#include "inventory.h"

#define LIVE_NO_LIMIT	UINT64_MAX
#define LIVE_RING_BYTES	(1 << 20)	/* the collector's event ring */
#define LIVE_DRAIN_MS	100		/* how often it is drained */
#define LIVE_RESCAN_MS	5000		/* default longest time an inventory is kept */

struct live_row {
	char cgroup[CGROUP_PATH_MAX];	/* from the cgroup2 root */
	char heap[COLL_NAME_LEN];
	uint64_t bytes;			/* held by the cgroup's processes now */
	unsigned int bufs;
	uint64_t peak;			/* the most bytes seen since the row appeared */
	double alloc_rate, free_rate;	/* per second over the last interval */
	uint64_t p50_ns, p99_ns;	/* allocation latency over the last interval */
	uint64_t fails;			/* failed allocations since start */
	uint64_t limit;			/* dmem.max (memory.max for memcg heaps), the
					 * tightest of the cgroup and its ancestors */
	uint64_t limit_ns;		/* when the limit was read */
	uint64_t charged;		/* dmem.current (memory.current) of the cgroup */
	bool memcg;			/* limit and charged are memcg's */
	bool gone;			/* vanished since the last frame: shown once */
};

struct live_cma {
	char name[COLL_NAME_LEN];
	uint64_t total, used;		/* CMA sysfs */
	uint64_t largest_free;		/* the free-extent map kept from events */
	double fragmentation;
	bool mapped;			/* largest_free and fragmentation are known */
};

struct live_heap {
	char name[COLL_NAME_LEN];
	uint64_t bytes;
	unsigned int bufs;
};

struct live_frame {
	uint64_t ts_ns;
	double interval_s;		/* since the previous frame */
	struct live_row *rows;
	size_t nrows, rows_cap;
	size_t *index;			/* row number + 1 by (cgroup, heap) hash; 0 empty */
	size_t index_cap;
	struct live_cma *cma;
	size_t ncma;
	struct live_heap *heaps;
	size_t nheaps, heaps_cap;
	double alloc_rate, free_rate, fail_rate;
	uint64_t drops;
	const struct inventory *inv;	/* for the processes and buffers views */
	const char *inv_taken;		/* why it was taken for this frame, NULL: kept */
};

struct live;

int live_open(struct live **out, enum coll_attach mode, uint64_t rescan_ms);
int live_sample(struct live *l, const struct live_frame **out);
int live_drain(struct live *l);
bool live_export_of(struct live *l, uint64_t ino, struct coll_buf *out);
uint64_t live_start_ns(const struct live *l);
void live_close(struct live *l);

#endif
