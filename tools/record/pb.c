// SPDX-License-Identifier: GPL-2.0
/*
 * The protobuf wire format (protobuf.dev/programming-guides/encoding): each
 * field is a key, (field number << 3 | wire type), as a varint, then its
 * value: a varint, or a varint length and that many bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"

#define WIRE_VARINT	0
#define WIRE_LEN	2
#define VARINT_MAX	10

static int room(struct pb *b, size_t more)
{
	size_t ncap;
	uint8_t *np;

	if (b->err)
		return b->err;
	if (b->n + more <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->n + more)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (!np)
		return b->err = -ENOMEM;
	b->p = np;
	b->cap = ncap;
	return 0;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
}

static void varint(struct pb *b, uint64_t v)
{
	if (room(b, VARINT_MAX))
		return;
	put_varint(b->p + b->n, v);
	b->n += varint_len(v);
}

void pb_uint(struct pb *b, uint32_t field, uint64_t v)
{
	varint(b, (uint64_t)field << 3 | WIRE_VARINT);
	varint(b, v);
}

void pb_int(struct pb *b, uint32_t field, int64_t v)
{
	pb_uint(b, field, (uint64_t)v);
}

void pb_bytes(struct pb *b, uint32_t field, const void *s, size_t len)
{
	varint(b, (uint64_t)field << 3 | WIRE_LEN);
	varint(b, len);
	if (room(b, len))
		return;
	memcpy(b->p + b->n, s, len);
	b->n += len;
}

void pb_str(struct pb *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

size_t pb_begin(struct pb *b, uint32_t field)
{
	varint(b, (uint64_t)field << 3 | WIRE_LEN);
	return b->n;
}

void pb_end(struct pb *b, size_t start)
{
	size_t len, vlen;

	if (b->err)
		return;
	len = b->n - start;
	vlen = varint_len(len);
	if (room(b, vlen))
		return;
	memmove(b->p + start + vlen, b->p + start, len);
	put_varint(b->p + start, len);
	b->n += vlen;
}

void pb_reset(struct pb *b)
{
	b->n = 0;
}

void pb_free(struct pb *b)
{
	free(b->p);
	*b = (struct pb){};
}
