// SPDX-License-Identifier: GPL-2.0
/*
 * The analysis of a recording (analysis.h): one pass over its records
 * builds the buffers allocated while recorded, each cgroup x heap's bytes
 * over time and their peak, every allocation attempt, the limit refusals,
 * the CMA events, and per heap the allocations' latencies and the buffers'
 * lifetimes; then the leaks (alive at the end) are sorted out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hindex.h"
#include "lib/text.h"
#include "lib/util.h"
#include "analysis.h"

/* @cap a power of two; the inode mixed with this process's seed: a crafted
 * recording's inodes, made to share a slot, do not (hindex.c) */
static struct an_buffer *probe(struct an_buffer *v, size_t cap, uint64_t ino)
{
	for (size_t i = hindex_mix(ino) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (v[i].ino == ino || !v[i].ino)
			return &v[i];
}

static struct an_buffer *buf_find(struct analysis *a, uint64_t ino)
{
	struct an_buffer *b = a->bufcap ? probe(a->bufs, a->bufcap, ino) : NULL;

	return b && b->ino && !b->early ? b : NULL;
}

/* ino's slot, made if new (the table kept at most half full) */
static struct an_buffer *buf_add(struct analysis *a, uint64_t ino)
{
	struct an_buffer *b;

	if ((a->nbufs + 1) * 2 > a->bufcap) {
		size_t cap = a->bufcap ? a->bufcap * 2 : 1024;
		struct an_buffer *v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		for (size_t i = 0; i < a->bufcap; i++)
			if (a->bufs[i].ino)
				*probe(v, cap, a->bufs[i].ino) = a->bufs[i];
		free(a->bufs);
		a->bufs = v;
		a->bufcap = cap;
	}
	b = probe(a->bufs, a->bufcap, ino);
	if (!b->ino)
		a->nbufs++;
	return b;
}

/*
 * The slot of a buffer not allocated while recorded, or not yet: records of
 * it may come before its allocation's. The fd the allocation returns is made
 * inside its ioctl, and a thread closing it at once may release the buffer
 * before the ioctl's exit records the allocation.
 */
static struct an_buffer *early_slot(struct analysis *a, uint64_t ino)
{
	struct an_buffer *b = buf_add(a, ino);

	if (b && !b->ino)
		*b = (struct an_buffer){ .ino = ino, .early = true };
	return b;
}

/* append one element of size to *v, growing it: the new element, zeroed */
static void *push(void **v, size_t *n, size_t *cap, size_t size)
{
	char *e;

	if (grow_array(v, cap, *n, size))
		return NULL;
	e = (char *)*v + *n * size;
	memset(e, 0, size);
	(*n)++;
	return e;
}

/* ---- indexes: a recording may name many cgroups, threads and cells ---- */

struct use_key {
	uint64_t cgroup_id;
	const char *heap;
};

static uint64_t use_hash(uint64_t cgroup_id, const char *heap)
{
	return hindex_mix(cgroup_id ^ hindex_str(heap));
}

static uint64_t use_hash_at(const void *ctx, size_t pos)
{
	const struct analysis *a = ctx;

	return use_hash(a->use[pos].cgroup_id, a->use[pos].heap);
}

static bool use_match(const void *ctx, size_t pos, const void *key)
{
	const struct analysis *a = ctx;
	const struct use_key *k = key;

	return a->use[pos].cgroup_id == k->cgroup_id && !strcmp(a->use[pos].heap, k->heap);
}

static int usage_index(struct analysis *a, uint64_t cgroup_id, const char *heap, uint32_t *idx)
{
	struct use_key key = { cgroup_id, heap };
	uint64_t hash = use_hash(cgroup_id, heap);
	size_t pos = hindex_find(&a->use_ix, hash, a, use_match, &key);
	struct an_usage *u;

	if (pos != HINDEX_NONE) {
		*idx = pos;
		return 0;
	}
	if (hindex_room(&a->use_ix, a->nuse, a, use_hash_at))
		return -ENOMEM;
	u = push((void **)&a->use, &a->nuse, &a->usecap, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->cgroup_id = cgroup_id;
	u->heap = heap;
	*idx = a->nuse - 1;
	hindex_put(&a->use_ix, hash, *idx);
	return 0;
}

/* the row of cgroup @cgroup_id (0: all of them) x @heap; NULL when none */
const struct an_usage *an_usage_of(const struct analysis *a, uint64_t cgroup_id, const char *heap)
{
	struct use_key key = { cgroup_id, heap };
	size_t pos = hindex_find(&a->use_ix, use_hash(cgroup_id, heap), a, use_match, &key);

	return pos == HINDEX_NONE ? NULL : &a->use[pos];
}

/*
 * size bytes more (or, freed, fewer) for the cgroup x heap and for the heap,
 * at ts; a crafted size past INT64_MAX counts as that, and usage stops at
 * its ends instead of wrapping
 */
static int account(struct analysis *a, uint64_t cgroup_id, const char *heap, uint64_t size,
		   bool freed, uint64_t ts)
{
	int64_t bytes = size > INT64_MAX ? INT64_MAX : (int64_t)size;
	uint64_t ids[2] = { cgroup_id, 0 };

	/* a cgroup id of 0 (crafted: a task's is never 0) is the heap's row: once */
	for (int i = 0; i < (cgroup_id ? 2 : 1); i++) {
		struct an_usage *u;
		struct an_step *s;
		uint32_t idx;

		if (usage_index(a, ids[i], heap, &idx))
			return -ENOMEM;
		u = &a->use[idx];
		if (freed ? __builtin_sub_overflow(u->bytes, bytes, &u->bytes) :
			    __builtin_add_overflow(u->bytes, bytes, &u->bytes))
			u->bytes = freed ? INT64_MIN : INT64_MAX;
		/* its peak is the time order's: steps_in_time_order() */
		s = push((void **)&a->steps, &a->nsteps, &a->stepcap, sizeof(*s));
		if (!s)
			return -ENOMEM;
		*s = (struct an_step){ .ts = ts, .usage = idx, .bytes = u->bytes,
				       .seq = a->nsteps - 1 };
	}
	return 0;
}

/*
 * Arrays of elements named by a heap's name, their first member (the heaps
 * themselves, and each heap's latencies and lifetimes), indexed by it: a
 * crafted recording may name thousands of heaps, and each of its records one.
 */
struct named {
	const void *base;
	size_t size;			/* of an element */
};

static const char *name_at(const struct named *v, size_t pos)
{
	return *(const char *const *)((const char *)v->base + pos * v->size);
}

static uint64_t name_hash_at(const void *ctx, size_t pos)
{
	return hindex_str(name_at(ctx, pos));
}

static bool name_match(const void *ctx, size_t pos, const void *key)
{
	return !strcmp(name_at(ctx, pos), key);
}

/* @name's position in the @n elements of @size at @base, HINDEX_NONE when not there */
static size_t name_find(const struct hindex *ix, const void *base, size_t size, const char *name)
{
	struct named v = { base, size };

	return hindex_find(ix, hindex_str(name), &v, name_match, name);
}

/* one more of them: @name pushed at the end of *@v, its element (zeroed but for it) */
static void *name_push(struct hindex *ix, void **v, size_t *n, size_t *cap, size_t size,
		       const char *name)
{
	struct named all = { *v, size };
	const char **e;

	if (hindex_room(ix, *n, &all, name_hash_at))
		return NULL;
	e = push(v, n, cap, size);
	if (!e)
		return NULL;
	*e = name;
	hindex_put(ix, hindex_str(name), *n - 1);
	return e;
}

static struct an_dist *dist_of(struct an_dist **v, size_t *n, size_t *cap, struct hindex *ix,
			       const char *heap)
{
	size_t pos = name_find(ix, *v, sizeof(**v), heap);

	if (pos != HINDEX_NONE)
		return &(*v)[pos];
	return name_push(ix, (void **)v, n, cap, sizeof(**v), heap);
}

static int dist_add(struct an_dist **v, size_t *n, size_t *cap, struct hindex *ix,
		    const char *heap, uint64_t x)
{
	struct an_dist *d = dist_of(v, n, cap, ix, heap);

	if (!d || grow_array((void **)&d->v, &d->cap, d->n, sizeof(*d->v)))
		return -ENOMEM;
	d->v[d->n++] = x;
	return 0;
}

static uint64_t cg_hash_at(const void *ctx, size_t pos)
{
	const struct analysis *a = ctx;

	return hindex_mix(a->cgs[pos].id);
}

static bool cg_match(const void *ctx, size_t pos, const void *key)
{
	const struct analysis *a = ctx;

	return a->cgs[pos].id == *(const uint64_t *)key;
}

/* cgroup @id's path, from the first record that names it (a process, a limit's bound one) */
static int name_cgroup(struct analysis *a, uint64_t id, const char *path)
{
	struct an_cgroup *c;

	if (hindex_find(&a->cg_ix, hindex_mix(id), a, cg_match, &id) != HINDEX_NONE)
		return 0;
	if (hindex_room(&a->cg_ix, a->ncgs, a, cg_hash_at))
		return -ENOMEM;
	c = push((void **)&a->cgs, &a->ncgs, &a->cgcap, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct an_cgroup){ id, path };
	hindex_put(&a->cg_ix, hindex_mix(id), a->ncgs - 1);
	return 0;
}

static uint64_t thread_hash(uint32_t pid, uint32_t tid)
{
	return hindex_mix((uint64_t)pid << 32 | tid);
}

static uint64_t thread_hash_at(const void *ctx, size_t pos)
{
	const struct analysis *a = ctx;

	return thread_hash(a->threads[pos].pid, a->threads[pos].tid);
}

static bool thread_match(const void *ctx, size_t pos, const void *key)
{
	const struct analysis *a = ctx;
	const struct rec_process *p = key;

	return a->threads[pos].tid == p->tid && a->threads[pos].pid == p->pid;
}

static int fold_process(struct analysis *a, const struct rec_process *p)
{
	uint64_t hash = thread_hash(p->pid, p->tid);
	size_t i = hindex_find(&a->thread_ix, hash, a, thread_match, p);
	struct an_thread *t;

	if (i != HINDEX_NONE) {
		t = &a->threads[i];
	} else {
		if (hindex_room(&a->thread_ix, a->nthreads, a, thread_hash_at))
			return -ENOMEM;
		t = push((void **)&a->threads, &a->nthreads, &a->threadcap, sizeof(*t));
		if (!t)
			return -ENOMEM;
		hindex_put(&a->thread_ix, hash, a->nthreads - 1);
	}
	*t = (struct an_thread){ p->pid, p->tid, p->comm, p->cgroup_id };
	return name_cgroup(a, p->cgroup_id, p->cgroup);
}

/* @heap among the heaps the recording names */
static int heap_named(struct analysis *a, const char *heap)
{
	if (!heap[0] || an_heap_named(a, heap))
		return 0;
	return name_push(&a->heap_ix, (void **)&a->heaps, &a->nheaps, &a->heapcap,
			 sizeof(*a->heaps), heap) ? 0 : -ENOMEM;
}

static int heaps_named(struct analysis *a, const struct rec_heap_bytes *v, uint32_t n)
{
	int err = 0;

	for (uint32_t i = 0; !err && i < n; i++)
		err = heap_named(a, v[i].heap);
	return err;
}

/* a buffer allocated while recorded released at @ts */
static int release(struct analysis *a, struct an_buffer *b, uint64_t ts)
{
	b->released = true;
	b->released_ts = ts;
	if (dist_add(&a->lifetime, &a->nlifetime, &a->lifecap, &a->life_ix, b->heap,
		     ts > b->ts ? ts - b->ts : 0))
		return -ENOMEM;
	/* released inside its allocation's ioctl (timed at its end): at that end, not before */
	return account(a, b->cgroup_id, b->heap, b->size, true, ts > b->ts ? ts : b->ts);
}

static int fold_alloc(struct analysis *a, const struct rec_alloc *x)
{
	struct an_alloc *al = push((void **)&a->allocs, &a->nallocs, &a->alloccap, sizeof(*al));
	struct an_buffer *b, early;
	int err;

	if (!al)
		return -ENOMEM;
	*al = (struct an_alloc){ .ts = x->ts, .latency_ns = x->latency_ns, .requested = x->requested,
				 .allocated = x->allocated, .cgroup_id = x->cgroup_id, .ino = x->ino,
				 .pid = x->pid, .tid = x->tid, .fail_class = x->fail_class,
				 .stack_id = x->stack_id, .err = x->err, .comm = x->comm,
				 .heap = x->heap };
	if (heap_named(a, x->heap))
		return -ENOMEM;
	if (x->err) {
		if (x->fail_class < FAIL_CLASSES)
			a->failures[x->fail_class]++;
		a->failed++;
		return 0;
	}
	if (dist_add(&a->latency, &a->nlatency, &a->latcap, &a->lat_ix, x->heap, x->latency_ns))
		return -ENOMEM;
	if (!x->ino)
		return 0;
	b = buf_add(a, x->ino);
	if (!b)
		return -ENOMEM;
	/* what came before this record (early_slot()): its fds, a release */
	early = b->ino && b->early ? *b : (struct an_buffer){};
	*b = (struct an_buffer){ .ino = x->ino, .ts = x->ts, .size = x->allocated,
				 .cgroup_id = x->cgroup_id, .pid = x->pid, .tid = x->tid,
				 .stack_id = x->stack_id, .comm = x->comm, .heap = x->heap };
	memcpy(b->fds, early.fds, sizeof(b->fds));
	b->in_final = early.in_final;
	b->holders = early.holders;
	b->holder = early.holder;
	err = account(a, b->cgroup_id, b->heap, b->size, false, b->ts);
	return err || !early.released ? err : release(a, b, early.released_ts);
}

static int fold_release(struct analysis *a, const struct rec_release *x)
{
	struct an_buffer *b = buf_find(a, x->ino);

	if (b)
		return b->released ? 0 : release(a, b, x->ts);
	if (!x->ino)
		return 0;
	/* not allocated while recorded, or not yet: kept for its allocation's record */
	b = early_slot(a, x->ino);
	if (!b)
		return -ENOMEM;
	if (!b->released) {
		b->released = true;
		b->released_ts = x->ts;
	}
	return 0;
}

/*
 * What a recording's stacks may take as text. A frame of five bytes names a
 * symbol and a binary of up to 64 KiB each, written once in the file: the
 * text is bounded, not the file's bytes times a thousand. The recorder writes
 * 128 frames at most, a symbol of 320 bytes at most.
 */
#define STACK_FRAMES_MAX	256		/* then a line of how many more */
#define FRAME_NAME_MAX		512		/* a symbol's or a binary's bytes shown */
#define STACKS_TEXT_MAX		(64u << 20)	/* all stacks: then one line each */

static size_t name_len(const char *s)
{
	return strnlen(s, FRAME_NAME_MAX);
}

/*
 * A stack record, as text: each frame "function+0x1a (binary)", or its
 * offset in the binary when unsymbolized ("0x..." for a kernel address).
 */
static int fold_stack(struct analysis *a, const struct rec_stack *x)
{
	uint32_t n = x->nframes < STACK_FRAMES_MAX ? x->nframes : STACK_FRAMES_MAX;
	size_t len = 64, lines;
	struct an_stack *st;
	char *p;

	for (uint32_t i = 0; i < n; i++)
		len += name_len(x->frames[i].sym) + name_len(x->frames[i].binary) + 32;
	if (a->stack_text + len > STACKS_TEXT_MAX) {
		n = 0;
		len = 128;
	}
	lines = n + (n < x->nframes);
	st = push((void **)&a->stacks, &a->nstacks, &a->stackcap, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->frames = malloc(lines * sizeof(*st->frames) + len + 1);
	if (!st->frames) {
		a->nstacks--;
		return -ENOMEM;
	}
	st->id = x->id;
	st->n = lines;
	p = (char *)(st->frames + lines);
	for (uint32_t i = 0; i < n; i++) {
		const struct rec_frame *f = &x->frames[i];
		const char *bin = f->binary[0] ? f->binary : "?";

		st->frames[i] = p;
		if (f->sym[0])
			p += sprintf(p, "%.*s (%.*s)", FRAME_NAME_MAX, f->sym, FRAME_NAME_MAX, bin) + 1;
		else
			p += sprintf(p, "0x%" PRIx64 " (%.*s)", f->offset, FRAME_NAME_MAX, bin) + 1;
	}
	if (n < x->nframes) {
		st->frames[n] = p;
		if (n)
			p += sprintf(p, "(%u frames more)", x->nframes - n) + 1;
		else
			p += sprintf(p, "(%u frames not shown: the recording's stacks pass %u MiB "
				     "of text)", x->nframes, STACKS_TEXT_MAX >> 20) + 1;
	}
	a->stack_text += p - (char *)st->frames;
	return 0;
}

static void seen(struct analysis *a, uint64_t ts)
{
	if (!a->first_ts || ts < a->first_ts)
		a->first_ts = ts;
	if (ts > a->last_ts)
		a->last_ts = ts;
}

static int fold(struct analysis *a, const struct rec *x, bool *final_snap)
{
	struct an_buffer *b;
	void *e;

	if (rec_type_is_event(x->type))
		a->events++;
	switch (x->type) {
	case REC_PROCESS:
		return fold_process(a, &x->process);
	case REC_ALLOC:
		seen(a, x->alloc.ts);
		return fold_alloc(a, &x->alloc);
	case REC_EXPORT:
		seen(a, x->export.ts);
		return 0;
	case REC_RELEASE:
		seen(a, x->release.ts);
		return fold_release(a, &x->release);
	case REC_LIMIT:
		seen(a, x->limit.ts);
		e = push((void **)&a->limits, &a->nlimits, &a->limitcap, sizeof(x->limit));
		if (!e)
			return -ENOMEM;
		memcpy(e, &x->limit, sizeof(x->limit));
		if (heap_named(a, x->limit.heap))
			return -ENOMEM;
		/* 1.1's say no path ("") */
		return x->limit.bound_cgroup[0] ?
		       name_cgroup(a, x->limit.bound_cgroup_id, x->limit.bound_cgroup) : 0;
	case REC_CMA:
		seen(a, x->cma.ts);
		e = push((void **)&a->cma, &a->ncma, &a->cmacap, sizeof(x->cma));
		if (!e)
			return -ENOMEM;
		memcpy(e, &x->cma, sizeof(x->cma));
		return 0;
	case REC_CMA_STATE:
		e = push((void **)&a->cma_states, &a->ncma_states, &a->cmastatecap,
			 sizeof(x->cma_state));
		if (!e)
			return -ENOMEM;
		memcpy(e, &x->cma_state, sizeof(x->cma_state));
		return 0;
	case REC_FD:
		seen(a, x->fd.ts);
		if (x->fd.kind > REC_FD_TAKEN)
			return 0;	/* a later version's kind */
		a->fds[x->fd.kind]++;
		if (!x->fd.ino)
			return 0;
		/* its buffer's, or kept for its allocation's record (early_slot()) */
		b = buf_find(a, x->fd.ino) ?: early_slot(a, x->fd.ino);
		if (!b)
			return -ENOMEM;
		b->fds[x->fd.kind]++;
		return 0;
	case REC_SNAP_BEGIN:
		*final_snap = x->snap_begin.when == REC_SNAP_FINAL;
		if (x->snap_begin.when == REC_SNAP_START || *final_snap) {
			a->snap_source[x->snap_begin.when] = x->snap_begin.source;
			a->snapped[x->snap_begin.when] = true;
		}
		return 0;
	case REC_SNAP_BUF:
		if (!x->snap_buf.ino)	/* no buffer's: the records of one skip 0 too */
			return 0;
		/* one not (yet) allocated: the recorder writes the events of the
		 * snapshot's walk after it (early_slot() keeps what it says) */
		b = *final_snap ? buf_find(a, x->snap_buf.ino) ?: early_slot(a, x->snap_buf.ino) : NULL;
		if (*final_snap && !b)
			return -ENOMEM;
		if (b && !b->released) {
			b->in_final = true;
			b->holders = x->snap_buf.nholders;
			b->holder = x->snap_buf.nholders ? x->snap_buf.holders[0] : 0;
		}
		return 0;
	case REC_SNAP_END:
		return heaps_named(a, x->snap_end.heaps, x->snap_end.nheaps);
	case REC_CHECKPOINT:
		return heaps_named(a, x->checkpoint.heaps, x->checkpoint.nheaps);
	case REC_DROPS:
		a->drops = add_sat(a->drops, x->drops.count);
		return 0;
	case REC_STACK:
		return fold_stack(a, &x->stack);
	case REC_END:
		a->ended = true;
		a->end = x->end;
		return 0;
	default:
		return 0;
	}
}

/* allocation order: the table's slots are a seeded hash's, another each run */
static int cmp_allocated(const struct an_buffer *a, const struct an_buffer *b)
{
	if (a->ts != b->ts)
		return (a->ts > b->ts) - (a->ts < b->ts);
	return (a->ino > b->ino) - (a->ino < b->ino);
}

static int cmp_leak(const void *x, const void *y)
{
	return cmp_allocated(*(const struct an_buffer * const *)x,
			     *(const struct an_buffer * const *)y);
}

static int cmp_stack(const void *x, const void *y)
{
	const struct an_stack *a = x, *b = y;

	return (a->id > b->id) - (a->id < b->id);
}

/* after the last record: the leaks, oldest first, and the values sorted */
static const struct analysis *by_heap_of;

/* a buffer against (heap, cgroup id): by_heap's order */
static int cmp_heap_cgroup(const struct an_buffer *b, const char *heap, uint64_t cgroup_id)
{
	int c = strcmp(b->heap, heap);

	return c ? c : (b->cgroup_id > cgroup_id) - (b->cgroup_id < cgroup_id);
}

/* ties in allocation order */
static int cmp_by_heap(const void *x, const void *y)
{
	const struct an_buffer *a = &by_heap_of->bufs[*(const size_t *)x];
	const struct an_buffer *b = &by_heap_of->bufs[*(const size_t *)y];

	return cmp_heap_cgroup(a, b->heap, b->cgroup_id) ?: cmp_allocated(a, b);
}

static int cmp_step(const void *x, const void *y)
{
	const struct an_step *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* @x + @d, held at int64's ends */
static int64_t add_held(int64_t x, int64_t d)
{
	int64_t r;

	return __builtin_add_overflow(x, d, &r) ? (d > 0 ? INT64_MAX : INT64_MIN) : r;
}

/*
 * The usages' steps and peaks in time order: records may come out of it (a
 * CPU's ring drained before another's: a release before an allocation made
 * before it), and were summed as they came. Each step's change, from the
 * sums in the recording's order, summed again in time order.
 */
static int steps_in_time_order(struct analysis *a)
{
	int64_t *sum = calloc(a->nuse + 1, sizeof(*sum));

	if (!sum)
		return -ENOMEM;
	for (size_t i = 0; i < a->nsteps; i++) {
		struct an_step *s = &a->steps[i];
		int64_t was = sum[s->usage];

		sum[s->usage] = s->bytes;
		s->bytes = add_held(s->bytes, was == INT64_MIN ? INT64_MAX : -was);
	}
	sort_ordered(a->steps, a->nsteps, sizeof(*a->steps), cmp_step);
	memset(sum, 0, (a->nuse + 1) * sizeof(*sum));
	for (size_t i = 0; i < a->nsteps; i++) {
		struct an_step *s = &a->steps[i];
		struct an_usage *u = &a->use[s->usage];

		s->bytes = sum[s->usage] = add_held(sum[s->usage], s->bytes);
		if (s->bytes > 0 && (uint64_t)s->bytes > u->peak) {
			u->peak = s->bytes;
			u->peak_ts = s->ts;
		}
	}
	free(sum);
	return 0;
}

/* a failed allocation's call (start to end), or a refusal (its time twice), and its group */
struct span {
	uint64_t start, end;
	uint64_t group;		/* its process, and its heap's index in heaps[] */
	size_t i;		/* in allocs[], or limits[] */
};

static int cmp_span(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	return p->group != q->group ? (p->group > q->group) - (p->group < q->group) :
	       (p->start > q->start) - (p->start < q->start);
}

/*
 * each span's group: (process, heap; every heap is named as its records
 * are folded); sorted by group, then by start
 */
static void spans_grouped(const struct analysis *a, struct span *v, size_t n, bool limits)
{
	for (size_t k = 0; k < n; k++) {
		const char *heap = limits ? a->limits[v[k].i].heap : a->allocs[v[k].i].heap;
		uint32_t pid = limits ? a->limits[v[k].i].pid : a->allocs[v[k].i].pid;

		v[k].group = (uint64_t)pid << 32 |
			     (uint32_t)name_find(&a->heap_ix, a->heaps, sizeof(*a->heaps), heap);
	}
	sort_ordered(v, n, sizeof(*v), cmp_span);
}

/* a min-heap of the open calls' ends */
static void ends_push(uint64_t *h, size_t *n, uint64_t end)
{
	size_t i = (*n)++;

	for (; i && h[(i - 1) / 2] > end; i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = end;
}

static void ends_pop(uint64_t *h, size_t *n)
{
	uint64_t last = h[--*n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= last)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
}

/*
 * The bpf-lsm refusals made in the ioctl, before the heap was asked: the
 * collector's programs on the ioctl never ran, so no alloc record has them,
 * yet each is a failed allocation (EAGAIN). A refusal recorded with its
 * place (format 1.5 on: `when`) is in_ioctl when it says the ioctl (a full
 * slot table refuses at the export). One recorded without it is found by
 * its alloc record: made at the export, it falls during its call, failed
 * with EAGAIN (same process and heap); each such record takes one refusal,
 * and those no record takes are in_ioctl. Per process and heap, refusals in
 * time order, each taken by the open call that ends first (as many taken
 * as can be); a heap of ends keeps it O(n log n) however the calls overlap.
 */
static int refusals_in_ioctl(struct analysis *a)
{
	struct span *calls = malloc((a->nallocs + 1) * sizeof(*calls));
	struct span *refs = malloc((a->nlimits + 1) * sizeof(*refs));
	uint64_t *ends = malloc((a->nallocs + 1) * sizeof(*ends));
	size_t ncalls = 0, nrefs = 0, c = 0;

	a->in_ioctl = calloc(a->nlimits + 1, sizeof(*a->in_ioctl));
	if (!calls || !refs || !ends || !a->in_ioctl) {
		free(calls);
		free(refs);
		free(ends);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->nallocs; i++) {
		const struct an_alloc *x = &a->allocs[i];

		if (x->err == -EAGAIN)
			calls[ncalls++] = (struct span){
				x->ts > x->latency_ns ? x->ts - x->latency_ns : 0, x->ts, 0, i };
	}
	for (size_t i = 0; i < a->nlimits; i++) {
		const struct rec_limit *l = &a->limits[i];

		if (l->backend != REC_LIMIT_BPF_LSM)
			continue;
		if (l->when == REC_LIMIT_AT_IOCTL) {
			a->in_ioctl[i] = true;
			a->ioctl_refusals++;
		} else if (!l->when) {
			refs[nrefs++] = (struct span){ l->ts, l->ts, 0, i };
		}
	}
	spans_grouped(a, calls, ncalls, false);
	spans_grouped(a, refs, nrefs, true);
	for (size_t r = 0; r < nrefs;) {
		uint64_t group = refs[r].group;
		size_t nends = 0;

		while (c < ncalls && calls[c].group < group)
			c++;
		for (; r < nrefs && refs[r].group == group; r++) {
			for (; c < ncalls && calls[c].group == group &&
			       calls[c].start <= refs[r].start; c++)
				ends_push(ends, &nends, calls[c].end);
			while (nends && ends[0] < refs[r].start)	/* ended before it */
				ends_pop(ends, &nends);
			if (nends) {
				ends_pop(ends, &nends);		/* taken */
				continue;
			}
			a->in_ioctl[refs[r].i] = true;
			a->ioctl_refusals++;
		}
	}
	free(calls);
	free(refs);
	free(ends);
	return 0;
}

static int finish(struct analysis *a)
{
	if (steps_in_time_order(a) || refusals_in_ioctl(a))
		return -ENOMEM;
	a->leaks = calloc(a->nbufs + 1, sizeof(*a->leaks));
	a->by_heap = calloc(a->nbufs + 1, sizeof(*a->by_heap));
	if (!a->leaks || !a->by_heap)
		return -ENOMEM;
	for (size_t i = 0; i < a->bufcap; i++)
		if (a->bufs[i].ino && !a->bufs[i].early)
			a->by_heap[a->nby_heap++] = i;
	by_heap_of = a;
	sort_ordered(a->by_heap, a->nby_heap, sizeof(*a->by_heap), cmp_by_heap);
	for (size_t i = 0; i < a->bufcap; i++)
		if (a->bufs[i].ino && !a->bufs[i].early && !a->bufs[i].released) {
			a->leaks[a->nleaks++] = &a->bufs[i];
			a->leaked_bytes = add_sat(a->leaked_bytes, a->bufs[i].size);
		}
	sort_ordered(a->leaks, a->nleaks, sizeof(*a->leaks), cmp_leak);
	sort_ordered(a->stacks, a->nstacks, sizeof(*a->stacks), cmp_stack);
	for (size_t i = 0; i < a->nlatency; i++)
		sort_ordered(a->latency[i].v, a->latency[i].n, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < a->nlifetime; i++)
		sort_ordered(a->lifetime[i].v, a->lifetime[i].n, sizeof(uint64_t), cmp_u64);
	return 0;
}

int an_read(struct analysis *a, const char *file, char *why, size_t why_len)
{
	bool final_snap = false;
	struct rec x;
	int err = 0, rc;

	memset(a, 0, sizeof(*a));
	a->file = file;
	err = rec_reader_open(&a->r, file, why, why_len);
	if (err)
		return err;
	a->hdr = rec_reader_header(a->r);
	if (!a->hdr) {	/* cut short or damaged: the reader says which */
		snprintf(why, why_len, "%s: %s: nothing to analyse", text_safe(file),
			 rec_reader_damage(a->r) ?: "no header");
		return -ENODATA;
	}
	while ((rc = rec_next(a->r, &x)) > 0 && !(err = fold(a, &x, &final_snap)))
		;
	if (rc < 0 || err) {
		snprintf(why, why_len, "failed to read %s: %s", text_safe(file),
			 strerror(-(rc < 0 ? rc : err)));
		return rc < 0 ? rc : err;
	}
	a->truncated = rec_reader_truncated(a->r, &a->cut);
	if (a->truncated)
		a->damage = rec_reader_damage(a->r) ?: "no end record";
	err = finish(a);
	if (err)
		snprintf(why, why_len, "%s", strerror(-err));
	return err;
}

static void dists_free(struct an_dist *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].v);
	free(v);
}

void an_free(struct analysis *a)
{
	if (a->r)
		rec_reader_close(a->r);
	free(a->bufs);
	free(a->leaks);
	free(a->use);
	free(a->steps);
	free(a->allocs);
	free(a->in_ioctl);
	free(a->limits);
	free(a->cma);
	free(a->cma_states);
	free(a->heaps);
	dists_free(a->latency, a->nlatency);
	dists_free(a->lifetime, a->nlifetime);
	free(a->cgs);
	free(a->threads);
	hindex_free(&a->use_ix);
	hindex_free(&a->cg_ix);
	hindex_free(&a->thread_ix);
	hindex_free(&a->heap_ix);
	hindex_free(&a->lat_ix);
	hindex_free(&a->life_ix);
	free(a->by_heap);
	for (size_t i = 0; i < a->nstacks; i++)
		free(a->stacks[i].frames);
	free(a->stacks);
	memset(a, 0, sizeof(*a));
}

uint64_t an_rel(const struct analysis *a, uint64_t ts)
{
	return ts > a->hdr->mono_ns ? ts - a->hdr->mono_ns : 0;
}

/*
 * From the first event to the last (the recording may start well before the
 * first), on an_rel()'s clock: an event before the recording's start (only a
 * crafted file has one) is at its start, as every time shown is
 */
uint64_t an_span(const struct analysis *a)
{
	return an_rel(a, a->last_ts) - an_rel(a, a->first_ts);
}

/* what enforced a limit that refused (enum rec_limit_backend) */
const char *an_limit_backend(uint32_t backend)
{
	switch (backend) {
	case REC_LIMIT_BPF_LSM: return "bpf-lsm";
	case REC_LIMIT_DMEM: return "dmem";
	case REC_LIMIT_MEMCG: return "memcg";
	default: return "?";
	}
}

/* where a bpf-lsm limit refused (enum rec_limit_when), as limit events says it; NULL: not told */
const char *an_limit_when(uint32_t when)
{
	switch (when) {
	case 0: return NULL;
	case REC_LIMIT_AT_IOCTL: return "ioctl";
	case REC_LIMIT_AT_EXPORT: return "export";
	case REC_LIMIT_NO_CELL: return "full";
	default: return "?";
	}
}

/* a failed allocation's error as recorded: a crafted file may hold any value */
const char *an_error_text(int32_t err)
{
	return err < 0 && err > -4096 ? strerror(-err) : "not an errno";
}

const char *an_cgroup_path(const struct analysis *a, uint64_t id)
{
	size_t i = hindex_find(&a->cg_ix, hindex_mix(id), a, cg_match, &id);

	return i != HINDEX_NONE ? a->cgs[i].path : "?";
}

uint64_t an_heap_peak(const struct analysis *a, const char *heap)
{
	for (size_t i = 0; i < a->nuse; i++)
		if (!a->use[i].cgroup_id && !strcmp(a->use[i].heap, heap))
			return a->use[i].peak;
	return 0;
}

bool an_heap_named(const struct analysis *a, const char *heap)
{
	return name_find(&a->heap_ix, a->heaps, sizeof(*a->heaps), heap) != HINDEX_NONE;
}

static const struct an_dist *dist_find(const struct an_dist *v, const struct hindex *ix,
				       const char *heap)
{
	size_t pos = name_find(ix, v, sizeof(*v), heap);

	return pos == HINDEX_NONE ? NULL : &v[pos];
}

const struct an_dist *an_latency(const struct analysis *a, const char *heap)
{
	return dist_find(a->latency, &a->lat_ix, heap);
}

const struct an_dist *an_lifetime(const struct analysis *a, const char *heap)
{
	return dist_find(a->lifetime, &a->life_ix, heap);
}

uint64_t an_percentile(const struct an_dist *d, double pct)
{
	double r;
	size_t rank;

	if (!d || !d->n)
		return 0;
	/* nearest rank: the smallest value with pct percent of them at or below it */
	r = pct / 100.0 * (double)d->n;
	rank = (size_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > d->n)
		rank = d->n;
	return d->v[rank - 1];
}

const char *an_end_text(const struct analysis *a, char *buf, size_t len)
{
	if (!a->ended)
		snprintf(buf, len, "no end (cut short)");
	else if (a->end.how == REC_END_EXITED)
		snprintf(buf, len, "exited %d", a->end.code);
	else if (a->end.how == REC_END_SIGNALED)
		snprintf(buf, len, "killed by signal %d", a->end.code);
	else if (a->end.how == REC_END_RUNNING)
		snprintf(buf, len, "still running when the recording stopped");
	else if (a->end.how == REC_END_NOT_STARTED)
		snprintf(buf, len, "not run: the recording stopped before it started");
	else
		snprintf(buf, len, "no command");
	return buf;
}

const char *an_held_by(const struct an_buffer *b, char *buf, size_t len)
{
	if (!b->in_final)
		return "not in the final snapshot";
	if (!b->holders)
		return "nobody (kernel-held)";
	snprintf(buf, len, "pid %u%s", b->holder, b->holders > 1 ? " and others" : "");
	return buf;
}

double an_cma_fragmentation(const struct rec_cma_state *s)
{
	uint64_t free = s->total_bytes > s->used_bytes ? s->total_bytes - s->used_bytes : 0;

	if (!(s->flags & REC_CMA_EXTENTS) || !free || s->largest_free_bytes >= free)
		return 0;
	return 1.0 - (double)s->largest_free_bytes / (double)free;
}

/* found by name through an index: a crafted recording may name thousands of areas */
int an_cma_summaries(const struct analysis *a, struct an_cma_summary **out, size_t *n)
{
	struct an_cma_summary *v = NULL, *m;
	struct hindex ix = {};
	size_t cap = 0, k;

	*n = 0;
	for (size_t i = 0; i < a->ncma_states; i++) {
		const struct rec_cma_state *s = &a->cma_states[i];
		double f = an_cma_fragmentation(s);

		k = name_find(&ix, v, sizeof(*v), s->area);
		if (k == HINDEX_NONE) {
			m = name_push(&ix, (void **)&v, n, &cap, sizeof(*v), s->area);
			if (!m) {
				free(v);
				hindex_free(&ix);
				*n = 0;
				return -ENOMEM;
			}
			*m = (struct an_cma_summary){ .area = s->area, .first = s,
						      .largest_free_min = UINT64_MAX };
			k = *n - 1;
		}
		m = &v[k];
		m->last = s;
		m->samples++;
		m->total_bytes = s->total_bytes;
		if (s->used_bytes > m->used_max)
			m->used_max = s->used_bytes;
		if (s->flags & REC_CMA_EXTENTS) {
			m->extents = true;
			if (s->largest_free_bytes < m->largest_free_min)
				m->largest_free_min = s->largest_free_bytes;
			if (!m->fragmentation_max_ts || f > m->fragmentation_max) {
				m->fragmentation_max = f;
				m->fragmentation_max_ts = s->ts;
			}
		}
	}
	/* the busy retries of the areas summed (an area with none in a state: not shown) */
	for (size_t i = 0; i < a->ncma; i++)
		if (a->cma[i].kind == REC_CMA_BUSY &&
		    (k = name_find(&ix, v, sizeof(*v), a->cma[i].area)) != HINDEX_NONE)
			v[k].busy = add_sat(v[k].busy, a->cma[i].count);
	hindex_free(&ix);
	for (k = 0; k < *n; k++)
		if (!v[k].extents)
			v[k].largest_free_min = 0;
	*out = v;
	return 0;
}

size_t an_stack_index(const struct analysis *a, uint32_t id)
{
	size_t lo = 0, hi = a->nstacks;

	while (id && lo < hi) {		/* sorted by id once read (finish()) */
		size_t mid = lo + (hi - lo) / 2;

		if (a->stacks[mid].id == id)
			return mid;
		if (a->stacks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

const char *const *an_stack(const struct analysis *a, uint32_t id, size_t *n)
{
	size_t i = an_stack_index(a, id);

	*n = i == SIZE_MAX ? 0 : a->stacks[i].n;
	return i == SIZE_MAX ? NULL : a->stacks[i].frames;
}

static int cmp_holding(const void *x, const void *y)
{
	const struct an_holding *a = x, *b = y;

	if (a->bytes != b->bytes)
		return (a->bytes < b->bytes) - (a->bytes > b->bytes);
	if (a->pid != b->pid)
		return (a->pid > b->pid) - (a->pid < b->pid);
	return (a->cgroup_id > b->cgroup_id) - (a->cgroup_id < b->cgroup_id);
}

/* a holder's buffers together, each holder's in allocation order (its last names it) */
static int cmp_holder_buf(const void *x, const void *y)
{
	const struct an_buffer *a = *(const struct an_buffer *const *)x;
	const struct an_buffer *b = *(const struct an_buffer *const *)y;

	if (a->pid != b->pid)
		return (a->pid > b->pid) - (a->pid < b->pid);
	if (a->cgroup_id != b->cgroup_id)
		return (a->cgroup_id > b->cgroup_id) - (a->cgroup_id < b->cgroup_id);
	return cmp_allocated(a, b);
}

/*
 * The by_heap positions of @heap's buffers, of cgroup @id's only unless 0:
 * [*lo, return). Searched, not scanned: a peak per cgroup x heap asks.
 */
static size_t heap_range(const struct analysis *a, const char *heap, uint64_t id, size_t *lo)
{
	size_t l = 0, h = a->nby_heap;

	while (l < h) {	/* the first not below (heap, id): the heap's first when id is 0 */
		size_t mid = l + (h - l) / 2;

		if (cmp_heap_cgroup(&a->bufs[a->by_heap[mid]], heap, id) < 0)
			l = mid + 1;
		else
			h = mid;
	}
	*lo = l;
	for (h = a->nby_heap; l < h;) {	/* the first above it: above the heap when id is 0 */
		const struct an_buffer *b = &a->bufs[a->by_heap[l + (h - l) / 2]];

		if ((id ? cmp_heap_cgroup(b, heap, id) : strcmp(b->heap, heap)) <= 0)
			l = l + (h - l) / 2 + 1;
		else
			h = l + (h - l) / 2;
	}
	return l;
}

int an_held_at(const struct analysis *a, const char *heap, uint64_t cgroup_id, uint64_t ts,
	       struct an_holding **out, size_t *n)
{
	const struct an_buffer **m;
	struct an_holding *v = NULL, *h = NULL;
	size_t cap = 0, lo, hi = heap_range(a, heap, cgroup_id, &lo), nm = 0;

	*n = 0;
	*out = NULL;
	m = malloc((hi - lo + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t k = lo; k < hi; k++) {
		const struct an_buffer *b = &a->bufs[a->by_heap[k]];

		if (b->ts > ts || (b->released && b->released_ts <= ts))
			continue;
		m[nm++] = b;
	}
	sort_ordered(m, nm, sizeof(*m), cmp_holder_buf);
	for (size_t k = 0; k < nm; k++) {
		const struct an_buffer *b = m[k];

		if (!h || h->pid != b->pid || h->cgroup_id != b->cgroup_id) {
			h = push((void **)&v, n, &cap, sizeof(*v));
			if (!h) {
				free(v);
				free(m);
				*n = 0;
				return -ENOMEM;
			}
			h->pid = b->pid;
			h->cgroup_id = b->cgroup_id;
		}
		h->comm = b->comm;	/* its last buffer's */
		h->bytes = add_sat(h->bytes, b->size);
		h->buffers++;
	}
	free(m);
	if (*n)
		sort_ordered(v, *n, sizeof(*v), cmp_holding);
	*out = v;
	return 0;
}
