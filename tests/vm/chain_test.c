// SPDX-License-Identifier: GPL-2.0
/*
 * The whole chain: bpf/bufcount.bpf.c, loaded through tools/lib, counts
 * exactly the dma-bufs this test allocates from the system heap with
 * DMA_HEAP_IOCTL_ALLOC, and their final releases, which come only when the
 * last fd, mapping and process holding them are gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#include "../test.h"
#include "lib/exporters.h"

#define HEAP	"system"

static struct bufcount *bc;
static int heap_fd = -1;
static int older_fd = -1;	/* allocated before the programs were attached */

static struct exporter_stats heap_stats(void)
{
	struct exporter_row rows[64];
	struct exporter_stats zero = {};
	int n = bufcount_read(bc, rows, 64, NULL);

	CHECK(n >= 0, "bufcount_read: %s", strerror(-n));
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].name, HEAP))
			return rows[i].stats;
	return zero;
}

static int alloc_buf(__u64 len)
{
	struct dma_heap_allocation_data data = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

/* deltas against a baseline, so the cases do not depend on each other */
#define EXPECT(base, exp, rel, bexp, brel) do {					\
		struct exporter_stats now = heap_stats();			\
		CHECK_EQ(now.exports - (base).exports, exp);			\
		CHECK_EQ(now.releases - (base).releases, rel);			\
		CHECK_EQ(now.bytes_exported - (base).bytes_exported, bexp);	\
		CHECK_EQ(now.bytes_released - (base).bytes_released, brel);	\
	} while (0)

static void counts_exports_and_closes(void)
{
	static const __u64 sizes[] = { 4096, 65536, 1 << 20, 3 * 4096, 2 << 20 };
	struct exporter_stats base = heap_stats();
	int fds[5];
	__u64 total = 0;

	for (int i = 0; i < 5; i++) {
		fds[i] = alloc_buf(sizes[i]);
		CHECK(fds[i] >= 0, "alloc %llu: %s", sizes[i], strerror(-fds[i]));
		total += sizes[i];
	}
	EXPECT(base, 5, 0, total, 0);
	close(fds[0]);
	close(fds[2]);
	EXPECT(base, 5, 2, total, sizes[0] + sizes[2]);
	close(fds[1]);
	close(fds[3]);
	close(fds[4]);
	EXPECT(base, 5, 5, total, total);
}

static void failed_alloc_is_not_an_export(void)
{
	struct exporter_stats base = heap_stats();
	int fd = alloc_buf(0);

	CHECK_EQ(fd, -EINVAL);
	EXPECT(base, 0, 0, 0, 0);
}

static void dup_is_not_a_release(void)
{
	struct exporter_stats base = heap_stats();
	int fd = alloc_buf(8192), fd2 = dup(fd);

	close(fd);
	EXPECT(base, 1, 0, 8192, 0);
	close(fd2);
	EXPECT(base, 1, 1, 8192, 8192);
}

static void mapping_holds_the_buffer(void)
{
	struct exporter_stats base = heap_stats();
	int fd = alloc_buf(16384);
	char *p = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	close(fd);
	EXPECT(base, 1, 0, 16384, 0);
	if (p != MAP_FAILED) {
		p[0] = 1;
		munmap(p, 16384);
	}
	EXPECT(base, 1, 1, 16384, 16384);
}

static void child_holds_the_buffer(void)
{
	struct exporter_stats base = heap_stats();
	int fd = alloc_buf(1 << 20), go[2], status;
	pid_t pid;

	CHECK(pipe(go) == 0, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		char c;

		close(go[1]);
		(void)!read(go[0], &c, 1);	/* hold the inherited fd until told */
		_exit(0);
	}
	close(go[0]);
	close(fd);
	EXPECT(base, 1, 0, 1 << 20, 0);
	close(go[1]);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	EXPECT(base, 1, 1, 1 << 20, 1 << 20);
}

static void older_buffer_is_not_counted(void)
{
	struct exporter_stats base = heap_stats();

	CHECK(older_fd >= 0, "allocating before attach failed: %s", strerror(-older_fd));
	close(older_fd);
	EXPECT(base, 0, 0, 0, 0);
}

int main(void)
{
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	heap_fd = open("/dev/dma_heap/" HEAP, O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0) {
		test_skip("chain_test", "no /dev/dma_heap/" HEAP " (modprobe system_heap)");
		return 0;
	}
	older_fd = alloc_buf(4096);
	err = bufcount_open(&bc);
	if (err) {
		printf("FAIL: chain_test: loading bufcount: %s\n", strerror(-err));
		return 1;
	}
	RUN(counts_exports_and_closes);
	RUN(failed_alloc_is_not_an_export);
	RUN(dup_is_not_a_release);
	RUN(mapping_holds_the_buffer);
	RUN(child_holds_the_buffer);
	RUN(older_buffer_is_not_counted);
	bufcount_close(bc);
	close(heap_fd);
	return tests_failed ? 1 : 0;
}
