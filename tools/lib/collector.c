// SPDX-License-Identifier: GPL-2.0
/*
 * Run bpf/collector.bpf.c: pick the attach variants this kernel takes, load,
 * attach, read the kernel's per-(cgroup, heap) and per-CMA-area counts and
 * the CMA areas' bitmaps, and fold the ring buffer's events into latencies.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"	/* before the skeleton: its rodata has our types */
#include "collector.skel.h"
/* their objects' bytes only: the same maps and programs, but the kprobe mode's; one more in _fs */
#include "collector_fs.skel.h"
#include "collector_tr.skel.h"
#include "attach_order.h"
#include "btf.h"
#include "errors.h"
#include "light_load.h"
#include "lskel_run.h"	/* before the light skeleton: it loads through it */
#include "cgroup_names.lskel.h"
#include "map_window.h"
#include "cgroup/path.h"
#include "util.h"

/* a removed cgroup's aggregates are given back to BPF this long after (recycle_aggs()) */
#define COLL_RECYCLE_GRACE_NS	2000000000ull
#define COLL_RECYCLE_BUSY_NS	10000000000ull	/* again, when a buffer of it lived */
#define COLL_RECYCLE_ROUND_NS	500000000ull	/* and at most this often */

struct collector {
	struct collector_bpf *skel;
	struct ring_buffer *rb;
	const unsigned long *rb_pos;	/* the ring's consumer page, then its producer's, read
					 * only (collector_ring_mark()); MAP_FAILED: refused */
	const char *export_variant;
	const char *ioctl_variant;	/* NULL: no dma_heap_ioctl() to trace */
	bool no_session;		/* the kernel refused the ioctl's fsession program */
	struct bpf_link *session_link;	/* its link: not the skeleton's (see open_skel()) */
	struct light light;		/* loaded as a light skeleton: its programs and links */
	bool no_light;			/* that failed: libbpf loads it */
	const char *loaded_by;		/* collector_loaded_by() */
	bool heap_tracepoints;		/* heapstat heaps' tracepoints attached */
	bool holders_traced;		/* the change log has every change (collector_changes()) */
	bool cma_traced;		/* CMA's programs are loaded: its areas counted, their bitmaps kept */
	bool cma_untraced;		/* collector_cma_untraced() */
	bool exits_later;		/* COLL_EXITS_LATER */
	struct bpf_program *rmdir_hook;	/* loaded, attached only when the names' program
					 * (which counts removals then) is refused */
	struct bpf_link *rmdir_link;	/* its link, libbpf's load */
	struct bpf_program *exits_hook;	/* loaded, not attached yet: collector_hook_exits() */
	struct bpf_link *exits_link;	/* its link, libbpf's load */
	pid_t *holders;			/* holder_tgids' keys, sorted */
	size_t nholders, holders_cap;
	bool holders_lost;		/* an update failed: the map is incomplete */
	bool stacks;			/* allocations' stacks taken (collector_stack()) */
	bool want_fds;			/* asked for EV_BUF_FD events */
	bool fds;			/* and they come (the kernel has the tracepoints) */
	bool events;			/* every event (a recorder); else aggregate mode */
	unsigned int without;		/* features whose program the kernel refused */
	char refused[COLL_FEATURES][64];
	int refused_err[COLL_FEATURES];
	struct {			/* this skeleton's programs of each feature */
		struct bpf_program *prog;
		enum coll_feature feat;
	} optional[32];
	size_t noptional;
	enum coll_attach attach;	/* the mode that loaded */
	long page_size;
	struct coll_heap_stats *heaps;
	size_t nheaps, heaps_cap;
	struct coll_forgotten *forgotten;	/* collector_forget_removed()'s, per heap */
	size_t nforgotten, forgotten_cap;
	uint64_t forgot_ns, forgot_walk;	/* its last pass, and the tree's walk then */
	struct cgroup_names_lskel *names;	/* the removals' paths: collector_name_removals() */
	bool names_tried;
	struct removed_cgroup {		/* their paths, taken from its map, by id */
		uint64_t id;
		char *path;		/* NULL: longer than the tracepoint's */
		uint64_t ripe_ns;	/* its aggregates may be given back from then on */
		uint64_t settled_ns;	/* when they all were */
		uint64_t log_mark;	/* the change log's head when taken from the map */
		bool settled;		/* they were (recycle_aggs()) */
		bool busy;		/* one of them could not be, in this round */
	} *removed;
	size_t unsettled;		/* removed[]'s not settled */
	uint64_t recycle_next_ns;	/* recycle_aggs()'s next round, at the earliest */
	size_t nremoved, removed_cap;
	size_t removed_kept;		/* after the last prune_removed() */
	void (*event_fn)(const struct coll_event *e, void *ctx);	/* collector_on_event() */
	void *event_ctx;
	bool no_fold;			/* collector_on_event(..., false): the events are fn's only */
	bool poll_stop;		/* collector_poll_stop(): the poll ends after this event */
	uint64_t refusals_counted;	/* collector_count_refusal()'s, all cgroups and heaps */
	struct coll_cma_stats *cma;
	size_t ncma;
	struct {			/* the CMA areas whose bitmap BPF keeps */
		struct coll_cma_map map;	/* cma_maps[i] */
		size_t stats;			/* in cma[] */
		char name[256];			/* in debugfs */
	} maps[COLL_CMA_MAPS];
	unsigned int nmaps;
	uint32_t cma_words;		/* cma_bits' entries in use */
	uint64_t *cma_bits;		/* the map, mapped read-write */
	size_t cma_bits_bytes;
	struct map_window slots;	/* the buffers map */
	struct map_window aggs;		/* the aggs map */
	struct {			/* per aggs entry, from sync to sync */
		uint64_t moved;		/* its allocations, failures and frees */
		uint32_t heap;		/* its c->heaps[] + 1 (0: not found yet) */
	} *agg_seen;			/* aggs' entries (mapped: untouched ones cost nothing) */
	struct coll_hist *hist;		/* hists' entry read */
	const struct coll_log *log;	/* the changes map, mapped read-only (want_log) */
	uint64_t log_tail;		/* its next entry to read */
	int err;			/* first allocation failure while folding */
};

static struct coll_heap_stats *heap_stats(struct collector *c, uint64_t cg, const char *heap)
{
	struct coll_heap_stats *s;

	for (size_t i = 0; i < c->nheaps; i++)
		if (c->heaps[i].cgroup_id == cg && !strncmp(c->heaps[i].heap, heap, COLL_NAME_LEN))
			return &c->heaps[i];
	if (grow_array((void **)&c->heaps, &c->heaps_cap, c->nheaps, sizeof(*s)))
		return NULL;
	s = &c->heaps[c->nheaps++];
	memset(s, 0, sizeof(*s));
	lat_hist_reset(&s->lat, &hist_shape_lat);
	lat_hist_reset(&s->life, &hist_shape_life);
	lat_hist_reset(&s->retired_lat, &hist_shape_lat);
	lat_hist_reset(&s->retired_life, &hist_shape_life);
	s->cgroup_id = cg;
	memcpy(s->heap, heap, COLL_NAME_LEN);
	s->heap[COLL_NAME_LEN - 1] = '\0';
	return s;
}

static struct coll_cma_stats *cma_stats(struct collector *c, const char *area)
{
	struct coll_cma_stats *s;

	for (size_t i = 0; i < c->ncma; i++)
		if (!strncmp(c->cma[i].area, area, COLL_NAME_LEN))
			return &c->cma[i];
	s = realloc(c->cma, (c->ncma + 1) * sizeof(*s));
	if (!s)
		return NULL;
	c->cma = s;
	s = &s[c->ncma++];
	memset(s, 0, sizeof(*s));
	/* a histogram's shape from the start: an area first seen in BPF's
	 * counts (none in sysfs to plan it from) has its buckets added at once */
	lat_hist_reset(&s->lat, &hist_shape_lat);
	memcpy(s->area, area, COLL_NAME_LEN);
	s->area[COLL_NAME_LEN - 1] = '\0';
	return s;
}

/* a copy of @b between two equal even reads of its sequence count (it is written under it) */
static bool read_slot(const struct coll_buf *b, struct coll_buf *out)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t seq = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);

		if (seq & 1)
			continue;
		memcpy(out, b, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&b->seq, __ATOMIC_RELAXED) == seq)
			return true;
	}
	return false;
}

/* who exported the live buffer with this inode, when it was exported while tracing */
bool collector_export_of(struct collector *c, uint64_t ino, struct coll_buf *out)
{
	uint32_t slot = ino & (COLL_SLOTS - 1), run = slot / COLL_SLOTS_PER_MARK;
	const struct coll_buf *b;

	/* no slot near it was ever written: nothing to map */
	if (c->skel->bss->slots_used[run / 64] & (1ULL << (run % 64))) {
		b = map_window_at(&c->slots, slot);
		if (b && read_slot(b, out) && out->ino == ino)
			return true;
	}
	/* its slot was taken when it was exported */
	return c->skel->bss->spilled &&
	       !bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.buffers_spill), &ino, out);
}

/* a recorder's events into latencies (aggregate mode: the kernel keeps them) */
static int fold(struct collector *c, const struct coll_event *e)
{
	struct coll_heap_stats *h;
	struct coll_cma_stats *m;

	if (!c->events)
		return 0;
	switch (e->type) {
	case EV_HEAP_ALLOC:
		h = heap_stats(c, e->cgroup_id, e->name);
		if (!h)
			return -ENOMEM;
		return lat_add(&h->lat, e->latency_ns);
	case EV_BUF_RELEASE:	/* of the exporting cgroup; 0 for one from before tracing */
		h = heap_stats(c, e->cgroup_id, e->name);
		if (!h)
			return -ENOMEM;
		return e->latency_ns ? lat_add(&h->life, e->latency_ns) : 0;
	case EV_CMA_ALLOC:	/* counted in BPF: only a timed call's latency */
		if (!e->latency_ns)
			return 0;
		m = cma_stats(c, e->name);
		return m ? lat_add(&m->lat, e->latency_ns) : -ENOMEM;
	}
	return 0;
}

/*
 * The CMA areas whose bitmap BPF keeps, and where in cma_bits: each area of
 * one range whose debugfs shape is readable, while there is room.
 */
static int plan_cma_maps(struct collector *c)
{
	struct cma_area *areas;
	size_t n;
	int err = cma_areas_read(CMA_SYSFS, CMA_DEBUGFS, false, &areas, &n);

	for (size_t i = 0; !err && i < n; i++) {
		struct coll_cma_stats *m = cma_stats(c, areas[i].name);
		uint64_t words;

		if (!m) {
			err = -ENOMEM;
			break;
		}
		if (c->nmaps == COLL_CMA_MAPS ||
		    cma_bitmap_shape(CMA_DEBUGFS, areas[i].name, &m->map))
			continue;
		words = cma_traced_words(&m->map);
		if (c->cma_words + words > COLL_CMA_WORDS_MAX) {
			cma_bitmap_free(&m->map);
			continue;
		}
		c->maps[c->nmaps].map = (struct coll_cma_map){
			.base_pfn = m->map.base_pfn,
			.nbits = m->map.nbits,
			.order_per_bit = m->map.order_per_bit,
			.first_word = c->cma_words,
		};
		c->maps[c->nmaps].stats = m - c->cma;
		snprintf(c->maps[c->nmaps].name, sizeof(c->maps[0].name), "%s", areas[i].name);
		c->nmaps++;
		c->cma_words += words;
	}
	free(areas);
	return err;
}

/*
 * Seed the bitmaps BPF keeps from debugfs, once attached: a bit an event
 * wrote meanwhile keeps the event's value (cma_traced_seed()). An area whose
 * bitmap cannot be read stays unmapped.
 */
static int seed_cma_maps(struct collector *c)
{
	int fd = bpf_map__fd(c->skel->maps.cma_bits);

	c->cma_bits_bytes = bpf_map__max_entries(c->skel->maps.cma_bits) * sizeof(uint64_t);
	c->cma_bits_bytes = (c->cma_bits_bytes + c->page_size - 1) & ~(size_t)(c->page_size - 1);
	c->cma_bits = mmap(NULL, c->cma_bits_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c->cma_bits == MAP_FAILED) {
		c->cma_bits = NULL;
		return -errno;
	}
	for (unsigned int k = 0; k < c->nmaps && c->cma_traced; k++) {
		const struct coll_cma_map *p = &c->maps[k].map;
		struct coll_cma_stats *m = &c->cma[c->maps[k].stats];
		struct cma_bitmap bm;

		if (cma_bitmap_read(CMA_DEBUGFS, c->maps[k].name, &bm))
			continue;
		if (bm.base_pfn == p->base_pfn && bm.nbits == p->nbits &&
		    bm.order_per_bit == p->order_per_bit) {
			cma_traced_seed(c->cma_bits + p->first_word, &bm);
			m->mapped = true;
		}
		cma_bitmap_free(&bm);
	}
	return 0;
}

/* add one aggregate to another: every field is a count */
void coll_agg_add(struct coll_agg *to, const struct coll_agg *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;

	for (size_t i = 0; i < sizeof(*to) / sizeof(*t); i++)
		t[i] += f[i];
}

/* what moves an aggregate's histograms */
static uint64_t agg_moved(const struct coll_agg *a)
{
	uint64_t n = a->allocs + a->frees;

	for (int k = 0; k < FAIL_CLASSES; k++)
		n += a->failures[k];
	return n;
}

/*
 * The histograms of the cells an aggregate of which moved: each again, the
 * sum of its aggregates' (entries of one name at two addresses are rare).
 */
static int sync_hists(struct collector *c, size_t n)
{
	int fd = bpf_map__fd(c->skel->maps.hists), err = 0;

	for (size_t i = 0; i < c->nheaps; i++) {
		struct coll_heap_stats *h = &c->heaps[i];

		if (!h->hist_dirty)
			continue;
		lat_hist_reset(&h->lat, &hist_shape_lat);
		lat_hist_reset(&h->life, &hist_shape_life);
	}
	for (uint32_t i = 0; i < n && i < COLL_HISTS && !err; i++) {
		struct coll_heap_stats *h;

		if (!c->agg_seen[i].heap || !c->heaps[c->agg_seen[i].heap - 1].hist_dirty)
			continue;
		h = &c->heaps[c->agg_seen[i].heap - 1];
		if (bpf_map_lookup_elem(fd, &i, c->hist))
			return -errno;
		err = lat_hist_add(&h->lat, c->hist->lat);
		if (!err)
			err = lat_hist_add(&h->life, c->hist->life);
	}
	for (size_t i = 0; i < c->nheaps; i++) {
		struct coll_heap_stats *h = &c->heaps[i];

		if (h->hist_dirty && !err)
			err = lat_hist_add_now(&h->lat, &h->retired_lat) ?:
			      lat_hist_add_now(&h->life, &h->retired_life);
		h->hist_dirty = false;
	}
	return err;
}

static struct removed_cgroup *removed_find(struct collector *c, uint64_t id);

/*
 * A removed cgroup whose aggregates were all given back has a new one (a
 * release or an uncharge after, its id's): given back in its turn
 */
static void unsettle(struct collector *c, uint64_t id)
{
	struct removed_cgroup *r = removed_find(c, id);

	if (!r || !r->settled)
		return;
	r->settled = false;
	r->ripe_ns = now_ns() + COLL_RECYCLE_GRACE_NS;
	c->unsettled++;
	if (c->recycle_next_ns > r->ripe_ns)
		c->recycle_next_ns = r->ripe_ns;
}

/* the stats aggregate @i (ready, first seen) adds to; NULL: no memory */
static struct coll_heap_stats *entry_stats(struct collector *c, uint32_t i,
					   const struct coll_agg_entry *e)
{
	char name[COLL_NAME_LEN];
	struct coll_heap_stats *h;

	memcpy(name, e->name, sizeof(name));
	name[COLL_NAME_LEN - 1] = '\0';
	h = heap_stats(c, e->key.cgroup_id, name);
	if (h)
		c->agg_seen[i] = (typeof(c->agg_seen[i])){ .heap = h - c->heaps + 1 };
	unsettle(c, e->key.cgroup_id);
	return h;
}

/* sum the kernel's aggregates per (cgroup, heap name), and those given back */
static int sync_aggs(struct collector *c)
{
	size_t n = c->skel->bss->naggs;
	struct coll_heap_stats *h;

	if (n > c->aggs.entries)
		n = c->aggs.entries;
	for (size_t i = 0; i < c->nheaps; i++)
		c->heaps[i].agg = c->heaps[i].retired;
	for (size_t i = 0; i < n; i++) {
		const struct coll_agg_entry *e = map_window_at(&c->aggs, i);
		uint64_t moved;

		if (!e)
			return -errno;
		if (!c->agg_seen[i].heap) {
			if (!__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE))
				continue;	/* just made: its name is being written */
			if (!entry_stats(c, i, e))
				return -ENOMEM;
		}
		h = &c->heaps[c->agg_seen[i].heap - 1];
		coll_agg_add(&h->agg, &e->agg);
		moved = agg_moved(&e->agg);
		if (moved != c->agg_seen[i].moved && i < COLL_HISTS)
			h->hist_dirty = true;
		c->agg_seen[i].moved = moved;
	}
	return c->events ? 0 : sync_hists(c, n);
}

/* the kernel's CMA counts per area name, and the free extents of the bitmaps it keeps */
static int sync_cma(struct collector *c)
{
	int fd = bpf_map__fd(c->skel->maps.cma_aggs);
	uint32_t n = c->skel->bss->ncma_aggs;
	struct coll_cma_stats *m;
	struct coll_cma_entry e;

	for (size_t i = 0; i < c->ncma; i++) {
		m = &c->cma[i];
		m->allocs = m->failures = m->busy_retries = m->releases = 0;
		m->alloc_bytes = m->fail_bytes = m->release_bytes = 0;
		if (!c->events)
			lat_hist_reset(&m->lat, &hist_shape_lat);
	}
	for (uint32_t i = 0; i < n && i < COLL_CMA_AREAS; i++) {
		if (bpf_map_lookup_elem(fd, &i, &e))
			return -errno;
		if (!e.ready)
			continue;	/* just made: its name is being written */
		e.name[COLL_NAME_LEN - 1] = '\0';
		m = cma_stats(c, e.name);
		if (!m)
			return -ENOMEM;
		m->allocs += e.agg.allocs;
		m->alloc_bytes += e.agg.alloc_pages * c->page_size;
		m->failures += e.agg.failures;
		m->fail_bytes += e.agg.fail_pages * c->page_size;
		m->busy_retries += e.agg.busy_retries;
		m->releases += e.agg.releases;
		m->release_bytes += e.agg.release_pages * c->page_size;
		if (!c->events && lat_hist_add(&m->lat, e.lat))
			return -ENOMEM;
	}
	for (unsigned int k = 0; k < c->nmaps; k++) {
		m = &c->cma[c->maps[k].stats];
		if (!m->mapped)
			continue;
		cma_traced_read(&m->map, c->cma_bits + c->maps[k].map.first_word);
		cma_bitmap_extents(&m->map, &m->traced);
	}
	return 0;
}

/* where @id is in removed[], or would be */
static size_t removed_at(const struct collector *c, uint64_t id)
{
	size_t lo = 0, hi = c->nremoved;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->removed[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* the record of removed cgroup @id; NULL: none (a cgroup there, or not seen removed) */
static struct removed_cgroup *removed_find(struct collector *c, uint64_t id)
{
	size_t at = id ? removed_at(c, id) : c->nremoved;

	return at < c->nremoved && c->removed[at].id == id ? &c->removed[at] : NULL;
}

static int removed_put(struct collector *c, uint64_t id, const struct coll_cgroup_path *v)
{
	size_t at = removed_at(c, id);
	char *path = NULL;

	/* the kernel cut a longer one: unknown */
	if (strnlen(v->path, sizeof(v->path)) < sizeof(v->path) - 1 && !(path = strdup(v->path)))
		return -ENOMEM;
	if (at < c->nremoved && c->removed[at].id == id) {
		free(c->removed[at].path);
		c->removed[at].path = path;
		return 0;
	}
	if (grow_array((void **)&c->removed, &c->removed_cap, c->nremoved, sizeof(*c->removed))) {
		free(path);
		return -ENOMEM;
	}
	memmove(&c->removed[at + 1], &c->removed[at], (c->nremoved - at) * sizeof(*c->removed));
	c->removed[at] = (struct removed_cgroup){
		.id = id, .path = path, .ripe_ns = now_ns() + COLL_RECYCLE_GRACE_NS,
		.log_mark = c->log ? __atomic_load_n(&c->skel->bss->changes_head, __ATOMIC_RELAXED) : 0,
	};
	c->nremoved++;
	c->unsettled++;
	if (c->recycle_next_ns > c->removed[at].ripe_ns)
		c->recycle_next_ns = c->removed[at].ripe_ns;
	return 0;
}

/* only the paths of cgroups with counts stay */
/*
 * Only the records of cgroups with stats stay (@settled_only: and of those
 * whose aggregates were not all given back yet: collector_forget_removed()'s,
 * which leaves the threshold drain_removed() prunes at where it was)
 */
static void prune_removed(struct collector *c, bool settled_only)
{
	uint64_t *ids;
	size_t k = 0;

	ids = malloc((c->nheaps + 1) * sizeof(*ids));
	if (!ids)
		return;
	for (size_t i = 0; i < c->nheaps; i++)
		ids[i] = c->heaps[i].cgroup_id;
	sort_ordered(ids, c->nheaps, sizeof(*ids), cmp_u64);
	c->unsettled = 0;
	for (size_t i = 0; i < c->nremoved; i++) {
		struct removed_cgroup *r = &c->removed[i];

		if ((settled_only && !r->settled) ||
		    bsearch(&r->id, ids, c->nheaps, sizeof(*ids), cmp_u64)) {
			c->unsettled += !r->settled;
			c->removed[k++] = *r;
		} else {
			free(r->path);
		}
	}
	free(ids);
	c->nremoved = k;
	c->removed_kept = settled_only && c->removed_kept < k ? c->removed_kept : k;
}

/*
 * The paths of the cgroups removed since the last call, out of the kernel's
 * map (which holds COLL_REMOVED_CGROUPS between two calls) into removed[].
 */
static void drain_removed(struct collector *c)
{
	int fd = c->names ? c->names->maps.removed_cgroups.map_fd : -1;
	uint64_t keys[256], key, *prev = NULL;
	struct coll_cgroup_path v;
	size_t n;

	if (fd < 0)
		return;
	do {	/* taken out in batches: a key deleted would end a walk of the keys */
		for (n = 0; n < 256 && !bpf_map_get_next_key(fd, prev, &key); n++) {
			keys[n] = key;
			prev = &keys[n];
		}
		for (size_t i = 0; i < n; i++) {
			if (bpf_map_lookup_elem(fd, &keys[i], &v))
				continue;
			if (removed_put(c, keys[i], &v))
				return;		/* no memory: the rest wait in the map */
			bpf_map_delete_elem(fd, &keys[i]);
		}
		prev = NULL;
	} while (n == 256);
	/* many kept: those of cgroups without counts go, after a sync, which has
	 * all the counts of the cgroups taken out above */
	if (c->nremoved > c->removed_kept + COLL_REMOVED_CGROUPS && !sync_aggs(c))
		prune_removed(c, false);
}

/* a cgroup removed long enough ago for its aggregates to be given back */
static bool ripe(const struct collector *c, const struct removed_cgroup *r, uint64_t now)
{
	/* a live view's log names aggregates: every entry logged before the removal read
	 * (unless no one reads it: its holder hooks were refused) */
	return !r->settled && now >= r->ripe_ns &&
	       (!c->log || !c->holders_traced || (int64_t)(c->log_tail - r->log_mark) >= 0);
}

static struct removed_cgroup *removed_ripe(struct collector *c, uint64_t id, uint64_t now)
{
	struct removed_cgroup *r = removed_find(c, id);

	return r && ripe(c, r, now) ? r : NULL;
}

/*
 * Give aggregate @i (@e, a removed cgroup's) back to BPF: its counts and
 * histograms kept in its stats' retired ones, the entry zeroed, out of
 * agg_index (when it is the one there: two CPUs may have made one each), in
 * agg_free. Its stats' sums stay as they were.
 */
static int retire_agg(struct collector *c, uint32_t i, const struct coll_agg_entry *e)
{
	int hists = bpf_map__fd(c->skel->maps.hists), index = bpf_map__fd(c->skel->maps.agg_index);
	struct coll_agg_entry zero = { 0 }, was = *e;	/* e is the map's, zeroed below */
	bool hist = !c->events && i < COLL_HISTS;
	struct coll_heap_stats *h;
	uint32_t at;
	int err = 0;

	h = c->agg_seen[i].heap ? &c->heaps[c->agg_seen[i].heap - 1] : entry_stats(c, i, e);
	if (!h)
		return -ENOMEM;
	/* the kernel's first (an array's entries in range: they cannot fail), then ours */
	if (hist && (bpf_map_lookup_elem(hists, &i, c->hist) ||
		     bpf_map_update_elem(hists, &i, &(struct coll_hist){ 0 }, BPF_ANY)))
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.aggs), &i, &zero, BPF_ANY))
		return -errno;
	if (!bpf_map_lookup_elem(index, &was.key, &at) && at == i)
		bpf_map_delete_elem(index, &was.key);
	c->agg_seen[i] = (typeof(c->agg_seen[i])){ 0 };
	coll_agg_add(&h->retired, &was.agg);
	h->hist_dirty = true;	/* the next sync_hists() adds them */
	if (hist)
		err = lat_hist_add(&h->retired_lat, c->hist->lat) ?:
		      lat_hist_add(&h->retired_life, c->hist->life);
	/* full (cannot be: it holds every entry) the entry stays zeroed, unused */
	bpf_map_update_elem(bpf_map__fd(c->skel->maps.agg_free), NULL, &i, BPF_ANY);
	return err;
}

/*
 * The aggregates live buffers kept in slots or the spill map refer to, a
 * bit each of @n; NULL: no memory. Their exports and releases alone do not
 * say: a folded export counts at the ioctl's exit, which the kernel may
 * skip (a recursion miss), and then a release counts without its export.
 */
static uint64_t *aggs_kept(struct collector *c, size_t n)
{
	int spill = bpf_map__fd(c->skel->maps.buffers_spill);
	uint64_t *kept = calloc(n / 64 + 1, sizeof(*kept)), key, *prev = NULL;
	struct coll_buf b;

	if (!kept)
		return NULL;
	for (uint32_t run = 0; run < COLL_SLOTS / COLL_SLOTS_PER_MARK; run++) {
		if (!(c->skel->bss->slots_used[run / 64] & (1ULL << (run % 64))))
			continue;	/* never written */
		for (uint32_t s = run * COLL_SLOTS_PER_MARK; s < (run + 1) * COLL_SLOTS_PER_MARK; s++) {
			const struct coll_buf *at = map_window_at(&c->slots, s);

			if (at && __atomic_load_n(&at->key, __ATOMIC_RELAXED) && read_slot(at, &b) &&
			    b.key && b.agg < n)
				kept[b.agg / 64] |= 1ULL << (b.agg % 64);
		}
	}
	while (c->skel->bss->spilled && !bpf_map_get_next_key(spill, prev, &key)) {
		if (!bpf_map_lookup_elem(spill, &key, &b) && b.agg < n)
			kept[b.agg / 64] |= 1ULL << (b.agg % 64);
		prev = &key;
	}
	return kept;
}

/*
 * Give back to BPF the aggregates of the cgroups removed at least
 * COLL_RECYCLE_GRACE_NS ago, once none of their buffers kept lives (their
 * exports all released) and nothing is charged to them: without it,
 * cgroups made and removed by the thousand (CI jobs) fill the aggregate
 * map's 16,384 entries, and later ones go uncounted. Nothing is lost: the
 * counts stay in user space, by cgroup and heap. The grace: a thread moved
 * out of the cgroup during its ioctl counts in its aggregate at the exit.
 * A round when a removal is ripe, at most every COLL_RECYCLE_ROUND_NS; one
 * whose buffer lived is tried again COLL_RECYCLE_BUSY_NS later.
 */
static void recycle_aggs(struct collector *c)
{
	uint64_t now = now_ns(), next = UINT64_MAX, *kept;
	size_t n, nripe = 0;
	int err;

	if (!c->unsettled || now < c->recycle_next_ns)
		return;
	for (size_t k = 0; k < c->nremoved; k++) {
		const struct removed_cgroup *r = &c->removed[k];

		if (ripe(c, r, now))
			nripe++;
		else if (!r->settled)	/* its grace, or a log not read yet */
			next = r->ripe_ns > now ? (r->ripe_ns < next ? r->ripe_ns : next) : 0;
	}
	/* nothing else waits (next is the maximum): removed_put() brings it nearer */
	c->recycle_next_ns = next > now + COLL_RECYCLE_ROUND_NS ? next : now + COLL_RECYCLE_ROUND_NS;
	if (!nripe)
		return;
	n = c->skel->bss->naggs;
	if (n > c->aggs.entries)
		n = c->aggs.entries;
	kept = aggs_kept(c, n);
	err = kept ? 0 : -ENOMEM;
	for (uint32_t i = 0; i < n && !err; i++) {
		const struct coll_agg_entry *e = map_window_at(&c->aggs, i);
		struct removed_cgroup *r;

		if (!e || !__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE) ||
		    !(r = removed_ripe(c, e->key.cgroup_id, now)))
			continue;
		if (e->agg.exports != e->agg.frees || e->agg.charged_bytes ||
		    kept[i / 64] & (1ULL << (i % 64)))
			r->busy = true;		/* again in a later round */
		else
			err = retire_agg(c, i, e);	/* failed: the rest in the next round */
	}
	free(kept);
	for (size_t k = 0; k < c->nremoved; k++) {
		struct removed_cgroup *r = &c->removed[k];

		if (!ripe(c, r, now))
			continue;
		if (err) {
			c->recycle_next_ns = now + COLL_RECYCLE_ROUND_NS;
			r->busy = false;
		} else if (r->busy) {
			r->ripe_ns = now + COLL_RECYCLE_BUSY_NS;
			r->busy = false;
			if (c->recycle_next_ns > r->ripe_ns)
				c->recycle_next_ns = r->ripe_ns;
		} else {
			r->settled = true;
			r->settled_ns = now;
			c->unsettled--;
		}
	}
}

/* heap @name's latencies of the cgroups forgotten; NULL: no memory */
static struct lat_set *forgotten_of(struct collector *c, const char *name)
{
	struct coll_forgotten *f;

	for (size_t i = 0; i < c->nforgotten; i++)
		if (!strncmp(c->forgotten[i].heap, name, COLL_NAME_LEN))
			return &c->forgotten[i].lat;
	if (grow_array((void **)&c->forgotten, &c->forgotten_cap, c->nforgotten, sizeof(*f)))
		return NULL;
	f = &c->forgotten[c->nforgotten++];
	memset(f, 0, sizeof(*f));
	memcpy(f->heap, name, COLL_NAME_LEN);
	lat_hist_reset(&f->lat, &hist_shape_lat);
	return &f->lat;
}

/* a removed cgroup's entry, by the series its path makes (collector_forget_removed()) */
struct forget_key {
	const char *key;	/* its path's first components; NULL: a "?<id>" of its own */
	size_t len;
	const char *heap;
	size_t i;		/* its heaps[] */
	bool ripe;		/* settled long enough ago, and no aggregate of it made since */
};

static int cmp_key(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = strncmp(a, b, alen < blen ? alen : blen);

	return c ?: (alen > blen) - (alen < blen);
}

/* by key (the "?<id>"s first, each its own), then heap */
static int cmp_forget_key(const void *x, const void *y)
{
	const struct forget_key *a = x, *b = y;

	if (!a->key || !b->key)
		return a->key || b->key ? !!a->key - !!b->key : (a->i > b->i) - (a->i < b->i);
	return cmp_key(a->key, a->len, b->key, b->len) ?: strncmp(a->heap, b->heap, COLL_NAME_LEN);
}

/* the series of @path: its first @depth components (UINT_MAX: the whole path) */
static size_t key_len(const char *path, unsigned int depth)
{
	size_t n = cg_path_depth_prefix(path, depth);

	return n ? n : strlen(path);
}

/* a cgroup of @tree makes the series (@key, @len): it goes on */
static bool tree_has_key(const struct cg_index *tree, const char *key, size_t len,
			 unsigned int depth)
{
	for (size_t i = 0; i < tree->n; i++)
		if (tree->v[i].path &&
		    !cmp_key(tree->v[i].path, key_len(tree->v[i].path, depth), key, len))
			return true;
	return false;
}

/*
 * The counts and histograms of @from (settled: all retired) into @to's, as
 * they are now and at the interval's start (lat_restart()): its sums, and
 * a view's interval, as they were; 0 or -ENOMEM (then nothing changed)
 */
static int merge_stats(struct coll_heap_stats *to, const struct coll_heap_stats *from)
{
	struct lat_set *mine[] = { &to->retired_lat, &to->retired_life, &to->lat, &to->life };
	const struct lat_set *theirs[] = {
		&from->retired_lat, &from->retired_life, &from->lat, &from->life,
	};
	struct lat_set sum[ARRAY_SIZE(mine)] = { 0 };
	size_t k = 0;

	while (k < ARRAY_SIZE(mine) && !lat_merge(&sum[k], mine[k], theirs[k]))
		k++;
	for (size_t i = 0; i < ARRAY_SIZE(mine); i++) {
		lat_free(k < ARRAY_SIZE(mine) ? &sum[i] : mine[i]);
		if (k == ARRAY_SIZE(mine))
			*mine[i] = sum[i];
	}
	if (k < ARRAY_SIZE(mine))
		return -ENOMEM;
	coll_agg_add(&to->retired, &from->retired);
	to->agg = to->retired;		/* (no aggregate of its own in the kernel) */
	to->limit_refusals += from->limit_refusals;
	return 0;
}

/*
 * collector_forget_removed() has something to do, a cheap look first: a
 * removed cgroup ripe since its last pass, or every ripe one again when the
 * cgroup tree was walked since (@tree_walk: its walks' count); and no cgroup
 * with stats that @tree does not have is there now (made since the walk:
 * its path, which may be a ripe one's, unknown)
 */
bool collector_forget_due(struct collector *c, uint64_t keep_ns, const struct cg_index *tree,
			  uint64_t tree_walk)
{
	uint64_t now = now_ns();
	bool ripe = false;

	/* (a recorder's latencies are not histograms) */
	if (!c->nremoved || c->events || !tree || tree->partial)
		return false;
	for (size_t i = 0; i < c->nremoved && !ripe; i++) {
		const struct removed_cgroup *r = &c->removed[i];

		ripe = r->settled && now - r->settled_ns >= keep_ns &&
		       (r->settled_ns + keep_ns > c->forgot_ns || tree_walk != c->forgot_walk);
	}
	for (size_t i = 0; ripe && i < c->nheaps; i++) {
		uint64_t id = c->heaps[i].cgroup_id;

		if (id && !removed_find(c, id) && !cg_index_find(tree, id) &&
		    cg_id_alive(cg_root(), id))
			return false;	/* there, or not known to be gone */
	}
	return ripe;
}

/**
 * collector_forget_removed() - the stats of the cgroups removed whose
 * aggregates were all given back at least @keep_ns ago (recycle_aggs()):
 * dropped, or merged into one; an always-on view would keep a row for every
 * cgroup it ever traced (CI jobs', by the thousand).
 * @tree: the cgroups there now. A view shows a cgroup by its path, its
 * first @depth components (the exporter's ancestor a deeper cgroup is folded
 * into; UINT_MAX: the whole path). Of a path (and heap) no cgroup there now
 * has, the series ends: its stats are dropped, their latencies kept in their
 * heap's (collector_forgotten()), so that a heap's sums never go down. Of a
 * path one has (made again; the ancestor's), the series goes on: its stats
 * are merged into one, which keeps every count. Called when
 * collector_forget_due() says so, with the same @tree: nothing is to be done
 * while a cgroup has stats and no path (made since @tree was walked), or
 * @tree is partial.
 * @moved: set to an array giving, for each stats entry before, the index
 * after of the entry it is in (SIZE_MAX: dropped), to free; NULL when none
 * moved.
 *
 * The stats entries move: a caller holding their indices or pointers (a
 * model's cells) takes them again.
 * Return: how many entries went, or -ENOMEM (then none did).
 */
long collector_forget_removed(struct collector *c, uint64_t keep_ns, const struct cg_index *tree,
			      uint64_t tree_walk, unsigned int depth, size_t **moved)
{
	uint64_t now = now_ns();
	size_t n = c->nheaps, nv = 0, k = 0, *to, *into;
	struct forget_key *v;
	bool *held;

	*moved = NULL;
	held = calloc(n + 1, sizeof(*held));
	to = malloc((n + 1) * sizeof(*to));
	into = malloc((n + 1) * sizeof(*into));
	v = malloc((n + 1) * sizeof(*v));
	if (!held || !to || !into || !v) {
		free(held);
		free(to);
		free(into);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->aggs.entries; i++)	/* an aggregate of it made since */
		if (c->agg_seen[i].heap)
			held[c->agg_seen[i].heap - 1] = true;
	for (size_t i = 0; i < n; i++) {
		const struct removed_cgroup *r = removed_find(c, c->heaps[i].cgroup_id);

		into[i] = i;		/* kept as it is */
		if (!r)
			continue;
		v[nv++] = (struct forget_key){
			/* depth 0: every row the root's, a "?<id>" too */
			.key = r->path ?: depth ? NULL : "/",
			.len = r->path ? key_len(r->path, depth) : !depth,
			.heap = c->heaps[i].heap, .i = i,
			.ripe = r->settled && now - r->settled_ns >= keep_ns && !held[i],
		};
	}
	free(held);
	c->forgot_ns = now;
	c->forgot_walk = tree_walk;
	sort_ordered(v, nv, sizeof(*v), cmp_forget_key);
	for (size_t i = 0, j; i < nv; i = j) {
		bool all = v[i].ripe, ends;
		struct lat_set *lat;

		for (j = i + 1; j < nv && v[i].key && !cmp_forget_key(&v[i], &v[j]); j++)
			all &= v[j].ripe;
		if (!all)
			continue;
		ends = !v[i].key || !tree_has_key(tree, v[i].key, v[i].len, depth);
		for (size_t x = ends ? i : i + 1; x < j; x++) {
			struct coll_heap_stats *h = &c->heaps[v[x].i];

			if (!ends) {	/* goes on: into the first */
				if (!merge_stats(&c->heaps[v[i].i], h))
					into[v[x].i] = v[i].i;
			} else if ((lat = forgotten_of(c, h->heap)) && !lat_hist_add_now(lat, &h->lat)) {
				into[v[x].i] = SIZE_MAX;
			}	/* (else no memory: kept) */
		}
	}
	free(v);
	for (size_t i = 0; i < n; i++) {
		struct coll_heap_stats *h = &c->heaps[i];

		if (into[i] != i) {
			lat_free(&h->lat);
			lat_free(&h->life);
			lat_free(&h->retired_lat);
			lat_free(&h->retired_life);
			continue;
		}
		to[i] = k;
		if (k != i)
			c->heaps[k] = *h;
		k++;
	}
	for (size_t i = 0; i < n; i++)
		if (into[i] != i)
			to[i] = into[i] == SIZE_MAX ? SIZE_MAX : to[into[i]];
	free(into);
	c->nheaps = k;
	for (size_t i = 0; i < c->aggs.entries; i++)
		if (c->agg_seen[i].heap)
			c->agg_seen[i].heap = to[c->agg_seen[i].heap - 1] + 1;
	if (k == n) {
		free(to);
		return 0;
	}
	prune_removed(c, true);	/* the records of the cgroups dropped or merged away */
	*moved = to;
	return n - k;
}

/* the heaps' latencies of the cgroups forgotten, by heap */
const struct coll_forgotten *collector_forgotten(struct collector *c, size_t *n)
{
	*n = c->nforgotten;
	return c->forgotten;
}

/* Bring the aggregates, CMA counts and CMA free extents up to date with the kernel's maps. */
int collector_sync(struct collector *c)
{
	int err;

	drain_removed(c);	/* before the counts: every count of a cgroup removed is in them */
	err = sync_aggs(c);
	return err ? err : sync_cma(c);
}

static int map_array(struct map_window *m, struct bpf_map *map)
{
	return map_window_open(m, bpf_map__fd(map), bpf_map__value_size(map),
			       bpf_map__max_entries(map));
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;

	if (size < sizeof(struct coll_event))
		return 0;
	if (!c->err && !c->no_fold)
		c->err = fold(c, data);
	if (c->event_fn)
		c->event_fn(data, c->event_ctx);
	/* the rest stays in the ring, for the next poll */
	return c->poll_stop ? -ECANCELED : 0;
}

/* from the event callback: the poll in progress ends after this event */
void collector_poll_stop(struct collector *c)
{
	c->poll_stop = true;
}

int collector_count_refusal(struct collector *c, uint64_t cgroup_id, const char *heap)
{
	struct coll_heap_stats *h = heap_stats(c, cgroup_id, heap);

	if (!h)
		return -ENOMEM;
	h->limit_refusals++;
	c->refusals_counted++;
	return 0;
}

/* the sum of every heap stats' limit_refusals: what moved since a model read it */
uint64_t collector_refusals_counted(struct collector *c)
{
	return c->refusals_counted;
}

/* also hand each event to fn, folded first unless fold is false (collector.h) */
void collector_on_event(struct collector *c, void (*fn)(const struct coll_event *e, void *ctx),
			void *ctx, bool fold)
{
	c->no_fold = !fold;
	c->event_fn = fn;
	c->event_ctx = ctx;
}

const char *coll_attach_name(enum coll_attach mode)
{
	return mode == COLL_ATTACH_KPROBE ? "kprobe" : mode == COLL_ATTACH_TRACING ? "tracing" : "auto";
}

/* load @prog when @on; a kprobe mode's program is not in a BTF-typed mode's object (NULL) */
static void load_if(struct bpf_program *prog, bool on)
{
	if (prog)
		bpf_program__set_autoload(prog, on);
}

/* load @prog when @on, and say which feature it serves */
static void opt(struct collector *c, struct bpf_program *prog, enum coll_feature feat, bool on)
{
	if (!prog)
		return;
	bpf_program__set_autoload(prog, on);
	if (c->noptional < ARRAY_SIZE(c->optional))
		c->optional[c->noptional++] = (typeof(c->optional[0])){ prog, feat };
}

/*
 * 7.0+: the ioctl's entry and exit as one fsession program, the attach type
 * (newer than the uapi headers heapstat builds with) in @type; false where
 * the kernel has no sessions, or refused this one.
 */
static bool use_session(struct collector *c, enum coll_attach mode, enum bpf_attach_type *type)
{
	long long v;

	/* the enumerator last: without libbpf's parse it is a walk of every type */
	if (mode != COLL_ATTACH_TRACING || c->no_session ||
	    !kernel_has_btf("dma_heap_ioctl", BTF_KIND_FUNC))
		return false;
	v = kernel_enumerator("bpf_attach_type", "BPF_TRACE_FSESSION");
	*type = (enum bpf_attach_type)v;
	return v >= 0;
}

bool coll_kprobe_only(const char *name)
{
	size_t n = strlen(name);

	return n >= 5 && !strcmp(name + n - 5, "probe");
}

/*
 * The skeleton, opened on the object of @mode, with the fsession program
 * when @session: the collector is built three times (bpf/collector.bpf.c
 * says why), alike but for the kprobe mode's programs and that one, so one
 * skeleton serves all; the objects of the BTF-typed mode leave the kprobe
 * mode's programs out of it, and the session program, not in it, is found
 * by name and attached apart.
 */
static struct collector_bpf *open_skel(enum coll_attach mode, bool session)
{
	struct collector_bpf *s = calloc(1, sizeof(*s));
	struct bpf_object_skeleton *sk;
	int err, n = 0;

	if (!s)
		return NULL;
	err = collector_bpf__create_skeleton(s);
	sk = s->skeleton;
	if (!err && mode == COLL_ATTACH_TRACING) {
		sk->data = session ? collector_fs_bpf__elf_bytes(&sk->data_sz) :
			   collector_tr_bpf__elf_bytes(&sk->data_sz);
		for (int i = 0; i < sk->prog_cnt; i++)
			if (!coll_kprobe_only(sk->progs[i].name))
				sk->progs[n++] = sk->progs[i];
		sk->prog_cnt = n;
	}
	if (!err)
		err = bpf_object__open_skeleton(sk, NULL);
	if (err) {
		collector_bpf__destroy(s);
		errno = -err;
		return NULL;
	}
	return s;
}

/* the ioctl's session program: only in the fsession object */
static struct bpf_program *session_prog(struct collector *c)
{
	return bpf_object__find_program_by_name(c->skel->obj, "dma_heap_ioctl_session");
}

static void skel_destroy(struct collector *c)
{
	bpf_link__destroy(c->session_link);
	c->session_link = NULL;
	bpf_link__destroy(c->exits_link);
	c->exits_link = NULL;
	bpf_link__destroy(c->rmdir_link);
	c->rmdir_link = NULL;
	c->exits_hook = NULL;
	c->rmdir_hook = NULL;
	light_close(&c->light);
	collector_bpf__destroy(c->skel);
	c->skel = NULL;
}

/* the programs of one attach mode that this kernel can take; the others are not loaded */
static void pick_variants(struct collector *c, enum coll_attach mode, bool session,
			  enum bpf_attach_type session_type, bool want_holders, bool want_fds)
{
	struct collector_bpf *s = c->skel;
	bool tracing = mode == COLL_ATTACH_TRACING, kprobe = !tracing;
	bool export_tp = tracing && kernel_has_btf("btf_trace_dma_buf_export", BTF_KIND_TYPEDEF);
	bool heaps = kernel_has_btf("dma_heap_ioctl", BTF_KIND_FUNC);
	long long cma_kb = cma_reserved_kb("/proc/meminfo");
	/* cma_alloc_finish tells its error since 6.2: the programs read it; none
	 * where no CMA memory is reserved (4 programs, a fifth of the verifier's time) */
	bool cma = cma_kb != 0 &&
		   kernel_has_btf("btf_trace_cma_alloc_start", BTF_KIND_TYPEDEF) &&
		   kernel_btf_params("btf_trace_cma_alloc_finish") >= 7;
	bool busy = cma && kernel_has_btf("btf_trace_cma_alloc_busy_retry", BTF_KIND_TYPEDEF);
	bool holders = want_holders && kernel_has_btf("btf_trace_dma_buf_fd", BTF_KIND_TYPEDEF) &&
		       kernel_has_btf("exit_files", BTF_KIND_FUNC);
	bool fds = (holders || want_fds) && kernel_has_btf("btf_trace_dma_buf_fd", BTF_KIND_TYPEDEF);

	/* CMA memory there, and no hook for it (not refused: collector_refused() says that) */
	c->cma_untraced = !cma && !(c->without & 1u << COLL_FEAT_CMA) && cma_kb > 0;
	/* what a refused program took away (the holder changes need the fds' events) */
	cma = cma && !(c->without & 1u << COLL_FEAT_CMA);
	busy = busy && cma && !(c->without & 1u << COLL_FEAT_CMA_BUSY);
	fds = fds && !(c->without & 1u << COLL_FEAT_FDS);
	holders = holders && fds && !(c->without & 1u << COLL_FEAT_HOLDERS);
	c->noptional = 0;

	c->attach = mode;
	c->cma_traced = cma;
	load_if(s->progs.dma_heap_ioctl_entry, heaps && tracing && !session);
	load_if(s->progs.dma_heap_ioctl_exit, heaps && tracing && !session);
	if (session)
		bpf_program__set_expected_attach_type(session_prog(c), session_type);
	load_if(s->progs.dma_heap_ioctl_kprobe, heaps && kprobe);
	load_if(s->progs.dma_heap_ioctl_kretprobe, heaps && kprobe);
	load_if(s->progs.dma_buf_export_tp, export_tp);
	load_if(s->progs.dma_buf_export_fexit, tracing && !export_tp);
	load_if(s->progs.dma_buf_export_kretprobe, kprobe);
	load_if(s->progs.dma_buf_release, tracing);
	load_if(s->progs.dma_buf_release_kprobe, kprobe);
	c->ioctl_variant = !heaps ? NULL : session ? "fsession/dma_heap_ioctl" :
			   tracing ? "fentry+fexit/dma_heap_ioctl" : "kprobe+kretprobe/dma_heap_ioctl";
	c->export_variant = export_tp ? "tp_btf/dma_buf_export" :
			    tracing ? "fexit/dma_buf_export" : "kretprobe/dma_buf_export";
	opt(c, s->progs.cma_alloc_start, COLL_FEAT_CMA, cma && tracing);
	opt(c, s->progs.cma_alloc_finish, COLL_FEAT_CMA, cma && tracing);
	opt(c, s->progs.cma_release, COLL_FEAT_CMA, cma && tracing);
	opt(c, s->progs.cma_alloc_busy_retry, COLL_FEAT_CMA_BUSY, busy && tracing);
	opt(c, s->progs.cma_alloc_start_raw, COLL_FEAT_CMA, cma && kprobe);
	opt(c, s->progs.cma_alloc_finish_raw, COLL_FEAT_CMA, cma && kprobe);
	opt(c, s->progs.cma_release_raw, COLL_FEAT_CMA, cma && kprobe);
	opt(c, s->progs.cma_alloc_busy_retry_raw, COLL_FEAT_CMA_BUSY, busy && kprobe);
	/* a module's raw tracepoints: only while heapstat_core is loaded */
	c->heap_tracepoints = !access("/sys/module/heapstat_core", F_OK) &&
			      !(c->without & 1u << COLL_FEAT_HEAP_TP);
	opt(c, s->progs.heapstat_heap_alloc, COLL_FEAT_HEAP_TP, c->heap_tracepoints);
	opt(c, s->progs.heapstat_heap_free, COLL_FEAT_HEAP_TP, c->heap_tracepoints);
	c->holders_traced = holders;
	opt(c, s->progs.dma_buf_fd_raw, COLL_FEAT_FDS, fds);
	opt(c, s->progs.dma_buf_get_raw, COLL_FEAT_FDS, fds);
	opt(c, s->progs.dma_buf_mmap_internal_raw, COLL_FEAT_FDS, fds);
	opt(c, s->progs.dma_buf_mmap_raw, COLL_FEAT_FDS, fds);
	c->fds = fds && want_fds;
	opt(c, s->progs.dma_buf_dynamic_attach_raw, COLL_FEAT_HOLDERS, holders);
	opt(c, s->progs.dma_buf_detach_raw, COLL_FEAT_HOLDERS, holders);
	opt(c, s->progs.sched_process_fork_raw, COLL_FEAT_HOLDERS, holders);
	opt(c, s->progs.sched_process_exec_raw, COLL_FEAT_HOLDERS, holders);
	opt(c, s->progs.cgroup_attach_task_raw, COLL_FEAT_HOLDERS, holders);
	opt(c, s->progs.cgroup_mkdir_raw, COLL_FEAT_HOLDERS, holders);
	opt(c, s->progs.cgroup_rmdir_raw, COLL_FEAT_HOLDERS, holders);
	/* a live view's removals are counted by the names' program, loaded later */
	c->rmdir_hook = holders && c->exits_later ? s->progs.cgroup_rmdir_raw : NULL;
	if (c->rmdir_hook)
		bpf_program__set_autoattach(c->rmdir_hook, false);
	opt(c, s->progs.exit_files_fexit, COLL_FEAT_HOLDERS, holders && tracing);
	opt(c, s->progs.exit_files_kretprobe, COLL_FEAT_HOLDERS, holders && kprobe);
	/* loaded now (one load), attached when the caller asks: collector_hook_exits() */
	c->exits_hook = !holders || !c->exits_later ? NULL :
			tracing ? s->progs.exit_files_fexit : s->progs.exit_files_kretprobe;
	if (c->exits_hook)
		bpf_program__set_autoattach(c->exits_hook, false);
}

/* each feature's name (JSON, HEAPSTAT_TEST_REFUSE) and what its programs trace (messages) */
static const struct { const char *name, *what; } features[COLL_FEATURES] = {
	[COLL_FEAT_CMA] = { "cma", "CMA allocations and releases" },
	[COLL_FEAT_CMA_BUSY] = { "cma_busy", "CMA's busy retries" },
	[COLL_FEAT_HEAP_TP] = { "heap_tp", "heapstat heaps' charges" },
	[COLL_FEAT_FDS] = { "fds", "fds made, taken and mapped, and with them holder changes" },
	[COLL_FEAT_HOLDERS] = { "holders", "holder changes: a live view walks every process each frame" },
	[COLL_FEAT_CGROUP_NAMES] = { "cgroup_names", "the paths of cgroups removed while tracing: "
				     "those cgroups are named by id" },
};

const char *coll_feature_name(enum coll_feature f)
{
	return f < COLL_FEATURES ? features[f].name : "?";
}

const char *coll_feature_what(enum coll_feature f)
{
	return f < COLL_FEATURES ? features[f].what : "?";
}

const char *collector_refused(struct collector *c, enum coll_feature f, int *err)
{
	if (f >= COLL_FEATURES || !(c->without & 1u << f))
		return NULL;
	*err = c->refused_err[f];
	return c->refused[f];
}

/*
 * The program a libbpf warning says failed to load or attach ("prog 'NAME':
 * BPF program load failed: ...", "prog 'NAME': failed to attach ..."),
 * caught while load_attach() loads; the warning goes on where it went.
 */
static char failed_prog[64];
static libbpf_print_fn_t print_next;

static int catch_failed(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	const char *p;
	va_list copy;

	va_copy(copy, ap);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	if (level == LIBBPF_WARN && !failed_prog[0] && strstr(line, "fail") &&
	    (p = strstr(line, "prog '")))
		sscanf(p, "prog '%63[^']'", failed_prog);
	return print_next ? print_next(level, fmt, ap) : 0;
}

/* the kernel refused @f's program @prog (-errno @err): the collector goes on without @f */
static void went_without(struct collector *c, enum coll_feature f, const char *prog, int err)
{
	c->without |= 1u << f;
	snprintf(c->refused[f], sizeof(c->refused[f]), "%s", prog);
	c->refused_err[f] = err;
}

/* the feature of the loaded program named @name; false for the others */
static bool refused_feature(struct collector *c, const char *name, enum coll_feature *f)
{
	for (size_t i = 0; *name && i < c->noptional; i++)
		if (bpf_program__autoload(c->optional[i].prog) &&
		    !strcmp(bpf_program__name(c->optional[i].prog), name)) {
			*f = c->optional[i].feat;
			return !(c->without & 1u << *f);
		}
	return false;
}

/* whether the comma-separated list @v has @name */
static bool listed(const char *v, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = v; p && (p = strstr(p, name)); p += n)
		if ((p == v || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
	return false;
}

/* HEAPSTAT_TEST_REFUSE=NAME[,NAME]: the coll_feature bits whose programs the
 * verifier refuses, and COLL_REFUSE_SESSION's for "session" */
static uint32_t test_refuse(void)
{
	const char *v = getenv("HEAPSTAT_TEST_REFUSE");
	uint32_t bits = listed(v, "session") ? 1u << COLL_REFUSE_SESSION : 0;

	for (int f = 0; v && f < COLL_FEATURES; f++)
		if (listed(v, features[f].name))
			bits |= 1u << f;
	return bits;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/*
 * Attach every loaded program but those attached later (libbpf's
 * autoattach off), from the object's last to its first, the allocation's
 * ioctl last (attach_order.h says why). @light: loaded as a light
 * skeleton. On failure a negative errno, and the program in failed_prog.
 */
static int attach_ends_first(struct collector *c, bool light)
{
	struct bpf_program *prog = NULL, *session = session_prog(c);
	int err = 0;

	if (!light) {
		err = skel_attach_ends_first(c->skel->skeleton);
	} else {
		while (!err && (prog = bpf_object__prev_program(c->skel->obj, prog))) {
			if (!bpf_program__autoload(prog) || !bpf_program__autoattach(prog) ||
			    prog == session)
				continue;
			attach_test_pause();
			err = light_attach_prog(&c->light, c->skel->obj, prog);
		}
	}
	/* the session program, not in the skeleton: its link kept apart */
	if (!err && session && bpf_program__autoload(session)) {
		attach_test_pause();
		if (light) {
			err = light_attach_prog(&c->light, c->skel->obj, session);
		} else {
			c->session_link = bpf_program__attach(session);
			err = c->session_link ? 0 : -errno;
		}
		prog = session;
	}
	if (err && !failed_prog[0] && prog)
		snprintf(failed_prog, sizeof(failed_prog), "%s", bpf_program__name(prog));
	return err;
}

/*
 * Load and attach the BTF-typed mode's object as a light skeleton
 * (light_load.c): libbpf parses no kernel BTF. On failure, libbpf's own
 * load (which says which program failed, and why) is the next try.
 */
static int load_light(struct collector *c)
{
	libbpf_print_fn_t old = heapstat_verbose ? NULL : libbpf_set_print(silent);
	int err = light_load(&c->light, c->skel->obj);

	if (!err)
		err = attach_ends_first(c, true);
	if (!heapstat_verbose)
		libbpf_set_print(old);
	if (!err)
		c->loaded_by = lskel_ran_here() ? "its loader run in user space" :
			       "the kernel running its loader";
	else if (heapstat_verbose)
		fprintf(stderr, "%s: the collector as a light skeleton: %s; libbpf loads it\n",
			heapstat_cmd, strerror(-err));
	return err;
}

/* open, load and attach in one mode; quiet, a negative errno and what failed on failure */
static int load_attach(struct collector *c, enum coll_attach mode, size_t ring_bytes,
		       bool holders, const char **what)
{
	enum bpf_attach_type session_type = BPF_TRACE_FENTRY;	/* read only with a session */
	bool session = use_session(c, mode, &session_type);
	enum coll_feature f;
	int err;

	*what = "open the collector";
	c->skel = open_skel(mode, session);
	if (!c->skel)
		return -errno;
	c->skel->rodata->page_size = sysconf(_SC_PAGESIZE);
	for (unsigned int k = 0; k < c->nmaps; k++)
		c->skel->rodata->cma_maps[k] = c->maps[k].map;
	c->skel->rodata->ncma_maps = c->nmaps;
	c->skel->rodata->want_stacks = c->stacks;
	c->skel->rodata->want_fds = c->want_fds;
	c->skel->rodata->want_events = c->events;
	err = bpf_map__set_max_entries(c->skel->maps.cma_bits, c->cma_words ? c->cma_words : 1);
	/* for tests of full maps: no one makes 16384 cgroups to see one */
	if (!err && getenv("HEAPSTAT_TEST_MAX_AGGS")) {
		unsigned int n = atoi(getenv("HEAPSTAT_TEST_MAX_AGGS"));

		err = bpf_map__set_max_entries(c->skel->maps.aggs, n ?: 1) ?:
		      bpf_map__set_max_entries(c->skel->maps.agg_index, n ?: 1);
	}
	if (!err && getenv("HEAPSTAT_TEST_MAX_SPILL"))
		err = bpf_map__set_max_entries(c->skel->maps.buffers_spill,
					       atoi(getenv("HEAPSTAT_TEST_MAX_SPILL")) ?: 1);
	if (!err && getenv("HEAPSTAT_TEST_MAX_HOLDERS"))
		err = bpf_map__set_max_entries(c->skel->maps.holder_tgids,
					       atoi(getenv("HEAPSTAT_TEST_MAX_HOLDERS")) ?: 1);
	/* without stacks, the map only has to exist: its code is dead; so
	 * are the histograms' with events */
	if (!err && !c->stacks)
		err = bpf_map__set_max_entries(c->skel->maps.stacks, 1);
	if (!err && c->events)
		err = bpf_map__set_max_entries(c->skel->maps.hists, 1);
	if (!err)
		err = bpf_map__set_max_entries(c->skel->maps.events, ring_bytes ? ring_bytes :
					       c->events ? COLL_RING_BYTES : COLL_AGG_RING_BYTES);
	if (err) {
		skel_destroy(c);
		return err;
	}
	pick_variants(c, mode, session, session_type, holders, c->want_fds);
	/* the change log, for a live view on a kernel with every hook it needs */
	c->skel->rodata->want_log = c->holders_traced;
	if (!c->holders_traced)
		err = bpf_map__set_max_entries(c->skel->maps.changes, 1);
	if (err) {
		skel_destroy(c);
		return err;
	}
	/* 6.12's cma_alloc_start (name, count, align) does not tell the free pages */
	c->skel->rodata->cma_start_tells_free = kernel_btf_params("btf_trace_cma_alloc_start") >= 6;
	c->skel->rodata->test_refuse = test_refuse();
	*what = "load the collector";
	/* HEAPSTAT_TEST_LIBBPF: libbpf's load, to compare */
	if (mode == COLL_ATTACH_TRACING && !c->no_light && !getenv("HEAPSTAT_TEST_LIBBPF")) {
		err = load_light(c);
		if (!err)
			return 0;
		skel_destroy(c);
		c->no_light = true;
		return load_attach(c, mode, ring_bytes, holders, what);
	}
	c->loaded_by = "libbpf";
	failed_prog[0] = '\0';
	print_next = libbpf_set_print(catch_failed);
	err = collector_bpf__load(c->skel);
	if (!err)
		*what = "attach the collector";
	if (!err)
		err = attach_ends_first(c, false);
	libbpf_set_print(print_next);
	/* a program that only adds to the rest: the rest goes on without it */
	if (err && refused_feature(c, failed_prog, &f))
		went_without(c, f, failed_prog, err);
	else
		f = COLL_FEATURES;
	if (err) {
		skel_destroy(c);
	}
	/* without it, a light load may do again (each retry has a feature less) */
	if (err && f < COLL_FEATURES) {
		c->no_light = false;
		return load_attach(c, mode, ring_bytes, holders, what);
	}
	/* a kernel that names sessions and yet refuses this one: fentry and fexit */
	if (err && !c->no_session && !strcmp(failed_prog, "dma_heap_ioctl_session")) {
		c->no_session = true;
		c->no_light = false;
		return load_attach(c, mode, ring_bytes, holders, what);
	}
	/* the holder hooks are a saving, not a need: without them, every frame walks */
	if (err && c->holders_traced)
		return load_attach(c, mode, ring_bytes, false, what);
	return err;
}

/*
 * Open, load and attach; on failure a negative errno, and in @why what failed.
 * COLL_ATTACH_AUTO takes BPF trampolines and BTF tracepoints where the kernel
 * lets it load them, else kprobes and raw tracepoints. @ring_bytes: the event
 * ring's size, a power of two pages (0: COLL_RING_BYTES for a recorder, else
 * COLL_AGG_RING_BYTES). User space maps the whole ring,
 * twice: a consumer draining it often can take a smaller one. @holders: also
 * log the events that change who holds what (collector_changes()), for a
 * consumer that keeps an inventory between them.
 */
int collector_open(struct collector **out, enum coll_attach mode, size_t ring_bytes, bool holders,
		   char *why, size_t why_len)
{
	return collector_open_rec(out, mode, ring_bytes, holders, 0, why, why_len);
}

/*
 * collector_open(), and what a recorder asks for: COLL_WANT_STACKS, each
 * allocation's stacks (collector_stack()); COLL_WANT_FDS, EV_BUF_FD events
 * (collector_fds() says whether the kernel gives them).
 */
int collector_open_rec(struct collector **out, enum coll_attach mode, size_t ring_bytes,
		       bool holders, unsigned int flags, char *why, size_t why_len)
{
	bool stacks = flags & COLL_WANT_STACKS;
	const char *what;
	struct collector *c;
	int err, first = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->stacks = stacks;
	c->want_fds = flags & COLL_WANT_FDS;
	c->events = flags & COLL_WANT_EVENTS;
	c->exits_later = flags & COLL_EXITS_LATER;
	c->page_size = sysconf(_SC_PAGESIZE);
	err = plan_cma_maps(c);
	if (err) {
		snprintf(why, why_len, "failed to read the CMA areas: %s", strerror(-err));
		goto fail;
	}
	if (mode == COLL_ATTACH_AUTO) {
		/* the first try's complaints are noise when the second works, but -v shows them */
		libbpf_print_fn_t old = heapstat_verbose ? NULL : libbpf_set_print(silent);

		first = load_attach(c, COLL_ATTACH_TRACING, ring_bytes, holders, &what);
		if (!heapstat_verbose)
			libbpf_set_print(old);
		if (first)	/* what tracing went without, kprobes may have */
			c->without = 0;
		err = first ? load_attach(c, COLL_ATTACH_KPROBE, ring_bytes, holders, &what) : 0;
	} else {
		err = load_attach(c, mode, ring_bytes, holders, &what);
	}
	if (err) {
		if (heapstat_no_btf())	/* the cause, not what failed for want of it */
			snprintf(why, why_len, "%s", heapstat_no_btf());
		else if (first)
			snprintf(why, why_len, "this kernel refused BPF trampolines (%s) and kprobes "
				 "(%s) to %s; heapstat -v shows libbpf's reasons", strerror(-first),
				 strerror(-err), what);
		else if (err == -EACCES && failed_prog[0])	/* the verifier's refusal */
			snprintf(why, why_len, "failed to %s (%s attach): the kernel's verifier "
				 "refused its program %s; heapstat -v shows its log", what,
				 coll_attach_name(mode), failed_prog);
		else
			snprintf(why, why_len, "failed to %s (%s attach): %s; heapstat -v shows "
				 "libbpf's reasons", what, coll_attach_name(mode), strerror(-err));
		goto fail;
	}
	what = "map the collector's arrays";
	err = map_array(&c->slots, c->skel->maps.buffers);
	if (!err)
		err = map_array(&c->aggs, c->skel->maps.aggs);
	if (!err) {
		what = "allocate";
		c->agg_seen = calloc(c->aggs.entries, sizeof(*c->agg_seen));
		c->hist = malloc(sizeof(*c->hist));
		err = c->agg_seen && c->hist ? 0 : -ENOMEM;
	}
	if (!err && c->holders_traced) {
		size_t len = COLL_LOG_ENTRIES * sizeof(*c->log);

		what = "map the collector's change log";
		c->log = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(c->skel->maps.changes), 0);
		if (c->log == MAP_FAILED) {
			c->log = NULL;
			err = -errno;
		}
	}
	if (!err) {
		what = "open the ring buffer";
		c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_event, c, NULL);
		err = c->rb ? 0 : -errno;
	}
	if (!err) {
		what = "map the collector's CMA bitmaps";
		err = seed_cma_maps(c);
	}
	if (err) {
		snprintf(why, why_len, "failed to %s: %s", what, strerror(-err));
		goto fail;
	}
	if (!c->exits_later)
		collector_name_removals(c);
	*out = c;
	return 0;

fail:
	collector_close(c);
	return err;
}

/*
 * Wait timeout_ms, then fold what arrived; a negative errno on failure.
 * Events do not wake us (BPF_RB_NO_WAKEUP), so this drains the ring itself.
 */
int collector_poll(struct collector *c, int timeout_ms)
{
	int n = ring_buffer__poll(c->rb, timeout_ms);

	if (n != -ECANCELED) {		/* -ECANCELED: collector_poll_stop(), the rest left */
		if (n < 0 && n != -EINTR)
			return n;
		n = ring_buffer__consume(c->rb);
	}
	c->poll_stop = false;
	if (n < 0 && n != -EINTR && n != -ECANCELED)
		return n;
	drain_removed(c);
	recycle_aggs(c);
	return c->err;
}

unsigned long collector_ring_mark(struct collector *c)
{
	if (!c->rb_pos)
		c->rb_pos = mmap(NULL, 2 * c->page_size, PROT_READ, MAP_SHARED,
				 bpf_map__fd(c->skel->maps.events), 0);
	if (c->rb_pos == MAP_FAILED)
		return 0;
	return __atomic_load_n(c->rb_pos + c->page_size / sizeof(long), __ATOMIC_ACQUIRE);
}

int collector_drain_to(struct collector *c, unsigned long mark, int max_ms)
{
	struct timespec ms = { 0, 1000000 };
	int err;

	for (int waited = 0;; waited++) {
		err = collector_poll(c, 0);
		if (err || !mark || c->rb_pos == MAP_FAILED ||
		    (long)(__atomic_load_n(c->rb_pos, __ATOMIC_ACQUIRE) - mark) >= 0)
			return err;
		if (waited >= max_ms)
			return -ETIME;
		nanosleep(&ms, NULL);
	}
}

struct coll_heap_stats *collector_heap_stats(struct collector *c, size_t *n)
{
	*n = c->nheaps;
	return c->heaps;
}

/*
 * CMA memory is there, and the kernel has no hook to trace its allocations
 * with (6.1: no error in its tracepoint); a refused program is said apart
 * (collector_refused())
 */
bool collector_cma_untraced(struct collector *c)
{
	return c->cma_untraced;
}

/* the CMA areas' counts; none where CMA is not traced (6.1, refused, no CMA memory) */
struct coll_cma_stats *collector_cma_stats(struct collector *c, size_t *n)
{
	*n = c->cma_traced ? c->ncma : 0;
	return c->cma;
}

/* forget the latencies seen so far: the next ones are a new interval's */
void collector_restart_latencies(struct collector *c)
{
	for (size_t i = 0; i < c->nheaps; i++) {
		lat_restart(&c->heaps[i].lat);
		lat_restart(&c->heaps[i].life);
	}
	for (size_t i = 0; i < c->ncma; i++)
		lat_restart(&c->cma[i].lat);
}

/*
 * Attach a holders' program loaded with the rest but not attached then
 * (@link: where libbpf's load keeps its link). Refused, the holder changes
 * go, as when a program is refused at load: every frame walks.
 */
static int attach_late(struct collector *c, struct bpf_program *prog, struct bpf_link **link)
{
	int err;

	if (c->light.nprogs) {
		err = light_attach_prog(&c->light, c->skel->obj, prog);
	} else {
		*link = bpf_program__attach(prog);
		err = *link ? 0 : -errno;
	}
	if (err) {
		c->holders_traced = false;
		went_without(c, COLL_FEAT_HOLDERS, bpf_program__name(prog), err);
	}
	return err;
}

int collector_hook_exits(struct collector *c)
{
	struct bpf_program *prog = c->exits_hook;

	if (!prog)
		return 0;
	c->exits_hook = NULL;
	return attach_late(c, prog, &c->exits_link) ?: 1;
}

/*
 * Whether the change log (collector_changes()) has every event that may
 * change which buffers live and who holds them (see collector.bpf.c): false
 * when this kernel lacks the hooks, or the collector was opened without
 * @holders. With COLL_EXITS_LATER, exits are logged only once
 * collector_hook_exits() attached their hook.
 */
bool collector_logs_changes(struct collector *c)
{
	return c->holders_traced;
}

/*
 * How many cgroups were made or removed since the collector was attached;
 * counted with the change log (collector_logs_changes()), else 0.
 */
uint64_t collector_cgroup_changes(struct collector *c)
{
	uint64_t n;

	if (!c->holders_traced)
		return 0;
	n = __atomic_load_n(&c->skel->bss->cgroup_changes, __ATOMIC_RELAXED);
	return c->names ? n + __atomic_load_n(&c->names->bss->removals, __ATOMIC_RELAXED) : n;
}

/*
 * The processes holding a buffer now (in any order, repeats allowed; sorted
 * in place): their forks, execs, exits and cgroup moves count as holder
 * changes. The kernel's map is updated by difference; more processes than it
 * holds make every process's count.
 */
int collector_set_holders(struct collector *c, pid_t *tgids, size_t n)
{
	int fd = bpf_map__fd(c->skel->maps.holder_tgids);
	size_t i = 0, k = 0, m = 0;
	__u8 one = 1;

	sort_ordered(tgids, n, sizeof(*tgids), cmp_pid);
	for (size_t j = 0; j < n; j++)	/* one entry each */
		if (!m || tgids[j] != tgids[m - 1])
			tgids[m++] = tgids[j];
	n = m;
	if (n > bpf_map__max_entries(c->skel->maps.holder_tgids)) {
		c->skel->bss->holders_all = true;
		return 0;
	}
	if (n > c->holders_cap) {
		pid_t *v = realloc(c->holders, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->holders = v;
		c->holders_cap = n;
	}
	while (i < c->nholders || k < n) {
		int d = i == c->nholders ? 1 : k == n ? -1 : cmp_pid(&c->holders[i], &tgids[k]);
		__u32 key;

		if (d < 0) {		/* gone */
			key = c->holders[i++];
			bpf_map_delete_elem(fd, &key);
		} else if (d > 0) {	/* new */
			key = tgids[k++];
			if (bpf_map_update_elem(fd, &key, &one, BPF_ANY))
				c->holders_lost = true;	/* for good: counts all */
		} else {
			i++, k++;
		}
	}
	copy_array(c->holders, tgids, n, sizeof(*tgids));
	c->nholders = n;
	c->skel->bss->holders_all = c->holders_lost;
	return 0;
}

/**
 * collector_removed_cgroup() - the path cgroup @id had, removed while tracing
 *
 * Known for a cgroup of cgroup2 removed since collector_name_removals()
 * attached its program; kept while the cgroup has counts, or while few were
 * removed. The path is from cgroup2's root, as the kernel has it.
 * Return: the path, NULL when unknown or longer than the kernel gives.
 */
const char *collector_removed_cgroup(struct collector *c, uint64_t id)
{
	const struct removed_cgroup *r = removed_find(c, id);

	if (!r) {
		drain_removed(c);	/* removed since the last poll */
		r = removed_find(c, id);
	}
	return r ? r->path : NULL;
}

/* a live view's removals counted by the collector's own program (rmdir_hook) */
static void count_removals(struct collector *c)
{
	if (c->rmdir_hook && c->holders_traced)
		attach_late(c, c->rmdir_hook, &c->rmdir_link);
}

/**
 * collector_name_removals() - load and attach the program that keeps the
 * paths of cgroups removed (bpf/cgroup_names.bpf.c), once
 *
 * Apart from the collector's load: a live view calls it where it waits
 * anyway (live_name_removals()); collector_open() for the others. A refusal
 * is said as a feature's (cgroup_names): those cgroups are then named by id,
 * and a live view's removals are counted by the collector's program. In a
 * cgroup namespace, whose paths the kernel's are not, it is not loaded.
 */
void collector_name_removals(struct collector *c)
{
	char events[PATH_MAX];
	struct cgroup_names_lskel *n;
	int err = -ENOMEM;

	if (c->names_tried)
		return;
	c->names_tried = true;
	/* a cgroup namespace's root (it has cgroup.events, the hierarchy's has
	 * not): the tracepoint's paths are from a root this one is below */
	snprintf(events, sizeof(events), "%s/cgroup.events", cg_root());
	if (!access(events, F_OK)) {
		count_removals(c);
		return;
	}
	n = cgroup_names_lskel__open();
	if (n) {
		n->rodata->test_refuse = test_refuse() & 1u << COLL_FEAT_CGROUP_NAMES;
		err = cgroup_names_lskel__load(n) ?: cgroup_names_lskel__attach(n);
	}
	if (!err) {
		c->names = n;
		return;
	}
	cgroup_names_lskel__destroy(n);
	went_without(c, COLL_FEAT_CGROUP_NAMES, "cgroup_names_rmdir", err < 0 ? err : -EINVAL);
	count_removals(c);
}

/* the exporter's name of aggregate @agg (a change log entry's), NULL: not yet written */
const char *collector_agg_name(struct collector *c, uint32_t agg)
{
	const struct coll_agg_entry *e = agg < c->aggs.entries ? map_window_at(&c->aggs, agg) : NULL;

	return e && __atomic_load_n(&e->ready, __ATOMIC_ACQUIRE) ? e->name : NULL;
}

/**
 * collector_changes() - the change log's entries since the last call
 * @fn: called with each, in order; a non-zero return stops and is returned
 * @lost: set when entries were written over before they were read (the
 *	  caller must walk everything again); the entries after are still given
 *
 * Only for a collector opened with @holders that traces them
 * (collector_logs_changes() true). An entry being written ends the call: it comes
 * with the next one.
 */
int collector_changes(struct collector *c, int (*fn)(const struct coll_log *e, void *arg),
		      void *arg, bool *lost)
{
	uint64_t head;

	if (!c->log)
		return -EOPNOTSUPP;
	head = __atomic_load_n(&c->skel->bss->changes_head, __ATOMIC_ACQUIRE);
	if (head - c->log_tail > COLL_LOG_ENTRIES) {
		*lost = true;
		c->log_tail = head - COLL_LOG_ENTRIES;
	}
	for (; c->log_tail < head; c->log_tail++) {
		const struct coll_log *e = &c->log[c->log_tail & (COLL_LOG_ENTRIES - 1)];
		uint64_t want = c->log_tail + 1, seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct coll_log copy;
		int err;

		if (seq < want)		/* being written */
			break;
		copy = *e;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		/* written over, or its next writer has its number: its fields may be in the copy */
		if (seq > want || __atomic_load_n(&e->seq, __ATOMIC_RELAXED) != want ||
		    __atomic_load_n(&c->skel->bss->changes_head, __ATOMIC_RELAXED) - c->log_tail >
		    COLL_LOG_ENTRIES) {
			*lost = true;
			continue;
		}
		err = fn(&copy, arg);
		if (err) {
			c->log_tail++;
			return err;
		}
	}
	return 0;
}

uint64_t collector_dropped(struct collector *c)
{
	uint64_t n = c->skel->bss->dropped;

	for (int k = 0; k < COLL_LOST_KINDS; k++)
		n += c->skel->bss->lost[k];
	return n;
}

/* each loaded program's name and kernel info (runs, time, recursion misses) */
static void prog_infos(struct collector *c,
		       void (*fn)(const char *prog, const struct bpf_prog_info *info, void *ctx),
		       void *ctx)
{
	struct bpf_program *prog;
	size_t i = 0;

	bpf_object__for_each_program(prog, c->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = c->light.nprogs ? c->light.prog_fd[i] : bpf_program__fd(prog);

		i++;
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			fn(bpf_program__name(prog), &info, ctx);
	}
}

static void add_misses(const char *prog, const struct bpf_prog_info *info, void *ctx)
{
	(void)prog;
	*(uint64_t *)ctx += info->recursion_misses;
}

/*
 * Calls of the collector's hooks the kernel ran no program for. A tracing
 * program (fentry, fexit, fsession) runs under a per-CPU guard against
 * recursion; with preemptible RCU (full or lazy preemption) only migration,
 * not preemption, is off while it runs: preempted inside it, it stays
 * "running" on that CPU, and the same hook hit by another task there
 * meanwhile is skipped, counted only in the program's recursion_misses.
 * Those calls are neither counted nor timed: an allocation not seen, a
 * release not seen. (tests/vm/preempt_test.sh)
 */
uint64_t collector_skipped(struct collector *c)
{
	uint64_t n = 0;

	prog_infos(c, add_misses, &n);
	return n;
}

/* what was lost, by cause: collector_dropped() is their sum but for the last three */
void collector_losses(struct collector *c, struct coll_losses *out)
{
	const struct collector_bpf__bss *b = c->skel->bss;

	out->ring = b->dropped;
	out->aggregates = b->lost[LOST_AGGS];
	out->cma_areas = b->lost[LOST_CMA_AREAS];
	out->buffers = b->lost[LOST_BUFFERS];
	out->threads = b->lost[LOST_THREADS];
	out->histograms = b->hists_lost;
	out->stacks = b->stacks_lost;
	out->skipped = collector_skipped(c);
}

/* latencies and lifetimes of aggregates that have no histogram (aggregate mode) */
uint64_t collector_hists_lost(struct collector *c)
{
	return c->skel->bss->hists_lost;
}

/*
 * The return addresses of an event's stack (its kstack or ustack: id + 1),
 * innermost first, at most @max: how many, 0 when it has none, or -errno.
 */
int collector_stack(struct collector *c, uint32_t id, uint64_t *ips, size_t max)
{
	uint64_t v[COLL_STACK_DEPTH];
	uint32_t key = id - 1;
	size_t n = 0;

	if (!c->stacks || !id)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.stacks), &key, v))
		return errno == ENOENT ? 0 : -errno;
	while (n < COLL_STACK_DEPTH && n < max && v[n])	/* the rest is zeroed */
		ips[n] = v[n], n++;
	return n;
}

/* stacks the `stacks` map had no room for */
uint64_t collector_stacks_lost(struct collector *c)
{
	return c->skel->bss->stacks_lost;
}

struct stats_cb {
	void (*cb)(const char *prog, uint64_t runs, uint64_t run_ns, void *ctx);
	void *ctx;
};

static void prog_stats(const char *prog, const struct bpf_prog_info *info, void *ctx)
{
	const struct stats_cb *s = ctx;

	s->cb(prog, info->run_cnt, info->run_time_ns, s->ctx);
}

/*
 * Each loaded program's runs and run time, counted while the kernel's BPF
 * statistics are on (BPF_ENABLE_STATS, or sysctl kernel.bpf_stats_enabled).
 */
void collector_prog_stats(struct collector *c,
			  void (*cb)(const char *prog, uint64_t runs, uint64_t run_ns, void *ctx),
			  void *ctx)
{
	struct stats_cb s = { cb, ctx };

	prog_infos(c, prog_stats, &s);
}

const char *collector_export_variant(struct collector *c)
{
	return c->export_variant;
}

/* how heap allocations are traced: "fsession/dma_heap_ioctl" (7.0+),
 * "fentry+fexit/...", "kprobe+kretprobe/..."; NULL without dma-buf heaps */
const char *collector_ioctl_variant(struct collector *c)
{
	return c->ioctl_variant;
}

/* how it loaded: "libbpf", or as a light skeleton "its loader run in user space"
 * or "the kernel running its loader" */
const char *collector_loaded_by(struct collector *c)
{
	return c->loaded_by;
}

enum coll_attach collector_attach(struct collector *c)
{
	return c->attach;
}

bool collector_heap_tracepoints(struct collector *c)
{
	return c->heap_tracepoints;
}

void collector_close(struct collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	if (c->rb_pos && c->rb_pos != MAP_FAILED)
		munmap((void *)c->rb_pos, 2 * c->page_size);
	if (c->log)
		munmap((void *)c->log, COLL_LOG_ENTRIES * sizeof(*c->log));
	map_window_close(&c->slots);
	map_window_close(&c->aggs);
	if (c->cma_bits)
		munmap(c->cma_bits, c->cma_bits_bytes);
	skel_destroy(c);
	for (size_t i = 0; i < c->nheaps; i++) {
		lat_free(&c->heaps[i].lat);
		lat_free(&c->heaps[i].life);
		lat_free(&c->heaps[i].retired_lat);
		lat_free(&c->heaps[i].retired_life);
	}
	for (size_t i = 0; i < c->ncma; i++) {
		lat_free(&c->cma[i].lat);
		cma_bitmap_free(&c->cma[i].map);
	}
	free(c->heaps);
	for (size_t i = 0; i < c->nforgotten; i++)
		lat_free(&c->forgotten[i].lat);
	free(c->forgotten);
	cgroup_names_lskel__destroy(c->names);
	for (size_t i = 0; i < c->nremoved; i++)
		free(c->removed[i].path);
	free(c->removed);
	free(c->cma);
	free(c->holders);
	free(c->agg_seen);
	free(c->hist);
	free(c);
}

bool collector_fds(struct collector *c)
{
	return c->fds;
}
