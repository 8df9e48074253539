/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzers' one way past the recording's checksums (record_fuzz.c,
 * analyze_fuzz.c): random bytes would stop every reader at the first frame.
 */
#ifndef HEAPSTAT_FIX_CHECKSUMS_H
#define HEAPSTAT_FIX_CHECKSUMS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/record.h"
#include "lib/record_codec.h"

/* @data with every whole frame's checksum recomputed, as a writer would have */
static inline uint8_t *fix_checksums(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	size_t at = REC_PREAMBLE_LEN;
	uint32_t seed;

	memcpy(p, data, size);
	if (size < REC_PREAMBLE_LEN)
		return p;
	seed = rec_crc32c(0, p, REC_PREAMBLE_LEN);
	while (at < size) {
		uint64_t type, len;
		int n = rec_varint_peek(p + at, size - at, &type), m;

		if (n <= 0)
			break;
		m = rec_varint_peek(p + at + n, size - at - n, &len);
		if (m <= 0 || len > size - at - n - m || size - at - n - m - len < REC_CRC_LEN)
			break;
		len += n + m;
		seed = rec_crc32c(seed, p + at, len);
		p[at + len] = seed;
		p[at + len + 1] = seed >> 8;
		p[at + len + 2] = seed >> 16;
		p[at + len + 3] = seed >> 24;
		at += len + REC_CRC_LEN;
		seed = 0;
	}
	return p;
}

#endif
