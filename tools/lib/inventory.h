/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot of every live dma-buf and who holds it: the model that
 * heapstat report prints. Every number knows the source that produced it.
 */
#ifndef HEAPSTAT_INVENTORY_LIB_H
#define HEAPSTAT_INVENTORY_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "dmabuf_iter.h"
#include "util.h"

#define CGROUP_PATH_MAX	4096	/* PATH_MAX: a cgroup path can be no longer */

struct inv_proc {
	pid_t pid;
	char comm[17];
	const char *cgroup;		/* relative to the cgroup2 root: "/camera"; the
					 * inventory's, until inventory_free() */
	uint64_t fd_bytes;		/* buffers held through an fd, each once */
	uint64_t map_bytes;		/* bytes of dma-buf mappings */
	uint64_t pss_bytes;		/* each buffer split among its holders */
	unsigned int buffers;		/* distinct buffers held */
};

/* one process holding one buffer; sorted by buffer, then process */
struct inv_hold {
	uint32_t buf;			/* index in inventory.bufs */
	uint32_t proc;			/* index in inventory.procs */
	unsigned int fds;
	uint64_t map_bytes;
};

/*
 * Strings are the inventory's own: they live until inventory_free(). 64
 * bytes, the size sort_by_u64() moves inline (56 measured slower there).
 */
struct inv_buf {
	uint64_t ino;
	uint64_t size;
	const char *exp_name;		/* the exporter: a heap's name for heap buffers */
	const char *name;		/* the buffer's own name, "" when unnamed */
	const char (*importers)[INV_NAME_LEN];	/* the first nimporters attached devices */
	uint32_t attachments;
	uint8_t nimporters;
	bool attachments_known;		/* only iter/dmabuf counts them */
	unsigned int holders;		/* distinct processes: holds[first_hold...] */
	size_t first_hold;
};

/* inventory.c's: one process's fd or mapping of a buffer, what holds are made of */
struct inv_ref {
	uint64_t ino;
	uint64_t map_bytes;
	uint32_t proc;
	uint32_t buf : 31;		/* its index in inventory.bufs, while holds are made */
	uint32_t is_map : 1;
};

#define INV_REF_NO_BUF	0x7fffffffu	/* inv_ref.buf: a buffer born after iter/dmabuf ran */

/* what a tracer saw change since an inventory was taken (inventory_apply()) */
struct inv_export {
	uint64_t ino, size;
	const char *exp_name;
};

struct inv_changes {
	struct inv_export *exports;	/* in the order they came */
	size_t nexports, exports_cap;
	uint64_t *releases;		/* final releases */
	size_t nreleases, releases_cap;
	pid_t *tgids;			/* processes whose fds or mappings may have changed */
	size_t ntgids, tgids_cap;
};

enum inv_source {
	SRC_NONE,
	SRC_ITER_DMABUF,		/* BPF iter/dmabuf: every live buffer */
	SRC_ITER_TASK,			/* BPF iter/task_file and iter/task_vma */
	SRC_PROC_FDINFO,		/* /proc/<pid>/fd, fdinfo and maps */
};

/*
 * One difference inventory_diff() counted: a buffer (pid 0) with another
 * size, or in one inventory alone (size 0 in the other); a hold with other
 * counts of fds or bytes mapped, or in one alone (0 and 0 in the other).
 * [0]: the first inventory's, [1]: the second's.
 */
struct inv_difference {
	uint64_t ino;
	pid_t pid;
	unsigned int fds[2];
	uint64_t bytes[2];		/* a buffer's size, or a hold's bytes mapped */
};

struct inventory {
	struct inv_buf *bufs;
	size_t nbufs, bufs_cap;
	struct inv_proc *procs;
	size_t nprocs, procs_cap;
	struct inv_hold *holds;
	size_t nholds;
	enum inv_source buffers_src;
	enum inv_source holders_src;
	char note[384];			/* why the best source was not used, what is not
					 * seen; "" when nothing is to say (no pointer to
					 * it here: an inventory is copied as a value) */
	size_t unreadable;		/* processes /proc would not show us (not root) */
	struct arena strings;		/* where the buffers' strings are kept */
	const char *exporters[16];	/* exporter names, each kept once */
	size_t nexporters;
	const char **cgroups;		/* holders' cgroup paths, each kept once: a hash */
	size_t ncgroups, cgroups_cap;
	struct inv_ref *refs;		/* the holders' fds and mappings, process by process */
	size_t nrefs, refs_cap;
	size_t nmapped;			/* buffers iter/dmabuf saw mapped (by anyone) */
	bool holders_ns_only;		/* of this PID namespace only: a container's */
	const char *cgroups_src;	/* what named the holders' cgroups; NULL: nothing */
	const char *iters_loaded;	/* how the iterators were loaded; NULL: none */
};

/* in the header: analyze names a recording's sources without the rest */
static inline const char *inv_source_name(enum inv_source src)
{
	switch (src) {
	case SRC_ITER_DMABUF: return "iter/dmabuf";
	case SRC_ITER_TASK: return "iter/task_file+task_vma";
	case SRC_PROC_FDINFO: return "procfs-fdinfo";
	default: return "none";
	}
}

struct inv_iters;
struct cg_index;

int inventory_open(struct inv_iters **out, bool procfs_only, bool live);
int inventory_take(struct inv_iters *it, struct inventory *inv, const char *proc_root);
int inventory_apply(struct inv_iters *it, struct inventory *inv, const struct inv_changes *ch,
		    const char *proc_root);
size_t inventory_diff(const struct inventory *a, const struct inventory *b,
		      const struct inv_changes *skip, struct inv_difference *last);
void inventory_close(struct inv_iters *it);
const struct cg_index *inventory_cgroups(struct inv_iters *it);
int inventory_cgroups_walk(struct inv_iters *it);
int inventory_collect(struct inventory *inv, const char *proc_root, bool procfs_only);
void inventory_free(struct inventory *inv);
struct inv_buf *inventory_find(struct inventory *inv, uint64_t ino);
/*
 * Each process's fd, mapping and PSS bytes and buffers over the buffers of
 * exporter exp_name (every buffer: NULL, a copy of inventory.procs), as
 * inventory.procs has them over all: out[nprocs] (inventory.procs itself:
 * computed over all, as link_holds() does).
 */
void inventory_proc_totals(const struct inventory *inv, const char *exp_name, struct inv_proc *out);
void inventory_sort_walked(struct inv_buf *bufs, size_t n);

#endif
