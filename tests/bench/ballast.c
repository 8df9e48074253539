// SPDX-License-Identifier: GPL-2.0
/*
 * The ballast: buffers of the heap held through a benchmark's batches, so
 * that every slab cache an alloc+free takes from (the dma-buf's file, inode
 * and dentry, the heap's own structures) has half-used slabs to take from.
 * The reference kernel is tinyconfig's SLUB_TINY, which keeps no empty slab
 * (MIN_PARTIAL 0): when a cache's slabs are all full as a batch starts, each
 * allocation takes a new slab and its free gives it back (for the file, the
 * filp cache being SLAB_TYPESAFE_BY_RCU, through call_rcu), about 1,800
 * instructions an alloc+free more. Whether the slabs are full is a matter of
 * how many files and objects the system holds, which the variants change (a
 * BPF link is a file): without the ballast, the variant with nothing
 * attached was the one that paid (limit_bench's NONE; trace_bench's BARE).
 * Made of 2N buffers of 4 KiB, every other one freed: N held, in half-used
 * slabs. Linked into every benchmark program; limit_bench and trace_bench
 * hold one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#include "ballast.h"

#define BALLAST_MAX	256

static int ballast_fds[2 * BALLAST_MAX];
int ballast_n;

int ballast_hold(int heap, const char *env)
{
	int n = getenv(env) ? atoi(getenv(env)) : 64;
	struct dma_heap_allocation_data plug = { .fd_flags = O_RDWR | O_CLOEXEC };

	if (n < 0 || n > BALLAST_MAX) {
		fprintf(stderr, "%s: 0 to %d\n", env, BALLAST_MAX);
		exit(2);
	}
	/* the plug: the largest size measured, first, freed last: the carveout
	 * heap's first-fit pool then finds room for the loop before the
	 * ballast's holes, as it would without them (it searched past all 64 at
	 * 64 KiB: 3,800 instructions more) */
	plug.len = 1 << 20;
	if (n && ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &plug) < 0)
		return -errno;
	/* all made first, then every other one freed: a free made at once would
	 * only be taken again by the next allocation */
	for (int i = 0; i < 2 * n; i++) {
		struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };

		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) < 0)
			return -errno;
		ballast_fds[ballast_n++] = d.fd;
	}
	for (int i = 0; i < n; i++) {
		close(ballast_fds[2 * i + 1]);
		ballast_fds[i] = ballast_fds[2 * i];
	}
	ballast_n = n;
	if (n)
		close(plug.fd);
	return 0;
}

void ballast_drop(void)
{
	while (ballast_n)
		close(ballast_fds[--ballast_n]);
}
