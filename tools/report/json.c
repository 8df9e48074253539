// SPDX-License-Identifier: GPL-2.0
/* heapstat report -j: every view in one JSON object (docs/report-json.md). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "lib/hold_view.h"
#include "lib/json.h"
#include "lib/losses.h"
#include "lib/sources.h"
#include "report.h"

/* the heaps this system offers: /dev/dma_heap/<name> */
static void json_heap_devices(struct json *j, const struct holdings *h)
{
	json_key(j, "dma_heap_devices");
	json_array(j);
	for (size_t i = 0; i < h->nheaps; i++)
		if (h->heaps[i].device)
			json_str(j, h->heaps[i].name);
	json_end(j);
}

/* free_bytes, largest_free_bytes, fragmentation, free_extents_by_order of an area */
static void json_extents(struct json *j, const struct cma_area *a)
{
	json_ku64(j, "free_bytes", cma_free_bytes(a));
	json_ku64(j, "largest_free_bytes", a->largest_free_bytes);
	json_kdouble(j, "fragmentation", a->fragmentation);
	json_key(j, "free_extents_by_order");
	json_object(j);
	for (int o = 0; o < CMA_ORDERS; o++) {
		char key[12];

		if (!a->free_by_order[o])
			continue;
		snprintf(key, sizeof(key), "%d", o);
		json_ku64(j, key, a->free_by_order[o]);
	}
	json_end(j);
}

/* the collector's free-extent map of an area, when it has one */
static const struct coll_cma_stats *traced_area(struct collector *coll, const char *name)
{
	size_t n;
	const struct coll_cma_stats *cs = collector_cma_stats(coll, &n);

	for (size_t i = 0; i < n; i++)
		if (cs[i].mapped && !strncmp(cs[i].area, name, COLL_NAME_LEN - 1))
			return &cs[i];
	return NULL;
}

static void json_cma(struct json *j, const struct report *rep)
{
	json_key(j, "cma_areas");
	json_array(j);
	for (size_t i = 0; i < rep->ncma; i++) {
		const struct cma_area *a = &rep->cma[i];
		const struct coll_cma_stats *t;

		json_object(j);
		json_kstr(j, "name", a->name);
		json_ku64(j, "total_bytes", a->total_bytes);
		json_ku64(j, "used_bytes", a->used_bytes);
		json_ku64(j, "alloc_success_pages", a->alloc_success_pages);
		json_ku64(j, "alloc_fail_pages", a->alloc_fail_pages);
		json_ku64(j, "release_pages", a->release_pages);
		json_kstr(j, "source", a->have_bitmap ? "sysfs+debugfs-bitmap" : "sysfs");
		if (a->have_bitmap) {
			json_extents(j, a);
		} else {
			json_ku64(j, "free_bytes", cma_free_bytes(a));
			json_ku64_or_null(j, "largest_free_bytes", false, 0);
			json_ku64_or_null(j, "fragmentation", false, 0);
			json_ku64_or_null(j, "free_extents_by_order", false, 0);
		}
		/* with --duration: the map kept from the traced events */
		t = rep->coll ? traced_area(rep->coll, a->name) : NULL;
		if (t) {
			json_key(j, "traced");
			json_object(j);
			json_extents(j, &t->traced);
			json_end(j);
		} else if (rep->coll) {
			json_ku64_or_null(j, "traced", false, 0);
		}
		json_end(j);
	}
	json_end(j);
}

/* nulls without a sample, as heaptop's (0 is a latency) */
static void json_latency(struct json *j, const char *key, struct lat_set *l)
{
	bool any = l && l->n;

	json_key(j, key);
	json_object(j);
	json_ku64_or_null(j, "p50", any, any ? lat_percentile(l, 50) : 0);
	json_ku64_or_null(j, "p99", any, any ? lat_percentile(l, 99) : 0);
	json_ku64_or_null(j, "max", any, any ? lat_percentile(l, 100) : 0);
	json_end(j);
}

static void json_activity(struct json *j, const struct report *rep)
{
	const struct holdings *h = &rep->h;
	size_t m;
	struct coll_cma_stats *cs = collector_cma_stats(rep->coll, &m);

	json_kdouble(j, "duration_s", rep->seconds);
	json_kstr(j, "attach", coll_attach_name(collector_attach(rep->coll)));
	json_kstr_or_null(j, "ioctl_variant", collector_ioctl_variant(rep->coll));
	json_kstr(j, "export_variant", collector_export_variant(rep->coll));
	json_kbool(j, "heap_tracepoints", collector_heap_tracepoints(rep->coll));
	json_key(j, "activity");
	json_array(j);
	for (size_t i = 0; i < h->nrows; i++) {
		const struct hold_cell *c = &h->cells[h->rows[i]];

		if (!c->traced)
			continue;
		json_object(j);
		json_kstr(j, "cgroup", h->cgs[h->rows[i] / h->nheaps].path);
		json_kbool(j, "cgroup_removed", h->cgs[h->rows[i] / h->nheaps].removed);
		json_kstr(j, "heap", h->heaps[h->rows[i] % h->nheaps].name);
		hold_json_agg_fields(j, &c->agg);
		json_key(j, "charged_bytes");
		json_i64(j, (int64_t)c->agg.charged_bytes);
		json_kdouble(j, "allocs_per_sec", c->agg.allocs / rep->seconds);
		json_kdouble(j, "frees_per_sec", c->agg.frees / rep->seconds);
		json_latency(j, "latency_ns", c->lat);
		json_latency(j, "lifetime_ns", c->life);
		json_end(j);
	}
	json_end(j);
	json_key(j, "cma_activity");
	json_array(j);
	for (size_t i = 0; i < m; i++) {
		struct coll_cma_stats *c = &cs[i];

		json_object(j);
		json_kstr(j, "area", c->area);
		json_ku64(j, "allocs", c->allocs);
		json_ku64(j, "failures", c->failures);
		json_ku64(j, "busy_retries", c->busy_retries);
		json_ku64(j, "alloc_bytes", c->alloc_bytes);
		json_ku64(j, "fail_bytes", c->fail_bytes);
		json_ku64(j, "release_bytes", c->release_bytes);
		json_latency(j, "latency_ns", &c->lat);
		json_end(j);
	}
	json_end(j);
}

/* the cgroups with rows: what they hold over every heap, memcg, and their rows */
static void json_cgroups(struct json *j, const struct holdings *h)
{
	json_key(j, "cgroups");
	json_array(j);
	for (size_t i = 0; i < h->nrows;) {
		size_t cg = h->rows[i] / h->nheaps;
		const struct hold_cgroup *c = &h->cgs[cg];
		bool memcg_row = false;

		/* memcg's numbers where a row is memcg's: an ancestor of one has them read too */
		for (size_t k = i; k < h->nrows && h->rows[k] / h->nheaps == cg; k++)
			memcg_row |= h->heaps[h->rows[k] % h->nheaps].charger == CHARGER_MEMCG;
		json_object(j);
		json_kstr(j, "path", c->path);
		json_ku64(j, "bytes", c->bytes);
		json_ku64(j, "buffers", c->buffers);
		json_key(j, "memcg");
		if (c->memcg_known && memcg_row) {
			json_object(j);
			json_ku64(j, "current_bytes", c->memcg.current);
			json_ku64(j, "kernel_bytes", c->memcg.kernel);
			json_ku64_or_null(j, "max_bytes", c->memcg.max != HOLD_NO_LIMIT, c->memcg.max);
			json_end(j);
		} else {
			json_null(j);
		}
		json_key(j, "heaps");
		json_array(j);
		for (; i < h->nrows && h->rows[i] / h->nheaps == cg; i++) {
			json_object(j);
			hold_json_cell(j, h, h->rows[i]);
			json_end(j);
		}
		json_end(j);
		json_end(j);
	}
	json_end(j);
}

void report_json(FILE *out, struct report *rep)
{
	const struct inventory *inv = &rep->inv;
	const struct holdings *h = &rep->h;
	struct coll_losses losses = {};
	struct json j;

	json_init(&j, out);
	json_object(&j);
	sources_json(&j, inv, h, rep->coll);
	json_key(&j, "tracing");
	if (rep->opts->duration_ms) {
		json_object(&j);
		json_kbool(&j, "attached", rep->coll != NULL);
		json_key(&j, "missing");
		if (rep->coll)
			json_null(&j);
		else
			json_str(&j, rep->no_tracing);
		json_end(&j);
	} else {
		json_null(&j);
	}
	json_heap_devices(&j, h);
	json_key(&j, "heaps");
	json_array(&j);
	for (size_t i = 0; i < h->nheaps; i++)
		if (h->heaps[i].buffers)
			hold_json_heap(&j, &h->heaps[i]);
	json_end(&j);
	json_kbool(&j, "mem_accounting", h->mem_accounting);
	json_key(&j, "kernel_held");
	json_object(&j);
	json_ku64(&j, "bytes", h->kernel_held_bytes);
	json_ku64(&j, "buffers", h->kernel_held);
	json_end(&j);
	json_cgroups(&j, h);
	json_key(&j, "processes");
	json_array(&j);
	for (size_t i = 0; i < inv->nprocs; i++)
		if (h->proc_shown[i])
			hold_json_process(&j, &h->procs[i]);
	json_end(&j);
	json_key(&j, "buffers");
	json_array(&j);
	for (size_t i = 0; i < inv->nbufs; i++)
		if (h->buf_shown[i])
			hold_json_buffer(&j, h, i, rep->coll, rep->now_ns);
	json_end(&j);
	json_cma(&j, rep);
	if (rep->coll)
		json_activity(&j, rep);
	json_ku64(&j, "drops", rep->coll ? collector_dropped(rep->coll) : 0);
	if (rep->coll)
		collector_losses(rep->coll, &losses);
	losses_json(&j, &losses);
	json_end(&j);
}
