// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat chunk heap: buffers made of equal chunks of PAGE_SIZE << order
 * taken from one CMA area, so a large buffer needs no large contiguous
 * range (the design proposed for mainline in 2021 and never merged).
 *
 * Chunks are taken a whole pageblock at a time while the remaining size
 * allows, then in smaller power-of-two batches at the tail. A batch CMA
 * cannot give is tried again as two halves, down to a single chunk (7.2
 * exports only cma_alloc(), which has no no-retry mode), and the rest of the
 * buffer is taken in batches no larger than the one CMA gave. Importers get
 * an sg table with one entry per chunk.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cma.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/dma-map-ops.h>
#include <linux/err.h>
#include <linux/error-injection.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pageblock-flags.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "heapstat_heap.h"

static char *cma_area = "";
module_param(cma_area, charp, 0444);
MODULE_PARM_DESC(cma_area, "CMA area to take chunks from (default: the default area)");

static unsigned int order = 4;
module_param(order, uint, 0444);
MODULE_PARM_DESC(order, "Chunk size as a page order (default 4: 64 KiB chunks)");

struct chunk_heap {
	struct heapstat_heap hh;
	struct cma *cma;
};

struct chunk_heap_buffer {
	struct heapstat_page_buffer buf;
	struct cma *cma;
	unsigned long nchunks;
};

static struct chunk_heap chunk_heap;

/* give back the first n chunks of a buffer */
static void chunk_heap_put_chunks(struct chunk_heap_buffer *b, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		cma_release(b->cma, b->buf.pages[i << order], 1UL << order);
}

static void chunk_heap_release(struct heapstat_page_buffer *buf)
{
	struct chunk_heap_buffer *b = container_of(buf, struct chunk_heap_buffer, buf);

	chunk_heap_put_chunks(b, b->nchunks);
	kvfree(buf->pages);
	kfree(b);
}

/*
 * Fill b->buf.pages with nchunks chunks. Return: 0, -ENOMEM when CMA cannot
 * give even one chunk, -EINTR on a fatal signal; on error nothing is kept.
 */
static noinline int chunk_heap_take_chunks(struct chunk_heap_buffer *b, unsigned long nchunks)
{
	unsigned long batch_max = 1, done = 0, i;
	int ret = 0;

	if (order < pageblock_order)
		batch_max = 1UL << (pageblock_order - order);

	while (done < nchunks) {
		unsigned long batch = min(batch_max, rounddown_pow_of_two(nchunks - done));
		struct page *page = NULL;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		for (; batch; batch >>= 1) {
			page = cma_alloc(b->cma, batch << order, min_t(unsigned int,
					 order + ilog2(batch), CONFIG_CMA_ALIGNMENT), true);
			if (page)
				break;
		}
		if (!page) {
			ret = -ENOMEM;
			break;
		}
		/*
		 * the rest no larger: a larger batch failed, the area has no
		 * such range now, and each cma_alloc() failing again would
		 * scan it and migrate pages (else the rest is smaller anyway)
		 */
		batch_max = batch;
		/* account the batch first, so an error below gives it back */
		for (i = 0; i < batch << order; i++)
			b->buf.pages[(done << order) + i] = page + i;
		done += batch;
		ret = heapstat_clear_pages(page, batch << order);
		if (ret)
			break;
	}
	if (ret)
		chunk_heap_put_chunks(b, done);
	return ret;
}

ALLOW_ERROR_INJECTION(chunk_heap_take_chunks, ERRNO);

static struct dma_buf *chunk_heap_allocate(struct dma_heap *heap, unsigned long len,
					   u32 fd_flags, u64 heap_flags)
{
	struct chunk_heap *ch = dma_heap_get_drvdata(heap);
	unsigned long chunk = PAGE_SIZE << order, nchunks, alloc_len;
	struct chunk_heap_buffer *b;
	struct dma_buf *dmabuf;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	/*
	 * len is page aligned and not 0. The capacity is a whole number of
	 * chunks, so within it the rounding cannot wrap; past it, len itself
	 * is charged, which refuses it.
	 */
	nchunks = len / chunk + !!(len % chunk);
	alloc_len = len <= ch->hh.capacity ? nchunks * chunk : len;
	heapstat_page_buffer_init(&b->buf, &ch->hh, alloc_len);
	b->cma = ch->cma;
	b->buf.seg_order = order;
	b->buf.release = chunk_heap_release;

	ret = heapstat_charge(&ch->hh, &b->buf.charge, alloc_len);
	if (ret)
		goto fail;
	b->buf.pagecount = nchunks << order;
	b->buf.pages = kvmalloc_array(b->buf.pagecount, sizeof(*b->buf.pages), GFP_KERNEL);
	if (!b->buf.pages) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = chunk_heap_take_chunks(b, nchunks);
	if (ret)
		goto free_pages;
	b->nchunks = nchunks;

	dmabuf = heapstat_page_buffer_export(&b->buf, fd_flags);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto put_chunks;
	}
	heapstat_alloc_done(&ch->hh, &b->buf.charge, dmabuf, len, alloc_len, fd_flags,
			    heap_flags);
	return dmabuf;

put_chunks:
	chunk_heap_put_chunks(b, nchunks);
free_pages:
	kvfree(b->buf.pages);
fail:
	heapstat_alloc_done(&ch->hh, &b->buf.charge, ERR_PTR(ret), len, 0, fd_flags, heap_flags);
	kfree(b);
	return ERR_PTR(ret);
}

static const struct dma_heap_ops chunk_heap_ops = {
	.allocate = chunk_heap_allocate,
};

static struct cma *chunk_heap_find_area(const char *name)
{
	struct cma *cma;
	unsigned int i;

	if (!*name)
		return dev_get_cma_area(NULL);
	for (i = 0; (cma = dma_contiguous_get_area_by_idx(i)); i++)
		if (!strcmp(cma_get_name(cma), name))
			return cma;
	return NULL;
}

static int __init chunk_heap_init(void)
{
	struct chunk_heap *ch = &chunk_heap;
	u64 capacity;
	char *name;
	int ret;

	if (order > MAX_PAGE_ORDER) {
		pr_err("order=%u: at most %u\n", order, MAX_PAGE_ORDER);
		return -EINVAL;
	}
	ch->cma = chunk_heap_find_area(cma_area);
	if (!ch->cma) {
		pr_err("no CMA area '%s' (boot with cma=SIZE, or name one with cma_area=)\n",
		       *cma_area ? cma_area : "default");
		return -ENODEV;
	}
	capacity = round_down(heapstat_cma_area_bytes(ch->cma), PAGE_SIZE << order);
	name = kasprintf(GFP_KERNEL, "chunk-%s", cma_get_name(ch->cma));
	if (!name)
		return -ENOMEM;
	ret = heapstat_heap_register(&ch->hh, name, capacity, &chunk_heap_ops, ch);
	if (ret)
		kfree(name);
	return ret;
}
module_init(chunk_heap_init);

MODULE_DESCRIPTION("heapstat chunk heap: buffers of equal CMA chunks, charged to the allocating cgroup");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
MODULE_IMPORT_NS("DMA_BUF_HEAP");
