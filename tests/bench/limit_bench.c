// SPDX-License-Identifier: GPL-2.0
/*
 * What a limit costs, in one VM boot: an alloc+free loop at 4 KiB, 64 KiB
 * and 1 MiB from each heap named, in a cgroup of its own, with
 *   NONE    no limit anywhere (heapstat heaps: accounting off),
 *   DMEM    heapstat heaps only: accounting on and a dmem.max on the cgroup,
 *           far above what the loop holds (the kernel's charge and check),
 *   BPF-LSM heapstat's BPF-LSM limit programs loaded, pinned and a limit set
 *           on the cgroup, as `heapstat limit` leaves them (accounting off),
 *   FLOOR   the least any BPF-LSM limit costs: programs that only count, on
 *           a sleepable file_ioctl LSM hook (the request), the dma_buf_export
 *           tracepoint (the buffer) and the inode_free_security LSM hook
 *           (its end), as the limit takes them (bpf/bench_floor.bpf.c). LIMIT_BENCH_FLOOR=lsm,
 *           exp, rel or a mix attaches only those ("none": nothing).
 * BPF-LSM is also given against FLOOR (LSM/FLOOR+): the limit's own cost.
 * Every batch runs beside the same ballast (tests/bench/ballast.c): without
 * it, the reference kernel's SLUB_TINY took a new slab for the dma-buf's file
 * at each allocation and gave it back at each free whenever the file slabs
 * happened to be all full, about 1,800 instructions an alloc+free; a variant
 * holding a file more (a BPF link is one) escaped it, which had FLOOR read
 * 1,450 instructions below NONE.
 * The variants are interleaved in each round (the LSM programs are loaded
 * before and unpinned after each of its batches, outside the timing, and
 * the kernel's deferred work of a change is let settle before a batch); the
 * median round is kept. Time is the loop thread's CPU time, so what the
 * other CPU does (a link's deferred release, RCU) is not counted. Reported:
 * each backend's time added over NONE, as a share of NONE. make bench boots
 * this VM with -icount: guest time is instructions executed. memcg is not
 * here: dma_heap.mem_accounting is fixed at boot, so its cost needs a boot
 * of its own.
 *
 *   limit_bench HEAP...        (heapstat heaps: accounting is switched)
 *   limit_bench none|dmem|lsm|floor HEAP SIZE OPS   one batch of one variant
 *                              (PROFILE_BENCH=limit tests/bench/profile.sh)
 * LIMIT_BENCH_ROUNDS=N: the median of N rounds instead of 9;
 * LIMIT_BENCH_VARIANTS=none,floor...: only those (the others read 0);
 * LIMIT_BENCH_EACH=1: every batch's time too;
 * LIMIT_BENCH_BALLAST=N: N buffers of ballast instead of 64 (0: none);
 * LIMIT_BENCH_CLOCK=wall: the CPU's whole time instead of the thread's. After the
 * tables, where BPF-LSM's time goes at 4 KiB: each limit program's run time
 * per call from the kernel's BPF statistics, in a run of its own (the
 * statistics cost time; trampolines are not in them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-heap.h>
#include <bpf/bpf.h>

#include "bench_floor.skel.h"
#include "lib/lsm_limit.h"
#include "lib/util.h"
#include "ballast.h"

#define MAX_ROUNDS	99
#define CG		"/sys/fs/cgroup/limit_bench"
#define ACCOUNTING	"/sys/module/heapstat_core/parameters/accounting"
#define FAR		(1ull << 40)	/* a limit the loop never comes near */

enum { NONE, DMEM, LSM, FLOOR, VARIANTS };

static int rounds = 9;
static const char * const vname[VARIANTS] = { "none", "dmem", "lsm", "floor" };
static bool skip[VARIANTS];	/* LIMIT_BENCH_VARIANTS: only those named are run */
static uint64_t cg_id;
static struct bench_floor_bpf *fl;

static void die(const char *what)
{
	fprintf(stderr, "limit_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static bool put(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, value, strlen(value)) == (ssize_t)strlen(value);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* LIMIT_BENCH_CLOCK=wall: the CPU's whole time (one CPU: the deferred work too) */
static uint64_t cpu_ns(void)
{
	static int wall = -1;
	struct timespec ts;

	if (wall < 0)
		wall = getenv("LIMIT_BENCH_CLOCK") && !strcmp(getenv("LIMIT_BENCH_CLOCK"), "wall");
	clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* let the deferred work of a change (a link released, RCU) run before timing */
static void settle(void)
{
	usleep(getenv("LIMIT_BENCH_SETTLE_MS") ? atoi(getenv("LIMIT_BENCH_SETTLE_MS")) * 1000 : 200000);
}

static double loop_ns(int heap, uint64_t len, int n)
{
	uint64_t t0 = cpu_ns();

	for (int i = 0; i < n; i++) {
		struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };

		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) < 0)
			die("alloc");
		close(d.fd);
	}
	return (double)(cpu_ns() - t0) / n;
}

/* the ballast (ballast.c), not charged to anyone: allocated as NONE allocates */
static void hold_ballast(int heap)
{
	if (access(ACCOUNTING, F_OK) == 0 && !put(ACCOUNTING, "off"))
		die(ACCOUNTING);
	if (ballast_hold(heap, "LIMIT_BENCH_BALLAST"))
		die("ballast");
}

static bool want_stats;		/* print the LSM programs' statistics after a batch */
static int stats_fd;

/* the limit programs' run time per call over the batch of n just run */
static void print_stats(int n)
{
	__u32 id = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int pfd = bpf_prog_get_fd_by_id(id);

		if (pfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(pfd, &info, &len) && info.run_cnt)
			printf("  %-28s %6.2f calls/op %9.0f ns/call %9.0f ns/op\n", info.name,
			       (double)info.run_cnt / n, (double)info.run_time_ns / info.run_cnt,
			       (double)info.run_time_ns / n);
		close(pfd);
	}
}

/* one timed batch of variant v, after a warm-up of n/10 operations */
static double run(int v, const char *heap_name, int heap, uint64_t len, int n)
{
	struct bpf_link *floor_links[3];
	struct lsm_limit *l = NULL;
	char why[512], value[128];
	bool unpinned;
	double ns;

	snprintf(value, sizeof(value), "dma-heap/%s %llu", heap_name,
		 v == DMEM ? FAR : 0ull);
	if (v == DMEM) {
		if (!put(ACCOUNTING, "on") || !put(CG "/dmem.max", value))
			die("dmem.max");
	} else if (access(ACCOUNTING, F_OK) == 0 && !put(ACCOUNTING, "off")) {
		die(ACCOUNTING);
	}
	if (v == LSM && (lsm_limit_open(&l, NULL, LSM_LIMIT_CREATE, why, sizeof(why)) ||
			 lsm_limit_set(l, cg_id, heap_name, FAR, why, sizeof(why)))) {
		fprintf(stderr, "limit_bench: %s\n", why);
		exit(1);
	}
	settle();
	if (v == FLOOR) {
		const char *only = getenv("LIMIT_BENCH_FLOOR") ?: "";

		/* the buffer's end as the limit takes it: an LSM hook */
		struct bpf_program *p[3] = { fl->progs.floor_lsm_ioctl, fl->progs.floor_export,
					     fl->progs.floor_lsm_release };
		static const char * const key[3] = { "lsm", "exp", "rel" };

		for (int i = 0; i < 3; i++) {
			floor_links[i] = NULL;
			if (*only && !strstr(only, key[i]))
				continue;
			floor_links[i] = bpf_program__attach(p[i]);
			if (!floor_links[i])
				die("attach the floor programs");
		}
	}
	loop_ns(heap, len, n / 10);
	if (want_stats && v == LSM) {	/* counted from here: the batch alone */
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			die("BPF_ENABLE_STATS");
	}
	ns = loop_ns(heap, len, n);
	if (want_stats && v == LSM) {
		print_stats(n);
		close(stats_fd);
	}
	for (int i = 0; v == FLOOR && i < 3; i++)
		bpf_link__destroy(floor_links[i]);
	if (l && lsm_limit_clear(l, cg_id, heap_name, &unpinned, why, sizeof(why))) {
		fprintf(stderr, "limit_bench: %s\n", why);
		exit(1);
	}
	lsm_limit_close(l);
	if (v == DMEM) {
		snprintf(value, sizeof(value), "dma-heap/%s max", heap_name);
		put(CG "/dmem.max", value);
	}
	settle();
	return ns;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void bench(const char *name)
{
	static const uint64_t sizes[] = { 4096, 65536, 1 << 20 };
	static const int ops[] = { 10000, 2000, 200 };
	char path[256], label[16];
	bool dmem;
	int heap;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	heap = open(path, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		die(path);
	/* a heapstat heap: its dmem region, and accounting switched per variant */
	snprintf(path, sizeof(path), "dma-heap/%s %llu", name, FAR);
	dmem = access(ACCOUNTING, F_OK) == 0 && put(CG "/dmem.max", path);
	snprintf(path, sizeof(path), "dma-heap/%s max", name);
	if (dmem)
		put(CG "/dmem.max", path);
	hold_ballast(heap);
	printf("%s: alloc+free, median of %d interleaved rounds (us per op), added over none;\n"
	       "%d buffers of 4 KiB held throughout (the ballast)\n", name, rounds, ballast_n);
	printf("%-6s %9s %9s %9s %9s %9s %9s %9s %11s %7s\n", "SIZE", "NONE", "DMEM", "BPF-LSM",
	       "FLOOR", "DMEM+", "BPF-LSM+", "FLOOR+", "LSM/FLOOR+", "NOISE");
	for (size_t s = 0; s < 3; s++) {
		double t[VARIANTS][MAX_ROUNDS], m[VARIANTS] = { 0 };

		loop_ns(heap, sizes[s], ops[s] / 10);	/* warm the pools */
		for (int r = 0; r < rounds; r++)
			for (int i = 0; i < VARIANTS; i++) {
				int v = (r + i) % VARIANTS;	/* each variant in each place */

				t[v][r] = (v == DMEM && !dmem) || skip[v] ? 0 :
					  run(v, name, heap, sizes[s], ops[s]);
				if (getenv("LIMIT_BENCH_EACH") && t[v][r])
					printf("  round %d %s %.2f\n", r, vname[v], t[v][r] / 1e3);
			}
		for (int v = 0; v < VARIANTS; v++) {
			qsort(t[v], rounds, sizeof(double), cmp);
			m[v] = t[v][rounds / 2];
		}
		printf("%-6s %9.2f ", format_size(sizes[s], label, sizeof(label)), m[NONE] / 1e3);
		if (dmem)
			printf("%9.2f ", m[DMEM] / 1e3);
		else
			printf("%9s ", "-");
		printf("%9.2f %9.2f ", m[LSM] / 1e3, m[FLOOR] / 1e3);
		if (dmem)
			printf("%8.2f%% ", (m[DMEM] - m[NONE]) / m[NONE] * 100);
		else
			printf("%9s ", "-");
		printf("%8.2f%% %8.2f%% %10.2f%% %6.1f%%\n", (m[LSM] - m[NONE]) / m[NONE] * 100,
		       (m[FLOOR] - m[NONE]) / m[NONE] * 100, (m[LSM] - m[FLOOR]) / m[FLOOR] * 100,
		       (t[NONE][rounds * 3 / 4] - t[NONE][rounds / 4]) / m[NONE] * 100);
	}
	printf("%s: the limit programs at 4.0K (BPF statistics on, %d ops):\n", name, ops[0]);
	want_stats = true;
	run(LSM, name, heap, 4096, ops[0]);
	want_stats = false;
	ballast_drop();
	close(heap);
}

int main(int argc, char **argv)
{
	struct stat st;
	char pid[32];
	int one = -1;

	if (argc == 5)
		for (int v = 0; v < VARIANTS; v++)
			if (!strcmp(argv[1], vname[v]))
				one = v;
	if (argc < 2 || (one >= 0 && (atoll(argv[3]) <= 0 || atoi(argv[4]) <= 0))) {
		fprintf(stderr, "usage: limit_bench HEAP...\n"
			"       limit_bench none|dmem|lsm|floor HEAP SIZE OPS\n");
		return 2;
	}
	if (getenv("LIMIT_BENCH_ROUNDS")) {
		rounds = atoi(getenv("LIMIT_BENCH_ROUNDS"));
		if (rounds < 1 || rounds > MAX_ROUNDS) {
			fprintf(stderr, "limit_bench: LIMIT_BENCH_ROUNDS: 1 to %d\n", MAX_ROUNDS);
			return 2;
		}
	}
	if (getenv("LIMIT_BENCH_VARIANTS")) {
		for (int v = 0; v < VARIANTS; v++)
			skip[v] = !strstr(getenv("LIMIT_BENCH_VARIANTS"), vname[v]);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	put("/sys/fs/cgroup/cgroup.subtree_control", "+dmem");
	if (mkdir(CG, 0755) && errno != EEXIST)
		die(CG);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (!put(CG "/cgroup.procs", pid) || stat(CG, &st))
		die(CG "/cgroup.procs");
	cg_id = st.st_ino;
	fl = bench_floor_bpf__open();
	if (fl)		/* the collector's release: not the limit's */
		bpf_program__set_autoload(fl->progs.floor_release, false);
	if (!fl || bench_floor_bpf__load(fl))
		die("load the floor programs");
	if (one >= 0) {		/* one variant alone, for a profiler watching the emulator */
		char path[256];
		int heap;

		snprintf(path, sizeof(path), "/dev/dma_heap/%s", argv[2]);
		heap = open(path, O_RDONLY | O_CLOEXEC);
		if (heap < 0)
			die(path);
		hold_ballast(heap);
		printf("%s: %.2f us per op\n", vname[one],
		       run(one, argv[2], heap, atoll(argv[3]), atoi(argv[4])) / 1e3);
		return 0;
	}
	for (int i = 1; i < argc; i++)
		bench(argv[i]);
	printf("NOISE: interquartile range of the NONE rounds; DMEM+, BPF-LSM+, FLOOR+: added over\n"
	       "NONE; LSM/FLOOR+: BPF-LSM's time over FLOOR's\n");
	return 0;
}
