// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the recording reader (make fuzz, scripts/fuzz.sh).
 * Built with -fsanitize=fuzzer,address,undefined: any read out of bounds,
 * leak, undefined behaviour, hang or huge allocation is a finding. Each
 * input is read:
 *
 *  - as it is, from memory and through a file descriptor (read in pieces):
 *    both readers must agree on every record and on where they stopped;
 *  - with every frame's checksum made right first, so that the record
 *    decoders see what random bytes hold instead of stopping at the
 *    checksum; and what that copy reads as is written again with the writer
 *    and read back: the same records, field for field (the format's
 *    encodings round-trip whatever the values).
 *
 * A mismatch aborts, which libFuzzer reports as a crash.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/record.h"
#include "lib/record_codec.h"
#include "lib/record_layout.h"
#include "fix_checksums.h"

#define REQUIRE(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "record_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();						\
		}								\
	} while (0)

static volatile size_t sink;	/* what was read: kept, so every byte is touched */

static void touch(const struct rec *r)
{
	const struct rec_layout *l = &rec_layouts[r->type];
	const char *st = (const char *)&r->string;

	for (unsigned int i = 0; i < l->nfields; i++) {
		const struct rec_field *f = &l->fields[i];
		const void *p = st + f->off;
		uint32_t n = f->kind >= RF_PIDS ? *(const uint32_t *)(st + f->aux) : 0;

		switch (f->kind) {
		case RF_STR:
		case RF_INLINE_STR:
			sink += strlen(*(const char * const *)p);
			break;
		case RF_PIDS:
			for (uint32_t k = 0; k < n; k++)
				sink += (*(const uint32_t * const *)p)[k];
			break;
		case RF_BLOB:
			for (uint32_t k = 0; k < n; k++)
				sink += (*(const uint8_t * const *)p)[k];
			break;
		case RF_HEAPS:
			for (uint32_t k = 0; k < n; k++)
				sink += strlen((*(const struct rec_heap_bytes * const *)p)[k].heap);
			break;
		case RF_FRAMES:
			for (uint32_t k = 0; k < n; k++) {
				const struct rec_frame *fr = *(const struct rec_frame * const *)p;

				sink += strlen(fr[k].sym) + strlen(fr[k].binary) +
					strlen(fr[k].build_id) + fr[k].offset + fr[k].flags;
			}
			break;
		}
	}
}

/* the same fields, by the layout; a checkpoint's and an end's counts are the writer's */
static bool same(const struct rec *a, const struct rec *b)
{
	const struct rec_layout *l = &rec_layouts[a->type];
	const char *x = (const char *)&a->string, *y = (const char *)&b->string;

	if (a->type != b->type)
		return false;
	if (a->type == REC_END)
		return a->end.how == b->end.how && a->end.code == b->end.code;
	for (unsigned int i = 0; i < l->nfields; i++) {
		const struct rec_field *f = &l->fields[i];
		const void *p = x + f->off, *q = y + f->off;
		uint32_t n = 0;

		if (a->type == REC_CHECKPOINT && i > 0 && i < 3)
			continue;
		if (f->kind >= RF_PIDS) {
			n = *(const uint32_t *)(x + f->aux);
			if (n != *(const uint32_t *)(y + f->aux))
				return false;
		}
		switch (f->kind) {
		case RF_U64: case RF_TIME: case RF_ABSTIME: case RF_REL_U64:
			if (*(const uint64_t *)p != *(const uint64_t *)q)
				return false;
			break;
		case RF_U32: case RF_REL_U32: case RF_I32:
			if (*(const uint32_t *)p != *(const uint32_t *)q)
				return false;
			break;
		case RF_STR: case RF_INLINE_STR:
			if (strcmp(*(const char * const *)p, *(const char * const *)q))
				return false;
			break;
		case RF_PIDS:
			if (n && memcmp(*(const uint32_t * const *)p, *(const uint32_t * const *)q,
					n * sizeof(uint32_t)))
				return false;
			break;
		case RF_BLOB:
			if (n && memcmp(*(const void * const *)p, *(const void * const *)q, n))
				return false;
			break;
		case RF_HEAPS: {
			const struct rec_heap_bytes *ha = *(const struct rec_heap_bytes * const *)p;
			const struct rec_heap_bytes *hb = *(const struct rec_heap_bytes * const *)q;

			for (uint32_t k = 0; k < n; k++)
				if (strcmp(ha[k].heap, hb[k].heap) || ha[k].bytes != hb[k].bytes)
					return false;
			break;
		}
		case RF_FRAMES: {
			const struct rec_frame *fa = *(const struct rec_frame * const *)p;
			const struct rec_frame *fb = *(const struct rec_frame * const *)q;

			for (uint32_t k = 0; k < n; k++)
				if (strcmp(fa[k].sym, fb[k].sym) ||
				    strcmp(fa[k].binary, fb[k].binary) ||
				    strcmp(fa[k].build_id, fb[k].build_id) ||
				    fa[k].offset != fb[k].offset || fa[k].flags != fb[k].flags)
					return false;
			break;
		}
		}
	}
	return true;
}

static int memfd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create("record_fuzz", MFD_CLOEXEC);
	REQUIRE(fd >= 0);
	return fd;
}

static int put_file(int fd, const uint8_t *data, size_t size)
{
	REQUIRE(ftruncate(fd, 0) == 0);
	REQUIRE(pwrite(fd, data, size, 0) == (ssize_t)size);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

/* read from memory and from a file: the same records, the same stop */
static void read_both_ways(const uint8_t *data, size_t size)
{
	struct rec_reader *a, *b;
	struct rec ra, rb;
	char why_a[256], why_b[256];
	uint64_t oa, ob;
	int ea, eb;

	ea = rec_reader_open_mem(&a, data, size, why_a, sizeof(why_a));
	eb = rec_reader_fdopen(&b, put_file(memfd(), data, size), why_b, sizeof(why_b));
	REQUIRE(ea == eb);
	if (ea) {
		REQUIRE(!strcmp(why_a, why_b));
		return;
	}
	REQUIRE(!rec_reader_header(a) == !rec_reader_header(b));
	for (;;) {
		int ret_a = rec_next(a, &ra), ret_b = rec_next(b, &rb);

		REQUIRE(ret_a == ret_b);
		REQUIRE(ret_a >= 0);
		if (ret_a != 1)
			break;
		touch(&ra);
		REQUIRE(ra.offset == rb.offset && ra.size == rb.size && same(&ra, &rb));
		REQUIRE(ra.offset + ra.size <= size);
	}
	REQUIRE(rec_reader_truncated(a, &oa) == rec_reader_truncated(b, &ob));
	REQUIRE(oa == ob && oa <= size);
	rec_reader_close(a);
	rec_reader_close(b);
}

/* the wait() status an end record says, when one can say it */
static bool wstatus_of(const struct rec_end *e, int *wstatus)
{
	*wstatus = REC_STATUS_NONE;
	switch (e->how) {
	case REC_END_NONE:
		return e->code == 0;
	case REC_END_EXITED:
		*wstatus = (e->code & 0xff) << 8;
		return e->code >= 0 && e->code <= 0xff;
	case REC_END_SIGNALED:
		*wstatus = e->code & 0x7f;
		return e->code > 0 && e->code < 0x7f;
	}
	return false;
}

/* what @data reads as, written again and read back: the same */
static void rewrite(const uint8_t *data, size_t size)
{
	struct rec_reader *in, *again, *back;
	const struct rec_header *h1, *h2;
	struct rec_writer *w;
	struct rec r, r2 = {};
	bool exact_end = false, ended = false;
	int fd = memfd(), ret, wstatus = REC_STATUS_NONE;
	char why[256];

	if (rec_reader_open_mem(&in, data, size, why, sizeof(why)))
		return;
	if (!rec_reader_header(in)) {
		rec_reader_close(in);
		return;
	}
	REQUIRE(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
	REQUIRE(rec_writer_fdopen(&w, fd, rec_reader_header(in)) == 0);
	while ((ret = rec_next(in, &r)) == 1) {
		if (r.type == REC_END) {
			exact_end = wstatus_of(&r.end, &wstatus);
			break;
		}
		if (r.type != REC_STRING)	/* the writer defines its own */
			REQUIRE(rec_write(w, &r) == 0);
	}
	REQUIRE(ret >= 0);
	REQUIRE(rec_writer_close(w, wstatus) == 0);

	/* the input once more, beside what was written */
	REQUIRE(rec_reader_open_mem(&again, data, size, why, sizeof(why)) == 0);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	REQUIRE(rec_reader_fdopen(&back, fd, why, sizeof(why)) == 0);
	h1 = rec_reader_header(again);
	h2 = rec_reader_header(back);
	REQUIRE(h2);
	REQUIRE(!strcmp(h1->kernel, h2->kernel) && !strcmp(h1->host, h2->host) &&
		!strcmp(h1->command, h2->command));
	/* zero clocks and page size are the writer's to fill in */
	REQUIRE((!h1->mono_ns && !h1->real_ns) ||
		(h1->mono_ns == h2->mono_ns && h1->real_ns == h2->real_ns));
	REQUIRE(!h1->page_size || h1->page_size == h2->page_size);
	for (;;) {
		while ((ret = rec_next(again, &r)) == 1 && r.type == REC_STRING)
			;
		while ((ret == 1) && rec_next(back, &r2) == 1 && r2.type == REC_STRING)
			;
		if (ret != 1)
			break;
		ended = r.type == REC_END;
		if (ended)
			break;
		REQUIRE(same(&r, &r2));
	}
	if (!ended)	/* the rewritten one has its end record still to come */
		while (rec_next(back, &r2) == 1 && r2.type == REC_STRING)
			;
	REQUIRE(r2.type == REC_END);
	if (ended && exact_end)
		REQUIRE(same(&r, &r2));
	REQUIRE(!rec_reader_truncated(back, NULL));
	REQUIRE(rec_next(back, &r2) == 0);
	rec_reader_close(again);
	rec_reader_close(back);
	rec_reader_close(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	read_both_ways(data, size);
	fixed = fix_checksums(data, size);
	read_both_ways(fixed, size);
	rewrite(fixed, size);
	free(fixed);
	return 0;
}
