// SPDX-License-Identifier: GPL-2.0
/*
 * A cgroup's level in its hierarchy (the root's is 0) and the ids of its
 * ancestors from level 1 down to it, as the kernel counts them: iter/cgroup
 * run on that cgroup alone (BPF_CGROUP_ITER_SELF_ONLY). In a cgroup
 * namespace, or under a bind mount of part of the tree, a path counts from
 * the namespace's root and names none of the cgroups above it, while the
 * bpf-lsm limits' programs take a thread's ancestors by the hierarchy's
 * levels (limit.bpf.c): user space asks here before it limits a cgroup or
 * charges one for a buffer from before (tools/lib/cg_level.c). A light
 * skeleton of its own: the inventory's cgroup walker costs more to verify.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "limit.h"		/* LIMIT_MAX_DEPTH, struct cg_level_rec */

SEC("iter/cgroup")
int cgroup_level(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cg = ctx->cgroup, *up;
	struct cg_level_rec r = {};

	if (!cg)	/* the end of the walk */
		return 0;
	r.level = cg->level;
	/* ancestors[i] is the one at level i (cgroup_ancestor()), a flexible array */
	for (__u32 i = 1; i <= LIMIT_MAX_DEPTH && i <= r.level; i++) {
		if (bpf_core_read(&up, sizeof(up), &cg->ancestors[i]) || !up)
			break;
		r.ids[i - 1] = BPF_CORE_READ(up, kn, id);
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
