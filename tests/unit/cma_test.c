// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests: CMA free extents from a debugfs-shaped bitmap, and the
 * collector's copy kept by BPF, seeded from it (tools/lib/cma.c).
 * The real debugfs files are checked against the kernel in the VM suite.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* bits first..last written by a traced event, as bpf/collector.bpf.c writes them */
static void event(uint64_t *words, uint64_t first, uint64_t last, bool used)
{
	for (uint64_t b = first; b <= last; b++) {
		uint64_t bit = 1ull << (b % 32);

		words[b / 32] |= bit << 32;
		if (used)
			words[b / 32] |= bit;
		else
			words[b / 32] &= ~bit;
	}
}

static void extents_of_bitmaps(void)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t words[3] = {};
	struct cma_bitmap bm, traced;
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

	/* the collector's copy: events traced before the seed keep their bits */
	CHECK_EQ(cma_bitmap_shape(dir, "a", &traced), 0);
	CHECK_EQ(cma_traced_words(&traced), 3);
	event(words, 64, 79, true);	/* allocated after debugfs was read */
	event(words, 40, 47, false);	/* released after it */
	event(words, 0, 3, false);
	cma_traced_seed(words, &bm);
	CHECK_EQ(words[1], 0x0000ff00ffff00ffull);	/* 32..39 and 48..63 from the seed */
	CHECK_EQ(words[2], 0x0000ffff0000ffffull);
	cma_traced_read(&traced, words);
	cma_bitmap_extents(&traced, &a);
	CHECK_EQ(a.free_bytes, 56 * page);	/* 0..31, 40..47, 80..95 */
	CHECK_EQ(a.largest_free_bytes, 32 * page);
	CHECK_EQ(a.free_extents, 3);
	CHECK_EQ(a.free_by_order[3], 1);
	CHECK_EQ(a.free_by_order[4], 1);
	CHECK_EQ(a.free_by_order[5], 1);
	event(words, 32, 39, false);	/* and after the seed */
	cma_traced_read(&traced, words);
	cma_bitmap_extents(&traced, &a);
	CHECK_EQ(a.largest_free_bytes, 48 * page);
	cma_traced_seed(words, &bm);	/* a second seed changes no bit an event wrote */
	cma_traced_read(&traced, words);
	cma_bitmap_extents(&traced, &a);
	CHECK_EQ(a.largest_free_bytes, 48 * page);
	CHECK_EQ(a.free_bytes, 64 * page);
	cma_bitmap_free(&traced);
	cma_bitmap_free(&bm);

	/* 40 bits: the bitmap's bits past them are not seeded */
	put("c/order_per_bit", "1\n");
	put("c/count", "80\n");
	put("c/base_pfn", "2000\n");
	put("c/ranges/0/bitmap", "0 4294967295\n");
	CHECK_EQ(cma_bitmap_read(dir, "c", &bm), 0);
	CHECK_EQ(bm.nbits, 40);
	memset(words, 0, sizeof(words));
	cma_traced_seed(words, &bm);
	CHECK_EQ(words[0], 0);
	CHECK_EQ(words[1], 0xff);
	CHECK_EQ(cma_bitmap_shape(dir, "c", &traced), 0);
	cma_traced_read(&traced, words);
	cma_bitmap_extents(&traced, &a);
	CHECK_EQ(a.free_bytes, 64 * page);	/* 32 bits of 2 pages */
	CHECK_EQ(a.largest_free_bytes, 64 * page);
	cma_bitmap_free(&traced);
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

/*
 * An older kernel's area (6.12): sysfs has only the counters, debugfs the
 * size, the pages used, and the bitmap beside them (no ranges/)
 */
static void areas_sized_from_debugfs(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char sys[256], dbg[256];
	struct cma_area *areas;
	size_t n;

	snprintf(sys, sizeof(sys), "%s/sys", dir);
	snprintf(dbg, sizeof(dbg), "%s/dbg", dir);
	put("sys/old/alloc_pages_success", "24\n");
	put("sys/old/alloc_pages_fail", "3\n");
	put("dbg/old/order_per_bit", "0\n");
	put("dbg/old/count", "64\n");
	put("dbg/old/used", "24\n");
	put("dbg/old/base_pfn", "4096\n");
	put("dbg/old/bitmap", "16777215 0\n");	/* the first 24 pages */
	CHECK_EQ(cma_areas_read(sys, dbg, true, &areas, &n), 0);
	CHECK_EQ(n, 1);
	if (n != 1)
		return;
	CHECK(!strcmp(areas[0].name, "old"), "the area named by its sysfs directory");
	CHECK_EQ(areas[0].total_bytes, 64 * page);
	CHECK_EQ(areas[0].used_bytes, 24 * page);
	CHECK_EQ(areas[0].alloc_success_pages, 24);
	CHECK_EQ(areas[0].alloc_fail_pages, 3);
	CHECK(areas[0].have_bitmap, "the bitmap beside count read");
	CHECK_EQ(areas[0].largest_free_bytes, 40 * page);
	free(areas);
	/* without debugfs the size is unknown: no area rather than a wrong one */
	CHECK_EQ(cma_areas_read(sys, NULL, false, &areas, &n), 0);
	CHECK_EQ(n, 0);
	free(areas);
}

int main(void)
{
	char cmd[256];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/a/ranges/0 %s/b/ranges/0 %s/c/ranges/0 "
		 "%s/sys/old %s/dbg/old", dir, dir, dir, dir, dir);
	if (system(cmd))
		return 1;
	RUN(extents_of_bitmaps);
	RUN(bad_bitmaps_are_refused);
	RUN(areas_sized_from_debugfs);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) || tests_failed ? 1 : 0;
}
