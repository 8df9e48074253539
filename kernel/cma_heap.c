// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat CMA heap: one dma-heap per CMA area, named as upstream's CMA heap
 * names them (default_cma_region for the default area, the area's own name
 * for the others), whose buffers are charged to the allocating cgroup.
 *
 * Upstream's cma_heap also adds the default area under its area name
 * ("reserved" for cma=): here each area is one heap, so no memory is counted
 * twice. name_prefix= adds ours beside upstream's when both are loaded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cma.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/dma-map-ops.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "heapstat_heap.h"

#define DEFAULT_CMA_NAME "default_cma_region"

static char *name_prefix = "";
module_param(name_prefix, charp, 0444);
MODULE_PARM_DESC(name_prefix, "Prefix for heap names, e.g. hs_ beside upstream's CMA heap");

struct cma_heap {
	struct heapstat_heap hh;
	struct cma *cma;
};

struct cma_heap_buffer {
	struct heapstat_page_buffer buf;
	struct cma *cma;
	struct page *cma_pages;
};

static void cma_heap_release(struct heapstat_page_buffer *buf)
{
	struct cma_heap_buffer *b = container_of(buf, struct cma_heap_buffer, buf);

	cma_release(b->cma, b->cma_pages, buf->pagecount);
	kvfree(buf->pages);
	kfree(b);
}

static struct dma_buf *cma_heap_allocate(struct dma_heap *heap, unsigned long len,
					 u32 fd_flags, u64 heap_flags)
{
	struct cma_heap *ch = dma_heap_get_drvdata(heap);
	pgoff_t pagecount = len >> PAGE_SHIFT, pg;	/* len: page aligned, not 0 */
	unsigned int align = min_t(unsigned int, get_order(len), CONFIG_CMA_ALIGNMENT);
	struct cma_heap_buffer *b;
	struct dma_buf *dmabuf;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	heapstat_page_buffer_init(&b->buf, &ch->hh, len);
	b->cma = ch->cma;
	b->buf.pagecount = pagecount;
	b->buf.release = cma_heap_release;

	ret = heapstat_charge(&ch->hh, &b->buf.charge, len);
	if (ret)
		goto fail;
	b->cma_pages = cma_alloc(ch->cma, pagecount, align, true);
	if (!b->cma_pages) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = heapstat_clear_pages(b->cma_pages, pagecount);
	if (ret)
		goto free_cma;
	b->buf.pages = kvmalloc_array(pagecount, sizeof(*b->buf.pages), GFP_KERNEL);
	if (!b->buf.pages) {
		ret = -ENOMEM;
		goto free_cma;
	}
	for (pg = 0; pg < pagecount; pg++)
		b->buf.pages[pg] = b->cma_pages + pg;

	dmabuf = heapstat_page_buffer_export(&b->buf, fd_flags);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto free_pages;
	}
	heapstat_alloc_done(&ch->hh, &b->buf.charge, dmabuf, len, len, fd_flags, heap_flags);
	return dmabuf;

free_pages:
	kvfree(b->buf.pages);
free_cma:
	cma_release(ch->cma, b->cma_pages, pagecount);
fail:
	heapstat_alloc_done(&ch->hh, &b->buf.charge, ERR_PTR(ret), len, 0, fd_flags, heap_flags);
	kfree(b);
	return ERR_PTR(ret);
}

static const struct dma_heap_ops cma_heap_ops = {
	.allocate = cma_heap_allocate,
};

static const char *__init area_name(struct cma *cma)
{
	return cma == dev_get_cma_area(NULL) ? DEFAULT_CMA_NAME : cma_get_name(cma);
}

/* the heap's name of area @cma, name_prefix= first (kfree() it) */
static char *__init heap_name(struct cma *cma)
{
	return kasprintf(GFP_KERNEL, "%s%s", name_prefix, area_name(cma));
}

static int __init cma_heap_add(struct cma *cma)
{
	struct cma_heap *ch;
	char *name;
	int ret;

	ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	name = heap_name(cma);
	if (!ch || !name) {
		ret = -ENOMEM;
		goto free;
	}
	ch->cma = cma;
	ret = heapstat_heap_register(&ch->hh, name, heapstat_cma_area_bytes(cma),
				     &cma_heap_ops, ch);
	if (ret)
		goto free;
	return 0;

free:
	kfree(name);
	kfree(ch);
	return ret;
}

static int __init cma_heap_init(void)
{
	struct cma *cma;
	unsigned int i;
	int ret, err = 0, added = 0;

	/*
	 * A name taken (upstream's cma_heap loaded) fails the load before any
	 * heap is added: added heaps cannot be removed, and loaded again with
	 * name_prefix= every area gets its heap.
	 */
	for (i = 0; (cma = dma_contiguous_get_area_by_idx(i)); i++) {
		char *name = heap_name(cma);
		bool taken = name && heapstat_heap_name_taken(name);

		if (taken)
			pr_err("a heap named '%s' exists already; load with name_prefix= to add ours beside it\n",
			       name);
		kfree(name);
		if (taken)
			return -EEXIST;
	}
	/* an area that fails otherwise is said, and the others are added */
	for (i = 0; (cma = dma_contiguous_get_area_by_idx(i)); i++) {
		ret = cma_heap_add(cma);
		if (ret)
			err = err ?: ret;
		else
			added++;
	}
	if (!added && !err) {
		pr_err("no CMA area (boot with cma=SIZE or reserve one in the device tree)\n");
		return -ENODEV;
	}
	return added ? 0 : err;
}
module_init(cma_heap_init);

MODULE_DESCRIPTION("heapstat CMA heap: CMA areas as dma-heaps charged to the allocating cgroup");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
MODULE_IMPORT_NS("DMA_BUF_HEAP");
