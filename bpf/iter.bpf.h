/* SPDX-License-Identifier: GPL-2.0 */
/* What the inventory's iterators (dmabuf_iter.bpf.c, cgroup_iter.bpf.c) share. */
#ifndef HEAPSTAT_ITER_BPF_H
#define HEAPSTAT_ITER_BPF_H

/*
 * The iterators' contexts and the kernel's list heads, read without CO-RE:
 * their layout is the iterators' ABI (a list head's next first), and the
 * verifier checks each load against the kernel's BTF all the same. Each
 * CO-RE relocation is a look-up in the kernel's cache of candidate types,
 * 31 slots by the hash of a type's name, and a miss searches every type of
 * vmlinux again: the iterators' two dozen names collide in it, and a load
 * made 22 such searches, 13 without these (docs/benchmarks.md, start-up).
 * The programs' order matters too (the kernel relocates them in turn):
 * task_vma before task_file, whose cgroup and css_set would evict its file
 * and mm_struct, leaves 8 (measured with iter/cgroup in the same object;
 * the cache is the kernel's, shared by every load).
 */
struct iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct iter_list {
	struct iter_list *next, *prev;
};

/* the list head after @pos, a kernel pointer */
static __always_inline void *list_next(const void *pos)
{
	void *next = NULL;

	bpf_probe_read_kernel(&next, sizeof(next), pos);
	return next;
}

#endif /* HEAPSTAT_ITER_BPF_H */
