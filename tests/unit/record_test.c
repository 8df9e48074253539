// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the recording format (tools/lib/record*.c): every record
 * type read back field for field, the bytes an event costs, a file cut at
 * every byte or with any byte flipped, versions, records of later versions,
 * malformed records, and a writer killed with SIGKILL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "lib/record.h"
#include "lib/record_codec.h"
#include "lib/util.h"
#include "record_samples.h"

/* the bytes written to @fd, from its start, malloc'd */
static uint8_t *slurp(int fd, size_t *len)
{
	struct stat st;
	uint8_t *p;

	if (fstat(fd, &st))
		return NULL;
	p = malloc(st.st_size ? st.st_size : 1);
	if (p && pread(fd, p, st.st_size, 0) != st.st_size) {
		free(p);
		return NULL;
	}
	*len = st.st_size;
	return p;
}

/* the samples written with @wstatus: the file's bytes, malloc'd */
static uint8_t *sample_recording(size_t *len, size_t *nsamples, int wstatus)
{
	struct rec v[SAMPLES_MAX];
	struct rec_writer *w;
	size_t n = record_samples(v);
	int fd = memfd_create("record_test", MFD_CLOEXEC);
	uint8_t *p;

	CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	CHECK_EQ(rec_writer_fdopen(&w, fd, &sample_header), 0);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(rec_write(w, &v[i]), 0);
	CHECK_EQ(rec_writer_close(w, wstatus), 0);
	p = slurp(fd, len);
	close(fd);
	if (nsamples)
		*nsamples = n;
	return p;
}

#define EQ(f)	CHECK_EQ(want->f, got->f)
#define STR(f)	CHECK(got->f && !strcmp(want->f ? want->f : "", got->f),		\
		      "%s: \"%s\" != \"%s\"", #f, want->f ? want->f : "",		\
		      got->f ? got->f : "(null)")

/* every field of @got as in @want; not the counts a checkpoint's writer sets */
static void check_same(const struct rec *want, const struct rec *got)
{
	CHECK(want->type == got->type, "%s != %s", rec_type_name(want->type),
	      rec_type_name(got->type));
	if (want->type != got->type)
		return;
	switch (want->type) {
	case REC_PROCESS:
		EQ(process.pid); EQ(process.tid); STR(process.comm);
		EQ(process.cgroup_id); STR(process.cgroup);
		break;
	case REC_SNAP_BEGIN:
		EQ(snap_begin.ts); EQ(snap_begin.when); EQ(snap_begin.source);
		break;
	case REC_SNAP_BUF:
		EQ(snap_buf.ino); EQ(snap_buf.size); STR(snap_buf.exporter); STR(snap_buf.name);
		EQ(snap_buf.nholders);
		if (want->snap_buf.nholders == got->snap_buf.nholders && want->snap_buf.nholders)
			CHECK(!memcmp(want->snap_buf.holders, got->snap_buf.holders,
				      want->snap_buf.nholders * sizeof(uint32_t)),
			      "holders differ");
		break;
	case REC_SNAP_END:
		EQ(snap_end.ts); EQ(snap_end.buffers); EQ(snap_end.bytes); EQ(snap_end.nheaps);
		for (uint32_t i = 0; i < want->snap_end.nheaps &&
		     want->snap_end.nheaps == got->snap_end.nheaps; i++) {
			STR(snap_end.heaps[i].heap);
			EQ(snap_end.heaps[i].bytes);
		}
		break;
	case REC_ALLOC:
		EQ(alloc.ts); EQ(alloc.pid); EQ(alloc.tid); STR(alloc.comm); EQ(alloc.cgroup_id);
		STR(alloc.heap); EQ(alloc.requested); EQ(alloc.allocated); EQ(alloc.latency_ns);
		EQ(alloc.err); EQ(alloc.ino); EQ(alloc.fail_class); EQ(alloc.stack_id);
		break;
	case REC_EXPORT:
		EQ(export.ts); EQ(export.pid); EQ(export.cgroup_id); STR(export.exporter);
		EQ(export.ino); EQ(export.size);
		break;
	case REC_RELEASE:
		EQ(release.ts); EQ(release.ino); EQ(release.lifetime_ns); EQ(release.cgroup_id);
		break;
	case REC_FD:
		EQ(fd.ts); EQ(fd.pid); EQ(fd.kind); EQ(fd.ino);
		break;
	case REC_CMA:
		EQ(cma.ts); EQ(cma.kind); STR(cma.area); EQ(cma.pfn); EQ(cma.count);
		EQ(cma.latency_ns); EQ(cma.result);
		break;
	case REC_CMA_STATE:
		EQ(cma_state.ts); STR(cma_state.area); EQ(cma_state.total_bytes);
		EQ(cma_state.used_bytes); EQ(cma_state.largest_free_bytes);
		EQ(cma_state.free_extents); EQ(cma_state.flags);
		break;
	case REC_LIMIT:
		EQ(limit.ts); EQ(limit.pid); EQ(limit.cgroup_id); EQ(limit.bound_cgroup_id);
		STR(limit.heap); EQ(limit.requested); EQ(limit.usage); EQ(limit.limit);
		EQ(limit.backend); STR(limit.bound_cgroup); EQ(limit.tid); EQ(limit.when);
		break;
	case REC_DROPS:
		EQ(drops.first_ts); EQ(drops.last_ts); EQ(drops.count); EQ(drops.source);
		break;
	case REC_STACK:
		EQ(stack.id); EQ(stack.nframes);
		CHECK(got->stack.frames, "no frames");
		for (uint32_t k = 0; got->stack.frames && k < want->stack.nframes &&
		     k < got->stack.nframes; k++) {
			STR(stack.frames[k].sym); STR(stack.frames[k].binary);
			STR(stack.frames[k].build_id); EQ(stack.frames[k].offset);
			EQ(stack.frames[k].flags);
		}
		break;
	case REC_CHECKPOINT:
		EQ(checkpoint.ts); EQ(checkpoint.nheaps);
		for (uint32_t i = 0; i < want->checkpoint.nheaps &&
		     want->checkpoint.nheaps == got->checkpoint.nheaps; i++) {
			STR(checkpoint.heaps[i].heap);
			EQ(checkpoint.heaps[i].bytes);
		}
		break;
	default:
		CHECK(0, "no sample of %s", rec_type_name(want->type));
	}
}

static void check_header(const struct rec_header *got)
{
	const struct rec_header *want = &sample_header;

	CHECK(got, "no header");
	if (!got)
		return;
	CHECK_EQ(got->major, REC_MAJOR);
	CHECK_EQ(got->minor, REC_MINOR);
	EQ(mono_ns); EQ(real_ns); EQ(page_size); STR(kernel); STR(host); STR(command);
	EQ(untraced);
}

static void crc32c_known_values(void)
{
	/* the check value of CRC-32C, and RFC 3720's 32 zero bytes */
	static const uint8_t zeros[32];

	CHECK_EQ(rec_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ(rec_crc32c(0, zeros, sizeof(zeros)), 0x8a9136aau);
	CHECK_EQ(rec_crc32c(0, "", 0), 0);
	/* continued in two pieces: the same */
	CHECK_EQ(rec_crc32c(rec_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
	CHECK_EQ(rec_crc32c_sw(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ(rec_crc32c_sw(0, zeros, sizeof(zeros)), 0x8a9136aau);
}

/* the CPU's instruction, where rec_crc32c() takes it, against the tables */
static void crc32c_instruction_as_tables(void)
{
	uint8_t data[300];
	uint32_t seed = 1;

	for (size_t i = 0; i < sizeof(data); i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = seed >> 16;
	}
	/* every length and start (alignment) up to 64, and a long run */
	for (size_t at = 0; at < 8; at++)
		for (size_t len = 0; len <= 64; len++)
			CHECK_EQ(rec_crc32c(seed, data + at, len), rec_crc32c_sw(seed, data + at, len));
	CHECK_EQ(rec_crc32c(0, data, sizeof(data)), rec_crc32c_sw(0, data, sizeof(data)));
}

static void varints_and_zigzag(void)
{
	static const uint64_t values[] = {
		0, 1, 127, 128, 16383, 16384, UINT32_MAX, 1ull << 56, UINT64_MAX - 1, UINT64_MAX,
	};
	static const uint8_t eleven[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					    0x80, 0x80, 0x00 };
	static const uint8_t over[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0x02 };
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct rec_buf b = {};
		struct rec_cursor c;

		rec_buf_varint(&b, values[i]);
		CHECK_EQ(b.len, rec_varint_len(values[i]));
		c = (struct rec_cursor){ b.p, b.p + b.len, false };
		CHECK(rec_get_varint(&c) == values[i] && !c.bad && c.p == c.end, "%zu", i);
		/* cut short: not whole */
		CHECK_EQ(rec_varint_peek(b.p, b.len - 1, &v), 0);
		CHECK(rec_unzigzag(rec_zigzag(values[i])) == values[i], "%zu", i);
		rec_buf_free(&b);
	}
	CHECK_EQ(rec_zigzag(0), 0);
	CHECK_EQ(rec_zigzag(-1), 1);
	CHECK_EQ(rec_zigzag(1), 2);
	CHECK_EQ(rec_zigzag(-2), 3);
	CHECK(rec_zigzag(INT64_MIN) == UINT64_MAX, "INT64_MIN");
	CHECK_EQ(rec_varint_peek(eleven, sizeof(eleven), &v), -1);
	CHECK_EQ(rec_varint_peek(over, sizeof(over), &v), -1);
}

/*
 * Read @data (@len bytes, copied so that a read past them is caught) and
 * check it holds the samples, a string record before each new string, and
 * an end record with exit status 3.
 */
static void check_sample_file(const uint8_t *data, size_t len, size_t nsamples, bool from_fd)
{
	struct rec v[SAMPLES_MAX], got;
	struct rec_reader *r = NULL;
	struct rec_stats st;
	uint64_t records = 1, events = 0, off, at = 0;
	size_t i = 0, strings = 0;
	char why[256];
	int fd = -1, ret;
	uint8_t *copy = malloc(len);

	record_samples(v);
	memcpy(copy, data, len);
	if (from_fd) {
		fd = memfd_create("record_test", MFD_CLOEXEC);
		CHECK(write(fd, data, len) == (ssize_t)len, "write");
		lseek(fd, 0, SEEK_SET);
		CHECK_EQ(rec_reader_fdopen(&r, fd, why, sizeof(why)), 0);
	} else {
		CHECK_EQ(rec_reader_open_mem(&r, copy, len, why, sizeof(why)), 0);
	}
	if (!r)
		goto out;
	check_header(rec_reader_header(r));
	while ((ret = rec_next(r, &got)) == 1) {
		CHECK(got.offset >= at, "offset %llu", (unsigned long long)got.offset);
		at = got.offset + got.size;
		records++;
		if (got.type == REC_STRING) {
			CHECK_EQ(got.string.id, ++strings);
			CHECK(got.string.s && *got.string.s, "empty string defined");
			continue;
		}
		if (got.type == REC_END) {
			CHECK_EQ(got.end.how, REC_END_EXITED);
			CHECK_EQ(got.end.code, 3);
			CHECK_EQ(got.end.records, records - 1);
			/* the writer's clock when it ended: before now, whatever the
			 * samples' made-up clock base (a machine up for less than
			 * SAMPLE_T0 has a smaller one) */
			CHECK(got.end.ts > 0 && got.end.ts <= now_ns(), "end at %llu",
			      (unsigned long long)got.end.ts);
			continue;
		}
		CHECK(i < nsamples, "more records than samples");
		if (i >= nsamples)
			break;
		check_same(&v[i], &got);
		if (got.type == REC_CHECKPOINT) {
			CHECK_EQ(got.checkpoint.records, records - 1);
			CHECK_EQ(got.checkpoint.events, events);
		}
		events += rec_type_is_event(got.type);
		i++;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(i, nsamples);
	CHECK(!rec_reader_truncated(r, &off), "truncated at %llu: %s", (unsigned long long)off,
	      rec_reader_damage(r));
	CHECK_EQ(at, len);
	rec_reader_stats(r, &st);
	CHECK_EQ(st.records, records);
	CHECK_EQ(st.events, events);
	CHECK_EQ(st.skipped, 0);
	CHECK_EQ(st.bytes, len);
	CHECK_EQ(rec_next(r, &got), 0);		/* and stays at the end */
out:
	rec_reader_close(r);
	if (fd >= 0)
		close(fd);
	free(copy);
}

static void round_trip_every_type(void)
{
	char path[] = "/tmp/record_test.XXXXXX", why[256];
	size_t len, n, len2;
	bool seen[REC_TYPES] = {};
	struct rec v[SAMPLES_MAX], got;
	struct rec_writer *w;
	struct rec_reader *r;
	uint8_t *data = sample_recording(&len, &n, 3 << 8), *data2;
	int fd;

	/* the samples hold every type but those the writer makes itself */
	record_samples(v);
	for (size_t i = 0; i < n; i++)
		seen[v[i].type] = true;
	for (unsigned int t = REC_HEADER; t < REC_TYPES; t++)
		CHECK(seen[t] || t == REC_HEADER || t == REC_STRING || t == REC_END,
		      "no sample of %s", rec_type_name(t));
	check_sample_file(data, len, n, false);
	check_sample_file(data, len, n, true);

	/* through a path: the same bytes but the end record's time */
	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	CHECK_EQ(rec_writer_open(&w, path, &sample_header), 0);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(rec_write(w, &v[i]), 0);
	CHECK_EQ(rec_writer_close(w, 3 << 8), 0);
	CHECK_EQ(rec_reader_open(&r, path, why, sizeof(why)), 0);
	while (rec_next(r, &got) == 1 && got.type != REC_END)
		;
	CHECK(got.type == REC_END && !rec_reader_truncated(r, NULL), "%s", rec_reader_damage(r));
	rec_reader_close(r);
	fd = open(path, O_RDONLY);
	data2 = slurp(fd, &len2);
	close(fd);
	CHECK(len2 >= got.offset && !memcmp(data, data2, got.offset),
	      "the writers differ before the end record");
	free(data2);
	unlink(path);
	free(data);
}

/* the end record: how the command ended */
static void end_status(void)
{
	static const struct { int wstatus; uint32_t how; int32_t code; } cases[] = {
		{ REC_STATUS_NONE, REC_END_NONE, 0 },
		{ 0, REC_END_EXITED, 0 },
		{ 255 << 8, REC_END_EXITED, 255 },
		{ SIGKILL, REC_END_SIGNALED, SIGKILL },
		{ SIGSEGV | 0x80, REC_END_SIGNALED, SIGSEGV },	/* core dumped */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int fd = memfd_create("record_test", MFD_CLOEXEC);
		struct rec_writer *w;
		struct rec_reader *r;
		struct rec got = {};
		uint64_t t0 = now_ns();
		uint8_t *data;
		size_t len;
		char why[256];

		CHECK_EQ(rec_writer_fdopen(&w, fd, NULL), 0);
		CHECK_EQ(rec_writer_close(w, cases[i].wstatus), 0);
		data = slurp(fd, &len);
		close(fd);
		CHECK_EQ(rec_reader_open_mem(&r, data, len, why, sizeof(why)), 0);
		CHECK(rec_reader_header(r) && *rec_reader_header(r)->kernel &&
		      *rec_reader_header(r)->host, "uname() not filled in");
		CHECK(rec_reader_header(r)->mono_ns >= t0, "clock not taken");
		CHECK_EQ(rec_reader_header(r)->page_size, sysconf(_SC_PAGESIZE));
		CHECK_EQ(rec_next(r, &got), 1);
		CHECK_EQ(got.type, REC_END);
		CHECK_EQ(got.end.how, cases[i].how);
		CHECK_EQ(got.end.code, cases[i].code);
		CHECK_EQ(got.end.records, 1);
		CHECK(got.end.ts >= t0 && got.end.ts <= now_ns(), "end at %llu",
		      (unsigned long long)got.end.ts);
		rec_reader_close(r);
		free(data);
	}
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The target: 32 bytes an event or fewer, without stacks. 100k allocations
 * and their releases by 8 processes (some threaded) in 4 cgroups on 2 heaps,
 * frame-sized and small buffers, 1% failing, events 1-200 us apart and now
 * and then out of order (per-CPU rings), written in batches of 64 with a
 * checkpoint when due. Every byte of the file counts.
 */
#define PAIRS		100000
#define LIVE_MAX	64

struct live_buf {
	uint64_t ino, size, born;
	unsigned int heap, cg;
};

static void bytes_per_event(void)
{
	static const char * const comms[8] = {
		"camera-app", "CameraProvider", "surfaceflinger", "gst-launch-1.0",
		"codec2@1.2-serv", "chrome", "Xwayland", "pipewire",
	};
	static const char * const cgroups[4] = {
		"/system.slice/camera.service", "/user.slice/user-1000.slice/session-2.scope",
		"/system.slice/media.service", "/apps/browser",
	};
	static const char * const heaps[2] = { "system", "cma-camera" };
	static const uint64_t sizes[] = {
		4096, 65536, 1 << 20, 1920 * 1080 * 3 / 2, 1920 * 1080 * 4, 3840 * 2160 * 3 / 2,
	};
	struct live_buf live[LIVE_MAX];
	uint64_t x = 0x9e3779b97f4a7c15ull, t = SAMPLE_T0, ino = 48211, live_bytes[2] = {};
	unsigned int nlive = 0, pairs = 0, releases = 0;
	struct rec_stats before, after;
	struct rec_writer *w;
	struct rec_reader *r;
	struct rec rec;
	uint32_t pids[8], threads[8];
	int fd = memfd_create("record_test", MFD_CLOEXEC);
	double per_event, per_event_stream;
	uint8_t *data;
	size_t len;
	char why[256];

	CHECK_EQ(rec_writer_fdopen(&w, fd, &sample_header), 0);
	for (int i = 0; i < 8; i++) {
		pids[i] = 1000 + xorshift(&x) % 60000;
		threads[i] = i % 2 ? 4 : 1;
		rec = (struct rec){ .type = REC_PROCESS, .process = {
			.pid = pids[i], .tid = pids[i], .comm = comms[i],
			.cgroup_id = 4100 + 97 * (i % 4), .cgroup = cgroups[i % 4] } };
		CHECK_EQ(rec_write(w, &rec), 0);
	}
	rec_writer_stats(w, &before);

	while (pairs < PAIRS || nlive) {
		bool alloc = pairs < PAIRS && (nlive < LIVE_MAX / 2 ||
					       (nlive < LIVE_MAX && xorshift(&x) % 2));
		uint64_t jitter = xorshift(&x) % 16 == 0 ? xorshift(&x) % 5000 : 0;

		t += 1000 + xorshift(&x) % 200000;
		if (alloc) {
			unsigned int p = xorshift(&x) % 8, heap = p % 2;
			uint64_t size = sizes[xorshift(&x) % ARRAY_SIZE(sizes)];
			uint64_t got = (size + 4095) & ~4095ull;
			bool fail = xorshift(&x) % 100 == 0;

			ino += 1 + xorshift(&x) % 3;
			rec = (struct rec){ .type = REC_ALLOC, .alloc = {
				.ts = t - jitter, .pid = pids[p],
				.tid = pids[p] + xorshift(&x) % threads[p], .comm = comms[p],
				.cgroup_id = 4100 + 97 * (p % 4), .heap = heaps[heap],
				.requested = size, .allocated = fail ? 0 : got,
				.latency_ns = 2000 + xorshift(&x) % (20000 + size / 16),
				.err = fail ? -ENOMEM : 0, .ino = fail ? 0 : ino,
				.fail_class = fail ? 1 : 0 } };
			CHECK_EQ(rec_write(w, &rec), 0);
			if (!fail) {	/* a failure is an event, not a pair */
				live[nlive++] = (struct live_buf){ ino, got, t, heap, p % 4 };
				live_bytes[heap] += got;
				pairs++;
			}
		} else {
			unsigned int k = xorshift(&x) % nlive;
			struct live_buf b = live[k];

			live[k] = live[--nlive];
			live_bytes[b.heap] -= b.size;
			rec = (struct rec){ .type = REC_RELEASE, .release = {
				.ts = t - jitter, .ino = b.ino, .lifetime_ns = t - b.born,
				.cgroup_id = 4100 + 97 * b.cg } };
			CHECK_EQ(rec_write(w, &rec), 0);
			releases++;
		}
		if ((pairs + releases) % 64 == 0)
			CHECK_EQ(rec_flush(w), 0);
		if (rec_checkpoint_due(w)) {
			struct rec_heap_bytes hb[2] = {
				{ heaps[0], live_bytes[0] }, { heaps[1], live_bytes[1] },
			};

			rec = (struct rec){ .type = REC_CHECKPOINT, .checkpoint = {
				.ts = t, .nheaps = 2, .heaps = hb } };
			CHECK_EQ(rec_write(w, &rec), 0);
			CHECK(!rec_checkpoint_due(w), "still due");
		}
	}
	rec_writer_stats(w, &after);
	CHECK_EQ(rec_writer_close(w, 0), 0);
	data = slurp(fd, &len);
	close(fd);

	per_event = (double)len / after.events;
	per_event_stream = (double)(after.bytes - before.bytes) / (after.events - before.events);
	printf("  %llu events (%u pairs), %zu bytes: %.2f bytes an event, %.2f in the stream\n",
	       (unsigned long long)after.events, releases, len, per_event, per_event_stream);
	CHECK_EQ(releases, PAIRS);
	CHECK(per_event <= 32.0, "%.2f bytes an event", per_event);

	/* and it reads back: every event, checkpoints about a MiB apart */
	CHECK_EQ(rec_reader_open_mem(&r, data, len, why, sizeof(why)), 0);
	{
		uint64_t events = 0, checkpoints = 0, last_cp = 0;
		int ret;

		while ((ret = rec_next(r, &rec)) == 1) {
			events += rec_type_is_event(rec.type);
			if (rec.type == REC_CHECKPOINT) {
				CHECK_EQ(rec.checkpoint.events, events);
				CHECK(rec.offset - last_cp >= REC_CHECKPOINT_BYTES, "at %llu",
				      (unsigned long long)rec.offset);
				last_cp = rec.offset;
				checkpoints++;
			}
		}
		CHECK_EQ(ret, 0);
		CHECK_EQ(events, after.events);
		CHECK(checkpoints >= 1 && checkpoints + 1 >= len / REC_CHECKPOINT_BYTES &&
		      checkpoints <= len / REC_CHECKPOINT_BYTES, "%llu checkpoints in %zu bytes",
		      (unsigned long long)checkpoints, len);
		CHECK(!rec_reader_truncated(r, NULL), "%s", rec_reader_damage(r));
	}
	rec_reader_close(r);
	free(data);
}

/*
 * Read @len bytes of @data (a copy of exactly that many): the records must
 * be those of @full that end at or before @len, and the reader must stop
 * truncated at the end of the last of them, unless the file is whole.
 */
struct seen {
	uint64_t offset;
	uint32_t size;
	enum rec_type type;
};

static void check_prefix(const uint8_t *data, size_t len, const struct seen *full, size_t nfull,
			 uint64_t header_end, size_t full_len)
{
	struct rec v[SAMPLES_MAX], got;
	struct rec_reader *r;
	uint8_t *copy = malloc(len ? len : 1);
	uint64_t off, want_off = 0;
	size_t i = 0, sample = 0;
	char why[256];
	int ret, failed = test_failed;

	record_samples(v);
	memcpy(copy, data, len);
	ret = rec_reader_open_mem(&r, copy, len, why, sizeof(why));
	CHECK(ret == 0, "cut at %zu: open: %s", len, why);
	if (ret) {
		free(copy);
		return;
	}
	CHECK(!rec_reader_header(r) == (len < header_end), "cut at %zu: header", len);
	if (len >= header_end)
		want_off = header_end;
	while ((ret = rec_next(r, &got)) == 1) {
		CHECK(i < nfull && got.offset == full[i].offset && got.size == full[i].size &&
		      got.type == full[i].type, "cut at %zu: record %zu", len, i);
		CHECK(got.offset + got.size <= len, "cut at %zu: a record past it", len);
		if (got.type != REC_STRING && got.type != REC_END && sample < SAMPLES_MAX)
			check_same(&v[sample++], &got);
		want_off = got.offset + got.size;
		i++;
	}
	CHECK(ret == 0, "cut at %zu: rec_next %d", len, ret);
	if (len == full_len) {
		CHECK(!rec_reader_truncated(r, NULL), "whole, yet: %s", rec_reader_damage(r));
		CHECK_EQ(i, nfull);
	} else {
		CHECK(rec_reader_truncated(r, &off), "cut at %zu: not truncated", len);
		CHECK(off == want_off, "cut at %zu: truncated at %llu, not %llu", len,
		      (unsigned long long)off, (unsigned long long)want_off);
		CHECK(*rec_reader_damage(r), "cut at %zu: no reason", len);
		/* every record that ends before the cut, and no other */
		CHECK(i == nfull || full[i].offset + full[i].size > len, "cut at %zu: %zu records",
		      len, i);
	}
	rec_reader_close(r);
	free(copy);
	if (test_failed != failed)
		printf("  (at cut %zu)\n", len);
}

/* the records of a whole file, and where its header ends */
static struct seen *list_records(const uint8_t *data, size_t len, size_t *n, uint64_t *header_end)
{
	struct seen *s = calloc(len, sizeof(*s));
	struct rec_reader *r;
	struct rec_stats st;
	struct rec got;
	char why[256];

	*n = 0;
	CHECK_EQ(rec_reader_open_mem(&r, data, len, why, sizeof(why)), 0);
	rec_reader_stats(r, &st);
	*header_end = st.bytes;
	while (rec_next(r, &got) == 1)
		s[(*n)++] = (struct seen){ got.offset, got.size, got.type };
	rec_reader_close(r);
	return s;
}

static void cut_at_every_offset(void)
{
	size_t len, n, nsamples;
	uint8_t *data = sample_recording(&len, &nsamples, 0);
	uint64_t header_end;
	struct seen *full = list_records(data, len, &n, &header_end);

	CHECK(n > nsamples, "%zu records", n);
	for (size_t cut = 0; cut <= len && test_failed < 20; cut++)
		check_prefix(data, cut, full, n, header_end, len);
	free(full);
	free(data);
}

/* a cut file through a file descriptor: read in pieces, the same answer */
static void cut_files_read_alike(void)
{
	size_t len, nsamples;
	uint8_t *data = sample_recording(&len, &nsamples, 0);

	for (size_t cut = 0; cut <= len && !test_failed; cut += 1 + cut / 7) {
		struct rec_reader *a, *b;
		struct rec ra, rb;
		uint64_t oa = 0, ob = 0;
		int fd = memfd_create("record_test", MFD_CLOEXEC), ret_a, ret_b;
		char why[256];

		CHECK(write(fd, data, cut) == (ssize_t)cut, "write");
		lseek(fd, 0, SEEK_SET);
		CHECK_EQ(rec_reader_open_mem(&a, data, cut, why, sizeof(why)), 0);
		CHECK_EQ(rec_reader_fdopen(&b, fd, why, sizeof(why)), 0);
		do {
			ret_a = rec_next(a, &ra);
			ret_b = rec_next(b, &rb);
			CHECK_EQ(ret_a, ret_b);
			if (ret_a == 1 && ret_b == 1)
				CHECK(ra.offset == rb.offset && ra.type == rb.type,
				      "cut at %zu", cut);
		} while (ret_a == 1 && ret_b == 1);
		CHECK_EQ(rec_reader_truncated(a, &oa), rec_reader_truncated(b, &ob));
		CHECK_EQ(oa, ob);
		rec_reader_close(a);
		rec_reader_close(b);
		close(fd);
	}
	free(data);
}

/*
 * Any byte flipped, in any record: the checksum catches it, and the reader
 * gives the records before that one and stops there. In the magic: not a
 * recording; in the major version: refused.
 */
static void flipped_byte_detected(void)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff, 0x5a };
	size_t len, n, nsamples, rec_i = 0;
	uint8_t *data = sample_recording(&len, &nsamples, 0), *copy = malloc(len);
	uint64_t header_end;
	struct seen *full = list_records(data, len, &n, &header_end);

	for (size_t at = 0; at < len && test_failed < 20; at++) {
		uint64_t stop_at;

		while (rec_i < n && full[rec_i].offset + full[rec_i].size <= at)
			rec_i++;
		stop_at = at < header_end ? 0 : full[rec_i].offset;
		for (size_t m = 0; m < ARRAY_SIZE(masks); m++) {
			struct rec_reader *r;
			struct rec got;
			uint64_t off;
			size_t i = 0;
			char why[256];
			int ret;

			memcpy(copy, data, len);
			copy[at] ^= masks[m];
			ret = rec_reader_open_mem(&r, copy, len, why, sizeof(why));
			if (at < REC_MAGIC_LEN) {
				CHECK(ret == -EINVAL && strstr(why, "not a heapstat recording"),
				      "byte %zu: %d %s", at, ret, why);
				continue;
			}
			if (at < REC_MAGIC_LEN + 2) {
				CHECK(ret == -EPROTONOSUPPORT, "byte %zu: %d", at, ret);
				continue;
			}
			CHECK(ret == 0, "byte %zu: %s", at, why);
			if (ret)
				continue;
			while ((ret = rec_next(r, &got)) == 1) {
				CHECK(got.offset < stop_at && got.offset == full[i].offset,
				      "byte %zu ^ %#x: a record at %llu", at, masks[m],
				      (unsigned long long)got.offset);
				i++;
			}
			CHECK(ret == 0 && rec_reader_truncated(r, &off) && off == stop_at,
			      "byte %zu ^ %#x: %d, stopped at %llu, not %llu: %s", at, masks[m],
			      ret, (unsigned long long)off, (unsigned long long)stop_at,
			      rec_reader_damage(r));
			rec_reader_close(r);
		}
	}
	free(full);
	free(copy);
	free(data);
}

/* a file of a later major version: refused, saying both versions */
static void newer_major_refused(void)
{
	char path[] = "/tmp/record_test.XXXXXX", why[512];
	struct rec_reader *r = (void *)1;
	size_t len, n;
	uint8_t *data = sample_recording(&len, &n, 0);
	char own[32];
	int fd;

	data[8] = 2;		/* major 2, minor 7 */
	data[10] = 7;
	CHECK_EQ(rec_reader_open_mem(&r, data, len, why, sizeof(why)), -EPROTONOSUPPORT);
	CHECK(r == NULL, "a reader");
	snprintf(own, sizeof(own), "(format %d.%d)", REC_MAJOR, REC_MINOR);
	CHECK(strstr(why, "format 2.7") && strstr(why, own) && strstr(why, "newer"), "%s", why);
	/* only the preamble: the version is enough */
	CHECK_EQ(rec_reader_open_mem(&r, data, REC_PREAMBLE_LEN, why, sizeof(why)),
		 -EPROTONOSUPPORT);

	fd = mkstemp(path);
	CHECK(write(fd, data, len) == (ssize_t)len, "write");
	close(fd);
	CHECK_EQ(rec_reader_open(&r, path, why, sizeof(why)), -EPROTONOSUPPORT);
	CHECK(strstr(why, path) && strstr(why, "2.7"), "%s", why);
	unlink(path);
	CHECK_EQ(rec_reader_open(&r, path, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "failed to open") && strstr(why, path), "%s", why);
	free(data);
}

/* a frame: type, length, body, CRC32C (continuing @seed) */
static void put_frame(struct rec_buf *b, uint64_t type, const void *body, size_t len)
{
	size_t start = b->len;

	rec_buf_varint(b, type);
	rec_buf_varint(b, len);
	rec_buf_put(b, body, len);
	rec_buf_le32(b, rec_crc32c(0, b->p + start, b->len - start));
}

/* the preamble and header of @data (ending at @header_end) as minor @minor, checksum made again */
static void put_header_minor(struct rec_buf *b, const uint8_t *data, uint64_t header_end,
			     uint8_t minor)
{
	size_t k = header_end - REC_CRC_LEN;

	rec_buf_put(b, data, header_end);
	b->p[10] = minor;
	b->len = k;
	rec_buf_le32(b, rec_crc32c(0, b->p, k));
}

/*
 * A later minor version: a record of a type this one does not know is
 * skipped, and bytes after the fields of a known type are ignored.
 */
static void later_minor_read(void)
{
	static const uint8_t unknown_body[] = { 1, 2, 3, 0xff, 0x80, 0 };
	size_t len, n, nsamples, k;
	uint8_t *data = sample_recording(&len, &nsamples, 0);
	uint64_t header_end;
	struct seen *full = list_records(data, len, &n, &header_end);
	struct rec_buf b = {}, body = {};
	struct rec v[SAMPLES_MAX], got;
	struct rec_reader *r;
	struct rec_stats st;
	size_t i = 0, sample = 0;
	char why[256];

	put_header_minor(&b, data, header_end, 9);
	/* an unknown type first, and one of a large number */
	put_frame(&b, REC_TYPES, unknown_body, sizeof(unknown_body));
	put_frame(&b, 1ull << 40, "", 0);
	for (k = 0; k < n; k++) {
		const uint8_t *f = data + full[k].offset;
		struct rec_cursor c = { f, f + full[k].size, false };
		uint64_t type = rec_get_varint(&c), blen = rec_get_varint(&c);

		/* each known record with two bytes more, of fields to come */
		body.len = 0;
		rec_buf_put(&body, c.p, blen);
		rec_buf_put(&body, "\x05\x81", 2);
		put_frame(&b, type, body.p, body.len);
		if (k == n / 2)
			put_frame(&b, 200, unknown_body, sizeof(unknown_body));
	}
	CHECK_EQ(rec_reader_open_mem(&r, b.p, b.len, why, sizeof(why)), 0);
	CHECK_EQ(rec_reader_header(r)->minor, 9);
	record_samples(v);
	while (rec_next(r, &got) == 1) {
		CHECK(i < n && got.type == full[i].type, "record %zu", i);
		if (got.type != REC_STRING && got.type != REC_END && sample < nsamples)
			check_same(&v[sample++], &got);
		i++;
	}
	CHECK_EQ(sample, nsamples);
	CHECK_EQ(i, n);
	CHECK(!rec_reader_truncated(r, NULL), "%s", rec_reader_damage(r));
	rec_reader_stats(r, &st);
	CHECK_EQ(st.skipped, 3);
	rec_reader_close(r);
	rec_buf_free(&b);
	rec_buf_free(&body);
	free(full);
	free(data);
}

/*
 * An earlier minor version: a 1.1 file's limit records end before the bound
 * cgroup's path (appended in 1.2), which reads as "", and the thread and
 * where (1.5), which read as 0; its snapshot-end records before their heaps
 * (appended in 1.3), which read as none.
 */
static void earlier_minor_read(void)
{
	size_t len, n, nsamples, k;
	uint8_t *data = sample_recording(&len, &nsamples, 0);
	uint64_t header_end;
	struct seen *full = list_records(data, len, &n, &header_end);
	struct rec_buf b = {};
	struct rec v[SAMPLES_MAX], got;
	struct rec_reader *r;
	size_t sample = 0, limits = 0;
	char why[256];

	put_header_minor(&b, data, header_end, 1);
	for (k = 0; k < n; k++) {
		const uint8_t *f = data + full[k].offset;
		struct rec_cursor c = { f, f + full[k].size, false };
		uint64_t type = rec_get_varint(&c), blen = rec_get_varint(&c);

		/* cut a limit record after its backend (its 9th field), a snapshot's end
		 * after ts, buffers and bytes: each field a varint */
		if (type == REC_LIMIT || type == REC_SNAP_END) {
			struct rec_cursor e = { c.p, c.p + blen, false };

			for (int i = 0; i < (type == REC_LIMIT ? 9 : 3); i++)
				rec_get_varint(&e);
			CHECK(!e.bad && e.p < c.p + blen, "record type %llu: fields past its end",
			      (unsigned long long)type);
			blen = (uint64_t)(e.p - c.p);
		}
		put_frame(&b, type, c.p, blen);
	}
	CHECK_EQ(rec_reader_open_mem(&r, b.p, b.len, why, sizeof(why)), 0);
	CHECK_EQ(rec_reader_header(r)->minor, 1);
	record_samples(v);
	while (rec_next(r, &got) == 1) {
		if (got.type == REC_STRING || got.type == REC_END || sample >= nsamples)
			continue;
		if (got.type == REC_LIMIT) {
			CHECK(got.limit.bound_cgroup && !strcmp(got.limit.bound_cgroup, ""),
			      "a 1.1 limit record's bound cgroup: \"%s\"", got.limit.bound_cgroup);
			CHECK(!got.limit.tid && !got.limit.when, "a 1.1 limit record's tid %u, when %u",
			      got.limit.tid, got.limit.when);
			v[sample].limit.bound_cgroup = "";
			v[sample].limit.tid = v[sample].limit.when = 0;
			limits++;
		}
		if (got.type == REC_SNAP_END) {
			CHECK(!got.snap_end.nheaps && !got.snap_end.heaps, "a 1.1 snapshot's heaps: %u",
			      got.snap_end.nheaps);
			v[sample].snap_end.nheaps = 0;
		}
		check_same(&v[sample++], &got);
	}
	CHECK_EQ(sample, nsamples);
	CHECK_EQ(limits, 2);
	CHECK(!rec_reader_truncated(r, NULL), "%s", rec_reader_damage(r));
	rec_reader_close(r);
	rec_buf_free(&b);
	free(full);
	free(data);
}

/*
 * Records whose checksum is good but whose contents no writer writes: the
 * reader stops at them as at a damaged record, having given those before.
 */
static void malformed_records_stop_reading(void)
{
	static const struct { const char *what; uint64_t type; uint8_t body[12]; size_t len; }
	cases[] = {
		{ "undefined string", REC_PROCESS, { 1, 0, 5, 1, 0 }, 5 },
		{ "string out of order", REC_STRING, { 2, 1, 'a' }, 3 },
		{ "string with a NUL", REC_STRING, { 1, 2, 'a', 0 }, 4 },
		{ "string id 0", REC_STRING, { 0, 1, 'a' }, 3 },
		{ "u32 over", REC_FD, { 0, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 1 }, 8 },
		{ "tid over", REC_PROCESS, { 0xff, 0xff, 0xff, 0xff, 0x0f, 2, 0, 0, 0 }, 9 },
		{ "i32 over", REC_END, { 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0 }, 8 },
		{ "fields past the end", REC_RELEASE, { 0, 1 }, 2 },
		{ "empty body", REC_ALLOC, {}, 0 },
		{ "pid list too long", REC_SNAP_BUF, { 1, 1, 0, 0, 100, 1, 1 }, 7 },
		{ "blob past the end", REC_STACK, { 1, 9, 1, 2 }, 4 },
		{ "frames past the blob", REC_STACK, { 1, 2, 9, 0 }, 4 },
		{ "frame cut short", REC_STACK, { 1, 6, 1, 0, 0, 0, 0, 0x80 }, 8 },
		{ "frame undefined string", REC_STACK, { 1, 6, 1, 99, 0, 0, 0, 0 }, 8 },
		{ "frame flags over", REC_STACK, { 1, 10, 1, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80,
						   0x10 }, 12 },
		{ "heaps too many", REC_CHECKPOINT, { 1, 0, 0, 9, 0, 0 }, 6 },
		{ "second header", REC_HEADER, { 1, 0, 0, 0, 0, 0 }, 6 },
		{ "bad varint", REC_FD, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0x01 }, 11 },
	};
	size_t len;
	uint8_t *data = sample_recording(&len, NULL, 0);
	uint64_t header_end;
	size_t n;
	struct seen *full = list_records(data, len, &n, &header_end);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rec_buf b = {};
		struct rec_reader *r;
		struct rec got;
		uint64_t off = 0, good;
		char why[256];
		int got_n = 0;

		/* the header and one good release, then the case */
		rec_buf_put(&b, data, header_end);
		put_frame(&b, REC_RELEASE, "\x02\x01\x01\x01", 4);
		good = b.len;
		put_frame(&b, cases[i].type, cases[i].body, cases[i].len);
		put_frame(&b, REC_RELEASE, "\x02\x01\x01\x01", 4);
		CHECK_EQ(rec_reader_open_mem(&r, b.p, b.len, why, sizeof(why)), 0);
		while (rec_next(r, &got) == 1)
			got_n++;
		CHECK(got_n == 1 && rec_reader_truncated(r, &off) && off == good,
		      "%s: %d records, stopped at %llu: %s", cases[i].what, got_n,
		      (unsigned long long)off, rec_reader_damage(r));
		rec_reader_close(r);
		rec_buf_free(&b);
	}
	free(full);
	free(data);
}

/* what is not a recording; what is a recording cut before its header's end */
static void not_a_recording(void)
{
	struct rec_reader *r;
	struct rec got;
	uint64_t off = 1;
	char why[256];

	CHECK_EQ(rec_reader_open_mem(&r, "hello, world\n", 13, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "not a heapstat recording"), "%s", why);
	CHECK_EQ(rec_reader_open_mem(&r, "\x89HS", 3, why, sizeof(why)), 0);
	CHECK(!rec_reader_header(r), "a header");
	CHECK_EQ(rec_next(r, &got), 0);
	CHECK(rec_reader_truncated(r, &off) && off == 0, "%llu", (unsigned long long)off);
	rec_reader_close(r);
	CHECK_EQ(rec_reader_open_mem(&r, "", 0, why, sizeof(why)), 0);
	CHECK(rec_reader_truncated(r, &off) && off == 0, "%llu", (unsigned long long)off);
	CHECK(strstr(rec_reader_damage(r), "header"), "%s", rec_reader_damage(r));
	rec_reader_close(r);
	/* a directory cannot be read */
	CHECK_EQ(rec_reader_open(&r, "/tmp", why, sizeof(why)), -EISDIR);
	CHECK(strstr(why, "failed to read /tmp"), "%s", why);
}

/* sizes past the format's limits are errors, and the writer goes on */
static void writer_limits(void)
{
	size_t big = REC_MAX_STR + 1;
	char *s = malloc(big + 1);
	/* 18 bytes each: more than a record may hold, then fewer */
	uint32_t nbig = REC_MAX_BODY / 18 + 1, nfit = 900000;
	struct rec_frame *frames = calloc(nbig, sizeof(*frames));
	int fd = memfd_create("record_test", MFD_CLOEXEC);
	struct rec_writer *w;
	struct rec_reader *r;
	struct rec rec = { .type = REC_EXPORT, .export = { .ts = 1, .exporter = s } };
	struct rec got;
	uint32_t id;
	uint8_t *data;
	size_t len;
	char why[256];

	memset(s, 'x', big);
	s[big] = '\0';
	CHECK_EQ(rec_writer_fdopen(&w, fd, &sample_header), 0);
	CHECK_EQ(rec_write(w, &rec), -E2BIG);
	CHECK_EQ(rec_intern(w, s, &id), -E2BIG);
	s[REC_MAX_STR] = '\0';			/* the longest a string may be */
	CHECK_EQ(rec_write(w, &rec), 0);
	for (uint32_t k = 0; k < nbig; k++)
		frames[k] = (struct rec_frame){ .offset = UINT64_MAX, .flags = UINT32_MAX };
	rec = (struct rec){ .type = REC_STACK, .stack = { .id = 1, .nframes = nbig,
							   .frames = frames } };
	CHECK_EQ(rec_write(w, &rec), -E2BIG);
	rec.stack.nframes = nfit;
	CHECK_EQ(rec_write(w, &rec), 0);
	rec.stack.frames = NULL;
	CHECK_EQ(rec_write(w, &rec), -EINVAL);
	rec = (struct rec){ .type = REC_SNAP_BUF, .snap_buf = { .nholders = 3 } };
	CHECK_EQ(rec_write(w, &rec), -EINVAL);
	for (unsigned int t = 0; t < REC_TYPES + 2; t++) {
		if (t == 0 || t == REC_HEADER || t == REC_STRING || t == REC_END ||
		    t >= REC_TYPES) {
			rec = (struct rec){ .type = t };
			CHECK_EQ(rec_write(w, &rec), -EINVAL);
		}
	}
	CHECK_EQ(rec_intern(w, "", &id), 0);
	CHECK_EQ(id, 0);
	CHECK_EQ(rec_intern(w, "system", &id), 0);
	CHECK_EQ(id, 2);
	CHECK_EQ(rec_intern(w, "system", &id), 0);
	CHECK_EQ(id, 2);
	CHECK_EQ(rec_writer_close(w, 0), 0);
	data = slurp(fd, &len);
	close(fd);
	CHECK_EQ(rec_reader_open_mem(&r, data, len, why, sizeof(why)), 0);
	CHECK_EQ(rec_next(r, &got), 1);
	CHECK(got.type == REC_STRING && strlen(got.string.s) == REC_MAX_STR, "long string");
	CHECK_EQ(rec_next(r, &got), 1);
	CHECK_EQ(got.type, REC_EXPORT);
	CHECK_EQ(rec_next(r, &got), 1);
	CHECK(got.type == REC_STACK && got.stack.nframes == nfit &&
	      got.stack.frames[nfit - 1].offset == UINT64_MAX &&
	      got.stack.frames[nfit - 1].flags == UINT32_MAX, "big stack");
	CHECK_EQ(rec_next(r, &got), 1);
	CHECK(got.type == REC_STRING && !strcmp(got.string.s, "system"), "system");
	CHECK_EQ(rec_next(r, &got), 1);
	CHECK_EQ(got.type, REC_END);
	CHECK(!rec_reader_truncated(r, NULL), "%s", rec_reader_damage(r));
	rec_reader_close(r);
	free(data);
	free(frames);
	free(s);
}

/* many strings: the writer's table grows, every id stays its string's */
static void many_strings(void)
{
	int fd = memfd_create("record_test", MFD_CLOEXEC);
	struct rec_writer *w;
	struct rec_reader *r;
	struct rec rec;
	uint8_t *data;
	size_t len, n = 0;
	char name[32], why[256];

	CHECK_EQ(rec_writer_fdopen(&w, fd, &sample_header), 0);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "buf-%d", i);
			rec = (struct rec){ .type = REC_EXPORT, .export = {
				.ts = SAMPLE_T0 + i, .exporter = name, .ino = i } };
			CHECK_EQ(rec_write(w, &rec), 0);
		}
	CHECK_EQ(rec_writer_close(w, 0), 0);
	data = slurp(fd, &len);
	close(fd);
	CHECK_EQ(rec_reader_open_mem(&r, data, len, why, sizeof(why)), 0);
	while (rec_next(r, &rec) == 1) {
		if (rec.type != REC_EXPORT)
			continue;
		snprintf(name, sizeof(name), "buf-%llu", (unsigned long long)rec.export.ino);
		CHECK(!strcmp(rec.export.exporter, name), "%s != %s", rec.export.exporter, name);
		n++;
	}
	CHECK_EQ(n, 10000);
	rec_reader_close(r);
	free(data);
}

/*
 * @n names, each of a prefix and three bytes chosen so that FNV-1a from its
 * offset basis (the writer's hash before its seed) ends with 18 low bits 0:
 * one slot of the writer's table at every size it takes up to 2^18. Each
 * name is NAME_LEN bytes, NUL included.
 */
#define CRAFTED_LEN 12
static char *crafted_names(size_t n)
{
	const uint64_t p = 0x100000001b3ull, mask = (1u << 18) - 1;
	struct { uint8_t b, c; uint32_t u; } *by_high = calloc(1024 * 256, sizeof(*by_high));
	uint16_t *count = calloc(1024, sizeof(*count));
	char *v = calloc(n, CRAFTED_LEN);
	uint64_t pinv = p;

	if (!by_high || !count || !v)
		goto fail;
	for (int i = 0; i < 6; i++)	/* Newton: p * pinv == 1 mod 2^64 */
		pinv *= 2 - p * pinv;
	/* the state before the last three bytes, a and b and c, that ends at 0 is
	 * ((((c * pinv) ^ b) * pinv) ^ a): kept by its bits above a's */
	for (int b = 1; b < 256; b++)
		for (int c = 1; c < 256; c++) {
			uint32_t u = (((c * pinv) ^ b) * pinv) & mask, k = u >> 8;

			if (count[k] < 256)
				by_high[k * 256 + count[k]++] = (typeof(*by_high)){ b, c, u };
		}
	for (size_t i = 0; i < n; i++) {
		char *name = v + i * CRAFTED_LEN;
		uint64_t h = 0xcbf29ce484222325ull;
		uint32_t x, k;
		int j;

		snprintf(name, CRAFTED_LEN, "c%07zu", i);
		for (j = 0; name[j]; j++)
			h = (h ^ (uint8_t)name[j]) * p;
		x = h & mask, k = x >> 8;
		for (int e = 0; e < count[k]; e++)
			if ((x ^ by_high[k * 256 + e].u) & 0xff) {
				name[j] = (char)((x ^ by_high[k * 256 + e].u) & 0xff);
				name[j + 1] = (char)by_high[k * 256 + e].b;
				name[j + 2] = (char)by_high[k * 256 + e].c;
				break;
			}
		if (!name[j])
			goto fail;
	}
	free(by_high);
	free(count);
	return v;
fail:
	free(by_high);
	free(count);
	free(v);
	return NULL;
}

/*
 * Names a recorded process chose (its comm) to share a slot of the writer's
 * string table under its hash without a seed: each one's interning walked
 * all before it (4 s at 100k here). Seeded per writer: linear, the bound 2 s.
 */
static void crafted_strings_linear(void)
{
	enum { N = 100000 };
	int fd = memfd_create("record_test", MFD_CLOEXEC);
	char *names = crafted_names(N);
	struct rec_writer *w;
	struct timespec t0, t1;
	struct rec rec;
	double took;

	CHECK(names, "no name found");
	if (!names)
		return;
	CHECK_EQ(rec_writer_fdopen(&w, fd, &sample_header), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++) {
		rec = (struct rec){ .type = REC_EXPORT, .export = {
			.ts = SAMPLE_T0 + i, .exporter = names + (size_t)i * CRAFTED_LEN, .ino = i + 1 } };
		CHECK_EQ(rec_write(w, &rec), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(took < 2, "%.1f s", took);
	CHECK_EQ(rec_writer_close(w, 0), 0);
	close(fd);
	free(names);
}

/*
 * A recorder killed with SIGKILL while it writes: the file reads up to its
 * last whole record, every record before it as written, and is truncated.
 */
static void killed_writer_readable(void)
{
	char path[] = "/tmp/record_test.XXXXXX", why[256];
	struct rec_reader *r;
	struct rec rec;
	uint64_t next = 1, off, size;
	struct stat st;
	pid_t pid;
	int fd = mkstemp(path), status;

	close(fd);
	pid = fork();
	if (pid == 0) {
		struct rec_writer *w;

		if (rec_writer_open(&w, path, &sample_header))
			_exit(1);
		for (uint64_t i = 1; i <= 2000000; i++) {
			rec = (struct rec){ .type = REC_ALLOC, .alloc = {
				.ts = SAMPLE_T0 + i * 1000, .pid = 100 + i % 7, .tid = 100 + i % 7,
				.comm = i % 2 ? "a" : "b", .heap = "system", .requested = 4096,
				.allocated = 4096, .ino = i } };
			if (rec_write(w, &rec) || (i % 10 == 0 && rec_flush(w)))
				_exit(1);
		}
		pause();
		_exit(0);
	}
	/* once it has written a good deal, in the middle of writing more */
	for (int i = 0; i < 2000 && (stat(path, &st) || st.st_size < (1 << 20)); i++)
		usleep(5000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	CHECK_EQ(stat(path, &st), 0);
	size = st.st_size;
	CHECK_EQ(rec_reader_open(&r, path, why, sizeof(why)), 0);
	while (rec_next(r, &rec) == 1) {
		if (rec.type != REC_ALLOC)
			continue;
		CHECK(rec.alloc.ino == next && rec.alloc.ts == SAMPLE_T0 + next * 1000,
		      "record %llu", (unsigned long long)next);
		if (rec.alloc.ino != next)
			break;
		next++;
	}
	CHECK(rec_reader_truncated(r, &off) && off <= size && off + 64 > size,
	      "stopped at %llu of %llu", (unsigned long long)off, (unsigned long long)size);
	printf("  killed after %llu records, %llu bytes: %s\n", (unsigned long long)next - 1,
	       (unsigned long long)size, rec_reader_damage(r));
	rec_reader_close(r);
	unlink(path);
}

int main(void)
{
	RUN(crc32c_known_values);
	RUN(crc32c_instruction_as_tables);
	RUN(varints_and_zigzag);
	RUN(round_trip_every_type);
	RUN(end_status);
	RUN(bytes_per_event);
	RUN(cut_at_every_offset);
	RUN(cut_files_read_alike);
	RUN(flipped_byte_detected);
	RUN(newer_major_refused);
	RUN(later_minor_read);
	RUN(earlier_minor_read);
	RUN(malformed_records_stop_reading);
	RUN(not_a_recording);
	RUN(writer_limits);
	RUN(many_strings);
	RUN(crafted_strings_linear);
	RUN(killed_writer_readable);
	return tests_failed ? 1 : 0;
}
