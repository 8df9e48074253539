// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing overhead, in one VM boot: a system-heap alloc+free loop at 4 KiB,
 * 64 KiB and 1 MiB with nothing attached, with a minimal fentry+fexit
 * counter (bpf/bench_floor.bpf.c: the floor of attaching at all), and with
 * heapstat's collector (its events consumed by a thread, as report does).
 * The three are interleaved in each round; the median round is kept.
 *
 * Reported: heapstat's added time per operation against the floor's
 * (target <= 1.5x) and against the bare operation (target <= 2% at 1 MiB).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-heap.h>
#include <bpf/libbpf.h>

#include "bench_floor.skel.h"
#include "lib/collector.h"
#include "lib/util.h"

#define ROUNDS 5

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

static void *consume(void *arg)
{
	while (!stop)
		collector_poll(arg, 50);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	static const uint64_t sizes[] = { 4096, 65536, 1 << 20 };
	struct bench_floor_bpf *floor;
	struct collector *coll;
	pthread_t thread;

	setvbuf(stdout, NULL, _IOLBF, 0);
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		perror("trace_bench: /dev/dma_heap/system");
		return 1;
	}
	floor = bench_floor_bpf__open_and_load();
	if (!floor) {
		perror("trace_bench: floor program");
		return 1;
	}
	printf("system heap alloc+free, median of %d interleaved rounds (us per op)\n", ROUNDS);
	printf("%-6s %10s %10s %10s %14s %12s\n", "SIZE", "BARE", "FLOOR", "HEAPSTAT",
	       "ADDED/FLOOR", "ADDED/BARE");
	for (size_t s = 0; s < 3; s++) {
		int n = sizes[s] >= (1 << 20) ? 100 : 1000;
		double bare[ROUNDS], fl[ROUNDS], hs[ROUNDS];
		char label[16];

		loop_ns(sizes[s], n / 10);	/* warm the pools */
		for (int r = 0; r < ROUNDS; r++) {
			bare[r] = loop_ns(sizes[s], n);
			if (bench_floor_bpf__attach(floor))
				return 1;
			fl[r] = loop_ns(sizes[s], n);
			bench_floor_bpf__detach(floor);
			if (collector_open(&coll, COLL_ATTACH_AUTO, 0, false))
				return 1;
			stop = 0;
			pthread_create(&thread, NULL, consume, coll);
			hs[r] = loop_ns(sizes[s], n);
			stop = 1;
			pthread_join(thread, NULL);
			if (collector_dropped(coll))
				printf("(round %d: heapstat dropped %llu events)\n", r,
				       (unsigned long long)collector_dropped(coll));
			collector_close(coll);
		}
		qsort(bare, ROUNDS, sizeof(double), cmp);
		qsort(fl, ROUNDS, sizeof(double), cmp);
		qsort(hs, ROUNDS, sizeof(double), cmp);
		double b = bare[ROUNDS / 2], f = fl[ROUNDS / 2], h = hs[ROUNDS / 2];

		printf("%-6s %10.2f %10.2f %10.2f %14.2f %11.2f%%\n",
		       format_size(sizes[s], label, sizeof(label)), b / 1e3, f / 1e3, h / 1e3,
		       f > b ? (h - b) / (f - b) : 0, (h - b) / b * 100);
	}
	printf("floor counted %llu entries, %llu exits\n",
	       (unsigned long long)floor->bss->entries, (unsigned long long)floor->bss->exits);
	bench_floor_bpf__destroy(floor);
	return 0;
}
