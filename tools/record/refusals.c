// SPDX-License-Identifier: GPL-2.0
/* heapstat record's limit records (refusals.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "refusals.h"
#include "lib/util.h"

#define LSM_OPEN_MS	1000	/* how often to look for bpf-lsm limits set meanwhile */

void refusals_init(struct refusals *f, uint64_t start_ns)
{
	memset(f, 0, sizeof(*f));
	refusal_model_init(&f->m);
	f->start_ns = start_ns;
}

int refusals_of_failure(struct refusals *f, const struct coll_event *e, const char *cgroup,
			struct rec *x)
{
	struct refusal_bound bd;
	enum refusal_backend b;
	int err;

	copy_bounded(f->heap, e->name, COLL_NAME_LEN);
	err = refusal_model_for_failure(&f->m, e, f->heap);
	if (err)
		return err;
	b = refusal_backend_of(&f->m, f->heap, e->err, e->fail_class);
	if (b == REFUSAL_NONE)
		return 0;
	refusal_bind(&f->m, e->cgroup_id, cgroup, f->heap, e->bytes, e, &bd);
	if (!refusal_is_limit(b, &bd, e->bytes, e->err, e->oom_victim))
		return 0;
	/* a dmem refusal whose limit is gone by now: bound 0, usage and limit unknown (0) */
	*x = (struct rec){ .type = REC_LIMIT };
	x->limit = (struct rec_limit){ .ts = e->ts_ns, .pid = e->tgid, .tid = e->pid,
				       .cgroup_id = e->cgroup_id, .bound_cgroup_id = bd.id, .heap = f->heap,
				       .requested = e->bytes, .usage = bd.usage, .limit = bd.limit,
				       .backend = b == REFUSAL_DMEM ? REC_LIMIT_DMEM :
						  REC_LIMIT_MEMCG };
	return 1;
}

struct lsm_ctx {
	struct refusals *f;
	refusal_cb cb;
	void *ctx;
};

static int on_lsm(const struct limit_event *le, void *ctx)
{
	struct lsm_ctx *lc = ctx;
	struct rec x = { .type = REC_LIMIT };
	char comm[LIMIT_COMM_LEN + 1];
	struct rec_process who = { .pid = le->tgid, .tid = le->pid, .comm = comm,
				   .cgroup_id = le->cgroup_id, .cgroup = "" };

	if (le->ts_ns < lc->f->start_ns)
		return 0;
	copy_bounded(comm, le->comm, LIMIT_COMM_LEN);
	lsm_limit_event_heap(le, lc->f->heap);
	x.limit = (struct rec_limit){ .ts = le->ts_ns, .pid = le->tgid, .tid = le->pid,
				      .cgroup_id = le->cgroup_id,
				      .bound_cgroup_id = le->bound_cgroup_id, .heap = lc->f->heap,
				      .requested = le->requested, .usage = le->usage,
				      .limit = le->limit, .backend = REC_LIMIT_BPF_LSM,
				      .when = le->when == LIMIT_AT_IOCTL ? REC_LIMIT_AT_IOCTL :
					      le->when == LIMIT_AT_EXPORT ? REC_LIMIT_AT_EXPORT :
					      REC_LIMIT_NO_CELL };
	if (le->when == LIMIT_NO_CELL)	/* no slot for its usage: neither is known */
		x.limit.usage = x.limit.limit = REC_LIMIT_UNKNOWN;
	return lc->cb(&x, &who, lc->ctx);
}

/* the drops of the ring followed since it was opened */
static uint64_t ring_dropped(struct refusals *f)
{
	struct lsm_limit_stats st;
	char why[512];

	if (f->lsm && f->have_base && !lsm_limit_stats(f->lsm, &st, why, sizeof(why)) &&
	    st.dropped > f->dropped_base)
		return st.dropped - f->dropped_base;
	return 0;
}

/*
 * The bpf-lsm programs pinned now followed, as limit events -f does: looked
 * for now and then when none are pinned (a limit may be set meanwhile), and
 * a ring unpinned since (the last limit cleared; pinned anew after) read to
 * its end and left for the one pinned now.
 */
int refusals_poll_lsm(struct refusals *f, refusal_cb cb, void *ctx)
{
	struct lsm_ctx lc = { f, cb, ctx };
	struct lsm_limit_stats st;
	bool look = now_ns() >= f->next_open_ns;
	char why[512];
	int n;

	if (look)
		f->next_open_ns = now_ns() + LSM_OPEN_MS * 1000000ull;
	if (f->lsm && look && !lsm_limit_current(f->lsm)) {
		do
			n = lsm_limit_watch(f->lsm, on_lsm, &lc, &f->overrun, why, sizeof(why));
		while (n > 0);
		f->dropped_before += ring_dropped(f);
		lsm_limit_close(f->lsm);
		f->lsm = NULL;
		f->have_base = false;
		if (n < 0)
			return n;
	}
	if (!f->lsm) {
		if (!look)
			return 0;
		if (lsm_limit_open(&f->lsm, NULL, 0, why, sizeof(why)))
			return 0;	/* none, or not ours to read: no bpf-lsm refusals */
		if (!lsm_limit_stats(f->lsm, &st, why, sizeof(why))) {
			f->have_base = true;
			f->dropped_base = st.dropped;
		}
	}
	n = lsm_limit_watch(f->lsm, on_lsm, &lc, &f->overrun, why, sizeof(why));
	return n < 0 ? n : 0;
}

uint64_t refusals_lost(struct refusals *f)
{
	return f->overrun + f->dropped_before + ring_dropped(f);
}

void refusals_free(struct refusals *f)
{
	refusal_model_free(&f->m);
	lsm_limit_close(f->lsm);
	f->lsm = NULL;
}
