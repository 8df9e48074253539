/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_UTIL_H
#define HEAPSTAT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_size(const char *s, uint64_t *out);
int parse_interval_ms(const char *s, uint64_t *out);
int parse_interval_or_zero_ms(const char *s, uint64_t *out);
/* -d's refusal, alike in every command: printf's format of the argument */
#define DURATION_REFUSED	"invalid duration '%s': give seconds from 0.001 to 86400, " \
				"to the millisecond, e.g. 10 or 0.5"
size_t format_u64(uint64_t v, char *buf, size_t len);
const char *format_size(uint64_t bytes, char *buf, size_t len);
const char *fit_number(const char *num, size_t width, char *buf, size_t len);
const char *format_ns(uint64_t ns, char *buf, size_t len);
uint64_t now_ns(void);
#define FNV1A_SEED	0xcbf29ce484222325ull
uint64_t fnv1a(uint64_t h, const void *p, size_t len);
int64_t real_minus_mono_ns(void);
int write_all(int fd, const void *buf, size_t n);
/* @src up to its NUL or @max bytes into @dst (max + 1 bytes), NUL-terminated: snprintf's "%.*s" */
char *copy_bounded(char *dst, const char *src, size_t max);
/* strings and small things kept together, freed at once */
struct arena {
	struct arena_chunk *head;
};

void *arena_alloc(struct arena *a, size_t len);
const char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

int grow_array_full(void **v, size_t *cap, size_t size);
int reserve_array(void **v, size_t *cap, size_t want, size_t size);

/*
 * Room for element n of an array of *cap elements, doubling it when full:
 * inline, since the inventory calls it for each of 100k records.
 */
static inline int grow_array(void **v, size_t *cap, size_t n, size_t size)
{
	return n < *cap ? 0 : grow_array_full(v, cap, size);
}

/* @n elements of @size from @from to @to; either may be NULL when @n is 0 (memcpy()'s may not) */
static inline void copy_array(void *to, const void *from, size_t n, size_t size)
{
	if (n)
		memcpy(to, from, n * size);
}

/* a + b, or UINT64_MAX where that wraps: sums of what a crafted file may say */
static inline uint64_t add_sat(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

void sort_ordered(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void sort_by_u64(void *base, size_t n, size_t size, size_t key_off);
int cmp_u64(const void *a, const void *b);
int cmp_u32(const void *a, const void *b);
int cmp_pid(const void *a, const void *b);	/* pid_t */

#endif
