// SPDX-License-Identifier: GPL-2.0
/* The recording format's bytes: CRC32C, varints, buffers (record_codec.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "record_codec.h"

/* the reflected Castagnoli polynomial, 0x1EDC6F41 bit-reversed */
#define CRC32C_POLY	0x82f63b78u

/* crc_table[k][b]: byte b's CRC followed by k zero bytes (slicing by 8) */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* one entry per byte value: eight shifts of the polynomial division */
static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			crc_table[k][i] = crc_table[0][crc_table[k - 1][i] & 0xff] ^
					  (crc_table[k - 1][i] >> 8);
}

/*
 * rec_crc32c_sw() - the CRC32C of @data, continuing @crc (0 to start)
 *
 * Table-driven, eight bytes a step (each byte's contribution shifted by the
 * bytes after it, from its own table), the rest a byte at a time.
 * rec_crc32c(0, "123456789", 9) == 0xe3069283.
 */
uint32_t rec_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = crc ^ (p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
		      crc_table[0][p[7]];
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
/* SSE4.2's crc32 instruction computes exactly CRC32C, eight bytes at a time */
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t c = ~crc, v;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&v, p, sizeof(v));
		c = __builtin_ia32_crc32di(c, v);
	}
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return ~(uint32_t)c;
}
#endif

static uint32_t (*crc_fn)(uint32_t crc, const void *data, size_t len);

static void crc_pick(void)
{
	uint32_t (*fn)(uint32_t, const void *, size_t) = rec_crc32c_sw;

#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		fn = crc32c_sse42;
#endif
	__atomic_store_n(&crc_fn, fn, __ATOMIC_RELEASE);
}

/*
 * rec_crc32c() - rec_crc32c_sw()'s result, with the CPU's instruction where
 * it has one: a recorder checksums every record it writes.
 */
uint32_t rec_crc32c(uint32_t crc, const void *data, size_t len)
{
	uint32_t (*fn)(uint32_t, const void *, size_t) = __atomic_load_n(&crc_fn, __ATOMIC_ACQUIRE);
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (!fn) {
		pthread_once(&once, crc_pick);
		fn = crc_fn;
	}
	return fn(crc, data, len);
}

bool rec_buf_grow(struct rec_buf *b, size_t len)
{
	size_t cap;
	uint8_t *p;

	cap = b->cap ? b->cap : 256;
	while (cap - b->len < len) {
		if (cap > SIZE_MAX / 2) {
			b->err = -ENOMEM;
			return false;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}


void rec_buf_put(struct rec_buf *b, const void *data, size_t len)
{
	if (!len || !rec_buf_room(b, len))
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void rec_buf_le32(struct rec_buf *b, uint32_t v)
{
	if (rec_buf_room(b, 4))
		b->len = rec_put_le32(b->p + b->len, v) - b->p;
}

void rec_buf_free(struct rec_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

size_t rec_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

int rec_varint_peek(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < REC_VARINT_MAX; i++) {
		if (i == len)
			return 0;
		/* the tenth byte holds bit 63 only */
		if (i == REC_VARINT_MAX - 1 && p[i] > 1)
			return -1;
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return -1;
}

uint64_t rec_get_varint(struct rec_cursor *c)
{
	uint64_t v;
	int n;

	if (c->bad)
		return 0;
	n = rec_varint_peek(c->p, c->end - c->p, &v);
	if (n <= 0) {
		c->bad = true;
		return 0;
	}
	c->p += n;
	return v;
}

const uint8_t *rec_get_bytes(struct rec_cursor *c, size_t len)
{
	const uint8_t *p = c->p;

	if (c->bad || (size_t)(c->end - c->p) < len) {
		c->bad = true;
		return NULL;
	}
	c->p += len;
	return p;
}
