// SPDX-License-Identifier: GPL-2.0
/*
 * The path each cgroup of cgroup2 had when it was removed, by id: a cgroup
 * the collector counted keeps its name after it is gone (a CI job's cgroup
 * ends with the job, often before a live view walks the tree again; its id
 * names nothing then). The path is the one the kernel's cgroup_rmdir
 * tracepoint has, from the hierarchy's root, cut at TRACE_CGROUP_PATH_LEN.
 * User space takes the entries out as it reads them (collector.c,
 * drain_removed()). An object of its own, a light skeleton loaded after the
 * collector: a live view loads it in its first interval, as its first frame
 * would wait for it (docs/benchmarks.md). It counts the removals for a live
 * view too, in place of the collector's cgroup_rmdir program: a second
 * program on the tracepoint made detaching one wait for an RCU grace period
 * (the kernel's tracepoint_remove_func()), 44 ms of heaptop's exit.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "collector_events.h"
#include "core_fixes.bpf.h"

const volatile bool test_refuse = false;	/* tests: the verifier refuses the program */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, COLL_REMOVED_CGROUPS);
	__type(key, __u64);
	__type(value, struct coll_cgroup_path);
} removed_cgroups SEC(".maps");

/* the path, from outside the stack: too large for it */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct coll_cgroup_path);
} scratch SEC(".maps");

__u64 removals = 0;	/* cgroups removed, of every hierarchy (a live view's: collector.c) */

SEC("raw_tp/cgroup_rmdir")
int BPF_PROG(cgroup_names_rmdir, struct cgroup *cgrp, const char *path)
{
	struct coll_cgroup_path *p;
	__u32 zero = 0;
	__u64 id;

	if (test_refuse)	/* a read past the stack; dropped unread otherwise */
		asm volatile("r0 = *(u64 *)(r10 + 8)" ::: "r0");
	__sync_fetch_and_add(&removals, 1);
	if (cgroup_hierarchy(cgrp))	/* a cgroup v1 hierarchy's: its ids are its own */
		return 0;
	id = BPF_CORE_READ(cgrp, kn, id);
	p = bpf_map_lookup_elem(&scratch, &zero);
	/* full (4,096 removed within a poll): that one is named by id */
	if (p && bpf_probe_read_kernel_str(p->path, sizeof(p->path), path) > 0)
		bpf_map_update_elem(&removed_cgroups, &id, p, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
