// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat export's metrics: a frame of the live model (tools/lib/live.c,
 * as heaptop takes it) as metric families (docs/metrics.md). Every number
 * is the model's: the heaps' bytes and buffers, each cgroup x heap row's
 * held, charged, limit, headroom and peak, the collector's counts, the CMA
 * areas. What this file adds is only how they are cut to a bounded number
 * of series: rows of cgroups deeper than --cgroup-depth are summed into
 * their ancestor's series, and past --max-series the rows holding least are
 * left out; both are counted in metrics of their own. The allocation
 * latency histogram is the collector's (log-linear, kept in BPF: every
 * attempt counted, whatever the ring buffer dropped), its buckets summed
 * per heap into bounds that are edges of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heapstat.h"
#include "export.h"
#include "cgroup/path.h"
#include "lib/util.h"

/* the series written after the rows (the exporter's own) */
#define SELF_SERIES	13

/* ---- the rows, cut to a bounded number of series ---- */

/* one series of cgroup x heap: a row of the model, or rows summed into an ancestor */
struct series {
	const char *cgroup;		/* the row's path; folded: its first cglen bytes */
	size_t cglen;
	const char *heap;
	const struct live_row *r;	/* the first row */
	bool folded;			/* rows of deeper cgroups summed in */
	uint64_t bytes, peak, hits;
	unsigned int buffers;
	bool traced;
	struct coll_agg agg;
	bool charged_known, limited;
	uint64_t charged, limit, headroom;
	unsigned int nseries;
};

static int cmp_series(const void *x, const void *y)
{
	const struct series *a = x, *b = y;
	size_t n = a->cglen < b->cglen ? a->cglen : b->cglen;
	int c = strncmp(a->cgroup, b->cgroup, n);

	if (!c)
		c = a->cglen < b->cglen ? -1 : a->cglen > b->cglen;
	return c ?: strcmp(a->heap, b->heap);
}

static int cmp_held(const void *x, const void *y)
{
	const struct series *a = *(const struct series * const *)x;
	const struct series *b = *(const struct series * const *)y;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return cmp_series(a, b);
}

/*
 * Held, charged, limit and headroom of a folded series: its ancestor's cell,
 * when the model has that cgroup: what its tree holds, a buffer held in two of
 * its cgroups once (the rows summed would count it twice); dmem.current and
 * memory.current count the descendants already. A cell that is no row has
 * neither its memcg read nor its limit bound: the model's own functions do it,
 * as for a refusal's cgroup (tools/lib/refusal.c); the model is the frame's,
 * and the cell no row of it.
 */
static void ancestor_cell(struct series *s, const struct holdings *model)
{
	struct holdings *h = (struct holdings *)model;
	char path[CGROUP_PATH_MAX];
	size_t cg, heap;
	const struct hold_cell *c;

	snprintf(path, sizeof(path), "%.*s", (int)s->cglen, s->cgroup);
	cg = holdings_cgroup(h, path);
	heap = holdings_heap(h, s->heap);
	s->charged_known = s->limited = false;
	if (cg == HOLD_NONE || heap == HOLD_NONE)
		return;
	c = hold_cell(h, cg, heap);
	s->bytes = c->tree_bytes;
	s->buffers = c->tree_buffers;
	if (!c->row) {
		if (h->heaps[heap].charger == CHARGER_MEMCG)
			holdings_read_memcg(h, &hold_sys_live, cg, heap);
		holdings_bind_limit(h, cg, heap);
	}
	s->charged_known = c->charged_known;
	s->charged = c->charged;
	s->limited = c->limit_cg != HOLD_NONE;
	s->limit = c->limit;
	s->headroom = c->headroom;
}

static unsigned int count_series(const struct series *s)
{
	unsigned int n = 4 + s->charged_known + 2 * s->limited;	/* held, buffers, peak, refusals */

	if (s->traced) {
		n += 4;
		for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
			n += !!s->agg.failures[c];
	}
	return n;
}

/* the frame's rows as series, by cgroup then heap; *n of them */
static struct series *make_series(struct export_metrics *m, const struct live_frame *f, size_t *n)
{
	struct series *v = calloc(f->nrows + 1, sizeof(*v));
	size_t k = 0;

	m->cgroups_folded = m->rows = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < f->nrows; i++) {
		const struct live_row *r = &f->rows[i];
		size_t pre = cg_path_depth_prefix(r->cgroup, m->cgroup_depth);
		struct series *s = &v[k++];

		if (r->gone) {
			k--;
			continue;
		}
		/* depth 0: every row the root's, "?<id>" (a removed cgroup's, not named) too */
		s->cgroup = m->cgroup_depth ? r->cgroup : "/";
		s->cglen = pre ? pre : strlen(r->cgroup);
		s->heap = r->heap;
		s->r = r;
		s->folded = pre != 0;
		m->cgroups_folded += s->folded;
		m->rows++;
	}
	sort_ordered(v, k, sizeof(*v), cmp_series);
	/* merge the rows of one series */
	*n = 0;
	for (size_t i = 0; i < k; i++) {
		const struct live_row *r = v[i].r;
		struct series *s = &v[*n];

		if (*n && !cmp_series(&v[*n - 1], &v[i])) {
			s = &v[*n - 1];
			s->folded |= v[i].folded;
		} else {
			*s = v[i];
			s->bytes = s->peak = s->hits = 0;
			s->buffers = 0;
			s->charged_known = r->c.charged_known;
			s->charged = r->c.charged;
			s->limited = r->limit_cgroup != NULL;
			s->limit = r->c.limit;
			s->headroom = r->c.headroom;
			memset(&s->agg, 0, sizeof(s->agg));
			(*n)++;
		}
		s->bytes += r->c.bytes;
		s->buffers += r->c.buffers;
		s->peak = r->peak > s->peak ? r->peak : s->peak;
		s->hits += r->c.limit_hits;
		if (r->c.traced) {
			s->traced = true;
			coll_agg_add(&s->agg, &r->c.agg);
		}
	}
	for (size_t i = 0; i < *n; i++) {
		/* a folded peak: the largest of its rows', never below what it holds now */
		if (v[i].folded) {
			ancestor_cell(&v[i], f->h);
			if (v[i].peak < v[i].bytes)
				v[i].peak = v[i].bytes;
		}
		v[i].nseries = count_series(&v[i]);
	}
	return v;
}

/* keep the series holding most while they fit in @budget; the others' count in series_cut */
static void cut_series(struct export_metrics *m, struct series *v, size_t n, uint64_t budget)
{
	struct series **by;
	uint64_t used = 0;

	m->series_cut = 0;
	for (size_t i = 0; i < n; i++)
		used += v[i].nseries;
	if (used <= budget)	/* all fit: nothing to sort */
		return;
	used = 0;
	by = malloc((n + 1) * sizeof(*by));
	if (!by) {	/* no room to sort: cut from the end */
		for (size_t i = 0; i < n; i++) {
			if (!m->series_cut && used + v[i].nseries <= budget) {
				used += v[i].nseries;
			} else {
				m->series_cut += v[i].nseries;
				v[i].nseries = 0;
			}
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		by[i] = &v[i];
	sort_ordered(by, n, sizeof(*by), cmp_held);
	/* from the first that does not fit on, all left out: none holding less is kept */
	for (size_t i = 0; i < n; i++) {
		if (!m->series_cut && used + by[i]->nseries <= budget) {
			used += by[i]->nseries;
		} else {
			m->series_cut += by[i]->nseries;
			by[i]->nseries = 0;	/* left out */
		}
	}
	free(by);
}

/* ---- families ---- */

#define ROW_LABELS(s, cg)	{ { "cgroup", cg }, { "heap", (s)->heap } }

static void row_u64(struct prom *p, const struct series *s, uint64_t v)
{
	char cg[CGROUP_PATH_MAX];
	struct prom_label l[] = ROW_LABELS(s, cg);

	snprintf(cg, sizeof(cg), "%.*s", (int)s->cglen, s->cgroup);
	prom_u64(p, l, 2, v);
}

enum row_field {
	RF_HELD, RF_BUFFERS, RF_PEAK, RF_CHARGED, RF_LIMIT, RF_HEADROOM, RF_REFUSALS,
	RF_ALLOCS, RF_ALLOC_BYTES, RF_FREES, RF_FREE_BYTES,
};

static const struct row_family {
	const char *name;
	enum prom_type type;
	const char *help;
} row_families[] = {
	[RF_HELD] = { "heapstat_cgroup_held_bytes", PROM_GAUGE,
		"Bytes of the heap's live buffers the cgroup's processes hold, each buffer once" },
	[RF_BUFFERS] = { "heapstat_cgroup_held_buffers", PROM_GAUGE,
		"Live buffers of the heap the cgroup's processes hold" },
	[RF_PEAK] = { "heapstat_cgroup_peak_bytes", PROM_GAUGE,
		"The most bytes the cgroup held of the heap at a sample since its series appeared "
		"(it starts again after a sample without the series)" },
	[RF_CHARGED] = { "heapstat_cgroup_charged_bytes", PROM_GAUGE,
		"What the kernel charged the cgroup and its descendants for the heap "
		"(dmem.current of its region, or memory.current)" },
	[RF_LIMIT] = { "heapstat_cgroup_limit_bytes", PROM_GAUGE,
		"The limit leaving the cgroup the least room for the heap (its own or an "
		"ancestor's); absent when unlimited" },
	[RF_HEADROOM] = { "heapstat_cgroup_headroom_bytes", PROM_GAUGE,
		"That limit less the charge of the cgroup it is set on; absent when unlimited" },
	[RF_REFUSALS] = { "heapstat_limit_refusals", PROM_COUNTER,
		"Allocations of the cgroup's tasks a limit refused, its own or an ancestor's" },
	[RF_ALLOCS] = { "heapstat_allocations", PROM_COUNTER,
		"Successful heap allocations by the cgroup's tasks, since the exporter started" },
	[RF_ALLOC_BYTES] = { "heapstat_allocated_bytes", PROM_COUNTER,
		"Bytes of those allocations, page aligned" },
	[RF_FREES] = { "heapstat_frees", PROM_COUNTER,
		"Final releases of buffers the cgroup exported, since the exporter started" },
	[RF_FREE_BYTES] = { "heapstat_freed_bytes", PROM_COUNTER,
		"Bytes of those buffers" },
};

static bool row_value(const struct series *s, enum row_field fld, uint64_t *v)
{
	switch (fld) {
	case RF_HELD: *v = s->bytes; return true;
	case RF_BUFFERS: *v = s->buffers; return true;
	case RF_PEAK: *v = s->peak; return true;
	case RF_CHARGED: *v = s->charged; return s->charged_known;
	case RF_LIMIT: *v = s->limit; return s->limited;
	case RF_HEADROOM: *v = s->headroom; return s->limited;
	case RF_REFUSALS: *v = s->hits; return true;
	case RF_ALLOCS: *v = s->agg.allocs; return s->traced;
	case RF_ALLOC_BYTES: *v = s->agg.alloc_bytes; return s->traced;
	case RF_FREES: *v = s->agg.frees; return s->traced;
	case RF_FREE_BYTES: *v = s->agg.free_bytes; return s->traced;
	}
	return false;
}

static void write_rows(struct prom *p, const struct series *v, size_t n)
{
	char cg[CGROUP_PATH_MAX];

	for (size_t fld = 0; fld < ARRAY_SIZE(row_families); fld++) {
		bool begun = false;
		uint64_t x;

		for (size_t i = 0; i < n; i++) {
			if (!v[i].nseries || !row_value(&v[i], fld, &x))
				continue;
			if (!begun)
				prom_family(p, row_families[fld].name, row_families[fld].type,
					    row_families[fld].help);
			begun = true;
			row_u64(p, &v[i], x);
		}
	}
	prom_family(p, "heapstat_allocation_failures", PROM_COUNTER,
		    "Failed heap allocations by the cgroup's tasks, by class (capacity, "
		    "fragmentation, busy, limit, other), since the exporter started");
	for (size_t i = 0; i < n; i++) {
		if (!v[i].nseries || !v[i].traced)
			continue;
		snprintf(cg, sizeof(cg), "%.*s", (int)v[i].cglen, v[i].cgroup);
		for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++) {
			struct prom_label l[] = {
				{ "cgroup", cg }, { "heap", v[i].heap }, { "class", fail_class_name(c) },
			};

			if (v[i].agg.failures[c])
				prom_u64(p, l, 3, v[i].agg.failures[c]);
		}
	}
}

static void write_heaps(struct prom *p, const struct holdings *h)
{
	prom_family(p, "heapstat_heap_bytes", PROM_GAUGE,
		    "Bytes of the live buffers each heap (or other exporter) exported");
	for (size_t i = 0; i < h->nheaps; i++) {
		struct prom_label l = { "heap", h->heaps[i].name };

		prom_u64(p, &l, 1, h->heaps[i].bytes);
	}
	prom_family(p, "heapstat_heap_buffers", PROM_GAUGE,
		    "Live buffers each heap (or other exporter) exported");
	for (size_t i = 0; i < h->nheaps; i++) {
		struct prom_label l = { "heap", h->heaps[i].name };

		prom_u64(p, &l, 1, h->heaps[i].buffers);
	}
	prom_family(p, "heapstat_heap_capacity_bytes", PROM_GAUGE,
		    "What a heap can hand out: the size of its dmem region (dmem.capacity); "
		    "absent for heaps without one");
	for (size_t i = 0; i < h->nheaps; i++) {
		struct prom_label l = { "heap", h->heaps[i].name };

		if (h->heaps[i].capacity_known)
			prom_u64(p, &l, 1, h->heaps[i].capacity);
	}
}

static void write_cma(struct prom *p, const struct live_frame *f)
{
	static const char * const names[] = {
		"heapstat_cma_total_bytes", "heapstat_cma_used_bytes",
		"heapstat_cma_largest_free_bytes", "heapstat_cma_fragmentation_ratio",
	};
	static const char * const helps[] = {
		"Size of the CMA area (CMA sysfs)",
		"Bytes of the CMA area allocated (CMA sysfs)",
		"The largest free extent of the CMA area, from its bitmap kept from traced "
		"events; absent when untraced",
		"1 - largest free extent / free bytes of the CMA area; absent when untraced",
	};

	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		prom_family(p, names[k], PROM_GAUGE, helps[k]);
		for (size_t i = 0; i < f->ncma; i++) {
			const struct live_cma *a = &f->cma[i];
			struct prom_label l = { "area", a->name };

			if (k == 0)
				prom_u64(p, &l, 1, a->total);
			else if (k == 1)
				prom_u64(p, &l, 1, a->used);
			else if (k == 2 && a->mapped)
				prom_u64(p, &l, 1, a->largest_free);
			else if (k == 3 && a->mapped)
				prom_double(p, &l, 1, a->fragmentation);
		}
	}
}

/*
 * Per heap, the collector's latency histograms summed over its cgroups, those
 * whose rows were dropped too (collector_forgotten()): their
 * counts since it started (lat.now, as of the sample's collector_sync()), each
 * bucket below a bound counted under it. The bounds are 2^k - 1 ns: a
 * latency is whole nanoseconds, so le="2^k - 1" holds those below 2^k, an
 * edge of the collector's buckets, and a bucket is wholly under a bound or
 * not (2^k itself starts a bucket: a bound of 2^k would have missed it). The kernel
 * keeps no sum: _sum takes each value at its bucket's middle. 0, or -ENOMEM:
 * the histograms could not be summed (their family left empty).
 */
static int write_latency(struct prom *p, const struct live_frame *f, struct collector *coll)
{
	const struct holdings *h = f->h;
	size_t n = 0, nb = EXPORT_LAT_BUCKETS;
	struct coll_heap_stats *hs = coll ? collector_heap_stats(coll, &n) : NULL;
	const struct coll_forgotten *fg;
	size_t nf = 0;
	uint64_t *counts = calloc(h->nheaps * (nb + 1) + 1, sizeof(*counts));
	double *sums = calloc(h->nheaps + 1, sizeof(*sums)), bounds[EXPORT_LAT_BUCKETS];
	unsigned int edge[EXPORT_LAT_BUCKETS];

	prom_family(p, "heapstat_allocation_latency_seconds", PROM_HISTOGRAM,
		    "Latency of heap allocations (DMA_HEAP_IOCTL_ALLOC, failed or not) since the "
		    "exporter started; _sum takes each at its log-linear bucket's middle");
	for (size_t b = 0; b < nb; b++) {
		bounds[b] = (double)((1ull << (EXPORT_LAT_MIN_SHIFT + b)) - 1) / 1e9;
		edge[b] = hist_bucket(&hist_shape_lat, 1ull << (EXPORT_LAT_MIN_SHIFT + b));
	}
	/* every cgroup's, and those of the cgroups long removed (dropped rows) */
	fg = coll ? collector_forgotten(coll, &nf) : NULL;
	for (size_t i = 0; counts && sums && i < n + nf; i++) {
		const char *heap = i < n ? hs[i].heap : fg[i - n].heap;
		const struct lat_set *lat = i < n ? &hs[i].lat : &fg[i - n].lat;
		size_t k = holdings_heap(h, heap);

		if (k == HOLD_NONE || lat->shape != &hist_shape_lat)
			continue;
		for (size_t j = 0; j < lat->now.n; j++) {
			const struct hist_bin *bin = &lat->now.v[j];
			size_t b = 0;

			while (b < nb && bin->bucket >= edge[b])
				b++;
			counts[k * (nb + 1) + b] += bin->count;
			sums[k] += bin->count * (hist_value(&hist_shape_lat, bin->bucket) / 1e9);
		}
	}
	for (size_t k = 0; counts && sums && k < h->nheaps; k++) {
		struct prom_label l = { "heap", h->heaps[k].name };
		uint64_t total = 0;

		for (size_t b = 0; b <= nb; b++)
			total += counts[k * (nb + 1) + b];
		if (total)
			prom_histogram(p, &l, 1, bounds, &counts[k * (nb + 1)], nb, sums[k]);
	}
	if (!counts || !sums) {
		free(counts);
		free(sums);
		return -ENOMEM;
	}
	free(counts);
	free(sums);
	return 0;
}

/**
 * export_metrics_write() - a frame as metric families, the exporter's own last
 *
 * The frame's rows become at most max_series series less those of the heaps,
 * the CMA areas and the exporter itself; export_metrics_self() ends it.
 * Return: 0, or -ENOMEM when a family could not be made whole (no exposition
 * is to be served then: a scrape gets 500, not series gone missing).
 */
int export_metrics_write(struct export_metrics *m, struct prom *p, const struct live_frame *f,
			 struct collector *coll)
{
	struct prom_label v = { "version", HEAPSTAT_VERSION };
	const struct {
		const char *map;
		uint64_t n;
	} lost[] = {
		{ "aggregates", f->losses.aggregates }, { "cma_areas", f->losses.cma_areas },
		{ "buffers", f->losses.buffers }, { "threads", f->losses.threads },
	};
	struct series *s;
	uint64_t budget = UINT64_MAX;
	size_t n = 0;
	int err;

	prom_family(p, "heapstat_build", PROM_INFO, "heapstat's version");
	prom_u64(p, &v, 1, 1);
	write_heaps(p, f->h);
	write_cma(p, f);
	err = write_latency(p, f, coll);
	s = make_series(m, f, &n);
	if (!s)
		err = -ENOMEM;
	if (m->max_series)
		budget = m->max_series > p->samples + SELF_SERIES ?
			 m->max_series - p->samples - SELF_SERIES : 0;
	if (s)
		cut_series(m, s, n, budget);
	write_rows(p, s, s ? n : 0);
	free(s);

	prom_family(p, "heapstat_export_tracing", PROM_GAUGE,
		    "1 when the collector is attached; 0: snapshots only, no counts or latencies "
		    "(the exporter said why on stderr)");
	prom_u64(p, NULL, 0, !f->no_tracing);
	prom_family(p, "heapstat_export_events_dropped", PROM_COUNTER,
		    "Events the collector's ring buffer had no room for (counts and the latency "
		    "histogram stay exact)");
	prom_u64(p, NULL, 0, f->losses.ring);
	prom_family(p, "heapstat_export_counts_lost", PROM_COUNTER,
		    "What a full map of the collector's could not count, by map: aggregates (a "
		    "cgroup x heap past its entries), cma_areas, buffers (exported while tracing, "
		    "kept nowhere), threads (calls not timed)");
	for (size_t i = 0; i < ARRAY_SIZE(lost); i++)
		prom_u64(p, &(struct prom_label){ "map", lost[i].map }, 1, lost[i].n);
	prom_family(p, "heapstat_export_calls_skipped", PROM_COUNTER,
		    "Calls of the collector's hooks the kernel ran no program for (one of the "
		    "hook's programs preempted on that CPU was still running): allocations and "
		    "releases not counted");
	prom_u64(p, NULL, 0, f->losses.skipped);
	prom_family(p, "heapstat_export_latencies_lost", PROM_COUNTER,
		    "Latencies of allocations and lifetimes of released buffers of cgroup x heap "
		    "aggregates past the collector's histograms: counted, but in no histogram");
	prom_u64(p, NULL, 0, coll ? collector_hists_lost(coll) : 0);
	prom_family(p, "heapstat_export_series_dropped", PROM_GAUGE,
		    "Series of cgroup x heap rows left out of this exposition by --max-series");
	prom_u64(p, NULL, 0, m->series_cut);
	prom_family(p, "heapstat_export_rows_folded", PROM_GAUGE,
		    "cgroup x heap rows of cgroups deeper than --cgroup-depth, summed into their "
		    "ancestor's series in this exposition");
	prom_u64(p, NULL, 0, m->cgroups_folded);
	prom_family(p, "heapstat_export_rows", PROM_GAUGE,
		    "cgroup x heap rows of the model in this exposition, before any was cut or folded");
	prom_u64(p, NULL, 0, m->rows);
	prom_family(p, "heapstat_export_rows_forgotten", PROM_COUNTER,
		    "Collector entries of cgroups removed an hour before, dropped (their series "
		    "ended) or merged into one (of a series that goes on: every count kept)");
	prom_u64(p, NULL, 0, f->inv_stats.forgotten);
	return err;
}

/* the last family: how long this exposition took to make, up to now */
void export_metrics_self(struct prom *p, double scrape_s)
{
	prom_family(p, "heapstat_export_scrape_duration_seconds", PROM_GAUGE,
		    "Time taken to sample the model and write this exposition");
	prom_double(p, NULL, 0, scrape_s);
	prom_end(p);
}
