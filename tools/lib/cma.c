// SPDX-License-Identifier: GPL-2.0
/*
 * CMA areas: sizes and counters from CMA sysfs, and free extents from the
 * debugfs allocation bitmaps (one bit per 2^order_per_bit pages, set when
 * allocated): largest free extent, free extents by order, fragmentation;
 * and the collector's copy of a bitmap, kept by BPF from traced events.
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

/**
 * cma_bitmap_shape() - an area's allocation bitmap from debugfs, all clear
 * @debugfs: "/sys/kernel/debug/cma"
 *
 * Return: 0, -EOPNOTSUPP for an area of several ranges (their sizes are not
 * published), or a negative errno (-ENOENT without debugfs).
 */
int cma_bitmap_shape(const char *debugfs, const char *name, struct cma_bitmap *bm)
{
	uint64_t order_per_bit, count, base;
	char path[4096];
	int err;

	memset(bm, 0, sizeof(*bm));
	if ((err = read_u64(debugfs, name, "order_per_bit", &order_per_bit)) ||
	    (err = read_u64(debugfs, name, "count", &count)) ||
	    (err = read_u64(debugfs, name, "base_pfn", &base)))
		return err;
	if (order_per_bit > 30)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s/ranges/1", debugfs, name);
	if (!access(path, F_OK))
		return -EOPNOTSUPP;
	bm->base_pfn = base;
	bm->order_per_bit = order_per_bit;
	bm->nbits = count >> order_per_bit;
	bm->words = calloc(bm->nbits / 64 + 1, sizeof(*bm->words));
	return bm->words ? 0 : -ENOMEM;
}

/**
 * cma_bitmap_read() - an area's allocation bitmap from debugfs
 * @debugfs: "/sys/kernel/debug/cma"
 *
 * The bitmap file is the bitmap's 32-bit words, printed in decimal.
 *
 * Return: as cma_bitmap_shape(), or -EINVAL for a short bitmap.
 */
int cma_bitmap_read(const char *debugfs, const char *name, struct cma_bitmap *bm)
{
	unsigned long long word;
	uint64_t bit = 0;
	char path[4096];
	FILE *f;
	int err = cma_bitmap_shape(debugfs, name, bm);

	if (err)
		return err;
	/* the first range's; an area without ranges has its bitmap beside count (6.12) */
	snprintf(path, sizeof(path), "%s/%s/ranges/0/bitmap", debugfs, name);
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		snprintf(path, sizeof(path), "%s/%s/bitmap", debugfs, name);
		f = fopen(path, "re");
	}
	if (!f) {
		err = -errno;
		goto fail;
	}
	for (; bit < bm->nbits && fscanf(f, "%llu", &word) == 1; bit += 32)
		bm->words[bit / 64] |= (uint64_t)(word & 0xffffffffull) << (bit % 64);
	fclose(f);
	if (bit >= bm->nbits)
		return 0;
	err = -EINVAL;
fail:
	cma_bitmap_free(bm);
	return err;
}

/* bits [32 * w, 32 * w + 32) of a bitmap, those past its end clear */
static uint64_t bits32(const struct cma_bitmap *bm, uint64_t w)
{
	uint64_t v = bm->words[w / 2] >> (w % 2 * 32) & 0xffffffffull;

	if (32 * w + 32 > bm->nbits)
		v &= (1ull << (bm->nbits - 32 * w)) - 1;
	return v;
}

/**
 * cma_traced_seed() - seed the collector's copy of an area's bitmap
 * @words: its words (bpf/collector_events.h: 32 bits a word, the high half
 *         marking those a traced event wrote), written by BPF meanwhile
 * @bm: the bitmap read from debugfs once the events were traced
 *
 * Bits no event wrote take @bm's value; a word changed under us is taken again.
 */
void cma_traced_seed(uint64_t *words, const struct cma_bitmap *bm)
{
	for (uint64_t w = 0; w < cma_traced_words(bm); w++) {
		uint64_t seed = bits32(bm, w), old = __atomic_load_n(&words[w], __ATOMIC_RELAXED);
		uint64_t written, new;

		do {
			written = old >> 32;
			new = (old & ~0xffffffffull) | (old & written) | (seed & ~written);
		} while (!__atomic_compare_exchange_n(&words[w], &old, new, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	}
}

/* the bitmap in the collector's words, into @bm (shaped as the area's) */
void cma_traced_read(struct cma_bitmap *bm, const uint64_t *words)
{
	memset(bm->words, 0, (bm->nbits / 64 + 1) * sizeof(*bm->words));
	for (uint64_t w = 0; w < cma_traced_words(bm); w++)
		bm->words[w / 2] |= (__atomic_load_n(&words[w], __ATOMIC_RELAXED) & 0xffffffffull)
				    << (w % 2 * 32);
}

/* free extents of a bitmap: free bytes, largest, by order, fragmentation */
void cma_bitmap_extents(const struct cma_bitmap *bm, struct cma_area *a)
{
	long page_size = sysconf(_SC_PAGESIZE);
	uint64_t run = 0, bit_pages = 1ull << bm->order_per_bit;

	a->free_bytes = a->largest_free_bytes = 0;
	a->free_extents = 0;
	memset(a->free_by_order, 0, sizeof(a->free_by_order));
	for (uint64_t b = 0; b < bm->nbits; b++) {
		if (bm->words[b / 64] & (1ull << (b % 64))) {
			add_extent(a, run * bit_pages, page_size);
			run = 0;
		} else {
			run++;
		}
	}
	add_extent(a, run * bit_pages, page_size);
	a->have_bitmap = true;
	a->fragmentation = a->free_bytes ? 1.0 - (double)a->largest_free_bytes / a->free_bytes : 0;
}

void cma_bitmap_free(struct cma_bitmap *bm)
{
	free(bm->words);
	bm->words = NULL;
}

static void read_bitmaps(struct cma_area *a, const char *debugfs)
{
	struct cma_bitmap bm;

	if (cma_bitmap_read(debugfs, a->name, &bm))
		return;
	cma_bitmap_extents(&bm, a);
	cma_bitmap_free(&bm);
}

/*
 * @meminfo's CmaTotal in kB: 0 when the kernel reserved no CMA memory at all
 * (areas are made at boot only: nothing will ever run through CMA's
 * tracepoints); -1 when it cannot tell (no such line: no CMA; unreadable).
 */
long long cma_reserved_kb(const char *meminfo)
{
	long long kb = -1;
	char line[256];
	FILE *f = fopen(meminfo, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CmaTotal: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * An area's size and pages in use: CMA sysfs's total_pages and
 * available_pages, else debugfs's count and used (older kernels, 6.12 too,
 * publish only the counters in sysfs); -ENOENT when neither tells.
 */
static int area_pages(const char *sysfs, const char *debugfs, const char *name,
		      uint64_t *total, uint64_t *used)
{
	uint64_t avail;

	if (!read_u64(sysfs, name, "total_pages", total) &&
	    !read_u64(sysfs, name, "available_pages", &avail)) {
		*used = *total > avail ? *total - avail : 0;
		return 0;
	}
	if (debugfs && !read_u64(debugfs, name, "count", total) &&
	    !read_u64(debugfs, name, "used", used))
		return 0;
	return -ENOENT;
}

/**
 * cma_areas_read() - every CMA area with its counters and free extents
 * @sysfs: "/sys/kernel/mm/cma"
 * @debugfs: "/sys/kernel/debug/cma", or NULL: where sysfs does not tell an
 *           area's size (6.12), it is read there
 * @bitmaps: read the free extents from debugfs's bitmaps too (skipped if
 *           unreadable)
 *
 * Return: 0 (no area: *n = 0) or a negative errno.
 */
int cma_areas_read(const char *sysfs, const char *debugfs, bool bitmaps,
		   struct cma_area **out, size_t *n)
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
		uint64_t total, used;
		struct cma_area *a;

		if (de->d_name[0] == '.' || area_pages(sysfs, debugfs, de->d_name, &total, &used))
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
		a->used_bytes = used * page_size;
		read_u64(sysfs, a->name, "alloc_pages_success", &a->alloc_success_pages);
		read_u64(sysfs, a->name, "alloc_pages_fail", &a->alloc_fail_pages);
		read_u64(sysfs, a->name, "release_pages_success", &a->release_pages);
		if (debugfs && bitmaps)
			read_bitmaps(a, debugfs);
	}
	closedir(d);
	*out = areas;
	return 0;
}
