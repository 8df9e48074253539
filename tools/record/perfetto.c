// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat analyze --perfetto OUT: the analysis as a Perfetto trace, a
 * Trace of TracePackets (perfetto_trace.proto holds the messages we write,
 * with upstream's numbers), encoded by pb.c, one packet written at a time.
 *
 * The tracks, each described once before any event:
 *   "heap H"                    counter, bytes: per heap, over all cgroups
 *   "heap H cgroup C"           counter, bytes: per cgroup x heap
 *       the bytes alive of the buffers allocated during the recording, at
 *       each change (a->steps), 0 at the start
 *   "cma A pages allocated"     counter, pages: per CMA area, the pages
 *       allocated during the recording less those released (negative when
 *       more were released than allocated)
 *   "cma A used bytes", "cma A largest free bytes"   counters, bytes: the
 *       area's state at the recording's snapshots and checkpoints
 *       (cma-state records; the largest free extent where the area's
 *       bitmap was readable), from the first such record on
 *   a process track per pid and a thread track per thread (comm as names):
 *       on a thread, a slice per allocation attempt "alloc H SIZE", from its
 *       ioctl's start (return - latency) to its return, and an instant
 *       "alloc failed H: CLASS" at a failure's return; on a process, an
 *       instant "limit refused H SIZE" per refusal by a limit.
 *
 * One packet sequence, no interned data: no packet needs incremental state.
 * The first still says the state is cleared, as readers skip a sequence's
 * track events until one does. Events are sorted by time (an end before a
 * begin at the same time, so that back-to-back slices do not nest).
 *
 * Times are the recording's CLOCK_MONOTONIC ns (timestamp_clock_id 3): the
 * first packet, a ClockSnapshot, makes it the trace's clock and pairs it
 * with CLOCK_REALTIME at the recording's start (its header), for wall time.
 *
 * Names users control (comm, heap, cgroup, CMA area) go through text_safe():
 * protobuf strings must be UTF-8, and labels should not hold controls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/collector.h"
#include "lib/hindex.h"
#include "lib/text.h"
#include "lib/util.h"
#include "out_file.h"
#include "pb.h"
#include "perfetto.h"

/* field numbers and enum values of perfetto_trace.proto (upstream's) */
enum {
	TRACE_PACKET = 1,

	TP_CLOCK_SNAPSHOT = 6, TP_TIMESTAMP = 8, TP_SEQUENCE_ID = 10, TP_TRACK_EVENT = 11,
	TP_SEQUENCE_FLAGS = 13, TP_CLOCK_ID = 58, TP_TRACK_DESCRIPTOR = 60,
	TP_FIRST_ON_SEQUENCE = 87,
	SEQ_INCREMENTAL_STATE_CLEARED = 1,

	CS_CLOCKS = 1, CS_PRIMARY_TRACE_CLOCK = 2,
	CLOCK_ID = 1, CLOCK_TIMESTAMP = 2,
	BUILTIN_CLOCK_REALTIME = 1, BUILTIN_CLOCK_MONOTONIC = 3,

	TD_UUID = 1, TD_NAME = 2, TD_PROCESS = 3, TD_THREAD = 4, TD_COUNTER = 8,
	PD_PID = 1, PD_NAME = 6,
	THD_PID = 1, THD_TID = 2, THD_NAME = 5,
	CD_UNIT = 3, UNIT_COUNT = 2, UNIT_SIZE_BYTES = 3,

	TE_DEBUG_ANNOTATIONS = 4, TE_TYPE = 9, TE_TRACK_UUID = 11, TE_NAME = 23,
	TE_COUNTER_VALUE = 30,
	TYPE_SLICE_BEGIN = 1, TYPE_SLICE_END = 2, TYPE_INSTANT = 3, TYPE_COUNTER = 4,

	DA_UINT = 3, DA_INT = 4, DA_STRING = 6, DA_NAME = 10,
};

#define SEQUENCE_ID	1	/* ours, the only one; 0 is invalid */

enum track_kind { T_USAGE, T_CMA, T_CMA_USED, T_CMA_FREE, T_PROCESS, T_THREAD };

/* a track; its uuid is its index + 1 (0 is the trace-global track) */
struct track {
	enum track_kind kind;
	uint32_t pid, tid;
	uint32_t prio;			/* which name wins among duplicates: lowest */
	const char *name;		/* comm, CMA area */
	const struct an_usage *use;
	int64_t sum;			/* a CMA area's pages, at the event being written */
};

/* E_SUM: a change (a CMA area's pages), summed in time order as written */
enum ev_kind { E_COUNTER, E_SUM, E_BEGIN, E_END, E_FAILED, E_LIMIT };

struct event {
	uint64_t ts;
	size_t seq;			/* the order made, among equal times */
	size_t track;
	enum ev_kind kind;
	bool early;			/* a slice's end after its begin: first at its time */
	int64_t value;			/* a counter's, or E_SUM's change */
	const void *src;		/* the an_alloc, rec_limit */
};

struct pf {
	const struct analysis *a;
	FILE *f;
	struct pb pkt, out;
	uint64_t start;			/* the header's time, or the first event's if earlier */
	struct track *tracks;
	size_t ntracks, ncounters;	/* the counters first: the usages', then the CMA areas' */
	struct hindex area_ix;		/* the areas' tracks by kind and name, from a->nuse */
	size_t nzeros;			/* the counters' first 0s: the first events made */
	size_t threads, nthreads, procs, nprocs;	/* then the threads, the processes */
	struct event *ev;
	size_t nev;
};

static const char *safe(const char *s, char *buf)
{
	return text_safe_buf(s, TEXT_MAX * 4, buf, TEXT_MAX);
}

static struct track *track_add(struct pf *p, size_t *cap)
{
	if (grow_array((void **)&p->tracks, cap, p->ntracks, sizeof(*p->tracks)))
		return NULL;
	memset(&p->tracks[p->ntracks], 0, sizeof(*p->tracks));
	return &p->tracks[p->ntracks++];
}

static int cmp_thread(const void *x, const void *y)
{
	const struct track *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return (a->prio > b->prio) - (a->prio < b->prio);
}

static int cmp_process(const void *x, const void *y)
{
	const struct track *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->prio > b->prio) - (a->prio < b->prio);
}

/* sort tracks [from, ntracks) with @cmp and keep the first of each equal run */
static size_t dedup(struct pf *p, size_t from, int (*cmp)(const void *, const void *),
		    bool thread)
{
	size_t n = p->ntracks - from, k = 0;
	struct track *t;

	if (!n)		/* no tracks at all: no array (NULL + 0 is undefined) */
		return 0;
	t = p->tracks + from;
	sort_ordered(t, n, sizeof(*t), cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || t[k - 1].pid != t[i].pid || (thread && t[k - 1].tid != t[i].tid))
			t[k++] = t[i];
	p->ntracks = from + k;
	return k;
}

static size_t find_thread(const struct pf *p, uint32_t pid, uint32_t tid)
{
	struct track key = { .pid = pid, .tid = tid, .prio = 0 }, *t;
	size_t lo = 0, hi = p->nthreads;

	/* the first of (pid, tid) sorts at or after key (prio 0): the one kept */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		t = &p->tracks[p->threads + mid];
		if (cmp_thread(t, &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return p->threads + lo;
}

static size_t find_process(const struct pf *p, uint32_t pid)
{
	size_t lo = 0, hi = p->nprocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->tracks[p->procs + mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return p->procs + lo;
}

struct area_key {
	enum track_kind kind;
	const char *name;
};

static uint64_t area_hash(enum track_kind kind, const char *area)
{
	return hindex_mix(kind ^ hindex_str(area));
}

static uint64_t area_hash_at(const void *ctx, size_t pos)
{
	const struct pf *p = ctx;
	const struct track *t = &p->tracks[p->a->nuse + pos];

	return area_hash(t->kind, t->name);
}

static bool area_match(const void *ctx, size_t pos, const void *key)
{
	const struct pf *p = ctx;
	const struct track *t = &p->tracks[p->a->nuse + pos];
	const struct area_key *k = key;

	return t->kind == k->kind && !strcmp(t->name, k->name);
}

/*
 * The CMA area's counter track of that kind among the first n tracks, n
 * when none; through an index: a crafted recording may name thousands of
 * areas, and each of its records one.
 */
static size_t area_track(const struct pf *p, size_t n, enum track_kind kind, const char *area)
{
	struct area_key k = { kind, area };
	size_t pos = hindex_find(&p->area_ix, area_hash(kind, area), p, area_match, &k);

	return pos == HINDEX_NONE || p->a->nuse + pos >= n ? n : p->a->nuse + pos;
}

/* an area's counter track of that kind, made if new; -ENOMEM */
static int area_track_add(struct pf *p, size_t *cap, enum track_kind kind, const char *area)
{
	struct track *t;

	if (area_track(p, p->ntracks, kind, area) < p->ntracks)
		return 0;
	if (hindex_room(&p->area_ix, p->ntracks - p->a->nuse, p, area_hash_at))
		return -ENOMEM;
	t = track_add(p, cap);
	if (!t)
		return -ENOMEM;
	t->kind = kind;
	t->name = area;
	hindex_put(&p->area_ix, area_hash(kind, area), p->ntracks - 1 - p->a->nuse);
	return 0;
}

/*
 * The tracks: usages and CMA areas (the counters), threads (sorted by pid,
 * tid), then processes (by pid). A thread is known from the recording's
 * process records (prio 0: their comm is the latest) or its allocations; a
 * process from its threads (named by its main thread, else by another) or
 * only from its limit refusals (unnamed).
 */
static int make_tracks(struct pf *p)
{
	const struct analysis *a = p->a;
	size_t cap = 0;
	struct track *t;

	for (size_t i = 0; i < a->nuse; i++) {
		t = track_add(p, &cap);
		if (!t)
			return -ENOMEM;
		t->kind = T_USAGE;
		t->use = &a->use[i];
	}
	for (size_t i = 0; i < a->ncma; i++)
		if (area_track_add(p, &cap, T_CMA, a->cma[i].area))
			return -ENOMEM;
	for (size_t i = 0; i < a->ncma_states; i++) {
		const struct rec_cma_state *s = &a->cma_states[i];

		if (area_track_add(p, &cap, T_CMA_USED, s->area) ||
		    ((s->flags & REC_CMA_EXTENTS) && area_track_add(p, &cap, T_CMA_FREE, s->area)))
			return -ENOMEM;
	}
	p->ncounters = p->ntracks;

	p->threads = p->ntracks;
	for (size_t i = 0; i < a->nthreads + a->nallocs; i++) {
		const struct an_thread *th = i < a->nthreads ? &a->threads[i] : NULL;
		const struct an_alloc *al = th ? NULL : &a->allocs[i - a->nthreads];

		t = track_add(p, &cap);
		if (!t)
			return -ENOMEM;
		t->kind = T_THREAD;
		t->pid = th ? th->pid : al->pid;
		t->tid = th ? th->tid : al->tid;
		t->name = th ? th->comm : al->comm;
		t->prio = th ? 0 : 1;
	}
	p->nthreads = dedup(p, p->threads, cmp_thread, true);

	p->procs = p->ntracks;
	for (size_t i = 0; i < p->nthreads + a->nlimits; i++) {
		struct track th = { .name = "", .prio = 2 };

		if (i < p->nthreads) {
			th = p->tracks[p->threads + i];
			th.prio = th.tid == th.pid ? 0 : 1;
		} else {
			th.pid = a->limits[i - p->nthreads].pid;
		}
		t = track_add(p, &cap);
		if (!t)
			return -ENOMEM;
		*t = (struct track){ .kind = T_PROCESS, .pid = th.pid, .name = th.name,
				     .prio = th.prio };
	}
	p->nprocs = dedup(p, p->procs, cmp_process, false);
	return 0;
}

static struct event *ev_add(struct pf *p, uint64_t ts, size_t track, enum ev_kind kind)
{
	struct event *e = &p->ev[p->nev];

	*e = (struct event){ .ts = ts, .seq = p->nev, .track = track, .kind = kind };
	p->nev++;
	return e;
}

static int cmp_event(const void *x, const void *y)
{
	const struct event *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->early != b->early)
		return b->early - a->early;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int make_events(struct pf *p)
{
	const struct analysis *a = p->a;
	size_t n = p->ncounters + a->nsteps + a->ncma + 2 * a->ncma_states + 3 * a->nallocs +
		   a->nlimits;
	struct event *e;

	p->ev = calloc(n ? n : 1, sizeof(*p->ev));
	if (!p->ev)
		return -ENOMEM;
	/* every counter starts at 0 but an area's state, which starts at its first */
	for (size_t i = 0; i < p->ncounters; i++)
		if (p->tracks[i].kind == T_USAGE || p->tracks[i].kind == T_CMA)
			ev_add(p, p->start, i, E_COUNTER);
	p->nzeros = p->nev;
	/* each usage's bytes after each change: analysis.c put them in time order */
	for (size_t i = 0; i < a->nsteps; i++)
		ev_add(p, a->steps[i].ts, a->steps[i].usage, E_COUNTER)->value = a->steps[i].bytes;
	for (size_t i = 0; i < a->ncma; i++) {
		const struct rec_cma *c = &a->cma[i];
		bool alloc = c->kind == REC_CMA_ALLOC && !c->result;

		if (!alloc && c->kind != REC_CMA_RELEASE)
			continue;	/* a failed allocation or a busy retry: no pages */
		/* a crafted count past INT64_MAX counts as that */
		int64_t n = c->count > INT64_MAX ? INT64_MAX : (int64_t)c->count;

		ev_add(p, c->ts, area_track(p, p->ncounters, T_CMA, c->area), E_SUM)->value =
			alloc ? n : -n;
	}
	for (size_t i = 0; i < a->nallocs; i++) {
		const struct an_alloc *al = &a->allocs[i];
		size_t t = find_thread(p, al->pid, al->tid);

		e = ev_add(p, al->ts > al->latency_ns ? al->ts - al->latency_ns : 0, t, E_BEGIN);
		e->src = al;
		e = ev_add(p, al->ts, t, E_END);
		e->early = e->ts > e[-1].ts;
		if (al->err)
			ev_add(p, al->ts, t, E_FAILED)->src = al;
	}
	for (size_t i = 0; i < a->nlimits; i++)
		ev_add(p, a->limits[i].ts, find_process(p, a->limits[i].pid), E_LIMIT)->src =
			&a->limits[i];
	for (size_t i = 0; i < a->ncma_states; i++) {
		const struct rec_cma_state *s = &a->cma_states[i];

		ev_add(p, s->ts, area_track(p, p->ncounters, T_CMA_USED, s->area),
		       E_COUNTER)->value = (int64_t)s->used_bytes;
		if (s->flags & REC_CMA_EXTENTS)
			ev_add(p, s->ts, area_track(p, p->ncounters, T_CMA_FREE, s->area),
			       E_COUNTER)->value = (int64_t)s->largest_free_bytes;
	}
	/* the counters' first 0s: before any event, whose time may precede the header's */
	for (size_t i = p->nzeros; i < p->nev; i++)
		if (p->ev[i].ts < p->start)
			p->start = p->ev[i].ts;
	for (size_t i = 0; i < p->nzeros; i++)
		p->ev[i].ts = p->start;
	sort_ordered(p->ev, p->nev, sizeof(*p->ev), cmp_event);
	return 0;
}

static void packet_begin(struct pf *p, uint64_t ts)
{
	pb_reset(&p->pkt);
	pb_uint(&p->pkt, TP_TIMESTAMP, ts);
	pb_uint(&p->pkt, TP_CLOCK_ID, BUILTIN_CLOCK_MONOTONIC);
	pb_uint(&p->pkt, TP_SEQUENCE_ID, SEQUENCE_ID);
}

static int packet_end(struct pf *p)
{
	pb_reset(&p->out);
	pb_bytes(&p->out, TRACE_PACKET, p->pkt.p, p->pkt.n);
	if (p->pkt.err || p->out.err)
		return -ENOMEM;
	if (fwrite(p->out.p, 1, p->out.n, p->f) != p->out.n)
		return -errno ?: -EIO;
	return 0;
}

/* the first packet: CLOCK_MONOTONIC is the trace's clock, at the recording's start */
static int clock_snapshot(struct pf *p)
{
	struct pb *b = &p->pkt;
	size_t cs, c;

	pb_reset(b);
	pb_uint(b, TP_SEQUENCE_ID, SEQUENCE_ID);
	pb_uint(b, TP_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
	pb_uint(b, TP_FIRST_ON_SEQUENCE, 1);
	cs = pb_begin(b, TP_CLOCK_SNAPSHOT);
	c = pb_begin(b, CS_CLOCKS);
	pb_uint(b, CLOCK_ID, BUILTIN_CLOCK_MONOTONIC);
	pb_uint(b, CLOCK_TIMESTAMP, p->a->hdr->mono_ns);
	pb_end(b, c);
	if (p->a->hdr->real_ns) {
		c = pb_begin(b, CS_CLOCKS);
		pb_uint(b, CLOCK_ID, BUILTIN_CLOCK_REALTIME);
		pb_uint(b, CLOCK_TIMESTAMP, p->a->hdr->real_ns);
		pb_end(b, c);
	}
	pb_uint(b, CS_PRIMARY_TRACE_CLOCK, BUILTIN_CLOCK_MONOTONIC);
	pb_end(b, cs);
	return packet_end(p);
}

static int describe(struct pf *p, size_t i)
{
	const struct track *t = &p->tracks[i];
	struct pb *b = &p->pkt;
	char s1[TEXT_MAX], s2[TEXT_MAX], name[3 * TEXT_MAX];
	size_t td, d;

	packet_begin(p, p->start);
	td = pb_begin(b, TP_TRACK_DESCRIPTOR);
	pb_uint(b, TD_UUID, i + 1);
	switch (t->kind) {
	case T_USAGE:
	case T_CMA:
	case T_CMA_USED:
	case T_CMA_FREE:
		if (t->kind == T_CMA)
			snprintf(name, sizeof(name), "cma %s pages allocated", safe(t->name, s1));
		else if (t->kind == T_CMA_USED)
			snprintf(name, sizeof(name), "cma %s used bytes", safe(t->name, s1));
		else if (t->kind == T_CMA_FREE)
			snprintf(name, sizeof(name), "cma %s largest free bytes", safe(t->name, s1));
		else if (t->use->cgroup_id)
			snprintf(name, sizeof(name), "heap %s cgroup %s", safe(t->use->heap, s1),
				 safe(an_cgroup_path(p->a, t->use->cgroup_id), s2));
		else
			snprintf(name, sizeof(name), "heap %s", safe(t->use->heap, s1));
		pb_str(b, TD_NAME, name);
		d = pb_begin(b, TD_COUNTER);
		pb_uint(b, CD_UNIT, t->kind == T_CMA ? UNIT_COUNT : UNIT_SIZE_BYTES);
		pb_end(b, d);
		break;
	case T_PROCESS:
		d = pb_begin(b, TD_PROCESS);
		pb_int(b, PD_PID, (int32_t)t->pid);
		if (*t->name)
			pb_str(b, PD_NAME, safe(t->name, s1));
		pb_end(b, d);
		break;
	case T_THREAD:
		d = pb_begin(b, TD_THREAD);
		pb_int(b, THD_PID, (int32_t)t->pid);
		pb_int(b, THD_TID, (int32_t)t->tid);
		if (*t->name)
			pb_str(b, THD_NAME, safe(t->name, s1));
		pb_end(b, d);
		break;
	}
	pb_end(b, td);
	return packet_end(p);
}

static void annotate_uint(struct pb *b, const char *name, uint64_t v)
{
	size_t d = pb_begin(b, TE_DEBUG_ANNOTATIONS);

	pb_str(b, DA_NAME, name);
	pb_uint(b, DA_UINT, v);
	pb_end(b, d);
}

static void annotate_int(struct pb *b, const char *name, int64_t v)
{
	size_t d = pb_begin(b, TE_DEBUG_ANNOTATIONS);

	pb_str(b, DA_NAME, name);
	pb_int(b, DA_INT, v);
	pb_end(b, d);
}

static void annotate_str(struct pb *b, const char *name, const char *v)
{
	char s[TEXT_MAX];
	size_t d = pb_begin(b, TE_DEBUG_ANNOTATIONS);

	pb_str(b, DA_NAME, name);
	pb_str(b, DA_STRING, safe(v, s));
	pb_end(b, d);
}

/* a slice's begin or an instant: its name and what it is about */
static void event_args(struct pf *p, const struct event *e)
{
	const struct an_alloc *al = e->src;
	const struct rec_limit *l = e->src;
	struct pb *b = &p->pkt;
	char s1[TEXT_MAX], sz[16], name[TEXT_MAX + 64];

	switch (e->kind) {
	case E_BEGIN:
		snprintf(name, sizeof(name), "alloc %s %s", safe(al->heap, s1),
			 format_size(al->requested, sz, sizeof(sz)));
		pb_str(b, TE_NAME, name);
		annotate_uint(b, "requested", al->requested);
		annotate_uint(b, "allocated", al->allocated);
		annotate_int(b, "errno", -(int64_t)al->err);
		annotate_uint(b, "inode", al->ino);
		annotate_str(b, "cgroup", an_cgroup_path(p->a, al->cgroup_id));
		break;
	case E_FAILED:
		snprintf(name, sizeof(name), "alloc failed %s: %s", safe(al->heap, s1),
			 fail_class_name(al->fail_class));
		pb_str(b, TE_NAME, name);
		annotate_uint(b, "requested", al->requested);
		annotate_int(b, "errno", -(int64_t)al->err);
		break;
	case E_LIMIT:
		snprintf(name, sizeof(name), "limit refused %s %s", safe(l->heap, s1),
			 format_size(l->requested, sz, sizeof(sz)));
		pb_str(b, TE_NAME, name);
		annotate_uint(b, "requested", l->requested);
		if (an_limit_known(l)) {	/* else not known (analysis.h) */
			annotate_uint(b, "usage", l->usage);
			annotate_uint(b, "limit", l->limit);
		}
		annotate_str(b, "backend", an_limit_backend(l->backend));
		annotate_str(b, "cgroup", an_cgroup_path(p->a, l->cgroup_id));
		if (an_limit_bound(l))
			annotate_str(b, "limited_cgroup", an_cgroup_path(p->a, l->bound_cgroup_id));
		break;
	default:
		break;
	}
}

static int write_event(struct pf *p, const struct event *e)
{
	static const int type[] = {
		[E_COUNTER] = TYPE_COUNTER, [E_SUM] = TYPE_COUNTER, [E_BEGIN] = TYPE_SLICE_BEGIN,
		[E_END] = TYPE_SLICE_END, [E_FAILED] = TYPE_INSTANT, [E_LIMIT] = TYPE_INSTANT,
	};
	struct pb *b = &p->pkt;
	size_t te;

	packet_begin(p, e->ts);
	te = pb_begin(b, TP_TRACK_EVENT);
	pb_uint(b, TE_TYPE, type[e->kind]);
	pb_uint(b, TE_TRACK_UUID, e->track + 1);
	if (e->kind == E_SUM) {
		int64_t *sum = &p->tracks[e->track].sum;

		if (__builtin_add_overflow(*sum, e->value, sum))
			*sum = e->value > 0 ? INT64_MAX : INT64_MIN;
		pb_int(b, TE_COUNTER_VALUE, *sum);
	} else if (e->kind == E_COUNTER) {
		pb_int(b, TE_COUNTER_VALUE, e->value);
	} else {
		event_args(p, e);
	}
	pb_end(b, te);
	return packet_end(p);
}

int perfetto_write(const struct analysis *a, const char *path, char *why, size_t why_len)
{
	struct pf p = { .a = a, .start = a->hdr->mono_ns };
	struct out_file o;
	int err;

	err = make_tracks(&p);
	if (!err)
		err = make_events(&p);
	if (err) {
		snprintf(why, why_len, "%s: %s", text_safe(path), strerror(-err));
		goto out;
	}
	err = out_file_open(&o, path, a->file, why, why_len);
	if (err)
		goto out;
	p.f = o.f;
	/* the tracks, processes before their threads */
	err = clock_snapshot(&p);
	for (size_t i = 0; i < p.ncounters && !err; i++)
		err = describe(&p, i);
	for (size_t i = 0; i < p.nprocs && !err; i++)
		err = describe(&p, p.procs + i);
	for (size_t i = 0; i < p.nthreads && !err; i++)
		err = describe(&p, p.threads + i);
	for (size_t i = 0; i < p.nev && !err; i++)
		err = write_event(&p, &p.ev[i]);
	if (err)
		snprintf(why, why_len, "failed to write %s: %s", text_safe(path), strerror(-err));
	err = out_file_close(&o, err, why, why_len);
out:
	pb_free(&p.pkt);
	pb_free(&p.out);
	free(p.tracks);
	hindex_free(&p.area_ix);
	free(p.ev);
	return err;
}
