// SPDX-License-Identifier: GPL-2.0
/*
 * A cgroup's level in its hierarchy (the root's is 0), as the kernel counts
 * it: iter/cgroup run on that cgroup alone (BPF_CGROUP_ITER_SELF_ONLY). In a
 * cgroup namespace, or under a bind mount of part of the tree, a path counts
 * from the namespace's root, while the bpf-lsm limits' programs take a
 * thread's ancestors by the hierarchy's levels (limit.bpf.c): user space
 * asks here before it limits a cgroup (tools/lib/cg_level.c). A light
 * skeleton of its own: the inventory's cgroup walker costs more to verify.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("iter/cgroup")
int cgroup_level(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cg = ctx->cgroup;
	__u32 level;

	if (!cg)	/* the end of the walk */
		return 0;
	level = cg->level;
	bpf_seq_write(ctx->meta->seq, &level, sizeof(level));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
