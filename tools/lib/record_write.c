// SPDX-License-Identifier: GPL-2.0
/*
 * The recording writer (record.h): records are encoded whole into a buffer
 * and written out with write(2) when rec_flush() is called or a good deal is
 * buffered, so the file only ever ends inside a record when the recorder
 * died in the middle of a write. Strings are interned: the first use of one
 * writes a string record before the record that uses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hindex.h"
#include "record.h"
#include "record_codec.h"
#include "record_layout.h"
#include "util.h"

#define FLUSH_BYTES	(64u << 10)	/* buffered: written out without asking */

struct intern {
	const char *s;		/* in the writer's arena; NULL: a free slot */
	uint64_t hash;
	uint32_t len;
	uint32_t id;
};

/*
 * The strings last interned or found, looked at before hashing: an event
 * mostly names the heap and task the one before it named.
 */
#define RECENT		4
#define RECENT_LEN	32

struct recent {
	uint32_t len;		/* 0: empty */
	uint32_t id;
	char s[RECENT_LEN];
};

struct rec_writer {
	int fd;
	bool own_fd;
	int err;		/* the first failure: every later call returns it */
	struct rec_buf out;	/* whole records, not yet written */
	struct rec_buf body;	/* the body being encoded */
	uint64_t base;		/* the time base (record_layout.h) */
	uint64_t written;	/* bytes written out */
	uint64_t checkpoint_at;	/* file offset of the last checkpoint */
	uint64_t records, events;
	struct arena strings;
	struct intern *tab;	/* open addressing, a power of two of slots */
	size_t tab_cap;
	uint32_t nstrings;
	struct recent recent[RECENT];
	unsigned int recent_next;	/* the one replaced next */
};

/*
 * Append type, length, @body and the CRC32C of all that (of the file from
 * its first byte on, for the header: the preamble is in it) to the output.
 * All or nothing: a failed allocation leaves the output as it was.
 */
static int frame(struct rec_writer *w, unsigned int type, const struct rec_buf *body,
		 bool from_start)
{
	size_t start = w->out.len, from = from_start ? 0 : start;
	uint8_t *p;

	if (!rec_buf_room(&w->out, 2 * REC_VARINT_MAX + body->len + REC_CRC_LEN))
		return w->err = w->out.err;
	p = rec_put_varint(w->out.p + start, type);
	p = rec_put_varint(p, body->len);
	if (body->len)
		memcpy(p, body->p, body->len);
	p += body->len;
	p = rec_put_le32(p, rec_crc32c(0, w->out.p + from, p - w->out.p - from));
	w->out.len = p - w->out.p;
	w->records++;
	return 0;
}

static int intern_grow(struct rec_writer *w)
{
	size_t cap = w->tab_cap ? w->tab_cap * 2 : 256;
	struct intern *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < w->tab_cap; i++) {
		size_t j = w->tab[i].hash & (cap - 1);

		if (!w->tab[i].s)
			continue;
		while (tab[j].s)
			j = (j + 1) & (cap - 1);
		tab[j] = w->tab[i];
	}
	free(w->tab);
	w->tab = tab;
	w->tab_cap = cap;
	return 0;
}

static void recent_add(struct rec_writer *w, const char *s, size_t len, uint32_t id)
{
	struct recent *r = &w->recent[w->recent_next];

	if (len > RECENT_LEN)
		return;
	memcpy(r->s, s, len);
	r->len = len;
	r->id = id;
	w->recent_next = (w->recent_next + 1) % RECENT;
}

int rec_intern(struct rec_writer *w, const char *s, uint32_t *id)
{
	struct rec_buf def = {};
	uint64_t hash;
	size_t len, i;
	char *copy;
	int err;

	*id = 0;
	if (w->err)
		return w->err;
	if (!s || !*s)
		return 0;
	len = strnlen(s, REC_MAX_STR + 1);
	if (len > REC_MAX_STR)
		return -E2BIG;
	for (i = 0; i < RECENT; i++)
		if (w->recent[i].len == len && !memcmp(w->recent[i].s, s, len)) {
			*id = w->recent[i].id;
			return 0;
		}
	/* seeded per process (hindex.c): names made to share a slot (a process's comm
	 * is its own to choose) do not, and interning stays linear */
	hash = hindex_str(s);
	for (i = w->tab_cap ? hash & (w->tab_cap - 1) : 0; w->tab_cap && w->tab[i].s;
	     i = (i + 1) & (w->tab_cap - 1))
		if (w->tab[i].hash == hash && w->tab[i].len == len &&
		    !memcmp(w->tab[i].s, s, len)) {
			*id = w->tab[i].id;
			recent_add(w, s, len, *id);
			return 0;
		}
	if (w->nstrings == UINT32_MAX)
		return -EOVERFLOW;
	/* at most half full: probes stay short */
	if (((size_t)w->nstrings + 1) * 2 > w->tab_cap) {
		err = intern_grow(w);
		if (err)
			return w->err = err;
		for (i = hash & (w->tab_cap - 1); w->tab[i].s; i = (i + 1) & (w->tab_cap - 1))
			;
	}
	copy = arena_alloc(&w->strings, len);
	if (!copy)
		return w->err = -ENOMEM;
	memcpy(copy, s, len);

	rec_buf_varint(&def, w->nstrings + 1);
	rec_buf_varint(&def, len);
	rec_buf_put(&def, s, len);
	err = def.err ? def.err : frame(w, REC_STRING, &def, false);
	rec_buf_free(&def);
	if (err)
		return w->err = err;
	w->tab[i] = (struct intern){ .s = copy, .hash = hash, .len = len, .id = ++w->nstrings };
	*id = w->nstrings;
	recent_add(w, s, len, *id);
	return 0;
}

/* @n frames into @b (RF_FRAMES: the blob's bytes), interning their strings */
static int encode_frames(struct rec_writer *w, struct rec_buf *b, const struct rec_frame *fr,
			 uint32_t n)
{
	uint32_t id;
	int err;

	rec_buf_varint(b, n);
	for (uint32_t k = 0; k < n && b->len <= REC_MAX_BODY; k++) {
		const char *s[] = { fr[k].sym, fr[k].binary, fr[k].build_id };

		for (unsigned int j = 0; j < 3; j++) {
			err = rec_intern(w, s[j], &id);
			if (err)
				return err;
			rec_buf_varint(b, id);
		}
		rec_buf_varint(b, fr[k].offset);
		rec_buf_varint(b, fr[k].flags);
	}
	return b->err;
}

/* a field of variable length (a string, a list, a blob) into @b */
static int encode_var(struct rec_writer *w, struct rec_buf *b, const struct rec_field *f,
		      const void *p, const void *aux)
{
	uint32_t n, id, prev = 0;
	size_t len;
	int err;

	switch (f->kind) {
	case RF_INLINE_STR: {
		const char *s = *(const char * const *)p;

		len = s ? strnlen(s, REC_MAX_STR + 1) : 0;
		if (len > REC_MAX_STR)
			return -E2BIG;
		rec_buf_varint(b, len);
		rec_buf_put(b, s, len);
		return 0;
	}
	case RF_PIDS: {
		const uint32_t *pids = *(const uint32_t * const *)p;

		n = *(const uint32_t *)aux;
		if (n && !pids)
			return -EINVAL;
		rec_buf_varint(b, n);
		for (uint32_t k = 0; k < n && b->len <= REC_MAX_BODY; prev = pids[k], k++)
			rec_buf_varint(b, rec_zigzag((uint64_t)pids[k] - prev));
		return 0;
	}
	case RF_BLOB:
		n = *(const uint32_t *)aux;
		if (n && !*(const void * const *)p)
			return -EINVAL;
		if (n > REC_MAX_BODY)
			return -E2BIG;
		rec_buf_varint(b, n);
		rec_buf_put(b, *(const void * const *)p, n);
		return 0;
	case RF_HEAPS: {
		const struct rec_heap_bytes *h = *(const struct rec_heap_bytes * const *)p;

		n = *(const uint32_t *)aux;
		if (n && !h)
			return -EINVAL;
		rec_buf_varint(b, n);
		for (uint32_t k = 0; k < n && b->len <= REC_MAX_BODY; k++) {
			err = rec_intern(w, h[k].heap, &id);
			if (err)
				return err;
			rec_buf_varint(b, id);
			rec_buf_varint(b, h[k].bytes);
		}
		return 0;
	}
	case RF_FRAMES: {
		const struct rec_frame *fr = *(const struct rec_frame * const *)p;
		struct rec_buf blob = {};

		n = *(const uint32_t *)aux;
		if (n && !fr)
			return -EINVAL;
		err = encode_frames(w, &blob, fr, n);
		if (!err && blob.len > REC_MAX_BODY)
			err = -E2BIG;
		if (!err) {
			rec_buf_varint(b, blob.len);
			rec_buf_put(b, blob.p, blob.len);
		}
		rec_buf_free(&blob);
		return err;
	}
	default:
		return -EINVAL;
	}
}

/*
 * The fields of @st (a struct of @type) into w->body, after the string
 * records they need. Room for every field as one varint is made first and
 * the fixed ones written straight in (an event has only those); one of
 * variable length goes through the buffer's checks, and room is made again
 * after it.
 */
static int encode(struct rec_writer *w, unsigned int type, const void *st, uint64_t *base)
{
	const struct rec_layout *l = &rec_layouts[type];
	struct rec_buf *b = &w->body;
	const char *base_p = st;
	uint8_t *q;
	uint32_t id;
	int err;

	b->len = 0;
	if (!rec_buf_room(b, l->nfields * REC_VARINT_MAX))
		goto failed;
	q = b->p;
	for (unsigned int i = 0; i < l->nfields; i++) {
		const struct rec_field *f = &l->fields[i];
		const void *p = base_p + f->off, *aux = base_p + f->aux;

		switch (f->kind) {
		case RF_U64:
			q = rec_put_varint(q, *(const uint64_t *)p);
			continue;
		case RF_U32:
			q = rec_put_varint(q, *(const uint32_t *)p);
			continue;
		case RF_I32:
			q = rec_put_varint(q, rec_zigzag((uint64_t)(int64_t)*(const int32_t *)p));
			continue;
		case RF_TIME:
			q = rec_put_varint(q, rec_zigzag(*(const uint64_t *)p - *base));
			*base = *(const uint64_t *)p;
			continue;
		case RF_ABSTIME:
			q = rec_put_varint(q, *(const uint64_t *)p);
			*base = *(const uint64_t *)p;
			continue;
		case RF_TIME_KEEP:
			q = rec_put_varint(q, rec_zigzag(*(const uint64_t *)p - *base));
			continue;
		case RF_REL_U64:
			q = rec_put_varint(q, rec_zigzag(*(const uint64_t *)p -
							 *(const uint64_t *)aux));
			continue;
		case RF_REL_U32:
			q = rec_put_varint(q, rec_zigzag((uint64_t)*(const uint32_t *)p -
							 *(const uint32_t *)aux));
			continue;
		case RF_STR:
			err = rec_intern(w, *(const char * const *)p, &id);
			if (err)
				return err;
			q = rec_put_varint(q, id);
			continue;
		default:
			break;
		}
		b->len = q - b->p;
		err = encode_var(w, b, f, p, aux);
		if (err)
			return err;
		if (b->len > REC_MAX_BODY)	/* checked as it grows: a huge list stops early */
			return -E2BIG;
		if (!rec_buf_room(b, (l->nfields - i) * REC_VARINT_MAX))
			goto failed;
		q = b->p + b->len;
	}
	b->len = q - b->p;
	if (b->len > REC_MAX_BODY)
		return -E2BIG;
	if (!b->err)
		return 0;
failed:
	err = b->err;
	b->err = 0;
	return err;
}

/* encode and frame one record; the time base moves only when all went well */
static int put_record(struct rec_writer *w, unsigned int type, const void *st)
{
	uint64_t base = w->base;
	int err;

	err = encode(w, type, st, &base);
	if (!err)
		err = frame(w, type, &w->body, false);
	if (err)
		return err;
	w->base = base;
	if (rec_layouts[type].event)
		w->events++;
	return 0;
}

int rec_flush(struct rec_writer *w)
{
	size_t done = 0;

	if (w->err)
		return w->err;
	while (done < w->out.len) {
		ssize_t n = write(w->fd, w->out.p + done, w->out.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? -errno : -EIO;
			break;
		}
		done += n;
		w->written += n;
	}
	/* what was not written stays unwritten: the file ends in a torn record */
	w->out.len = 0;
	return w->err;
}

int rec_write(struct rec_writer *w, const struct rec *r)
{
	struct rec_checkpoint cp;
	const void *st = &r->string;	/* the union: every member is at its start */
	uint64_t at = w->written + w->out.len;
	int err;

	if (w->err)
		return w->err;
	if (r->type >= REC_TYPES || !rec_layouts[r->type].name || r->type == REC_HEADER ||
	    r->type == REC_STRING || r->type == REC_END)
		return -EINVAL;
	if (r->type == REC_CHECKPOINT) {
		/* its new strings first: the counts are of the records before it */
		for (uint32_t i = 0; r->checkpoint.heaps && i < r->checkpoint.nheaps; i++) {
			uint32_t id;

			err = rec_intern(w, r->checkpoint.heaps[i].heap, &id);
			if (err)
				return err;
		}
		cp = r->checkpoint;
		cp.records = w->records;
		cp.events = w->events;
		st = &cp;
	}
	err = put_record(w, r->type, st);
	if (err)
		return err;
	if (r->type == REC_CHECKPOINT)
		w->checkpoint_at = at;
	if (w->out.len >= FLUSH_BYTES)
		return rec_flush(w);
	return 0;
}

bool rec_checkpoint_due(const struct rec_writer *w)
{
	return w->written + w->out.len - w->checkpoint_at >= REC_CHECKPOINT_BYTES;
}

void rec_writer_stats(const struct rec_writer *w, struct rec_stats *st)
{
	*st = (struct rec_stats){
		.records = w->records,
		.events = w->events,
		.bytes = w->written + w->out.len,
	};
}

static int write_header(struct rec_writer *w, const struct rec_header *given)
{
	struct rec_header h = given ? *given : (struct rec_header){};
	struct utsname u;
	uint8_t pre[REC_PREAMBLE_LEN] = REC_MAGIC;
	int err;

	if ((!h.kernel || !h.host) && uname(&u) == 0) {
		if (!h.kernel)
			h.kernel = u.release;
		if (!h.host)
			h.host = u.nodename;
	}
	if (!h.mono_ns && !h.real_ns) {
		h.mono_ns = now_ns();
		h.real_ns = h.mono_ns + real_minus_mono_ns();
	}
	if (!h.page_size)
		h.page_size = sysconf(_SC_PAGESIZE);
	pre[8] = REC_MAJOR & 0xff;
	pre[9] = REC_MAJOR >> 8;
	pre[10] = REC_MINOR & 0xff;
	pre[11] = REC_MINOR >> 8;
	rec_buf_put(&w->out, pre, sizeof(pre));
	err = encode(w, REC_HEADER, &h, &w->base);
	if (!err)
		err = frame(w, REC_HEADER, &w->body, true);
	if (!err)
		err = w->out.err;
	if (err)
		return err;
	return rec_flush(w);
}

int rec_writer_fdopen(struct rec_writer **out, int fd, const struct rec_header *h)
{
	struct rec_writer *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	err = write_header(w, h);
	if (err) {
		w->own_fd = false;
		rec_writer_close(w, REC_STATUS_NONE);
		return err;
	}
	*out = w;
	return 0;
}

/* @path made and locked for one writer, then emptied: its fd, -EBUSY (another's), -errno */
static int claim(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0)
		return -errno;
	/* emptied only once it is ours: another writer's recording is left whole
	 * (a device or a pipe is written as it is; a filesystem without locks
	 * written unlocked) */
	if (fstat(fd, &st) || (S_ISREG(st.st_mode) &&
			       ((flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK) ||
				ftruncate(fd, 0)))) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return err;
	}
	return fd;
}

bool rec_writer_busy(const char *path)
{
	struct stat st;
	bool busy;
	int fd;

	/* a pipe or a device is not opened: that would end a waiting reader's input */
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return false;
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	busy = flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* a writer on @fd, an fd of its own (or -errno) */
static int writer_own(struct rec_writer **out, int fd, const struct rec_header *h)
{
	int err;

	*out = NULL;
	if (fd < 0)
		return fd;
	err = rec_writer_fdopen(out, fd, h);
	if (err) {
		close(fd);
		return err;
	}
	(*out)->own_fd = true;
	return 0;
}

int rec_writer_open(struct rec_writer **out, const char *path, const struct rec_header *h)
{
	return writer_own(out, claim(path), h);
}

int rec_writer_create(struct rec_writer **out, const char *path, const struct rec_header *h)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), err;

	/* locked as claim() locks, for rec_writer_busy(): new, so no other writer has it */
	if (fd >= 0)
		flock(fd, LOCK_EX | LOCK_NB);
	err = writer_own(out, fd < 0 ? -errno : fd, h);
	if (err && fd >= 0)
		unlink(path);	/* made, but its header not written */
	return err;
}

int rec_writer_close(struct rec_writer *w, int wstatus)
{
	struct rec_end end = { .ts = now_ns(), .records = w->records };
	int err;

	if (wstatus == REC_STATUS_RUNNING) {
		end.how = REC_END_RUNNING;
	} else if (wstatus == REC_STATUS_NOT_STARTED) {
		end.how = REC_END_NOT_STARTED;
	} else if (wstatus != REC_STATUS_NONE && WIFEXITED(wstatus)) {
		end.how = REC_END_EXITED;
		end.code = WEXITSTATUS(wstatus);
	} else if (wstatus != REC_STATUS_NONE && WIFSIGNALED(wstatus)) {
		end.how = REC_END_SIGNALED;
		end.code = WTERMSIG(wstatus);
	}
	if (!w->err && w->records) {	/* not after a header that failed */
		put_record(w, REC_END, &end);
		rec_flush(w);
	}
	err = w->err;
	if (w->own_fd && close(w->fd) && !err)
		err = -errno;
	rec_buf_free(&w->out);
	rec_buf_free(&w->body);
	arena_free(&w->strings);
	free(w->tab);
	free(w);
	return err;
}
