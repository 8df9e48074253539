/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An index of positions in a caller's array, for lookups that would be
 * linear in it: open addressing over positions + 1 (0: empty), kept at most
 * half full. The caller hashes its keys, and says whether the element at a
 * position is the one asked for; the array stays the caller's.
 */
#ifndef HEAPSTAT_HINDEX_H
#define HEAPSTAT_HINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HINDEX_NONE	SIZE_MAX

struct hindex {
	uint32_t *slot;
	size_t cap;
};

uint64_t hindex_mix(uint64_t x);
uint64_t hindex_str(const char *s);
/* room for one more of the @n indexed, rehashing them (@hash_at) when it grows */
int hindex_room(struct hindex *ix, size_t n, const void *ctx,
		uint64_t (*hash_at)(const void *ctx, size_t pos));
/* the @n indexed again, after the array was compacted */
int hindex_rebuild(struct hindex *ix, size_t n, const void *ctx,
		   uint64_t (*hash_at)(const void *ctx, size_t pos));
void hindex_put(struct hindex *ix, uint64_t hash, size_t pos);
/* the position whose element @match()es @key, HINDEX_NONE when none */
size_t hindex_find(const struct hindex *ix, uint64_t hash, const void *ctx,
		   bool (*match)(const void *ctx, size_t pos, const void *key), const void *key);
void hindex_free(struct hindex *ix);

#endif
