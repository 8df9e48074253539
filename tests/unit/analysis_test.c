// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of a recording's analysis (tools/record/analysis.c): who
 * held what at a moment, exactly, a buffer's fd records from before its
 * allocation's record, the final snapshot's buffers whose records come after
 * it, an allocation of cgroup 0 counted once, a command still running at the
 * end, and recordings of many cgroups, heaps or CMA areas read in time
 * linear in their records.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "lib/hindex.h"
#include "lib/record.h"
#include "lib/util.h"
#include "record/analysis.h"
#include "record/checks.h"

#define T0	1000000000000ull

static const struct rec_header header = {
	.mono_ns = T0, .real_ns = 1767225600000000000ull, .page_size = 4096,
	.kernel = "7.2.0", .host = "unit", .command = "app",
};

static void put(struct rec_writer *w, struct rec r)
{
	CHECK_EQ(rec_write(w, &r), 0);
}

static void process(struct rec_writer *w, uint32_t pid, uint64_t cg, const char *path,
		    const char *comm)
{
	put(w, (struct rec){ .type = REC_PROCESS, .process = { .pid = pid, .tid = pid,
		.comm = comm, .cgroup_id = cg, .cgroup = path } });
}

static void alloc(struct rec_writer *w, uint64_t ts, uint32_t pid, uint64_t cg, const char *comm,
		  const char *heap, uint64_t ino, uint64_t size)
{
	put(w, (struct rec){ .type = REC_ALLOC, .alloc = { .ts = ts, .pid = pid, .tid = pid,
		.comm = comm, .cgroup_id = cg, .heap = heap, .requested = size, .allocated = size,
		.latency_ns = 1000, .ino = ino } });
}

static void release(struct rec_writer *w, uint64_t ts, uint64_t ino, uint64_t cg)
{
	put(w, (struct rec){ .type = REC_RELEASE, .release = { .ts = ts, .ino = ino,
		.lifetime_ns = 1, .cgroup_id = cg } });
}

static void tmp_path(char *path, size_t len)
{
	snprintf(path, len, "/tmp/heapstat-analysis-test-XXXXXX");
	close(mkstemp(path));
}

/*
 * Two processes in /cam (one renamed by an exec between its buffers), one of
 * them also charged in /other, a buffer released before the moment asked and
 * one allocated after it, another heap: each holder's bytes and buffers.
 */
static void held_at_exactly(void)
{
	struct rec_writer *w;
	struct analysis a;
	struct an_holding *h;
	char path[64], why[256];
	size_t n;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	process(w, 10, 100, "/cam", "cam");
	process(w, 11, 100, "/cam", "enc");
	process(w, 12, 200, "/other", "other");
	alloc(w, T0 + 10, 10, 100, "cam", "system", 1, 4096);
	alloc(w, T0 + 11, 11, 100, "enc", "system", 2, 8192);
	alloc(w, T0 + 12, 10, 100, "cam2", "system", 3, 4096);		/* exec'd: its last name */
	alloc(w, T0 + 13, 10, 200, "cam2", "system", 4, 65536);	/* the same pid in /other */
	alloc(w, T0 + 14, 11, 100, "enc", "system", 5, 1 << 20);
	release(w, T0 + 15, 5, 100);					/* gone by T0 + 20 */
	alloc(w, T0 + 16, 12, 100, "other", "carveout", 6, 4096);	/* another heap */
	alloc(w, T0 + 30, 11, 100, "enc", "system", 7, 4096);		/* after T0 + 20 */
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(an_held_at(&a, "system", 100, T0 + 20, &h, &n), 0);
	CHECK_EQ(n, 2);
	if (n == 2) {	/* most bytes first, then by pid */
		CHECK_EQ(h[0].pid, 10);
		CHECK_EQ(h[0].bytes, 8192);
		CHECK_EQ(h[0].buffers, 2);
		CHECK(!strcmp(h[0].comm, "cam2"), "comm %s", h[0].comm);
		CHECK_EQ(h[1].pid, 11);
		CHECK_EQ(h[1].bytes, 8192);
		CHECK_EQ(h[1].buffers, 1);
	}
	free(h);
	/* every cgroup: pid 10 twice, once for each of its cgroups */
	CHECK_EQ(an_held_at(&a, "system", 0, T0 + 20, &h, &n), 0);
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_EQ(h[0].pid, 10);
		CHECK_EQ(h[0].cgroup_id, 200);
		CHECK_EQ(h[0].bytes, 65536);
		CHECK_EQ(h[1].pid, 10);
		CHECK_EQ(h[1].cgroup_id, 100);
		CHECK_EQ(h[2].pid, 11);
	}
	free(h);
	/* while the 1 MiB buffer lived */
	CHECK_EQ(an_held_at(&a, "system", 100, T0 + 14, &h, &n), 0);
	CHECK(n >= 1 && h[0].pid == 11 && h[0].bytes == 8192 + (1 << 20), "n %zu", n);
	free(h);
	CHECK_EQ(an_held_at(&a, "carveout", 100, T0 + 20, &h, &n), 0);
	CHECK(n == 1 && h[0].pid == 12 && h[0].bytes == 4096, "n %zu", n);
	free(h);
	CHECK_EQ(an_held_at(&a, "system", 300, T0 + 20, &h, &n), 0);	/* none */
	CHECK_EQ(n, 0);
	free(h);
	CHECK(!strcmp(an_cgroup_path(&a, 200), "/other"), "%s", an_cgroup_path(&a, 200));
	CHECK(!strcmp(an_cgroup_path(&a, 999), "?"), "%s", an_cgroup_path(&a, 999));
	an_free(&a);
	unlink(path);
}

/* this process's CPU time: the bounds below are on the analysis's work, which
 * a busy host (make check runs this beside two guests) does not change */
static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * 20k cgroups, a process and 5 buffers each: reading it and asking who held
 * each cgroup's peak, as analyze, --html and --junit do, took 16 s when each
 * lookup walked every cgroup and buffer; now well under a second. The bound
 * is 4 s, for a loaded machine.
 */
static void many_cgroups_linear(void)
{
	enum { CGROUPS = 20000, PER = 5 };
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256], cg[32];
	uint64_t ts = T0, ino = 1, cells = 0, held = 0;
	double t0;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	for (uint32_t i = 0; i < CGROUPS; i++) {
		snprintf(cg, sizeof(cg), "/bench/c%u", i);
		process(w, 1000 + i, 5000 + i, cg, "app");
		for (int k = 0; k < PER; k++)
			alloc(w, ts += 1000, 1000 + i, 5000 + i, "app", "system", ino++, 4096);
	}
	CHECK_EQ(rec_writer_close(w, 0), 0);

	t0 = now_s();
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	for (size_t i = 0; i < a.nuse; i++) {
		const struct an_usage *u = &a.use[i];
		struct an_holding *h;
		size_t n;

		if (!u->cgroup_id)
			continue;
		CHECK_EQ(an_held_at(&a, u->heap, u->cgroup_id, u->peak_ts, &h, &n), 0);
		cells++;
		held += n == 1 && h[0].bytes == PER * 4096 && h[0].pid == u->cgroup_id - 4000;
		free(h);
		if (!strcmp(an_cgroup_path(&a, u->cgroup_id), "?"))
			held = 0;
	}
	CHECK(now_s() - t0 < 4, "%.1f s", now_s() - t0);
	CHECK_EQ(cells, CGROUPS);
	CHECK_EQ(held, CGROUPS);
	CHECK_EQ(a.nbufs, CGROUPS * PER);
	an_free(&a);
	unlink(path);
}

static void fd(struct rec_writer *w, uint64_t ts, uint32_t kind, uint64_t ino)
{
	put(w, (struct rec){ .type = REC_FD, .fd = { .ts = ts, .pid = 10, .kind = kind,
		.ino = ino } });
}

/*
 * The fd an allocation returns is made inside its ioctl: its record comes
 * before the allocation's. It counts with the buffer; an fd of a buffer
 * never allocated while recorded makes no buffer (no leak); an export
 * record is an event of the span like the others. A thread closing that fd
 * at once can release the buffer before the allocation is recorded: no
 * leak either, its lifetime 0.
 */
static void fds_before_alloc(void)
{
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	process(w, 10, 100, "/cam", "cam");
	fd(w, T0 + 5, REC_FD_MADE, 1);
	fd(w, T0 + 6, REC_FD_MADE, 9);			/* a buffer from before */
	alloc(w, T0 + 10, 10, 100, "cam", "system", 1, 4096);
	fd(w, T0 + 12, REC_FD_MMAP, 1);
	fd(w, T0 + 13, REC_FD_MMAP, 9);
	release(w, T0 + 14, 2, 100);				/* before its allocation */
	alloc(w, T0 + 15, 10, 100, "cam", "system", 2, 8192);
	release(w, T0 + 16, 9, 100);				/* from before: nothing */
	put(w, (struct rec){ .type = REC_EXPORT, .export = { .ts = T0 + 20, .pid = 10,
		.cgroup_id = 100, .exporter = "drm", .ino = 8, .size = 4096 } });
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(a.nleaks, 1);
	if (a.nleaks == 1) {
		CHECK_EQ(a.leaks[0]->ino, 1);
		CHECK_EQ(a.leaks[0]->fds[REC_FD_MADE], 1);
		CHECK_EQ(a.leaks[0]->fds[REC_FD_MMAP], 1);
	}
	CHECK_EQ(a.leaked_bytes, 4096);
	CHECK_EQ(a.fds[REC_FD_MADE], 2);
	CHECK_EQ(a.fds[REC_FD_MMAP], 2);
	CHECK_EQ(a.nby_heap, 2);
	CHECK(an_lifetime(&a, "system") && an_lifetime(&a, "system")->n == 1 &&
	      an_lifetime(&a, "system")->v[0] == 0, "buffer 2's lifetime");
	CHECK_EQ(an_span(&a), 15);
	CHECK_EQ(an_rel(&a, a.first_ts), 5);
	an_free(&a);
	unlink(path);
}

/*
 * The same for heaps: a crafted recording naming 10k heaps, 10 buffers each,
 * in one cgroup. Each heap was looked for among all of them at each record,
 * and each heap's peak among every buffer: 15 s of analyze -j. The bound is
 * 4 s, for a loaded machine.
 */
static void many_heaps_linear(void)
{
	enum { HEAPS = 10000, PER = 10 };
	static char names[HEAPS][16];
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];
	uint64_t ts = T0, ino = 1, rows = 0, held = 0, timed = 0;
	double t0;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	process(w, 10, 100, "/cam", "cam");
	for (uint32_t k = 0; k < PER; k++)
		for (uint32_t i = 0; i < HEAPS; i++) {
			snprintf(names[i], sizeof(names[i]), "heap%u", i);
			alloc(w, ts += 1000, 10, 100, "cam", names[i], ino++, 4096);
		}
	CHECK_EQ(rec_writer_close(w, 0), 0);

	t0 = now_s();
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	for (size_t i = 0; i < a.nuse; i++) {
		const struct an_usage *u = &a.use[i];
		const struct an_dist *d = an_latency(&a, u->heap);
		struct an_holding *h;
		size_t n;

		CHECK_EQ(an_held_at(&a, u->heap, u->cgroup_id, u->peak_ts, &h, &n), 0);
		rows++;
		held += n == 1 && h[0].bytes == PER * 4096 && h[0].buffers == PER;
		timed += d && d->n == PER && an_heap_named(&a, u->heap);
		free(h);
	}
	CHECK(now_s() - t0 < 4, "%.1f s", now_s() - t0);
	CHECK_EQ(rows, 2 * HEAPS);
	CHECK_EQ(held, 2 * HEAPS);
	CHECK_EQ(timed, 2 * HEAPS);
	CHECK_EQ(a.nheaps, HEAPS);
	CHECK(an_latency(&a, "heap10000") == NULL && !an_heap_named(&a, "heap10000"), "a heap never named");
	an_free(&a);
	unlink(path);
}

/*
 * The recorder writes the events of the final snapshot's walk after it: a
 * buffer released during the walk (in no snapshot, its release after it)
 * is no leak; one allocated then (its record after the snapshot that has
 * it) is a leak held by its holder, not "not in the final snapshot".
 */
static void final_snapshot_before_records(void)
{
	static const uint32_t holder[] = { 10 };
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256], buf[64];

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	process(w, 10, 100, "/cam", "cam");
	alloc(w, T0 + 10, 10, 100, "cam", "system", 1, 4096);
	alloc(w, T0 + 11, 10, 100, "cam", "system", 3, 4096);
	put(w, (struct rec){ .type = REC_SNAP_BEGIN, .snap_begin = { .ts = T0 + 20,
		.when = REC_SNAP_FINAL } });
	put(w, (struct rec){ .type = REC_SNAP_BUF, .snap_buf = { .ino = 2, .size = 8192,
		.exporter = "system", .name = "", .nholders = 1, .holders = holder } });
	put(w, (struct rec){ .type = REC_SNAP_BUF, .snap_buf = { .ino = 3, .size = 4096,
		.exporter = "system", .name = "", .nholders = 1, .holders = holder } });
	put(w, (struct rec){ .type = REC_SNAP_END, .snap_end = { .ts = T0 + 30, .buffers = 2,
		.bytes = 12288 } });
	release(w, T0 + 21, 1, 100);
	alloc(w, T0 + 22, 10, 100, "cam", "system", 2, 8192);
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(a.nleaks, 2);
	CHECK_EQ(a.leaked_bytes, 12288);
	for (size_t i = 0; i < a.nleaks; i++) {
		CHECK(a.leaks[i]->ino == 2 || a.leaks[i]->ino == 3, "leak %llu",
		      (unsigned long long)a.leaks[i]->ino);
		CHECK(!strcmp(an_held_by(a.leaks[i], buf, sizeof(buf)), "pid 10"), "inode %llu: %s",
		      (unsigned long long)a.leaks[i]->ino, an_held_by(a.leaks[i], buf, sizeof(buf)));
	}
	an_free(&a);
	unlink(path);
}

/*
 * A crafted allocation of cgroup 0 counts once in its heap's row (it was
 * that row twice over); the recorder stopped before its command ended says so.
 */
static void cgroup_zero_once_and_running(void)
{
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256], buf[64];

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	alloc(w, T0 + 10, 10, 0, "cam", "system", 1, 4096);
	alloc(w, T0 + 11, 10, 100, "cam", "system", 2, 4096);
	CHECK_EQ(rec_writer_close(w, REC_STATUS_RUNNING), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(an_usage_of(&a, 0, "system") && an_usage_of(&a, 0, "system")->peak == 8192,
	      "the heap's peak %llu", an_usage_of(&a, 0, "system") ?
	      (unsigned long long)an_usage_of(&a, 0, "system")->peak : 0ull);
	CHECK_EQ(a.leaked_bytes, 8192);
	CHECK(a.ended && a.end.how == REC_END_RUNNING, "end how %u", a.end.how);
	CHECK(!strcmp(an_end_text(&a, buf, sizeof(buf)), "still running when the recording stopped"),
	      "%s", buf);
	an_free(&a);
	unlink(path);
}

/*
 * Records out of time order (a release drained before an allocation made
 * before it): the peak is the time order's, 12 KiB when both were alive,
 * and the steps end where the bytes do.
 */
static void peaks_in_time_order(void)
{
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];
	const struct an_usage *u;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	alloc(w, T0 + 1100, 10, 100, "cam", "system", 100, 4096);
	release(w, T0 + 1150, 100, 100);
	alloc(w, T0 + 1140, 11, 100, "cam", "system", 101, 8192);
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	u = an_usage_of(&a, 0, "system");
	CHECK(u && u->peak == 12288 && u->peak_ts == T0 + 1140, "peak %llu at %llu",
	      u ? (unsigned long long)u->peak : 0ull, u ? (unsigned long long)u->peak_ts : 0ull);
	CHECK(a.nsteps == 6 && a.steps[a.nsteps - 1].ts == T0 + 1150 &&
	      a.steps[a.nsteps - 1].bytes == 8192, "%zu steps", a.nsteps);
	an_free(&a);
	unlink(path);
}

/*
 * 100k CMA areas, a state and a busy retry each: their summaries looked
 * each area up among all (and the busy retries of each among every CMA
 * record): 23 s of analyze. The bound is 4 s, for a loaded machine.
 */
static void many_cma_areas_linear(void)
{
	enum { AREAS = 100000 };
	static char names[AREAS][16];
	struct an_cma_summary *v = NULL;
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];
	size_t n = 0, right = 0;
	double t0;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	for (uint32_t i = 0; i < AREAS; i++) {
		snprintf(names[i], sizeof(names[i]), "area%u", i);
		put(w, (struct rec){ .type = REC_CMA_STATE, .cma_state = { .ts = T0 + i,
			.area = names[i], .total_bytes = 1 << 20, .used_bytes = 4096 } });
		put(w, (struct rec){ .type = REC_CMA, .cma = { .ts = T0 + i, .kind = REC_CMA_BUSY,
			.area = names[i], .count = i % 7 } });
	}
	CHECK_EQ(rec_writer_close(w, REC_STATUS_NONE), 0);

	t0 = now_s();
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(an_cma_summaries(&a, &v, &n), 0);
	CHECK(now_s() - t0 < 4, "%.1f s", now_s() - t0);
	CHECK_EQ(n, AREAS);
	for (size_t i = 0; i < n; i++)
		right += !strcmp(v[i].area, names[i]) && v[i].busy == i % 7 && v[i].samples == 1;
	CHECK_EQ(right, AREAS);
	free(v);
	an_free(&a);
	unlink(path);
}

/*
 * @n frames, each naming a symbol and a binary of @name bytes (1024 at most):
 * what a crafted recording writes once and names from every frame
 */
static void long_frames(struct rec_frame *fr, int n, size_t name)
{
	static char sym[1025], bin[1025];

	memset(sym, 's', name);
	memset(bin, 'b', name);
	sym[name] = bin[name] = '\0';
	for (int i = 0; i < n; i++)
		fr[i] = (struct rec_frame){ .sym = sym, .binary = bin, .build_id = "", .offset = i };
}

/*
 * A crafted recording's stacks: frames of a few bytes each naming a symbol
 * and a binary (written once) of up to 64 KiB: each frame's names cut at 512
 * bytes, 256 frames and a line of how many more, and past 64 MiB of stack
 * text a line each (a stack of 10,000 frames naming names of 60 KiB was
 * 1.2 GB of text).
 */
static void stacks_bounded(void)
{
	enum { FRAMES = 300, STACKS = 300, NAME = 1024 };
	static struct rec_frame fr[FRAMES];
	size_t total = 0, n, longest = 0;
	const char *const *f;
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];

	long_frames(fr, FRAMES, NAME);
	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	for (uint32_t id = 1; id <= STACKS; id++)
		put(w, (struct rec){ .type = REC_STACK, .stack = { .id = id, .nframes = FRAMES,
			.frames = fr } });
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	f = an_stack(&a, 1, &n);
	CHECK(n == 257 && f && !strcmp(f[256], "(44 frames more)"), "%zu lines, the last '%s'",
	      n, n && f ? f[n - 1] : "");
	for (uint32_t id = 1; id <= STACKS; id++) {
		f = an_stack(&a, id, &n);
		for (size_t i = 0; i < n; i++) {
			total += strlen(f[i]);
			longest = strlen(f[i]) > longest ? strlen(f[i]) : longest;
		}
	}
	CHECK(longest == 2 * 512 + 3, "a frame of %zu bytes", longest);
	CHECK(total <= (64 << 20), "%zu bytes of stack text", total);
	f = an_stack(&a, STACKS, &n);
	CHECK(n == 1 && !strcmp(f[0], "(300 frames not shown: the recording's stacks pass 64 MiB "
				     "of text)"), "the last stack: %zu lines, '%s'", n, n ? f[0] : "");
	an_free(&a);
	unlink(path);
}

/* @n buffers of inodes @mul apart read in linear time: the bound 4 s */
static void inodes_read_linear(uint64_t mul, uint64_t n)
{
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];
	double t0;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	for (uint64_t j = 1; j <= n; j++)
		alloc(w, T0 + j, 10, 100, "cam", "system", j * mul, 4096);
	CHECK_EQ(rec_writer_close(w, 0), 0);

	t0 = now_s();
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(now_s() - t0 < 4, "%.1f s", now_s() - t0);
	CHECK_EQ(a.nbufs, n);
	an_free(&a);
	unlink(path);
}

/*
 * Inodes 2^32 apart (a crafted recording): each took the same slot of the
 * buffers' table, whose inserts then walked all of them (hours at a
 * million). 200k of them.
 */
static void inodes_apart_linear(void)
{
	inodes_read_linear(1ull << 32, 200000);
}

/*
 * Inodes a crafted recording chose to hash to one slot of the buffers'
 * table (the multiplicative hash's preimages of 1, 2, 3...: the product's
 * high bits all 0): each insert walked all before it (20 s at 100k). The
 * hash is seeded per process.
 */
static void inodes_crafted_linear(void)
{
	uint64_t c = 0x9e3779b97f4a7c15ull, inv = c;

	for (int i = 0; i < 6; i++)	/* Newton: c * inv == 1 mod 2^64 */
		inv *= 2 - c * inv;
	inodes_read_linear(inv, 100000);
}

/* a final snapshot's buffers of inode 0 (crafted): no buffer's, none counted */
static void snapshot_inode_zero(void)
{
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	put(w, (struct rec){ .type = REC_SNAP_BEGIN, .snap_begin = { .ts = T0 + 20,
		.when = REC_SNAP_FINAL } });
	for (int i = 0; i < 3000; i++)
		put(w, (struct rec){ .type = REC_SNAP_BUF, .snap_buf = { .ino = 0, .size = 4096,
			.exporter = "system", .name = "" } });
	put(w, (struct rec){ .type = REC_SNAP_END, .snap_end = { .ts = T0 + 30 } });
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(a.nbufs == 0 && a.bufcap <= 1024, "%zu buffers in a table of %zu", a.nbufs, a.bufcap);
	an_free(&a);
	unlink(path);
}

/*
 * The failures check's detail (a JUnit testcase's body): a stack of 256
 * frames of 1 KiB names for each of 80 failures would be 21 MB, and a
 * crafted recording's could be gigabytes: cut at 16 MiB, said last.
 */
static void check_detail_bounded(void)
{
	enum { FRAMES = 256, FAILS = 80, NAME = 512 };
	static const char cut[] = "(the rest left out: the detail passes 16 MiB)\n";
	static struct rec_frame fr[FRAMES];
	char why[256], path[64];
	struct checks c = {};
	struct rec_writer *w;
	struct analysis a;
	size_t len;

	long_frames(fr, FRAMES, NAME);
	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	put(w, (struct rec){ .type = REC_STACK, .stack = { .id = 1, .nframes = FRAMES,
		.frames = fr } });
	for (int i = 0; i < FAILS; i++)
		put(w, (struct rec){ .type = REC_ALLOC, .alloc = { .ts = T0 + i, .pid = 10, .tid = 10,
			.comm = "cam", .cgroup_id = 100, .heap = "system", .requested = 4096,
			.err = -12, .fail_class = 1, .stack_id = 1 } });
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(checks_parse(&c, "failures", why, sizeof(why)), 0);
	CHECK_EQ(checks_judge(&c, &a), 1);
	len = c.v[0].detail ? strlen(c.v[0].detail) : 0;
	CHECK(len > (15u << 20) && len <= (16u << 20) + sizeof(cut) &&
	      !strcmp(c.v[0].detail + len - strlen(cut), cut), "a detail of %zu bytes", len);
	checks_free(&c);
	an_free(&a);
	unlink(path);
}

/*
 * Keys a chosen XOR difference apart (x ^ (h << 51 | h << 18)): with the
 * seed only XORed in, hindex_mix() kept the difference through its first
 * shift, and all 8,192 took one slot of a table of 2^18 whatever the seed.
 * Seeded as a multiplier too, they spread as any keys do.
 */
static void hash_xor_differences_spread(void)
{
	enum { L = 18, N = 1 << 13 };
	static uint8_t used[1 << L];
	size_t slots = 0;

	for (uint64_t h = 0; h < N; h++) {
		uint64_t i = hindex_mix(0x12345 ^ (h << (33 + L) | h << L)) & ((1 << L) - 1);

		slots += !used[i];
		used[i] = 1;
	}
	CHECK(slots > N / 2, "%zu slots for %d keys", slots, N);
}

/* the cgroup id that the hash of no seed (hindex_mix()'s before) took to @y */
static uint64_t unmix(uint64_t y)
{
	uint64_t c = 0xff51afd7ed558ccdull, inv = c;

	for (int i = 0; i < 6; i++)	/* Newton: c * inv == 1 mod 2^64 */
		inv *= 2 - c * inv;
	y ^= y >> 33;
	y *= inv;
	return y ^ (y >> 33);
}

/*
 * Cgroup ids a crafted recording chose to hash to one slot (positions 2^32
 * apart, through the mix's inverse): each insert walked all before it. The
 * hash is seeded per process: 100k read in linear time, the bound 4 s.
 */
static void cgroups_crafted_linear(void)
{
	enum { N = 100000 };
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256], cg[32];
	double t0;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	for (uint64_t j = 1; j <= N; j++) {
		snprintf(cg, sizeof(cg), "/c%llu", (unsigned long long)j);
		process(w, 1000 + j, unmix(j << 32), cg, "app");
	}
	CHECK_EQ(rec_writer_close(w, 0), 0);

	t0 = now_s();
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(now_s() - t0 < 4, "%.1f s", now_s() - t0);
	CHECK(!strcmp(an_cgroup_path(&a, unmix((uint64_t)N << 32)), "/c100000"), "%s",
	      an_cgroup_path(&a, unmix((uint64_t)N << 32)));
	an_free(&a);
	unlink(path);
}

/* a limit's refusal of 4 KiB in cgroup 100 (its limit 4 KiB), by @backend */
static void limit_rec(struct rec_writer *w, uint64_t ts, uint32_t pid, const char *heap,
		      uint64_t usage, uint32_t backend)
{
	put(w, (struct rec){ .type = REC_LIMIT, .limit = { .ts = T0 + ts, .pid = pid, .cgroup_id = 100,
		.bound_cgroup_id = 100, .heap = heap, .requested = 4096, .usage = usage,
		.limit = 4096, .backend = backend, .bound_cgroup = "" } });
}

/* a failed (EAGAIN) alloc record of 4 KiB in cgroup 100, of a call from @start to @end */
static void failed_rec(struct rec_writer *w, uint64_t start, uint64_t end, uint32_t pid,
		       uint32_t tid, const char *heap)
{
	put(w, (struct rec){ .type = REC_ALLOC, .alloc = { .ts = T0 + end, .pid = pid, .tid = tid,
		.comm = "cam", .cgroup_id = 100, .heap = heap, .requested = 4096,
		.latency_ns = end - start, .err = -11, .fail_class = 4 } });
}

/* a bpf-lsm refusal, or a failed alloc record, of the system heap */
static void refused(struct rec_writer *w, uint64_t ts, uint32_t pid)
{
	limit_rec(w, ts, pid, "system", 4096, REC_LIMIT_BPF_LSM);
}

static void call_failed(struct rec_writer *w, uint64_t start, uint64_t end, uint32_t pid)
{
	failed_rec(w, start, end, pid, pid, "system");
}

/*
 * The checks' details in words: one buffer, one allocation (not "1 buffers");
 * a size just under 1 MiB and a latency just under 1 ms as the next unit's 1.0
 */
static void check_details_worded(void)
{
	char why[256], path[64];
	struct checks c = {};
	struct rec_writer *w;
	struct analysis a;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	process(w, 10, 100, "/cam", "cam");
	put(w, (struct rec){ .type = REC_ALLOC, .alloc = { .ts = T0 + 10, .pid = 10, .tid = 10,
		.comm = "cam", .cgroup_id = 100, .heap = "system", .requested = 1048575,
		.allocated = 1048575, .latency_ns = 999999, .ino = 7 } });
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(checks_parse(&c, "peak:system>1K,p99:system>1us", why, sizeof(why)), 0);
	CHECK_EQ(checks_judge(&c, &a), 2);
	CHECK(c.v[0].detail && strstr(c.v[0].detail, "peak 1.0M at ") &&
	      strstr(c.v[0].detail, "in /cam: 1.0M in 1 buffer\n"), "%s", c.v[0].detail);
	CHECK(c.v[1].detail && !strncmp(c.v[1].detail, "1 allocation: p50 1.0ms,", 24), "%s",
	      c.v[1].detail);
	checks_free(&c);
	an_free(&a);
	unlink(path);
}

/*
 * A bpf-lsm refusal at the export falls within its failed (EAGAIN) alloc
 * record's call: one failure; one in the ioctl has no alloc record: a failure
 * of its own (ioctl_refusals), which --fail-on failures counts; a dmem
 * refusal, whose alloc record has it, is not one.
 */
static void refusals_in_ioctl_counted(void)
{
	char why[256], path[64];
	struct checks c = {};
	struct rec_writer *w;
	struct analysis a;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	limit_rec(w, 70, 10, "system", 0, REC_LIMIT_BPF_LSM);
	failed_rec(w, 50, 100, 10, 11, "system");
	limit_rec(w, 200, 10, "system", 4096, REC_LIMIT_BPF_LSM);
	failed_rec(w, 350, 400, 10, 11, "cma");
	limit_rec(w, 380, 10, "cma", 4096, REC_LIMIT_DMEM);
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(a.failed, 2);
	CHECK_EQ(a.ioctl_refusals, 1);
	CHECK(a.nlimits == 3 && !a.in_ioctl[0] && a.in_ioctl[1] && !a.in_ioctl[2], "%zu limits: %d %d %d",
	      a.nlimits, a.in_ioctl[0], a.in_ioctl[1], a.in_ioctl[2]);
	CHECK_EQ(checks_parse(&c, "failures", why, sizeof(why)), 0);
	CHECK_EQ(checks_judge(&c, &a), 1);
	CHECK(strstr(c.v[0].summary, "failures: 3 failed allocations") != NULL, "%s", c.v[0].summary);
	checks_free(&c);
	an_free(&a);
	unlink(path);
}

/*
 * Recorded with their place (format 1.5), refusals are placed by it: thread
 * 12 refused in the ioctl while thread 11's call, refused at its export
 * later, was open. Matched by time, the call would take the earlier one.
 * A full slot table's refusal and one of an unknown place: not the ioctl's.
 */
static void refusals_placed_by_when(void)
{
	char why[256], path[64];
	struct rec_writer *w;
	struct analysis a;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	put(w, (struct rec){ .type = REC_LIMIT, .limit = { .ts = T0 + 150, .pid = 10, .tid = 12,
		.cgroup_id = 100, .bound_cgroup_id = 100, .heap = "system", .requested = 4096,
		.usage = 4096, .limit = 4096, .backend = REC_LIMIT_BPF_LSM, .bound_cgroup = "",
		.when = REC_LIMIT_AT_IOCTL } });
	put(w, (struct rec){ .type = REC_LIMIT, .limit = { .ts = T0 + 250, .pid = 10, .tid = 11,
		.cgroup_id = 100, .bound_cgroup_id = 100, .heap = "system", .requested = 4096,
		.usage = 4096, .limit = 4096, .backend = REC_LIMIT_BPF_LSM, .bound_cgroup = "",
		.when = REC_LIMIT_AT_EXPORT } });
	failed_rec(w, 100, 300, 10, 11, "system");
	/* a full slot table refuses at the export; a place this reader does not know, too */
	put(w, (struct rec){ .type = REC_LIMIT, .limit = { .ts = T0 + 500, .pid = 10, .tid = 13,
		.cgroup_id = 100, .bound_cgroup_id = 100, .heap = "system", .requested = 4096,
		.usage = REC_LIMIT_UNKNOWN, .limit = REC_LIMIT_UNKNOWN, .backend = REC_LIMIT_BPF_LSM,
		.bound_cgroup = "", .when = REC_LIMIT_NO_CELL } });
	failed_rec(w, 450, 600, 10, 13, "system");
	put(w, (struct rec){ .type = REC_LIMIT, .limit = { .ts = T0 + 700, .pid = 10, .tid = 14,
		.cgroup_id = 100, .bound_cgroup_id = 100, .heap = "system", .requested = 4096,
		.usage = 4096, .limit = 4096, .backend = REC_LIMIT_BPF_LSM, .bound_cgroup = "",
		.when = 9 } });
	failed_rec(w, 650, 800, 10, 14, "system");
	CHECK_EQ(rec_writer_close(w, 0), 0);

	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(a.failed == 3 && a.ioctl_refusals == 1, "%llu failed, %llu in the ioctl",
	      (unsigned long long)a.failed, (unsigned long long)a.ioctl_refusals);
	CHECK(a.nlimits == 4 && a.in_ioctl[0] && !a.in_ioctl[1] && !a.in_ioctl[2] && !a.in_ioctl[3],
	      "%zu limits: %d %d %d %d", a.nlimits, a.in_ioctl[0], a.in_ioctl[1], a.in_ioctl[2],
	      a.in_ioctl[3]);
	CHECK(!strcmp(an_limit_when(a.limits[2].when), "full") &&
	      !strcmp(an_limit_when(a.limits[3].when), "?"), "%s %s", an_limit_when(a.limits[2].when),
	      an_limit_when(a.limits[3].when));
	an_free(&a);
	unlink(path);
}

/*
 * Two threads refused at their exports, a long call's refusal late, a short
 * one's inside it early: each call takes the refusal in it (the one ending
 * first taken first), none is counted twice. And a crafted file, 50k calls
 * of other processes open throughout and 50k refusals, is read in time
 * linear in them, not their product.
 */
static void refusals_matched_linear(void)
{
	enum { N = 50000 };
	char why[256], path[64];
	struct rec_writer *w;
	struct analysis a;
	double t0;

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	refused(w, 190, 10);
	call_failed(w, 100, 200, 10);
	refused(w, 990, 10);
	call_failed(w, 0, 1000, 10);
	CHECK_EQ(rec_writer_close(w, 0), 0);
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(a.failed == 2 && a.ioctl_refusals == 0, "%llu failed, %llu in the ioctl",
	      (unsigned long long)a.failed, (unsigned long long)a.ioctl_refusals);
	an_free(&a);

	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	for (uint32_t i = 0; i < N; i++)
		refused(w, 1000 + i, 10);
	for (uint32_t i = 0; i < N; i++)
		call_failed(w, 0, 1000000, 1000 + i);
	CHECK_EQ(rec_writer_close(w, 0), 0);
	t0 = now_s();
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(now_s() - t0 < 4, "%.1f s", now_s() - t0);
	CHECK_EQ(a.ioctl_refusals, N);
	an_free(&a);

	/* and all in one group, the refusals written last first: each call takes one */
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	for (uint32_t i = 0; i < N; i++)
		refused(w, 1000 + N - i, 10);
	for (uint32_t i = 0; i < N; i++)
		call_failed(w, 0, 1000000 + i, 10);
	CHECK_EQ(rec_writer_close(w, 0), 0);
	t0 = now_s();
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK(now_s() - t0 < 4, "%.1f s", now_s() - t0);
	CHECK(a.failed == N && a.ioctl_refusals == 0, "%llu failed, %llu in the ioctl",
	      (unsigned long long)a.failed, (unsigned long long)a.ioctl_refusals);
	an_free(&a);
	unlink(path);
}

/* --fail-on's list: a check named twice is one, empty items none, only empties refused */
static void checks_listed_once(void)
{
	struct checks c = {};
	char why[256];

	CHECK_EQ(checks_parse(&c, "leaks,leaks,,failures,", why, sizeof(why)), 0);
	CHECK_EQ(checks_parse(&c, "failures,peak:system>1M", why, sizeof(why)), 0);
	CHECK_EQ(c.n, 3);
	CHECK(!strcmp(c.v[0].name, "leaks") && !strcmp(c.v[1].name, "failures") &&
	      !strcmp(c.v[2].name, "peak:system>1M"), "%s %s %s", c.v[0].name, c.v[1].name,
	      c.v[2].name);
	CHECK_EQ(checks_parse(&c, ",", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "',' names no check") != NULL, "%s", why);
	CHECK_EQ(checks_parse(&c, "", why, sizeof(why)), -EINVAL);
	CHECK_EQ(c.n, 3);
	checks_free(&c);
}

/* an event before the recording's start (a crafted file): the span as its times are shown */
static void span_from_the_start(void)
{
	struct rec_writer *w;
	struct analysis a;
	char path[64], why[256];

	tmp_path(path, sizeof(path));
	CHECK_EQ(rec_writer_open(&w, path, &header), 0);
	process(w, 10, 100, "/cam", "cam");
	alloc(w, T0 - 500, 10, 100, "cam", "system", 1, 4096);
	release(w, T0 + 1000, 1, 100);
	CHECK_EQ(rec_writer_close(w, 0), 0);
	CHECK_EQ(an_read(&a, path, why, sizeof(why)), 0);
	CHECK_EQ(an_rel(&a, a.first_ts), 0);
	CHECK_EQ(an_rel(&a, a.last_ts), 1000);
	CHECK_EQ(an_span(&a), 1000);
	an_free(&a);
	unlink(path);
}

int main(void)
{
	RUN(held_at_exactly);
	RUN(span_from_the_start);
	RUN(fds_before_alloc);
	RUN(many_cgroups_linear);
	RUN(many_heaps_linear);
	RUN(final_snapshot_before_records);
	RUN(cgroup_zero_once_and_running);
	RUN(peaks_in_time_order);
	RUN(many_cma_areas_linear);
	RUN(stacks_bounded);
	RUN(inodes_apart_linear);
	RUN(inodes_crafted_linear);
	RUN(snapshot_inode_zero);
	RUN(check_detail_bounded);
	RUN(cgroups_crafted_linear);
	RUN(hash_xor_differences_spread);
	RUN(checks_listed_once);
	RUN(refusals_in_ioctl_counted);
	RUN(check_details_worded);
	RUN(refusals_placed_by_when);
	RUN(refusals_matched_linear);
	return tests_failed ? 1 : 0;
}
