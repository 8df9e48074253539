// SPDX-License-Identifier: GPL-2.0
/*
 * heaptop's frames. Each sample drains the collector, builds the holdings
 * model (tools/lib/holdings.c) on the kept inventory, and adds what only a
 * series of frames shows: rates (the change of the kernel's counters since
 * the previous sample), latencies over the interval, peaks, and rows that
 * vanished (shown one frame, marked). Every number of a row is the model's.
 *
 * The inventory walks every buffer, fd and mapping, which is most of a
 * sample's cost, so it is walked whole only at the start (and at the second
 * frame: live_sample()) and every rescan interval. In between, the
 * collector's change log (collector_changes()) says which buffers were
 * exported and finally released, and which processes' fds or mappings may
 * have changed: those are applied to the kept inventory, and only those
 * processes walked again (inventory_apply()). An attachment, a log written
 * over before it was read, or many processes at once make a whole walk
 * instead. The rescan interval's walk is also the check: its differences
 * from the kept inventory are counted, less what events touched while it
 * walked. What no event shows (an fd closed or passed without releasing its
 * buffer, a mapping unmapped, a buffer named) waits for it. Without the
 * collector or its change log (a kernel that refuses tracing, or without the
 * dma_buf tracepoints), every frame walks whole.
 *
 * The model is built again when the inventory changed, when the kernel's
 * counts moved (an allocation failed, a BPF-LSM limit refused one), when a
 * cgroup was made or removed, and at least every LIVE_FILES_MS for what no
 * event shows: limits written, memcg charges (dmem charges move only with
 * allocations and releases, which are events). Else the frame shows the
 * model of the frame before. The cgroup tree it names cgroups by is read
 * again (by iter/cgroup) only when it may have changed (tree_stale()).
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/memcg.h"
#include "cgroup/path.h"
#include "btf.h"
#include "errors.h"
#include "live.h"
#include "procfs.h"
#include "refusal.h"
#include "util.h"

struct live {
	struct collector *coll;		/* NULL: the kernel refused tracing */
	struct refusal_counter refusals;	/* its memcg refusals, counted */
	char no_tracing[256];		/* then why */
	struct inv_iters *iters;
	struct hold_sys sys;
	uint64_t start_ns;
	struct inventory inv;		/* the frames' processes and buffers */
	uint64_t inv_ns;		/* when it was taken, 0: never */
	uint64_t rescan_ns;		/* take it again at least this often */
	uint64_t full_ns;		/* when it was last walked whole */
	struct inv_changes ch;		/* the change log's since then */
	pid_t *again;			/* processes the last frame walked: once more */
	size_t nagain, again_cap;
	bool ch_lost, ch_attach;	/* the log lost entries; importers changed */
	size_t changes_max;		/* LIVE_CHANGES_MAX */
	uint64_t keep_removed_ns;	/* live_keep_removed() */
	unsigned int fold_depth;	/* live_fold_depth() */
	bool exits_hooked;		/* exit_files()'s hook attached since the last walk */
	struct inventory checked;	/* the inventory a whole walk replaced, to compare */
	bool check_due;			/* at the next sample, against the walk */
	struct live_inv_stats stats;
	pid_t *tgids;			/* its processes, for the collector */
	size_t tgids_cap;
	struct live_frame frames[2];	/* the current one, and the one before */
	int cur;
	struct holdings models[2];	/* the last one built, and the one before */
	int model;
	uint64_t model_ns;		/* when the last was built, 0: never */
	uint64_t tree_ns;		/* when the cgroup tree was last walked */
	uint64_t tree_changes;		/* the collector's count of cgroup changes then */
	/* the collector's cumulative counts at the previous sample, by index */
	struct coll_agg *prev_aggs;
	size_t nprev;
	uint64_t model_refusals;	/* the limit refusals user space found, at the model */
	uint64_t rebased_ns;		/* live_rebase()'s, for the next sample; 0: none */
	struct live_hit last_hit;
	struct lsm_since lsm_since;	/* the BPF-LSM's hits since tracing began */
	uint64_t lsm_read_ns;		/* when live_drain() last read its cells */
	uint64_t lsm_total;		/* lsm_since_total() at the previous sample (or rebase) */
	uint64_t model_lsm_total;	/* lsm_since_total() at the model */
};

/*
 * The view shows a cgroup deeper than @depth in its ancestor at @depth (the
 * exporter's --cgroup-depth): a removed one's rows are dropped only with
 * every row of that ancestor, when it is gone too (collector_forget_removed())
 */
void live_fold_depth(struct live *l, unsigned int depth)
{
	l->fold_depth = depth;
}

/*
 * A removed cgroup's rows are kept @ms after its counts settled (heaptop's
 * and the exporter's --keep-removed; LIVE_KEEP_REMOVED_MS unless said), then
 * forgotten (forget_removed()).
 */
void live_keep_removed(struct live *l, uint64_t ms)
{
	l->keep_removed_ns = ms * 1000000ull;
	l->lsm_since.keep_removed_ns = l->keep_removed_ns;
}

uint64_t live_start_ns(const struct live *l)
{
	return l->start_ns;
}

struct collector *live_collector(struct live *l)
{
	return l->coll;
}

/*
 * The changes kept until the next sample, at most (a paused view, a prompt,
 * a long interval): past them the log counts as lost, so the sample walks
 * whole and keeps none until then (HEAPSTAT_TEST_LIVE_CHANGES: fewer, for
 * tests). 64k: about 1.5 MiB, half a minute of 1,000 allocations and
 * releases a second.
 */
#define LIVE_CHANGES_MAX	(1 << 16)

/* a change log entry, kept until the next sample */
static int on_change(const struct coll_log *e, void *arg)
{
	struct live *l = arg;
	struct inv_changes *ch = &l->ch;
	const char *name;

	if (e->kind >= LOG_EXPORT && e->kind <= LOG_HOLDER &&
	    (l->ch_lost || ch->nexports + ch->nreleases + ch->ntgids >= l->changes_max)) {
		l->ch_lost = true;	/* the sample walks whole: nothing to keep */
		ch->nexports = ch->nreleases = ch->ntgids = 0;
		return 0;
	}
	switch (e->kind) {
	case LOG_EXPORT:
		name = collector_agg_name(l->coll, e->agg);
		if (!name) {	/* its aggregate is being made: walk */
			l->ch_lost = true;
			return 0;
		}
		if (grow_array((void **)&ch->exports, &ch->exports_cap, ch->nexports,
			       sizeof(*ch->exports)))
			return -ENOMEM;
		ch->exports[ch->nexports++] = (struct inv_export){ e->ino, e->bytes, name };
		return 0;
	case LOG_RELEASE:
		if (grow_array((void **)&ch->releases, &ch->releases_cap, ch->nreleases,
			       sizeof(*ch->releases)))
			return -ENOMEM;
		ch->releases[ch->nreleases++] = e->ino;
		return 0;
	case LOG_HOLDER:
		/* a few processes allocating take turns: they come again and again */
		for (size_t i = ch->ntgids; i > 0 && i + 8 > ch->ntgids; i--)
			if (ch->tgids[i - 1] == (pid_t)e->ino)
				return 0;
		if (grow_array((void **)&ch->tgids, &ch->tgids_cap, ch->ntgids, sizeof(*ch->tgids)))
			return -ENOMEM;
		ch->tgids[ch->ntgids++] = e->ino;
		return 0;
	default:
		l->ch_attach = true;
		return 0;
	}
}

static int read_changes(struct live *l)
{
	if (!l->coll || !collector_logs_changes(l->coll))
		return 0;
	return collector_changes(l->coll, on_change, l, &l->ch_lost);
}

/* each process once */
static void unique_tgids(struct inv_changes *ch)
{
	size_t out = 0;

	sort_ordered(ch->tgids, ch->ntgids, sizeof(*ch->tgids), cmp_pid);
	for (size_t i = 0; i < ch->ntgids; i++)
		if (!out || ch->tgids[i] != ch->tgids[out - 1])
			ch->tgids[out++] = ch->tgids[i];
	ch->ntgids = out;
}

static int room_for_pids(pid_t **v, size_t *cap, size_t n)
{
	pid_t *p;

	if (n <= *cap)
		return 0;
	p = realloc(*v, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

/*
 * The processes logged for the last frame are walked again at this one:
 * the kernel logs an fd (the dma_buf_fd tracepoint) before it installs it,
 * so a walk right after the entry can miss the fd (a mapping is linked
 * under the mmap lock its walk waits for). This frame's own are kept for
 * the next: an fd installed later than a frame after is seen at the next
 * whole walk.
 */
static int walk_again(struct live *l)
{
	struct inv_changes *ch = &l->ch;
	size_t n;

	unique_tgids(ch);
	n = ch->ntgids;
	if (room_for_pids(&ch->tgids, &ch->tgids_cap, n + l->nagain) ||
	    room_for_pids(&l->again, &l->again_cap, n))
		return -ENOMEM;
	copy_array(ch->tgids + n, l->again, l->nagain, sizeof(*l->again));
	copy_array(l->again, ch->tgids, n, sizeof(*l->again));
	ch->ntgids += l->nagain;
	l->nagain = n;
	unique_tgids(ch);
	return 0;
}

static void forget_changes(struct live *l)
{
	l->ch.nexports = l->ch.nreleases = l->ch.ntgids = 0;
	l->ch_lost = l->ch_attach = false;
}

/*
 * Load the program that names the cgroups removed from now on
 * (collector_name_removals()): apart from live_open(), so that a caller
 * does it where it waits anyway (heaptop in its first interval, whose end
 * it keeps: its load, about 4 ms of guest time, would delay the first frame).
 */
void live_name_removals(struct live *l)
{
	if (l->coll)
		collector_name_removals(l->coll);
}

/* fold the events that arrived; call it every LIVE_DRAIN_MS between samples */
int live_drain(struct live *l)
{
	uint64_t now;

	if (!l->coll)
		return 0;
	/* the BPF-LSM's hits, read between models too: the last limit's clear takes them */
	now = now_ns();
	if (now - l->lsm_read_ns >= LSM_SINCE_READ_MS * 1000000ull) {
		lsm_since_read(&l->lsm_since, l->sys.lsm_pin_dir);
		l->lsm_read_ns = now;
	}
	return collector_poll(l->coll, 0) ?: read_changes(l);
}

static uint64_t failures(const struct coll_agg *a)
{
	uint64_t n = 0;

	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		n += a->failures[c];
	return n;
}

/* the previous sample's counts, one per collector entry (the collector appends) */
static int grow_prev(struct live *l)
{
	size_t n;
	struct coll_agg *prev;

	if (!l->coll)
		return 0;
	collector_heap_stats(l->coll, &n);
	if (n <= l->nprev)
		return 0;
	prev = realloc(l->prev_aggs, n * sizeof(*prev));
	if (!prev)
		return -ENOMEM;
	memset(prev + l->nprev, 0, (n - l->nprev) * sizeof(*prev));
	l->prev_aggs = prev;
	l->nprev = n;
	return 0;
}

static int cmp_row(const struct live_row *a, const struct live_row *b)
{
	return strcmp(a->cgroup, b->cgroup) ?: strcmp(a->heap, b->heap);
}

static struct live_row *new_row(struct live_frame *f)
{
	struct live_row *r;

	if (grow_array((void **)&f->rows, &f->rows_cap, f->nrows, sizeof(*f->rows)))
		return NULL;
	r = &f->rows[f->nrows++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* a model row, with its rates since the previous sample */
static int add_row(struct live *l, struct live_frame *f, size_t cell)
{
	const struct holdings *h = f->h;
	struct live_row *r = new_row(f);
	const struct hold_cell *c = &h->cells[cell];

	if (!r)
		return -ENOMEM;
	r->cgroup = h->cgs[cell / h->nheaps].path;
	r->cgroup_removed = h->cgs[cell / h->nheaps].removed;
	r->heap = h->heaps[cell % h->nheaps].name;
	r->charger = h->heaps[cell % h->nheaps].charger;
	r->c = *c;
	r->limit_cgroup = c->limit_cg != HOLD_NONE ? h->cgs[c->limit_cg].path : NULL;
	r->peak = c->bytes;
	if (c->traced) {
		struct coll_agg p = {};

		for (size_t a = c->act; a != HOLD_NONE; a = h->act_next[a])
			coll_agg_add(&p, &l->prev_aggs[a]);
		r->alloc_rate = (c->agg.allocs - p.allocs) / f->interval_s;
		r->free_rate = (c->agg.frees - p.frees) / f->interval_s;
		r->fails = failures(&c->agg);	/* the BPF-LSM's refusals too (lsm_failures()) */
		/* a model kept from a frame before: no attempt since (its counts would
		 * have moved), a merged cell's latencies are that frame's copy, and
		 * c->lat may point into the collector's array as it was before it
		 * grew: not read then */
		if (l->model_ns == f->ts_ns && c->lat && c->lat->n) {
			r->p50_ns = lat_percentile(c->lat, 50);
			r->p99_ns = lat_percentile(c->lat, 99);
		}
	}
	return 0;
}

/* a row whose limit hits grew since the frame before */
static void note_hit(struct live *l, const struct live_frame *f, const struct live_row *r)
{
	snprintf(l->last_hit.cgroup, sizeof(l->last_hit.cgroup), "%s", r->cgroup);
	snprintf(l->last_hit.heap, sizeof(l->last_hit.heap), "%s", r->heap);
	l->last_hit.ts_ns = f->ts_ns;
	l->last_hit.hits = r->c.limit_hits;
}

/*
 * The model's rows, merged with the previous frame's (both by cgroup, then
 * heap): peaks carry over; a row that vanished stays one frame, marked; a
 * row whose limit hits grew (or that came with some, after the first frame)
 * is the last hit.
 */
static int add_rows(struct live *l, struct live_frame *f, const struct live_frame *prev)
{
	const struct holdings *h = f->h;
	size_t i = 0, k = 0;

	while (i < h->nrows || k < prev->nrows) {
		const struct live_row *p = k < prev->nrows ? &prev->rows[k] : NULL;
		struct live_row *r;
		int c = 1;

		/* shown once; its names were the model's before the previous one's */
		if (p && p->gone) {
			k++;
			continue;
		}

		if (i < h->nrows) {
			if (add_row(l, f, h->rows[i]))
				return -ENOMEM;
			r = &f->rows[f->nrows - 1];
			c = p ? cmp_row(r, p) : -1;
			if (c > 0) {	/* p comes first: undo, and take p */
				f->nrows--;
			} else {
				i++;
				if (!c && p->peak > r->peak)
					r->peak = p->peak;
				/* (untraced, a bpf-lsm row's first hits are from before) */
				if (r->c.limit_hits > (c ? 0 : p->c.limit_hits) &&
				    (!c || prev->ts_ns || l->sys.lsm_since))
					note_hit(l, f, r);
			}
		}
		if (c >= 0)
			k++;
		if (c > 0) {
			r = new_row(f);
			if (!r)
				return -ENOMEM;
			*r = *p;
			r->gone = true;
			r->alloc_rate = r->free_rate = 0;
			r->p50_ns = r->p99_ns = 0;
		}
	}
	return 0;
}

/*
 * The kernel's counts moved since the previous sample, or user space found
 * limit refusals in the events (memcg's, not in the aggregates) since the
 * model.
 */
static bool aggs_moved(struct live *l)
{
	size_t n;
	const struct coll_heap_stats *hs = l->coll ? collector_heap_stats(l->coll, &n) : NULL;

	for (size_t i = 0; hs && i < n && i < l->nprev; i++)
		if (memcmp(&hs[i].agg, &l->prev_aggs[i], sizeof(hs[i].agg)))
			return true;
	/* the BPF-LSM's refusals, read between models: a row's HITS and FAIL
	 * move in the frame whose failures/s counts them */
	return l->coll && (collector_refusals_counted(l->coll) != l->model_refusals ||
			   lsm_since_total(&l->lsm_since) != l->model_lsm_total);
}

/* a cgroup was made or removed since the last walk of the tree */
static bool tree_moved(struct live *l)
{
	return l->coll && collector_cgroup_changes(l->coll) != l->tree_changes;
}

/*
 * The cgroup tree as last walked (its names, its cgroups' dmem charges and
 * limits) may be out of date: a cgroup came or went, or the collector does
 * not count those; heapstat's heaps charged or uncharged (the collector
 * counts their charges), or a cgroup has dmem charges and those are not
 * counted; or LIVE_FILES_MS passed, for what no event shows (a limit
 * written; as for the model, other drivers' dmem charges). Else the walk is
 * left out: under churn on an uncharged heap, each frame's model walked the
 * whole tree again for nothing.
 */
static bool tree_stale(struct live *l, uint64_t now)
{
	const struct cg_index *tree = l->sys.cg_tree;
	size_t n = 0;
	const struct coll_heap_stats *hs = l->coll ? collector_heap_stats(l->coll, &n) : NULL;

	if (!l->tree_ns || now - l->tree_ns >= LIVE_FILES_MS * 1000000ull ||
	    !l->coll || !collector_logs_changes(l->coll) || tree_moved(l))
		return true;
	for (size_t i = 0; !collector_heap_tracepoints(l->coll) && tree && i < tree->n; i++)
		if (tree->v[i].ndmem)
			return true;
	for (size_t i = 0; hs && i < n; i++)
		if (hs[i].agg.charged_bytes != (i < l->nprev ? l->prev_aggs[i].charged_bytes : 0))
			return true;
	return false;
}

/*
 * The rows of the cgroups removed long ago (live_keep_removed() after their
 * counts were settled) out of the collector, and their previous counts with
 * them, before a model is built: an always-on view (the exporter, heaptop)
 * would keep a row for every cgroup it ever traced, CI jobs' by the thousand.
 * Those of a path a cgroup there now has (by the tree the model is built
 * on, just walked when a cgroup came or went) are merged into one: its row
 * goes on, every count kept.
 */
static int forget_removed(struct live *l)
{
	struct coll_agg *prev;
	size_t *moved;
	long n;

	if (!l->coll || !collector_forget_due(l->coll, l->keep_removed_ns, l->sys.cg_tree,
					      l->stats.cgroup_walks))
		return 0;
	n = grow_prev(l);
	/* (before: once the collector's entries moved, these must too) */
	prev = n ? NULL : calloc(l->nprev + 1, sizeof(*prev));
	if (!prev)
		return -ENOMEM;
	n = collector_forget_removed(l->coll, l->keep_removed_ns, l->sys.cg_tree,
				     l->stats.cgroup_walks, l->fold_depth, &moved);
	if (n <= 0) {
		free(prev);
		return n;
	}
	/* a merged entry's previous counts: the sum of its parts' */
	for (size_t i = 0; i < l->nprev; i++)
		if (moved[i] != SIZE_MAX)
			coll_agg_add(&prev[moved[i]], &l->prev_aggs[i]);
	free(l->prev_aggs);
	l->prev_aggs = prev;
	l->nprev -= n;
	l->stats.forgotten += n;
	free(moved);
	l->model_ns = 0;	/* the kept model's indices are the old ones: built again */
	return 0;
}

/* the cgroup tree again, when it may have changed */
static int walk_tree(struct live *l, uint64_t now)
{
	if (!tree_stale(l, now))
		return 0;
	l->tree_changes = l->coll ? collector_cgroup_changes(l->coll) : 0;
	l->tree_ns = now;
	l->stats.cgroup_walks++;
	return inventory_cgroups_walk(l->iters) == -ENOMEM ? -ENOMEM : 0;
}

/*
 * Allocations, frees and failures since the previous sample, over every
 * cgroup: the collector's, a BPF-LSM heap's limit failures from the
 * BPF-LSM's own count (lsm_since, read every second: most are refused in
 * the ioctl, which the collector never sees)
 */
static void add_totals(struct live *l, struct live_frame *f)
{
	size_t n, k;
	struct coll_heap_stats *hs;
	uint64_t total;
	double fails = 0;

	if (!l->coll)
		return;
	hs = collector_heap_stats(l->coll, &n);
	for (size_t i = 0; i < n && i < l->nprev; i++) {
		const struct coll_agg *a = &hs[i].agg, *p = &l->prev_aggs[i];

		f->alloc_rate += (a->allocs - p->allocs) / f->interval_s;
		f->free_rate += (a->frees - p->frees) / f->interval_s;
		fails += (double)(failures(a) - failures(p));
		/* a BPF-LSM heap's limit failures: its refusals, counted below */
		k = holdings_heap(f->h, hs[i].heap);
		if (k != HOLD_NONE && holdings_lsm_counted(f->h, k))
			fails -= (double)(a->failures[FAIL_LIMIT] - p->failures[FAIL_LIMIT]);
		l->prev_aggs[i] = *a;
	}
	/* the BPF-LSM's refusals, every one once, from its own count */
	total = lsm_since_total(&l->lsm_since);
	fails += (double)(total - l->lsm_total);
	l->lsm_total = total;
	f->fail_rate = fails / f->interval_s;
	collector_restart_latencies(l->coll);	/* latencies are per interval */
}

static int add_cma(struct live *l, struct live_frame *f)
{
	size_t nc = 0;
	const struct coll_cma_stats *cs = l->coll ? collector_cma_stats(l->coll, &nc) : NULL;
	int err;

	free(f->areas);
	f->areas = NULL;
	f->ncma = 0;
	err = cma_areas_read(CMA_SYSFS, CMA_DEBUGFS, false, &f->areas, &f->ncma);
	if (err)
		return err;
	free(f->cma);
	f->cma = calloc(f->ncma + 1, sizeof(*f->cma));
	if (!f->cma)
		return -ENOMEM;
	for (size_t i = 0; i < f->ncma; i++) {
		struct live_cma *m = &f->cma[i];

		m->name = f->areas[i].name;
		m->total = f->areas[i].total_bytes;
		m->used = f->areas[i].used_bytes;
		/* the collector keeps COLL_NAME_LEN - 1 bytes of a name */
		for (size_t k = 0; k < nc; k++) {
			if (!cs[k].mapped || strncmp(cs[k].area, m->name, COLL_NAME_LEN - 1))
				continue;
			m->mapped = true;
			m->largest_free = cs[k].traced.largest_free_bytes;
			m->fragmentation = cs[k].traced.fragmentation;
		}
	}
	return 0;
}

/* the inventory's processes and @logged: @nlogged of them */
static int list_holders(struct live *l, const pid_t *logged, size_t nlogged)
{
	size_t n = l->inv.nprocs + nlogged;

	if (room_for_pids(&l->tgids, &l->tgids_cap, n))
		return -ENOMEM;
	for (size_t i = 0; i < l->inv.nprocs; i++)
		l->tgids[i] = l->inv.procs[i].pid;
	copy_array(l->tgids + l->inv.nprocs, logged, nlogged, sizeof(*logged));
	return collector_set_holders(l->coll, l->tgids, n);
}

/*
 * The inventory's processes become the ones whose forks and exits count,
 * and so do the processes logged for this frame (one may hold an fd its
 * walk missed, walk_again()). A process left out may have made an fd since
 * its walk, found itself listed in the kernel and not listed itself again:
 * the log read after it was left out names it, and it is listed again.
 */
static int set_holders(struct live *l)
{
	size_t before = l->ch.ntgids;
	int err;

	err = list_holders(l, l->again, l->nagain) ?: read_changes(l);
	if (err || l->ch.ntgids == before)
		return err;
	if (room_for_pids(&l->again, &l->again_cap, l->nagain + l->ch.ntgids - before))
		return -ENOMEM;
	memcpy(l->again + l->nagain, l->ch.tgids + before,
	       (l->ch.ntgids - before) * sizeof(*l->again));
	return list_holders(l, l->again, l->nagain + l->ch.ntgids - before);
}

/* more processes than this changed at once: walking all costs less */
#define LIVE_APPLY_MAX_TGIDS	256

/*
 * The rescan interval's whole walk, the check of the kept inventory against
 * it: the walk becomes the kept inventory, and the one it replaced is
 * compared with it at the next sample (compare_checked()).
 */
static int check_inventory(struct live *l, bool compare)
{
	struct inventory fresh;
	int err;

	err = inventory_take(l->iters, &fresh, "/proc");
	if (err) {
		inventory_free(&fresh);
		return err;
	}
	/* the changes logged during the walk may or may not be in it: applied
	 * again (which is harmless) at the next sample */
	inventory_free(&l->checked);
	l->checked = l->inv;
	l->check_due = compare;
	if (!compare)	/* nothing to compare it with: gone now, not a sample later */
		inventory_free(&l->checked);
	l->inv = fresh;
	return 0;
}

/*
 * What the last whole walk found different from the inventory it replaced,
 * less what changed while it walked and until this sample (the log says)
 * and the processes logged for the frame of the walk (walk_again()), is
 * counted. A change the walk caught halfway (an exec between closing its
 * fds and its tracepoint) is logged by then: only the frame after the walk
 * can leave it out. A sample not taking the log exactly counts nothing.
 */
static void compare_checked(struct live *l)
{
	size_t d;

	if (!l->check_due)
		return;
	if (!l->ch_lost && !l->ch_attach) {
		d = inventory_diff(&l->checked, &l->inv, &l->ch, &l->stats.last_difference);
		if (d != SIZE_MAX) {
			l->stats.checks++;
			l->stats.differences += d;
		}
	}
	inventory_free(&l->checked);
	l->check_due = false;
}

/*
 * Keep the inventory, apply the logged changes to it, or walk it whole:
 * at the start, every rescan interval (as a check), when the log cannot
 * tell (lost entries, an attachment, too many processes), and every frame
 * without it.
 */
static int refresh_inventory(struct live *l, struct live_frame *f)
{
	uint64_t now = now_ns();
	bool traced = l->coll && collector_logs_changes(l->coll);
	enum { KEEP, APPLY, WALK, CHECK } how = WALK;
	bool changed, exact;
	int err;

	err = walk_again(l);
	if (err)
		return err;
	compare_checked(l);
	changed = l->ch.nexports || l->ch.nreleases || l->ch.ntgids;
	/* the exits before exit_files()'s hook were not logged: nothing to compare */
	exact = !l->ch_lost && !l->ch_attach && !l->exits_hooked &&
		l->ch.ntgids <= LIVE_APPLY_MAX_TGIDS;

	if (!l->inv_ns)
		f->inv_taken = "first";
	else if (!traced)
		f->inv_taken = "untraced";
	else if (now - l->full_ns >= l->rescan_ns)
		f->inv_taken = "periodic", how = CHECK;
	else if (l->exits_hooked)
		f->inv_taken = "exits";
	else if (l->ch_lost)
		f->inv_taken = "lost";
	else if (l->ch_attach)
		f->inv_taken = "attachments";
	else if (l->ch.ntgids > LIVE_APPLY_MAX_TGIDS)
		f->inv_taken = "processes";
	else if (changed)
		f->inv_taken = "changes", how = APPLY;
	else
		how = KEEP;
	/* the check compares the walk with the changes applied */
	if ((how == APPLY || (how == CHECK && exact)) && changed) {
		err = inventory_apply(l->iters, &l->inv, &l->ch, "/proc");
		if (!err) {
			l->stats.updates += how == APPLY;
		} else if (err != -ENOMEM) {	/* not from the iterators, or one failed */
			exact = false;
			if (how == APPLY)
				f->inv_taken = "walk", how = WALK;
			err = 0;
		}
	}
	forget_changes(l);	/* the check reads the log again after its walk */
	l->exits_hooked = false;
	if (!err && how == CHECK) {
		err = check_inventory(l, exact);
	} else if (!err && how == WALK) {
		inventory_free(&l->inv);
		err = inventory_take(l->iters, &l->inv, "/proc");
	}
	if (err || how == KEEP)
		return err;
	if (how != APPLY) {
		l->stats.walks++;
		l->full_ns = now;
	}
	l->inv_ns = now;
	return traced ? set_holders(l) : 0;
}

/**
 * live_sample() - one frame: everything since the previous sample
 * @out: the frame, valid until the next live_sample()
 *
 * Return: 0 or a negative errno.
 */
int live_sample(struct live *l, const struct live_frame **out)
{
	const struct live_frame *prev = &l->frames[l->cur];
	struct live_frame *f = &l->frames[!l->cur];
	static const struct hold_filter all;
	int err = 0;

	f->nrows = 0;
	f->inv_taken = NULL;
	f->alloc_rate = f->free_rate = f->fail_rate = 0;
	/*
	 * exit_files()'s hook after the first frame: of the holder hooks, its
	 * attach is the one that costs (an ftrace update, about 14 ms of guest
	 * time on 7.2: docs/benchmarks.md, start-up), and a first frame, or the
	 * only one, walks whole without it. The exits before it went unlogged:
	 * this frame walks whole.
	 */
	f->exits_refused = false;
	if (l->coll && l->inv_ns) {
		err = collector_hook_exits(l->coll);
		l->exits_hooked = err > 0;
		f->exits_refused = err < 0;	/* then every frame walks */
		err = 0;
	}
	if (l->coll)
		err = collector_poll(l->coll, 0) ?: read_changes(l) ?: collector_sync(l->coll);
	if (!err)
		err = refresh_inventory(l, f);
	if (!err)
		err = grow_prev(l);
	if (err)
		return err;
	f->inv = &l->inv;
	f->ts_ns = now_ns();
	f->interval_s = (f->ts_ns - (l->rebased_ns ?: prev->ts_ns ?: l->start_ns)) / 1e9;
	l->rebased_ns = 0;
	f->no_tracing = l->coll ? NULL : l->no_tracing;
	if (!l->model_ns || f->inv_taken || aggs_moved(l) || tree_moved(l) ||
	    f->ts_ns - l->model_ns >= LIVE_FILES_MS * 1000000ull) {
		/* the frame before shows the last model: keep it, free the one before */
		int m = !l->model;

		/* the cgroup tree the model names cgroups by (shared with the
		 * inventory), when it may have changed */
		if (walk_tree(l, f->ts_ns))
			return -ENOMEM;
		l->stats.models++;
		holdings_free(&l->models[m]);
		/* (a removed cgroup's path, looked up in the build, may sync the
		 * collector: its new entries need a count before too, 0) */
		err = forget_removed(l) ?:
		      holdings_build(&l->models[m], &l->sys, &l->inv, l->coll, &all) ?:
		      grow_prev(l);
		if (err)
			return err;
		l->model = m;
		l->model_ns = f->ts_ns;
		l->model_refusals = l->coll ? collector_refusals_counted(l->coll) : 0;
		l->model_lsm_total = lsm_since_total(&l->lsm_since);
	}
	f->h = &l->models[l->model];
	err = add_rows(l, f, prev);
	f->last_hit = l->last_hit;
	if (!err)
		err = add_cma(l, f);
	if (err)
		return err;
	add_totals(l, f);
	f->drops = l->coll ? collector_dropped(l->coll) : 0;
	if (l->coll)
		collector_losses(l->coll, &f->losses);
	f->inv_stats = l->stats;
	l->cur = !l->cur;
	*out = f;
	return 0;
}

/*
 * The next sample's rates and latencies over an interval from now (a view
 * resumed after a pause), not from the sample before. Its rows are compared
 * with that sample's still: a row that vanished meanwhile is shown, marked
 * gone. Nothing of the frames is freed: the last one stays valid.
 */
int live_rebase(struct live *l)
{
	size_t n;
	const struct coll_heap_stats *hs;
	int err;

	l->rebased_ns = now_ns();
	if (!l->coll)
		return 0;
	err = live_drain(l) ?: collector_sync(l->coll) ?: grow_prev(l);
	if (err)
		return err;
	hs = collector_heap_stats(l->coll, &n);
	for (size_t i = 0; i < n && i < l->nprev; i++)
		l->prev_aggs[i] = hs[i].agg;
	l->lsm_total = lsm_since_total(&l->lsm_since);	/* refused while paused: not in the next rate */
	collector_restart_latencies(l->coll);
	/* the kept model's counts are older than these: the next sample builds one,
	 * on the cgroup tree walked again (the charges tree_stale() compares are
	 * these now, not those the tree was last read at) */
	l->model_ns = 0;
	l->tree_ns = 0;
	return 0;
}

/*
 * @rescan_ms: the longest an inventory is kept without events (0: none is kept).
 * A kernel that refuses tracing is no error: the frames say why (no_tracing).
 */
int live_open(struct live **out, enum coll_attach mode, uint64_t rescan_ms)
{
	struct live *l = calloc(1, sizeof(*l));
	int err = 0;

	if (!l)
		return -ENOMEM;
	l->rescan_ns = rescan_ms * 1000000;
	l->changes_max = getenv("HEAPSTAT_TEST_LIVE_CHANGES") ?
			 strtoul(getenv("HEAPSTAT_TEST_LIVE_CHANGES"), NULL, 10) : LIVE_CHANGES_MAX;
	l->fold_depth = UINT_MAX;
	l->keep_removed_ns = LIVE_KEEP_REMOVED_MS * 1000000ull;
	l->sys = hold_sys_live;
	l->sys.mem_accounting = heap_mem_accounting();

	/* drained every LIVE_DRAIN_MS, a quarter of the default ring is plenty;
	 * without BTF, or in a PID namespace of its own, nothing loads, and the
	 * frames say so in a line */
	if (heapstat_no_btf())
		snprintf(l->no_tracing, sizeof(l->no_tracing), "%s", heapstat_no_btf());
	else if (heapstat_own_pidns())	/* the snapshots' holders come from /proc */
		snprintf(l->no_tracing, sizeof(l->no_tracing), "in a PID namespace of its own "
			 "(holders: %s): %s", proc_own_pidns("/proc") ? "its processes only" :
			 "an outer one's /proc", heapstat_pidns_why);
	else
		err = collector_open_rec(&l->coll, mode, LIVE_RING_BYTES, true, COLL_EXITS_LATER,
					 l->no_tracing, sizeof(l->no_tracing));
	if (err == -ENOMEM) {
		live_close(l);
		return err;
	}
	refusal_count_start(&l->refusals, l->coll, l->sys.mem_accounting);
	if (l->coll) {		/* the BPF-LSM's refusals from here, as the collector's */
		lsm_since_read(&l->lsm_since, l->sys.lsm_pin_dir);
		l->lsm_read_ns = now_ns();
		l->sys.lsm_since = &l->lsm_since;
		l->lsm_since.keep_removed_ns = l->keep_removed_ns;
	}
	err = inventory_open(&l->iters, false, true);
	if (err) {
		live_close(l);
		return err;
	}
	l->sys.cg_tree = inventory_cgroups(l->iters);
	/* a long run: give back what loading took (parsed BTF, ELF), and keep
	 * each frame's big arrays in their own mappings, returned when freed */
	kernel_btf_release();
	malloc_trim(0);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	l->start_ns = now_ns();
	*out = l;
	return 0;
}

void live_close(struct live *l)
{
	if (!l)
		return;
	inventory_free(&l->inv);
	inventory_free(&l->checked);
	free(l->ch.exports);
	free(l->ch.releases);
	free(l->ch.tgids);
	free(l->again);
	free(l->tgids);
	for (int i = 0; i < 2; i++) {
		holdings_free(&l->models[i]);
		free(l->frames[i].rows);
		free(l->frames[i].areas);
		free(l->frames[i].cma);
	}
	collector_close(l->coll);
	refusal_count_stop(&l->refusals);
	inventory_close(l->iters);
	free(l->prev_aggs);
	lsm_since_free(&l->lsm_since);
	free(l);
}
