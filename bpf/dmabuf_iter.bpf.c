// SPDX-License-Identifier: GPL-2.0
/*
 * Inventory of live dma-bufs: iter/dmabuf (6.16+) walks the kernel's list of
 * every dma-buf, held by a process or not, and writes one struct inv_buffer
 * per buffer to the iterator's seq file.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "dmabuf_iter.h"

static __always_inline __u32 count_attachments(const struct dma_buf *dmabuf)
{
	const struct list_head *head = &dmabuf->attachments, *pos;
	__u32 n = 0;

	/* a snapshot without the buffer's lock: a racing attach may be missed */
	pos = BPF_CORE_READ(head, next);
	for (int i = 0; i < INV_MAX_ATTACHMENTS && pos != head; i++) {
		n++;
		pos = BPF_CORE_READ(pos, next);
	}
	return n;
}

SEC("iter/dmabuf")
int dmabuf(struct bpf_iter__dmabuf *ctx)
{
	const struct dma_buf *dmabuf = ctx->dmabuf;
	struct inv_buffer rec = {};
	const char *p;

	if (!dmabuf)
		return 0;
	rec.ino = BPF_CORE_READ(dmabuf, file, f_inode, i_ino);
	rec.size = BPF_CORE_READ(dmabuf, size);
	rec.attachments = count_attachments(dmabuf);
	p = BPF_CORE_READ(dmabuf, exp_name);
	if (p)
		bpf_probe_read_kernel_str(rec.exp_name, sizeof(rec.exp_name), p);
	p = BPF_CORE_READ(dmabuf, name);
	if (p)
		bpf_probe_read_kernel_str(rec.name, sizeof(rec.name), p);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
