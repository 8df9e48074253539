// SPDX-License-Identifier: GPL-2.0
/*
 * heaptop's model. Each sample drains the collector (counts per cgroup and
 * heap, latencies, CMA free-extent maps) and joins it with an inventory (what
 * each cgroup's processes hold) into rows cgroup x heap with the cgroup's
 * limit and charge. Rates are the change of the kernel's counters since the
 * previous sample. A row that vanished stays one frame, marked.
 *
 * The inventory walks every buffer, fd and mapping, which is most of a
 * sample's cost, so it is taken again only when the collector counted an
 * event that may have changed it (collector_gens()): the buffers and their
 * holders after exports, releases and attachments, the holders alone after
 * the other events; and the holders at least every rescan interval for what
 * no event shows: an fd closed or passed without releasing its buffer, a
 * mapping unmapped.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/dmem.h"
#include "cgroup/memcg.h"
#include "cgroup/path.h"
#include "btf.h"
#include "live.h"
#include "util.h"

#define ID_CACHE	1024
#define LIMIT_TTL_NS	5000000000ull

struct live {
	struct collector *coll;
	struct inv_iters *iters;
	bool mem_accounting;
	uint64_t start_ns;
	struct inventory inv;		/* the frames' processes and buffers */
	uint64_t inv_ns;		/* when it was taken, 0: never */
	uint64_t inv_bgen, inv_hgen;	/* the collector's counts then (collector_gens()) */
	uint64_t rescan_ns;		/* take it again at least this often */
	pid_t *tgids;			/* its processes, for the collector */
	size_t tgids_cap;
	struct held *held;		/* what it counted per row and heap */
	size_t nheld, held_cap;
	struct live_frame frames[2];	/* the current one, and the one before */
	int cur;
	/* the collector's cumulative counts at the previous sample, by index */
	struct coll_agg *prev_aggs;
	size_t nprev;
	struct { uint64_t id; char path[CGROUP_PATH_MAX]; } *ids;	/* cgroup id -> path */
	size_t nids;
};

uint64_t live_start_ns(const struct live *l)
{
	return l->start_ns;
}

/* fold the events that arrived; call it every LIVE_DRAIN_MS between samples */
int live_drain(struct live *l)
{
	return collector_poll(l->coll, 0);
}

bool live_export_of(struct live *l, uint64_t ino, struct coll_buf *out)
{
	return collector_export_of(l->coll, ino, out);
}

/* the path of a cgroup id, remembered; "?" once the cgroup is gone */
static const char *id_path(struct live *l, uint64_t id)
{
	const char *path;
	size_t i;

	if (!id)
		return "(before start)";
	for (i = 0; i < l->nids; i++)
		if (l->ids[i].id == id)
			return l->ids[i].path;
	i = l->nids < ID_CACHE ? l->nids++ : id % ID_CACHE;
	l->ids[i].id = id;
	path = inventory_cgroup_path(l->iters, id);
	if (path)
		snprintf(l->ids[i].path, sizeof(l->ids[i].path), "%s", path);
	else
		snprintf(l->ids[i].path, sizeof(l->ids[i].path), "?%llu", (unsigned long long)id);
	return l->ids[i].path;
}

/* rows are found by (cgroup, heap) through an open-addressing index of row numbers */
static uint64_t row_hash(const char *cgroup, const char *heap)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (const char *p = cgroup; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = heap; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static size_t *slot_of(const struct live_frame *f, const char *cgroup, const char *heap)
{
	size_t mask = f->index_cap - 1, i = row_hash(cgroup, heap) & mask;

	for (;; i = (i + 1) & mask) {
		const struct live_row *r;

		if (!f->index[i])
			return &f->index[i];
		r = &f->rows[f->index[i] - 1];
		if (!strcmp(r->heap, heap) && !strcmp(r->cgroup, cgroup))
			return &f->index[i];
	}
}

static struct live_row *find_row(const struct live_frame *f, const char *cgroup, const char *heap)
{
	size_t *slot = f->index_cap ? slot_of(f, cgroup, heap) : NULL;

	return slot && *slot ? &f->rows[*slot - 1] : NULL;
}

/* keep the index at most half full */
static int index_grow(struct live_frame *f)
{
	size_t cap = f->index_cap ? f->index_cap * 2 : 256;
	size_t *index = calloc(cap, sizeof(*index));

	if (!index)
		return -ENOMEM;
	free(f->index);
	f->index = index;
	f->index_cap = cap;
	for (size_t i = 0; i < f->nrows; i++)
		*slot_of(f, f->rows[i].cgroup, f->rows[i].heap) = i + 1;
	return 0;
}

static struct live_row *row(struct live_frame *f, const char *cgroup, const char *heap)
{
	struct live_row *r = find_row(f, cgroup, heap);

	if (r)
		return r;
	if ((f->nrows + 1) * 2 > f->index_cap && index_grow(f))
		return NULL;
	if (grow_array((void **)&f->rows, &f->rows_cap, f->nrows, sizeof(*f->rows)))
		return NULL;
	r = &f->rows[f->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->cgroup, sizeof(r->cgroup), "%s", cgroup);
	snprintf(r->heap, sizeof(r->heap), "%s", heap);
	r->limit = LIVE_NO_LIMIT;
	*slot_of(f, cgroup, heap) = f->nrows;
	return r;
}

static struct live_heap *heap_meter(struct live_frame *f, const char *name)
{
	struct live_heap *h;

	for (size_t i = 0; i < f->nheaps; i++)
		if (!strcmp(f->heaps[i].name, name))
			return &f->heaps[i];
	if (grow_array((void **)&f->heaps, &f->heaps_cap, f->nheaps, sizeof(*f->heaps)))
		return NULL;
	h = &f->heaps[f->nheaps++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	return h;
}

/* what a row (cgroup x heap) or a heap meter (cgroup NULL) holds, by the kept inventory */
struct held {
	const char *cgroup, *heap;	/* in the inventory */
	size_t idx;			/* its row or meter in the frame it was counted in */
	uint64_t bytes;
	unsigned int bufs;
};

static int held_note(struct live *l, const char *cgroup, const char *heap, size_t idx)
{
	if (grow_array((void **)&l->held, &l->held_cap, l->nheld, sizeof(*l->held)))
		return -ENOMEM;
	l->held[l->nheld++] = (struct held){ .cgroup = cgroup, .heap = heap, .idx = idx };
	return 0;
}

/* a kept inventory: the bytes it counted when it was taken */
static int add_held_again(struct live *l, struct live_frame *f)
{
	for (size_t i = 0; i < l->nheld; i++) {
		const struct held *h = &l->held[i];
		struct live_heap *m;
		struct live_row *r;

		if (h->cgroup) {
			r = row(f, h->cgroup, h->heap);
			if (!r)
				return -ENOMEM;
			r->bytes = h->bytes;
			r->bufs = h->bufs;
		} else {
			m = heap_meter(f, h->heap);
			if (!m)
				return -ENOMEM;
			m->bytes = h->bytes;
			m->bufs = h->bufs;
		}
	}
	return 0;
}

/*
 * Bytes held: per heap, and per cgroup x heap, a buffer once per cgroup.
 * Counted when the inventory is taken, and noted for the frames that keep it.
 */
static int add_held(struct live *l, struct live_frame *f)
{
	const struct inventory *inv = f->inv;

	if (!f->inv_taken)
		return add_held_again(l, f);
	l->nheld = 0;
	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		size_t n = f->nheaps;
		struct live_heap *h = heap_meter(f, b->exp_name);

		if (!h || (f->nheaps > n && held_note(l, NULL, b->exp_name, n)))
			return -ENOMEM;
		h->bytes += b->size;
		h->bufs++;
		for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++) {
			const char *cg = inv->procs[inv->holds[k].proc].cgroup;
			bool seen = false;
			struct live_row *r;

			for (size_t j = b->first_hold; j < k && !seen; j++)
				seen = !strcmp(inv->procs[inv->holds[j].proc].cgroup, cg);
			if (seen)
				continue;
			n = f->nrows;
			r = row(f, cg, b->exp_name);
			if (!r || (f->nrows > n && held_note(l, cg, b->exp_name, n)))
				return -ENOMEM;
			r->bytes += b->size;
			r->bufs++;
		}
	}
	for (size_t i = 0; i < l->nheld; i++) {
		struct held *h = &l->held[i];

		h->bytes = h->cgroup ? f->rows[h->idx].bytes : f->heaps[h->idx].bytes;
		h->bufs = h->cgroup ? f->rows[h->idx].bufs : f->heaps[h->idx].bufs;
	}
	return 0;
}

static uint64_t failures(const struct coll_agg *a)
{
	uint64_t n = 0;

	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		n += a->failures[c];
	return n;
}

/* allocations, frees and failures since the previous sample */
static int add_activity(struct live *l, struct live_frame *f)
{
	size_t n;
	struct coll_heap_stats *hs = collector_heap_stats(l->coll, &n);
	struct coll_agg *prev;

	if (n > l->nprev) {	/* the collector appends: earlier indexes stay */
		prev = realloc(l->prev_aggs, n * sizeof(*prev));
		if (!prev)
			return -ENOMEM;
		memset(prev + l->nprev, 0, (n - l->nprev) * sizeof(*prev));
		l->prev_aggs = prev;
		l->nprev = n;
	}
	for (size_t i = 0; i < n; i++) {
		const struct coll_agg *a = &hs[i].agg, *p = &l->prev_aggs[i];
		uint64_t allocs = a->allocs - p->allocs, frees = a->frees - p->frees;
		uint64_t fails = failures(a) - failures(p);
		struct live_row *r;

		l->prev_aggs[i] = *a;
		f->alloc_rate += allocs;
		f->free_rate += frees;
		f->fail_rate += fails;
		/* a row for every cgroup with activity now, or failures ever */
		if (!allocs && !frees && !fails && !failures(a) && !hs[i].lat.n)
			continue;
		r = row(f, id_path(l, hs[i].cgroup_id), hs[i].heap);
		if (!r)
			return -ENOMEM;
		r->alloc_rate += allocs;
		r->free_rate += frees;
		r->fails += failures(a);
		if (hs[i].lat.n) {
			r->p50_ns = lat_percentile(&hs[i].lat, 50);
			r->p99_ns = lat_percentile(&hs[i].lat, 99);
		}
	}
	collector_restart_latencies(l->coll);	/* latencies are per interval */
	return 0;
}

/* a cgroup's own limit: dmem.max of the region, or memory.max without one */
static int limit_at(const char *dir, const char *region, uint64_t *v)
{
	return region ? cg_dmem_read(dir, "dmem.max", region, v) :
			cg_memcg_value(dir, "memory.max", v);
}

/*
 * The cgroup's own charge, every frame; the tightest limit on the way up to
 * the root, read again every LIMIT_TTL_NS (limits change rarely, and a
 * thousand cgroups make many files to read).
 */
static void add_limit(struct live *l, struct live_row *r, const struct live_row *prev,
		      const char *region)
{
	char dir[CGROUP_PATH_MAX + 32];
	uint64_t v;

	snprintf(dir, sizeof(dir), "%s%s", CGROUP_ROOT, strcmp(r->cgroup, "/") ? r->cgroup : "");
	if (region) {
		if (!cg_dmem_read(dir, "dmem.current", region, &v))
			r->charged = v;
	} else {
		if (!l->mem_accounting || cg_memcg_value(dir, "memory.current", &v))
			return;
		r->memcg = true;
		r->charged = v;
	}
	if (prev && prev->limit_ns && now_ns() - prev->limit_ns < LIMIT_TTL_NS) {
		r->limit = prev->limit;
		r->limit_ns = prev->limit_ns;
		return;
	}
	r->limit_ns = now_ns();
	/* the root has no limit files */
	while (strlen(dir) > strlen(CGROUP_ROOT)) {
		if (!limit_at(dir, region, &v) && v < r->limit)
			r->limit = v;
		*strrchr(dir, '/') = '\0';
	}
}

/* the heaps with a dmem region, from the root's dmem.capacity */
struct regions {
	char name[64][COLL_NAME_LEN + 16];
	int n;
};

static int add_region(const char *region, uint64_t value, void *arg)
{
	struct regions *rs = arg;

	(void)value;
	if (rs->n < 64)
		snprintf(rs->name[rs->n++], sizeof(rs->name[0]), "%s", region);
	return 0;
}

static void add_limits(struct live *l, struct live_frame *f, const struct live_frame *prev)
{
	struct regions rs = { .n = 0 };

	cg_dmem_each(CGROUP_ROOT, "dmem.capacity", add_region, &rs);
	for (size_t i = 0; i < f->nrows; i++) {
		struct live_row *r = &f->rows[i];
		char region[COLL_NAME_LEN + 16];
		int k = 0;

		if (r->cgroup[0] != '/')
			continue;
		snprintf(region, sizeof(region), REGION_PREFIX "%s", r->heap);
		while (k < rs.n && strcmp(rs.name[k], region))
			k++;
		if (k < rs.n)
			add_limit(l, r, find_row(prev, r->cgroup, r->heap), region);
		else if (!strcmp(r->heap, "system"))	/* upstream's: memcg when accounting */
			add_limit(l, r, find_row(prev, r->cgroup, r->heap), NULL);
	}
}

static int add_cma(struct live *l, struct live_frame *f)
{
	struct cma_area *areas;
	size_t n, nc;
	const struct coll_cma_stats *cs = collector_cma_stats(l->coll, &nc);
	int err = cma_areas_read(CMA_SYSFS, NULL, &areas, &n);

	if (err)
		return err;
	free(f->cma);
	f->cma = calloc(n + 1, sizeof(*f->cma));
	if (!f->cma) {
		free(areas);
		return -ENOMEM;
	}
	f->ncma = n;
	for (size_t i = 0; i < n; i++) {
		struct live_cma *m = &f->cma[i];

		snprintf(m->name, sizeof(m->name), "%.*s", (int)sizeof(m->name) - 1, areas[i].name);
		m->total = areas[i].total_bytes;
		m->used = areas[i].used_bytes;
		for (size_t k = 0; k < nc; k++) {
			if (!cs[k].mapped || strcmp(cs[k].area, m->name))
				continue;
			m->mapped = true;
			m->largest_free = cs[k].traced.largest_free_bytes;
			m->fragmentation = cs[k].traced.fragmentation;
		}
	}
	free(areas);
	return 0;
}

/* peaks carry over; rows of the previous frame that vanished stay once, marked */
static int carry_over(struct live_frame *f, const struct live_frame *prev)
{
	size_t n = f->nrows;

	for (size_t i = 0; i < prev->nrows; i++) {
		const struct live_row *p = &prev->rows[i];
		struct live_row *r = find_row(f, p->cgroup, p->heap);

		if (r && r - f->rows < (ptrdiff_t)n) {
			if (p->peak > r->peak)
				r->peak = p->peak;
			continue;
		}
		if (p->gone)
			continue;
		r = row(f, p->cgroup, p->heap);
		if (!r)
			return -ENOMEM;
		r->gone = true;
		r->peak = p->peak;
		r->limit = p->limit;
	}
	return 0;
}

/* the inventory's processes become the ones whose forks and exits count */
static int set_holders(struct live *l)
{
	if (l->inv.nprocs > l->tgids_cap) {
		pid_t *v = realloc(l->tgids, l->inv.nprocs * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->tgids = v;
		l->tgids_cap = l->inv.nprocs;
	}
	for (size_t i = 0; i < l->inv.nprocs; i++)
		l->tgids[i] = l->inv.procs[i].pid;
	return collector_set_holders(l->coll, l->tgids, l->inv.nprocs);
}

/*
 * Take the inventory again when something may have changed it: all of it
 * after buffer events, the holders only after holder events or when the
 * rescan interval passed; else keep it.
 */
static int refresh_inventory(struct live *l, struct live_frame *f)
{
	uint64_t bgen, hgen, now = now_ns();
	bool traced = collector_gens(l->coll, &bgen, &hgen), holders_only = false;
	int err;

	if (!l->inv_ns)
		f->inv_taken = "first";
	else if (!traced)
		f->inv_taken = "untraced";
	else if (bgen != l->inv_bgen)
		f->inv_taken = "buffers";
	else if (hgen != l->inv_hgen)
		f->inv_taken = "holders", holders_only = true;
	else if (now - l->inv_ns >= l->rescan_ns)
		f->inv_taken = "periodic", holders_only = true;
	else
		return 0;
	/* the counts are read before the walk: what happens during it counts next time;
	 * buffers found through their holders (no iter/dmabuf) are walked again with them */
	if (holders_only && l->inv.buffers_src == SRC_ITER_DMABUF) {
		err = inventory_retake_holders(l->iters, &l->inv, "/proc");
	} else {
		inventory_free(&l->inv);
		err = inventory_take(l->iters, &l->inv, "/proc");
	}
	if (err)
		return err;
	l->inv_ns = now;
	l->inv_bgen = bgen;
	l->inv_hgen = hgen;
	return traced ? set_holders(l) : 0;
}

static void frame_reset(struct live_frame *f)
{
	f->inv_taken = NULL;
	if (f->index)
		memset(f->index, 0, f->index_cap * sizeof(*f->index));
	f->nrows = f->nheaps = 0;
	f->alloc_rate = f->free_rate = f->fail_rate = 0;
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
	int err;

	frame_reset(f);
	err = collector_poll(l->coll, 0);
	if (!err)
		err = collector_sync(l->coll);
	if (!err)
		err = refresh_inventory(l, f);
	if (err)
		return err;
	f->inv = &l->inv;
	f->ts_ns = now_ns();
	f->interval_s = (f->ts_ns - (prev->ts_ns ? prev->ts_ns : l->start_ns)) / 1e9;
	err = add_held(l, f);
	if (!err)
		err = add_activity(l, f);
	if (!err)
		err = add_cma(l, f);
	if (err)
		return err;
	for (size_t i = 0; i < f->nrows; i++) {
		struct live_row *r = &f->rows[i];

		r->alloc_rate /= f->interval_s;
		r->free_rate /= f->interval_s;
		r->peak = r->bytes;
	}
	f->alloc_rate /= f->interval_s;
	f->free_rate /= f->interval_s;
	f->fail_rate /= f->interval_s;
	add_limits(l, f, prev);
	err = carry_over(f, prev);
	if (err)
		return err;
	f->drops = collector_dropped(l->coll);
	l->cur = !l->cur;
	*out = f;
	return 0;
}

/* @rescan_ms: the longest an inventory is kept without events (0: none is kept) */
int live_open(struct live **out, enum coll_attach mode, uint64_t rescan_ms)
{
	struct live *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->ids = calloc(ID_CACHE, sizeof(*l->ids));
	if (!l->ids) {
		free(l);
		return -ENOMEM;
	}
	l->rescan_ns = rescan_ms * 1000000;
	l->mem_accounting = heap_mem_accounting();
	/* drained every LIVE_DRAIN_MS, a quarter of the default ring is plenty */
	err = collector_open(&l->coll, mode, LIVE_RING_BYTES, true);
	if (!err)
		err = inventory_open(&l->iters, false);
	if (err) {
		live_close(l);
		return err;
	}
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
	free(l->tgids);
	free(l->held);
	for (int i = 0; i < 2; i++) {
		free(l->frames[i].rows);
		free(l->frames[i].index);
		free(l->frames[i].heaps);
		free(l->frames[i].cma);
	}
	collector_close(l->coll);
	inventory_close(l->iters);
	free(l->prev_aggs);
	free(l->ids);
	free(l);
}
