// SPDX-License-Identifier: GPL-2.0
/*
 * Inventory of live dma-bufs and their holders, as records written to each
 * iterator's seq file (a fixed head, then the parts its flags name):
 * - iter/dmabuf (6.16+) walks the kernel's list of every dma-buf, held by a
 *   process or not: one struct inv_buffer each, with the devices attached;
 * - iter/task_file finds the fds that are dma-bufs: one struct inv_fd each;
 * - iter/task_vma finds mappings of dma-bufs: one struct inv_map each (with
 *   the buffer named, as task_file's records do, without iter/dmabuf).
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
#include "iter.bpf.h"

/*
 * A record that names something once for the records after it (an exporter,
 * a process) may be dropped when the seq file's buffer fills: the kernel
 * then shows the same object again, with the same seq_num, in the next
 * read. So a name goes out again when the record that carried it is shown
 * again, not only when it changes; and in every walk (session) first: the
 * last walk's last name is not this one's (a walk of task_file's starts at
 * the seq_num of its first dma-buf fd, not at 0).
 */
static __always_inline bool name_again(const struct iter_meta *meta, __u64 key,
				       struct inv_named *last)
{
	if (meta->session_id == last->session && key == last->key && meta->seq_num != last->seq)
		return false;
	last->key = key;
	last->seq = meta->seq_num;
	last->session = meta->session_id;
	return true;
}

/*
 * Loops and large stack objects are what the verifier's time goes on: a
 * bounded loop is explored once per turn, and each slot of the stack is
 * tracked at every instruction. So the walks below are bpf_loop() callbacks
 * that keep no count of their own (a count would be a state per value:
 * bpf_loop() returns how many calls it made), and the names are written in a
 * per-CPU scratch value. (docs/benchmarks.md, start-up: verifying these
 * two took 64 ms of a one-shot report's 98 ms load on 7.2 as plain loops.)
 */

#define NAME_ALIGN	8	/* see name_clear() */
_Static_assert(INV_NAME_LEN % NAME_ALIGN == 0 && HEAP_NAME_LEN % NAME_ALIGN == 0,
	       "a name's rows stay 8-aligned");

#ifdef INV_TASKS_ONLY
#define have_dmabuf_iter false
#else
#define have_dmabuf_iter true

/* a buffer's names, sent from outside the stack: too large for it */
struct buf_scratch {
	char names[INV_MAX_IMPORTERS][INV_NAME_LEN];
	char name[INV_NAME_LEN];
} __attribute__((aligned(NAME_ALIGN)));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct buf_scratch);
} scratch SEC(".maps");

/*
 * A name cleared before it is read in: 8-aligned, a store per 8 bytes, not
 * one per byte (the verifier's time goes by instructions, about 30 us of a
 * load each on 7.2). @len: a constant.
 */
static __always_inline void name_clear(char *name, __u32 len)
{
	__builtin_memset(__builtin_assume_aligned(name, NAME_ALIGN), 0, len);
}

/* the rest of a buffer's attachments, counted one a call of bpf_loop() */
struct att_walk {
	const struct list_head *head, *pos;
};

static long att_step(__u64 i, void *arg)
{
	struct att_walk *w = arg;
	const struct list_head *pos = w->pos;

	if (pos == w->head)
		return 1;
	w->pos = list_next(pos);
	return 0;
}

/* count the attachments, naming the devices of the first few */
static __always_inline __u32 read_attachments(const struct dma_buf *dmabuf,
					      char names[INV_MAX_IMPORTERS][INV_NAME_LEN],
					      __u8 *named)
{
	unsigned long node = bpf_core_field_offset(struct dma_buf_attachment, node);
	struct att_walk w = { .head = &dmabuf->attachments };
	const struct dma_buf_attachment *att;
	const struct list_head *pos;
	const char *name;
	long n;
	int i;

	/* a snapshot without the buffer's lock: a racing attach may be missed */
	pos = (const void *)((const struct iter_list *)&dmabuf->attachments)->next;
	for (i = 0; i < INV_MAX_IMPORTERS && pos != w.head; i++) {
		att = (const void *)pos - node;
		/* a device's kobject is its first member, a kobject's name its first:
		 * read without CO-RE on struct device, whose name shares a slot of
		 * the kernel's candidate cache with struct dma_buf's (see above) */
		name = NULL;
		bpf_probe_read_kernel(&name, sizeof(name), BPF_CORE_READ(att, dev));
		name_clear(names[i], INV_NAME_LEN);
		if (name)
			bpf_probe_read_kernel_str(names[i], INV_NAME_LEN, name);
		pos = list_next(pos);
	}
	*named = i;
	if (pos == w.head)
		return i;
	w.pos = pos;
	/*
	 * The rest counted by bpf_loop()'s own count of its calls, the last the
	 * one that found the head (a count kept by the callback is one state
	 * of it per value for the verifier); past the bound, the bound.
	 */
	n = bpf_loop(INV_MAX_ATTACHMENTS + 1, att_step, &w, 0);
	n = i + (w.pos == w.head ? n - 1 : n);
	return n < INV_MAX_ATTACHMENTS ? n : INV_MAX_ATTACHMENTS;
}

/* the exporter name of the last record that carried one */
struct inv_named exp_named;
char exp_name[HEAP_NAME_LEN] __attribute__((aligned(NAME_ALIGN)));

struct iter_dmabuf {
	struct iter_meta *meta;
	struct dma_buf *dmabuf;
};

SEC("iter/dmabuf")
int dmabuf(struct bpf_iter__dmabuf *bpf_ctx)
{
	const struct iter_dmabuf *ctx = (const void *)bpf_ctx;
	const struct dma_buf *dmabuf = ctx->dmabuf;
	struct seq_file *seq = ctx->meta->seq;
	struct buf_scratch *out = NULL;
	const struct inode *inode;
	struct inv_buffer rec = {};
	__u32 zero = 0;

	if (!dmabuf)
		return 0;
	inode = dmabuf->file->f_inode;
	rec.ino = inode->i_ino;
	rec.size = dmabuf->size;
	/* most buffers have neither: no scratch looked up for them */
	if (((const struct iter_list *)&dmabuf->attachments)->next !=
	    (const void *)&dmabuf->attachments || dmabuf->name) {
		out = bpf_map_lookup_elem(&scratch, &zero);
		if (!out)
			return 0;
		rec.attachments = read_attachments(dmabuf, out->names, &rec.importers);
	}
	if (name_again(ctx->meta, (__u64)dmabuf->exp_name, &exp_named)) {
		name_clear(exp_name, sizeof(exp_name));
		if (dmabuf->exp_name)
			bpf_probe_read_kernel_str(exp_name, sizeof(exp_name), dmabuf->exp_name);
		rec.flags |= INV_BUF_EXP_NAME;
	}
	if (out && dmabuf->name)
		rec.flags |= INV_BUF_NAME;
	/*
	 * Mapped: its file's mappings are in the tree of its inode's own
	 * mapping (a dma-buf file's f_mapping), whoever made them (an mmap of
	 * the fd, a driver's dma_buf_mmap(), a fork). With none mapped, user
	 * space need not walk every process's mappings.
	 */
	if (inode->i_data.i_mmap.rb_root.rb_node)
		rec.flags |= INV_BUF_MAPPED;
	bpf_seq_write(seq, &rec, sizeof(rec));
	if (rec.flags & INV_BUF_EXP_NAME)
		bpf_seq_write(seq, exp_name, sizeof(exp_name));
	if (out && (rec.flags & INV_BUF_NAME)) {
		name_clear(out->name, sizeof(out->name));
		bpf_probe_read_kernel_str(out->name, sizeof(out->name), dmabuf->name);
		bpf_seq_write(seq, out->name, sizeof(out->name));
	}
	for (int i = 0; out && i < INV_MAX_IMPORTERS && i < rec.importers; i++)
		bpf_seq_write(seq, out->names[i], INV_NAME_LEN);
	return 0;
}
#endif /* INV_TASKS_ONLY */

static __always_inline bool is_dmabuf_file(const struct file *file)
{
	return file && file->f_inode->i_sb->s_magic == DMA_BUF_MAGIC;
}

/*
 * The buffer's size and names, for an fd or a mapping record when iter/dmabuf
 * does not name the buffers. void *private_data: no direct loads through it
 * (6.12's verifier).
 */
static __always_inline void write_buf(struct seq_file *seq, const struct dma_buf *dmabuf)
{
	struct inv_fd_buf b = {};

	b.size = BPF_CORE_READ(dmabuf, size);
	bpf_probe_read_kernel_str(b.exp_name, sizeof(b.exp_name), BPF_CORE_READ(dmabuf, exp_name));
	bpf_probe_read_kernel_str(b.name, sizeof(b.name), BPF_CORE_READ(dmabuf, name));
	bpf_seq_write(seq, &b, sizeof(b));
}

struct iter_task_vma {
	struct iter_meta *meta;
	struct task_struct *task;
	struct vm_area_struct *vma;
};

SEC("iter/task_vma")
int task_vma(struct bpf_iter__task_vma *bpf_ctx)
{
	const struct iter_task_vma *ctx = (const void *)bpf_ctx;
	const struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	const struct dma_buf *dmabuf;
	struct inv_map rec = {};
	const struct file *file;

	if (!task || !vma)
		return 0;
	file = vma->vm_file;
	/* threads share the leader's mm: count its mappings once */
	if (!is_dmabuf_file(file) || !counts_maps_for_process(task))
		return 0;
	dmabuf = file->private_data;
	rec.tgid = task->tgid;
	rec.ino = file->f_inode->i_ino;
	rec.bytes = vma->vm_end - vma->vm_start;
	if (!have_dmabuf_iter && dmabuf)
		rec.flags |= INV_MAP_BUF;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	if (rec.flags & INV_MAP_BUF)
		write_buf(ctx->meta->seq, dmabuf);
	return 0;
}

/*
 * The fd tables a walk (an iterator session) counted of threads other than
 * their process's leader, by their files_struct and process: each by the
 * first thread the walk met with it. The task_file iterator skips a thread
 * whose table is its leader's; it shows those with one of their own
 * (unshare(CLONE_FILES)), which may share it with another thread, and every
 * thread of a zombie leader (which has none). Emptied when a walk first
 * meets such a thread; full (more such tables than it holds), a table is
 * counted by each of its threads.
 */
struct table_key {
	__u64 files;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct table_key);
	__type(value, __u32);		/* the thread that counts it */
} thread_tables SEC(".maps");

__u64 tables_session;	/* the walk thread_tables is of */

static long drop_table(struct bpf_map *map, struct table_key *key, __u32 *tid, void *ctx)
{
	bpf_map_delete_elem(map, key);
	return 0;
}

static __always_inline bool counts_fds_for_process(const struct task_struct *task, __u64 session)
{
	struct table_key key = {};
	__u32 tid = task->pid, *t;

	if (task == task->group_leader)
		return true;
	if (tables_session != session) {
		bpf_for_each_map_elem(&thread_tables, drop_table, NULL, 0);
		tables_session = session;
	}
	key.files = (__u64)task->files;
	key.tgid = task->tgid;
	t = bpf_map_lookup_elem(&thread_tables, &key);
	if (t)
		return *t == tid;
	bpf_map_update_elem(&thread_tables, &key, &tid, BPF_NOEXIST);
	return true;
}

/* the process the last record named: the next records of it need not */
struct inv_named proc_named;

struct iter_task_file {
	struct iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	__u32 pad;
	struct file *file;
};

SEC("iter/task_file")
int task_file(struct bpf_iter__task_file *bpf_ctx)
{
	const struct iter_task_file *ctx = (const void *)bpf_ctx;
	struct task_struct *task = ctx->task;
	const struct file *file = ctx->file;
	struct seq_file *seq = ctx->meta->seq;
	const struct dma_buf *dmabuf;
	struct inv_fd rec = {};

	if (!task || !is_dmabuf_file(file) || !counts_fds_for_process(task, ctx->meta->session_id))
		return 0;
	dmabuf = file->private_data;
	/*
	 * None: an O_PATH file of the buffer's dentry (an open of
	 * /proc/PID/fd/N), which keeps the buffer's memory as long as it is
	 * open, also past the release of its last file, which took it off the
	 * list iter/dmabuf walks: the buffer named here, from the dentry
	 */
	if (!dmabuf) {
		dmabuf = BPF_CORE_READ(file, f_path.dentry, d_fsdata);
		if (!dmabuf)
			return 0;
		rec.flags |= INV_FD_PATH | INV_FD_BUF;
	}
	rec.ino = file->f_inode->i_ino;
	rec.tgid = task->tgid;
	if (name_again(ctx->meta, rec.tgid, &proc_named))
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
	if (rec.flags & INV_FD_BUF)
		write_buf(seq, dmabuf);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
