// SPDX-License-Identifier: GPL-2.0
/* An index of positions in a caller's array (hindex.h). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <sys/random.h>

#include "hindex.h"

/*
 * This process's own, mixed into every hash: keys a file was made of to
 * collide (a crafted recording's cgroup ids, the inverse of the mix taken of
 * positions a table's size apart) do not, and lookups stay linear.
 */
static uint64_t seed;

__attribute__((constructor)) static void hindex_seed(void)
{
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec ^ (uintptr_t)&ts;
}

uint64_t hindex_mix(uint64_t x)
{
	x ^= seed;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	return x ^ (x >> 33);
}

uint64_t hindex_str(const char *s)	/* FNV-1a */
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

void hindex_put(struct hindex *ix, uint64_t hash, size_t pos)
{
	size_t k = hash & (ix->cap - 1);

	while (ix->slot[k])
		k = (k + 1) & (ix->cap - 1);
	ix->slot[k] = pos + 1;
}

int hindex_room(struct hindex *ix, size_t n, const void *ctx,
		uint64_t (*hash_at)(const void *ctx, size_t pos))
{
	size_t cap = ix->cap ? ix->cap * 2 : 64;
	uint32_t *slot;

	if ((n + 1) * 2 <= ix->cap)
		return 0;
	if (n >= UINT32_MAX - 1)
		return -ENOMEM;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	free(ix->slot);
	ix->slot = slot;
	ix->cap = cap;
	for (size_t i = 0; i < n; i++)
		hindex_put(ix, hash_at(ctx, i), i);
	return 0;
}

int hindex_rebuild(struct hindex *ix, size_t n, const void *ctx,
		   uint64_t (*hash_at)(const void *ctx, size_t pos))
{
	size_t cap = 64;

	while (cap < 2 * (n + 1))
		cap *= 2;
	free(ix->slot);
	ix->slot = calloc(cap, sizeof(*ix->slot));
	ix->cap = ix->slot ? cap : 0;
	if (!ix->slot)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		hindex_put(ix, hash_at(ctx, i), i);
	return 0;
}

size_t hindex_find(const struct hindex *ix, uint64_t hash, const void *ctx,
		   bool (*match)(const void *ctx, size_t pos, const void *key), const void *key)
{
	for (size_t k = hash & (ix->cap - 1); ix->cap && ix->slot[k]; k = (k + 1) & (ix->cap - 1))
		if (match(ctx, ix->slot[k] - 1, key))
			return ix->slot[k] - 1;
	return HINDEX_NONE;
}

void hindex_free(struct hindex *ix)
{
	free(ix->slot);
	ix->slot = NULL;
	ix->cap = 0;
}
