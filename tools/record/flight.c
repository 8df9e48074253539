// SPDX-License-Identifier: GPL-2.0
/* heapstat record --flight: the last events, written out on a trigger (flight.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flight.h"
#include "lib/util.h"

#define RATE_NS		1000000000ull	/* one file a second at most */

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

/* a definition's key: a process record's tid, a stack record's id */
static uint64_t def_key(const struct rec *x)
{
	return x->type == REC_PROCESS ? x->process.tid : (uint64_t)1 << 32 | x->stack.id;
}

static uint64_t def_hash_at(const void *ctx, size_t pos)
{
	const struct flight *f = ctx;

	return hindex_mix(def_key(&f->defs[pos]));
}

static bool def_match(const void *ctx, size_t pos, const void *key)
{
	const struct flight *f = ctx;

	return def_key(&f->defs[pos]) == *(const uint64_t *)key;
}

/*
 * A process record replaces the task's last (the recorder writes one again
 * when the task is no longer what it said: an exec, a cgroup move, a tid
 * reused); a stack's id names one stack for ever.
 */
static int define(struct flight *f, const struct rec *x)
{
	uint64_t key = def_key(x);
	size_t i = hindex_find(&f->def_ix, hindex_mix(key), f, def_match, &key);
	struct rec copy;

	if (i != HINDEX_NONE) {
		if (x->type != REC_PROCESS)
			return 0;
		if (rec_copy(&copy, x))
			return -ENOMEM;
		rec_drop(&f->defs[i]);
		f->defs[i] = copy;
		return 0;
	}
	if (hindex_room(&f->def_ix, f->ndefs, f, def_hash_at) ||
	    grow_array((void **)&f->defs, &f->defscap, f->ndefs, sizeof(*f->defs)) ||
	    rec_copy(&f->defs[f->ndefs], x))
		return -ENOMEM;
	hindex_put(&f->def_ix, hindex_mix(key), f->ndefs++);
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

/* the pids the events kept name, sorted: a process record is needed for those */
static uint32_t *event_pids(const struct flight *f, size_t nev, size_t *n)
{
	uint32_t *v = malloc((nev + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < nev; i++)
		if (pid_of(event_at(f, i)))
			v[(*n)++] = pid_of(event_at(f, i));
	if (v)
		qsort(v, *n, sizeof(*v), cmp_u32);
	return v;
}

/* stacks always: an allocation kept may name one */
static bool needed(const struct rec *d, const uint32_t *pids, size_t npids)
{
	return d->type != REC_PROCESS ||
	       bsearch(&d->process.pid, pids, npids, sizeof(*pids), cmp_u32);
}

int flight_write(struct flight *f, const char *dir, const char *reason, const char *command,
		 int (*extra)(struct rec_writer *w, void *ctx), void *ctx, char *path,
		 size_t path_len, uint64_t *events)
{
	size_t nev = f->n + f->nstaged;
	struct rec_header h = { .command = command };
	struct rec_writer *w;
	struct timespec rt;
	uint64_t now = now_ns(), first = now;
	uint32_t *pids;
	size_t npids;
	char when[32];
	struct tm tm;
	int err = 0;

	if (f->files && now - f->last_write_ns < RATE_NS) {
		f->suppressed++;
		return 0;
	}
	/* the recording starts with its oldest event, so that no time is before it */
	for (size_t i = 0; i < nev; i++)
		if (ts_of(event_at(f, i)) && ts_of(event_at(f, i)) < first)
			first = ts_of(event_at(f, i));
	clock_gettime(CLOCK_REALTIME, &rt);
	h.mono_ns = first;
	h.real_ns = (uint64_t)rt.tv_sec * 1000000000ull + rt.tv_nsec - (now - first);
	gmtime_r(&rt.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	if ((size_t)snprintf(path, path_len, "%s/heapstat-%s.%03ldZ-%s.hsrec", dir, when,
			     rt.tv_nsec / 1000000, reason) >= path_len)
		return -ENAMETOOLONG;
	pids = event_pids(f, nev, &npids);
	if (!pids)
		return -ENOMEM;
	err = rec_writer_open(&w, path, &h);
	if (err) {
		free(pids);
		return err;
	}
	for (size_t i = 0; !err && i < f->ndefs; i++)
		if (needed(&f->defs[i], pids, npids))
			err = rec_write(w, &f->defs[i]);
	free(pids);
	for (size_t i = 0; !err && i < nev; i++)
		err = rec_write(w, event_at(f, i));
	if (!err && extra)
		err = extra(w, ctx);
	err = rec_writer_close(w, REC_STATUS_NONE) ?: err;
	if (err)
		return err;
	f->files++;
	f->last_write_ns = now;
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
		rec_drop(&f->defs[i]);
	free(f->ring);
	free(f->staged);
	free(f->defs);
	hindex_free(&f->def_ix);
	memset(f, 0, sizeof(*f));
}
