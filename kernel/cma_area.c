// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat_core: facts about CMA areas that 7.2 does not export to modules.
 *
 * cma_get_size() is not exported, but a heap's dmem region needs the area's
 * size: read it where the kernel publishes it, CMA sysfs
 * (/sys/kernel/mm/cma/<area>/total_pages, CONFIG_CMA_SYSFS).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cma.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "heapstat_heap.h"

/**
 * heapstat_cma_area_bytes() - size of a CMA area
 * @cma: the area
 *
 * Return: its size in bytes, or 0 when CMA sysfs cannot tell.
 */
u64 heapstat_cma_area_bytes(struct cma *cma)
{
	char *path, val[32] = "";
	unsigned long pages = 0;
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	path = kasprintf(GFP_KERNEL, "/sys/kernel/mm/cma/%s/total_pages", cma_get_name(cma));
	if (!path)
		return 0;
	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f)) {
		pr_warn("cannot read %s (CONFIG_CMA_SYSFS?): %ld\n", path, PTR_ERR(f));
		kfree(path);
		return 0;
	}
	n = kernel_read(f, val, sizeof(val) - 1, &pos);
	filp_close(f, NULL);
	if (n <= 0 || kstrtoul(strim(val), 10, &pages)) {
		pr_warn("cannot parse %s\n", path);
		pages = 0;
	}
	kfree(path);
	return (u64)pages << PAGE_SHIFT;
}
EXPORT_SYMBOL_GPL(heapstat_cma_area_bytes);
