// SPDX-License-Identifier: GPL-2.0
/*
 * The recording reader (record.h). A record is given out only once all of
 * it is read and its checksum matches; the first that is torn (the file ends
 * inside it), damaged (its checksum differs) or malformed (a good checksum
 * over what no writer writes) stops the reading there, and the file counts
 * as truncated at that record's offset. Nothing in a file makes the reader
 * read past it or allocate much more than it holds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "record_codec.h"
#include "record_layout.h"
#include "util.h"

#define READ_CHUNK	(64u << 10)

struct rec_reader {
	int fd;			/* -1: reading memory */
	bool own_fd;
	const uint8_t *buf;	/* buf[0] is at file offset base */
	uint8_t *own;		/* buf, when reading a file */
	size_t len, pos, cap;	/* bytes in buf, bytes of them consumed, own's size */
	uint64_t base;
	bool eof;
	int err;		/* a read that failed: every later call returns it */
	bool header_ok;
	bool ended;		/* the end record was read */
	bool stopped;		/* at a torn or damaged record, or a missing end */
	uint64_t stop_at;
	char damage[160];
	struct rec_header header;
	uint64_t time_base;
	struct arena strings;	/* every string read, until rec_reader_close() */
	const char **strs;	/* string id - 1 -> string */
	size_t nstrs, strs_cap;
	void *tmp[REC_FIELDS_MAX];	/* the last record's arrays */
	struct rec_stats st;
};

static void __attribute__((format(printf, 3, 4)))
stop(struct rec_reader *r, uint64_t at, const char *fmt, ...)
{
	va_list ap;

	r->stopped = true;
	r->stop_at = at;
	va_start(ap, fmt);
	vsnprintf(r->damage, sizeof(r->damage), fmt, ap);
	va_end(ap);
}

/* make @n bytes from pos on readable in buf, fewer only at the end of the file */
static int fill(struct rec_reader *r, size_t n)
{
	if (r->len - r->pos >= n || r->eof)
		return 0;
	if (r->pos) {
		memmove(r->own, r->own + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len < n && !r->eof) {
		ssize_t got;

		/* grows with what was read, not with what a length claims */
		if (r->len == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;
			uint8_t *p = realloc(r->own, cap);

			if (!p)
				return -ENOMEM;
			r->own = p;
			r->buf = p;
			r->cap = cap;
		}
		got = read(r->fd, r->own + r->len, r->cap - r->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			r->eof = true;
		r->len += got;
	}
	return 0;
}

/* read failed: say what, once, and keep the error */
static int read_failed(struct rec_reader *r, int err)
{
	r->err = err;
	snprintf(r->damage, sizeof(r->damage), "read failed: %s", strerror(-err));
	return err;
}

/* "a" or "an", before a record type's name ("an fd") */
static const char *article(const char *name)
{
	return strchr("aeiouf", name[0]) && name[0] ? "an" : "a";
}

/*
 * The frame at pos: 1 and its type, body and size when it is whole and its
 * CRC32C (continuing @seed) matches; 0 when it is not (stopped, at its
 * offset); -errno when reading failed.
 */
static int read_frame(struct rec_reader *r, uint32_t seed, uint64_t *type,
		      struct rec_cursor *body, size_t *size)
{
	uint64_t at = r->base + r->pos, len;
	const uint8_t *p;
	size_t avail, total;
	int n, m, err;

	err = fill(r, 2 * REC_VARINT_MAX);
	if (err)
		return err;
	p = r->buf + r->pos;
	avail = r->len - r->pos;
	if (!avail) {
		stop(r, at, "the recording has no end record: its recorder did not finish");
		return 0;
	}
	n = rec_varint_peek(p, avail, type);
	m = n > 0 ? rec_varint_peek(p + n, avail - n, &len) : n;
	if (n == 0 || m == 0) {
		stop(r, at, "the file ends inside a record's frame");
		return 0;
	}
	if (n < 0 || m < 0 || *type == 0) {
		stop(r, at, "a damaged record frame");
		return 0;
	}
	if (len > REC_MAX_BODY) {
		stop(r, at, "a record of %" PRIu64 " bytes, more than a record may have", len);
		return 0;
	}
	total = n + m + len + REC_CRC_LEN;
	err = fill(r, total);
	if (err)
		return err;
	p = r->buf + r->pos;
	if (r->len - r->pos < total) {
		stop(r, at, "the file ends inside a record of %zu bytes", total);
		return 0;
	}
	if (rec_crc32c(seed, p, total - REC_CRC_LEN) != rec_le32(p + total - REC_CRC_LEN)) {
		stop(r, at, "%s %s record of %zu bytes whose checksum does not match",
		     article(rec_type_name(*type)), rec_type_name(*type), total);
		return 0;
	}
	body->p = p + n + m;
	body->end = body->p + len;
	body->bad = false;
	*size = total;
	return 1;
}

static const char *get_inline_str(struct rec_reader *r, struct rec_cursor *c, const char **bad)
{
	uint64_t len = rec_get_varint(c);
	const uint8_t *s;
	char *copy;

	if (len > REC_MAX_STR) {
		*bad = "a string longer than strings may be";
		return NULL;
	}
	s = rec_get_bytes(c, len);
	if (!s)
		return NULL;
	if (!len)
		return "";
	if (memchr(s, 0, len)) {
		*bad = "a string with a NUL byte";
		return NULL;
	}
	copy = arena_alloc(&r->strings, len + 1);
	if (!copy) {
		*bad = "no memory for a string";
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

static const char *get_str(struct rec_reader *r, struct rec_cursor *c, const char **bad)
{
	uint64_t id = rec_get_varint(c);

	if (c->bad)
		return NULL;
	if (id > r->nstrs) {
		*bad = "a string id that no string record defined";
		return NULL;
	}
	return id ? r->strs[id - 1] : "";
}

/* an array of @n elements of @size for this record: freed at the next */
static void *tmp_alloc(struct rec_reader *r, unsigned int field, size_t n, size_t size)
{
	return r->tmp[field] = malloc(n ? n * size : 1);
}

/* RF_FRAMES: a blob holding the count and the frames; NULL and *bad, or c->bad, when wrong */
static struct rec_frame *get_frames(struct rec_reader *r, unsigned int field,
				    struct rec_cursor *c, uint32_t *n, const char **bad)
{
	uint64_t len = rec_get_varint(c), count;
	struct rec_cursor in;
	struct rec_frame *fr;

	in.p = len <= (uint64_t)(c->end - c->p) ? rec_get_bytes(c, len) : NULL;
	if (!in.p) {
		c->bad = true;
		return NULL;
	}
	in.end = in.p + len;
	in.bad = false;
	count = rec_get_varint(&in);
	/* five bytes a frame at least: no list longer than the blob */
	if (in.bad || count > (uint64_t)(in.end - in.p) / 5) {
		*bad = "a stack with more frames than it has bytes";
		return NULL;
	}
	fr = tmp_alloc(r, field, count, sizeof(*fr));
	if (!fr) {
		*bad = "no memory for a stack";
		return NULL;
	}
	for (uint64_t k = 0; k < count && !*bad && !in.bad; k++) {
		uint64_t flags;

		fr[k].sym = get_str(r, &in, bad);
		fr[k].binary = *bad ? NULL : get_str(r, &in, bad);
		fr[k].build_id = *bad ? NULL : get_str(r, &in, bad);
		fr[k].offset = rec_get_varint(&in);
		flags = rec_get_varint(&in);
		if (flags > UINT32_MAX)
			*bad = "a 32-bit field out of range";
		fr[k].flags = flags;
	}
	if (!*bad && in.bad)
		*bad = "a stack's frames run past their end";
	*n = count;
	return *bad ? NULL : fr;
}

/*
 * The fields of a @type record into @st (its struct, zeroed): NULL, or what
 * is wrong with them. Bytes after the fields this version knows are a later
 * minor's: ignored; a field a later minor appended may be missing at the end.
 */
static const char *decode(struct rec_reader *r, unsigned int type, struct rec_cursor *c, void *st)
{
	const struct rec_layout *l = &rec_layouts[type];
	const char *bad = NULL;
	char *base_p = st;

	for (unsigned int i = 0; i < l->nfields && !c->bad && !bad; i++) {
		const struct rec_field *f = &l->fields[i];
		void *p = base_p + f->off, *aux = base_p + f->aux;
		uint64_t v, d, n, prev = 0;

		/* an earlier minor's record ends before the fields appended since: 0, "" */
		if (f->since && c->p == c->end) {
			if (f->kind == RF_STR)
				*(const char **)p = "";
			continue;
		}
		switch (f->kind) {
		case RF_U64:
			*(uint64_t *)p = rec_get_varint(c);
			break;
		case RF_U32:
			v = rec_get_varint(c);
			if (v > UINT32_MAX)
				bad = "a 32-bit field out of range";
			*(uint32_t *)p = v;
			break;
		case RF_I32:
			d = rec_unzigzag(rec_get_varint(c));
			if (d + 0x80000000ull > 0xffffffffull)
				bad = "a 32-bit field out of range";
			*(int32_t *)p = (int32_t)(uint32_t)d;
			break;
		case RF_TIME:
			r->time_base += rec_unzigzag(rec_get_varint(c));
			*(uint64_t *)p = r->time_base;
			break;
		case RF_ABSTIME:
			r->time_base = rec_get_varint(c);
			*(uint64_t *)p = r->time_base;
			break;
		case RF_TIME_KEEP:
			*(uint64_t *)p = r->time_base + rec_unzigzag(rec_get_varint(c));
			break;
		case RF_REL_U64:
			*(uint64_t *)p = *(uint64_t *)aux + rec_unzigzag(rec_get_varint(c));
			break;
		case RF_REL_U32:
			v = *(uint32_t *)aux + rec_unzigzag(rec_get_varint(c));
			if (v > UINT32_MAX)
				bad = "a 32-bit field out of range";
			*(uint32_t *)p = v;
			break;
		case RF_STR:
			*(const char **)p = get_str(r, c, &bad);
			break;
		case RF_INLINE_STR:
			*(const char **)p = get_inline_str(r, c, &bad);
			break;
		case RF_PIDS: {
			uint32_t *pids;

			n = rec_get_varint(c);
			/* a byte each at least: no list longer than the record */
			if (c->bad || n > (uint64_t)(c->end - c->p)) {
				c->bad = true;
				break;
			}
			pids = tmp_alloc(r, i, n, sizeof(*pids));
			if (!pids) {
				bad = "no memory for a list of pids";
				break;
			}
			for (uint64_t k = 0; k < n && !bad; k++) {
				prev += rec_unzigzag(rec_get_varint(c));
				if (prev > UINT32_MAX)
					bad = "a pid out of range";
				pids[k] = prev;
			}
			*(uint32_t *)aux = n;
			*(const uint32_t **)p = pids;
			break;
		}
		case RF_BLOB:
			n = rec_get_varint(c);
			*(const uint8_t **)p = n <= UINT32_MAX ? rec_get_bytes(c, n) : NULL;
			if (n > UINT32_MAX)
				c->bad = true;
			*(uint32_t *)aux = n;
			break;
		case RF_HEAPS: {
			struct rec_heap_bytes *h;

			n = rec_get_varint(c);
			/* two bytes each at least */
			if (c->bad || n > (uint64_t)(c->end - c->p) / 2) {
				c->bad = true;
				break;
			}
			h = tmp_alloc(r, i, n, sizeof(*h));
			if (!h) {
				bad = "no memory for a list of heaps";
				break;
			}
			for (uint64_t k = 0; k < n && !bad; k++) {
				h[k].heap = get_str(r, c, &bad);
				h[k].bytes = rec_get_varint(c);
			}
			*(uint32_t *)aux = n;
			*(const struct rec_heap_bytes **)p = h;
			break;
		}
		case RF_FRAMES:
			*(const struct rec_frame **)p = get_frames(r, i, c, (uint32_t *)aux, &bad);
			break;
		}
	}
	if (!bad && c->bad)
		bad = "its fields run past its end";
	return bad;
}

static int add_string(struct rec_reader *r, const struct rec_string *s)
{
	int err;

	if (s->id != r->nstrs + 1)
		return -EBADMSG;
	err = grow_array((void **)&r->strs, &r->strs_cap, r->nstrs, sizeof(*r->strs));
	if (err)
		return err;
	r->strs[r->nstrs++] = s->s;
	return 0;
}

int rec_next(struct rec_reader *r, struct rec *out)
{
	struct rec_cursor body;
	uint64_t type, at;
	const char *bad;
	size_t size;
	int ret;

	for (unsigned int i = 0; i < REC_FIELDS_MAX; i++) {
		free(r->tmp[i]);
		r->tmp[i] = NULL;
	}
	for (;;) {
		if (r->err)
			return r->err;
		if (r->stopped || r->ended)
			return 0;
		at = r->base + r->pos;
		ret = read_frame(r, 0, &type, &body, &size);
		if (ret < 0)
			return read_failed(r, ret);
		if (!ret)
			return 0;
		if (type >= REC_TYPES || !rec_layouts[type].name) {
			r->pos += size;		/* a later minor's: skipped */
			r->st.records++;
			r->st.skipped++;
			continue;
		}
		if (type == REC_HEADER) {
			stop(r, at, "a second header record");
			return 0;
		}
		memset(out, 0, sizeof(*out));
		bad = decode(r, type, &body, &out->string);
		if (!bad && type == REC_STRING) {
			ret = add_string(r, &out->string);
			if (ret == -EBADMSG)
				bad = "a string defined out of order";
			else if (ret)
				return read_failed(r, ret);
		}
		if (bad) {
			stop(r, at, "a malformed %s record: %s", rec_type_name(type), bad);
			return 0;
		}
		out->type = type;
		out->offset = at;
		out->size = size;
		r->pos += size;
		r->st.records++;
		r->st.events += rec_layouts[type].event;
		if (type == REC_END)
			r->ended = true;
		return 1;
	}
}

/* the preamble and the header record; 0 also when the file is cut inside them */
static int read_header(struct rec_reader *r, const char *name, char *why, size_t why_len)
{
	struct rec_cursor body;
	const uint8_t *p;
	unsigned int major, minor;
	uint64_t type;
	const char *bad;
	size_t avail, size;
	int err;

	err = fill(r, REC_PREAMBLE_LEN);
	if (err) {
		snprintf(why, why_len, "failed to read %s: %s", name, strerror(-err));
		return err;
	}
	p = r->buf + r->pos;
	avail = r->len - r->pos;
	if (memcmp(p, REC_MAGIC, avail < REC_MAGIC_LEN ? avail : REC_MAGIC_LEN)) {
		snprintf(why, why_len, "%s is not a heapstat recording", name);
		return -EINVAL;
	}
	if (avail < REC_PREAMBLE_LEN) {
		stop(r, 0, "the file ends inside its header");
		return 0;
	}
	major = p[8] | p[9] << 8;
	minor = p[10] | p[11] << 8;
	if (major > REC_MAJOR || major == 0) {
		snprintf(why, why_len, "%s is in recording format %u.%u, which this heapstat "
			 "(format %u.%u) cannot read%s", name, major, minor, REC_MAJOR, REC_MINOR,
			 major > REC_MAJOR ? ": a newer heapstat can" : "");
		return -EPROTONOSUPPORT;
	}
	r->pos += REC_PREAMBLE_LEN;
	err = read_frame(r, rec_crc32c(0, p, REC_PREAMBLE_LEN), &type, &body, &size);
	if (err < 0) {
		snprintf(why, why_len, "failed to read %s: %s", name, strerror(-err));
		return err;
	}
	if (!err) {		/* a header that is not whole: nothing of the file is */
		char what[sizeof(r->damage)];

		snprintf(what, sizeof(what), "%s", r->damage);
		stop(r, 0, "the header is not whole: %s",
		     r->len == r->pos ? "the file ends after its preamble" : what);
		return 0;
	}
	if (type != REC_HEADER) {
		stop(r, 0, "the first record is %s %s record, not the header",
		     article(rec_type_name(type)), rec_type_name(type));
		return 0;
	}
	bad = decode(r, REC_HEADER, &body, &r->header);
	if (bad) {
		stop(r, 0, "a malformed header record: %s", bad);
		return 0;
	}
	r->header.major = major;
	r->header.minor = minor;
	r->header_ok = true;
	r->pos += size;
	r->st.records++;
	return 0;
}

static int reader_new(struct rec_reader **out, int fd, const void *data, size_t len,
		      const char *name, char *why, size_t why_len)
{
	struct rec_reader *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r) {
		snprintf(why, why_len, "failed to read %s: %s", name, strerror(ENOMEM));
		return -ENOMEM;
	}
	r->fd = fd;
	if (fd < 0) {
		r->buf = data;
		r->len = len;
		r->eof = true;
	}
	err = read_header(r, name, why, why_len);
	if (err) {
		rec_reader_close(r);
		return err;
	}
	*out = r;
	return 0;
}

int rec_reader_fdopen(struct rec_reader **out, int fd, char *why, size_t why_len)
{
	return reader_new(out, fd, NULL, 0, "the recording", why, why_len);
}

int rec_reader_open_mem(struct rec_reader **out, const void *data, size_t len,
			char *why, size_t why_len)
{
	return reader_new(out, -1, data, len, "the recording", why, why_len);
}

int rec_reader_open(struct rec_reader **out, const char *path, char *why, size_t why_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	*out = NULL;
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "failed to open %s: %s", path, strerror(-err));
		return err;
	}
	err = reader_new(out, fd, NULL, 0, path, why, why_len);
	if (err) {
		close(fd);
		return err;
	}
	(*out)->own_fd = true;
	return 0;
}

const struct rec_header *rec_reader_header(const struct rec_reader *r)
{
	return r->header_ok ? &r->header : NULL;
}

bool rec_reader_truncated(const struct rec_reader *r, uint64_t *offset)
{
	if (offset)
		*offset = r->stopped ? r->stop_at : 0;
	return r->stopped;
}

const char *rec_reader_damage(const struct rec_reader *r)
{
	return r->damage;
}

void rec_reader_stats(const struct rec_reader *r, struct rec_stats *st)
{
	*st = r->st;
	st->bytes = r->base + r->pos;
}

void rec_reader_close(struct rec_reader *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < REC_FIELDS_MAX; i++)
		free(r->tmp[i]);
	if (r->own_fd)
		close(r->fd);
	free(r->own);
	free(r->strs);
	arena_free(&r->strings);
	free(r);
}
