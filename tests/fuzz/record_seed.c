// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's seed corpus (scripts/fuzz.sh): recordings the writer makes,
 * written into the directory given. Every record type (the unit test's
 * samples), a stream of allocations and releases with a checkpoint, one
 * whose records are not in time order (as two CPUs' rings drain), one of
 * 1,200 cgroups' buffers (more rows than a page's table), an empty
 * recording, and a few cut short.
 *
 * Usage: record_seed DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/record.h"
#include "record_samples.h"

static int write_file(const char *dir, const char *name, int (*fill)(struct rec_writer *w),
		      int wstatus, long cut)
{
	struct rec_writer *w;
	char path[4096];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = rec_writer_open(&w, path, &sample_header);
	if (err)
		return err;
	err = fill(w);
	err = rec_writer_close(w, wstatus) ?: err;
	if (!err && cut >= 0 && truncate(path, cut))
		err = -errno;
	return err;
}

static int samples(struct rec_writer *w)
{
	struct rec v[SAMPLES_MAX];
	size_t n = record_samples(v);
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = rec_write(w, &v[i]);
	return err;
}

static int stream(struct rec_writer *w)
{
	static const char * const heaps[] = { "system", "cma-camera" };
	struct rec_heap_bytes hb[2] = { { heaps[0], 0 }, { heaps[1], 0 } };
	uint64_t t = SAMPLE_T0;
	int err = 0;

	for (unsigned int i = 0; i < 40 && !err; i++) {
		struct rec r = { .type = REC_ALLOC, .alloc = {
			.ts = t += 7919 * (i % 5 + 1), .pid = 3000 + i % 3, .tid = 3000 + i % 5,
			.comm = i % 3 ? "camera-app" : "codec", .cgroup_id = 4100 + i % 2,
			.heap = heaps[i % 2], .requested = 4096 << (i % 9),
			.allocated = 4096 << (i % 9), .latency_ns = 1000 + i * 37, .ino = 9000 + i,
			.stack_id = i % 4 } };

		err = rec_write(w, &r);
		hb[i % 2].bytes += r.alloc.allocated;
		if (!err && i % 2) {
			r = (struct rec){ .type = REC_RELEASE, .release = {
				.ts = t + 3000, .ino = 9000 + i - 1, .lifetime_ns = 7919,
				.cgroup_id = 4100 } };
			hb[(i - 1) % 2].bytes -= 4096 << ((i - 1) % 9);
			err = rec_write(w, &r);
		}
		if (!err && i == 20) {
			r = (struct rec){ .type = REC_CHECKPOINT, .checkpoint = {
				.ts = t, .nheaps = 2, .heaps = hb } };
			err = rec_write(w, &r);
		}
	}
	return err;
}

/*
 * In the file: a buffer allocated, then released, then another allocated
 * 10 ms before that release (its record drained after it): 8 KiB alive at
 * the end, whatever the order.
 */
static int out_of_order(struct rec_writer *w)
{
	const struct rec v[] = {
		{ .type = REC_ALLOC, .alloc = { .ts = SAMPLE_T0 + 1100000000, .pid = 3000,
			.tid = 3000, .comm = "app", .cgroup_id = 4100, .heap = "system",
			.requested = 4096, .allocated = 4096, .latency_ns = 1000, .ino = 100 } },
		{ .type = REC_RELEASE, .release = { .ts = SAMPLE_T0 + 1150000000, .ino = 100,
			.lifetime_ns = 50000000, .cgroup_id = 4100 } },
		{ .type = REC_ALLOC, .alloc = { .ts = SAMPLE_T0 + 1140000000, .pid = 3001,
			.tid = 3001, .comm = "app", .cgroup_id = 4100, .heap = "system",
			.requested = 8192, .allocated = 8192, .latency_ns = 1000, .ino = 101 } },
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]) && !err; i++)
		err = rec_write(w, &v[i]);
	return err;
}

/* 1,200 cgroups, a buffer each of a size of its own: 1,201 peaks */
static int many_rows(struct rec_writer *w)
{
	int err = 0;

	for (uint32_t i = 0; i < 1200 && !err; i++) {
		struct rec r = { .type = REC_ALLOC, .alloc = {
			.ts = SAMPLE_T0 + 1000 * (i + 1), .pid = 5000 + i, .tid = 5000 + i,
			.comm = "app", .cgroup_id = 6000 + i, .heap = "system",
			.requested = 4096 * (i + 1), .allocated = 4096 * (i + 1),
			.latency_ns = 1000, .ino = 20000 + i } };

		err = rec_write(w, &r);
	}
	return err;
}

static int nothing(struct rec_writer *w)
{
	(void)w;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fill)(struct rec_writer *w);
		int wstatus;
		long cut;
	} seeds[] = {
		{ "samples", samples, 3 << 8, -1 },
		{ "samples-cut", samples, 0, 700 },
		{ "stream", stream, 9, -1 },
		{ "stream-cut", stream, 0, 333 },
		{ "out-of-order", out_of_order, 0, -1 },
		{ "many-rows", many_rows, 0, -1 },
		{ "empty", nothing, REC_STATUS_NONE, -1 },
		{ "header-cut", nothing, 0, 20 },
	};
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: record_seed DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		err = write_file(argv[1], seeds[i].name, seeds[i].fill, seeds[i].wstatus,
				 seeds[i].cut);
		if (err) {
			fprintf(stderr, "record_seed: failed to write %s/%s: %s\n", argv[1],
				seeds[i].name, strerror(-err));
			return 1;
		}
	}
	return 0;
}
