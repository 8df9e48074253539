// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing overhead, in one VM boot: a system-heap alloc+free loop at 4 KiB,
 * 64 KiB and 1 MiB with
 *   BARE      nothing attached,
 *   FLOOR     a minimal fentry+fexit counter on dma_heap_ioctl (the floor of
 *             attaching at all: bpf/bench_floor.bpf.c),
 *   HOOKS     counters on every hook the collector takes on this path (the
 *             ioctl pair, the dma_buf_export tracepoint, an fentry on
 *             dma_buf_file_release): what the hooks cost before any work,
 *   NEEDS     the same hooks calling what aggregate mode cannot do without
 *             (the thread's storage three times, three clock reads, the
 *             cgroup's id) and nothing else: the floor of keeping what it
 *             keeps this way (bpf/bench_floor.bpf.c's need_* programs),
 *   HEAPSTAT  heapstat's collector in aggregate mode (report, top, export,
 *             limit), its ring drained by a thread as report does,
 *   RECORD    the collector in record mode (heapstat record): an event for
 *             every allocation and release, consumed by a thread,
 *   LIVE      the collector as heaptop and export load it: aggregate mode,
 *             the holder hooks and the change log (the loop's process a
 *             holder from its first buffer, as any allocating process).
 * They are interleaved in each round, each after a warm-up that lets the
 * emulator translate the patched code; the median round is kept.
 *
 * Reported: each one's added time per operation against the floor's
 * (target for heapstat <= 1.5x) and against the bare operation (target
 * <= 2% at 1 MiB), and the spread of the bare rounds, the noise. Then where
 * heapstat's time goes: each of its programs' run time per call, from the
 * kernel's BPF statistics, in a run of its own (the statistics cost time).
 *
 * make bench boots this VM with -icount: guest time is instructions
 * executed, so a round measures work, not the host's scheduling.
 *
 * trace_bench VARIANT SIZE OPS runs one variant alone (bare, floor, hooks,
 * needs, heapstat, record or live) for OPS operations, for a profiler
 * watching the emulator; with TRACE_BENCH_STATS=1, heapstat's programs' run
 * time per call too.
 * TRACE_BENCH_ROUNDS=N takes the median of N rounds instead of 9 (for runs in
 * emulated time, whose noise needs many more). TRACE_BENCH_HEAP=NAME takes
 * another heap than system (default_cma_region: the CMA hooks' cost).
 * Every variant runs beside the same ballast (tests/bench/ballast.c);
 * TRACE_BENCH_BALLAST=N holds N buffers instead of 64 (0: none).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-heap.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_floor.skel.h"
#include "lib/collector.h"
#include "lib/ready.h"
#include "lib/util.h"
#include "ballast.h"

#define MAX_ROUNDS 99

static int rounds = 9;	/* TRACE_BENCH_ROUNDS sets it (1 to MAX_ROUNDS; odd for a true median) */

enum { BARE, FLOOR, HOOKS, NEEDS, HEAPSTAT, RECORD, LIVE, VARIANTS };

static int heap;
static volatile int stop;

static double loop_ns(uint64_t len, int n)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++) {
		struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };

		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) < 0) {
			perror("trace_bench: alloc");
			exit(1);
		}
		close(d.fd);
	}
	return (double)(now_ns() - t0) / n;
}

static void pin(pthread_t thread, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	pthread_setaffinity_np(thread, sizeof(set), &set);
}

static void *consume(void *arg)
{
	while (!stop)
		collector_poll(arg, 50);
	return NULL;
}

static void on_event(const struct coll_event *e, void *ctx)
{
	(void)e, (void)ctx;
}

static struct bpf_link *attach(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach(prog);

	if (!link) {
		fprintf(stderr, "trace_bench: attach %s: %s\n", bpf_program__name(prog),
			strerror(errno));
		exit(1);
	}
	return link;
}

static void print_prog(const char *prog, uint64_t runs, uint64_t run_ns, void *ctx)
{
	uint64_t ops = *(int *)ctx;

	if (runs)
		printf("  %-28s %6.2f calls/op %9.0f ns/call %9.0f ns/op\n", prog,
		       (double)runs / ops, (double)run_ns / runs, (double)run_ns / ops);
}

/* one timed batch of variant v, after a warm-up of n/10 operations */
static double run(int v, struct bench_floor_bpf *fl, uint64_t len, int n, bool stats)
{
	struct bpf_link *links[4] = {};
	struct collector *coll = NULL;
	pthread_t thread;
	double ns;
	int k = 0;

	if (v == FLOOR || v == HOOKS) {
		links[k++] = attach(fl->progs.floor_entry);
		links[k++] = attach(fl->progs.floor_exit);
	}
	if (v == HOOKS) {
		links[k++] = attach(fl->progs.floor_export);
		links[k++] = attach(fl->progs.floor_release);
	}
	if (v == NEEDS) {
		links[k++] = attach(fl->progs.need_entry);
		links[k++] = attach(fl->progs.need_exit);
		links[k++] = attach(fl->progs.need_export);
		links[k++] = attach(fl->progs.need_release);
	}
	if (v == HEAPSTAT || v == RECORD || v == LIVE) {
		char why[256];

		if (collector_open_rec(&coll, COLL_ATTACH_AUTO, 0, v == LIVE,
				       v == RECORD ? COLL_WANT_EVENTS : 0, why, sizeof(why))) {
			fprintf(stderr, "trace_bench: %s\n", why);
			exit(1);
		}
		stop = 0;
		if (v == RECORD)	/* handed out, not kept: as a recorder */
			collector_on_event(coll, on_event, NULL, false);
		pthread_create(&thread, NULL, consume, coll);
		pin(thread, 1);
	}
	ready_notify("trace_bench", k || coll ? "attached" : "nothing to attach");	/* once */
	loop_ns(len, n / 10);
	if (stats) {
		int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

		if (fd < 0) {
			perror("trace_bench: BPF_ENABLE_STATS");
			exit(1);
		}
		ns = loop_ns(len, n);
		close(fd);
		if (coll)
			collector_prog_stats(coll, print_prog, &n);
	} else {
		ns = loop_ns(len, n);
	}
	if (coll) {
		stop = 1;
		pthread_join(thread, NULL);
		if (collector_dropped(coll))
			printf("(heapstat dropped %llu events)\n",
			       (unsigned long long)collector_dropped(coll));
		collector_close(coll);
	}
	while (k)
		bpf_link__destroy(links[--k]);
	return ns;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static const char *const names[VARIANTS] = {
	"bare", "floor", "hooks", "needs", "heapstat", "record", "live",
};

int main(int argc, char **argv)
{
	static const uint64_t sizes[] = { 4096, 65536, 1 << 20 };
	static const int ops[] = { 10000, 2000, 200 };
	struct bench_floor_bpf *fl;
	const char *name = getenv("TRACE_BENCH_HEAP") ? getenv("TRACE_BENCH_HEAP") : "system";
	char path[256];
	int one = -1;

	if (argc == 4)
		for (int v = 0; v < VARIANTS; v++)
			if (!strcmp(argv[1], names[v]))
				one = v;
	if (argc != 1 && (one < 0 || atoll(argv[2]) <= 0 || atoi(argv[3]) <= 0)) {
		fprintf(stderr, "usage: trace_bench [bare|floor|hooks|needs|heapstat|record|live SIZE OPS]\n");
		return 2;
	}

	if (getenv("TRACE_BENCH_ROUNDS")) {
		rounds = atoi(getenv("TRACE_BENCH_ROUNDS"));
		if (rounds < 1 || rounds > MAX_ROUNDS) {
			fprintf(stderr, "trace_bench: TRACE_BENCH_ROUNDS: 1 to %d\n", MAX_ROUNDS);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pin(pthread_self(), 0);
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	heap = open(path, O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		fprintf(stderr, "trace_bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* beside every variant (tests/bench/ballast.c): BARE paid a slab per operation without */
	if (ballast_hold(heap, "TRACE_BENCH_BALLAST")) {
		perror("trace_bench: ballast");
		return 1;
	}
	fl = bench_floor_bpf__open();
	if (fl) {	/* the limit benchmark's, not this one's */
		bpf_program__set_autoload(fl->progs.floor_lsm_ioctl, false);
		bpf_program__set_autoload(fl->progs.floor_lsm_release, false);
	}
	if (fl && bench_floor_bpf__load(fl)) {
		bench_floor_bpf__destroy(fl);
		fl = NULL;
	}
	if (!fl) {
		perror("trace_bench: floor programs");
		return 1;
	}
	if (one >= 0) {
		bool stats = getenv("TRACE_BENCH_STATS");

		printf("%s: %.2f us per op\n", names[one],
		       run(one, fl, atoll(argv[2]), atoi(argv[3]), stats) / 1e3);
		bench_floor_bpf__destroy(fl);
		return 0;
	}
	printf("%s heap alloc+free, median of %d interleaved rounds (us per op), beside %d buffers\n"
	       "of 4 KiB held throughout (the ballast);\n"
	       "NEEDS: the hooks and the calls aggregate mode cannot do without; HEAPSTAT:\n"
	       "aggregate mode, RECORD: record mode, LIVE: heaptop's; ADDED/FLOOR: HEAPSTAT's\n"
	       "time added over BARE, in units of what FLOOR adds; NEEDS/BARE, ADDED/BARE,\n"
	       "REC/BARE, LIVE/BARE: as a share of BARE\n", name, rounds, ballast_n);
	printf("%-6s %9s %9s %9s %9s %9s %9s %9s %12s %12s %11s %11s %9s %10s %7s\n", "SIZE", "BARE",
	       "FLOOR", "HOOKS", "NEEDS", "HEAPSTAT", "RECORD", "LIVE", "HOOKS/FLOOR", "ADDED/FLOOR",
	       "NEEDS/BARE", "ADDED/BARE", "REC/BARE", "LIVE/BARE", "NOISE");
	for (size_t s = 0; s < 3; s++) {
		double t[VARIANTS][MAX_ROUNDS], m[VARIANTS], fa;
		char label[16];

		loop_ns(sizes[s], ops[s] / 10);	/* warm the pools */
		for (int r = 0; r < rounds; r++)
			for (int i = 0; i < VARIANTS; i++) {
				int v = (r + i) % VARIANTS;	/* each variant in each place */

				t[v][r] = run(v, fl, sizes[s], ops[s], false);
			}
		for (int v = 0; v < VARIANTS; v++) {
			qsort(t[v], rounds, sizeof(double), cmp);
			m[v] = t[v][rounds / 2];
		}
		fa = m[FLOOR] - m[BARE];
		printf("%-6s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %12.2f %12.2f %10.2f%% %10.2f%% "
		       "%8.2f%% %9.2f%% %6.1f%%\n",
		       format_size(sizes[s], label, sizeof(label)), m[BARE] / 1e3, m[FLOOR] / 1e3,
		       m[HOOKS] / 1e3, m[NEEDS] / 1e3, m[HEAPSTAT] / 1e3, m[RECORD] / 1e3,
		       m[LIVE] / 1e3,
		       fa > 0 ? (m[HOOKS] - m[BARE]) / fa : 0,
		       fa > 0 ? (m[HEAPSTAT] - m[BARE]) / fa : 0,
		       (m[NEEDS] - m[BARE]) / m[BARE] * 100,
		       (m[HEAPSTAT] - m[BARE]) / m[BARE] * 100,
		       (m[RECORD] - m[BARE]) / m[BARE] * 100,
		       (m[LIVE] - m[BARE]) / m[BARE] * 100,
		       (t[BARE][rounds * 3 / 4] - t[BARE][rounds / 4]) / m[BARE] * 100);
	}
	printf("NOISE: interquartile range of the BARE rounds\n");
	printf("heapstat's programs at 4.0K, aggregate mode (BPF statistics on, %d ops):\n", ops[0]);
	run(HEAPSTAT, fl, sizes[0], ops[0], true);
	printf("and in record mode:\n");
	run(RECORD, fl, sizes[0], ops[0], true);
	printf("and as heaptop loads it:\n");
	run(LIVE, fl, sizes[0], ops[0], true);
	printf("counted %llu ioctl entries, %llu exits, %llu exports, %llu releases\n",
	       (unsigned long long)fl->bss->entries, (unsigned long long)fl->bss->exits,
	       (unsigned long long)fl->bss->exports, (unsigned long long)fl->bss->releases);
	bench_floor_bpf__destroy(fl);
	return 0;
}
