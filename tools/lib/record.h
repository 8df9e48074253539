/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recording format of heapstat record and heapstat analyze
 * (docs/record-format.md): a preamble (magic, version), a header record, then
 * framed records (type, length, body, CRC32C), appended and flushed as they
 * come, so that a recorder killed at any moment leaves a file readable up to
 * its last whole record.
 *
 * One struct per kind of record, in a tagged union (struct rec). Strings are
 * plain C strings on both sides: the writer interns them (each is written
 * once, in a string record, and referred to by id afterwards) and the reader
 * resolves the ids back to strings.
 *
 * Every function returns 0 (rec_next: 1, a record) or a negative errno; the
 * reader says why it refused a file in the caller's buffer, and why it
 * stopped early through rec_reader_truncated(). Nothing is printed here.
 *
 * The encoding is in record_layout.c (which fields each kind has, and how
 * each is encoded), record_codec.c (varints, zigzag, CRC32C), and the two
 * sides in record_write.c and record_read.c.
 */
#ifndef HEAPSTAT_RECORD_H
#define HEAPSTAT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_MAGIC		"\x89HSREC\r\n"	/* 8 bytes, no NUL */
#define REC_MAGIC_LEN		8
#define REC_PREAMBLE_LEN	12		/* magic, major and minor (le16 each) */
#define REC_MAJOR		1		/* a reader refuses a newer major */
#define REC_MINOR		5		/* and reads any minor of its own (1: stacks, cma-state;
						 * 2: the limit's bound cgroup path; 3: the
						 * heaps at a snapshot; 4: what went untraced;
						 * 5: a limit refusal's thread and when) */

#define REC_MAX_BODY		(16u << 20)	/* a longer record is corrupt */
#define REC_MAX_STR		(64u << 10)	/* a longer string too */
#define REC_CHECKPOINT_BYTES	(1u << 20)	/* rec_checkpoint_due(): this far apart */

/* the record types: numbers of the format, never reused */
enum rec_type {
	REC_HEADER = 1,
	REC_STRING = 2,
	REC_PROCESS = 3,
	REC_SNAP_BEGIN = 4,
	REC_SNAP_BUF = 5,
	REC_SNAP_END = 6,
	REC_ALLOC = 7,
	REC_EXPORT = 8,
	REC_RELEASE = 9,
	REC_FD = 10,
	REC_CMA = 11,
	REC_LIMIT = 12,
	REC_DROPS = 13,
	REC_STACK = 14,
	REC_CHECKPOINT = 15,
	REC_END = 16,
	REC_CMA_STATE = 17,		/* since 1.1 */
	REC_TYPES			/* one past the last this version knows */
};

/*
 * Times are CLOCK_MONOTONIC nanoseconds (the BPF side's bpf_ktime_get_ns()),
 * absolute in every struct. pid is a process (the kernel's tgid), tid a
 * thread (the kernel's pid). A string is never NULL when read: "" when none.
 */

struct rec_header {
	uint16_t major, minor;		/* the file's format version (read only) */
	uint64_t mono_ns;		/* CLOCK_MONOTONIC at the start */
	uint64_t real_ns;		/* CLOCK_REALTIME at the same moment */
	uint32_t page_size;
	const char *kernel;		/* uname -r */
	const char *host;		/* uname -n */
	const char *command;		/* what was recorded, "" when nothing was run */
	uint32_t untraced;		/* since 1.4: REC_UNTRACED_* events this kernel
					 * could not trace (0 in an earlier file) */
};

/* rec_header.untraced: their counts in the file are not zeros but unknown */
#define REC_UNTRACED_FDS	1u	/* fd records (no dma_buf_fd tracepoints: 7.0+) */
#define REC_UNTRACED_CMA	2u	/* CMA records, though the kernel has CMA memory */

/* a string definition: the reader returns them, rec_intern() writes them */
struct rec_string {
	uint32_t id;			/* 1, 2, 3, ... in the order defined */
	const char *s;
};

/* a task: what its pid stands for in the records after it */
struct rec_process {
	uint32_t pid;			/* the process (the kernel's tgid) */
	uint32_t tid;			/* the thread described (the kernel's pid) */
	const char *comm;
	uint64_t cgroup_id;
	const char *cgroup;		/* its path from the cgroup2 root: "/camera" */
};

enum rec_snap_when { REC_SNAP_START = 1, REC_SNAP_FINAL = 2 };

/* an inventory of the live buffers: begin, one buf per buffer, end */
struct rec_snap_begin {
	uint64_t ts;
	uint32_t when;			/* enum rec_snap_when */
	uint32_t source;		/* enum inv_source: where the buffers were read */
};

struct rec_snap_buf {
	uint64_t ino;
	uint64_t size;
	const char *exporter;		/* a heap's name for heap buffers */
	const char *name;		/* the buffer's own, "" when unnamed */
	uint32_t nholders;
	const uint32_t *holders;	/* pids; read: valid until the next rec_next() */
};

struct rec_heap_bytes {
	const char *heap;
	uint64_t bytes;
};

struct rec_snap_end {
	uint64_t ts;
	uint64_t buffers;		/* buf records since the begin */
	uint64_t bytes;			/* their sizes */
	uint32_t nheaps;		/* since 1.3: every heap of the system then, */
	const struct rec_heap_bytes *heaps;	/* with its buffers' bytes in the snapshot */
};

/* one DMA_HEAP_IOCTL_ALLOC, failed or not */
struct rec_alloc {
	uint64_t ts;
	uint32_t pid, tid;
	const char *comm;
	uint64_t cgroup_id;
	const char *heap;
	uint64_t requested;		/* the length asked for */
	uint64_t allocated;		/* the buffer's size, 0 when it failed */
	uint64_t latency_ns;
	int32_t err;			/* 0 or -errno */
	uint64_t ino;			/* the buffer exported, 0 when it failed */
	uint32_t fail_class;		/* enum coll_fail_class */
	uint32_t stack_id;		/* a stack record's id, 0: none */
};

/* a dma-buf exported otherwise than by a heap allocation */
struct rec_export {
	uint64_t ts;
	uint32_t pid;
	uint64_t cgroup_id;
	const char *exporter;
	uint64_t ino;
	uint64_t size;
};

/* a dma-buf's final release */
struct rec_release {
	uint64_t ts;
	uint64_t ino;
	uint64_t lifetime_ns;
	uint64_t cgroup_id;		/* the exporting task's */
};

/*
 * What happened to a buffer's fds or mappings: passed and dup'ed are not
 * traced by any kernel yet; since 1.1, an fd made for the buffer
 * (dma_buf_fd) and the kernel taking the buffer from an fd, an importer
 * (dma_buf_get)
 */
enum rec_fd_kind { REC_FD_PASS = 1, REC_FD_DUP = 2, REC_FD_MMAP = 3, REC_FD_MADE = 4,
		   REC_FD_TAKEN = 5 };

/* a buffer's fd made, passed, duplicated or taken, or the buffer mapped */
struct rec_fd {
	uint64_t ts;
	uint32_t pid;
	uint32_t kind;			/* enum rec_fd_kind */
	uint64_t ino;
};

enum rec_cma_kind { REC_CMA_ALLOC = 1, REC_CMA_RELEASE = 2, REC_CMA_BUSY = 3 };

struct rec_cma {
	uint64_t ts;
	uint32_t kind;			/* enum rec_cma_kind */
	const char *area;
	uint64_t pfn;			/* the first page */
	uint64_t count;			/* pages */
	uint64_t latency_ns;
	int32_t result;			/* 0 or -errno */
};

/* a CMA area's state, at the snapshots and each checkpoint: its fragmentation over time */
struct rec_cma_state {
	uint64_t ts;
	const char *area;
	uint64_t total_bytes;
	uint64_t used_bytes;
	uint64_t largest_free_bytes;	/* the largest free extent, when REC_CMA_EXTENTS */
	uint32_t free_extents;		/* free extents, when REC_CMA_EXTENTS */
	uint32_t flags;			/* REC_CMA_EXTENTS: read from the area's bitmap */
};

#define REC_CMA_EXTENTS		1u

enum rec_limit_backend { REC_LIMIT_BPF_LSM = 1, REC_LIMIT_DMEM = 2, REC_LIMIT_MEMCG = 3 };
/* where a bpf-lsm limit refused (limit events' `when`); 0: not told (dmem, memcg, before 1.5) */
enum rec_limit_when { REC_LIMIT_AT_IOCTL = 1, REC_LIMIT_AT_EXPORT = 2, REC_LIMIT_NO_CELL = 3 };

/* a limit record's usage and limit both this: not known (docs/record-format.md) */
#define REC_LIMIT_UNKNOWN	UINT64_MAX

/* an allocation a limit refused */
struct rec_limit {
	uint64_t ts;
	uint32_t pid;
	uint64_t cgroup_id;		/* the task's */
	uint64_t bound_cgroup_id;	/* whose limit refused */
	const char *heap;
	uint64_t requested;
	uint64_t usage;			/* of bound_cgroup_id, before the request */
	uint64_t limit;
	uint32_t backend;		/* enum rec_limit_backend */
	const char *bound_cgroup;	/* bound_cgroup_id's path, "" unknown (since 1.2) */
	uint32_t tid;			/* the allocating thread, 0 unknown (since 1.5) */
	uint32_t when;			/* enum rec_limit_when, 0 none (since 1.5) */
};

enum rec_drop_source { REC_DROP_EVENTS = 1, REC_DROP_LIMIT_EVENTS = 2 };

/* events lost before they reached the recorder */
struct rec_drops {
	uint64_t first_ts, last_ts;	/* when the first and the last were lost */
	uint64_t count;
	uint32_t source;		/* enum rec_drop_source */
};

#define REC_FRAME_KERNEL	1u	/* rec_frame.flags: a kernel address */

/* a return address of a stack, symbolized when it was recorded */
struct rec_frame {
	const char *sym;		/* "function+0x1a", "" when unknown */
	const char *binary;		/* the ELF file's path; kernel: vmlinux or a module */
	const char *build_id;		/* its GNU build id in hex, "" when none */
	uint64_t offset;		/* user: in the file; kernel: the address */
	uint32_t flags;			/* REC_FRAME_* */
};

/*
 * A call stack, referred to by id from the records after it: kernel frames
 * then user frames, each innermost first (1.0: an opaque blob, never written).
 */
struct rec_stack {
	uint32_t id;			/* not 0 */
	uint32_t nframes;
	const struct rec_frame *frames;	/* read: valid until the next rec_next() */
};

/* where the recording is: the writer counts, the recorder gives live bytes */
struct rec_checkpoint {
	uint64_t ts;
	uint64_t records;		/* written before this one (set by the writer) */
	uint64_t events;		/* event records among them (set by the writer) */
	uint32_t nheaps;
	const struct rec_heap_bytes *heaps;	/* read: valid until the next rec_next() */
};

enum rec_end_how {
	REC_END_NONE = 0, REC_END_EXITED = 1, REC_END_SIGNALED = 2,
	REC_END_RUNNING = 3,		/* stopped (-d, a signal) before the command ended */
	REC_END_NOT_STARTED = 4,	/* stopped (a signal) before the command started:
					 * it was not run */
};

struct rec_end {
	uint64_t ts;
	uint32_t how;			/* enum rec_end_how: how the command ended */
	int32_t code;			/* its exit status or signal */
	uint64_t records;		/* written before this one */
};

struct rec {
	enum rec_type type;
	uint64_t offset;		/* read: of the record in the file */
	uint32_t size;			/* read: its bytes, framing included */
	union {
		struct rec_string string;
		struct rec_process process;
		struct rec_snap_begin snap_begin;
		struct rec_snap_buf snap_buf;
		struct rec_snap_end snap_end;
		struct rec_alloc alloc;
		struct rec_export export;
		struct rec_release release;
		struct rec_fd fd;
		struct rec_cma cma;
		struct rec_cma_state cma_state;
		struct rec_limit limit;
		struct rec_drops drops;
		struct rec_stack stack;
		struct rec_checkpoint checkpoint;
		struct rec_end end;
	};
};

/* "alloc", "release", ...; "unknown" past what this version knows */
const char *rec_type_name(unsigned int type);
/* allocations, exports, releases, fd, CMA and limit records */
bool rec_type_is_event(unsigned int type);

/* the writer */

struct rec_writer;

struct rec_stats {
	uint64_t records;		/* the header and string records included */
	uint64_t events;
	uint64_t bytes;			/* of the file, buffered bytes included */
	uint64_t skipped;		/* reader: records of unknown types */
};

#define REC_STATUS_NONE		(-1)	/* rec_writer_close(): no command was run */
#define REC_STATUS_RUNNING	(-2)	/* the command had not ended */
#define REC_STATUS_NOT_STARTED	(-3)	/* the command was not started */

/*
 * Create @path (0600, truncated) or write to @fd (left open at the end) and
 * write the preamble and @h, flushed. @h's major and minor are ignored; a
 * NULL kernel or host is taken from uname(), zero times from the clocks now.
 * A path is locked (flock) for one writer before it is emptied: -EBUSY,
 * and the file left whole, while another writer has it.
 */
int rec_writer_open(struct rec_writer **out, const char *path, const struct rec_header *h);
/* as rec_writer_open(), a file made new: -EEXIST, nothing written, when @path is there;
 * one made whose header cannot be written is removed again */
int rec_writer_create(struct rec_writer **out, const char *path, const struct rec_header *h);
int rec_writer_fdopen(struct rec_writer **out, int fd, const struct rec_header *h);
/* another writer has @path now (a check that changes nothing; rec_writer_open() claims it) */
bool rec_writer_busy(const char *path);
/*
 * Append a record (any type but REC_HEADER and REC_STRING): its strings are
 * interned first. Flushed when a good deal is buffered; rec_flush() after
 * each batch. After a failed write every call returns that error.
 */
int rec_write(struct rec_writer *w, const struct rec *r);
/* @s's id, defining it first if it is new ("" and NULL are 0) */
int rec_intern(struct rec_writer *w, const char *s, uint32_t *id);
/* write out what is buffered: whole records only */
int rec_flush(struct rec_writer *w);
/* REC_CHECKPOINT_BYTES written since the last checkpoint (or the start) */
bool rec_checkpoint_due(const struct rec_writer *w);
void rec_writer_stats(const struct rec_writer *w, struct rec_stats *st);
/*
 * Write the end record with @wstatus, as waitpid() gave it, or
 * REC_STATUS_NONE or REC_STATUS_RUNNING; flush, close and free. The first
 * error seen, if any.
 */
int rec_writer_close(struct rec_writer *w, int wstatus);

/* the reader */

struct rec_reader;

/*
 * Open a recording and read its header. -EINVAL: not a recording;
 * -EPROTONOSUPPORT: a newer major version; why says which, or what failed.
 * A file cut inside its header opens: rec_reader_header() is NULL and it is
 * truncated at offset 0.
 */
int rec_reader_open(struct rec_reader **out, const char *path, char *why, size_t why_len);
int rec_reader_fdopen(struct rec_reader **out, int fd, char *why, size_t why_len);
/* @data is read in place: it must outlive the reader */
int rec_reader_open_mem(struct rec_reader **out, const void *data, size_t len,
			char *why, size_t why_len);
const struct rec_header *rec_reader_header(const struct rec_reader *r);
/*
 * The next record in @out: 1; 0 after the end record, or at the first torn
 * or corrupt record (see rec_reader_truncated()); -errno when reading failed.
 * Records of unknown types are skipped. Strings live until rec_reader_close().
 */
int rec_next(struct rec_reader *r, struct rec *out);
/*
 * Once rec_next() returned 0: whether the reader stopped before an end
 * record, at a torn, damaged or malformed record or at the end of a file
 * without one (docs/record-format.md). @offset: the end of the last
 * whole record (0 when the header is not whole). rec_reader_damage() says
 * what was found there.
 */
bool rec_reader_truncated(const struct rec_reader *r, uint64_t *offset);
const char *rec_reader_damage(const struct rec_reader *r);
void rec_reader_stats(const struct rec_reader *r, struct rec_stats *st);
void rec_reader_close(struct rec_reader *r);

#endif
