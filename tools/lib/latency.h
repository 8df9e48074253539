/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_LATENCY_H
#define HEAPSTAT_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a log-linear histogram's shape (collector_events.h's COLL_LAT_*, COLL_LIFE_*) */
struct hist_shape {
	unsigned int min_shift, max_shift, sub_bits;
	unsigned int buckets;
};

extern const struct hist_shape hist_shape_lat, hist_shape_life;

/* a bucket's count: the nonzero ones, in bucket order */
struct hist_bin {
	uint32_t bucket;
	uint64_t count;
};

struct hist_bins {
	struct hist_bin *v;
	size_t n, cap;
};

/*
 * Durations (latencies, lifetimes) of one interval: kept whole, for exact
 * percentiles, when they come as events; in aggregate mode (the collector's
 * default), the kernel's histogram: its counts now and at the interval's
 * start, whose difference the percentiles are of.
 */
struct lat_set {
	uint64_t *ns;
	size_t n, cap;			/* n: values in the interval, either way */
	bool sorted;
	const struct hist_shape *shape;	/* NULL: the values are in ns */
	struct hist_bins now, base;
};

int lat_add(struct lat_set *l, uint64_t ns);
/* nearest-rank percentile, p in (0, 100]; 0 for an empty set */
uint64_t lat_percentile(struct lat_set *l, double p);
/* how many of the interval's values are <= ns (a histogram: whose bucket's middle is) */
uint64_t lat_count_le(struct lat_set *l, uint64_t ns);
/* the interval starts now */
void lat_restart(struct lat_set *l);
int lat_merge(struct lat_set *to, const struct lat_set *a, const struct lat_set *b);
void lat_free(struct lat_set *l);

/* histograms: a shape's bucket of a value, the middle of a bucket */
unsigned int hist_bucket(const struct hist_shape *s, uint64_t v);
uint64_t hist_value(const struct hist_shape *s, unsigned int bucket);
/*
 * Make the histogram's counts now: the sum of dense count arrays added with
 * lat_hist_add() after lat_hist_reset(). -ENOMEM on failure.
 */
void lat_hist_reset(struct lat_set *l, const struct hist_shape *s);
int lat_hist_add(struct lat_set *l, const uint32_t *counts);
int lat_hist_add_now(struct lat_set *l, const struct lat_set *from);

#endif
