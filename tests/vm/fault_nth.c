// SPDX-License-Identifier: GPL-2.0
/*
 * fault_nth HEAP OP [SIZE]: fault injection on one heap path, as syzkaller
 * does it. For n = 1, 2, ...: the n-th fault point this thread reaches in OP
 * fails (/proc/thread-self/fail-nth: failslab, fail_page_alloc, and the
 * functions registered with fail_function), until OP reaches fewer than n
 * of them. OP:
 *   alloc   DMA_HEAP_IOCTL_ALLOC of SIZE (default 64K)
 *   import  the test importer (heapstat_importer): attach, map for DMA,
 *           vmap, read, and back, of a buffer allocated beforehand
 *   mmap    a mapping of the whole buffer, every page written
 * A run the fault reached must fail with ENOMEM, or succeed (a fault point
 * whose failure the path absorbs: a retry, a fallback); anything else is a
 * FAIL line. Every buffer is closed. Prints, on success,
 *   fault_nth: HEAP OP: points=N failed=F absorbed=K
 * where failed counts the failed runs (for alloc: what heapstat must count
 * as failures, all ENOMEM).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#include "lib/util.h"

#define IMPORTER	"/sys/kernel/debug/heapstat_importer"
#define MAX_POINTS	10000

static int nth_fd = -1, importer = -1;
static sigjmp_buf on_bus;

static void set_nth(unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	if (pwrite(nth_fd, s, len, 0) != len) {
		perror("fault_nth: write fail-nth");
		exit(2);
	}
}

/* what is left of the count: 0 once the fault was injected */
static unsigned int left(void)
{
	char s[16] = "";
	unsigned int v;

	if (pread(nth_fd, s, sizeof(s) - 1, 0) <= 0 || sscanf(s, "%u", &v) != 1) {
		perror("fault_nth: read fail-nth");
		exit(2);
	}
	set_nth(0);
	return v;
}

static int heap_alloc(int heap, uint64_t len)
{
	struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };

	return ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) < 0 ? -errno : (int)d.fd;
}

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(on_bus, 1);
}

/* one run of op on buf (alloc: on the heap); 0 or -errno */
static int op_run(const char *op, int heap, int buf, uint64_t len)
{
	char s[16];
	void *p;
	int fd, ret;

	if (!strcmp(op, "alloc")) {
		fd = heap_alloc(heap, len);
		if (fd < 0)
			return fd;
		close(fd);
		return 0;
	}
	if (!strcmp(op, "import")) {
		snprintf(s, sizeof(s), "%d", buf);
		return write(importer, s, strlen(s)) < 0 ? -errno : 0;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* a page the fault handler could not map is SIGBUS: as EFAULT here */
	ret = sigsetjmp(on_bus, 1) ? -EFAULT : 0;
	if (!ret)
		memset(p, 0x5a, len);
	munmap(p, len);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned int n, failed = 0, absorbed = 0;
	const char *op = argc > 2 ? argv[2] : "";
	uint64_t len = 65536;
	char path[256];
	int heap, buf = -1;

	if ((argc != 3 && argc != 4) || (strcmp(op, "alloc") && strcmp(op, "import") &&
					 strcmp(op, "mmap")) ||
	    (argc == 4 && (parse_size(argv[3], &len) || !len))) {
		fprintf(stderr, "usage: fault_nth HEAP alloc|import|mmap [SIZE]\n");
		return 2;
	}
	signal(SIGBUS, on_sigbus);
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", argv[1]);
	heap = open(path, O_RDONLY | O_CLOEXEC);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (heap < 0 || nth_fd < 0) {
		fprintf(stderr, "fault_nth: %s: %s\n", heap < 0 ? path : "fail-nth", strerror(errno));
		return 2;
	}
	if (!strcmp(op, "import") && (importer = open(IMPORTER, O_WRONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "fault_nth: %s: %s\n", IMPORTER, strerror(errno));
		return 2;
	}
	if (strcmp(op, "alloc")) {
		buf = heap_alloc(heap, len);
		if (buf < 0) {
			fprintf(stderr, "fault_nth: %s: allocating: %s\n", argv[1], strerror(-buf));
			return 2;
		}
	}
	/* once without a fault: what the first run makes for good (a tracer's
	 * per-thread storage, the page tables) is not counted as the path's */
	if (op_run(op, heap, buf, len)) {
		fprintf(stderr, "fault_nth: %s %s fails without a fault\n", argv[1], op);
		return 2;
	}
	for (n = 1; n <= MAX_POINTS; n++) {
		int ret;

		set_nth(n);
		ret = op_run(op, heap, buf, len);
		if (left()) {		/* fewer than n points: done, and it must have worked */
			if (ret) {
				printf("FAIL: fault_nth: %s %s: failed with no fault injected: %s\n",
				       argv[1], op, strerror(-ret));
				return 1;
			}
			break;
		}
		if (!ret) {
			absorbed++;
		} else if (ret == -ENOMEM) {
			failed++;
		} else {
			printf("FAIL: fault_nth: %s %s: fault point %u: %s, not ENOMEM\n", argv[1],
			       op, n, strerror(-ret));
			return 1;
		}
	}
	if (n > MAX_POINTS) {
		printf("FAIL: fault_nth: %s %s: more than %d fault points\n", argv[1], op, MAX_POINTS);
		return 1;
	}
	if (buf >= 0)
		close(buf);
	printf("fault_nth: %s %s: points=%u failed=%u absorbed=%u\n", argv[1], op, n - 1, failed,
	       absorbed);
	return 0;
}
