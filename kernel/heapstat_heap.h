/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What heapstat_core gives the heap modules: cgroup accounting (dmem
 * regions), the heap_alloc/heap_free tracepoints, and dma_buf_ops for
 * buffers made of struct pages.
 */
#ifndef HEAPSTAT_HEAP_H
#define HEAPSTAT_HEAP_H

#include <linux/dma-buf.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "compat.h"

struct cma;
struct dma_heap;
struct dma_heap_ops;
struct dmem_cgroup_region;
struct dmem_cgroup_pool_state;

/**
 * struct heapstat_heap - what every heapstat heap has
 * @name: heap name, as in /dev/dma_heap/<name>
 * @capacity: bytes it can hand out at most
 * @heap: the dma-heap once added
 * @region: dmem cgroup region "dma-heap/<name>"
 */
struct heapstat_heap {
	const char *name;
	u64 capacity;
	struct dma_heap *heap;
	struct dmem_cgroup_region *region;
};

/**
 * struct heapstat_charge - one buffer's accounting, carried to its release
 * @pool: dmem pool charged; the charge follows the buffer, not the process
 * @bytes: bytes charged
 * @cgroup_id: id of the charged cgroup
 * @start_ns: when its allocation started
 * @ino: inode of its dma-buf
 */
struct heapstat_charge {
	struct dmem_cgroup_pool_state *pool;
	u64 bytes;
	u64 cgroup_id;
	u64 start_ns;
	unsigned long ino;
};

bool heapstat_heap_name_taken(const char *name);
int heapstat_heap_register(struct heapstat_heap *hh, const char *name, u64 capacity,
			   const struct dma_heap_ops *ops, void *priv);
int heapstat_charge(struct heapstat_heap *hh, struct heapstat_charge *charge, u64 bytes);
void heapstat_alloc_done(struct heapstat_heap *hh, struct heapstat_charge *charge,
			 struct dma_buf *dmabuf, unsigned long len, unsigned long alloc_len,
			 u32 fd_flags, u64 heap_flags);
void heapstat_free_done(struct heapstat_heap *hh, struct heapstat_charge *charge,
			unsigned long len);

/**
 * struct heapstat_page_buffer - a buffer backed by struct pages
 * @hh: its heap
 * @len: length in bytes
 * @pages: every page, in order
 * @pagecount: number of pages
 * @seg_order: the sg table holds equal segments of PAGE_SIZE << seg_order;
 *	0 lets contiguous pages merge
 * @release: frees the backing memory and the structure holding this one
 * @charge: accounting, for the release
 */
struct heapstat_page_buffer {
	struct heapstat_heap *hh;
	struct list_head attachments;
	struct mutex lock;
	unsigned long len;
	struct page **pages;
	pgoff_t pagecount;
	unsigned int seg_order;
	int vmap_cnt;
	void *vaddr;
	void (*release)(struct heapstat_page_buffer *buf);
	struct heapstat_charge charge;
};

void heapstat_page_buffer_init(struct heapstat_page_buffer *buf, struct heapstat_heap *hh,
			       unsigned long len);
u64 heapstat_cma_area_bytes(struct cma *cma);

int heapstat_clear_pages(struct page *page, unsigned long count);
struct dma_buf *heapstat_page_buffer_export(struct heapstat_page_buffer *buf, u32 fd_flags);

#endif /* HEAPSTAT_HEAP_H */
