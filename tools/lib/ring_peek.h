/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Read a BPF ring buffer without consuming it: a second reader beside its
 * consumer (libbpf's ring_buffer, which advances the consumer position).
 * The ring is mapped read only and walked from our own position up to the
 * producer's; the consumer's position is never written, so the consumer
 * sees every record as if we were not there. What the producer wrote over
 * before we read it (the consumer moved on and the ring wrapped) is skipped
 * and counted. Returns 0 or a negative errno.
 */
#ifndef HEAPSTAT_RING_PEEK_H
#define HEAPSTAT_RING_PEEK_H

#include <stddef.h>
#include <stdint.h>

struct ring_peek {
	void *map;			/* consumer and producer pages, data mapped twice */
	size_t map_len, size;		/* size: the data's, a power of 2 */
	unsigned long pos;		/* the next record to read */
	uint64_t overrun;		/* times records were written over unread */
};

/* map the ring buffer map fd; start at the consumer's position: every record still kept */
int ring_peek_open(struct ring_peek *p, int map_fd);
/*
 * Call cb for each whole record from our position to the producer's; stop
 * at a record still being written (the next call takes it). The number of
 * records, or cb's negative return.
 */
int ring_peek_read(struct ring_peek *p, int (*cb)(const void *data, size_t len, void *ctx),
		   void *ctx);
void ring_peek_close(struct ring_peek *p);

#endif
