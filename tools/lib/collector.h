/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_COLLECTOR_LIB_H
#define HEAPSTAT_COLLECTOR_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "collector_events.h"
#include "cma.h"
#include "latency.h"

#define FAIL_CLASSES	COLL_FAIL_CLASSES

/* here, not in collector.c: what reads a recording names them too, without libbpf */
static inline const char *fail_class_name(int class)
{
	static const char * const names[FAIL_CLASSES] = {
		"none", "capacity", "fragmentation", "busy", "limit", "other",
	};

	return class >= 0 && class < FAIL_CLASSES ? names[class] : "?";
}

/*
 * heap activity of one cgroup: allocations by the cgroup's tasks, exports and
 * final releases of the buffers the cgroup exported. The counts are the
 * kernel's aggregates (exact whatever was dropped), and so are the
 * latencies and lifetimes in aggregate mode (histograms); a recorder's come
 * from events.
 */
struct coll_heap_stats {
	uint64_t cgroup_id;
	char heap[COLL_NAME_LEN];
	struct coll_agg agg;
	struct coll_agg retired;	/* of its aggregates given back (a removed cgroup's), in agg */
	struct lat_set retired_lat, retired_life;	/* their histograms, in lat and life */
	struct lat_set lat;		/* every attempt's latency */
	struct lat_set life;		/* lifetimes of the buffers finally released */
	bool hist_dirty;		/* collector_sync(): an aggregate of it moved */
	uint64_t limit_refusals;	/* failures user space found a limit's (memcg:
					 * refusal_count_start()); dmem's are agg's */
};

/*
 * CMA activity of one area: counts from the kernel's aggregates and the
 * allocation bitmap kept by BPF, both exact whatever was dropped, as of
 * collector_sync(); the latencies come from events.
 */
struct coll_cma_stats {
	char area[COLL_NAME_LEN];
	uint64_t allocs, failures, busy_retries, alloc_bytes, release_bytes;
	uint64_t fail_bytes, releases;
	struct lat_set lat;		/* every timed allocation's latency */
	/* free extents of the bitmap kept from the traced allocations, busy
	 * retries and releases, seeded from the debugfs bitmap once attached
	 * (mapped: it was readable, of one range, and there was room) */
	bool mapped;
	struct cma_bitmap map;
	struct cma_area traced;		/* the map's extents */
};

struct collector;

/* how the collector attaches to the kernel */
enum coll_attach {
	COLL_ATTACH_AUTO,	/* tracing where the kernel takes it, else kprobe */
	COLL_ATTACH_TRACING,	/* fentry/fexit and BTF tracepoints */
	COLL_ATTACH_KPROBE,	/* kprobes, kretprobes and raw tracepoints */
};

/* the event ring's default size: a recorder's, and in aggregate mode (failures only) */
#define COLL_RING_BYTES		(4 << 20)
#define COLL_AGG_RING_BYTES	(256 << 10)

int collector_open(struct collector **out, enum coll_attach mode, size_t ring_bytes, bool holders,
		   char *why, size_t why_len);
#define COLL_WANT_STACKS	1u	/* collector_open_rec(): allocations' stacks */
#define COLL_WANT_FDS		2u	/* and EV_BUF_FD events */
#define COLL_WANT_EVENTS	4u	/* an event for everything (a recorder), not for failures only */
#define COLL_EXITS_LATER	8u	/* holders: exit_files()'s hook attached by collector_hook_exits() */
int collector_open_rec(struct collector **out, enum coll_attach mode, size_t ring_bytes,
		       bool holders, unsigned int flags, char *why, size_t why_len);
bool collector_fds(struct collector *c);
bool collector_cma_untraced(struct collector *c);
/*
 * COLL_EXITS_LATER: attach exit_files()'s hook now (of the holder hooks, the
 * one whose attach costs: an ftrace update). 1 when it was attached now, so
 * that exits before it went unlogged; 0 when there was nothing to attach;
 * a negative errno when it failed (collector_logs_changes() is then false).
 */
int collector_hook_exits(struct collector *c);
int collector_poll(struct collector *c, int timeout_ms);
/*
 * Also hand each event to fn from collector_poll(); with fold false, the
 * events are fn's only: no latencies or lifetimes kept (a recorder writes
 * them out; kept, they would grow with every event).
 */
void collector_on_event(struct collector *c, void (*fn)(const struct coll_event *e, void *ctx),
			void *ctx, bool fold);
/* from fn: the poll in progress returns after this event, the rest left in the ring */
void collector_poll_stop(struct collector *c);
/*
 * Where the events' ring is written up to now: every event whose program took
 * its timestamp before this call (a program reserves its record first) lies
 * before the mark, whether written yet or not. 0 when the ring's positions
 * cannot be read.
 */
unsigned long collector_ring_mark(struct collector *c);
/*
 * Poll until every event before @mark is read: a record a program reserved and
 * has yet to commit (on another CPU, or on a vCPU the host paused mid-program)
 * stops the consumer, it and every record after it left for a next poll. At
 * most @max_ms of waiting: -ETIME then; or collector_poll()'s error.
 */
int collector_drain_to(struct collector *c, unsigned long mark, int max_ms);
int collector_sync(struct collector *c);
void collector_close(struct collector *c);

/* mutable: reading a percentile sorts the latencies in place */
struct coll_heap_stats *collector_heap_stats(struct collector *c, size_t *n);
struct coll_cma_stats *collector_cma_stats(struct collector *c, size_t *n);
void collector_restart_latencies(struct collector *c);
bool collector_export_of(struct collector *c, uint64_t ino, struct coll_buf *out);
void coll_agg_add(struct coll_agg *to, const struct coll_agg *from);
uint64_t collector_dropped(struct collector *c);
const char *collector_removed_cgroup(struct collector *c, uint64_t id);
struct cg_index;
bool collector_forget_due(struct collector *c, uint64_t keep_ns, const struct cg_index *tree,
			  uint64_t tree_walk);
long collector_forget_removed(struct collector *c, uint64_t keep_ns, const struct cg_index *tree,
			      uint64_t tree_walk, unsigned int depth, size_t **moved);
/* a heap's latencies of the cgroups collector_forget_removed() dropped */
struct coll_forgotten {
	char heap[COLL_NAME_LEN];
	struct lat_set lat;
};

const struct coll_forgotten *collector_forgotten(struct collector *c, size_t *n);
/* one more failure of (cgroup, heap) found a limit's: 0 or -ENOMEM */
int collector_count_refusal(struct collector *c, uint64_t cgroup_id, const char *heap);
uint64_t collector_refusals_counted(struct collector *c);
void collector_name_removals(struct collector *c);

/* what the collector lost: events (ring) and counts (maps full), by cause */
struct coll_losses {
	uint64_t ring;			/* events the ring buffer had no room for */
	uint64_t aggregates;		/* counts of a cgroup x heap past the aggregate map's */
	uint64_t cma_areas;		/* counts of a CMA area past its map's */
	uint64_t buffers;		/* buffers exported while tracing that no map kept */
	uint64_t threads;		/* calls of threads whose storage could not be made */
	uint64_t histograms;		/* latencies and lifetimes of aggregates without one */
	uint64_t stacks;		/* stacks the stack map had no room for */
	uint64_t skipped;		/* hook calls the kernel ran no program for (the
					 * program's recursion guard: see collector_skipped()) */
};

void collector_losses(struct collector *c, struct coll_losses *out);
uint64_t collector_skipped(struct collector *c);
uint64_t collector_hists_lost(struct collector *c);
int collector_stack(struct collector *c, uint32_t id, uint64_t *ips, size_t max);
uint64_t collector_stacks_lost(struct collector *c);
void collector_prog_stats(struct collector *c,
			  void (*cb)(const char *prog, uint64_t runs, uint64_t run_ns, void *ctx),
			  void *ctx);
bool collector_logs_changes(struct collector *c);
uint64_t collector_cgroup_changes(struct collector *c);
int collector_set_holders(struct collector *c, pid_t *tgids, size_t n);
const char *collector_agg_name(struct collector *c, uint32_t agg);
int collector_changes(struct collector *c, int (*fn)(const struct coll_log *e, void *arg),
		      void *arg, bool *lost);
const char *collector_export_variant(struct collector *c);
const char *collector_ioctl_variant(struct collector *c);
bool collector_heap_tracepoints(struct collector *c);

/*
 * What the collector goes on without (enum coll_feature) when the kernel
 * refuses (the verifier, or an attach) a program that only adds to what it
 * traces; a refused allocation, export or release program fails
 * collector_open() instead (or, COLL_ATTACH_AUTO, makes it take kprobes).
 */
const char *coll_feature_name(enum coll_feature f);
const char *coll_feature_what(enum coll_feature f);
/* the program refused for @f, and in *err why (-errno); NULL when it was not */
const char *collector_refused(struct collector *c, enum coll_feature f, int *err);
enum coll_attach collector_attach(struct collector *c);
/* how it loaded: "libbpf", or as a light skeleton (its loader run by
 * lskel_run()) "its loader run in user space" or "the kernel running its loader" */
const char *collector_loaded_by(struct collector *c);
const char *coll_attach_name(enum coll_attach mode);
/* a kprobe mode's program, left out of the BTF-typed mode's objects (bpf/collector.bpf.c:
 * their names end in "probe"; tests/unit/collector_objects_test.c checks it) */
bool coll_kprobe_only(const char *prog);

#endif
