/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each record type holds and how each field is encoded: one table that
 * the writer encodes with and the reader decodes with, so the two cannot
 * disagree (record_layout.c). Inside the record library only.
 */
#ifndef HEAPSTAT_RECORD_LAYOUT_H
#define HEAPSTAT_RECORD_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/*
 * Field encodings, all in LEB128 varints. "The time base" starts at the
 * header's mono_ns; every RF_TIME and RF_ABSTIME field, in file order, moves
 * it to its own value.
 */
enum rec_field_kind {
	RF_U64,		/* uint64_t: varint */
	RF_U32,		/* uint32_t: varint, at most UINT32_MAX */
	RF_I32,		/* int32_t: zigzag varint */
	RF_TIME,	/* uint64_t: zigzag of the difference from the time base */
	RF_ABSTIME,	/* uint64_t: varint, absolute */
	RF_TIME_KEEP,	/* uint64_t: zigzag of the difference from the time base, which stays
			 * where it was (the times of types added after 1.0) */
	RF_REL_U64,	/* uint64_t: zigzag of the difference from the uint64_t at aux */
	RF_REL_U32,	/* uint32_t: the same, from the uint32_t at aux */
	RF_STR,		/* const char *: an id defined by a string record, 0 for "" */
	RF_INLINE_STR,	/* const char *: length, then the bytes (no NUL) */
	RF_PIDS,	/* const uint32_t *, as many as the uint32_t at aux: the count,
			 * then each as RF_REL_U32 from the one before (the first from 0) */
	RF_BLOB,	/* const void *, as long as the uint32_t at aux: length, bytes */
	RF_HEAPS,	/* const struct rec_heap_bytes *, as many as the uint32_t at aux:
			 * the count, then each heap as RF_STR and its bytes as RF_U64 */
	RF_FRAMES,	/* const struct rec_frame *, as many as the uint32_t at aux: framed
			 * as an RF_BLOB (a 1.0 reader skips it as one) holding the count,
			 * then each frame's sym, binary and build_id as RF_STR, offset as
			 * RF_U64 and flags as RF_U32; bytes after the frames are a later
			 * minor's */
};

struct rec_field {
	uint8_t kind;		/* enum rec_field_kind */
	uint16_t off;		/* offsetof() the field in the type's struct */
	uint16_t aux;		/* offsetof() what it is relative to, or its count */
	uint8_t since;		/* the minor that appended it to its type; 0: 1.0's */
};

#define REC_FIELDS_MAX	13

struct rec_layout {
	const char *name;
	bool event;		/* counted in a checkpoint's events */
	uint8_t nfields;
	struct rec_field fields[REC_FIELDS_MAX];
};

/* indexed by enum rec_type; a NULL name: no such type */
extern const struct rec_layout rec_layouts[REC_TYPES];

#endif
