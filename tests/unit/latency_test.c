// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the aggregate mode's histograms (collector_events.h's
 * buckets, which the BPF collector fills, and tools/lib/latency.c): every
 * value lies in its bucket and the bucket's middle within 3.2% of it;
 * percentiles of a histogram within 5% of the exact ones over distributions
 * like the kernel's latencies; intervals (lat_restart) count only what came
 * after.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "../test.h"
#include "collector_events.h"
#include "lib/latency.h"

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static double rnd_unit(void)
{
	return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* buckets ascend with the value; each value's bucket middle is near it */
static void buckets_hold_their_values(void)
{
	const struct hist_shape *shapes[] = { &hist_shape_lat, &hist_shape_life };

	for (int k = 0; k < 2; k++) {
		const struct hist_shape *s = shapes[k];
		double bound = 1.0 / (2 << s->sub_bits) + 1e-9;
		unsigned int last = 0;
		int bad = 0;

		CHECK_EQ(hist_bucket(s, 0), 0);
		CHECK_EQ(hist_bucket(s, (1ull << s->min_shift) - 1), 0);
		CHECK_EQ(hist_bucket(s, 1ull << s->min_shift), 1);
		CHECK_EQ(hist_bucket(s, (1ull << s->max_shift) - 1), s->buckets - 2);
		CHECK_EQ(hist_bucket(s, 1ull << s->max_shift), s->buckets - 1);
		CHECK_EQ(hist_bucket(s, UINT64_MAX), s->buckets - 1);
		for (uint64_t v = 1ull << s->min_shift; v < 1ull << s->max_shift;
		     v += 1 + v / 997) {
			unsigned int b = hist_bucket(s, v);
			double mid = hist_value(s, b);

			bad += b < last || b >= s->buckets - 1 || fabs(mid - v) / v > bound;
			last = b;
		}
		CHECK_EQ(bad, 0);
		/* every bucket's middle is in that bucket */
		for (unsigned int b = 1; b < s->buckets - 1; b++)
			bad += hist_bucket(s, hist_value(s, b)) != b;
		CHECK_EQ(bad, 0);
	}
}

/* the branch-free log2 the BPF programs take, against the compiler's: every bit, its neighbours */
static void log2_is_the_top_bit(void)
{
	int bad = 0;

	for (int b = 0; b < 63; b++) {
		uint64_t p = 1ull << b;
		uint64_t vs[] = { p, p + 1, p | (p - 1), p + (p >> 1), p | (rnd() & (p - 1)) };

		for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
			bad += coll_log2(vs[i]) != 63u - __builtin_clzll(vs[i]);
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t v = (rnd() >> (1 + rnd() % 63)) | 1;

		bad += coll_log2(v) != 63u - __builtin_clzll(v);
	}
	CHECK_EQ(bad, 0);
}

/* a histogram of @n values from @gen against the values kept whole */
static void compare(uint64_t (*gen)(void), int n, const char *what)
{
	uint32_t *dense = calloc(hist_shape_lat.buckets, sizeof(*dense));
	struct lat_set exact = { 0 }, hist = { 0 };
	const double ps[] = { 50, 90, 99, 100 };

	for (int i = 0; i < n; i++) {
		uint64_t v = gen();

		lat_add(&exact, v);
		dense[hist_bucket(&hist_shape_lat, v)]++;
	}
	lat_hist_reset(&hist, &hist_shape_lat);
	CHECK_EQ(lat_hist_add(&hist, dense), 0);
	CHECK_EQ(hist.n, n);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double e = lat_percentile(&exact, ps[i]), h = lat_percentile(&hist, ps[i]);

		CHECK(fabs(h - e) / e <= 0.05, "%s: p%g %.0f ns, exact %.0f ns", what, ps[i], h, e);
	}
	lat_free(&exact);
	lat_free(&hist);
	free(dense);
}

static uint64_t uniform_us(void)		/* 2 to 200 us */
{
	return 2000 + rnd() % 198000;
}

static uint64_t lognormal(void)			/* around 20 us, a long tail */
{
	double u1 = rnd_unit() + 1e-12, u2 = rnd_unit();
	double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);

	return (uint64_t)(20000 * exp(0.8 * z)) + 600;
}

static uint64_t bimodal(void)			/* fast pages, slow CMA migrations */
{
	return rnd() % 10 ? 8000 + rnd() % 4000 : 3000000 + rnd() % 9000000;
}

static uint64_t one_value(void)
{
	return 123457;
}

static void percentiles_within_5_percent(void)
{
	for (int round = 0; round < 20; round++) {
		compare(uniform_us, 1000 + round * 500, "uniform");
		compare(lognormal, 1000 + round * 500, "lognormal");
		compare(bimodal, 1000 + round * 500, "bimodal");
	}
	compare(one_value, 10, "one value");
}

/* the counts at restart are the base: percentiles of what came after only */
static void intervals_count_what_follows(void)
{
	uint32_t *dense = calloc(hist_shape_lat.buckets, sizeof(*dense));
	struct lat_set l = { 0 };

	dense[hist_bucket(&hist_shape_lat, 10000)] = 1000;
	lat_hist_reset(&l, &hist_shape_lat);
	CHECK_EQ(lat_hist_add(&l, dense), 0);
	CHECK_EQ(l.n, 1000);
	CHECK_EQ(lat_count_le(&l, 11000), 1000);
	lat_restart(&l);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(lat_percentile(&l, 50), 0);
	/* the kernel's counts grow: 10 more slow ones */
	dense[hist_bucket(&hist_shape_lat, 5000000)] = 10;
	lat_hist_reset(&l, &hist_shape_lat);
	CHECK_EQ(lat_hist_add(&l, dense), 0);
	CHECK_EQ(l.n, 10);
	CHECK(fabs(lat_percentile(&l, 50) - 5e6) / 5e6 < 0.032, "p50 %llu",
	      (unsigned long long)lat_percentile(&l, 50));
	CHECK_EQ(lat_count_le(&l, 11000), 0);
	/* two aggregates of one cell add up */
	CHECK_EQ(lat_hist_add(&l, dense), 0);
	CHECK_EQ(l.n, 1000 + 20);
	lat_free(&l);
	free(dense);
}

/*
 * Two sets as one (a cgroup made again at a removed one's path): the
 * interval's values of both, whatever buckets each has; values kept whole
 * are put together; a histogram and values are not.
 */
static void merged_sets_hold_both_intervals(void)
{
	uint32_t *dense = calloc(hist_shape_lat.buckets, sizeof(*dense));
	struct lat_set a = { 0 }, b = { 0 }, m = { 0 }, x = { 0 }, y = { 0 }, xy = { 0 }, z = { 0 };

	lat_hist_reset(&a, &hist_shape_lat);
	dense[hist_bucket(&hist_shape_lat, 1000)] = 5;
	dense[hist_bucket(&hist_shape_lat, 80000)] = 5;
	CHECK_EQ(lat_hist_add(&a, dense), 0);
	lat_restart(&a);	/* a's base: those 10 */
	dense[hist_bucket(&hist_shape_lat, 80000)] = 8;	/* 3 more */
	lat_hist_reset(&a, &hist_shape_lat);
	CHECK_EQ(lat_hist_add(&a, dense), 0);
	memset(dense, 0, hist_shape_lat.buckets * sizeof(*dense));
	dense[hist_bucket(&hist_shape_lat, 20000)] = 4;	/* b: a bucket a has not, none before */
	dense[hist_bucket(&hist_shape_lat, 80000)] = 1;
	lat_hist_reset(&b, &hist_shape_lat);
	CHECK_EQ(lat_hist_add(&b, dense), 0);
	CHECK_EQ(lat_merge(&m, &a, &b), 0);
	CHECK_EQ(m.n, 3 + 5);
	CHECK_EQ(lat_count_le(&m, 1100), 0);
	CHECK_EQ(lat_count_le(&m, 21000), 4);
	CHECK_EQ(lat_count_le(&m, 90000), 8);
	CHECK(fabs((double)lat_percentile(&m, 50) - 20000) / 20000 < 0.032, "p50 %llu",
	      (unsigned long long)lat_percentile(&m, 50));
	CHECK_EQ(lat_add(&x, 7), 0);
	CHECK_EQ(lat_add(&x, 3), 0);
	CHECK_EQ(lat_add(&y, 5), 0);
	CHECK_EQ(lat_merge(&xy, &x, &y), 0);
	CHECK_EQ(xy.n, 3);
	CHECK_EQ(lat_percentile(&xy, 50), 5);
	CHECK_EQ(lat_percentile(&xy, 100), 7);
	CHECK_EQ(lat_merge(&z, &a, &x), -EINVAL);
	lat_free(&a);
	lat_free(&b);
	lat_free(&m);
	lat_free(&x);
	lat_free(&y);
	lat_free(&xy);
	free(dense);
}

int main(void)
{
	RUN(log2_is_the_top_bit);
	RUN(buckets_hold_their_values);
	RUN(percentiles_within_5_percent);
	RUN(intervals_count_what_follows);
	RUN(merged_sets_hold_both_intervals);
	return tests_failed ? 1 : 0;
}
