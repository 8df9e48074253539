// SPDX-License-Identifier: GPL-2.0
/*
 * Test heap "modname": buffers of pages whose exporter name is the module's
 * (DEFINE_DMA_BUF_EXPORT_INFO's KBUILD_MODNAME), not the heap's, as
 * upstream's TEE heap (drivers/tee/tee_heap.c) exports its buffers as "tee".
 * heapstat's bpf-lsm limits must charge them to the heap all the same.
 *
 * Its buffers are order-0 pages, mapped for devices and user space as the
 * system heap's are (upstream's dmabuf-heaps kselftest runs on every heap).
 * A heap cannot be removed, so neither can this module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

MODULE_IMPORT_NS("DMA_BUF");
MODULE_IMPORT_NS("DMA_BUF_HEAP");

struct modname_buffer {
	unsigned long npages;
	struct page *pages[];
};

static void modname_free(struct modname_buffer *buf, unsigned long n)
{
	while (n--)
		__free_page(buf->pages[n]);
	kvfree(buf);
}

/* each attachment its own table of the buffer's pages */
static int modname_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct modname_buffer *buf = dmabuf->priv;
	struct sg_table *table = kzalloc(sizeof(*table), GFP_KERNEL);
	int ret;

	if (!table)
		return -ENOMEM;
	ret = sg_alloc_table_from_pages(table, buf->pages, buf->npages, 0,
					buf->npages << PAGE_SHIFT, GFP_KERNEL);
	if (ret) {
		kfree(table);
		return ret;
	}
	attachment->priv = table;
	return 0;
}

static void modname_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct sg_table *table = attachment->priv;

	sg_free_table(table);
	kfree(table);
}

static struct sg_table *modname_map_dma_buf(struct dma_buf_attachment *attachment,
					    enum dma_data_direction dir)
{
	struct sg_table *table = attachment->priv;
	int ret = dma_map_sgtable(attachment->dev, table, dir, 0);

	return ret ? ERR_PTR(ret) : table;
}

static void modname_unmap_dma_buf(struct dma_buf_attachment *attachment,
				  struct sg_table *table, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attachment->dev, table, dir, 0);
}

static int modname_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct modname_buffer *buf = dmabuf->priv;
	unsigned long n = vma_pages(vma);

	if (vma->vm_pgoff > buf->npages || n > buf->npages - vma->vm_pgoff)
		return -EINVAL;
	return vm_insert_pages(vma, vma->vm_start, buf->pages + vma->vm_pgoff, &n);
}

static void modname_release(struct dma_buf *dmabuf)
{
	struct modname_buffer *buf = dmabuf->priv;

	modname_free(buf, buf->npages);
}

static const struct dma_buf_ops modname_buf_ops = {
	.attach = modname_attach,
	.detach = modname_detach,
	.map_dma_buf = modname_map_dma_buf,
	.unmap_dma_buf = modname_unmap_dma_buf,
	.mmap = modname_mmap,
	.release = modname_release,
};

static struct dma_buf *modname_allocate(struct dma_heap *heap, unsigned long len,
					u32 fd_flags, u64 heap_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);	/* exp_name: KBUILD_MODNAME */
	unsigned long n = len >> PAGE_SHIFT, i;
	struct modname_buffer *buf;
	struct dma_buf *dmabuf;

	buf = kvzalloc(struct_size(buf, pages, n), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < n; i++) {
		/* a size past what there is: let a killed caller go, as the system heap does */
		buf->pages[i] = fatal_signal_pending(current) ? NULL :
				alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!buf->pages[i]) {
			modname_free(buf, i);
			return ERR_PTR(-ENOMEM);
		}
	}
	buf->npages = n;
	exp_info.ops = &modname_buf_ops;
	exp_info.size = len;
	exp_info.flags = fd_flags;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf))
		modname_free(buf, n);
	return dmabuf;
}

static const struct dma_heap_ops modname_heap_ops = {
	.allocate = modname_allocate,
};

static int __init modname_heap_init(void)
{
	struct dma_heap_export_info exp_info = {
		.name = "modname",
		.ops = &modname_heap_ops,
	};

	return PTR_ERR_OR_ZERO(dma_heap_add(&exp_info));
}
module_init(modname_heap_init);

MODULE_DESCRIPTION("heapstat test heap whose buffers' exporter name is the module's");
MODULE_LICENSE("GPL");
