// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat_core: dma_buf_ops for buffers made of struct pages (CMA and chunk
 * heaps): per-attachment sg tables, DMA mapping, CPU access syncs, user mmap
 * and kernel vmap, and the final release with its uncharge.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "heapstat_heap.h"

struct page_attachment {
	struct device *dev;
	struct sg_table table;
	struct list_head list;
	bool mapped;
};

/* fail_function may make it fail (the debug kernel's fault injection tests) */
static noinline int page_buffer_make_table(struct heapstat_page_buffer *buf,
					   struct sg_table *table)
{
	unsigned int nseg, i;
	struct scatterlist *sg;
	int ret;

	if (!buf->seg_order)
		return sg_alloc_table_from_pages(table, buf->pages, buf->pagecount, 0,
						 buf->len, GFP_KERNEL);
	nseg = buf->pagecount >> buf->seg_order;
	ret = sg_alloc_table(table, nseg, GFP_KERNEL);
	if (ret)
		return ret;
	for_each_sgtable_sg(table, sg, i)
		sg_set_page(sg, buf->pages[(pgoff_t)i << buf->seg_order],
			    PAGE_SIZE << buf->seg_order, 0);
	return 0;
}

ALLOW_ERROR_INJECTION(page_buffer_make_table, ERRNO);

static int page_buffer_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct heapstat_page_buffer *buf = dmabuf->priv;
	struct page_attachment *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	ret = page_buffer_make_table(buf, &a->table);
	if (ret) {
		kfree(a);
		return ret;
	}
	a->dev = attachment->dev;
	INIT_LIST_HEAD(&a->list);
	attachment->priv = a;

	mutex_lock(&buf->lock);
	list_add(&a->list, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;
}

static void page_buffer_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct heapstat_page_buffer *buf = dmabuf->priv;
	struct page_attachment *a = attachment->priv;

	mutex_lock(&buf->lock);
	list_del(&a->list);
	mutex_unlock(&buf->lock);
	sg_free_table(&a->table);
	kfree(a);
}

static struct sg_table *page_buffer_map(struct dma_buf_attachment *attachment,
					enum dma_data_direction direction)
{
	struct page_attachment *a = attachment->priv;
	int ret;

	ret = dma_map_sgtable(attachment->dev, &a->table, direction, 0);
	if (ret)
		return ERR_PTR(ret);
	a->mapped = true;
	return &a->table;
}

static void page_buffer_unmap(struct dma_buf_attachment *attachment, struct sg_table *table,
			      enum dma_data_direction direction)
{
	struct page_attachment *a = attachment->priv;

	a->mapped = false;
	dma_unmap_sgtable(attachment->dev, table, direction, 0);
}

static int page_buffer_begin_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction direction)
{
	struct heapstat_page_buffer *buf = dmabuf->priv;
	struct page_attachment *a;

	mutex_lock(&buf->lock);
	if (buf->vmap_cnt)
		invalidate_kernel_vmap_range(buf->vaddr, buf->len);
	list_for_each_entry(a, &buf->attachments, list)
		if (a->mapped)
			dma_sync_sgtable_for_cpu(a->dev, &a->table, direction);
	mutex_unlock(&buf->lock);
	return 0;
}

static int page_buffer_end_cpu_access(struct dma_buf *dmabuf,
				      enum dma_data_direction direction)
{
	struct heapstat_page_buffer *buf = dmabuf->priv;
	struct page_attachment *a;

	mutex_lock(&buf->lock);
	if (buf->vmap_cnt)
		flush_kernel_vmap_range(buf->vaddr, buf->len);
	list_for_each_entry(a, &buf->attachments, list)
		if (a->mapped)
			dma_sync_sgtable_for_device(a->dev, &a->table, direction);
	mutex_unlock(&buf->lock);
	return 0;
}

static vm_fault_t page_buffer_fault(struct vm_fault *vmf)
{
	struct heapstat_page_buffer *buf = vmf->vma->vm_private_data;

	if (vmf->pgoff >= buf->pagecount)
		return VM_FAULT_SIGBUS;
	return vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(buf->pages[vmf->pgoff]));
}

static const struct vm_operations_struct page_buffer_vm_ops = {
	.fault = page_buffer_fault,
};

static int page_buffer_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return -EINVAL;
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &page_buffer_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	return 0;
}

static int page_buffer_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct heapstat_page_buffer *buf = dmabuf->priv;
	int ret = 0;

	mutex_lock(&buf->lock);
	if (!buf->vmap_cnt) {
		buf->vaddr = vmap(buf->pages, buf->pagecount, VM_MAP, PAGE_KERNEL);
		if (!buf->vaddr) {
			ret = -ENOMEM;
			goto unlock;
		}
	}
	buf->vmap_cnt++;
	iosys_map_set_vaddr(map, buf->vaddr);
unlock:
	mutex_unlock(&buf->lock);
	return ret;
}

static void page_buffer_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct heapstat_page_buffer *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!--buf->vmap_cnt) {
		vunmap(buf->vaddr);
		buf->vaddr = NULL;
	}
	mutex_unlock(&buf->lock);
	iosys_map_clear(map);
}

static void page_buffer_release(struct dma_buf *dmabuf)
{
	struct heapstat_page_buffer *buf = dmabuf->priv;

	if (WARN(buf->vmap_cnt, "%s: buffer still mapped in the kernel\n", buf->hh->name))
		vunmap(buf->vaddr);
	heapstat_free_done(buf->hh, &buf->charge, buf->len);
	buf->release(buf);
}

static const struct dma_buf_ops page_buffer_ops = {
	.attach = page_buffer_attach,
	.detach = page_buffer_detach,
	.map_dma_buf = page_buffer_map,
	.unmap_dma_buf = page_buffer_unmap,
	.begin_cpu_access = page_buffer_begin_cpu_access,
	.end_cpu_access = page_buffer_end_cpu_access,
	.mmap = page_buffer_mmap,
	.vmap = page_buffer_vmap,
	.vunmap = page_buffer_vunmap,
	.release = page_buffer_release,
};

/**
 * heapstat_page_buffer_init() - set up a page buffer's common fields
 * @buf: the buffer; the heap fills in pages, pagecount, seg_order, release
 * @hh: its heap
 * @len: its length in bytes
 */
void heapstat_page_buffer_init(struct heapstat_page_buffer *buf, struct heapstat_heap *hh,
			       unsigned long len)
{
	buf->hh = hh;
	buf->len = len;
	INIT_LIST_HEAD(&buf->attachments);
	mutex_init(&buf->lock);
}
EXPORT_SYMBOL_GPL(heapstat_page_buffer_init);

/**
 * heapstat_clear_pages() - zero pages before they are handed out
 * @page: first page of a physically contiguous run
 * @count: number of pages
 *
 * Return: 0, or -EINTR when the allocating task got a fatal signal.
 */
int heapstat_clear_pages(struct page *page, unsigned long count)
{
	unsigned long i;

	for (i = 0; i < count; i++) {
		clear_highpage(page + i);
		/* no point zeroing for a task that is being killed */
		if (!(i % 256)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}
EXPORT_SYMBOL_GPL(heapstat_clear_pages);
ALLOW_ERROR_INJECTION(heapstat_clear_pages, ERRNO);

/**
 * heapstat_page_buffer_export() - export a filled page buffer as a dma-buf
 * @buf: the buffer, with pages and release set
 * @fd_flags: flags for the dma-buf's file
 *
 * Return: the dma-buf or an ERR_PTR; on error the caller still owns @buf.
 */
struct dma_buf *heapstat_page_buffer_export(struct heapstat_page_buffer *buf, u32 fd_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);

	exp_info.exp_name = buf->hh->name;
	exp_info.ops = &page_buffer_ops;
	exp_info.size = buf->len;
	exp_info.flags = fd_flags;
	exp_info.priv = buf;
	return dma_buf_export(&exp_info);
}
EXPORT_SYMBOL_GPL(heapstat_page_buffer_export);
ALLOW_ERROR_INJECTION(heapstat_page_buffer_export, ERRNO);
