/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bytes of the recording format, inside the record library only (and its
 * tests): CRC32C, LEB128 varints, zigzag, a growing output buffer and a
 * bounded input cursor. See record.h for the API.
 */
#ifndef HEAPSTAT_RECORD_CODEC_H
#define HEAPSTAT_RECORD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_VARINT_MAX	10	/* bytes of a 64-bit LEB128 */
#define REC_CRC_LEN	4

/* CRC32C (Castagnoli), reflected, as iSCSI and ext4: start with crc 0 */
uint32_t rec_crc32c(uint32_t crc, const void *data, size_t len);
/* the same from tables, whatever the CPU has (what rec_crc32c() is tested against) */
uint32_t rec_crc32c_sw(uint32_t crc, const void *data, size_t len);

/* signed differences as small unsigned numbers: 0, -1, 1, -2 -> 0, 1, 2, 3 */
static inline uint64_t rec_zigzag(uint64_t d)
{
	return (d << 1) ^ (0 - (d >> 63));
}

static inline uint64_t rec_unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

/* output: grows as needed; a failed allocation sticks in err */
struct rec_buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

/* room for len more bytes: false (and err set) when it cannot be made */
bool rec_buf_grow(struct rec_buf *b, size_t len);

static inline bool rec_buf_room(struct rec_buf *b, size_t len)
{
	if (b->err)
		return false;
	return b->cap - b->len >= len || rec_buf_grow(b, len);
}

void rec_buf_put(struct rec_buf *b, const void *data, size_t len);

/*
 * LEB128: seven bits a byte, low bits first, the top bit set on all but the
 * last. At @p, which has room for REC_VARINT_MAX bytes; returns the byte
 * after it. A recorder writes about ten of these an event: callers make room
 * for a record's fixed fields once and write them with this.
 */
static inline uint8_t *rec_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	*p++ = v;
	return p;
}

static inline void rec_buf_varint(struct rec_buf *b, uint64_t v)
{
	if (rec_buf_room(b, REC_VARINT_MAX))
		b->len = rec_put_varint(b->p + b->len, v) - b->p;
}

static inline uint8_t *rec_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
	return p + 4;
}

void rec_buf_le32(struct rec_buf *b, uint32_t v);
void rec_buf_free(struct rec_buf *b);
size_t rec_varint_len(uint64_t v);

/* input: never past end; a varint or read that would go past sets bad */
struct rec_cursor {
	const uint8_t *p, *end;
	bool bad;
};

uint64_t rec_get_varint(struct rec_cursor *c);
const uint8_t *rec_get_bytes(struct rec_cursor *c, size_t len);

/*
 * A varint from @p, at most @len bytes: its length, 0 when @len ends inside
 * it, -1 when it runs past 10 bytes or 64 bits.
 */
int rec_varint_peek(const uint8_t *p, size_t len, uint64_t *v);

static inline uint32_t rec_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
