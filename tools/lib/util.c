// SPDX-License-Identifier: GPL-2.0
/* Number parsing and formatting shared by heapstat's subcommands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>

#include "util.h"

/* A whole decimal number in [min, max]; -EINVAL or -ERANGE otherwise. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull() would take leading white space and a sign */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Bytes, with an optional K, M or G suffix, either case (powers of 1024; Ki, KiB alike), not KB. */
int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	/* strtoull() would take leading white space and a sign */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default:
		return -EINVAL;
	}
	/* Ki or KiB (Kubernetes', IEC's), KI and KIB too; not KB, which may mean
	 * 1000, nor Kib (a b is a bit) */
	if ((*end == 'i' || *end == 'I') && shift)
		end += end[1] == 'B' ? 2 : 1;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * Seconds to the millisecond ("1", "0.5", "1.0000": zeros after the third
 * decimal), as milliseconds: 1 ms to a day.
 */
int parse_interval_ms(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0;
	unsigned int digits = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (*p == '.' && !p[1])
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > 86400)
			return -ERANGE;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (++digits > 3 && *p != '0')
				return -EINVAL;		/* finer than a millisecond */
			if (digits <= 3)
				frac = frac * 10 + (*p - '0');
		}
		while (digits++ < 3)
			frac *= 10;
	}
	if (*p || p == s)
		return -EINVAL;
	if (whole * 1000 + frac == 0 || whole * 1000 + frac > 86400000)
		return -ERANGE;
	*out = whole * 1000 + frac;
	return 0;
}

/* FNV-1a of @len bytes at @p, from @h (FNV1A_SEED, or a hash to go on from) */
uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* the same, or 0 ("0", "0.0", "00"): a period of none */
int parse_interval_or_zero_ms(const char *s, uint64_t *out)
{
	int err = parse_interval_ms(s, out);

	if (err == -ERANGE && strspn(s, "0.") == strlen(s)) {
		*out = 0;
		return 0;
	}
	return err;
}

/* "0", "512", "4.0K", "1.5M", "12.3G": binary units, one decimal. */
/*
 * @v in decimal at @buf, which has room for @len bytes (21 hold any), ended
 * by a NUL; the length written. No printf: tables of a thousand rows a
 * second notice it.
 */
size_t format_u64(uint64_t v, char *buf, size_t len)
{
	char tmp[20];
	size_t digits = 0, n, k;

	do {
		tmp[digits++] = '0' + v % 10;
		v /= 10;
	} while (v);
	if (!len)
		return 0;
	n = digits < len - 1 ? digits : len - 1;
	for (k = 0; k < n; k++)
		buf[k] = tmp[digits - 1 - k];
	buf[n] = '\0';
	return n;
}

const char *format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	unsigned __int128 unit = 1024, tenths, rest;
	int u = 0;

	size_t n;

	if (bytes < 1024) {
		format_u64(bytes, buf, len);
		return buf;
	}
	while (bytes / unit >= 1024 && u < (int)sizeof(units) - 2) {
		unit *= 1024;
		u++;
	}
	/* tenths of the unit, rounded half to even as printf's %.1f does;
	 * in integers, which tables of a thousand rows a second notice. One
	 * that rounds up to 1024.0 is 1.0 of the next unit */
	for (;;) {
		tenths = (unsigned __int128)bytes * 10 / unit;
		rest = (unsigned __int128)bytes * 10 % unit;
		if (rest * 2 > unit || (rest * 2 == unit && (tenths & 1)))
			tenths++;
		if (tenths < 10240 || u == (int)sizeof(units) - 2)
			break;
		unit *= 1024;
		u++;
	}
	n = format_u64(tenths / 10, buf, len);
	if (n + 4 <= len) {
		buf[n++] = '.';
		buf[n++] = '0' + tenths % 10;
		buf[n++] = units[u];
		buf[n] = '\0';
	}
	return buf;
}

/*
 * A number too wide for its right-aligned column of @width: without its
 * tenth, else in thousands, millions, ... (k M G T P E, a tenth where it
 * fits), as htop's columns do; a '>' before it kept. @num itself when it
 * fits or is no number (digits, a '.' and digits after).
 */
const char *fit_number(const char *num, size_t width, char *buf, size_t len)
{
	static const char units[] = "kMGTPE";
	int pre = *num == '>', n;
	const char *p = num + pre;
	size_t digits = strspn(p, "0123456789");
	double v;

	if (strlen(num) <= width || !digits ||
	    (p[digits] && (p[digits] != '.' || p[digits + 1 + strspn(p + digits + 1, "0123456789")])))
		return num;
	v = strtod(p, NULL);
	n = snprintf(buf, len, "%.*s%.0f", pre, num, v);
	for (int u = 0; (n < 0 || (size_t)n > width) && u < (int)sizeof(units) - 1; u++) {
		v /= 1000;
		n = snprintf(buf, len, "%.*s%.1f%c", pre, num, v, units[u]);
		if (n >= 0 && (size_t)n > width)
			n = snprintf(buf, len, "%.*s%.0f%c", pre, num, v, units[u]);
	}
	return buf;
}

/* qsort() and bsearch() comparisons of two values */
int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * CLOCK_REALTIME less CLOCK_MONOTONIC now, in ns: what turns a BPF time
 * (bpf_ktime_get_ns()) into the wall clock. A reading of one clock between
 * two of the other, the closest pair of four kept: one preempted between
 * its two calls (a loaded machine, a descheduled vCPU) would be off by as
 * long as it waited, and two readers of one event print two times.
 */
int64_t real_minus_mono_ns(void)
{
	int64_t best = 0;
	uint64_t gap = UINT64_MAX;

	for (int i = 0; i < 4; i++) {
		struct timespec real;
		uint64_t m1 = now_ns(), m2;

		clock_gettime(CLOCK_REALTIME, &real);
		m2 = now_ns();
		if (m2 - m1 < gap) {
			gap = m2 - m1;
			best = (int64_t)((uint64_t)real.tv_sec * 1000000000ull + real.tv_nsec -
					 (m1 + gap / 2));
		}
	}
	return best;
}

/* @n bytes of @buf to @fd, through short writes and signals: 0 or -errno */
int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (!w)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * qsort(), in O(n) when the array is already in order or in the reverse
 * order, as the kernel's iterators give their records; an empty array may
 * be NULL (qsort() must not be given one).
 */
void sort_ordered(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *v = base;
	size_t i;

	for (i = 1; i < n && cmp(v + (i - 1) * size, v + i * size) <= 0; i++)
		;
	if (i >= n)
		return;
	for (i = 1; i < n && cmp(v + (i - 1) * size, v + i * size) > 0; i++)
		;
	if (i < n) {
		qsort(base, n, size, cmp);
		return;
	}
	for (size_t lo = 0, hi = n - 1; lo < hi; lo++, hi--)
		for (size_t k = 0; k < size; k++) {
			char t = v[lo * size + k];

			v[lo * size + k] = v[hi * size + k];
			v[hi * size + k] = t;
		}
}

/* room for @want elements at once (not by doubling: each doubling in the heap copies) */
int reserve_array(void **v, size_t *cap, size_t want, size_t size)
{
	void *nv;

	if (want <= *cap)
		return 0;
	nv = realloc(*v, want * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = want;
	return 0;
}

/* grow_array()'s doubling, of an array that is full */
int grow_array_full(void **v, size_t *cap, size_t size)
{
	return reserve_array(v, cap, *cap ? *cap * 2 : 64, size);
}

/*
 * sort_by_u64() - sort records by a u64 field, stably, in O(n)
 * @key_off: offsetof() the field
 *
 * For the inventory's 100k-record arrays, where qsort's comparisons cost
 * more than everything else done per buffer. Keys already in order are left
 * as they are, keys strictly descending reversed; keys almost in order or
 * almost reversed (few steps the other way) sorted by insertion, as (key,
 * index) pairs; others by a radix sort of the pairs, 16 bits a pass (8 for
 * fewer than 65536 records), passes whose digit every key shares skipped.
 * Then the records are moved along the cycles of the permutation, in place.
 * Falls back to qsort() without memory for the pairs.
 */
struct key_idx {
	uint64_t key;
	size_t idx;
};

static int cmp_u64_at(const void *a, const void *b, void *key_off)
{
	uint64_t x, y;

	memcpy(&x, (const char *)a + (size_t)key_off, sizeof(x));
	memcpy(&y, (const char *)b + (size_t)key_off, sizeof(y));
	return (x > y) - (x < y);
}

/*
 * Insertion sort of pairs by (key, index), which keeps equal keys in their
 * first order: false when it would move pairs more than @budget times.
 */
static bool insert_sorted(struct key_idx *a, size_t n, size_t budget)
{
	for (size_t i = 1; i < n; i++) {
		struct key_idx x = a[i];
		size_t j = i;

		while (j && (a[j - 1].key > x.key || (a[j - 1].key == x.key && a[j - 1].idx > x.idx))) {
			if (!budget--)
				return false;
			a[j] = a[j - 1];
			j--;
		}
		a[j] = x;
	}
	return true;
}

/* always inlined: a constant @size makes each record's move a few instructions, not a call */
static inline __attribute__((always_inline))
void sort_records(void *base, size_t n, size_t size, size_t key_off)
{
	struct key_idx *a, *b = NULL, *t;
	uint64_t key, prev = 0, max = 0;
	size_t *count = NULL, ups = 0, downs = 0;
	char *v = base, *save;
	bool done = false;
	/* a digit's counts are cleared and summed each pass: small for few records */
	unsigned int bits = n < 65536 ? 8 : 16;
	size_t radix = (size_t)1 << bits;

	for (size_t i = 0; i < n; i++) {
		memcpy(&key, v + i * size + key_off, sizeof(key));
		ups += i && key > prev;
		downs += i && key < prev;
		prev = key;
		max |= key;
	}
	if (!downs)
		return;
	/* newest first, as the kernel lists its dma-bufs: no two keys equal, so reversed is stable */
	if (downs == n - 1 && (save = malloc(size))) {
		for (size_t i = 0, j = n - 1; i < j; i++, j--) {
			memcpy(save, v + i * size, size);
			memcpy(v + i * size, v + j * size, size);
			memcpy(v + j * size, save, size);
		}
		free(save);
		return;
	}
	a = malloc(n * sizeof(*a));
	save = malloc(size);
	if (!a || !save)
		goto no_memory;
	/*
	 * Almost in order, or almost reversed (the kernel's newest first, two
	 * CPUs exporting at once): the pairs in that order, sorted by insertion
	 * while that moves few of them.
	 */
	if (downs <= n / 64 || ups <= n / 64) {
		for (size_t i = 0; i < n; i++) {
			size_t j = downs <= n / 64 ? i : n - 1 - i;

			memcpy(&a[i].key, v + j * size + key_off, sizeof(a[i].key));
			a[i].idx = j;
		}
		done = insert_sorted(a, n, 8 * n);
	}
	if (!done) {
		b = malloc(n * sizeof(*b));
		count = malloc(radix * sizeof(*count));
		if (!b || !count)
			goto no_memory;
		for (size_t i = 0; i < n; i++) {
			memcpy(&a[i].key, v + i * size + key_off, sizeof(a[i].key));
			a[i].idx = i;
		}
	}
	for (unsigned int shift = 0; !done && shift < 64 && max >> shift; shift += bits) {
		size_t sum = 0;

		memset(count, 0, radix * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(a[i].key >> shift) & (radix - 1)]++;
		if (count[(a[0].key >> shift) & (radix - 1)] == n)
			continue;
		for (size_t d = 0; d < radix; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[(a[i].key >> shift) & (radix - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	/* record a[i].idx goes to i: follow each cycle once */
	for (size_t i = 0; i < n; i++) {
		size_t j = i, k;

		if (a[i].idx == i)
			continue;
		memcpy(save, v + i * size, size);
		while ((k = a[j].idx) != i) {
			memcpy(v + j * size, v + k * size, size);
			a[j].idx = j;
			j = k;
		}
		memcpy(v + j * size, save, size);
		a[j].idx = j;
	}
	free(a);
	free(b);
	free(count);
	free(save);
	return;
no_memory:	/* no memory for the pairs: compare the records, slower */
	free(a);
	free(b);
	free(count);
	free(save);
	qsort_r(base, n, size, cmp_u64_at, (void *)key_off);
}

void sort_by_u64(void *base, size_t n, size_t size, size_t key_off)
{
	/* the inventory's buffers (struct inv_buf, whose comment says so): moved inline */
	if (size == 64)
		sort_records(base, n, 64, key_off);
	else
		sort_records(base, n, size, key_off);
}

/* A duration, human-readable: "850ns", "19.5us", "2.1ms", "4.2s", "3.5m", "2.0h". */
const char *format_ns(uint64_t ns, char *buf, size_t len)
{
	static const struct { uint64_t ns; const char *unit; } units[] = {
		{ 3600000000000ull, "h" }, { 60000000000ull, "m" }, { 1000000000ull, "s" },
		{ 1000000ull, "ms" }, { 1000ull, "us" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns >= units[i].ns) {
			/* one that rounds up to 1000.0us or 60.0s is 1.0 of the next unit */
			if (i && (double)ns / units[i].ns >= (double)units[i - 1].ns / units[i].ns - 0.05)
				i--;
			snprintf(buf, len, "%.1f%s", (double)ns / units[i].ns, units[i].unit);
			return buf;
		}
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

/* @len bytes (not aligned: for strings) that live until arena_free() */
void *arena_alloc(struct arena *a, size_t len)
{
	struct arena_chunk *c = a->head;

	if (!c || c->size - c->used < len) {
		size_t size = len > 16384 ? len : 16384;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->size = size;
		a->head = c;
	}
	c->used += len;
	return c->data + c->used - len;
}

const char *arena_strdup(struct arena *a, const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = arena_alloc(a, len);

	return d ? memcpy(d, s, len) : NULL;
}

void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

char *copy_bounded(char *dst, const char *src, size_t max)
{
	const char *nul = memchr(src, '\0', max);
	size_t n = nul ? (size_t)(nul - src) : max;

	memcpy(dst, src, n);
	dst[n] = '\0';
	return dst;
}
