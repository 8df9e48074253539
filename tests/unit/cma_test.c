// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests: CMA free extents from a debugfs-shaped bitmap, and the
 * map kept from allocations and releases on top of it (tools/lib/cma.c).
 * The real debugfs files are checked against the kernel in the VM suite.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "tools/lib/cma.h"

static char dir[] = "/tmp/heapstat-cma-XXXXXX";

/* a fixture file below the test's directory */
static void put(const char *file, const char *text)
{
	test_put_file(dir, file, text);
}

static void extents_follow_marks(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct cma_bitmap bm;
	struct cma_area a = {};

	/* 96 pages at pfn 1000, one bit a page; pages 32..63 allocated */
	put("a/order_per_bit", "0\n");
	put("a/count", "96\n");
	put("a/base_pfn", "1000\n");
	put("a/ranges/0/bitmap", "0 4294967295 0\n");
	CHECK_EQ(cma_bitmap_read(dir, "a", &bm), 0);
	cma_bitmap_extents(&bm, &a);
	CHECK_EQ(a.free_bytes, 64 * page);
	CHECK_EQ(a.largest_free_bytes, 32 * page);
	CHECK_EQ(a.free_extents, 2);
	CHECK_EQ(a.free_by_order[5], 2);
	CHECK(a.fragmentation > 0.49 && a.fragmentation < 0.51, "%f", a.fragmentation);

	cma_bitmap_mark(&bm, 1064, 16, true);	/* the tail run splits: 16 free */
	cma_bitmap_extents(&bm, &a);
	CHECK_EQ(a.free_bytes, 48 * page);
	CHECK_EQ(a.free_by_order[4], 1);
	cma_bitmap_mark(&bm, 1032, 32, false);	/* released: runs of 64 and 16 */
	cma_bitmap_extents(&bm, &a);
	CHECK_EQ(a.largest_free_bytes, 64 * page);
	CHECK_EQ(a.free_extents, 2);
	cma_bitmap_mark(&bm, 900, 8, true);	/* outside the area: ignored */
	cma_bitmap_mark(&bm, 1090, 100, true);	/* runs past the end: clipped */
	cma_bitmap_extents(&bm, &a);
	CHECK_EQ(a.free_bytes, 74 * page);
	cma_bitmap_free(&bm);
}

static void bad_bitmaps_are_refused(void)
{
	struct cma_bitmap bm;

	put("b/order_per_bit", "0\n");
	put("b/count", "96\n");
	put("b/base_pfn", "1000\n");
	put("b/ranges/0/bitmap", "0 0\n");		/* 64 of 96 bits */
	CHECK_EQ(cma_bitmap_read(dir, "b", &bm), -EINVAL);
	CHECK(bm.words == NULL, "the partial bitmap is freed");
	put("b/ranges/0/bitmap", "0 0 0\n");
	CHECK_EQ(cma_bitmap_read(dir, "nosucharea", &bm), -ENOENT);
	CHECK_EQ(cma_bitmap_read(dir, "b", &bm), 0);
	cma_bitmap_free(&bm);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/a/ranges/0 %s/b/ranges/0", dir, dir);
	if (system(cmd))
		return 1;
	RUN(extents_follow_marks);
	RUN(bad_bitmaps_are_refused);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) || tests_failed ? 1 : 0;
}
