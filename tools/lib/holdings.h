/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The holdings model: what every command prints. From an inventory, the
 * collector's aggregates and the cgroup files, per heap the live buffers,
 * and per cgroup x heap side by side what the cgroup's processes hold,
 * what its tasks allocated while tracing and what the kernel charged it,
 * under which limit and with how much room left.
 */
#ifndef HEAPSTAT_HOLDINGS_H
#define HEAPSTAT_HOLDINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/memcg.h"
#include "collector.h"
#include "inventory.h"
#include "lsm_limit.h"
#include "lsm_since.h"
#include "util.h"

#define HOLD_NO_LIMIT	UINT64_MAX
#define HOLD_NONE	SIZE_MAX
/* the "cgroup" of the releases of buffers exported before tracing (id 0) */
#define HOLD_BEFORE_TRACING	"(before tracing)"

/* where the system is read: the live one, or a fake tree in a test */
struct hold_sys {
	const char *proc;		/* /proc */
	const char *cgroup_root;	/* the cgroup2 mount */
	const char *heap_dev;		/* /dev/dma_heap */
	bool mem_accounting;		/* dma_heap.mem_accounting: the system heap charges memcg */
	const char *heapstat_accounting;	/* heapstat_core's accounting parameter; NULL:
					 * none, dma-heap/ regions charged */
	const char *lsm_pin_dir;	/* the BPF-LSM limits' pins (lsm_limit.h); NULL: none */
	const struct cg_index *cg_tree;	/* the cgroup tree as the caller last walked it
					 * (cgroup_root's); NULL: each build walks it */
	struct lsm_since *lsm_since;	/* the BPF-LSM's hits since the caller began
					 * tracing (lsm_since.h), kept up to date by each
					 * build; NULL: the pinned counts as they are */
};

struct hold_filter {
	char cgroup[CGROUP_PATH_MAX];	/* "": all; else this cgroup and those below it */
	pid_t pid;			/* 0: all */
	const char *heap;		/* NULL: all */
	char pid_cgroup[CGROUP_PATH_MAX];	/* pid's cgroup when hold_filter_check() saw
						 * it ("": not known): its rows, if it exits */
	uint64_t pid_start;		/* and its start time then (proc_start_time()) */
	bool pid_gone;			/* it exited since: pid matches no process now
					 * (another may have taken it), its rows pid_cgroup's */
};

/* who charges a heap's allocations to the allocating cgroup */
enum hold_charger {
	CHARGER_NONE,
	CHARGER_DMEM,			/* a dmem region "dma-heap/<heap>" */
	CHARGER_MEMCG,			/* the system heap under dma_heap.mem_accounting */
	CHARGER_LSM,			/* none in the kernel: heapstat's BPF-LSM limits,
					 * while pinned (bpf/limit.bpf.c) */
};

struct hold_heap {
	const char *name;
	uint64_t bytes;			/* live buffers it exported */
	unsigned int buffers;
	bool device;			/* /dev/dma_heap/<name>: a heap; else another exporter */
	enum hold_charger charger;
	const char *region;		/* CHARGER_DMEM: its dmem region, "dma-heap/<name>"
					 * or a CMA area's "cma/<area>" */
	bool capacity_known;		/* its region's size, in the root's dmem.capacity */
	uint64_t capacity;
};

struct hold_cgroup {
	const char *path;		/* from the cgroup2 root: "/", "/camera" */
	uint64_t id;			/* its directory's inode; 0: unknown */
	size_t parent;			/* HOLD_NONE: the root, or a cgroup gone */
	bool removed;			/* only removed cgroups had its path: the
					 * collector's counts of them */
	uint64_t bytes;			/* held, over every heap, a buffer once */
	unsigned int buffers;
	bool memcg_known;		/* memcg read (mem_accounting, a row of a memcg heap) */
	struct cg_memcg memcg;
	size_t last_buf;		/* counting: the last buffer counted for it, + 1 */
	size_t last_tree_buf;		/* and in its tree's */
};

/* one cgroup x heap */
struct hold_cell {
	uint64_t bytes;			/* held by the cgroup's processes, a buffer once */
	unsigned int buffers;
	uint64_t tree_bytes;		/* held by its and its descendants' processes,
					 * a buffer once */
	unsigned int tree_buffers;
	bool charged_known;		/* the cgroup has the charger's file */
	uint64_t charged;		/* dmem.current of the region, or memory.current:
					 * the cgroup's and its descendants' */
	uint64_t own_charge;		/* charged less its children's: charged to itself */
	uint64_t max;			/* its own dmem.max (memory.max); HOLD_NO_LIMIT */
	uint64_t limit;			/* the limit leaving the least room: its own or
					 * an ancestor's; HOLD_NO_LIMIT when none */
	size_t limit_cg;		/* the cgroup that limit is set on */
	uint64_t headroom;		/* that limit less that cgroup's charge */
	uint64_t limit_hits;		/* allocations of its own tasks a limit refused
					 * (its own or an ancestor's): the BPF-LSM's
					 * count (since tracing began with hold_sys's
					 * lsm_since), or dmem's EAGAIN seen while
					 * tracing, or memcg's refusals found then
					 * (refusal.h) */
	bool traced;			/* allocated-by, from the collector */
	size_t act;			/* its collector_heap_stats() entry (the last of
					 * several: act_next) */
	struct coll_agg agg;
	struct lat_set *lat;		/* latencies of the attempts seen as events */
	struct lat_set *life;		/* lifetimes of the buffers released, as events */
	bool row;			/* holds, was charged itself, allocated, or has
					 * a dmem limit of its own */
};

struct holdings {
	const struct inventory *inv;
	struct hold_heap *heaps;	/* by name */
	size_t nheaps;
	struct hold_cgroup *cgs;	/* by path */
	size_t ncgs;
	struct hold_cell *cells;	/* ncgs x nheaps: cells[cg * nheaps + heap] */
	size_t *rows;			/* the cells that are rows, by cgroup then heap */
	size_t nrows;
	struct hold_cg_id {		/* cgroups' ids, by id: a path's live one and
					 * those removed it stands for */
		uint64_t id;
		size_t cg;
	} *by_id;
	size_t nids;
	size_t *act_next;		/* cells' collector_heap_stats() entries after
					 * their `act`: HOLD_NONE ends */
	struct lat_set **merged;	/* cells' latencies of more than one entry */
	size_t nmerged, merged_cap;
	size_t *proc_cg;		/* each process's cgroup */
	struct inv_proc *procs;		/* each process's totals over the heap filtered
					 * (inventory.procs' all heaps) */
	bool *buf_shown, *proc_shown;	/* pass the filters */
	uint64_t kernel_held_bytes;	/* no fd, no mapping, no attachment */
	unsigned int kernel_held;
	bool dmem;			/* the dmem controller is there */
	size_t dmem_walked, dmem_files;	/* cgroups whose dmem charges the walk of the
					 * cgroup tree read, and those read from files */
	bool mem_accounting;
	struct lsm_limit_row *lsm_rows;	/* the BPF-LSM limits' cells; NULL: not pinned */
	size_t nlsm_rows;
	struct lsm_since *lsm_since;	/* hold_sys's */
	int lsm_err;			/* the BPF-LSM limits unreadable (-EACCES: not root) */
	char lsm_why[512];		/* and why, from lsm_limit */
	struct arena names;		/* the model's own strings */
};

extern const struct hold_sys hold_sys_live;
const char *hold_sys_cgroup_root(const struct hold_sys *sys);

int hold_filter_check(const struct hold_sys *sys, struct hold_filter *flt,
		      const struct inventory *inv, char *why, size_t len);
int holdings_build(struct holdings *h, const struct hold_sys *sys, const struct inventory *inv,
		   struct collector *coll, const struct hold_filter *flt);
void holdings_free(struct holdings *h);
void holdings_read_memcg(struct holdings *h, const struct hold_sys *sys, size_t cg, size_t heap);
void holdings_bind_limit(struct holdings *h, size_t cg, size_t heap);
const char *holdings_charges_source(const struct holdings *h);
bool holdings_lsm_counted(const struct holdings *h, size_t heap);

static inline struct hold_cell *hold_cell(const struct holdings *h, size_t cg, size_t heap)
{
	return &h->cells[cg * h->nheaps + heap];
}

const char *holdings_cgroup_path(const struct holdings *h, uint64_t id);
size_t holdings_heap(const struct holdings *h, const char *name);
size_t holdings_cgroup(const struct holdings *h, const char *path);
/* the cgroup of an id (a removed one's merged with its path's), HOLD_NONE when none */
size_t holdings_cgroup_by_id(const struct holdings *h, uint64_t id);
/* the nearest ancestor of a cgroup2 path the model has, HOLD_NONE when none */
size_t holdings_ancestor(const struct holdings *h, const char *path);
bool hold_in_cgroup(const char *path, const char *filter);

#endif
