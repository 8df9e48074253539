// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: system-heap allocations that preempt each other inside the
 * collector's programs. Two threads on CPU 0: one allocates and frees 4 KiB
 * in a loop; the other, SCHED_FIFO, wakes every 100 us and does one alloc+
 * free, preempting the first wherever it is, now and then inside a tracing
 * program, which the kernel then counts as still running on that CPU and
 * skips for the second (its recursion_misses).
 *
 *   preempt_alloc SECS
 *
 * prints "allocations N", every successful alloc+free of both.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/dma-heap.h>

static int heap;
static atomic_ulong done;
static struct timespec end;

static int past_end(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec);
}

static void alloc_free(void)
{
	struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) == 0) {
		close(d.fd);
		atomic_fetch_add(&done, 1);
	}
}

static void *waker(void *arg)
{
	struct sched_param sp = { .sched_priority = 50 };
	struct timespec t;

	(void)arg;
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))
		perror("preempt_alloc: SCHED_FIFO");
	clock_gettime(CLOCK_MONOTONIC, &t);
	while (!past_end()) {
		t.tv_nsec += 100000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
		alloc_free();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	cpu_set_t cpu;
	pthread_t t;

	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: preempt_alloc SECS\n");
		return 2;
	}
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		perror("preempt_alloc: /dev/dma_heap/system");
		return 1;
	}
	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	if (sched_setaffinity(0, sizeof(cpu), &cpu))	/* the threads made after: CPU 0 too */
		perror("preempt_alloc: CPU 0");
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += atoi(argv[1]);
	if (pthread_create(&t, NULL, waker, NULL)) {
		perror("preempt_alloc: thread");
		return 1;
	}
	while (!past_end())
		alloc_free();
	pthread_join(t, NULL);
	printf("allocations %lu\n", atomic_load(&done));
	return 0;
}
