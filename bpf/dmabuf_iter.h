/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by dmabuf_iter.bpf.c and user space. Each record is a fixed head
 * followed by the optional parts its flags name, so the common record (a
 * buffer of an exporter already named, an fd of a process already named)
 * is a few words: every byte is copied twice in the kernel and once more
 * in user space, per buffer.
 */
#ifndef HEAPSTAT_DMABUF_ITER_H
#define HEAPSTAT_DMABUF_ITER_H

#include "heap_name.h"

#define INV_NAME_LEN		32	/* DMA_BUF_NAME_LEN: a buffer's name, a device's cut there */
#define INV_MAX_ATTACHMENTS	64	/* counted up to this */
#define INV_MAX_IMPORTERS	4	/* devices named up to this */

/*
 * One live dma-buf, as iter/dmabuf sees it. Then, in this order: the
 * exporter's name (INV_BUF_EXP_NAME: it differs from the last record's),
 * HEAP_NAME_LEN bytes, the buffer's name (INV_BUF_NAME), and `importers`
 * device names, each INV_NAME_LEN bytes.
 */
struct inv_buffer {
	__u64 ino;
	__u64 size;
	__u32 attachments;
	__u8 flags;
	__u8 importers;
	__u16 pad;
};

#define INV_BUF_EXP_NAME	0x1
#define INV_BUF_NAME		0x2
#define INV_BUF_MAPPED		0x4	/* a mapping of its file exists (no part follows) */

#define DMA_BUF_MAGIC		0x444d4142	/* "DMAB": the dma-buf filesystem */

/* what the iterators named last (an exporter, a process), in their .bss */
struct inv_named {
	__u64 key;		/* what was named */
	__u64 seq;		/* by the record of this seq_num */
	__u64 session;		/* in this walk */
};

/*
 * A process's fd to a dma-buf, as iter/task_file sees it. Then a struct
 * inv_fd_proc when the record is its process's first (INV_FD_PROC), and a
 * struct inv_fd_buf when iter/dmabuf does not name the buffers, or may not
 * (INV_FD_BUF: an O_PATH file's, INV_FD_PATH).
 */
struct inv_fd {
	__u64 ino;
	__u32 tgid;
	__u32 flags;
};

#define INV_FD_PROC		0x1
#define INV_FD_BUF		0x2
#define INV_FD_PATH		0x4	/* an O_PATH file of the buffer: iter/dmabuf may not list it */

struct inv_fd_proc {
	__u64 cgroup_id;	/* the task's cgroup2 cgroup */
	char comm[16];
};

struct inv_fd_buf {
	__u64 size;
	char exp_name[HEAP_NAME_LEN];
	char name[INV_NAME_LEN];
};

/*
 * A mapping of a dma-buf, as iter/task_vma sees it. Then a struct
 * inv_fd_buf when iter/dmabuf does not name the buffers (INV_MAP_BUF): a
 * buffer mapped once its fds are closed has no fd record to name it.
 */
struct inv_map {
	__u32 tgid;
	__u32 flags;
	__u64 ino;
	__u64 bytes;
};

#define INV_MAP_BUF		0x1

/*
 * A cgroup, as iter/cgroup sees it walking a subtree in pre-order (each
 * after its parent). Then `npools` struct inv_dmem_pool, then `len` bytes
 * of its directory's name.
 */
struct inv_cgroup {
	__u64 id;		/* its directory's inode number */
	__u64 parent;		/* its parent's; 0: none */
	__u32 len;
	__u16 npools;		/* at most INV_DMEM_POOLS */
	__u16 flags;		/* INV_CG_* */
};

#define INV_CGROUP_NAME_MAX	256	/* NAME_MAX + 1 */

/*
 * A cgroup iterator's output must fit in one read of its seq file (8 pages:
 * a second read finds the cgroup lock dropped and fails), so the tree is
 * walked in sessions of at most INV_CGROUP_SESSION bytes, each from the top,
 * writing nothing up to the cgroup the last one stopped after.
 */
#define INV_CGROUP_SESSION	(28 * 1024)

struct inv_cgroup_session {
	__u64 resume_after;	/* in: write from the cgroup after this one (0: all);
				 * the walk clears it when it passes that cgroup */
	__u64 last;		/* out: the last cgroup written */
	__u32 bytes;		/* out: written in this session */
	__u32 full;		/* out: stopped before a cgroup that would not fit */
};

#define INV_CG_DMEM_READ	1	/* the kernel has dmem: its pools were read */
#define INV_CG_DMEM_ON		2	/* dmem is on in this cgroup (its dmem.* files exist) */
#define INV_CG_DMEM_MORE	4	/* more pools than INV_DMEM_POOLS: not all sent */

#define INV_DMEM_POOLS		16
#define INV_DMEM_REGION_LEN	64

/*
 * One region's charge in a cgroup, as its dmem.current and dmem.max say:
 * a cgroup has a pool for each region it or a descendant ever charged.
 * A region_len of INV_DMEM_REGION_LEN - 1 or more: the name may have been
 * cut, or was not read; 0: the pool went while the walk read the list.
 */
struct inv_dmem_pool {
	__u64 usage;		/* bytes */
	__u64 max;		/* bytes; PAGE_COUNTER_MAX or above: "max" */
	__u32 region_len;
	__u32 pad;
	char region[INV_DMEM_REGION_LEN];
};

#endif /* HEAPSTAT_DMABUF_ITER_H */
