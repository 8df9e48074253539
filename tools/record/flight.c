// SPDX-License-Identifier: GPL-2.0
/* heapstat record --flight: the last events, written out on a trigger (flight.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flight.h"
#include "lib/util.h"

#define RATE_NS		1000000000ull	/* one file a second at most */
#define FLIGHT_SAME_NAME 100	/* files of one millisecond and reason, as -2 ... -100 */

/* the string fields a record owns in a copy */
static size_t strings_of(struct rec *x, const char **v[2])
{
	switch (x->type) {
	case REC_PROCESS:
		v[0] = &x->process.comm;
		v[1] = &x->process.cgroup;
		return 2;
	case REC_ALLOC:
		v[0] = &x->alloc.comm;
		v[1] = &x->alloc.heap;
		return 2;
	case REC_EXPORT:
		v[0] = &x->export.exporter;
		return 1;
	case REC_CMA:
		v[0] = &x->cma.area;
		return 1;
	case REC_LIMIT:
		v[0] = &x->limit.heap;
		v[1] = &x->limit.bound_cgroup;
		return 2;
	default:
		return 0;
	}
}

static void rec_drop(struct rec *x)
{
	const char **v[2];
	size_t n = strings_of(x, v);

	for (size_t i = 0; i < n; i++)
		free((char *)*v[i]);
	if (x->type == REC_STACK && x->stack.frames) {
		for (uint32_t i = 0; i < x->stack.nframes; i++) {
			free((char *)x->stack.frames[i].sym);
			free((char *)x->stack.frames[i].binary);
			free((char *)x->stack.frames[i].build_id);
		}
		free((void *)x->stack.frames);
	}
	memset(x, 0, sizeof(*x));
}

static int rec_copy(struct rec *dst, const struct rec *src)
{
	const char **v[2];
	size_t n;

	*dst = *src;
	n = strings_of(dst, v);
	for (size_t i = 0; i < n; i++)
		*v[i] = NULL;
	for (size_t i = 0; i < n; i++) {
		const char **sv[2];

		strings_of((struct rec *)src, sv);
		*v[i] = strdup(*sv[i] ? *sv[i] : "");
		if (!*v[i])
			goto nomem;
	}
	if (src->type == REC_STACK) {
		struct rec_frame *fr = calloc(src->stack.nframes + 1, sizeof(*fr));

		dst->stack.frames = fr;
		if (!fr) {
			dst->stack.nframes = 0;
			goto nomem;
		}
		/* every frame's strings its own: rec_drop() frees them, NULL or not */
		for (uint32_t i = 0; i < src->stack.nframes; i++) {
			const struct rec_frame *sf = &src->stack.frames[i];

			fr[i] = *sf;
			fr[i].sym = strdup(sf->sym ? sf->sym : "");
			fr[i].binary = strdup(sf->binary ? sf->binary : "");
			fr[i].build_id = strdup(sf->build_id ? sf->build_id : "");
			if (!fr[i].sym || !fr[i].binary || !fr[i].build_id)
				goto nomem;
		}
	}
	return 0;
nomem:
	rec_drop(dst);
	return -ENOMEM;
}

int flight_init(struct flight *f, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->ring = calloc(n, sizeof(*f->ring));
	if (!f->ring)
		return -ENOMEM;
	f->cap = n;
	return 0;
}

static const struct rec *event_at(const struct flight *f, size_t i)
{
	return i < f->n ? &f->ring[(f->head + i) % f->cap] : &f->staged[i - f->n];
}

static uint32_t pid_of(const struct rec *x)
{
	switch (x->type) {
	case REC_ALLOC: return x->alloc.pid;
	case REC_EXPORT: return x->export.pid;
	case REC_FD: return x->fd.pid;
	case REC_LIMIT: return x->limit.pid;
	default: return 0;
	}
}

/*
 * The definitions: a stack record by its id; a process record by what it
 * says, the task (tid and pid) where it is (its cgroup), one for each place a
 * task was described in, so that its events from before a move still name
 * their cgroup.
 */
static bool same_def(const struct rec *a, const struct rec *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == REC_STACK)
		return a->stack.id == b->stack.id;
	return a->process.tid == b->process.tid && a->process.pid == b->process.pid &&
	       a->process.cgroup_id == b->process.cgroup_id;
}

static uint64_t def_hash(const struct rec *x)
{
	if (x->type == REC_STACK)
		return hindex_mix((uint64_t)1 << 63 | x->stack.id);
	return hindex_mix((uint64_t)x->process.pid << 32 | x->process.tid) ^
	       hindex_mix(x->process.cgroup_id);
}

static uint64_t def_hash_at(const void *ctx, size_t pos)
{
	const struct flight *f = ctx;

	return def_hash(&f->defs[pos].r);
}

static bool def_match(const void *ctx, size_t pos, const void *key)
{
	const struct flight *f = ctx;

	return same_def(&f->defs[pos].r, key);
}

/* the pids the events kept name, sorted: a process record is needed for those */
static uint32_t *event_pids(const struct flight *f, size_t nev, size_t *n)
{
	uint32_t *v = malloc((nev + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < nev; i++)
		if (pid_of(event_at(f, i)))
			v[(*n)++] = pid_of(event_at(f, i));
	if (v)
		sort_ordered(v, *n, sizeof(*v), cmp_u32);
	return v;
}

/* stacks always: an allocation kept may name one */
static bool needed(const struct rec *d, const uint32_t *pids, size_t npids)
{
	return d->type != REC_PROCESS ||
	       bsearch(&d->process.pid, pids, npids, sizeof(*pids), cmp_u32);
}

static const struct flight *order_of;

static int cmp_seq(const void *x, const void *y)
{
	uint64_t a = order_of->defs[*(const size_t *)x].seq, b = order_of->defs[*(const size_t *)y].seq;

	return (a > b) - (a < b);
}

/* by tid, each tid's last defined first; stacks after */
static int cmp_tid_last(const void *x, const void *y)
{
	const struct flight_def *a = &order_of->defs[*(const size_t *)x];
	const struct flight_def *b = &order_of->defs[*(const size_t *)y];
	uint64_t ka = a->r.type == REC_PROCESS ? a->r.process.tid : UINT64_MAX;
	uint64_t kb = b->r.type == REC_PROCESS ? b->r.process.tid : UINT64_MAX;

	if (ka != kb)
		return (ka > kb) - (ka < kb);
	return (a->seq < b->seq) - (a->seq > b->seq);
}

/*
 * Drop the process records of tasks described again since (moved, or their
 * tid reused) that no event kept names: the task's last one stays, for the
 * events to come.
 */
static int prune(struct flight *f)
{
	size_t npids, out = 0, *order = malloc((f->ndefs + 1) * sizeof(*order));
	uint32_t *pids = event_pids(f, f->n + f->nstaged, &npids);
	bool *drop = calloc(f->ndefs + 1, sizeof(*drop));
	int err = 0;

	if (!order || !pids || !drop) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < f->ndefs; i++)
		order[i] = i;
	order_of = f;
	sort_ordered(order, f->ndefs, sizeof(*order), cmp_tid_last);
	for (size_t k = 1; k < f->ndefs; k++) {
		const struct rec *d = &f->defs[order[k]].r, *newer = &f->defs[order[k - 1]].r;

		drop[order[k]] = d->type == REC_PROCESS && newer->type == REC_PROCESS &&
				 newer->process.tid == d->process.tid && !needed(d, pids, npids);
	}
	for (size_t i = 0; i < f->ndefs; i++) {
		if (drop[i])
			rec_drop(&f->defs[i].r);
		else
			f->defs[out++] = f->defs[i];
	}
	f->ndefs = out;
	err = hindex_rebuild(&f->def_ix, f->ndefs, f, def_hash_at);
out:
	f->pruned_at = f->ndefs;
	free(order);
	free(pids);
	free(drop);
	return err;
}

/* a definition: made, or (a task back where it was once) made the last again */
static int define(struct flight *f, const struct rec *x)
{
	uint64_t hash = def_hash(x);
	size_t i = hindex_find(&f->def_ix, hash, f, def_match, x);

	if (i != HINDEX_NONE) {
		f->defs[i].seq = ++f->def_seq;
		return 0;
	}
	if (f->ndefs >= 2 * f->pruned_at + 64 && prune(f))
		return -ENOMEM;
	if (hindex_room(&f->def_ix, f->ndefs, f, def_hash_at) ||
	    grow_array((void **)&f->defs, &f->defscap, f->ndefs, sizeof(*f->defs)) ||
	    rec_copy(&f->defs[f->ndefs].r, x))
		return -ENOMEM;
	f->defs[f->ndefs].seq = ++f->def_seq;
	hindex_put(&f->def_ix, hash, f->ndefs++);
	return 0;
}

int flight_add(struct flight *f, const struct rec *x)
{
	if (x->type == REC_PROCESS || x->type == REC_STACK)
		return define(f, x);
	if (!rec_type_is_event(x->type))
		return 0;	/* drops, checkpoints: the file gets its own */
	if (grow_array((void **)&f->staged, &f->stagedcap, f->nstaged, sizeof(*f->staged)))
		return -ENOMEM;
	return rec_copy(&f->staged[f->nstaged], x) ?: (f->nstaged++, 0);
}

void flight_commit(struct flight *f)
{
	for (size_t i = 0; i < f->nstaged; i++) {
		size_t at = (f->head + f->n) % f->cap;

		if (f->n == f->cap) {
			rec_drop(&f->ring[f->head]);
			f->head = (f->head + 1) % f->cap;
			f->n--;
		}
		f->ring[at] = f->staged[i];
		f->n++;
	}
	f->nstaged = 0;
	f->holding = false;
}

bool flight_due(const struct flight *f)
{
	return !f->last_write_ns || now_ns() - f->last_write_ns >= RATE_NS;
}

void flight_hold(struct flight *f)
{
	f->held = f->nstaged;
	f->holding = true;
}

int flight_write_releases(const struct flight *f, struct rec_writer *w, uint64_t until_ns)
{
	int err = 0;

	for (size_t i = f->holding ? f->held : f->nstaged; !err && i < f->nstaged; i++)
		if (f->staged[i].type == REC_RELEASE && f->staged[i].release.ts <= until_ns)
			err = rec_write(w, &f->staged[i]);
	return err;
}

static uint64_t ts_of(const struct rec *x)
{
	switch (x->type) {
	case REC_ALLOC: return x->alloc.ts;
	case REC_EXPORT: return x->export.ts;
	case REC_RELEASE: return x->release.ts;
	case REC_FD: return x->fd.ts;
	case REC_CMA: return x->cma.ts;
	case REC_LIMIT: return x->limit.ts;
	default: return 0;
	}
}

int flight_write(struct flight *f, const char *dir, const char *reason, const char *command,
		 int (*extra)(struct rec_writer *w, void *ctx), void *ctx, char *path,
		 size_t path_len, uint64_t *events)
{
	size_t nev = f->n + (f->holding ? f->held : f->nstaged);
	struct rec_header h = { .command = command, .untraced = f->untraced };
	struct rec_writer *w;
	struct timespec rt;
	uint64_t now = now_ns(), first = now;
	uint32_t *pids;
	size_t npids, *order;
	char when[32];
	struct tm tm;
	int err = 0;

	if (!flight_due(f)) {
		f->suppressed++;
		return 0;
	}
	/* the recording starts with its oldest event, so that no time is before it */
	for (size_t i = 0; i < nev; i++)
		if (ts_of(event_at(f, i)) && ts_of(event_at(f, i)) < first)
			first = ts_of(event_at(f, i));
	clock_gettime(CLOCK_REALTIME, &rt);
	h.mono_ns = first;
	h.real_ns = first + real_minus_mono_ns();
	gmtime_r(&rt.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	pids = event_pids(f, nev, &npids);
	order = malloc((f->ndefs + 1) * sizeof(*order));
	err = pids && order ? -EEXIST : -ENOMEM;
	/* a file of its own: another recorder's of the same millisecond and reason is left whole */
	for (int k = 1; err == -EEXIST && k <= FLIGHT_SAME_NAME; k++) {
		char nth[16] = "";

		if (k > 1)
			snprintf(nth, sizeof(nth), "-%d", k);
		if ((size_t)snprintf(path, path_len, "%s/heapstat-%s.%03ldZ%s-%s.hsrec", dir, when,
				     rt.tv_nsec / 1000000, nth, reason) >= path_len)
			err = -ENAMETOOLONG;
		else
			err = rec_writer_create(&w, path, &h);
	}
	if (err) {
		f->last_write_ns = now_ns();	/* a failure a second too: said once a second */
		free(pids);
		free(order);
		return err;
	}
	/* in the order defined last: a task's last description is the one that holds */
	order_of = f;
	for (size_t i = 0; i < f->ndefs; i++)
		order[i] = i;
	sort_ordered(order, f->ndefs, sizeof(*order), cmp_seq);
	for (size_t i = 0; !err && i < f->ndefs; i++)
		if (needed(&f->defs[order[i]].r, pids, npids))
			err = rec_write(w, &f->defs[order[i]].r);
	free(pids);
	free(order);
	for (size_t i = 0; !err && i < nev; i++)
		err = rec_write(w, event_at(f, i));
	if (!err && extra)
		err = extra(w, ctx);
	err = rec_writer_close(w, REC_STATUS_NONE) ?: err;
	/* a second from the end: a slow write counts too, and a failed one */
	f->last_write_ns = now_ns();
	if (err) {
		unlink(path);	/* not whole: not left for a reader to take for one */
		return err;
	}
	f->files++;
	*events = nev;
	return 1;
}

void flight_free(struct flight *f)
{
	for (size_t i = 0; i < f->n; i++)
		rec_drop(&f->ring[(f->head + i) % f->cap]);
	for (size_t i = 0; i < f->nstaged; i++)
		rec_drop(&f->staged[i]);
	for (size_t i = 0; i < f->ndefs; i++)
		rec_drop(&f->defs[i].r);
	free(f->ring);
	free(f->staged);
	free(f->defs);
	hindex_free(&f->def_ix);
	memset(f, 0, sizeof(*f));
}
