/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A protobuf wire-format writer, as small as the Perfetto trace needs:
 * varints (wire type 0) and length-delimited strings and nested messages
 * (wire type 2) into a growing buffer. No field we write is sint* or
 * fixed*, so there is no zigzag nor fixed-width encoding here.
 *
 * A nested message's length is only known at its end: pb_begin() notes
 * where its content starts, pb_end() inserts the length there (minimal
 * varint, the content moved along). Out of memory is sticky: the calls
 * after it do nothing and pb->err says so.
 */
#ifndef HEAPSTAT_PB_H
#define HEAPSTAT_PB_H

#include <stddef.h>
#include <stdint.h>

struct pb {
	uint8_t *p;
	size_t n, cap;
	int err;			/* 0 or -ENOMEM */
};

void pb_uint(struct pb *b, uint32_t field, uint64_t v);
/* int32/int64 fields: a negative value is its 64-bit two's complement, 10 bytes */
void pb_int(struct pb *b, uint32_t field, int64_t v);
void pb_bytes(struct pb *b, uint32_t field, const void *s, size_t len);
/* @s must be valid UTF-8 (the reader may refuse the trace otherwise) */
void pb_str(struct pb *b, uint32_t field, const char *s);
/* a nested message: its fields, then pb_end() with what pb_begin() returned */
size_t pb_begin(struct pb *b, uint32_t field);
void pb_end(struct pb *b, size_t start);
void pb_reset(struct pb *b);
void pb_free(struct pb *b);

#endif
