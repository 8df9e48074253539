// SPDX-License-Identifier: GPL-2.0
/*
 * Durations of an interval, as percentiles: exact from values kept whole, or
 * from the collector's log-linear histograms (aggregate mode), whose counts
 * are kept sparse (the nonzero buckets: a few dozen of hundreds), now and at
 * the interval's start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "collector_events.h"
#include "latency.h"
#include "util.h"

const struct hist_shape hist_shape_lat = {
	COLL_LAT_MIN_SHIFT, COLL_LAT_MAX_SHIFT, COLL_LAT_SUB_BITS, COLL_LAT_BUCKETS,
};
const struct hist_shape hist_shape_life = {
	COLL_LIFE_MIN_SHIFT, COLL_LIFE_MAX_SHIFT, COLL_LIFE_SUB_BITS, COLL_LIFE_BUCKETS,
};

unsigned int hist_bucket(const struct hist_shape *s, uint64_t v)
{
	return coll_hist_bucket(v, s->min_shift, s->max_shift, s->sub_bits);
}

/* the middle of the bucket; below the first and from the last on, their bound */
uint64_t hist_value(const struct hist_shape *s, unsigned int bucket)
{
	unsigned int i, msb;
	uint64_t width;

	if (!bucket)
		return 1ull << (s->min_shift - 1);
	if (bucket >= s->buckets - 1)
		return 1ull << s->max_shift;
	i = bucket - 1;
	msb = s->min_shift + (i >> s->sub_bits);
	width = 1ull << (msb - s->sub_bits);
	return (1ull << msb) + (i & ((1u << s->sub_bits) - 1)) * width + width / 2;
}

int lat_add(struct lat_set *l, uint64_t ns)
{
	if (grow_array((void **)&l->ns, &l->cap, l->n, sizeof(*l->ns)))
		return -ENOMEM;
	l->ns[l->n++] = ns;
	l->sorted = false;
	return 0;
}

/* the count of bucket b at the interval's start; *at walks base in order */
static uint64_t base_of(const struct lat_set *l, uint32_t b, size_t *at)
{
	while (*at < l->base.n && l->base.v[*at].bucket < b)
		(*at)++;
	return *at < l->base.n && l->base.v[*at].bucket == b ? l->base.v[*at].count : 0;
}

static uint64_t delta(const struct lat_set *l, size_t i, size_t *at)
{
	uint64_t then = base_of(l, l->now.v[i].bucket, at);

	return l->now.v[i].count > then ? l->now.v[i].count - then : 0;
}

static uint64_t hist_percentile(const struct lat_set *l, uint64_t rank)
{
	uint64_t seen = 0;
	size_t at = 0;

	for (size_t i = 0; i < l->now.n; i++) {
		seen += delta(l, i, &at);
		if (seen >= rank)
			return hist_value(l->shape, l->now.v[i].bucket);
	}
	return l->now.n ? hist_value(l->shape, l->now.v[l->now.n - 1].bucket) : 0;
}

uint64_t lat_percentile(struct lat_set *l, double p)
{
	size_t rank;

	if (!l->n)
		return 0;
	rank = (size_t)(p / 100.0 * l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	if (l->shape)
		return hist_percentile(l, rank);
	if (!l->sorted)
		sort_ordered(l->ns, l->n, sizeof(*l->ns), cmp_u64);
	l->sorted = true;
	return l->ns[rank - 1];
}

uint64_t lat_count_le(struct lat_set *l, uint64_t ns)
{
	uint64_t k = 0;
	size_t at = 0;

	if (!l->shape) {
		for (size_t i = 0; i < l->n; i++)
			k += l->ns[i] <= ns;
		return k;
	}
	for (size_t i = 0; i < l->now.n && hist_value(l->shape, l->now.v[i].bucket) <= ns; i++)
		k += delta(l, i, &at);
	return k;
}

static int bins_copy(struct hist_bins *to, const struct hist_bins *from)
{
	if (from->n > to->cap) {
		struct hist_bin *v = realloc(to->v, from->n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		to->v = v;
		to->cap = from->n;
	}
	copy_array(to->v, from->v, from->n, sizeof(*to->v));
	to->n = from->n;
	return 0;
}

void lat_restart(struct lat_set *l)
{
	l->n = 0;
	/* on failure the interval goes on from the old start: never wrong, only longer */
	if (l->shape)
		bins_copy(&l->base, &l->now);
}

void lat_hist_reset(struct lat_set *l, const struct hist_shape *s)
{
	l->shape = s;
	l->now.n = 0;
	l->n = 0;
}

int lat_hist_add(struct lat_set *l, const uint32_t *counts)
{
	struct hist_bins sum = { 0 };
	size_t i = 0, k = 0, nz = 0, at = 0;
	uint64_t n = 0;

	for (unsigned int b = 0; b < l->shape->buckets; b++)
		nz += counts[b] != 0;
	if (!nz)
		return 0;
	sum.cap = l->now.n + nz;
	sum.v = malloc(sum.cap * sizeof(*sum.v));
	if (!sum.v)
		return -ENOMEM;
	for (unsigned int b = 0; b < l->shape->buckets; b++) {
		uint64_t c = counts[b];

		while (i < l->now.n && l->now.v[i].bucket < b)
			sum.v[k++] = l->now.v[i++];
		if (i < l->now.n && l->now.v[i].bucket == b)
			c += l->now.v[i++].count;
		if (c)
			sum.v[k++] = (struct hist_bin){ .bucket = b, .count = c };
	}
	while (i < l->now.n)
		sum.v[k++] = l->now.v[i++];
	sum.n = k;
	free(l->now.v);
	l->now = sum;
	for (i = 0; i < l->now.n; i++)
		n += delta(l, i, &at);
	l->n = n;
	return 0;
}

/* two sparse histograms' counts summed, in bucket order */
static int bins_sum(struct hist_bins *to, const struct hist_bins *x, const struct hist_bins *y)
{
	size_t i = 0, k = 0;

	to->v = malloc((x->n + y->n + 1) * sizeof(*to->v));
	if (!to->v)
		return -ENOMEM;
	to->cap = x->n + y->n + 1;
	to->n = 0;
	while (i < x->n || k < y->n) {
		bool take_x = k == y->n || (i < x->n && x->v[i].bucket <= y->v[k].bucket);
		bool take_y = i == x->n || (k < y->n && y->v[k].bucket <= x->v[i].bucket);
		struct hist_bin b = take_x ? x->v[i] : y->v[k];

		if (take_x && take_y)
			b.count += y->v[k].count;
		i += take_x;
		k += take_y;
		to->v[to->n++] = b;
	}
	return 0;
}

/**
 * lat_merge() - @to (empty) is @a and @b together: the same interval's
 * values of two sets of one kind (one shape, or both values)
 *
 * Return: 0, -EINVAL for sets of two kinds, -ENOMEM.
 */
int lat_merge(struct lat_set *to, const struct lat_set *a, const struct lat_set *b)
{
	if (a->shape != b->shape)
		return -EINVAL;
	to->shape = a->shape;
	to->n = a->n + b->n;
	if (a->shape)
		return bins_sum(&to->now, &a->now, &b->now) ?: bins_sum(&to->base, &a->base, &b->base);
	to->cap = to->n + 1;
	to->ns = malloc(to->cap * sizeof(*to->ns));
	if (!to->ns)
		return -ENOMEM;
	copy_array(to->ns, a->ns, a->n, sizeof(*to->ns));
	copy_array(to->ns + a->n, b->ns, b->n, sizeof(*to->ns));
	return 0;
}

/**
 * lat_hist_add_now() - add the counts now of histogram @from (of @l's shape:
 * counts kept apart, no longer in the kernel's) to @l's, as lat_hist_add()
 * adds a dense array's
 *
 * Return: 0, -ENOMEM.
 */
int lat_hist_add_now(struct lat_set *l, const struct lat_set *from)
{
	struct hist_bins sum;
	size_t at = 0;
	uint64_t n = 0;

	if (!from->now.n)
		return 0;
	if (bins_sum(&sum, &l->now, &from->now))
		return -ENOMEM;
	free(l->now.v);
	l->now = sum;
	for (size_t i = 0; i < l->now.n; i++)
		n += delta(l, i, &at);
	l->n = n;
	return 0;
}

void lat_free(struct lat_set *l)
{
	free(l->ns);
	free(l->now.v);
	free(l->base.v);
	memset(l, 0, sizeof(*l));
}
