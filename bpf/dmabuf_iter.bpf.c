// SPDX-License-Identifier: GPL-2.0
/*
 * Inventory of live dma-bufs and their holders, as fixed-size records
 * written to each iterator's seq file:
 * - iter/dmabuf (6.16+) walks the kernel's list of every dma-buf, held by a
 *   process or not: one struct inv_buffer each, with the devices attached;
 * - iter/task_file finds the fds that are dma-bufs: one struct inv_fd each;
 * - iter/task_vma finds mappings of dma-bufs: one struct inv_map each.
 * A dma-buf file is one whose superblock is the dma-buf filesystem's.
 *
 * The iterators' pointers are BTF-typed: fields are read with direct loads
 * (the verifier guards them), much cheaper per buffer than helper calls;
 * strings still go through bpf_probe_read_kernel_str().
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "dmabuf_iter.h"

/* count the attachments, naming the devices of the first few */
static __always_inline void read_attachments(const struct dma_buf *dmabuf, struct inv_buffer *rec)
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
			att = (const void *)pos - node;
			name = BPF_CORE_READ(att, dev, kobj.name);
			if (name)
				bpf_probe_read_kernel_str(rec->importers[n & (INV_MAX_IMPORTERS - 1)],
							  INV_NAME_LEN, name);
		}
		n++;
		pos = BPF_CORE_READ(pos, next);
	}
	rec->attachments = n;
}

static __always_inline void read_str(char *dst, const char *src)
{
	if (src)
		bpf_probe_read_kernel_str(dst, INV_NAME_LEN, src);
}

/* the last exporter name read: buffers share a few, each read once per run of one */
__u64 last_exp_name_ptr;
char last_exp_name[INV_NAME_LEN];

/* set by user space: iter/dmabuf runs too, so task_file need not name buffers */
const volatile bool have_dmabuf_iter = false;

SEC("iter/dmabuf")
int dmabuf(struct bpf_iter__dmabuf *ctx)
{
	const struct dma_buf *dmabuf = ctx->dmabuf;
	struct inv_buffer rec = {};

	if (!dmabuf)
		return 0;
	rec.ino = dmabuf->file->f_inode->i_ino;
	rec.size = dmabuf->size;
	read_attachments(dmabuf, &rec);
	if (ctx->meta->seq_num == 0 || (__u64)dmabuf->exp_name != last_exp_name_ptr) {
		last_exp_name_ptr = (__u64)dmabuf->exp_name;
		last_exp_name[0] = '\0';
		read_str(last_exp_name, dmabuf->exp_name);
	}
	__builtin_memcpy(rec.exp_name, last_exp_name, sizeof(rec.exp_name));
	read_str(rec.name, dmabuf->name);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

static __always_inline bool is_dmabuf_file(const struct file *file)
{
	return file && file->f_inode->i_sb->s_magic == DMA_BUF_MAGIC;
}

/* the process of the last fd record: its name and cgroup go in its first record only */
__u32 named_tgid;

SEC("iter/task_file")
int task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	const struct file *file = ctx->file;
	const struct dma_buf *dmabuf;
	struct inv_fd rec = {};

	if (!task || !is_dmabuf_file(file))
		return 0;
	dmabuf = file->private_data;
	if (!dmabuf)
		return 0;
	rec.tgid = task->tgid;
	rec.fd = ctx->fd;
	if (ctx->meta->seq_num == 0 || rec.tgid != named_tgid) {
		/* who holds it, so user space need not read /proc for each holder */
		named_tgid = rec.tgid;
		rec.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
		BPF_CORE_READ_STR_INTO(&rec.comm, task, group_leader, comm);
	}
	rec.ino = file->f_inode->i_ino;
	if (!have_dmabuf_iter) {
		/* void *private_data: no direct loads through it (6.12's verifier) */
		rec.size = BPF_CORE_READ(dmabuf, size);
		read_str(rec.exp_name, BPF_CORE_READ(dmabuf, exp_name));
		read_str(rec.name, BPF_CORE_READ(dmabuf, name));
	}
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
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

char LICENSE[] SEC("license") = "GPL";
