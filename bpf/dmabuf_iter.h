/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by dmabuf_iter.bpf.c and user space: fixed-width records only. */
#ifndef HEAPSTAT_DMABUF_ITER_H
#define HEAPSTAT_DMABUF_ITER_H

#define INV_NAME_LEN		32	/* DMA_BUF_NAME_LEN */
#define INV_MAX_ATTACHMENTS	64	/* counted up to this */

/* one live dma-buf, as iter/dmabuf sees it */
struct inv_buffer {
	__u64 ino;
	__u64 size;
	__u32 attachments;
	__u32 pad;
	char exp_name[INV_NAME_LEN];
	char name[INV_NAME_LEN];
};

#endif /* HEAPSTAT_DMABUF_ITER_H */
