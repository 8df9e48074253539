/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat record's limit records (REC_LIMIT): allocations a cgroup limit
 * refused, from each backend's witness (as heapstat limit events has them):
 *   bpf-lsm  the limit programs' refusal events, read from their pinned ring
 *            WITHOUT consuming them (lsm_limit_watch()): the ring keeps each
 *            refusal for the reader that consumes (heapstat limit events,
 *            with or without -f), so recording steals nothing from it;
 *   dmem     a heap's allocation failing on its dmem limit (class limit);
 *   memcg    the memcg-charged system heap's ENOMEM, or its EINTR (the
 *            allocator OOM-killed), where a memory.max left less room than
 *            was asked (lib/refusal.h says when an EINTR is).
 * dmem and memcg: whose limit bound, its usage and its limit come from the
 * holdings model taken when the failure is seen (lib/refusal.h).
 */
#ifndef HEAPSTAT_RECORD_REFUSALS_H
#define HEAPSTAT_RECORD_REFUSALS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/collector.h"
#include "lib/lsm_limit.h"
#include "lib/record.h"
#include "lib/refusal.h"

struct refusals {
	struct refusal_model m;
	struct lsm_limit *lsm;		/* NULL: no bpf-lsm limit pinned (yet) */
	uint64_t start_ns;		/* refusals before it are not the recording's */
	uint64_t next_open_ns;		/* when to look for a bpf-lsm limit (pinned anew) again */
	bool have_base;
	uint64_t dropped_base;		/* the ring's drop counter when first opened */
	uint64_t overrun;		/* events written over before they were read */
	uint64_t dropped_before;	/* dropped by rings followed before this one */
	char heap[COLL_NAME_LEN + 1];	/* the last record's heap */
};

void refusals_init(struct refusals *f, uint64_t start_ns);

/* only these failures can be a dmem or memcg limit's: no model is taken for others */
static inline bool refusals_may_be_limit(const struct coll_event *e)
{
	return e->type == EV_HEAP_ALLOC && (e->fail_class == FAIL_LIMIT || refusal_memcg_err(e->err));
}

/*
 * A failed allocation refusals_may_be_limit() took, by a task of @cgroup
 * (the path of e->cgroup_id, a removed one's included; "" unknown): 1 with
 * a REC_LIMIT in *x when a dmem or memcg limit refused it (strings valid
 * until the next call), 0 when not a limit's, or a negative errno.
 */
int refusals_of_failure(struct refusals *f, const struct coll_event *e, const char *cgroup,
			struct rec *x);
/*
 * cb for each bpf-lsm refusal since the last call, as a REC_LIMIT, with the
 * task refused (who: its cgroup path ""): refused in its ioctl, before the
 * heap is called, it has no allocation record (refused at the export, it
 * has a failed one). cb's error or 0.
 */
typedef int (*refusal_cb)(const struct rec *x, const struct rec_process *who, void *ctx);
int refusals_poll_lsm(struct refusals *f, refusal_cb cb, void *ctx);
/* bpf-lsm refusal events lost to the recording: no room in the ring, or written over */
uint64_t refusals_lost(struct refusals *f);
void refusals_free(struct refusals *f);

#endif
