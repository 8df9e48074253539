// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: system-heap allocations that preempt each other inside the
 * collector's programs. Two threads on CPU 0: one allocates and frees 4 KiB
 * in a loop; the other, SCHED_FIFO, wakes every 100 us and does one alloc+
 * free, preempting the first wherever it is, now and then inside a tracing
 * program, which the kernel then counts as still running on that CPU and
 * skips for the second (its recursion_misses).
 *
 *   preempt_alloc SECS [KEEP]
 *
 * prints "allocations N", every successful alloc+free of both. With KEEP,
 * each thread keeps its last KEEP buffers (the oldest freed as a new one
 * comes); at the end it prints "holding N", the buffers both still hold,
 * and holds them until it is killed.
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

static int heap, keep;
static atomic_ulong done, holding;
static struct timespec end;

/* a thread's last KEEP buffers */
struct ring {
	int *fd;
	int next;
};

static int past_end(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec);
}

static void alloc_free(struct ring *r)
{
	struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		return;
	atomic_fetch_add(&done, 1);
	if (!keep) {
		close(d.fd);
		return;
	}
	if (r->fd[r->next] >= 0)
		close(r->fd[r->next]);
	else
		atomic_fetch_add(&holding, 1);
	r->fd[r->next] = d.fd;
	r->next = (r->next + 1) % keep;
}

static void ring_init(struct ring *r)
{
	r->fd = malloc((keep ?: 1) * sizeof(*r->fd));
	if (!r->fd) {
		perror("preempt_alloc");
		exit(1);
	}
	for (int i = 0; i < keep; i++)
		r->fd[i] = -1;
	r->next = 0;
}

static void *waker(void *arg)
{
	struct sched_param sp = { .sched_priority = 50 };
	struct ring *r = arg;
	struct timespec t;

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
		alloc_free(r);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct ring mine, its;
	cpu_set_t cpu;
	pthread_t t;

	if (argc < 2 || argc > 3 || atoi(argv[1]) <= 0 || (argc == 3 && atoi(argv[2]) <= 0)) {
		fprintf(stderr, "usage: preempt_alloc SECS [KEEP]\n");
		return 2;
	}
	keep = argc == 3 ? atoi(argv[2]) : 0;
	ring_init(&mine);
	ring_init(&its);
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
	if (pthread_create(&t, NULL, waker, &its)) {
		perror("preempt_alloc: thread");
		return 1;
	}
	while (!past_end())
		alloc_free(&mine);
	pthread_join(t, NULL);
	printf("allocations %lu\n", atomic_load(&done));
	if (!keep)
		return 0;
	printf("holding %lu\n", atomic_load(&holding));
	fflush(stdout);
	for (;;)
		pause();
}
