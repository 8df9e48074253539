// SPDX-License-Identifier: GPL-2.0
/*
 * The holdings model (holdings.h), built in passes:
 * 1. heaps: exporters of live buffers, /dev/dma_heap, dmem regions, traced heaps;
 * 2. cgroups: every cgroup of the tree (one walk of its directories), the
 *    cgroups of holders and of traced tasks not (or no longer) in it;
 * 3. held: each buffer counted once for each cgroup one of its holders is in;
 * 4. charged and limits: dmem.current and dmem.max of every cgroup with the
 *    dmem controller, or the same as the walk of the cgroup tree read it from
 *    the kernel's pools (sys->cg_tree; charges stay with the cgroup charged
 *    wherever the buffer went, so a cgroup may be charged for what it no
 *    longer holds);
 *    memory.current and memory.max for the memcg-charged system heap; the
 *    BPF-LSM limits' usage and limits for heaps nothing else charges, while
 *    they are pinned (bpf/limit.bpf.c);
 * 5. allocated: the collector's aggregates per (cgroup id, heap);
 * 6. rows and limits: a cell is a row when the cgroup holds, was charged
 *    itself, allocated, had an allocation refused by a limit, or has a
 *    limit of its own; its limit is the one
 *    of the cgroup or an ancestor that leaves the least room (that cgroup's
 *    limit less that cgroup's charge).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cgroup/dmem.h"
#include "cgroup/path.h"
#include "heap_dev.h"
#include "holdings.h"
#include "lsm_limit.h"
#include "procfs.h"
#include "text.h"
#include "util.h"

const struct hold_sys hold_sys_live = {
	.proc = "/proc",
	.cgroup_root = NULL,		/* cg_root() */
	.heap_dev = HEAP_DEV_DIR,
	.heapstat_accounting = "/sys/module/heapstat_core/parameters/accounting",
	.lsm_pin_dir = LSM_LIMIT_PIN_DIR,
};

/* the cgroup2 mount @sys reads */
const char *hold_sys_cgroup_root(const struct hold_sys *sys)
{
	return sys->cgroup_root ? sys->cgroup_root : cg_root();
}

static const char *keep(struct holdings *h, const char *s)
{
	return arena_strdup(&h->names, s);
}

/* is @path @filter or below it ("" and "/" take every path) */
bool hold_in_cgroup(const char *path, const char *filter)
{
	size_t n = strlen(filter);

	if (!n || !strcmp(filter, "/"))
		return true;
	return !strncmp(path, filter, n) && (path[n] == '\0' || path[n] == '/');
}

/* ---- pass 1: heaps ---- */

struct name_set {
	const char **v;
	size_t n, cap;
};

static int name_add(struct holdings *h, struct name_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)	/* a few heaps and exporters */
		if (s->v[i] == name || !strcmp(s->v[i], name))
			return 0;
	if (grow_array((void **)&s->v, &s->cap, s->n, sizeof(*s->v)))
		return -ENOMEM;
	s->v[s->n] = keep(h, name);
	return s->v[s->n++] ? 0 : -ENOMEM;
}

static bool name_find(const struct name_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char * const *)a, *(const char * const *)b);
}

static int cmp_heap(const void *a, const void *b)
{
	return strcmp(((const struct hold_heap *)a)->name, ((const struct hold_heap *)b)->name);
}

size_t holdings_heap(const struct holdings *h, const char *name)
{
	struct hold_heap key = { .name = name }, *e;

	e = bsearch(&key, h->heaps, h->nheaps, sizeof(key), cmp_heap);
	return e ? (size_t)(e - h->heaps) : HOLD_NONE;
}

/* dmem's regions, and their capacities when read from dmem.capacity */
struct regions {
	struct name_set names;
	uint64_t *capacity;
	size_t capcap;
	bool sized;
};

/*
 * A heap's region in dmem.capacity (or, in a cgroup namespace, its root's
 * dmem.current): kept whole, the heaps it charges found again later.
 */
static int add_region(const char *region, uint64_t value, void *arg)
{
	const char *heaps[2];
	void **a = arg;
	struct regions *r = a[1];
	size_t n = r->names.n;

	if (!dmem_region_heaps(region, heaps))
		return 0;
	if (name_add(a[0], &r->names, region))
		return -ENOMEM;
	if (r->names.n == n)
		return 0;	/* listed twice */
	if (grow_array((void **)&r->capacity, &r->capcap, n, sizeof(*r->capacity)))
		return -ENOMEM;
	r->capacity[n] = value;
	return 0;
}

/* the capacity of @region as dmem.capacity said it */
static bool region_capacity(const struct regions *r, const char *region, uint64_t *out)
{
	for (size_t i = 0; r->sized && i < r->names.n; i++)
		if (r->names.v[i] == region) {
			*out = r->capacity[i];
			return true;
		}
	return false;
}

/*
 * The region in @regions charging heap @name, NULL when none: its own
 * "dma-heap/<name>" (a heapstat heap), else a CMA area's that names it.
 */
static const char *region_of(const struct name_set *regions, const char *name)
{
	const char *found = NULL;

	for (size_t i = 0; i < regions->n; i++) {
		const char *heaps[2];
		int n = dmem_region_heaps(regions->v[i], heaps);

		for (int k = 0; k < n; k++) {
			if (strcmp(heaps[k], name))
				continue;
			if (!strncmp(regions->v[i], REGION_PREFIX, strlen(REGION_PREFIX)))
				return regions->v[i];
			found = found ?: regions->v[i];
		}
	}
	return found;
}

/*
 * Whether heapstat's heaps charge their dmem regions ("dma-heap/<name>"):
 * heapstat_core's accounting, on, off, or auto (dma_heap.mem_accounting's).
 * The region is there whatever the mode: off, a dmem.max binds nothing
 * there, and the heaps are limited as heaps that charge nobody are. Without
 * the module (no such parameter) the regions are another's, charged.
 */
static bool heapstat_heaps_charge(const struct hold_sys *sys)
{
	char mode[16] = "";
	FILE *f = sys->heapstat_accounting ? fopen(sys->heapstat_accounting, "re") : NULL;

	if (!f)
		return true;
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = '\0';
	fclose(f);
	if (!strncmp(mode, "auto", 4))
		return sys->mem_accounting;
	return strncmp(mode, "off", 3) != 0;
}

/* a dmem region is charged now: another's always, heapstat's by its mode (*@ours: -1 unread) */
static bool region_charged(const struct hold_sys *sys, const char *region, int *ours)
{
	if (strncmp(region, REGION_PREFIX, strlen(REGION_PREFIX)))
		return true;
	if (*ours < 0)
		*ours = heapstat_heaps_charge(sys);
	return *ours;
}

/*
 * A bpf-lsm limit is pinned for heap @name: its limits are bpf-lsm's until
 * cleared, whatever charges it now (heapstat_core's accounting turned on
 * since they were set): shown, bound and cleared as such.
 */
static bool lsm_limited(const struct holdings *h, const char *name)
{
	for (size_t i = 0; i < h->nlsm_rows; i++)
		if (h->lsm_rows[i].limit != LSM_LIMIT_NONE && !strcmp(h->lsm_rows[i].heap, name))
			return true;
	return false;
}

static int collect_heaps(struct holdings *h, const struct hold_sys *sys, struct collector *coll,
			 struct regions *r)
{
	const struct inventory *inv = h->inv;
	const struct name_set *regions = &r->names;
	struct name_set all = {}, devs = {};
	int ours_charge = -1;	/* heapstat_heaps_charge(), read once if a region is ours */
	void *arg[2] = { h, r };
	struct heap_dev *hd;
	size_t nhd;
	int err = heap_devs_read(sys->heap_dev, &hd, &nhd);

	if (err == -ENOMEM)
		return err;
	err = 0;	/* else unreadable: the heaps are those found elsewhere */
	for (size_t i = 0; !err && i < nhd; i++)
		err = name_add(h, &devs, hd[i].name) ?: name_add(h, &all, hd[i].name);
	heap_devs_free(hd, nhd);
	if (!err) {
		err = cg_dmem_each(hold_sys_cgroup_root(sys), "dmem.capacity", add_region, arg);
		r->sized = !err;
		/* in a cgroup namespace (a container) the root is not the hierarchy's,
		 * which alone has dmem.capacity: its dmem.current lists every region */
		if (err == -ENOENT)
			err = cg_dmem_each(hold_sys_cgroup_root(sys), "dmem.current", add_region, arg);
		h->dmem = !err;
		if (err == -ENOENT)	/* no dmem controller: nothing charges dmem */
			err = 0;
	}
	/* a heapstat heap's region names its heap; a CMA area's, only heaps that are there */
	for (size_t i = 0; !err && i < regions->n; i++) {
		const char *heaps[2];
		int n = dmem_region_heaps(regions->v[i], heaps);

		for (int k = 0; !err && k < n; k++)
			if (!strncmp(regions->v[i], REGION_PREFIX, strlen(REGION_PREFIX)) ||
			    name_find(&devs, heaps[k]))
				err = name_add(h, &all, heaps[k]);
	}
	for (size_t i = 0; !err && i < inv->nbufs; i++)	/* a name is shared: by runs */
		if (!i || inv->bufs[i].exp_name != inv->bufs[i - 1].exp_name)
			err = name_add(h, &all, inv->bufs[i].exp_name);
	if (coll) {
		size_t n;
		const struct coll_heap_stats *hs = collector_heap_stats(coll, &n);

		const struct coll_forgotten *fg;

		for (size_t i = 0; !err && i < n; i++)
			err = name_add(h, &all, hs[i].heap);
		/* a heap only cgroups long removed used: its latencies go on */
		fg = collector_forgotten(coll, &n);
		for (size_t i = 0; !err && i < n; i++)
			err = name_add(h, &all, fg[i].heap);
	}
	if (!err) {
		h->heaps = calloc(all.n + 1, sizeof(*h->heaps));
		err = h->heaps ? 0 : -ENOMEM;
	}
	if (!err) {
		sort_ordered(all.v, all.n, sizeof(*all.v), cmp_str);
		sort_ordered(devs.v, devs.n, sizeof(*devs.v), cmp_str);
		for (size_t i = 0; i < all.n; i++) {
			struct hold_heap *hp = &h->heaps[h->nheaps++];

			hp->name = all.v[i];
			hp->device = bsearch(&all.v[i], devs.v, devs.n, sizeof(*devs.v), cmp_str);
			hp->region = region_of(regions, hp->name);
			if (hp->region)
				hp->capacity_known = region_capacity(r, hp->region, &hp->capacity);
			if (hp->region && !lsm_limited(h, hp->name) &&
			    region_charged(sys, hp->region, &ours_charge))
				hp->charger = CHARGER_DMEM;
			else if (h->mem_accounting && !strcmp(hp->name, "system"))
				hp->charger = CHARGER_MEMCG;	/* upstream's, __GFP_ACCOUNT */
			else if (h->lsm_rows && hp->device)
				hp->charger = CHARGER_LSM;
		}
	}
	free(all.v);
	free(devs.v);
	return err;
}

/* ---- pass 2: cgroups ---- */

static int cmp_cg_path(const void *a, const void *b)
{
	return strcmp(((const struct hold_cgroup *)a)->path, ((const struct hold_cgroup *)b)->path);
}

size_t holdings_cgroup(const struct holdings *h, const char *path)
{
	struct hold_cgroup key = { .path = path }, *e;

	e = bsearch(&key, h->cgs, h->ncgs, sizeof(key), cmp_cg_path);
	return e ? (size_t)(e - h->cgs) : HOLD_NONE;
}

static int cmp_by_id(const void *a, const void *b)
{
	uint64_t x = ((const struct hold_cg_id *)a)->id, y = ((const struct hold_cg_id *)b)->id;

	return (x > y) - (x < y);
}

size_t holdings_cgroup_by_id(const struct holdings *h, uint64_t id)
{
	size_t lo = 0, hi = h->nids;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		uint64_t m = h->by_id[mid].id;

		if (m == id)
			return h->by_id[mid].cg;
		if (m < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return HOLD_NONE;
}

/* the path of a cgroup id: "?<id>" for one gone, "(before tracing)" for 0 */
const char *holdings_cgroup_path(const struct holdings *h, uint64_t id)
{
	size_t cg = holdings_cgroup_by_id(h, id);

	return cg != HOLD_NONE ? h->cgs[cg].path : id ? "?" : HOLD_BEFORE_TRACING;
}

struct cg_list {
	struct hold_cgroup *v;
	size_t n, cap;
};

/* the cgroup whose path is the first @len bytes of @path */
static size_t cgroup_prefix(const struct holdings *h, const char *path, size_t len)
{
	size_t lo = 0, hi = h->ncgs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = h->cgs[mid].path;
		int c = strncmp(path, m, len);

		if (!c)
			c = m[len] ? -1 : 0;
		if (!c)
			return mid;
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return HOLD_NONE;
}

size_t holdings_ancestor(const struct holdings *h, const char *path)
{
	size_t len = path[0] == '/' ? strlen(path) : 0, cg = HOLD_NONE;

	while (cg == HOLD_NONE && len > 1) {
		do	/* "/a/b" -> "/a", "/a" -> "/" */
			len--;
		while (len && path[len] != '/');
		cg = cgroup_prefix(h, path, len ? len : 1);
	}
	return cg;
}

static int cg_push(struct holdings *h, struct cg_list *l, uint64_t id, const char *path,
		   bool removed)
{
	if (grow_array((void **)&l->v, &l->cap, l->n, sizeof(*l->v)))
		return -ENOMEM;
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].id = id;
	l->v[l->n].removed = removed;
	l->v[l->n].path = keep(h, path);
	return l->v[l->n++].path ? 0 : -ENOMEM;
}

/*
 * One entry per path: a cgroup the tree has and the processes name, or
 * removed cgroups and the one made again at their path (one cgroup to a
 * user, as to Prometheus: their counts are summed). Every id of a path
 * leads to its entry; the entry's own id is a live one's where there is one.
 */
static int cg_merge(struct holdings *h, struct cg_list *l)
{
	size_t out = 0;

	h->by_id = calloc(l->n + 1, sizeof(*h->by_id));
	if (!h->by_id)
		return -ENOMEM;
	sort_ordered(l->v, l->n, sizeof(*l->v), cmp_cg_path);
	for (size_t i = 0; i < l->n; i++) {
		struct hold_cgroup *c = &l->v[i], *to = out ? &l->v[out - 1] : NULL;

		if (to && !strcmp(to->path, c->path)) {
			if (c->id && (!to->id || !c->removed))	/* a live id, when one */
				to->id = c->id;
			to->removed = to->removed && c->removed;
		} else {
			to = &l->v[out++];
			*to = *c;
		}
		if (c->id)
			h->by_id[h->nids++] = (struct hold_cg_id){ .id = c->id, .cg = out - 1 };
	}
	sort_ordered(h->by_id, h->nids, sizeof(*h->by_id), cmp_by_id);
	h->cgs = l->v;
	h->ncgs = out;
	return 0;
}

static int collect_cgroups(struct holdings *h, const struct hold_sys *sys, struct collector *coll)
{
	const struct inventory *inv = h->inv;
	const struct cg_index *tree = sys->cg_tree;
	struct cg_index ix = {};
	struct cg_list l = {};
	int err = 0;

	/* no cgroup2 here (or it went away): the holders' paths alone */
	if (!tree) {
		if (cg_index_build(&ix, hold_sys_cgroup_root(sys)))
			cg_index_free(&ix);
		tree = &ix;
	}
	for (size_t i = 0; i < tree->n && !err; i++)
		err = cg_push(h, &l, tree->v[i].id, tree->v[i].path, false);
	/* made since the walk, or named by /proc from another namespace */
	for (size_t i = 0; i < inv->nprocs && !err; i++)
		err = cg_push(h, &l, 0, inv->procs[i].cgroup, false);
	if (coll && !err) {
		size_t n;
		const struct coll_heap_stats *hs = collector_heap_stats(coll, &n);

		for (size_t i = 0; i < n && !err; i++) {
			uint64_t id = hs[i].cgroup_id;
			const char *path = NULL;
			char gone[32];

			if (cg_index_path(tree, id))
				continue;
			/*
			 * removed since it allocated: by the path it had, else its
			 * id. The lookup may sync the collector, which may move its
			 * entries (appended to, never reordered): taken again.
			 */
			if (id) {
				path = collector_removed_cgroup(coll, id);
				hs = collector_heap_stats(coll, &n);
			}
			if (id && !path && h->lsm_since)	/* as the loop below names it */
				path = lsm_since_path(h->lsm_since, id);
			if (id && !path)
				snprintf(gone, sizeof(gone), "?%llu", (unsigned long long)id);
			else if (!id)
				snprintf(gone, sizeof(gone), HOLD_BEFORE_TRACING);
			err = cg_push(h, &l, id, path ? path : gone, id);
		}
	}
	/* removed with bpf-lsm refusals since tracing began, none of them the collector's */
	for (size_t i = 0; h->lsm_since && i < h->lsm_since->n && !err; i++) {
		struct lsm_since_ent *e = &h->lsm_since->v[i];
		const char *path = cg_index_path(tree, e->cgroup_id);
		char gone[32];

		lsm_since_name(e, path);	/* there: its path kept for when it is not */
		if (path || !lsm_since_kept(h->lsm_since, e))
			continue;
		path = e->path;
		if (!path && coll)
			path = collector_removed_cgroup(coll, e->cgroup_id);
		if (!path)
			snprintf(gone, sizeof(gone), "?%llu", (unsigned long long)e->cgroup_id);
		err = cg_push(h, &l, e->cgroup_id, path ? path : gone, true);
	}
	cg_index_free(&ix);
	err = err ?: cg_merge(h, &l);
	if (err) {
		free(l.v);
		return err;
	}
	for (size_t i = 0; i < h->ncgs; i++) {
		struct hold_cgroup *c = &h->cgs[i];
		size_t len = strrchr(c->path, '/') ? (size_t)(strrchr(c->path, '/') - c->path) : 0;

		c->parent = HOLD_NONE;
		/* "/camera" -> "/", "/a/b" -> "/a"; none for one removed: no limit binds it */
		if (c->path[0] == '/' && c->path[1] && !c->removed)
			c->parent = cgroup_prefix(h, c->path, len ? len : 1);
	}
	return 0;
}

/* ---- pass 3: held ---- */

/*
 * Buffer @buf once in the tree totals of @cg and of each of its ancestors: the
 * walk up ends at the first that counted it already (for another holder; its
 * ancestors did then too)
 */
static void count_tree(struct holdings *h, size_t cg, size_t heap, size_t buf, uint64_t size)
{
	for (; cg != HOLD_NONE && h->cgs[cg].last_tree_buf != buf + 1; cg = h->cgs[cg].parent) {
		struct hold_cell *cell = hold_cell(h, cg, heap);

		h->cgs[cg].last_tree_buf = buf + 1;
		cell->tree_bytes += size;
		cell->tree_buffers++;
	}
}

static bool proc_passes(const struct inv_proc *p, const struct hold_filter *flt)
{
	return (!flt->pid || (p->pid == flt->pid && !flt->pid_gone)) &&
	       hold_in_cgroup(p->cgroup, flt->cgroup);
}

static int count_held(struct holdings *h, const struct hold_filter *flt)
{
	const struct inventory *inv = h->inv;
	bool by_proc = flt->pid || flt->cgroup[0];
	const char *name = NULL;	/* a name is shared: its heap looked up when it changes */
	size_t heap = HOLD_NONE;

	h->buf_shown = calloc(inv->nbufs + 1, sizeof(bool));
	h->proc_shown = calloc(inv->nprocs + 1, sizeof(bool));
	h->proc_cg = calloc(inv->nprocs + 1, sizeof(size_t));
	h->procs = malloc((inv->nprocs + 1) * sizeof(*h->procs));
	if (!h->buf_shown || !h->proc_shown || !h->proc_cg || !h->procs)
		return -ENOMEM;
	inventory_proc_totals(inv, flt->heap, h->procs);
	/* with a heap filter, the processes that hold a buffer of it */
	for (size_t i = 0; i < inv->nprocs; i++) {
		h->proc_shown[i] = proc_passes(&inv->procs[i], flt) &&
				   (!flt->heap || h->procs[i].buffers);
		h->proc_cg[i] = holdings_cgroup(h, inv->procs[i].cgroup);
	}
	/* with a process filter, the buffers those processes hold; without a filter, all */
	if (!by_proc && !flt->heap)
		memset(h->buf_shown, true, inv->nbufs * sizeof(*h->buf_shown));
	for (size_t i = 0; (by_proc || flt->heap) && i < inv->nbufs; i++)
		h->buf_shown[i] = !by_proc && (!flt->heap || !strcmp(inv->bufs[i].exp_name, flt->heap));
	for (size_t i = 0; by_proc && i < inv->nholds; i++) {
		const struct inv_hold *hd = &inv->holds[i];

		if (h->proc_shown[hd->proc] &&
		    (!flt->heap || !strcmp(inv->bufs[hd->buf].exp_name, flt->heap)))
			h->buf_shown[hd->buf] = true;
	}
	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		struct hold_heap *hp;

		if (!h->buf_shown[i])
			continue;
		if (b->exp_name != name) {
			heap = holdings_heap(h, b->exp_name);
			name = b->exp_name;
		}
		hp = &h->heaps[heap];
		hp->bytes += b->size;
		hp->buffers++;
		if (!b->holders && b->attachments_known && !b->attachments) {
			h->kernel_held++;
			h->kernel_held_bytes += b->size;
		}
		/* once per cgroup, however many of its processes hold it */
		for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++) {
			size_t proc = inv->holds[k].proc, cg = h->proc_cg[proc];
			struct hold_cgroup *c = &h->cgs[cg];
			struct hold_cell *cell = hold_cell(h, cg, heap);

			if (!h->proc_shown[proc])
				continue;
			count_tree(h, cg, heap, i, b->size);
			if (c->last_buf == i + 1)
				continue;
			c->last_buf = i + 1;
			c->bytes += b->size;
			c->buffers++;
			cell->bytes += b->size;
			cell->buffers++;
		}
	}
	return 0;
}

/* ---- pass 4: charges and limits from the cgroup files ---- */

struct dmem_read {
	struct holdings *h;
	size_t cg;
	bool max;
};

static int on_dmem(const char *region, uint64_t value, void *arg)
{
	struct dmem_read *r = arg;
	const char *heaps[2];
	int n = dmem_region_heaps(region, heaps);

	for (int k = 0; k < n; k++) {
		size_t heap = holdings_heap(r->h, heaps[k]);
		struct hold_cell *cell;

		/* the heap's own region: another that names it too (a CMA area's) is not */
		if (heap == HOLD_NONE || r->h->heaps[heap].charger != CHARGER_DMEM ||
		    strcmp(r->h->heaps[heap].region, region))
			continue;
		cell = hold_cell(r->h, r->cg, heap);
		if (r->max) {
			cell->max = value;
		} else {
			cell->charged = value;
			cell->charged_known = true;
		}
	}
	return 0;
}

/*
 * What the files would say, from the walk of the kernel's own state that named
 * the cgroups (iter/cgroup): each heap's region, 0 and "max" for one the
 * cgroup has no pool of. The hierarchy's root has no dmem.max.
 */
static void walked_dmem(struct holdings *h, size_t cg, const struct cg_entry *e)
{
	for (size_t k = 0; e->dmem_state == CG_DMEM_ON && k < h->nheaps; k++) {
		const struct cg_dmem *pool = NULL;
		struct hold_cell *cell;

		if (h->heaps[k].charger != CHARGER_DMEM)
			continue;
		for (size_t i = 0; i < e->ndmem && !pool; i++)
			if (!strcmp(e->dmem[i].region, h->heaps[k].region))
				pool = &e->dmem[i];
		cell = hold_cell(h, cg, k);
		cell->charged = pool ? pool->current : 0;
		cell->charged_known = true;
		if (!e->top)
			cell->max = pool ? pool->max : CG_DMEM_MAX;
	}
}

static int read_dmem(struct holdings *h, const struct hold_sys *sys)
{
	const char *root = hold_sys_cgroup_root(sys);
	bool regions = false;

	/* no heap charges dmem: its files have nothing of ours */
	for (size_t k = 0; k < h->nheaps; k++)
		regions |= h->heaps[k].charger == CHARGER_DMEM;
	for (size_t cg = 0; regions && cg < h->ncgs; cg++) {
		const struct cg_entry *e = sys->cg_tree && h->cgs[cg].id ?
					   cg_index_find(sys->cg_tree, h->cgs[cg].id) : NULL;
		struct dmem_read r = { h, cg, false };
		char dir[4096];
		int err;

		if (e && e->dmem_state != CG_DMEM_UNREAD) {
			walked_dmem(h, cg, e);
			h->dmem_walked++;
			continue;
		}
		/* a removed cgroup's files are gone (its path may be another's since) */
		if (h->cgs[cg].removed || h->cgs[cg].path[0] != '/' ||
		    cg_dir(dir, sizeof(dir), root, h->cgs[cg].path))
			continue;
		h->dmem_files++;
		/*
		 * No dmem controller in this cgroup (or it is gone): nothing
		 * charged. One whose path is too long for its files (which a
		 * user with a delegated subtree can make) is left unread: its
		 * charges unknown and its own limit unseen, not the end of
		 * every other's.
		 */
		err = cg_dmem_each(dir, "dmem.current", on_dmem, &r);
		if (err && err != -ENOENT && err != -ENAMETOOLONG)
			return err;
		r.max = true;
		err = cg_dmem_each(dir, "dmem.max", on_dmem, &r);
		if (err && err != -ENOENT && err != -ENAMETOOLONG)
			return err;
	}
	return 0;
}

/* where dmem's charges and limits came from; NULL: no heap charges dmem */
const char *holdings_charges_source(const struct holdings *h)
{
	if (h->dmem_walked && h->dmem_files)
		return "iter/cgroup+files";
	return h->dmem_walked ? "iter/cgroup" : h->dmem_files ? "files" : NULL;
}

/*
 * The BPF-LSM limits' rows, when they are pinned (-ENOENT: they are not;
 * -EACCES: not root, kept in lsm_err). They are read before the heaps: a heap
 * nothing else charges is charged there.
 */
static void take_lsm(struct holdings *h, const struct hold_sys *sys)
{
	char why[512] = "";
	uint32_t cells_id;
	int err;

	if (!sys->lsm_pin_dir)
		return;
	err = lsm_limit_look(sys->lsm_pin_dir, 0, &h->lsm_rows, &h->nlsm_rows, &cells_id, why,
			     sizeof(why));
	/* none pinned: counts kept; a cell first seen waits if this fails */
	if (sys->lsm_since && (!err || err == -ENOENT))
		lsm_since_update(sys->lsm_since, cells_id, h->lsm_rows, h->nlsm_rows);
	h->lsm_since = sys->lsm_since;
	if (!err && !h->lsm_rows)	/* pinned, nothing charged yet: still the charger */
		h->lsm_rows = calloc(1, sizeof(*h->lsm_rows));
	h->lsm_err = err == -ENOENT ? 0 : err;
	if (h->lsm_err)
		snprintf(h->lsm_why, sizeof(h->lsm_why), "%s", why);
}

/*
 * A heap whose hits the BPF-LSM counts: one it charges; with counts kept
 * since the caller began (lsm_since), also one it charged before its last
 * limit was cleared.
 */
bool holdings_lsm_counted(const struct holdings *h, size_t k)
{
	const struct hold_heap *hp = &h->heaps[k];

	return hp->charger == CHARGER_LSM || (h->lsm_since && hp->charger == CHARGER_NONE &&
					      hp->device);
}

static bool cgroup_known(uint64_t id, void *ctx)
{
	return holdings_cgroup_by_id(ctx, id) != HOLD_NONE;
}

/*
 * The hits since the caller began: those of cells gone too, and of cgroups
 * removed since (collect_cgroups() keeps them, by the path they had: a
 * cgroup whose every allocation was refused is none of the collector's)
 */
static void lsm_since_hits_add(struct holdings *h)
{
	struct lsm_since *s = h->lsm_since;

	for (size_t i = 0; i < s->n; i++) {
		size_t cg = holdings_cgroup_by_id(h, s->v[i].cgroup_id);
		size_t k = s->v[i].heap[0] ? holdings_heap(h, s->v[i].heap) : HOLD_NONE;

		if (cg != HOLD_NONE && k != HOLD_NONE && holdings_lsm_counted(h, k))
			hold_cell(h, cg, k)->limit_hits += lsm_since_hits(&s->v[i]);
	}
	lsm_since_prune(s, cgroup_known, h);
}

/*
 * The BPF-LSM's usage, limits and hits. A removed cgroup's usage is not its
 * row's, as dmem's files of a removed cgroup are not read: it is in its
 * parent's, which no longer has it as a child to take it from, and it is
 * not the usage of a cgroup made again at its path, which the programs
 * check alone. Its hits are that row's, with the activity.
 */
static void read_lsm(struct holdings *h)
{
	for (size_t k = 0; k < h->nheaps; k++)
		for (size_t cg = 0; h->heaps[k].charger == CHARGER_LSM && cg < h->ncgs; cg++)
			if (!h->cgs[cg].removed)	/* 0 until a cell says */
				hold_cell(h, cg, k)->charged_known = true;
	for (size_t i = 0; i < h->nlsm_rows; i++) {
		const struct lsm_limit_row *r = &h->lsm_rows[i];
		size_t cg = holdings_cgroup_by_id(h, r->cgroup_id), k = holdings_heap(h, r->heap);
		struct hold_cell *cell;

		if (cg == HOLD_NONE || k == HOLD_NONE || h->heaps[k].charger != CHARGER_LSM)
			continue;
		cell = hold_cell(h, cg, k);
		if (!h->lsm_since)
			cell->limit_hits += r->hits;
		if (r->cgroup_id == h->cgs[cg].id && !h->cgs[cg].removed) {
			cell->charged = r->usage;
			cell->max = r->limit;
		}
	}
	if (h->lsm_since)
		lsm_since_hits_add(h);
}

/* what each was charged itself: the charge counts its descendants' too */
static void own_charges(struct holdings *h)
{
	for (size_t cg = 0; cg < h->ncgs; cg++) {
		size_t p = h->cgs[cg].parent;

		for (size_t k = 0; p != HOLD_NONE && k < h->nheaps; k++)
			hold_cell(h, p, k)->own_charge += hold_cell(h, cg, k)->charged;
	}
	for (size_t i = 0; i < h->ncgs * h->nheaps; i++) {
		struct hold_cell *c = &h->cells[i];
		uint64_t children = c->own_charge;

		/* read one file after another: a child may have grown meanwhile */
		c->own_charge = c->charged > children ? c->charged - children : 0;
	}
}

/* memory.current and memory.max of a cgroup and its ancestors, once each */
void holdings_read_memcg(struct holdings *h, const struct hold_sys *sys, size_t cg, size_t heap)
{
	const char *root = hold_sys_cgroup_root(sys);

	for (; cg != HOLD_NONE; cg = h->cgs[cg].parent) {
		struct hold_cgroup *c = &h->cgs[cg];
		struct hold_cell *cell = hold_cell(h, cg, heap);
		char dir[4096];

		if (!c->memcg_known && !c->removed && !cg_dir(dir, sizeof(dir), root, c->path))
			c->memcg_known = !cg_memcg_read(dir, &c->memcg);
		if (!c->memcg_known)
			continue;
		cell->charged = c->memcg.current;
		cell->charged_known = true;
		cell->max = c->memcg.max;
	}
}

/* ---- pass 5: allocated, while tracing ---- */

/* @a and @b as one set, kept by the model; @a where that fails (NULL: a set of none) */
static struct lat_set *merged_lat(struct holdings *h, struct lat_set *a, struct lat_set *b)
{
	struct lat_set *m = calloc(1, sizeof(*m));

	if (!m || grow_array((void **)&h->merged, &h->merged_cap, h->nmerged, sizeof(m))) {
		free(m);
		return a;
	}
	if (lat_merge(m, a, b)) {
		lat_free(m);
		free(m);
		return a;
	}
	h->merged[h->nmerged++] = m;
	return m;
}

static int add_activity(struct holdings *h, struct collector *coll, const struct hold_filter *flt)
{
	size_t n;
	struct coll_heap_stats *hs = collector_heap_stats(coll, &n);

	h->act_next = malloc((n + 1) * sizeof(*h->act_next));
	if (!h->act_next)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		h->act_next[i] = HOLD_NONE;
	for (size_t i = 0; i < n; i++) {
		/* id 0: releases of buffers exported before tracing, a "cgroup" by its name */
		size_t cg = hs[i].cgroup_id ? holdings_cgroup_by_id(h, hs[i].cgroup_id) :
			    holdings_cgroup(h, HOLD_BEFORE_TRACING);
		size_t heap = holdings_heap(h, hs[i].heap);
		struct hold_cell *cell;
		/* dmem's EAGAINs as traced, memcg's refusals as found (refusal_count_start()) */
		uint64_t hits = hs[i].agg.failures[FAIL_LIMIT] + hs[i].limit_refusals;

		if (cg == HOLD_NONE || heap == HOLD_NONE ||
		    (flt->heap && strcmp(hs[i].heap, flt->heap)))
			continue;
		cell = hold_cell(h, cg, heap);
		if (cell->traced) {	/* a cgroup removed, its path made again */
			coll_agg_add(&cell->agg, &hs[i].agg);
			h->act_next[i] = cell->act;
			cell->lat = merged_lat(h, cell->lat, &hs[i].lat);
			cell->life = merged_lat(h, cell->life, &hs[i].life);
		} else {
			cell->agg = hs[i].agg;
			cell->lat = &hs[i].lat;
			cell->life = &hs[i].life;
		}
		if (!holdings_lsm_counted(h, heap))	/* a merged entry's added */
			cell->limit_hits = (cell->traced ? cell->limit_hits : 0) + hits;
		cell->traced = true;
		cell->act = i;
	}
	return 0;
}

/*
 * The BPF-LSM's refusals as failed allocations, while traced: most are
 * refused in the ioctl, before the collector's programs run (no attempt is
 * seen), the rest at the export, which the collector sees fail with EAGAIN.
 * Each cell's limit failures are its hits since tracing began (lsm_since),
 * read after the collector's counts (collector_sync()): the BPF-LSM counts
 * a refusal before the ioctl returns, once, in the cgroup the ioctl began
 * in; the collector counts an export's where the ioctl ended, another cgroup
 * when the process was moved meanwhile (the larger of the two in each cell
 * counted that one twice). A cell with refusals alone is traced: no attempt,
 * no latency.
 */
static void lsm_failures(struct holdings *h, const struct hold_filter *flt)
{
	for (size_t k = 0; k < h->nheaps; k++) {
		if (!holdings_lsm_counted(h, k) || (flt->heap && strcmp(h->heaps[k].name, flt->heap)))
			continue;
		for (size_t cg = 0; cg < h->ncgs; cg++) {
			struct hold_cell *c = hold_cell(h, cg, k);

			if (!c->traced && !c->limit_hits)
				continue;
			if (!c->traced) {
				c->traced = true;
				c->act = HOLD_NONE;
			}
			c->agg.failures[FAIL_LIMIT] = c->limit_hits;
		}
	}
}

/* ---- pass 6: rows, and the limit that binds each ---- */

/* the limit of @cg's or an ancestor's that leaves the least room, and that room */
void holdings_bind_limit(struct holdings *h, size_t cg, size_t heap)
{
	struct hold_cell *cell = hold_cell(h, cg, heap);

	cell->limit = HOLD_NO_LIMIT;
	cell->limit_cg = HOLD_NONE;
	for (size_t a = cg; a != HOLD_NONE; a = h->cgs[a].parent) {
		const struct hold_cell *at = hold_cell(h, a, heap);
		uint64_t room;

		if (at->max == HOLD_NO_LIMIT)
			continue;
		room = at->max > at->charged ? at->max - at->charged : 0;
		if (cell->limit_cg == HOLD_NONE || room < cell->headroom) {
			cell->limit = at->max;
			cell->limit_cg = a;
			cell->headroom = room;
		}
	}
}

static int make_rows(struct holdings *h, const struct hold_sys *sys, const struct hold_filter *flt)
{
	size_t pid_cg = HOLD_NONE;	/* -p: the process's cgroup, whose rows it may have */
	char path[CGROUP_PATH_MAX];

	for (size_t i = 0; flt->pid && !flt->pid_gone && i < h->inv->nprocs; i++)
		if (h->inv->procs[i].pid == flt->pid)
			pid_cg = h->proc_cg[i];
	/* one holding no buffer is in no inventory: its cgroup from /proc, or as the
	 * filter's check saw it (exited since: its cgroup's traced rows) */
	if (flt->pid && !flt->pid_gone && pid_cg == HOLD_NONE &&
	    !proc_cgroup_of(sys->proc, flt->pid, path, sizeof(path)))
		pid_cg = holdings_cgroup(h, path);
	if (flt->pid && pid_cg == HOLD_NONE && flt->pid_cgroup[0])
		pid_cg = holdings_cgroup(h, flt->pid_cgroup);
	h->rows = malloc((h->ncgs * h->nheaps + 1) * sizeof(*h->rows));
	if (!h->rows)
		return -ENOMEM;
	for (size_t cg = 0; cg < h->ncgs; cg++) {
		bool own = !flt->pid || cg == pid_cg;

		if (!hold_in_cgroup(h->cgs[cg].path, flt->cgroup))
			continue;
		for (size_t k = 0; k < h->nheaps; k++) {
			struct hold_cell *cell = hold_cell(h, cg, k);
			enum hold_charger ch = h->heaps[k].charger;
			bool charged = !flt->pid && (ch == CHARGER_DMEM || ch == CHARGER_LSM) &&
				       cell->own_charge;

			if (flt->heap && strcmp(h->heaps[k].name, flt->heap))
				continue;
			/* a limit set on the cgroup: a row before anything is held; with
			 * -p, the process's buffers, or its cgroup's activity and limits */
			if (!cell->buffers && !charged && !(own && (cell->traced || cell->limit_hits ||
			    (ch != CHARGER_MEMCG && cell->max != HOLD_NO_LIMIT))))
				continue;
			cell->row = true;
			h->rows[h->nrows++] = cg * h->nheaps + k;
			if (ch == CHARGER_MEMCG)
				holdings_read_memcg(h, sys, cg, k);
		}
	}
	for (size_t i = 0; i < h->nrows; i++)
		holdings_bind_limit(h, h->rows[i] / h->nheaps, h->rows[i] % h->nheaps);
	return 0;
}

/**
 * holdings_build() - the model, from an inventory and the system's files
 * @sys: where to read them (&hold_sys_live, or a test's fake tree)
 * @inv: the inventory; it must outlive the model
 * @coll: the collector while tracing, else NULL
 * @flt: what to count; hold_filter_check()ed
 *
 * Return: 0 or a negative errno; holdings_free() it either way.
 */
int holdings_build(struct holdings *h, const struct hold_sys *sys, const struct inventory *inv,
		   struct collector *coll, const struct hold_filter *flt)
{
	struct regions regions = {};
	int err;

	memset(h, 0, sizeof(*h));
	h->inv = inv;
	h->mem_accounting = sys->mem_accounting;
	take_lsm(h, sys);
	err = collect_heaps(h, sys, coll, &regions);
	free(regions.names.v);
	free(regions.capacity);
	if (!err)
		err = collect_cgroups(h, sys, coll);
	if (!err) {
		h->cells = calloc(h->ncgs * h->nheaps + 1, sizeof(*h->cells));
		err = h->cells ? 0 : -ENOMEM;
	}
	for (size_t i = 0; !err && i < h->ncgs * h->nheaps; i++)
		h->cells[i].max = HOLD_NO_LIMIT;
	if (!err)
		err = count_held(h, flt);
	if (!err)
		err = read_dmem(h, sys);
	if (!err) {
		read_lsm(h);
		own_charges(h);
	}
	if (!err && coll)
		err = add_activity(h, coll, flt);
	if (!err && coll && h->lsm_since)
		lsm_failures(h, flt);
	if (!err)
		err = make_rows(h, sys, flt);
	return err;
}

void holdings_free(struct holdings *h)
{
	arena_free(&h->names);
	free(h->heaps);
	free(h->cgs);
	free(h->cells);
	free(h->rows);
	free(h->by_id);
	free(h->act_next);
	for (size_t i = 0; i < h->nmerged; i++) {
		lat_free(h->merged[i]);
		free(h->merged[i]);
	}
	free(h->merged);
	free(h->proc_cg);
	free(h->buf_shown);
	free(h->proc_shown);
	free(h->procs);
	free(h->lsm_rows);
	memset(h, 0, sizeof(*h));
}

/**
 * hold_filter_check() - normalize a filter; refuse one that names nothing
 * @why: what is wrong, for the user
 *
 * A cgroup must exist under the cgroup2 root, a pid in /proc, a heap in
 * /dev/dma_heap or as the exporter of a live buffer.
 * Return: 0, or -ENOENT / -EINVAL with @why set.
 */
int hold_filter_check(const struct hold_sys *sys, struct hold_filter *flt,
		      const struct inventory *inv, char *why, size_t len)
{
	char path[4096];
	struct stat st;

	if (flt->cgroup[0]) {
		char norm[CGROUP_PATH_MAX];
		int err = cg_path_normalize(flt->cgroup, norm, sizeof(norm));

		if (err) {
			snprintf(why, len, "cgroup '%s': %s", text_safe(flt->cgroup),
				 cg_path_refused(err));
			return err;
		}
		snprintf(flt->cgroup, sizeof(flt->cgroup), "%s", norm);
		/* a cgroup is a directory: not one of its files */
		if (cg_dir(path, sizeof(path), hold_sys_cgroup_root(sys), norm) || stat(path, &st) ||
		    !S_ISDIR(st.st_mode)) {
			snprintf(why, len, "no cgroup %s (under %s)", text_safe(norm),
				 hold_sys_cgroup_root(sys));
			return -ENOENT;
		}
	}
	if (flt->pid) {
		int tgid = proc_tgid(sys->proc, flt->pid);

		if (tgid <= 0) {
			snprintf(why, len, "no process %d", flt->pid);
			return -ENOENT;
		}
		if (tgid != flt->pid) {	/* /proc has a thread's directory too */
			snprintf(why, len, "%d is a thread of process %d: give the process", flt->pid,
				 tgid);
			return -ENOENT;
		}
		if (proc_cgroup_of(sys->proc, flt->pid, flt->pid_cgroup, sizeof(flt->pid_cgroup)))
			flt->pid_cgroup[0] = '\0';
		flt->pid_start = proc_start_time(sys->proc, flt->pid);
		/* both given: the process under the cgroup, or they name nothing together */
		if (flt->cgroup[0] && flt->pid_cgroup[0] &&
		    !hold_in_cgroup(flt->pid_cgroup, flt->cgroup)) {
			snprintf(why, len, "process %d is in %s, not under %s", flt->pid,
				 text_safe(flt->pid_cgroup), text_safe(flt->cgroup));
			return -ENOENT;
		}
	}
	if (flt->heap) {
		/* there; a name reaching outside the heaps' directory ("", ".", "..") is not */
		uint32_t dev;
		int err = heap_dev_of(sys->heap_dev, flt->heap, &dev);
		bool known = !err || err == -ENODEV;

		for (size_t i = 0; inv && !known && i < inv->nbufs; i++)
			known = !strcmp(inv->bufs[i].exp_name, flt->heap);
		if (!known) {
			char name[128];	/* a long one cut ("..."): the message whole */

			snprintf(why, len, "no heap or exporter '%s' (not in %s, no live buffer of it)",
				 text_safe_buf(flt->heap, SIZE_MAX, name, sizeof(name)), sys->heap_dev);
			return -ENOENT;
		}
	}
	return 0;
}
