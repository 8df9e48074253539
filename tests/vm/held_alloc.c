// SPDX-License-Identifier: GPL-2.0
/*
 * held_alloc HEAP SIZE CMD [ARGS...]: a DMA_HEAP_IOCTL_ALLOC of SIZE bytes
 * on /dev/dma_heap/HEAP, held inside the kernel while CMD runs.
 *
 * The request straddles two pages: its length ends the first, the rest of
 * it starts the second, which userfaultfd keeps missing. A BPF-LSM hook on
 * the ioctl reads the length alone (tests/vm/lsm: heapstat's limits);
 * dma_heap_ioctl() then copies the whole request, faults on the second page
 * and waits there: checked, not yet allocating. Then CMD runs, with
 * HELD_PID set to this process (to move it to another cgroup, say), and
 * once it exited the page comes in zeroed (fd 0, no flags) and the
 * allocation goes on.
 *
 * Prints "held=1 cmd=STATUS" and the ioctl's result, "ok=BYTES" or
 * "errno=N"; "held=0" when the ioctl returned without faulting (refused
 * before the copy), and CMD is not run. Exit 0 when held, else 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"

static int heap_fd;
static struct dma_heap_allocation_data *req;
static int result = 1;		/* 1: running, else 0 or -errno */

static void *allocator(void *arg)
{
	int r = ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, req) ? -errno : 0;

	(void)arg;
	__atomic_store_n(&result, r, __ATOMIC_RELEASE);
	return NULL;
}

static int fail(const char *what)
{
	fprintf(stderr, "held_alloc: %s: %s\n", what, strerror(errno));
	return 1;
}

/* CMD with HELD_PID, its wait status */
static int run(char **cmd)
{
	char pid[16];
	pid_t child;
	int st;

	snprintf(pid, sizeof(pid), "%d", getpid());
	child = fork();
	if (child == 0) {
		setenv("HELD_PID", pid, 1);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (child < 0 || waitpid(child, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = {};
	struct uffd_msg msg;
	char path[256], *area;
	uint64_t size;
	pthread_t t;
	int uffd, cmd, r;

	if (argc < 4 || parse_size(argv[2], &size)) {
		fprintf(stderr, "usage: held_alloc HEAP SIZE CMD [ARGS...]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", argv[1]);
	heap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0)
		return fail(path);
	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return fail("mmap");
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		return fail("userfaultfd");
	reg.range.start = (unsigned long)area + page;
	reg.range.len = page;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return fail("UFFDIO_REGISTER");
	req = (void *)(area + page - sizeof(req->len));
	req->len = size;	/* the first page alone */
	if (pthread_create(&t, NULL, allocator, NULL))
		return fail("pthread_create");
	for (;;) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };

		if (poll(&p, 1, 100) > 0) {
			if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
				return fail("read userfaultfd");
			if (msg.event == UFFD_EVENT_PAGEFAULT)
				break;
		}
		if (__atomic_load_n(&result, __ATOMIC_ACQUIRE) != 1) {
			pthread_join(t, NULL);
			printf("held=0 errno=%d\n", -result);
			return 1;
		}
	}
	fflush(stdout);
	cmd = run(argv + 3);
	zero.range = reg.range;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zero))
		return fail("UFFDIO_ZEROPAGE");
	pthread_join(t, NULL);
	r = result;
	if (r)
		printf("held=1 cmd=%d errno=%d\n", cmd, -r);
	else
		printf("held=1 cmd=%d ok=%lld\n", cmd, (long long)lseek(req->fd, 0, SEEK_END));
	return 0;
}
