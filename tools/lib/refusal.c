// SPDX-License-Identifier: GPL-2.0
/* Which dmem or memcg limit refused a failed allocation (refusal.h). */
#include <errno.h>
#include <string.h>

#include "collector.h"
#include "refusal.h"
#include "util.h"

#define MODEL_MIN_MS	50	/* a model younger than this serves the next refusal too */

void refusal_model_init(struct refusal_model *m)
{
	memset(m, 0, sizeof(*m));
	m->sys = hold_sys_live;
	m->sys.mem_accounting = heap_mem_accounting();
}

void refusal_model_free(struct refusal_model *m)
{
	if (!m->have)
		return;
	holdings_free(&m->h);
	inventory_free(&m->inv);
	m->have = false;
}

int refusal_model_for(struct refusal_model *m, uint64_t ts_ns)
{
	struct hold_filter none = {};
	uint64_t now = now_ns();
	int err;

	if (m->have && (m->taken_ns >= ts_ns || now - m->taken_ns < MODEL_MIN_MS * 1000000ull))
		return 0;
	refusal_model_free(m);
	err = inventory_collect(&m->inv, "/proc", false);
	if (err)
		return err;
	err = holdings_build(&m->h, &m->sys, &m->inv, NULL, &none);
	if (err) {
		holdings_free(&m->h);
		inventory_free(&m->inv);
		return err;
	}
	m->have = true;
	m->taken_ns = now;
	return 0;
}

int refusal_model_for_failure(struct refusal_model *m, const struct coll_event *e,
			      const char *heap)
{
	size_t k = m->have && e->memcg_read ? holdings_heap(&m->h, heap) : HOLD_NONE;

	if (k != HOLD_NONE && m->h.heaps[k].charger == CHARGER_MEMCG)
		return 0;
	return refusal_model_for(m, e->ts_ns);
}

enum refusal_backend refusal_backend_of(struct refusal_model *m, const char *heap, int err,
					uint32_t fail_class)
{
	size_t k = m->have ? holdings_heap(&m->h, heap) : HOLD_NONE;

	if (k == HOLD_NONE)
		return REFUSAL_NONE;
	if (m->h.heaps[k].charger == CHARGER_DMEM && fail_class == FAIL_LIMIT)
		return REFUSAL_DMEM;
	if (m->h.heaps[k].charger == CHARGER_MEMCG && refusal_memcg_err(err))
		return REFUSAL_MEMCG;
	return REFUSAL_NONE;	/* not a limit's, or the bpf-lsm's own event tells it */
}

/*
 * The model's cgroup of @id, or for one removed since, the nearest ancestor
 * of @path (the path it had, kept by the collector) in the model; *gone
 * says which. A cgroup made again at that path is another: the walk starts
 * at its parent.
 */
static size_t cgroup_or_ancestor(const struct holdings *h, uint64_t id, const char *path,
				 bool *gone)
{
	size_t cg = holdings_cgroup_by_id(h, id);

	*gone = cg == HOLD_NONE && path[0] == '/';
	return *gone ? holdings_ancestor(h, path) : cg;
}

/* a memcg failure's limit as the collector read it at the failure */
static bool memcg_at_failure(const struct refusal_model *m, const struct coll_event *e,
			     struct refusal_bound *out)
{
	size_t cg;

	if (!e->memcg_id)
		return false;
	cg = holdings_cgroup_by_id(&m->h, e->memcg_id);
	*out = (struct refusal_bound){ .found = true, .cg = cg,
				       .path = cg != HOLD_NONE ? m->h.cgs[cg].path : NULL,
				       .id = e->memcg_id, .usage = e->memcg_usage,
				       .limit = e->memcg_max };
	return true;
}

bool refusal_bind(struct refusal_model *m, uint64_t cgroup_id, const char *cgroup,
		  const char *heap, uint64_t requested, const struct coll_event *e,
		  struct refusal_bound *out)
{
	size_t k = m->have ? holdings_heap(&m->h, heap) : HOLD_NONE;
	const struct hold_cell *c, *at;
	bool gone = false;
	size_t cg;

	*out = (struct refusal_bound){ .cg = HOLD_NONE };
	if (k == HOLD_NONE)
		return false;
	if (m->h.heaps[k].charger == CHARGER_MEMCG && e && e->memcg_read)
		return memcg_at_failure(m, e, out);
	cg = cgroup_or_ancestor(&m->h, cgroup_id, cgroup, &gone);
	if (cg == HOLD_NONE)
		return false;
	c = hold_cell(&m->h, cg, k);
	if (m->h.heaps[k].charger == CHARGER_MEMCG)
		holdings_read_memcg(&m->h, &m->sys, cg, k);
	holdings_bind_limit(&m->h, cg, k);
	if (c->limit_cg == HOLD_NONE)
		return false;
	at = hold_cell(&m->h, c->limit_cg, k);
	/* the removed cgroup's own limit went with it: an ancestor's is the one
	 * only when it too leaves less room than was asked */
	if (gone && at->max >= at->charged && at->max - at->charged >= requested)
		return false;
	*out = (struct refusal_bound){ .found = true, .cg = c->limit_cg,
				       .path = m->h.cgs[c->limit_cg].path,
				       .id = m->h.cgs[c->limit_cg].id, .usage = at->charged,
				       .limit = at->max };
	return true;
}

bool refusal_is_limit(enum refusal_backend b, const struct refusal_bound *bd, uint64_t requested,
		      int err, bool oom_victim)
{
	if (b == REFUSAL_NONE)
		return false;
	if (b == REFUSAL_MEMCG)
		return bd->found &&
		       (bd->usage >= bd->limit || bd->limit - bd->usage < requested) &&
		       (err != -EINTR || oom_victim);
	return true;
}

const char *refusal_backend_name(enum refusal_backend b)
{
	return b == REFUSAL_DMEM ? "dmem" : b == REFUSAL_MEMCG ? "memcg" : "none";
}

static void count_failure(const struct coll_event *e, void *ctx)
{
	struct refusal_counter *rc = ctx;
	char heap[COLL_NAME_LEN + 1];
	const char *gone;
	struct refusal_bound bd;
	enum refusal_backend b;
	size_t k;

	if (e->type != EV_HEAP_ALLOC || !refusal_memcg_err(e->err))
		return;
	copy_bounded(heap, e->name, COLL_NAME_LEN);
	/* a heap the last model had charging no memcg (a CMA heap's ENOMEMs): no model taken */
	k = rc->m.have ? holdings_heap(&rc->m.h, heap) : HOLD_NONE;
	if ((k != HOLD_NONE && rc->m.h.heaps[k].charger != CHARGER_MEMCG) ||
	    refusal_model_for_failure(&rc->m, e, heap))
		return;
	b = refusal_backend_of(&rc->m, heap, e->err, e->fail_class);
	gone = collector_removed_cgroup(rc->coll, e->cgroup_id);
	if (b == REFUSAL_MEMCG &&
	    refusal_bind(&rc->m, e->cgroup_id, gone ? gone : "", heap, e->bytes, e, &bd) &&
	    refusal_is_limit(b, &bd, e->bytes, e->err, e->oom_victim))
		collector_count_refusal(rc->coll, e->cgroup_id, e->name);
}

void refusal_count_start(struct refusal_counter *rc, struct collector *coll, bool mem_accounting)
{
	memset(rc, 0, sizeof(*rc));
	if (!coll || !mem_accounting)
		return;
	refusal_model_init(&rc->m);
	rc->coll = coll;
	collector_on_event(coll, count_failure, rc, true);
}

void refusal_count_stop(struct refusal_counter *rc)
{
	refusal_model_free(&rc->m);
}
