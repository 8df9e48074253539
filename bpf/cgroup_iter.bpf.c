// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup tree, as records written to the iterator's seq file: one
 * struct inv_cgroup a cgroup, then its dmem pools and its name. An object
 * of its own, loaded only when it pays: a one-shot command naming the
 * holders' cgroups of a small tree reads the cgroup2 directories instead
 * (verifying this program is about a fifth of the inventory's load on 7.2;
 * tools/lib/inventory.c, cgroups_by_iter()). A light skeleton, as
 * dmabuf_iter.bpf.c's are.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "dmabuf_iter.h"
#include "iter.bpf.h"

/* a cgroup's name and a pool of it, sent from outside the stack: too large for it */
struct cg_scratch {
	struct inv_dmem_pool pool;
	char name[INV_CGROUP_NAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_scratch);
} scratch SEC(".maps");

/*
 * The cgroup tree, for naming cgroups by id: one record a cgroup, where a
 * walk of the cgroup2 directories reads every file of each (6.1+). With
 * each, its dmem charges and limits, where a model would read two files
 * (dmem.current, dmem.max) of every cgroup.
 */
struct inv_cgroup_session cg_session;

/*
 * A walk of a cgroup's pools, one a call of bpf_loop(): counted first, then
 * sent. No count of its own: the verifier would see a state of the callback
 * per value (bpf_loop() says how many calls it made).
 */
struct pool_walk {
	struct list_head *head, *pos;
	struct seq_file *seq;
	struct inv_dmem_pool *pool;
};

static long pool_count(__u64 i, void *arg)
{
	struct pool_walk *w = arg;
	struct list_head *pos = w->pos;

	if (pos == w->head)
		return 1;
	w->pos = list_next(pos);
	return 0;
}

/* as many as counted: a pool added meanwhile waits for the next walk, one
 * gone leaves an empty region, which names nothing */
static long pool_send(__u64 i, void *arg)
{
	struct pool_walk *w = arg;
	struct inv_dmem_pool *p = w->pool;
	struct list_head *pos = w->pos;

	__builtin_memset(p, 0, sizeof(*p));
	if (pos != w->head) {
		dmem_pool_read(pos, &p->usage, &p->max, p->region, sizeof(p->region),
			       &p->region_len);
		w->pos = list_next(pos);
	}
	bpf_seq_write(w->seq, p, sizeof(*p));
	return 0;
}

struct iter_cgroup {
	struct iter_meta *meta;
	struct cgroup *cgroup;
};

SEC("iter/cgroup")
int cgroup_tree(struct bpf_iter__cgroup *bpf_ctx)
{
	const struct iter_cgroup *ctx = (const void *)bpf_ctx;
	struct seq_file *seq = ctx->meta->seq;
	struct cgroup *cgrp = ctx->cgroup;
	struct pool_walk w = { .seq = seq };
	struct cgroup_subsys_state *parent;
	struct list_head *head;
	struct inv_cgroup h = {};
	struct cg_scratch *out;
	__u32 size, zero = 0;
	bool known;
	long n;

	if (!cgrp)
		return 0;
	h.id = cgrp->kn->id;
	if (cg_session.resume_after) {	/* written by a session before */
		if (h.id == cg_session.resume_after)
			cg_session.resume_after = 0;
		return 0;
	}
	out = bpf_map_lookup_elem(&scratch, &zero);
	if (!out)
		return 0;
	parent = cgrp->self.parent;
	if (parent)
		h.parent = parent->cgroup->kn->id;
	n = bpf_probe_read_kernel_str(out->name, sizeof(out->name), cgrp->kn->name);
	h.len = n > 1 ? n - 1 : 0;

	head = dmem_pools(cgrp, &known);
	h.flags = known ? INV_CG_DMEM_READ : 0;
	if (head) {
		h.flags |= INV_CG_DMEM_ON;
		w.head = head;
		w.pos = list_next(head);
		/*
		 * Calls until one finds the head: that one stepped over none. With
		 * two to spare, a 17th pool is seen (INV_CG_DMEM_MORE) even when
		 * the head comes right after it, where the calls run out.
		 */
		n = bpf_loop(INV_DMEM_POOLS + 2, pool_count, &w, 0);
		n = w.pos == w.head ? n - 1 : n;
		if (n > INV_DMEM_POOLS)
			h.flags |= INV_CG_DMEM_MORE;
		h.npools = n < INV_DMEM_POOLS ? n : INV_DMEM_POOLS;
	}
	size = sizeof(h) + h.npools * sizeof(struct inv_dmem_pool) + h.len;
	if (cg_session.bytes + size > INV_CGROUP_SESSION) {
		cg_session.full = 1;
		return 1;	/* the next session goes on from here */
	}
	cg_session.bytes += size;
	cg_session.last = h.id;
	bpf_seq_write(seq, &h, sizeof(h));
	/* head, not h.npools alone: a kernel without dmem must see this branch dead
	 * (its relocations are poisoned), and a field read off the stack is not known */
	if (head && h.npools) {
		w.pos = list_next(head);
		w.pool = &out->pool;
		bpf_loop(h.npools, pool_send, &w, 0);
	}
	bpf_seq_write(seq, out->name, h.len & (INV_CGROUP_NAME_MAX - 1));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
