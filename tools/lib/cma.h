/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CMA_H
#define HEAPSTAT_CMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMA_SYSFS	"/sys/kernel/mm/cma"
#define CMA_DEBUGFS	"/sys/kernel/debug/cma"
#define CMA_ORDERS	32	/* free extents counted by floor(log2(pages)) */

struct cma_area {
	char name[256];
	/* CMA sysfs (/sys/kernel/mm/cma/<area>; on 6.12 the size from debugfs) */
	uint64_t total_bytes;
	uint64_t used_bytes;
	uint64_t alloc_success_pages;
	uint64_t alloc_fail_pages;
	uint64_t release_pages;
	/* debugfs bitmaps (/sys/kernel/debug/cma/<area>/bitmap) */
	bool have_bitmap;
	uint64_t free_bytes;
	uint64_t largest_free_bytes;
	unsigned int free_extents;
	unsigned int free_by_order[CMA_ORDERS];
	double fragmentation;		/* 1 - largest free extent / free bytes */
};

/* an area's allocation bitmap: one bit per 2^order_per_bit pages, set when allocated */
struct cma_bitmap {
	uint64_t base_pfn;
	unsigned int order_per_bit;
	uint64_t nbits;
	uint64_t *words;
};

/*
 * An area's free bytes: the bitmap's when read (what its largest free extent
 * and fragmentation are of), else CMA sysfs's, never below 0 whatever races
 * the two reads. Every view prints this one.
 */
static inline uint64_t cma_free_bytes(const struct cma_area *a)
{
	if (a->have_bitmap)
		return a->free_bytes;
	return a->total_bytes > a->used_bytes ? a->total_bytes - a->used_bytes : 0;
}

int cma_areas_read(const char *sysfs, const char *debugfs, bool bitmaps,
		   struct cma_area **out, size_t *n);
long long cma_reserved_kb(const char *meminfo);
int cma_bitmap_shape(const char *debugfs, const char *name, struct cma_bitmap *bm);
int cma_bitmap_read(const char *debugfs, const char *name, struct cma_bitmap *bm);
void cma_bitmap_extents(const struct cma_bitmap *bm, struct cma_area *a);
void cma_bitmap_free(struct cma_bitmap *bm);

/* the collector's copy of a bitmap kept by BPF: its words, 32 bits each */
static inline uint64_t cma_traced_words(const struct cma_bitmap *bm)
{
	return (bm->nbits + 31) / 32;
}

void cma_traced_seed(uint64_t *words, const struct cma_bitmap *bm);
void cma_traced_read(struct cma_bitmap *bm, const uint64_t *words);

#endif
