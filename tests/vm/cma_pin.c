// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: get one page of ordinary anonymous memory placed inside a
 * CMA area, and keep an extra reference to it (vmsplice into a pipe), so
 * that CMA cannot migrate it away: cma_alloc() over that page then sees a
 * busy range (the cma_alloc_busy_retry tracepoint) and fails.
 *
 *   cma_pin AREA READY
 *
 * Movable allocations go to CMA once more than half of the free memory is
 * CMA's, so this fills memory until a page lands in the area (its pfn from
 * /proc/self/pagemap, the area's range from debugfs), frees the rest, creates
 * READY and holds the page until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHUNK		(4ul << 20)
#define MAX_CHUNKS	1024		/* 4 GiB */
#define PFN_MASK	((1ull << 55) - 1)
#define PAGE_PRESENT	(1ull << 63)

static int read_u64(const char *area, const char *file, uint64_t *out)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/kernel/debug/cma/%s/%s", area, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fscanf(f, "%" SCNu64, out) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t base, count;
	char *chunks[MAX_CHUNKS], *found = NULL;
	int pagemap, pipefd[2], n, keep = -1;

	if (argc != 3) {
		fprintf(stderr, "usage: cma_pin AREA READY\n");
		return 2;
	}
	if (read_u64(argv[1], "base_pfn", &base) || read_u64(argv[1], "count", &count)) {
		fprintf(stderr, "cma_pin: no CMA area '%s' in debugfs\n", argv[1]);
		return 1;
	}
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0 || pipe(pipefd)) {
		perror("cma_pin");
		return 1;
	}
	for (n = 0; n < MAX_CHUNKS && !found; n++) {
		chunks[n] = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (chunks[n] == MAP_FAILED) {
			perror("cma_pin: mmap");
			return 1;
		}
		for (unsigned long off = 0; off < CHUNK && !found; off += page) {
			uint64_t e;

			chunks[n][off] = 1;
			if (pread(pagemap, &e, sizeof(e),
				  ((uintptr_t)chunks[n] + off) / page * sizeof(e)) != sizeof(e))
				continue;
			if ((e & PAGE_PRESENT) && (e & PFN_MASK) >= base &&
			    (e & PFN_MASK) < base + count) {
				found = chunks[n] + off;
				keep = n;
			}
		}
	}
	if (!found) {
		fprintf(stderr, "cma_pin: no page landed in '%s' after %d MiB\n", argv[1], n * 4);
		return 1;
	}
	/* the pipe holds a reference to the page as long as it is not read */
	struct iovec iov = { found, page };

	if (vmsplice(pipefd[1], &iov, 1, 0) != page) {
		perror("cma_pin: vmsplice");
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (i != keep)
			munmap(chunks[i], CHUNK);
	close(open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	pause();
	return 0;
}
