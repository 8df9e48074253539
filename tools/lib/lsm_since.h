/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF-LSM's refusals of each cgroup x heap as a view that traces shows
 * them: since the view started, and never going down. The pinned cells
 * count since the programs were pinned, start again when they are pinned
 * again (the last limit cleared, then a new one set), and go with a removed
 * cgroup's cell; a heaptop's HITS and FAIL and an exporter's counters count
 * on across all three. Only what was read is kept: the hits counted after
 * the last read before the last limit is cleared go with its cells.
 */
#ifndef HEAPSTAT_LSM_SINCE_H
#define HEAPSTAT_LSM_SINCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lsm_limit.h"

/* how often a caller that builds no model reads the cells (lsm_since_read()) */
#define LSM_SINCE_READ_MS	1000

struct lsm_since_ent {
	uint64_t cgroup_id;
	uint32_t dev;
	char heap[HEAP_NAME_LEN];	/* its name as last read ("": never named) */
	uint64_t base;			/* the cell's hits when first read (0: made since) */
	uint64_t last;			/* as last read */
	uint64_t before;		/* counted by cells that went (pinned again, freed) */
	bool read;			/* its cell was in the last read */
	uint64_t removed_ns;		/* when its cgroup was first seen gone; 0: there */
	char *path;			/* its cgroup's path while it was there; NULL: never named */
};

struct lsm_since {
	struct lsm_since_ent *v;	/* by cgroup id, then device */
	size_t n, cap;
	uint32_t cells_id;		/* the pinned cells map last read; 0: none */
	bool started;			/* the first read, the base, was taken */
	uint64_t pruned;		/* the hits of the entries pruned: lsm_since_total() */
	uint64_t keep_removed_ns;	/* a removed cgroup's entries kept this long after
					 * it went (UINT64_MAX: as long as the caller) */
};

/*
 * Bring @s up to date with a read of the cells (@rows, @n; NULL: nothing
 * pinned) from the map of id @cells_id. The first read is the base.
 * Return: 0 or -ENOMEM (then a cell first seen is left for the next read).
 */
int lsm_since_update(struct lsm_since *s, uint32_t cells_id, const struct lsm_limit_row *rows,
		     size_t n);

int lsm_since_read(struct lsm_since *s, const char *pin_dir);

static inline uint64_t lsm_since_hits(const struct lsm_since_ent *e)
{
	return e->before + e->last - e->base;
}

bool lsm_since_kept(const struct lsm_since *s, const struct lsm_since_ent *e);
/* every hit since the start, of entries pruned too: never goes down */
uint64_t lsm_since_total(const struct lsm_since *s);
int lsm_since_name(struct lsm_since_ent *e, const char *path);
const char *lsm_since_path(const struct lsm_since *s, uint64_t cgroup_id);
/*
 * forget the entries of cgroups gone keep_removed_ns ago (lsm_since_name()
 * says when) that @known says the caller no longer shows, once their cells
 * are gone too
 */
void lsm_since_prune(struct lsm_since *s, bool (*known)(uint64_t cgroup_id, void *ctx), void *ctx);
void lsm_since_free(struct lsm_since *s);

#endif
