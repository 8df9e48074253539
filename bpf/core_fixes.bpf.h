/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels heapstat runs on, in one place.
 *
 * - dma_buf tracepoints (dma_buf_export, ...) exist since 7.0: older kernels
 *   use fexit/dma_buf_export instead; user space picks the variant by
 *   probing for the tracepoint's BTF before load.
 * - dma_buf_ops gained no field heapstat reads; struct dma_heap's name has
 *   been there since 5.6.
 * - cma_alloc_start tells the area's free pages after 6.12 (user space sets
 *   cma_start_tells_free): before, a failure weighs the area's bitmap
 *   (cma_free_pages()).
 * - memcg's page counters (memcg_tightest()) are read where the kernel has
 *   them as 6.1 to 7.2 do.
 */
#ifndef HEAPSTAT_CORE_FIXES_BPF_H
#define HEAPSTAT_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * arm64 (make arm64 builds the objects with __TARGET_ARCH_arm64): libbpf's
 * PT_REGS_* read a kprobe's registers as struct user_pt_regs there, which
 * vmlinux.h, from x86's BTF, lacks. Its uapi layout, read from the kprobe's
 * context as it is (no relocation).
 */
#if defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
#endif

/* the name of the heap behind a /dev/dma_heap/<name> file (its private_data) */
static __always_inline const char *heap_name(const struct dma_heap *heap)
{
	return heap ? BPF_CORE_READ(heap, name) : NULL;
}

/*
 * The hierarchy of a cgroup: 0 for cgroup2's, another for a v1 hierarchy's.
 * Read at the offset struct cgroup_root has had hierarchy_id at in every
 * kernel heapstat runs on (after kf_root and subsys_mask since 3.15; the
 * same in 6.1, 6.12 and 7.2), not through CO-RE: relocating one more type
 * the kernel searches its BTF for at each load, which cost a live view's
 * first frame about 1 ms (docs/benchmarks.md).
 */
struct cgroup_root___head {
	void *kf_root;
	unsigned int subsys_mask;
	int hierarchy_id;
};

static __always_inline int cgroup_hierarchy(const struct cgroup *cgrp)
{
	struct cgroup_root___head head = {};

	bpf_probe_read_kernel(&head, sizeof(head), BPF_CORE_READ(cgrp, root));
	return head.hierarchy_id;
}

/*
 * dmem (6.14+): a cgroup's charges are its dmemcg_state's pools, one for each
 * region it or a descendant charged (kernel/cgroup/dmem.c). These structures
 * are the kernel's own, not an interface: read through CO-RE, and only where
 * the kernel has them all. dmem_pools() gives the head of the cgroup's list
 * of pools, or NULL when dmem is not on in it (no dmem.* files); *known is
 * false on a kernel without dmem, or whose dmem is laid out otherwise.
 */
static __always_inline struct list_head *dmem_pools(const struct cgroup *cgrp, bool *known)
{
	struct cgroup_subsys_state *css = NULL;
	unsigned long id;

	*known = bpf_core_enum_value_exists(enum cgroup_subsys_id, dmem_cgrp_id) &&
		 bpf_core_field_exists(struct dmemcg_state, css) &&
		 bpf_core_field_exists(struct dmemcg_state, pools) &&
		 bpf_core_field_exists(struct dmem_cgroup_pool_state, css_node) &&
		 bpf_core_field_exists(struct dmem_cgroup_pool_state, region) &&
		 bpf_core_field_exists(struct dmem_cgroup_pool_state, cnt) &&
		 bpf_core_field_exists(struct dmem_cgroup_region, name);
	if (!*known)
		return NULL;
	id = bpf_core_enum_value(enum cgroup_subsys_id, dmem_cgrp_id);
	bpf_probe_read_kernel(&css, sizeof(css), (void *)cgrp +
			      bpf_core_field_offset(struct cgroup, subsys) + id * sizeof(css));
	if (!css)
		return NULL;
	/* the css is the first member of dmemcg_state */
	return (void *)css - bpf_core_field_offset(struct dmemcg_state, css) +
	       bpf_core_field_offset(struct dmemcg_state, pools);
}

/*
 * The pool whose css_node is @node: its usage, limit and region's name; a
 * name that could not be read says @size, as one that may have been cut.
 */
static __always_inline void dmem_pool_read(struct list_head *node, __u64 *usage, __u64 *max,
					   char *region, __u32 size, __u32 *len)
{
	struct dmem_cgroup_pool_state *pool;
	long n;

	pool = (void *)node - bpf_core_field_offset(struct dmem_cgroup_pool_state, css_node);
	*usage = BPF_CORE_READ(pool, cnt.usage.counter);
	*max = BPF_CORE_READ(pool, cnt.max);
	n = bpf_probe_read_kernel_str(region, size, BPF_CORE_READ(pool, region, name));
	*len = n < 0 ? size : n > 1 ? n - 1 : 0;
}

/*
 * memcg: the limit leaving the least room over a task's memcg and its
 * ancestors (memory.max less memory.current: the memcg's page counter), as
 * it is when an allocation fails. User space reads the files only when it
 * drains the event, by when an allocator the OOM killer chose may have gone,
 * and the charge of its buffers with it. The kernel's structures again:
 * CO-RE, and false where it has no memcg, lays it out otherwise, or has it
 * on a cgroup v1 hierarchy (memory.limit_in_bytes, not heapstat's). *id: the
 * cgroup whose limit it is, 0 for none; the nearest of two leaving the same
 * room, as holdings_bind_limit() takes it. *usage and *max in bytes. A memcg
 * a call of bpf_loop() (verified once, not once a level), the nearest
 * MEMCG_LEVELS only. Only on a failure.
 */
#define MEMCG_LEVELS	32

struct memcg_walk {
	struct cgroup_subsys_state *css;
	__u64 no_limit, room, id, usage, max;	/* pages but id */
};

static long memcg_step(__u32 i, struct memcg_walk *w)
{
	struct cgroup_subsys_state *css = w->css;	/* not w's field: CO-RE relocates none */
	struct mem_cgroup *memcg;
	unsigned long u, m, r;

	if (!css)
		return 1;
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	u = BPF_CORE_READ(memcg, memory.usage.counter);
	m = BPF_CORE_READ(memcg, memory.max);
	r = m > u ? m - u : 0;
	/* the root's and every unlimited memcg's max: PAGE_COUNTER_MAX */
	if (m < w->no_limit && (!w->id || r < w->room)) {
		w->room = r;
		w->id = BPF_CORE_READ(css, cgroup, kn, id);
		w->usage = u;
		w->max = m;
	}
	w->css = BPF_CORE_READ(css, parent);
	return 0;
}

static __always_inline bool memcg_tightest(struct task_struct *task, __u64 page_size, __u64 *id,
					   __u64 *usage, __u64 *max)
{
	/* PAGE_COUNTER_MAX: LONG_MAX / PAGE_SIZE */
	struct memcg_walk w = { .no_limit = (~0ul >> 1) / page_size };
	struct cgroup_subsys_state *css = NULL;
	unsigned long sub;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id) ||
	    !bpf_core_field_exists(struct mem_cgroup, memory) ||
	    !bpf_core_field_exists(struct page_counter, max))
		return false;
	sub = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	bpf_probe_read_kernel(&css, sizeof(css), (void *)BPF_CORE_READ(task, cgroups) +
			      bpf_core_field_offset(struct css_set, subsys) + sub * sizeof(css));
	/* unread, or memcg on a v1 hierarchy (its ids are another tree's): not known */
	if (!css || cgroup_hierarchy(BPF_CORE_READ(css, cgroup)))
		return false;
	w.css = css;
	bpf_loop(MEMCG_LEVELS, memcg_step, &w, 0);
	*id = w.id;
	*usage = w.usage * page_size;
	*max = w.max * page_size;
	return true;
}

/*
 * The thread that counts a process's mappings once (the task_vma iterator
 * skips only threads whose fd table is the leader's; every thread shares
 * its mm): the leader, and while it is a zombie (pthread_exit() in main:
 * its mm gone, its threads running), the mm's owner, the thread exit_mm()
 * handed the mm to (mm->owner, CONFIG_MEMCG; without it no thread counts
 * them).
 */
static __always_inline bool counts_maps_for_process(const struct task_struct *task)
{
	const struct task_struct *leader = task->group_leader, *owner = NULL;

	if (task == leader)
		return true;
	if (leader->mm)
		return false;	/* the leader counts them */
	if (bpf_core_field_exists(task->mm->owner))
		owner = task->mm->owner;
	return owner == task;
}

/*
 * CMA's free pages when an allocation failed, where cma_alloc_start does not
 * tell them (its available_count came after 6.12): the weight of the area's
 * bitmap, one bit per 2^order_per_bit pages, as the kernel's
 * cma_debug_show_areas() counts them. The tracepoints' name is the struct
 * cma's own name[]; before an area had ranges its bitmap was the struct's
 * (6.12, 6.1). *known false where the kernel's struct cma is laid out
 * otherwise. Only on a failure: a walk of the bitmap, a word a loop.
 */
struct cma___flat {
	unsigned long count;
	unsigned long *bitmap;
	unsigned int order_per_bit;
	char name[64];
} __attribute__((preserve_access_index));

struct cma_weigh {
	const unsigned long *bitmap;
	__u64 set;
};

static long cma_weigh_word(__u32 i, struct cma_weigh *w)
{
	unsigned long word = 0;

	bpf_probe_read_kernel(&word, sizeof(word), w->bitmap + i);
	w->set += __builtin_popcountl(word);
	return 0;
}

static __always_inline __u64 cma_free_pages(const char *name, bool *known)
{
	struct cma___flat *cma;
	struct cma_weigh w = {};
	unsigned long count;
	unsigned int order;

	*known = bpf_core_field_exists(struct cma___flat, bitmap) &&
		 bpf_core_field_exists(struct cma___flat, name);
	if (!*known || !name)
		return 0;
	cma = (void *)name - bpf_core_field_offset(struct cma___flat, name);
	count = BPF_CORE_READ(cma, count);
	order = BPF_CORE_READ(cma, order_per_bit);
	w.bitmap = BPF_CORE_READ(cma, bitmap);
	if (order > 30 || !w.bitmap) {
		*known = false;
		return 0;
	}
	bpf_loop(((count >> order) + 63) / 64, cma_weigh_word, &w, 0);
	return count > w.set << order ? count - (w.set << order) : 0;
}

#endif /* HEAPSTAT_CORE_FIXES_BPF_H */
