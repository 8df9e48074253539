// SPDX-License-Identifier: GPL-2.0
/*
 * CMA areas: sizes and counters from CMA sysfs, and free extents from the
 * debugfs allocation bitmaps (one bit per 2^order_per_bit pages, set when
 * allocated): largest free extent, free extents by order, fragmentation.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cma.h"

static int read_u64(const char *dir, const char *name, const char *file, uint64_t *out)
{
	char path[4096];
	unsigned long long v;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, file);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*out = v;
	return 0;
}

static void add_extent(struct cma_area *a, uint64_t pages, long page_size)
{
	unsigned int order = 0;

	if (!pages)
		return;
	while (order + 1 < CMA_ORDERS && (pages >> (order + 1)))
		order++;
	a->free_by_order[order]++;
	a->free_extents++;
	a->free_bytes += pages * page_size;
	if (pages * page_size > a->largest_free_bytes)
		a->largest_free_bytes = pages * page_size;
}

/* free runs of one range's bitmap: words of 32 bits, printed in decimal */
static int scan_bitmap(struct cma_area *a, const char *path, unsigned int bit_pages,
		       uint64_t range_bits, long page_size)
{
	unsigned long long word;
	uint64_t bit = 0, run = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (bit < range_bits && fscanf(f, "%llu", &word) == 1) {
		for (int i = 0; i < 32 && bit < range_bits; i++, bit++) {
			if (word & (1ull << i)) {
				add_extent(a, run * bit_pages, page_size);
				run = 0;
			} else {
				run++;
			}
		}
	}
	fclose(f);
	add_extent(a, run * bit_pages, page_size);
	return bit == range_bits ? 0 : -EINVAL;
}

static void read_bitmaps(struct cma_area *a, const char *debugfs, long page_size)
{
	char path[4096];
	uint64_t order_per_bit, count;
	struct cma_area tmp = *a;

	if (read_u64(debugfs, a->name, "order_per_bit", &order_per_bit) ||
	    read_u64(debugfs, a->name, "count", &count) || order_per_bit > 30)
		return;
	/* an area of several ranges does not publish each range's size */
	snprintf(path, sizeof(path), "%s/%s/ranges/1", debugfs, a->name);
	if (!access(path, F_OK))
		return;
	snprintf(path, sizeof(path), "%s/%s/ranges/0/bitmap", debugfs, a->name);
	if (scan_bitmap(&tmp, path, 1u << order_per_bit, count >> order_per_bit, page_size))
		return;
	tmp.have_bitmap = true;
	tmp.fragmentation = tmp.free_bytes ?
		1.0 - (double)tmp.largest_free_bytes / tmp.free_bytes : 0;
	*a = tmp;
}

/**
 * cma_areas_read() - every CMA area with its counters and free extents
 * @sysfs: "/sys/kernel/mm/cma"
 * @debugfs: "/sys/kernel/debug/cma"; bitmaps are skipped if unreadable
 *
 * Return: 0 (no area: *n = 0) or a negative errno.
 */
int cma_areas_read(const char *sysfs, const char *debugfs, struct cma_area **out, size_t *n)
{
	long page_size = sysconf(_SC_PAGESIZE);
	struct cma_area *areas = NULL;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(sysfs);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		uint64_t total, avail;
		struct cma_area *a;

		if (de->d_name[0] == '.' ||
		    read_u64(sysfs, de->d_name, "total_pages", &total) ||
		    read_u64(sysfs, de->d_name, "available_pages", &avail))
			continue;
		a = realloc(areas, (*n + 1) * sizeof(*a));
		if (!a) {
			closedir(d);
			free(areas);
			return -ENOMEM;
		}
		areas = a;
		a = &areas[(*n)++];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "%s", de->d_name);
		a->total_bytes = total * page_size;
		a->used_bytes = (total - avail) * page_size;
		read_u64(sysfs, a->name, "alloc_pages_success", &a->alloc_success_pages);
		read_u64(sysfs, a->name, "alloc_pages_fail", &a->alloc_fail_pages);
		read_u64(sysfs, a->name, "release_pages_success", &a->release_pages);
		read_bitmaps(a, debugfs, page_size);
	}
	closedir(d);
	*out = areas;
	return 0;
}
