// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat_core: what the heapstat heaps share. This file: adding a heap
 * with its dmem cgroup region, charging the allocating task's cgroup, and the
 * heap_alloc/heap_free tracepoints.
 *
 * The charge is taken before any memory and dropped at the buffer's final
 * release, on the pool that was charged: it follows the buffer, whichever
 * process or cgroup holds it by then.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/cgroup_dmem.h>
#include <linux/dma-heap.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "heapstat_heap.h"

#define CREATE_TRACE_POINTS
#include "trace/heapstat_heap.h"

enum accounting_mode { ACCOUNTING_AUTO, ACCOUNTING_ON, ACCOUNTING_OFF };
static const char * const accounting_names[] = { "auto", "on", "off" };
static enum accounting_mode __read_mostly accounting = ACCOUNTING_AUTO;

static int accounting_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(accounting_names, val);

	if (i < 0) {
		pr_err("accounting=%s: expected auto, on or off\n", val);
		return -EINVAL;
	}
	WRITE_ONCE(accounting, i);
	return 0;
}

static int accounting_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", accounting_names[accounting]);
}

static const struct kernel_param_ops accounting_ops = {
	.set = accounting_set,
	.get = accounting_get,
};
module_param_cb(accounting, &accounting_ops, NULL, 0644);
MODULE_PARM_DESC(accounting,
		 "Charge heap buffers to the allocating cgroup's dmem: auto (follow dma_heap.mem_accounting), on or off; may change at run time");

/*
 * Whether an allocation starting now is charged. A buffer charged before a
 * switch to off is still uncharged at its release: the pool goes with it.
 */
static bool accounting_enabled(void)
{
	enum accounting_mode mode = READ_ONCE(accounting);

	/* a kernel without the dmem controller charges nobody: its stubs
	 * register no region and charge nothing, so say off */
	if (!IS_ENABLED(CONFIG_CGROUP_DMEM))
		return false;

	return mode == ACCOUNTING_ON || (mode == ACCOUNTING_AUTO && mem_accounting);
}

/**
 * heapstat_heap_name_taken() - whether a dma-heap of that name exists
 * @name: heap name
 *
 * dma_heap_add() finds a duplicate name only after device_create() has
 * warned with a stack dump about the duplicate sysfs file: look first. A
 * module adding several heaps looks for all of them before it adds one.
 *
 * Return: true when /sys/class/dma_heap has it.
 */
bool heapstat_heap_name_taken(const char *name)
{
	struct path path;
	char *p;
	int err;

	p = kasprintf(GFP_KERNEL, "/sys/class/dma_heap/%s", name);
	if (!p)
		return false;
	err = kern_path(p, 0, &path);
	kfree(p);
	if (err)
		return false;
	path_put(&path);
	return true;
}
EXPORT_SYMBOL_GPL(heapstat_heap_name_taken);

/**
 * heapstat_heap_register() - add a dma-heap and its dmem cgroup region
 * @hh: the heap's common part, filled in here
 * @name: heap name; must outlive the heap
 * @capacity: bytes the heap can hand out, the dmem region's size
 * @ops: dma-heap ops
 * @priv: returned by dma_heap_get_drvdata()
 *
 * Return: 0, -EEXIST when a heap of that name exists, or another negative errno.
 */
int heapstat_heap_register(struct heapstat_heap *hh, const char *name, u64 capacity,
			   const struct dma_heap_ops *ops, void *priv)
{
	struct dma_heap_export_info exp_info = {
		.name = name,
		.ops = ops,
		.priv = priv,
	};
	int ret;

	if (heapstat_heap_name_taken(name)) {
		pr_err("a heap named '%s' exists already\n", name);
		return -EEXIST;
	}
	if (!capacity) {
		pr_err("%s: size unknown\n", name);
		return -EINVAL;
	}
	hh->name = name;
	hh->capacity = capacity;
	/* registered whatever the mode, which may change at run time */
	hh->region = dmem_cgroup_register_region(capacity, "dma-heap/%s", name);
	if (IS_ERR(hh->region)) {
		ret = PTR_ERR(hh->region);
		pr_err("%s: cannot register dmem region: %d\n", name, ret);
		goto clear_region;
	}
	hh->heap = dma_heap_add(&exp_info);
	if (IS_ERR(hh->heap)) {
		ret = PTR_ERR(hh->heap);
		pr_err("%s: cannot add heap: %d\n", name, ret);
		goto unregister_region;
	}
	pr_info("%s: %llu bytes, accounting %s\n", name, capacity,
		accounting_enabled() ? "on" : "off");
	return 0;

unregister_region:
	dmem_cgroup_unregister_region(hh->region);
clear_region:
	hh->region = NULL;
	return ret;
}
EXPORT_SYMBOL_GPL(heapstat_heap_register);

#if IS_ENABLED(CONFIG_CGROUP_DMEM)
/* id of the cgroup whose dmem state current charges: that of the nearest
 * ancestor with the controller enabled */
static u64 current_dmem_cgroup_id(void)
{
	struct cgroup_subsys_state *css;
	u64 id;

	rcu_read_lock();
	css = task_css(current, dmem_cgrp_id);
	id = cgroup_id(css->cgroup);
	rcu_read_unlock();
	return id;
}
#else
/* never called: accounting_enabled() is false without the controller */
static u64 current_dmem_cgroup_id(void)
{
	return 0;
}
#endif

/**
 * heapstat_charge() - charge an allocation to the current task's cgroup
 * @hh: heap allocated from
 * @charge: the buffer's accounting, initialised here
 * @bytes: bytes to charge
 *
 * Called before any memory is taken. Without accounting it only starts the
 * clock. Every call must be followed by heapstat_alloc_done().
 *
 * Return: 0; -ENOMEM for more than the heap's capacity, which is never
 * charged (a size near U64_MAX would wrap the counters); -EAGAIN when a
 * dmem.max is in the way. Nothing is charged on error.
 */
int heapstat_charge(struct heapstat_heap *hh, struct heapstat_charge *charge, u64 bytes)
{
	int ret;

	memset(charge, 0, sizeof(*charge));
	charge->start_ns = ktime_get_ns();
	if (bytes > hh->capacity)
		return -ENOMEM;
	if (!accounting_enabled())
		return 0;
	ret = dmem_cgroup_try_charge(hh->region, bytes, &charge->pool, NULL);
	if (ret)
		return ret;
	charge->bytes = bytes;
	charge->cgroup_id = current_dmem_cgroup_id();
	return 0;
}
EXPORT_SYMBOL_GPL(heapstat_charge);

/**
 * heapstat_alloc_done() - finish an allocation's accounting and trace it
 * @hh: heap allocated from
 * @charge: from heapstat_charge()
 * @dmabuf: the new buffer, or an ERR_PTR: then the charge is dropped
 * @len: requested length
 * @alloc_len: bytes taken from the heap
 * @fd_flags: as requested
 * @heap_flags: as requested
 */
void heapstat_alloc_done(struct heapstat_heap *hh, struct heapstat_charge *charge,
			 struct dma_buf *dmabuf, unsigned long len, unsigned long alloc_len,
			 u32 fd_flags, u64 heap_flags)
{
	u64 duration = ktime_get_ns() - charge->start_ns;

	if (IS_ERR(dmabuf)) {
		dmem_cgroup_uncharge(charge->pool, charge->bytes);
		trace_heap_alloc(hh->name, len, 0, fd_flags, heap_flags, duration,
				 PTR_ERR(dmabuf), 0, 0);
		charge->pool = NULL;
		return;
	}
	charge->ino = file_inode(dmabuf->file)->i_ino;
	trace_heap_alloc(hh->name, len, alloc_len, fd_flags, heap_flags, duration, 0,
			 charge->cgroup_id, charge->ino);
}
EXPORT_SYMBOL_GPL(heapstat_alloc_done);

/**
 * heapstat_free_done() - uncharge a buffer at its final release and trace it
 * @hh: heap it came from
 * @charge: its accounting
 * @len: bytes returned to the heap
 */
void heapstat_free_done(struct heapstat_heap *hh, struct heapstat_charge *charge,
			unsigned long len)
{
	dmem_cgroup_uncharge(charge->pool, charge->bytes);
	trace_heap_free(hh->name, len, charge->ino, ktime_get_ns() - charge->start_ns,
			charge->cgroup_id);
	charge->pool = NULL;
}
EXPORT_SYMBOL_GPL(heapstat_free_done);

MODULE_DESCRIPTION("heapstat heaps: cgroup accounting, tracepoints, page buffers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
MODULE_IMPORT_NS("DMA_BUF_HEAP");
