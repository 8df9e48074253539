// SPDX-License-Identifier: GPL-2.0
/*
 * Heap benchmark, run in one VM boot by make bench:
 *
 * 1. alloc+free latency of heapstat's CMA heap against upstream's CMA heap
 *    on the same area, accounting off and on, 4 KiB to 32 MiB. Variants are
 *    interleaved within each round and the median round is kept, so drift in
 *    the emulated machine hits all of them alike; the ratios are the result.
 * 2. 16 MiB buffers from the CMA heap and the chunk heap on an area
 *    fragmented on purpose (half of it free, in 1 MiB holes): success rate
 *    and latency.
 *
 * usage: heap_bench UPSTREAM_HEAP OUR_CMA_HEAP CHUNK_HEAP
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#include "lib/util.h"

#define ACCOUNTING "/sys/module/heapstat_core/parameters/accounting"
#define ROUNDS 5
#define MiB (1ull << 20)

static int open_heap(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "heap_bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static int alloc_buf(int heap, uint64_t len)
{
	struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };

	return ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) < 0 ? -errno : (int)d.fd;
}

static void set_accounting(const char *mode)
{
	int fd = open(ACCOUNTING, O_WRONLY);

	if (fd < 0 || write(fd, mode, strlen(mode)) < 0) {
		perror("heap_bench: " ACCOUNTING);
		exit(1);
	}
	close(fd);
}

/* mean ns of one alloc+free over n */
static double alloc_free_ns(int heap, uint64_t len, int n)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++) {
		int fd = alloc_buf(heap, len);

		if (fd < 0) {
			fprintf(stderr, "heap_bench: %llu bytes: %s\n", (unsigned long long)len,
				strerror(-fd));
			exit(1);
		}
		close(fd);
	}
	return (double)(now_ns() - t0) / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void latency(int upstream, int ours)
{
	static const uint64_t sizes[] = { 4096, 65536, MiB, 4 * MiB, 32 * MiB };
	enum { UP, OFF, ON, NVAR };

	printf("alloc+free latency, same CMA area, median of %d interleaved rounds\n", ROUNDS);
	printf("%-8s %12s %12s %12s %8s %8s\n", "SIZE", "UPSTREAM-us", "OURS-OFF-us",
	       "OURS-ON-us", "OFF/UP", "ON/UP");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t len = sizes[s];
		int n = len >= 4 * MiB ? 8 : len >= MiB ? 40 : 400;
		double t[NVAR][ROUNDS], med[NVAR];
		char label[16];

		/* warm up: first touches of the area cost page migrations */
		alloc_free_ns(upstream, len, 2);
		alloc_free_ns(ours, len, 2);
		for (int r = 0; r < ROUNDS; r++) {
			t[UP][r] = alloc_free_ns(upstream, len, n);
			set_accounting("off");
			t[OFF][r] = alloc_free_ns(ours, len, n);
			set_accounting("on");
			t[ON][r] = alloc_free_ns(ours, len, n);
		}
		for (int v = 0; v < NVAR; v++) {
			qsort(t[v], ROUNDS, sizeof(double), cmp_double);
			med[v] = t[v][ROUNDS / 2];
		}
		printf("%-8s %12.1f %12.1f %12.1f %8.3f %8.3f\n", format_size(len, label, sizeof(label)),
		       med[UP] / 1e3, med[OFF] / 1e3, med[ON] / 1e3, med[OFF] / med[UP],
		       med[ON] / med[UP]);
	}
}

static void fragmented(int cma, int chunk, const char *cma_name, const char *chunk_name)
{
	enum { HOLDERS = 256, TRIES = 20 };
	int fds[HOLDERS], n = 0;
	const int heaps[2] = { cma, chunk };
	const char *names[2] = { cma_name, chunk_name };

	/* fill the area with 1 MiB buffers, then free every other one */
	while (n < HOLDERS && (fds[n] = alloc_buf(cma, MiB)) >= 0)
		n++;
	for (int i = 0; i < n; i += 2)
		close(fds[i]);
	printf("\n16 MiB buffers on a fragmented area: %d MiB free in 1 MiB holes, %d tries\n",
	       (n + 1) / 2, TRIES);
	printf("%-24s %6s %6s %12s %12s\n", "HEAP", "OK", "FAIL", "p50-us", "max-us");
	for (int h = 0; h < 2; h++) {
		double t[TRIES];
		int ok = 0;

		for (int i = 0; i < TRIES; i++) {
			uint64_t t0 = now_ns();
			int fd = alloc_buf(heaps[h], 16 * MiB);

			t[i] = (now_ns() - t0) / 1e3;
			if (fd >= 0) {
				ok++;
				close(fd);
			}
		}
		qsort(t, TRIES, sizeof(double), cmp_double);
		printf("%-24s %6d %6d %12.1f %12.1f\n", names[h], ok, TRIES - ok, t[TRIES / 2],
		       t[TRIES - 1]);
	}
	for (int i = 1; i < n; i += 2)
		close(fds[i]);
}

int main(int argc, char **argv)
{
	int upstream, ours, chunk;

	if (argc != 4) {
		fprintf(stderr, "usage: heap_bench UPSTREAM_HEAP OUR_CMA_HEAP CHUNK_HEAP\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	upstream = open_heap(argv[1]);
	ours = open_heap(argv[2]);
	chunk = open_heap(argv[3]);
	latency(upstream, ours);
	fragmented(ours, chunk, argv[2], argv[3]);
	set_accounting("auto");
	return 0;
}
