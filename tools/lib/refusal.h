/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which limit refused an allocation that the kernel keeps no record of: a
 * heap's allocation failing on its dmem limit (EAGAIN) or on memcg (the
 * memcg-charged system heap's ENOMEM, or its EINTR: past memory.max the
 * kernel OOM-kills in the cgroup, and an allocator killed between two of
 * its pages stops there), as the collector sees it. The heap's
 * charger says which controller. Whose limit left the least room over the
 * task's cgroup and its ancestors, with that cgroup's usage and limit: for
 * memcg as the collector read them at the failure (memcg_tightest()), for
 * dmem, and memcg where the collector could not, from the holdings model
 * taken when the failure is seen, as read then. Shared by heapstat limit
 * events and heapstat record.
 */
#ifndef HEAPSTAT_REFUSAL_H
#define HEAPSTAT_REFUSAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "holdings.h"
#include "inventory.h"

enum refusal_backend { REFUSAL_NONE, REFUSAL_DMEM, REFUSAL_MEMCG };

/* the holdings model of the moment, taken again as refusals come */
struct refusal_model {
	struct hold_sys sys;
	struct inventory inv;
	struct holdings h;
	bool have;
	uint64_t taken_ns;		/* CLOCK_MONOTONIC */
};

struct coll_event;

/* whose limit bound */
struct refusal_bound {
	bool found;			/* false: no limit found */
	size_t cg;			/* its cgroup in the model, or HOLD_NONE (removed since) */
	const char *path;		/* the model's (valid until it is taken again), or NULL */
	uint64_t id;
	uint64_t usage, limit;
};

/* an allocation's error a memcg limit can be behind: ENOMEM, or EINTR (its allocator OOM-killed) */
static inline bool refusal_memcg_err(int err)
{
	return err == -ENOMEM || err == -EINTR;
}

void refusal_model_init(struct refusal_model *m);
/* the model, taken again unless younger than ts_ns or than a few ms; 0 or -errno */
int refusal_model_for(struct refusal_model *m, uint64_t ts_ns);
/*
 * The model for the failed allocation @e of @heap: the one there is for a
 * memcg heap's failure whose limit the collector read (the model then only
 * names the heap's charger, which the boot fixes), else refusal_model_for().
 */
int refusal_model_for_failure(struct refusal_model *m, const struct coll_event *e,
			      const char *heap);
void refusal_model_free(struct refusal_model *m);

/* which controller refused a failed allocation (err, fail_class), from the heap's charger */
enum refusal_backend refusal_backend_of(struct refusal_model *m, const char *heap, int err,
					uint32_t fail_class);
/*
 * The limit leaving the least room for heap over the cgroup of @cgroup_id
 * and its ancestors: for a memcg heap as the collector read it at the
 * failure, where its event @e (NULL: none) says it did (memcg_read), else
 * from the model. There a cgroup removed since is bound by the limits of
 * the nearest ancestor of @cgroup (the path it had, the collector's; ""
 * when unknown) there is, and only by one that leaves less room than
 * @requested: else its own limit, gone with it, refused.
 */
bool refusal_bind(struct refusal_model *m, uint64_t cgroup_id, const char *cgroup,
		  const char *heap, uint64_t requested, const struct coll_event *e,
		  struct refusal_bound *out);
/*
 * A memcg failure (err) is a limit's only when that limit left less room
 * than was asked, and an EINTR (the allocator killed) only when the OOM
 * killer chose its process (@oom_victim, the collector's: a process killed
 * by a user between two pages is not refused by a limit).
 */
bool refusal_is_limit(enum refusal_backend b, const struct refusal_bound *bd, uint64_t requested,
		      int err, bool oom_victim);
const char *refusal_backend_name(enum refusal_backend b);

/*
 * The memcg refusals among a collector's failed allocations, counted as
 * they come into its stats (coll_heap_stats.limit_refusals: the model's
 * limit_hits for a memcg heap, as dmem's EAGAINs are for a dmem one), by
 * the rules limit events and record follow. Nothing is installed where the
 * system heap charges no memcg (@mem_accounting: heap_mem_accounting(), as
 * the caller read it). The collector's event callback is its.
 */
struct refusal_counter {
	struct refusal_model m;
	struct collector *coll;
};

void refusal_count_start(struct refusal_counter *rc, struct collector *coll, bool mem_accounting);
void refusal_count_stop(struct refusal_counter *rc);

#endif
