/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A record of every type, with values at the edges of their encodings (zero,
 * the maximum, times going backwards, a thread below its process's pid),
 * for tests/unit/record_test.c and the fuzzer's seed corpus
 * (tests/fuzz/record_seed.c). Every field of every record is set (not 0)
 * in at least one sample, so a field the format forgets reads back wrong.
 */
#ifndef HEAPSTAT_RECORD_SAMPLES_H
#define HEAPSTAT_RECORD_SAMPLES_H

#include <stdint.h>

#include "lib/record.h"

#define SAMPLE_T0	1000000000000ull	/* the header's CLOCK_MONOTONIC */
#define SAMPLES_MAX	32

static const struct rec_header sample_header = {
	.mono_ns = SAMPLE_T0,
	.real_ns = 1767225600000000000ull,
	.page_size = 4096,
	.kernel = "7.2.0-heapstat",
	.host = "rig\x01\xe2\x80\x8e",		/* bytes a printer must escape */
	.command = "camera-app --frames 300",
	.untraced = REC_UNTRACED_CMA,
};

static const uint32_t sample_holders[] = { 4242, 17, 4194304, 4243, 0, UINT32_MAX };
static const uint32_t sample_one_holder[] = { 1 };
static const struct rec_frame sample_frames[] = {
	{ "dma_heap_ioctl+0x9", "vmlinux", "", 0xffffffff81a2b3c9ull, REC_FRAME_KERNEL },
	{ "", "heap_mod\x1b[31m", "", UINT64_MAX, REC_FRAME_KERNEL | 0x80000000u },
	{ "ioctl+0xb", "/usr/lib/x86_64-linux-gnu/libc.so.6",
	  "4e7ab2c1d0f9e8a7b6c5d4e3f2a1b0c9d8e7f6a5", 0x10fa4b, 0 },
	{ "", "", "", 0, 0 },
	{ "leak_three+0x1a", "/camera", "4e7ab2c1d0f9e8a7b6c5d4e3f2a1b0c9d8e7f6a5", 0x1234, 0 },
};
static const struct rec_heap_bytes sample_heaps[] = {
	{ "system", 3ull << 30 }, { "carveout-vm", 0 }, { "", UINT64_MAX },	/* a new name */
};
/* a snapshot's: the system's heaps, one of them named with markup, controls and bytes not UTF-8 */
static const struct rec_heap_bytes sample_snap_heaps[] = {
	{ "system", 1 << 20 }, { "a<b&c\"d'\x02\x1b]0;t\x07\xfe\xc2\x9b\tz", 0 },
};

/* the samples in @v (SAMPLES_MAX of room), in the order to write them: their number */
static inline size_t record_samples(struct rec *v)
{
	static char long_path[4000];
	size_t n = 0;

	for (size_t i = 0; i + 1 < sizeof(long_path); i++)
		long_path[i] = i % 50 == 0 ? '/' : 'a' + i % 26;

	v[n++] = (struct rec){ .type = REC_PROCESS, .process = {
		.pid = 4242, .tid = 4242, .comm = "camera-app", .cgroup_id = 5123,
		.cgroup = "/camera" } };
	v[n++] = (struct rec){ .type = REC_PROCESS, .process = {
		.pid = 4194304, .tid = 17, .comm = "worker\t\x1b[31m", .cgroup_id = UINT64_MAX,
		.cgroup = long_path } };
	v[n++] = (struct rec){ .type = REC_SNAP_BEGIN, .snap_begin = {
		.ts = SAMPLE_T0 + 5, .when = REC_SNAP_START, .source = 1 } };
	v[n++] = (struct rec){ .type = REC_SNAP_BUF, .snap_buf = {
		.ino = 30001, .size = 1 << 20, .exporter = "system", .name = "preview",
		.nholders = 6, .holders = sample_holders } };
	v[n++] = (struct rec){ .type = REC_SNAP_BUF, .snap_buf = {
		.ino = UINT64_MAX, .size = UINT64_MAX, .exporter = "i915", .name = "",
		.nholders = 1, .holders = sample_one_holder } };
	v[n++] = (struct rec){ .type = REC_SNAP_BUF, .snap_buf = {
		.ino = 0, .size = 0, .exporter = "", .name = "orphan" } };
	v[n++] = (struct rec){ .type = REC_SNAP_END, .snap_end = {
		.ts = SAMPLE_T0 + 9000, .buffers = 3, .bytes = 1 << 20, .nheaps = 2,
		.heaps = sample_snap_heaps } };
	v[n++] = (struct rec){ .type = REC_STACK, .stack = {
		.id = 7, .nframes = 5, .frames = sample_frames } };
	v[n++] = (struct rec){ .type = REC_STACK, .stack = { .id = UINT32_MAX, .nframes = 0 } };
	v[n++] = (struct rec){ .type = REC_ALLOC, .alloc = {
		.ts = SAMPLE_T0 + 120000, .pid = 4242, .tid = 4250, .comm = "camera-app",
		.cgroup_id = 5123, .heap = "system", .requested = 1000000, .allocated = 1003520,
		.latency_ns = 48213, .err = 0, .ino = 30002, .fail_class = 0, .stack_id = 7 } };
	v[n++] = (struct rec){ .type = REC_ALLOC, .alloc = {
		.ts = SAMPLE_T0 + 119000, .pid = 4194304, .tid = 17, .comm = "worker\t\x1b[31m",
		.cgroup_id = UINT64_MAX, .heap = "cma-camera", .requested = UINT64_MAX,
		.allocated = 0, .latency_ns = UINT64_MAX, .err = -12, .ino = 0, .fail_class = 2,
		.stack_id = UINT32_MAX } };
	v[n++] = (struct rec){ .type = REC_ALLOC, .alloc = {
		.ts = SAMPLE_T0 + 130000, .pid = 0, .tid = UINT32_MAX, .comm = "",
		.cgroup_id = 0, .heap = "system", .requested = 0, .allocated = UINT64_MAX,
		.latency_ns = 0, .err = INT32_MIN, .ino = UINT64_MAX, .fail_class = UINT32_MAX } };
	v[n++] = (struct rec){ .type = REC_ALLOC, .alloc = {
		.ts = SAMPLE_T0 + 131000, .pid = UINT32_MAX, .tid = 0, .comm = "x",
		.heap = "", .err = INT32_MAX } };
	v[n++] = (struct rec){ .type = REC_EXPORT, .export = {
		.ts = SAMPLE_T0 + 140000, .pid = 4242, .cgroup_id = 5123, .exporter = "i915",
		.ino = 30003, .size = 8 << 20 } };
	v[n++] = (struct rec){ .type = REC_FD, .fd = {
		.ts = SAMPLE_T0 + 150000, .pid = 4243, .kind = REC_FD_PASS, .ino = 30002 } };
	v[n++] = (struct rec){ .type = REC_FD, .fd = {
		.ts = SAMPLE_T0 + 150001, .pid = 4243, .kind = REC_FD_MMAP, .ino = 30003 } };
	v[n++] = (struct rec){ .type = REC_CMA, .cma = {
		.ts = UINT64_MAX - 5, .kind = REC_CMA_ALLOC, .area = "reserved", .pfn = 0x80000,
		.count = 256, .latency_ns = 2000000, .result = 0 } };
	v[n++] = (struct rec){ .type = REC_CMA, .cma = {
		.ts = SAMPLE_T0 + 160000, .kind = REC_CMA_BUSY, .area = "camera", .pfn = UINT64_MAX,
		.count = UINT64_MAX, .latency_ns = 1, .result = -16 } };
	v[n++] = (struct rec){ .type = REC_CMA_STATE, .cma_state = {
		.ts = SAMPLE_T0 + 170000, .area = "reserved", .total_bytes = 128ull << 20,
		.used_bytes = 6ull << 20, .largest_free_bytes = 100ull << 20, .free_extents = 3,
		.flags = REC_CMA_EXTENTS } };
	v[n++] = (struct rec){ .type = REC_CMA_STATE, .cma_state = {
		.ts = SAMPLE_T0 + 170000, .area = "camera", .total_bytes = UINT64_MAX,
		.used_bytes = 0, .flags = 0 } };
	v[n++] = (struct rec){ .type = REC_CMA, .cma = {
		.ts = 0, .kind = REC_CMA_RELEASE, .area = "reserved", .pfn = 0x80000,
		.count = 256 } };
	v[n++] = (struct rec){ .type = REC_LIMIT, .limit = {
		.ts = SAMPLE_T0 + 170000, .pid = 4242, .cgroup_id = 5123, .bound_cgroup_id = 5000,
		.heap = "system", .requested = 4 << 20, .usage = 60 << 20, .limit = 64 << 20,
		.backend = REC_LIMIT_BPF_LSM, .bound_cgroup = "/lim", .tid = 4243,
		.when = REC_LIMIT_AT_EXPORT } };
	v[n++] = (struct rec){ .type = REC_LIMIT, .limit = {
		.ts = SAMPLE_T0 + 170001, .pid = 1, .cgroup_id = UINT64_MAX,
		.bound_cgroup_id = UINT64_MAX, .heap = "cma-camera", .requested = UINT64_MAX,
		.usage = UINT64_MAX, .limit = 0, .backend = REC_LIMIT_DMEM } };
	v[n++] = (struct rec){ .type = REC_DROPS, .drops = {
		.first_ts = SAMPLE_T0 + 180000, .last_ts = SAMPLE_T0 + 179000, .count = 1234,
		.source = REC_DROP_EVENTS } };
	v[n++] = (struct rec){ .type = REC_CHECKPOINT, .checkpoint = {
		.ts = SAMPLE_T0 + 190000, .nheaps = 3, .heaps = sample_heaps } };
	v[n++] = (struct rec){ .type = REC_RELEASE, .release = {
		.ts = SAMPLE_T0 + 200000, .ino = 30002, .lifetime_ns = 80000, .cgroup_id = 5123 } };
	v[n++] = (struct rec){ .type = REC_RELEASE, .release = {
		.ts = UINT64_MAX, .ino = UINT64_MAX, .lifetime_ns = UINT64_MAX,
		.cgroup_id = UINT64_MAX } };
	v[n++] = (struct rec){ .type = REC_CHECKPOINT, .checkpoint = { .ts = SAMPLE_T0 } };
	v[n++] = (struct rec){ .type = REC_SNAP_BEGIN, .snap_begin = {
		.ts = SAMPLE_T0 + 300000, .when = REC_SNAP_FINAL, .source = UINT32_MAX } };
	v[n++] = (struct rec){ .type = REC_SNAP_END, .snap_end = { .ts = SAMPLE_T0 + 300001 } };
	return n;
}

#endif
