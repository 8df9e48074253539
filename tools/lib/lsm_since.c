// SPDX-License-Identifier: GPL-2.0
/* The BPF-LSM's refusals since a view started, never going down (lsm_since.h) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lsm_since.h"
#include "util.h"

static int cmp_key(uint64_t id_a, uint32_t dev_a, uint64_t id_b, uint32_t dev_b)
{
	if (id_a != id_b)
		return id_a < id_b ? -1 : 1;
	return dev_a < dev_b ? -1 : dev_a > dev_b;
}

/* the entry of (@id, @dev), or where it would go (*found false) */
static size_t find(const struct lsm_since *s, uint64_t id, uint32_t dev, bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(s->v[mid].cgroup_id, s->v[mid].dev, id, dev);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* a cell's count ended (the map pinned again, or the cell freed): kept in before */
static void cell_ended(struct lsm_since_ent *e)
{
	e->before += e->last - e->base;
	e->base = e->last = 0;
}

int lsm_since_update(struct lsm_since *s, uint32_t cells_id, const struct lsm_limit_row *rows,
		     size_t n)
{
	int err = 0;

	/* other cells: every count since starts at 0 */
	if (cells_id && s->cells_id && cells_id != s->cells_id)
		for (size_t i = 0; i < s->n; i++)
			cell_ended(&s->v[i]);
	if (cells_id)
		s->cells_id = cells_id;
	for (size_t i = 0; i < s->n; i++)
		s->v[i].read = false;
	for (size_t i = 0; i < n; i++) {
		const struct lsm_limit_row *r = &rows[i];
		bool found;
		size_t at = find(s, r->cgroup_id, r->dev, &found);
		struct lsm_since_ent *e = &s->v[at];

		if (!found) {
			/* a limit's row with no cell (nothing counted) waits for one */
			if (!r->hits && s->started)
				continue;
			if (s->n == s->cap) {
				size_t cap = s->cap ? 2 * s->cap : 64;
				struct lsm_since_ent *v = realloc(s->v, cap * sizeof(*v));

				if (!v) {
					err = -ENOMEM;
					continue;
				}
				s->v = v;
				s->cap = cap;
			}
			e = &s->v[at];
			memmove(e + 1, e, (s->n - at) * sizeof(*e));
			s->n++;
			*e = (struct lsm_since_ent){
				.cgroup_id = r->cgroup_id,
				.dev = r->dev,
				/* counted before the view started, or since, in a cell made since */
				.base = s->started ? 0 : r->hits,
				.last = r->hits,
			};
		} else if (r->hits < e->last) {	/* the cell freed and made again */
			cell_ended(e);
			e->last = r->hits;
		} else {
			e->last = r->hits;
		}
		if (r->heap[0])		/* a heap's device gone: its name as it was */
			memcpy(e->heap, r->heap, sizeof(e->heap));
		e->read = true;
	}
	s->started = true;
	return err;
}

/* a removed cgroup's entry still to be shown: hits since the start, gone within keep_removed_ns */
bool lsm_since_kept(const struct lsm_since *s, const struct lsm_since_ent *e)
{
	return lsm_since_hits(e) &&
	       (!e->removed_ns || now_ns() - e->removed_ns <= s->keep_removed_ns);
}

uint64_t lsm_since_total(const struct lsm_since *s)
{
	uint64_t n = s->pruned;

	for (size_t i = 0; i < s->n; i++)
		n += lsm_since_hits(&s->v[i]);
	return n;
}

/*
 * @e's cgroup is there, at @path (a removed one's row keeps it), or gone
 * (@path NULL: from now, when first seen so)
 */
int lsm_since_name(struct lsm_since_ent *e, const char *path)
{
	char *p;

	if (!path) {
		if (!e->removed_ns)
			e->removed_ns = now_ns();
		return 0;
	}
	e->removed_ns = 0;
	if (e->path && !strcmp(e->path, path))
		return 0;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	free(e->path);
	e->path = p;
	return 0;
}

/* the path of a removed cgroup's entry, NULL when none was named */
const char *lsm_since_path(const struct lsm_since *s, uint64_t cgroup_id)
{
	bool found;
	size_t at = find(s, cgroup_id, 0, &found);

	return at < s->n && s->v[at].cgroup_id == cgroup_id ? s->v[at].path : NULL;
}

void lsm_since_prune(struct lsm_since *s, bool (*known)(uint64_t cgroup_id, void *ctx), void *ctx)
{
	uint64_t now = now_ns();
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct lsm_since_ent *e = &s->v[i];

		/* a cell still there would count again from 0 */
		if (e->read || !e->removed_ns || known(e->cgroup_id, ctx) ||
		    now - e->removed_ns <= s->keep_removed_ns) {
			s->v[k++] = *e;
			continue;
		}
		s->pruned += lsm_since_hits(e);
		free(e->path);
	}
	s->n = k;
}

void lsm_since_free(struct lsm_since *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * The cells read again, from their pins (the first read: the base, as the
 * caller begins tracing). A caller that builds no model meanwhile reads
 * them now and then: the hits counted between its last read and the last
 * limit's clear go with the cells. Once begun, a read the pins' lock would
 * make wait (a limit being set, its programs loading) is left for the next.
 */
int lsm_since_read(struct lsm_since *s, const char *pin_dir)
{
	struct lsm_limit_row *rows;
	uint32_t cells_id;
	size_t n;
	char why[512];
	/* a view's refresh never waits for a limit being set (its programs loading) */
	int err = lsm_limit_look(pin_dir, s->started ? LSM_LIMIT_NOWAIT : 0, &rows, &n,
				 &cells_id, why, sizeof(why));

	/* none pinned: every hit comes after; else not now (the first: the first
	 * build's read is the base) */
	if (!err || err == -ENOENT)
		err = lsm_since_update(s, cells_id, rows, n);
	free(rows);
	return err;
}
