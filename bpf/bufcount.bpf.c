// SPDX-License-Identifier: GPL-2.0
/*
 * Count dma-buf exports and final releases per exporter.
 *
 * A dma-buf is freed when its file's dentry goes (dma_buf_release), after the
 * last fd, mapping and kernel reference are gone; dma_buf_put() only drops
 * one reference, so it is not the release. Only buffers exported while the
 * programs are attached are counted, so a release always has its export.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bufcount.h"

#define MAX_EXPORTERS	64
#define MAX_BUFFERS	65536

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_EXPORTERS);
	__type(key, struct exporter_key);
	__type(value, struct exporter_stats);
} exporters SEC(".maps");

/* buffers seen exported: struct dma_buf address -> size */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_BUFFERS);
	__type(key, __u64);
	__type(value, __u64);
} buffers SEC(".maps");

/* events not counted: exporter or buffer map full */
__u64 dropped = 0;

static __always_inline struct exporter_stats *stats_of(const struct dma_buf *dmabuf)
{
	static const struct exporter_stats zero;
	struct exporter_key key = {};
	struct exporter_stats *st;

	bpf_probe_read_kernel_str(key.name, sizeof(key.name), BPF_CORE_READ(dmabuf, exp_name));
	st = bpf_map_lookup_elem(&exporters, &key);
	if (st)
		return st;
	/* may race with another CPU adding the same key: either insert wins */
	bpf_map_update_elem(&exporters, &key, &zero, BPF_NOEXIST);
	st = bpf_map_lookup_elem(&exporters, &key);
	if (!st)
		__sync_fetch_and_add(&dropped, 1);
	return st;
}

SEC("fexit/dma_buf_export")
int BPF_PROG(dma_buf_export, const struct dma_buf_export_info *exp_info, struct dma_buf *ret)
{
	struct exporter_stats *st;

	if ((unsigned long)ret >= (unsigned long)-4095)	/* IS_ERR */
		return 0;
	__u64 key = (__u64)ret, size = BPF_CORE_READ(ret, size);

	st = stats_of(ret);
	if (!st)
		return 0;
	if (bpf_map_update_elem(&buffers, &key, &size, BPF_ANY)) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	st->exports++;
	st->bytes_exported += size;
	return 0;
}

SEC("fentry/dma_buf_release")
int BPF_PROG(dma_buf_release, struct dentry *dentry)
{
	struct dma_buf *dmabuf = BPF_CORE_READ(dentry, d_fsdata);
	struct exporter_stats *st;
	__u64 key = (__u64)dmabuf, *size;

	/* no dmabuf: the export failed after making the file */
	size = dmabuf ? bpf_map_lookup_elem(&buffers, &key) : NULL;
	if (!size)	/* or exported before we attached */
		return 0;
	st = stats_of(dmabuf);
	if (st) {
		st->releases++;
		st->bytes_released += *size;
	}
	bpf_map_delete_elem(&buffers, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
