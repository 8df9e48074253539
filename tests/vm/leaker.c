// SPDX-License-Identifier: GPL-2.0
/*
 * A program with known allocations and known stacks, for
 * tests/vm/record_stacks_test.sh (heapstat record --stacks):
 *
 *   leaker PIDFILE
 *
 * allocates four 1 MiB system-heap buffers and frees them, one 1 MiB
 * default_cma_region buffer and frees it, then in leak_three() three
 * default_cma_region buffers of 1, 2 and 3 MiB that it leaks; in fail_one()
 * a 4 MiB one that fails when the caller's dmem.max is 8 MiB (6 MiB held).
 * Two children inherit the three: the first keeps the 3 MiB one, the second
 * the 1 and 2 MiB ones; each stays until killed. PIDFILE gets their pids
 * ("A B") once they hold them, and the program exits 0.
 *
 * Built with frame pointers (Makefile): the kernel walks user stacks by
 * them. Every allocation goes through alloc_buf(), not inlined, whose frame
 * the walk does not see (the C library's ioctl() makes none, so the walk
 * goes from ioctl() to alloc_buf()'s return address): its callers are the
 * frames named. Its build id is known (Makefile: LEAKER_BUILD_ID).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#define MIB	(1u << 20)
#define CMA	"default_cma_region"

static int heap_open(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "leaker: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

/* a buffer's fd, or -errno */
static __attribute__((noinline)) int alloc_buf(int heap, unsigned long len)
{
	struct dma_heap_allocation_data data = { .len = len, .fd_flags = O_RDWR };

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

static int must(int fd, const char *what)
{
	if (fd < 0) {
		fprintf(stderr, "leaker: %s: %s\n", what, strerror(-fd));
		exit(1);
	}
	return fd;
}

/* allocated and freed: no leak */
static __attribute__((noinline)) void churn(int sys, int cma)
{
	int fds[4];

	for (int i = 0; i < 4; i++)
		fds[i] = must(alloc_buf(sys, MIB), "system 1M");
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	close(must(alloc_buf(cma, MIB), CMA " 1M"));
}

static __attribute__((noinline)) void leak_three(int cma, int fds[3])
{
	for (int i = 0; i < 3; i++)
		fds[i] = must(alloc_buf(cma, (i + 1) * MIB), CMA " leak");
}

/* over the cgroup's dmem.max: refused (-EAGAIN) */
static __attribute__((noinline)) int fail_one(int cma)
{
	int fd = alloc_buf(cma, 4 * MIB);

	if (fd >= 0) {
		fprintf(stderr, "leaker: 4M from " CMA " did not fail (dmem.max 8M?)\n");
		close(fd);
		return 1;
	}
	return 0;
}

/* a child keeping fds[keep..keep+n), until killed; it says so through @ready */
static pid_t holder(const int fds[3], int first, int n, int ready)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	for (int i = 0; i < 3; i++)
		if (i < first || i >= first + n)
			close(fds[i]);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	close(ready);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int sys, cma, fds[3], p[2], rc;
	pid_t a, b;
	char c;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: leaker PIDFILE\n");
		return 2;
	}
	sys = heap_open("system");
	cma = heap_open(CMA);
	churn(sys, cma);
	leak_three(cma, fds);
	rc = fail_one(cma);
	if (pipe(p))
		return 1;
	a = holder(fds, 2, 1, p[1]);
	b = holder(fds, 0, 2, p[1]);
	close(p[1]);
	if (a < 0 || b < 0 || read(p[0], &c, 1) != 1 || read(p[0], &c, 1) != 1) {
		fprintf(stderr, "leaker: the holders did not start\n");
		return 1;
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%d %d\n", a, b) < 0 || fclose(f))
		return 1;
	return rc;
}
