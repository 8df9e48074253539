// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat carveout heap: one dma-heap per physical range reserved at boot,
 * allocated with genalloc and charged to the allocating cgroup (the role of
 * the coherent reserved-memory heap proposed for mainline).
 *
 * Ranges come from module parameters matching a memmap=SIZE$BASE boot
 * reservation (x86 has no device tree), and, where OF is present, from
 * reserved-memory nodes compatible with "heapstat,carveout", named after the
 * node (carveout-<node name>). A range marked no-map is never mapped by the
 * CPU: mmap is refused with -EPERM, vmap with the dma-buf core's -EINVAL for
 * an exporter without vmap (a failing vmap op would trip its WARN), and its
 * memory cannot be zeroed before it is handed out.
 *
 * The CPU reaches a mapped range through one memremap() mapping. A range in
 * the kernel's direct map (System RAM the device tree reserved without
 * no-map) is mapped for importers as pages, with dma_map_sgtable, and CPU
 * access syncs their caches; any other range (no-map, a memmap= hole, which
 * may have struct pages but no direct mapping for swiotlb to bounce through)
 * gets DMA addresses only, through dma_map_resource, which nothing syncs:
 * for devices coherent with the CPU. A device that is not may attach to a
 * no-map range (the CPU never caches it) but not to one the CPU maps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/dma-map-ops.h>	/* dev_is_dma_coherent() */
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/error-injection.h>
#include <linux/genalloc.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "heapstat_heap.h"

#define MAX_RANGES 8

static unsigned long base[MAX_RANGES];
static int nr_base;
module_param_array(base, ulong, &nr_base, 0444);
MODULE_PARM_DESC(base, "Physical start of each range, as in memmap=SIZE$BASE");

static unsigned long size[MAX_RANGES];
static int nr_size;
module_param_array(size, ulong, &nr_size, 0444);
MODULE_PARM_DESC(size, "Size in bytes of each range");

static char *names[MAX_RANGES];
static int nr_names;
module_param_array(names, charp, &nr_names, 0444);
MODULE_PARM_DESC(names, "Heap name suffix of each range: carveout-<name> (default: its index)");

static bool no_map[MAX_RANGES];
static int nr_no_map;
module_param_array(no_map, bool, &nr_no_map, 0444);
MODULE_PARM_DESC(no_map, "Never map the range for the CPU (no mmap, no vmap, no zeroing)");

struct carveout_heap {
	struct heapstat_heap hh;
	struct gen_pool *pool;
	phys_addr_t base;
	size_t size;
	void *vaddr;		/* the whole range; NULL when no-map */
	bool pages;		/* direct-mapped, with struct pages: mapped as pages */
};

struct carveout_buffer {
	struct carveout_heap *heap;
	struct list_head attachments;
	struct mutex lock;
	phys_addr_t phys;
	unsigned long len;
	struct heapstat_charge charge;
};

struct carveout_attachment {
	struct device *dev;
	struct sg_table table;
	struct list_head list;
	bool mapped;
};

/* sg entries hold at most UINT_MAX bytes: a buffer takes several */
#define CARVEOUT_SEG	SZ_1G

static inline void *carveout_vaddr(struct carveout_buffer *b)
{
	return b->heap->vaddr + (b->phys - b->heap->base);
}

static int carveout_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct carveout_buffer *b = dmabuf->priv;
	struct carveout_attachment *a;
	int ret;

	/*
	 * A range the CPU maps cacheable but not as pages: nothing keeps a
	 * device that does not snoop the CPU's caches in sync with them (the
	 * zeroing would stay in them, and an eviction could overwrite what
	 * the device wrote). Such a device cannot share it, not even one that
	 * would never map it (vgem imports without mapping): told at the attach.
	 */
	if (b->heap->vaddr && !b->heap->pages && !dev_is_dma_coherent(attachment->dev))
		return -EINVAL;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	ret = sg_alloc_table(&a->table, DIV_ROUND_UP(b->len, CARVEOUT_SEG), GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}
	if (b->heap->pages) {
		struct scatterlist *sg;
		unsigned long off = 0;
		int i;

		for_each_sgtable_sg(&a->table, sg, i) {
			unsigned long n = min_t(unsigned long, b->len - off, CARVEOUT_SEG);

			sg_set_page(sg, pfn_to_page(PHYS_PFN(b->phys + off)), n, 0);
			off += n;
		}
	}
	a->dev = attachment->dev;
	attachment->priv = a;
	mutex_lock(&b->lock);
	list_add(&a->list, &b->attachments);
	mutex_unlock(&b->lock);
	return 0;
}

static void carveout_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct carveout_buffer *b = dmabuf->priv;
	struct carveout_attachment *a = attachment->priv;

	mutex_lock(&b->lock);
	list_del(&a->list);
	mutex_unlock(&b->lock);
	sg_free_table(&a->table);
	kfree(a);
}

static struct sg_table *carveout_map(struct dma_buf_attachment *attachment,
				     enum dma_data_direction dir)
{
	struct carveout_buffer *b = attachment->dmabuf->priv;
	struct carveout_attachment *a = attachment->priv;
	struct scatterlist *sg;
	unsigned long off = 0;
	dma_addr_t addr;
	int ret, i;

	if (b->heap->pages) {
		ret = dma_map_sgtable(attachment->dev, &a->table, dir, 0);
		if (ret)
			return ERR_PTR(ret);
	} else {
		addr = dma_map_resource(attachment->dev, b->phys, b->len, dir, 0);
		if (dma_mapping_error(attachment->dev, addr))
			return ERR_PTR(-ENOMEM);
		/* one mapping, told in entries of at most CARVEOUT_SEG */
		for_each_sgtable_sg(&a->table, sg, i) {
			sg_dma_address(sg) = addr + off;
			sg_dma_len(sg) = min_t(unsigned long, b->len - off, CARVEOUT_SEG);
			off += sg_dma_len(sg);
		}
		a->table.nents = a->table.orig_nents;
	}
	a->mapped = true;
	return &a->table;
}

static void carveout_unmap(struct dma_buf_attachment *attachment, struct sg_table *table,
			   enum dma_data_direction dir)
{
	struct carveout_buffer *b = attachment->dmabuf->priv;
	struct carveout_attachment *a = attachment->priv;

	a->mapped = false;
	if (b->heap->pages)
		dma_unmap_sgtable(attachment->dev, table, dir, 0);
	else
		dma_unmap_resource(attachment->dev, sg_dma_address(table->sgl), b->len, dir, 0);
}

/*
 * Only ranges mapped as pages have DMA mappings with caches to keep in sync:
 * the DMA API syncs no dma_map_resource() mapping (it has no page to sync).
 */
static int carveout_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct carveout_buffer *b = dmabuf->priv;
	struct carveout_attachment *a;

	if (!b->heap->pages)
		return 0;
	mutex_lock(&b->lock);
	list_for_each_entry(a, &b->attachments, list)
		if (a->mapped)
			dma_sync_sgtable_for_cpu(a->dev, &a->table, dir);
	mutex_unlock(&b->lock);
	return 0;
}

static int carveout_end_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct carveout_buffer *b = dmabuf->priv;
	struct carveout_attachment *a;

	if (!b->heap->pages)
		return 0;
	mutex_lock(&b->lock);
	list_for_each_entry(a, &b->attachments, list)
		if (a->mapped)
			dma_sync_sgtable_for_device(a->dev, &a->table, dir);
	mutex_unlock(&b->lock);
	return 0;
}

static int carveout_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct carveout_buffer *b = dmabuf->priv;

	if (!b->heap->vaddr)
		return -EPERM;	/* no-map range */
	if (!(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return -EINVAL;
	return remap_pfn_range(vma, vma->vm_start, PHYS_PFN(b->phys) + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static int carveout_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	iosys_map_set_vaddr(map, carveout_vaddr(dmabuf->priv));
	return 0;
}

static void carveout_release(struct dma_buf *dmabuf)
{
	struct carveout_buffer *b = dmabuf->priv;

	heapstat_free_done(&b->heap->hh, &b->charge, b->len);
	gen_pool_free(b->heap->pool, b->phys, b->len);
	kfree(b);
}

static const struct dma_buf_ops carveout_buf_ops = {
	.attach = carveout_attach,
	.detach = carveout_detach,
	.map_dma_buf = carveout_map,
	.unmap_dma_buf = carveout_unmap,
	.begin_cpu_access = carveout_begin_cpu_access,
	.end_cpu_access = carveout_end_cpu_access,
	.mmap = carveout_mmap,
	.vmap = carveout_vmap,
	.release = carveout_release,
};

/* no-map ranges: no vmap op at all */
static const struct dma_buf_ops carveout_nomap_buf_ops = {
	.attach = carveout_attach,
	.detach = carveout_detach,
	.map_dma_buf = carveout_map,
	.unmap_dma_buf = carveout_unmap,
	.mmap = carveout_mmap,
	.release = carveout_release,
};

/* Return: 0, or -EINTR when the allocating task got a fatal signal. */
static noinline int carveout_clear(struct carveout_buffer *b)
{
	unsigned long off, step;

	for (off = 0; off < b->len; off += step) {
		step = min_t(unsigned long, b->len - off, SZ_1M);
		memset(carveout_vaddr(b) + off, 0, step);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

ALLOW_ERROR_INJECTION(carveout_clear, ERRNO);

static struct dma_buf *carveout_allocate(struct dma_heap *heap, unsigned long len,
					 u32 fd_flags, u64 heap_flags)
{
	struct carveout_heap *ch = dma_heap_get_drvdata(heap);
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct carveout_buffer *b;
	struct dma_buf *dmabuf;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	b->heap = ch;
	b->len = len;
	INIT_LIST_HEAD(&b->attachments);
	mutex_init(&b->lock);

	ret = heapstat_charge(&ch->hh, &b->charge, len);	/* refuses len > size */
	if (ret)
		goto fail;
	b->phys = gen_pool_alloc(ch->pool, len);
	if (!b->phys) {
		ret = -ENOMEM;
		goto fail;
	}
	if (ch->vaddr) {
		ret = carveout_clear(b);
		if (ret)
			goto free_range;
	}
	exp_info.exp_name = ch->hh.name;
	exp_info.ops = ch->vaddr ? &carveout_buf_ops : &carveout_nomap_buf_ops;
	exp_info.size = len;
	exp_info.flags = fd_flags;
	exp_info.priv = b;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto free_range;
	}
	heapstat_alloc_done(&ch->hh, &b->charge, dmabuf, len, len, fd_flags, heap_flags);
	return dmabuf;

free_range:
	gen_pool_free(ch->pool, b->phys, len);
fail:
	heapstat_alloc_done(&ch->hh, &b->charge, ERR_PTR(ret), len, 0, fd_flags, heap_flags);
	kfree(b);
	return ERR_PTR(ret);
}

static const struct dma_heap_ops carveout_heap_ops = {
	.allocate = carveout_allocate,
};

/*
 * Whether the range may be handed to the DMA API as pages: it has struct
 * pages and the kernel maps it directly (System RAM), as swiotlb's bounce
 * and importers' kmap of a page need. A memmap= hole has struct pages when
 * it lies in a present memory section, but no direct mapping.
 */
static bool __init range_has_pages(phys_addr_t start, size_t len)
{
	unsigned long pfn;

	if (region_intersects(start, len, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_INTERSECTS)
		return false;
	for (pfn = PHYS_PFN(start); pfn < PHYS_PFN(start + len); pfn++)
		if (!pfn_valid(pfn))
			return false;
	return true;
}

/*
 * Heaps cannot be removed once added: a range is only given back if adding
 * fails. @reserved: the device tree reserved it (memblock), so it may lie in
 * System RAM and is not claimed again in the resource tree.
 */
static int __init carveout_add(const char *label, phys_addr_t start, size_t len, bool nomap,
			       bool reserved)
{
	struct carveout_heap *ch;
	char *name;
	int ret;

	if (!len || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(len) || start + len < start) {
		pr_err("carveout-%s: range %pa+%zx is empty or not page aligned\n",
		       label, &start, len);
		return -EINVAL;
	}
	/* genalloc's 0 is its failure: a range at 0 would lose its first buffer */
	if (!start) {
		pr_err("carveout-%s: a range at physical address 0 is not supported\n", label);
		return -EINVAL;
	}
	/* memory the kernel uses is never handed out: it must be reserved at boot */
	if (!reserved &&
	    region_intersects(start, len, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT) {
		pr_err("carveout-%s: %pa+%zx is System RAM: reserve it at boot (memmap=%zu$%pa)\n",
		       label, &start, len, len, &start);
		return -EBUSY;
	}
	ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	name = kasprintf(GFP_KERNEL, "carveout-%s", label);
	if (!ch || !name) {
		ret = -ENOMEM;
		goto free;
	}
	ch->base = start;
	ch->size = len;
	if (!reserved && !request_mem_region(start, len, name)) {
		pr_err("%s: %pa+%zx is claimed by another driver\n", name, &start, len);
		ret = -EBUSY;
		goto free;
	}
	if (!nomap) {
		ch->vaddr = memremap(start, len, MEMREMAP_WB);
		if (!ch->vaddr) {
			ret = -ENOMEM;
			goto release_region;
		}
		ch->pages = range_has_pages(start, len);
	}
	ch->pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!ch->pool) {
		ret = -ENOMEM;
		goto unmap;
	}
	ret = gen_pool_add(ch->pool, start, len, NUMA_NO_NODE);
	if (ret)
		goto destroy_pool;
	ret = heapstat_heap_register(&ch->hh, name, len, &carveout_heap_ops, ch);
	if (ret)
		goto destroy_pool;
	return 0;

destroy_pool:
	gen_pool_destroy(ch->pool);
unmap:
	if (ch->vaddr)
		memunmap(ch->vaddr);
release_region:
	if (!reserved)
		release_mem_region(start, len);
free:
	kfree(name);
	kfree(ch);
	return ret;
}

/* device tree: reserved-memory nodes compatible with "heapstat,carveout" */
static int __init carveout_add_of(void)
{
	struct device_node *np;
	int added = 0;

	for_each_compatible_node(np, NULL, "heapstat,carveout") {
		struct reserved_mem *rmem = of_reserved_mem_lookup(np);
		char label[32];

		if (!rmem) {
			pr_err("%pOF: not a reserved-memory region\n", np);
			continue;
		}
		snprintf(label, sizeof(label), "%pOFn", np);	/* without @unit-address */
		if (!carveout_add(label, rmem->base, rmem->size,
				  of_property_read_bool(np, "no-map"), true))
			added++;
	}
	return added;
}

static int __init carveout_init(void)
{
	int i, added, ret = 0;

	if (nr_base != nr_size) {
		pr_err("base= names %d ranges, size= %d: give one size per base\n",
		       nr_base, nr_size);
		return -EINVAL;
	}
	added = carveout_add_of();
	/* a range refused is said, and the others are added, as the device tree's */
	for (i = 0; i < nr_base; i++) {
		char label[16];
		int err;

		snprintf(label, sizeof(label), "%d", i);
		err = carveout_add(i < nr_names ? names[i] : label, base[i], size[i],
				   i < nr_no_map && no_map[i], false);
		if (err)
			ret = ret ?: err;
		else
			added++;
	}
	if (!added && !ret) {
		pr_err("no range: boot with memmap=SIZE$BASE and load with base=BASE size=SIZE\n");
		ret = -ENODEV;
	}
	return added ? 0 : ret;	/* heaps added cannot be removed again */
}
module_init(carveout_init);

MODULE_DESCRIPTION("heapstat carveout heap: reserved ranges as dma-heaps charged to the allocating cgroup");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
MODULE_IMPORT_NS("DMA_BUF_HEAP");
