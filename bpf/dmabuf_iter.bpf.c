// SPDX-License-Identifier: GPL-2.0
/*
 * Inventory of live dma-bufs and their holders, as records written to each
 * iterator's seq file (a fixed head, then the parts its flags name):
 * - iter/dmabuf (6.16+) walks the kernel's list of every dma-buf, held by a
 *   process or not: one struct inv_buffer each, with the devices attached;
 * - iter/task_file finds the fds that are dma-bufs: one struct inv_fd each;
 * - iter/task_vma finds mappings of dma-bufs: one struct inv_map each.
 * A dma-buf file is one whose superblock is the dma-buf filesystem's.
 *
 * The iterators' pointers are BTF-typed: fields are read with direct loads
 * (the verifier guards them), much cheaper per buffer than helper calls;
 * strings still go through bpf_probe_read_kernel_str().
 *
 * Built twice, as light skeletons (the kernel applies the CO-RE relocations,
 * so loading parses no BTF in user space): with all three iterators, and
 * with INV_TASKS_ONLY for kernels before iter/dmabuf, where task_file also
 * tells each buffer's size and names.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "dmabuf_iter.h"

/*
 * A record that names something once for the records after it (an exporter,
 * a process) may be dropped when the seq file's buffer fills: the kernel
 * then shows the same object again, with the same seq_num, in the next
 * read. So a name goes out again when the record that carried it is shown
 * again, not only when it changes.
 */
static __always_inline bool name_again(__u64 seq, __u64 key, __u64 *last_key, __u64 *last_seq)
{
	if (seq != 0 && key == *last_key && seq != *last_seq)
		return false;
	*last_key = key;
	*last_seq = seq;
	return true;
}

#ifdef INV_TASKS_ONLY
#define have_dmabuf_iter false
#else
#define have_dmabuf_iter true

/* count the attachments, naming the devices of the first few */
static __always_inline __u32 read_attachments(const struct dma_buf *dmabuf,
					      char names[INV_MAX_IMPORTERS][INV_NAME_LEN],
					      __u8 *named)
{
	const struct list_head *head = &dmabuf->attachments, *pos;
	unsigned long node = bpf_core_field_offset(struct dma_buf_attachment, node);
	const struct dma_buf_attachment *att;
	const char *name;
	__u32 n = 0;

	/* a snapshot without the buffer's lock: a racing attach may be missed */
	pos = dmabuf->attachments.next;
	for (int i = 0; i < INV_MAX_ATTACHMENTS && pos != head; i++) {
		if (n < INV_MAX_IMPORTERS) {
			char *dst = names[n & (INV_MAX_IMPORTERS - 1)];

			__builtin_memset(dst, 0, INV_NAME_LEN);
			att = (const void *)pos - node;
			name = BPF_CORE_READ(att, dev, kobj.name);
			if (name)
				bpf_probe_read_kernel_str(dst, INV_NAME_LEN, name);
			*named = n + 1;
		}
		n++;
		pos = BPF_CORE_READ(pos, next);
	}
	return n;
}

/* the exporter name of the last record that carried one */
__u64 exp_name_ptr, exp_name_seq;
char exp_name[INV_NAME_LEN];

SEC("iter/dmabuf")
int dmabuf(struct bpf_iter__dmabuf *ctx)
{
	const struct dma_buf *dmabuf = ctx->dmabuf;
	struct seq_file *seq = ctx->meta->seq;
	char importers[INV_MAX_IMPORTERS][INV_NAME_LEN];
	struct inv_buffer rec = {};
	char name[INV_NAME_LEN];

	if (!dmabuf)
		return 0;
	rec.ino = dmabuf->file->f_inode->i_ino;
	rec.size = dmabuf->size;
	rec.attachments = read_attachments(dmabuf, importers, &rec.importers);
	if (name_again(ctx->meta->seq_num, (__u64)dmabuf->exp_name, &exp_name_ptr, &exp_name_seq)) {
		__builtin_memset(exp_name, 0, sizeof(exp_name));
		if (dmabuf->exp_name)
			bpf_probe_read_kernel_str(exp_name, sizeof(exp_name), dmabuf->exp_name);
		rec.flags |= INV_BUF_EXP_NAME;
	}
	if (dmabuf->name)
		rec.flags |= INV_BUF_NAME;
	bpf_seq_write(seq, &rec, sizeof(rec));
	if (rec.flags & INV_BUF_EXP_NAME)
		bpf_seq_write(seq, exp_name, sizeof(exp_name));
	if (rec.flags & INV_BUF_NAME) {
		__builtin_memset(name, 0, sizeof(name));
		bpf_probe_read_kernel_str(name, sizeof(name), dmabuf->name);
		bpf_seq_write(seq, name, sizeof(name));
	}
	for (int i = 0; i < INV_MAX_IMPORTERS && i < rec.importers; i++)
		bpf_seq_write(seq, importers[i], INV_NAME_LEN);
	return 0;
}
#endif /* INV_TASKS_ONLY */

static __always_inline bool is_dmabuf_file(const struct file *file)
{
	return file && file->f_inode->i_sb->s_magic == DMA_BUF_MAGIC;
}

/* the process the last record named: the next records of it need not */
__u64 named_tgid, named_seq;

SEC("iter/task_file")
int task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	const struct file *file = ctx->file;
	struct seq_file *seq = ctx->meta->seq;
	const struct dma_buf *dmabuf;
	struct inv_fd rec = {};

	if (!task || !is_dmabuf_file(file))
		return 0;
	dmabuf = file->private_data;
	if (!dmabuf)
		return 0;
	rec.ino = file->f_inode->i_ino;
	rec.tgid = task->tgid;
	rec.fd = ctx->fd;
	if (name_again(ctx->meta->seq_num, rec.tgid, &named_tgid, &named_seq))
		rec.flags |= INV_FD_PROC;
	if (!have_dmabuf_iter)
		rec.flags |= INV_FD_BUF;
	bpf_seq_write(seq, &rec, sizeof(rec));
	if (rec.flags & INV_FD_PROC) {
		/* who holds it, so user space need not read /proc for each holder */
		struct inv_fd_proc p = {};

		p.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
		BPF_CORE_READ_STR_INTO(&p.comm, task, group_leader, comm);
		bpf_seq_write(seq, &p, sizeof(p));
	}
	if (!have_dmabuf_iter) {
		/* void *private_data: no direct loads through it (6.12's verifier) */
		struct inv_fd_buf b = {};

		b.size = BPF_CORE_READ(dmabuf, size);
		bpf_probe_read_kernel_str(b.exp_name, sizeof(b.exp_name), BPF_CORE_READ(dmabuf, exp_name));
		bpf_probe_read_kernel_str(b.name, sizeof(b.name), BPF_CORE_READ(dmabuf, name));
		bpf_seq_write(seq, &b, sizeof(b));
	}
	return 0;
}

SEC("iter/task_vma")
int task_vma(struct bpf_iter__task_vma *ctx)
{
	const struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct inv_map rec = {};
	const struct file *file;

	if (!task || !vma)
		return 0;
	/* threads share the leader's mm: count its mappings once */
	if (task->pid != task->tgid)
		return 0;
	file = vma->vm_file;
	if (!is_dmabuf_file(file))
		return 0;
	rec.tgid = task->tgid;
	rec.ino = file->f_inode->i_ino;
	rec.bytes = vma->vm_end - vma->vm_start;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/*
 * The cgroup tree, for naming cgroups by id: one record a cgroup, where a
 * walk of the cgroup2 directories reads every file of each (6.1+). With
 * each, its dmem charges and limits, where a model would read two files
 * (dmem.current, dmem.max) of every cgroup.
 */
struct inv_cgroup_session cg_session;

SEC("iter/cgroup")
int cgroup_tree(struct bpf_iter__cgroup *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct cgroup *cgrp = ctx->cgroup;
	struct {
		struct inv_cgroup h;
		char name[INV_CGROUP_NAME_MAX];
	} rec = {};
	struct inv_dmem_pool pool;
	struct cgroup_subsys_state *parent;
	struct list_head *head, *pos = NULL;
	bool known;
	__u32 size;
	long n;
	int i;

	if (!cgrp)
		return 0;
	rec.h.id = BPF_CORE_READ(cgrp, kn, id);
	if (cg_session.resume_after) {	/* written by a session before */
		if (rec.h.id == cg_session.resume_after)
			cg_session.resume_after = 0;
		return 0;
	}
	parent = BPF_CORE_READ(cgrp, self.parent);
	if (parent)
		rec.h.parent = BPF_CORE_READ(parent, cgroup, kn, id);
	n = bpf_probe_read_kernel_str(rec.name, sizeof(rec.name), BPF_CORE_READ(cgrp, kn, name));
	rec.h.len = n > 1 ? n - 1 : 0;

	head = dmem_pools(cgrp, &known);
	rec.h.flags = known ? INV_CG_DMEM_READ : 0;
	if (head) {
		rec.h.flags |= INV_CG_DMEM_ON;
		pos = BPF_CORE_READ(head, next);
		for (i = 0; i < INV_DMEM_POOLS && pos != head; i++)
			pos = BPF_CORE_READ(pos, next);
		rec.h.npools = i;
		if (pos != head)
			rec.h.flags |= INV_CG_DMEM_MORE;
		pos = BPF_CORE_READ(head, next);
	}
	size = sizeof(rec.h) + rec.h.npools * sizeof(pool) + rec.h.len;
	if (cg_session.bytes + size > INV_CGROUP_SESSION) {
		cg_session.full = 1;
		return 1;	/* the next session goes on from here */
	}
	cg_session.bytes += size;
	cg_session.last = rec.h.id;
	bpf_seq_write(seq, &rec.h, sizeof(rec.h));
	/* as many as counted: a pool added meanwhile waits for the next walk,
	 * one gone leaves an empty region, which names nothing */
	for (i = 0; i < rec.h.npools && i < INV_DMEM_POOLS; i++) {
		__builtin_memset(&pool, 0, sizeof(pool));
		if (pos && pos != head) {
			dmem_pool_read(pos, &pool.usage, &pool.max, pool.region, sizeof(pool.region),
				       &pool.region_len);
			pos = BPF_CORE_READ(pos, next);
		}
		bpf_seq_write(seq, &pool, sizeof(pool));
	}
	bpf_seq_write(seq, rec.name, rec.h.len & (INV_CGROUP_NAME_MAX - 1));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
