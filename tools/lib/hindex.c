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
 * positions a table's size apart) do not, and lookups stay linear. The
 * second is a multiplier (odd): a seed only XORed in kept the keys' XOR
 * differences, and keys a chosen difference apart shared a slot whatever
 * the seed.
 */
static uint64_t seed, seed_mul;

__attribute__((constructor)) static void hindex_seed(void)
{
	uint64_t v[2];
	struct timespec ts;

	if (getrandom(v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v[0] = (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec ^ (uintptr_t)&ts;
		v[1] = v[0] * 0x9e3779b97f4a7c15ull ^ (uintptr_t)&seed;
	}
	seed = v[0];
	seed_mul = v[1] | 1;
}

/* the key, seeded, through MurmurHash3's finalizer */
uint64_t hindex_mix(uint64_t x)
{
	x = (x ^ seed) * seed_mul;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* FNV-1a, mixed: a slot takes the low bits, and FNV's low bits depend on the
 * seed's low bits alone */
uint64_t hindex_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return hindex_mix(h);
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
