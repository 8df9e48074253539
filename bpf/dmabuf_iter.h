/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by dmabuf_iter.bpf.c and user space: fixed-width records only. */
#ifndef HEAPSTAT_DMABUF_ITER_H
#define HEAPSTAT_DMABUF_ITER_H

#define INV_NAME_LEN		32	/* DMA_BUF_NAME_LEN */
#define INV_MAX_ATTACHMENTS	64	/* counted up to this */
#define INV_MAX_IMPORTERS	4	/* devices named up to this */

/* one live dma-buf, as iter/dmabuf sees it */
struct inv_buffer {
	__u64 ino;
	__u64 size;
	__u32 attachments;
	__u32 pad;
	char exp_name[INV_NAME_LEN];
	char name[INV_NAME_LEN];
	char importers[INV_MAX_IMPORTERS][INV_NAME_LEN];	/* attached devices */
};

#define DMA_BUF_MAGIC		0x444d4142	/* "DMAB": the dma-buf filesystem */

/* a process's fd to a dma-buf, as iter/task_file sees it */
struct inv_fd {
	__u32 tgid;
	__u32 fd;
	__u64 ino;
	__u64 size;
	__u64 cgroup_id;	/* the task's cgroup2 cgroup */
	char comm[16];
	char exp_name[INV_NAME_LEN];
	char name[INV_NAME_LEN];
};

/* a mapping of a dma-buf, as iter/task_vma sees it */
struct inv_map {
	__u32 tgid;
	__u32 pad;
	__u64 ino;
	__u64 bytes;
};

#endif /* HEAPSTAT_DMABUF_ITER_H */
