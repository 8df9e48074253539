// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a process whose main thread exits first (as pthread_exit()
 * would, by the exit system call: no libgcc_s to unwind in the VM),
 * leaving a zombie leader without fds or mm, and three threads holding a
 * 1 MiB system-heap buffer by fd and by mapping for SECS seconds; a fourth
 * thread has an fd table of its own (unshare(CLONE_FILES)), without the
 * 1 MiB buffer's fd and with a 64 KiB buffer's, shared with a fifth thread
 * it starts. READY appears, with the process id, once the leader is gone
 * and the fourth thread holds its own. With "live", the leader stays.
 *
 *   zombie_leader /tmp/ready 60
 *   zombie_leader /tmp/ready 60 live
 */
#define _GNU_SOURCE	/* unshare */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/dma-heap.h>

static const char *ready;
static unsigned int secs;
static int heap, shared_fd;
static int live;		/* the leader stays */
static atomic_int own_done;	/* 1: the fourth thread holds its buffer; -1: it failed */

static void *sleeper(void *unused)
{
	(void)unused;
	sleep(secs);
	exit(0);
}

static void *own_table(void *unused)
{
	struct dma_heap_allocation_data d = { .len = 64 << 10, .fd_flags = O_RDWR | O_CLOEXEC };
	pthread_t t;

	(void)unused;
	/* a copy of the process's table: the 1 MiB buffer's fd closed in it alone; a
	 * thread started after shares it */
	if (unshare(CLONE_FILES) || close(shared_fd) || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ||
	    (errno = pthread_create(&t, NULL, sleeper, NULL))) {
		fprintf(stderr, "zombie_leader: own table: %s\n", strerror(errno));
		own_done = -1;
		return NULL;
	}
	own_done = 1;
	sleep(secs);
	exit(0);
}

static void *hold(void *first)
{
	if (first) {	/* once the leader is a zombie (unless live): its state says so */
		char path[64], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/status", getpid());
		while (!own_done)
			usleep(10000);
		if (own_done < 0)
			exit(1);
		for (int zombie = live; !zombie; usleep(10000)) {
			f = fopen(path, "r");
			while (f && fgets(line, sizeof(line), f))
				zombie |= !strncmp(line, "State:\tZ", 8);
			if (f)
				fclose(f);
		}
		f = fopen(ready, "w");
		if (f) {
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
	}
	sleep(secs);
	exit(0);
}

int main(int argc, char **argv)
{
	struct dma_heap_allocation_data d = { .len = 1 << 20, .fd_flags = O_RDWR | O_CLOEXEC };
	pthread_t t;

	if (argc < 3 || argc > 4 || !(secs = strtoul(argv[2], NULL, 10)) ||
	    (argc == 4 && strcmp(argv[3], "live"))) {
		fprintf(stderr, "usage: zombie_leader READY SECS [live]\n");
		return 2;
	}
	ready = argv[1];
	live = argc == 4;
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ||
	    mmap(NULL, d.len, PROT_READ, MAP_SHARED, d.fd, 0) == MAP_FAILED) {
		fprintf(stderr, "zombie_leader: %s\n", strerror(errno));
		return 1;
	}
	shared_fd = d.fd;
	if (pthread_create(&t, NULL, own_table, NULL)) {
		fprintf(stderr, "zombie_leader: pthread_create failed\n");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		if (pthread_create(&t, NULL, hold, i ? NULL : &t)) {
			fprintf(stderr, "zombie_leader: pthread_create failed\n");
			return 1;
		}
	}
	if (live) {
		sleep(secs);
		return 0;
	}
	syscall(SYS_exit, 0);	/* this thread only */
	return 1;
}
