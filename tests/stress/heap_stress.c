// SPDX-License-Identifier: GPL-2.0
/*
 * heap_stress: hammer dma-buf heaps with valid and hostile input from several
 * threads, as a system-call fuzzer would, and check every errno against the
 * documented table (docs/errors.md, built in as errors.h).
 *
 *   heap_stress -s SEED -t SECS [-n OPS] [-j THREADS] [-c CGROUP] [HEAP[:nomap|:lsm]]...
 *
 * A heap's kind (a column of the table) is told by dmem.capacity (heapstat's
 * heaps), its name (system, -nomap), or the suffix: nomap, a carveout range
 * the CPU may not map; lsm, a heap a heapstat limit (bpf-lsm) may refuse.
 *
 * Every heap of /dev/dma_heap unless some are named. Each thread draws its
 * operations from its own generator, seeded from SEED and its index: the same
 * seed gives every thread the same sequence of operations (what they return
 * depends on the other threads). An operation is one of: an allocation, valid
 * or hostile (lengths, flags, command numbers encoding other sizes or another
 * type, bad and read-only pointers); on a buffer it holds, mmap (whole, at an
 * offset, private, past the end), munmap (whole or one page inside), dup,
 * close, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME, an unknown ioctl, the test
 * importer's check, attach and drop; a fork whose child holds everything for
 * a while, or allocates until killed; the kill of such a child; a switch of
 * heapstat_core's accounting; with -c, a move of the process to another of
 * three child cgroups of CGROUP (s0, s1, s2) and a new dmem.max there. The
 * allocators run in CGROUP/killed: nobody knows what they did when killed,
 * so the counts printed leave them out.
 *
 * Output: "FAIL: heap_stress: ..." for each errno not in the table (the first
 * 20, then a count), a PASS or FAIL line per check, and key=value summary
 * lines for a shell test: one for the run, one per heap ("heap=NAME ...")
 * with what it did that tracing would count.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "cgroup/dmem.h"
#include "lib/util.h"

/* ---- the errno table, from docs/errors.md ---- */

enum row {
#define ERRTAB(id, system, cma, heapstat, nomap, lsm) ROW_##id,
#include "errors.h"
#undef ERRTAB
	NROWS
};

enum kind { KIND_SYSTEM, KIND_CMA, KIND_HEAPSTAT, KIND_NOMAP, KIND_LSM, NKINDS };
static const char * const kind_names[NKINDS] = { "system", "cma", "heapstat", "nomap", "lsm" };

static const struct {
	const char *id;
	const char *cell[NKINDS];
} table[NROWS] = {
#define ERRTAB(id, system, cma, heapstat, nomap, lsm) \
	{ #id, { system, cma, heapstat, nomap, lsm } },
#include "errors.h"
#undef ERRTAB
};

#define MAX_ERRNO	140
#define MAX_HEAPS	16
#define MAX_BUFS	24		/* live buffers per thread */
#define MAX_LIVE	(24ull << 20)	/* bytes per thread */
#define MAX_CHILDREN	4		/* holders per thread */
#define NCGROUPS	3		/* s0, s1, s2 */
#define KILLED_CG	"killed"	/* the killed allocators' */
#define MAX_FAIL_LINES	20
#define IMPORTER	"/sys/kernel/debug/heapstat_importer"
#define ACCOUNTING	"/sys/module/heapstat_core/parameters/accounting"

/* allowed[row][kind]: bit per errno (0: success); tried: none means "-" */
static uint64_t allowed[NROWS][NKINDS][(MAX_ERRNO + 63) / 64];
static bool applies[NROWS][NKINDS];

static const struct {
	const char *name;
	int value;
} errno_names[] = {
	{ "0", 0 }, { "EINVAL", EINVAL }, { "ENOMEM", ENOMEM }, { "EAGAIN", EAGAIN },
	{ "EFAULT", EFAULT }, { "EACCES", EACCES }, { "EPERM", EPERM }, { "ENOTTY", ENOTTY },
	{ "ENOSPC", ENOSPC }, { "EINTR", EINTR }, { "EBADF", EBADF }, { "EBUSY", EBUSY },
};

static int parse_table(void)
{
	for (int r = 0; r < NROWS; r++) {
		for (int k = 0; k < NKINDS; k++) {
			char cell[128], *tok, *save;

			snprintf(cell, sizeof(cell), "%s", table[r].cell[k]);
			if (!strcmp(cell, "-"))
				continue;
			applies[r][k] = true;
			for (tok = strtok_r(cell, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
				size_t i;

				for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
					if (!strcmp(tok, errno_names[i].name))
						break;
				if (i == sizeof(errno_names) / sizeof(errno_names[0])) {
					printf("FAIL: heap_stress: docs/errors.md: %s: unknown errno '%s'\n",
					       table[r].id, tok);
					return -1;
				}
				allowed[r][k][errno_names[i].value / 64] |=
					1ull << (errno_names[i].value % 64);
			}
		}
	}
	return 0;
}

static const char *errno_name(int e)
{
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].value == e)
			return errno_names[i].name;
	const char *name = strerrorname_np(e);

	return name ? name : "E?";
}

/* ---- heaps and what was done to them ---- */

struct heap {
	char name[64];
	char region[80];	/* heapstat heaps: dma-heap/<name> */
	enum kind kind;
	int fd;
	uint64_t capacity;	/* 0: unknown */
	uint64_t granule;	/* its buffers' sizes are multiples of this */
	/* counted, atomically */
	uint64_t allocs, alloc_bytes;		/* successful allocation ioctls */
	uint64_t foreign_allocs, foreign_bytes;	/* of them, through a command of another type */
	uint64_t foreign_fails;			/* failed ones through such a command */
	uint64_t efault_exports, efault_bytes;	/* made, exported and released: EFAULT */
	uint64_t null_efaults;			/* EFAULT for a NULL argument */
	uint64_t errs[MAX_ERRNO + 1];		/* failed allocation ioctls by errno */
};

static struct heap heaps[MAX_HEAPS];
static int nheaps;

static uint64_t tried[NROWS][MAX_HEAPS];
static uint64_t mismatches, calls, ops_done;
static uint64_t n_forks, n_kills, n_moves, n_maxes, n_drops, n_dups, n_closes, n_maps;
static uint64_t harness_errors, n_allocators, data_errors, n_accounting;
static char accounting_was[16];	/* heapstat_core's accounting, restored at the end */

static struct {
	uint64_t seed;
	uint64_t secs;
	uint64_t threads;
	uint64_t ops;		/* per thread, 0: until the time is up */
	const char *cgroup;
} opts = { .secs = 10, .threads = 4 };

static char cgroups[NCGROUPS][512];
static char killed_procs[700];	/* cgroup.procs of the allocators' cgroup */
static bool importer;
static long page;
static uint64_t deadline;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

#define ADD(var, n) __atomic_fetch_add(&(var), (n), __ATOMIC_RELAXED)

/*
 * The result of one call for an input: counted, and checked against the
 * table. @what says which call, for the FAIL line.
 */
static void check(enum row r, struct heap *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void check(enum row r, struct heap *h, int err, const char *fmt, ...)
{
	int k = h->kind;
	char what[256];
	va_list ap;
	uint64_t n;

	ADD(tried[r][h - heaps], 1);
	ADD(calls, 1);
	if (err >= 0 && err <= MAX_ERRNO && (allowed[r][k][err / 64] & (1ull << (err % 64))))
		return;
	n = ADD(mismatches, 1);
	if (n >= MAX_FAIL_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&out_lock);
	printf("FAIL: heap_stress: %s on %s (%s): %s, documented %s (%s)\n", table[r].id,
	       h->name, kind_names[k], errno_name(err), table[r].cell[k], what);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static uint64_t round_up(uint64_t len, uint64_t granule)
{
	return (len + granule - 1) / granule * granule;
}

/* ---- a thread's state ---- */

struct buf {
	int fd;			/* -1: closed (a mapping may still hold the buffer) */
	int dup_fd;
	struct heap *heap;
	uint64_t size;
	int access;		/* fd_flags & O_ACCMODE */
	char *map;
	uint64_t map_len;
	uint64_t hole;		/* offset of a page unmapped inside it, or 0 */
};

struct worker {
	int index;
	uint64_t rng;
	struct buf bufs[MAX_BUFS];
	int nbufs;
	uint64_t live;
	pid_t children[MAX_CHILDREN];
	char *ro_page;		/* alloc_arg_readonly */
	char *big;		/* commands encoding up to 16383 bytes */
	uint64_t digest;	/* of the operations drawn */
	pthread_t thread;
};

/* splitmix64: small, and a seed per thread from one seed */
static uint64_t next_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void buf_forget(struct worker *w, int i)
{
	struct buf *b = &w->bufs[i];

	w->live -= b->size;
	w->bufs[i] = w->bufs[--w->nbufs];
}

/*
 * Unmap what is left of a buffer's mapping: around its hole, never over it,
 * where another thread's mapping may have been placed since.
 */
static void buf_unmap(struct buf *b)
{
	if (b->hole) {
		munmap(b->map, b->hole);
		munmap(b->map + b->hole + page, b->map_len - b->hole - page);
	} else {
		munmap(b->map, b->map_len);
	}
	b->map = NULL;
	b->hole = 0;
}

static void buf_release(struct worker *w, int i)
{
	struct buf *b = &w->bufs[i];

	if (b->map)
		buf_unmap(b);
	if (b->fd >= 0)
		close(b->fd);
	if (b->dup_fd >= 0)
		close(b->dup_fd);
	buf_forget(w, i);
}

static void buf_add(struct worker *w, struct heap *h, int fd, uint64_t len, uint32_t fd_flags)
{
	struct buf *b;

	if (w->nbufs == MAX_BUFS) {	/* kept below by alloc_room(); never lose an fd */
		close(fd);
		return;
	}
	b = &w->bufs[w->nbufs++];
	*b = (struct buf){ .fd = fd, .dup_fd = -1, .heap = h, .size = round_up(len, h->granule),
			   .access = fd_flags & O_ACCMODE };
	w->live += b->size;
}

/* ---- allocations ---- */

static int alloc_ioctl(struct heap *h, unsigned long cmd, void *arg)
{
	return ioctl(h->fd, cmd, arg) < 0 ? errno : 0;
}

/*
 * An allocation whose fd the kernel installs without telling it: made in a
 * child, which exits (closing it) once it has the result.
 */
static int alloc_in_child(struct heap *h, unsigned long cmd, void *arg)
{
	int pipefd[2], err = 0, status;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		err = ioctl(h->fd, cmd, arg) < 0 ? errno : 0;
		(void)!write(pipefd[1], &err, sizeof(err));
		_exit(0);
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], &err, sizeof(err)) != sizeof(err))
		err = -1;
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return err;
}

/* count an allocation ioctl's outcome for the tracer's comparison */
static void count_alloc(struct heap *h, int err, uint64_t len, bool foreign)
{
	uint64_t size = round_up(len, h->granule);

	if (err) {
		ADD(h->errs[err <= MAX_ERRNO ? err : 0], 1);
		ADD(h->foreign_fails, foreign);
		return;
	}
	ADD(h->allocs, 1);
	ADD(h->alloc_bytes, size);
	if (foreign) {
		ADD(h->foreign_allocs, 1);
		ADD(h->foreign_bytes, size);
	}
}

/* a valid length: mostly small, now and then a large part of the heap */
static uint64_t valid_len(struct heap *h, uint64_t r)
{
	uint64_t max = 4ull << 20;

	if (h->capacity && h->capacity / 8 < max)
		max = h->capacity / 8;
	switch (r % 20) {
	case 0:
		return 1 + (r >> 8) % max;
	case 1 ... 5:
		return 1 + (r >> 8) % (1 << 20);
	default:
		return 1 + (r >> 8) % (64 << 10);
	}
}

/* make room for one more buffer: close one, chosen by r */
static void alloc_room(struct worker *w, uint64_t r)
{
	while (w->nbufs && (w->nbufs >= MAX_BUFS - 1 || w->live >= MAX_LIVE))
		buf_release(w, r % w->nbufs);
}

static const enum row alloc_rows[] = {
	ROW_alloc_len_zero, ROW_alloc_len_one, ROW_alloc_len_unaligned, ROW_alloc_len_wraps,
	ROW_alloc_len_max_aligned, ROW_alloc_len_2_63, ROW_alloc_len_pages_overflow,
	ROW_alloc_len_over_capacity, ROW_alloc_fd_flags_valid, ROW_alloc_fd_flags_bad,
	ROW_alloc_heap_flags, ROW_alloc_fd_set, ROW_alloc_cmd_no_write, ROW_alloc_cmd_short,
	ROW_alloc_cmd_mid, ROW_alloc_cmd_long, ROW_alloc_cmd_write_only, ROW_alloc_cmd_type,
	ROW_alloc_cmd_nr, ROW_alloc_arg_null, ROW_alloc_arg_readonly,
};
#define N_ALLOC_ROWS (sizeof(alloc_rows) / sizeof(alloc_rows[0]))

static void op_alloc(struct worker *w, const uint64_t *p)
{
	struct heap *h = &heaps[p[1] % nheaps];
	enum row r = p[0] & 1 ? ROW_alloc_valid : alloc_rows[(p[0] >> 1) % N_ALLOC_ROWS];
	struct dma_heap_allocation_data d = { .fd_flags = O_RDWR | O_CLOEXEC };
	unsigned long cmd = DMA_HEAP_IOCTL_ALLOC;
	unsigned int size = sizeof(d);
	bool in_child = false, foreign = false, keep = true;
	void *arg = &d;
	int err;

	if (!applies[r][h->kind])
		return;
	alloc_room(w, p[3]);
	d.len = valid_len(h, p[2]);
	switch (r) {
	case ROW_alloc_valid:
		break;
	case ROW_alloc_len_zero:
		d.len = 0;
		break;
	case ROW_alloc_len_one:
		d.len = 1;
		break;
	case ROW_alloc_len_unaligned:
		d.len = (1 + p[2] % 64) * page + 1 + p[2] % (page - 1);
		break;
	case ROW_alloc_len_wraps:
		d.len = UINT64_MAX - p[2] % (page - 1);
		break;
	case ROW_alloc_len_max_aligned:
		d.len = UINT64_MAX - page + 1;
		break;
	case ROW_alloc_len_2_63:
		d.len = 1ull << 63;
		break;
	case ROW_alloc_len_pages_overflow:
		d.len = ((1ull << 32) + 1) * page;
		break;
	case ROW_alloc_len_over_capacity:
		if (!h->capacity)
			return;
		d.len = h->capacity + page;
		break;
	case ROW_alloc_fd_flags_valid: {
		static const uint32_t modes[] = { O_RDONLY, O_WRONLY, O_ACCMODE };

		d.fd_flags = modes[p[2] % 3] | (p[2] & 8 ? O_CLOEXEC : 0);
		d.len = 1 + p[2] % (256 << 10);
		break;
	}
	case ROW_alloc_fd_flags_bad: {
		uint32_t bit = 1u << (p[2] >> 8) % 32;

		if (bit & (O_ACCMODE | O_CLOEXEC))
			bit = 1u << 31;
		d.fd_flags |= bit;
		break;
	}
	case ROW_alloc_heap_flags:
		d.heap_flags = 1ull << (p[2] >> 8) % 64;
		break;
	case ROW_alloc_fd_set:
		d.fd = 1 + (p[2] >> 8) % 1024;
		break;
	case ROW_alloc_cmd_no_write:
		cmd = p[2] & 1 ? _IOR(DMA_HEAP_IOC_MAGIC, 0, struct dma_heap_allocation_data) :
			_IO(DMA_HEAP_IOC_MAGIC, 0);
		in_child = true;	/* were it made, its fd would not be told */
		break;
	case ROW_alloc_cmd_short:
		size = 1 + (p[2] >> 8) % 11;
		/* a length that fits: the bytes of len past size read as 0 */
		if (size < 8 && d.len >> (8 * size))
			d.len = 1 + d.len % ((1ull << (8 * size)) - 1);
		cmd = _IOC(_IOC_READ | _IOC_WRITE, DMA_HEAP_IOC_MAGIC, 0, size);
		in_child = true;
		break;
	case ROW_alloc_cmd_mid:
		size = 12 + (p[2] >> 8) % 12;
		if (size < 16)
			d.fd_flags = 0;	/* read as 0 */
		cmd = _IOC(_IOC_READ | _IOC_WRITE, DMA_HEAP_IOC_MAGIC, 0, size);
		break;
	case ROW_alloc_cmd_long:
		size = 25 + (p[2] >> 8) % (16383 - 25 + 1);
		memset(w->big, (p[2] & 1) ? 0 : 0xa5, size);
		memcpy(w->big, &d, sizeof(d));
		arg = w->big;
		cmd = _IOC(_IOC_READ | _IOC_WRITE, DMA_HEAP_IOC_MAGIC, 0, size);
		break;
	case ROW_alloc_cmd_write_only:
		cmd = _IOW(DMA_HEAP_IOC_MAGIC, 0, struct dma_heap_allocation_data);
		in_child = true;
		break;
	case ROW_alloc_cmd_type: {
		unsigned int type = (p[2] >> 8) & 0xff;

		if (type == DMA_HEAP_IOC_MAGIC)
			type ^= 1;
		cmd = _IOC(_IOC_READ | _IOC_WRITE, type, 0, sizeof(d));
		foreign = true;
		break;
	}
	case ROW_alloc_cmd_nr:
		cmd = _IOC(_IOC_READ | _IOC_WRITE, DMA_HEAP_IOC_MAGIC, 1 + (p[2] >> 8) % 255,
			   sizeof(d));
		in_child = true;
		break;
	case ROW_alloc_arg_null:
		arg = NULL;
		break;
	case ROW_alloc_arg_readonly:
		if (mprotect(w->ro_page, page, PROT_READ | PROT_WRITE))
			return;
		memcpy(w->ro_page, &d, sizeof(d));
		if (mprotect(w->ro_page, page, PROT_READ))
			return;
		arg = w->ro_page;
		keep = false;
		break;
	default:
		return;
	}
	err = in_child ? alloc_in_child(h, cmd, arg) : alloc_ioctl(h, cmd, arg);
	if (err < 0) {		/* no pipe or no fork: nothing was asked */
		ADD(harness_errors, 1);
		return;
	}
	if (r == ROW_alloc_arg_readonly && err == EFAULT) {
		/* made, exported and released: the tracer sees the export and a failure */
		ADD(h->efault_exports, 1);
		ADD(h->efault_bytes, round_up(d.len, h->granule));
	}
	if (r == ROW_alloc_arg_null && err == EFAULT)
		ADD(h->null_efaults, 1);
	/* a number other than 0 is no allocation: the kernel refuses an unknown command */
	if (r != ROW_alloc_cmd_nr)
		count_alloc(h, err, d.len, foreign);
	check(r, h, err, "len=%llu fd_flags=%#x heap_flags=%#llx fd=%u cmd=%#lx",
	      (unsigned long long)d.len, d.fd_flags, (unsigned long long)d.heap_flags, d.fd, cmd);
	if (err || in_child || !keep)
		return;
	if (arg == w->big)
		memcpy(&d, w->big, sizeof(d));
	buf_add(w, h, d.fd, d.len, d.fd_flags);
}

/* ---- on a buffer this thread holds ---- */

static struct buf *pick_buf(struct worker *w, uint64_t r, bool with_fd)
{
	if (!w->nbufs)
		return NULL;
	struct buf *b = &w->bufs[r % w->nbufs];

	return with_fd && b->fd < 0 ? NULL : b;
}

static void op_mmap(struct worker *w, const uint64_t *p)
{
	struct buf *b = pick_buf(w, p[1], true);
	enum row r;
	char *m;
	int err;

	if (!b)
		return;
	switch (p[0] % 5) {
	case 0:
	case 1:
		if (b->map)
			return;
		r = b->access == O_RDWR ? ROW_mmap_shared : ROW_mmap_not_rdwr;
		m = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
		err = m == MAP_FAILED ? errno : 0;
		check(r, b->heap, err, "size=%llu access=%d", (unsigned long long)b->size, b->access);
		if (err)
			return;
		m[0] = 1;	/* fault both ends in */
		m[b->size - 1] = 2;
		b->map = m;
		b->map_len = b->size;
		ADD(n_maps, 1);
		return;
	case 2:
		if (b->access != O_RDWR)	/* else EACCES first */
			return;
		m = mmap(NULL, b->size, PROT_READ, MAP_PRIVATE, b->fd, 0);
		err = m == MAP_FAILED ? errno : 0;
		check(ROW_mmap_private, b->heap, err, "size=%llu", (unsigned long long)b->size);
		if (!err)
			munmap(m, b->size);
		return;
	case 4: {
		uint64_t off = p[2] % (b->size / page) * page;
		char mark = (char)(p[3] | 1);

		if (b->access != O_RDWR)
			return;
		m = mmap(NULL, b->size - off, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, off);
		err = m == MAP_FAILED ? errno : 0;
		check(ROW_mmap_offset, b->heap, err, "size=%llu offset=%llu",
		      (unsigned long long)b->size, (unsigned long long)off);
		if (err)
			return;
		/* the page at off, whichever mapping reaches it */
		m[0] = mark;
		if (b->map && (!b->hole || b->hole != off) && b->map[off] != mark) {
			ADD(data_errors, 1);
			pthread_mutex_lock(&out_lock);
			printf("FAIL: heap_stress: mmap_offset on %s: byte written at %llu through a "
			       "mapping from there reads %d through the whole buffer's, not %d\n",
			       b->heap->name, (unsigned long long)off, b->map[off], mark);
			pthread_mutex_unlock(&out_lock);
		}
		munmap(m, b->size - off);
		return;
	}
	default:
		if (b->access != O_RDWR)
			return;
		m = mmap(NULL, page, PROT_READ, MAP_SHARED, b->fd, b->size);
		err = m == MAP_FAILED ? errno : 0;
		check(ROW_mmap_past_end, b->heap, err, "size=%llu offset=%llu",
		      (unsigned long long)b->size, (unsigned long long)b->size);
		if (!err)
			munmap(m, page);
		return;
	}
}

static void op_munmap(struct worker *w, const uint64_t *p)
{
	struct buf *b = pick_buf(w, p[1], false);
	uint64_t pages, off;
	int err;

	if (!b || !b->map)
		return;
	pages = b->map_len / page;
	if (p[0] & 1 || pages < 3 || b->hole) {
		buf_unmap(b);
		if (b->fd < 0)
			buf_forget(w, b - w->bufs);
		return;
	}
	/* a page inside: the mapping splits; the rest is unmapped around it later */
	off = (1 + p[2] % (pages - 2)) * page;
	err = munmap(b->map + off, page) ? errno : 0;
	b->hole = off;
	check(ROW_munmap_partial, b->heap, err, "size=%llu offset=%llu",
	      (unsigned long long)b->map_len, (unsigned long long)off);
}

static void op_dup_close(struct worker *w, const uint64_t *p)
{
	struct buf *b = pick_buf(w, p[1], true);

	if (!b)
		return;
	if (p[0] % 3 == 0) {
		if (b->dup_fd < 0) {
			b->dup_fd = fcntl(b->fd, F_DUPFD_CLOEXEC, 0);
			ADD(n_dups, b->dup_fd >= 0);
		}
		return;
	}
	ADD(n_closes, 1);
	close(b->fd);
	b->fd = b->dup_fd;	/* the dup, if any, holds on */
	b->dup_fd = -1;
	if (b->fd < 0 && !b->map)
		buf_forget(w, b - w->bufs);
}

static void op_sync(struct worker *w, const uint64_t *p)
{
	struct buf *b = pick_buf(w, p[1], true);
	struct dma_buf_sync s = { .flags = (p[2] & 4 ? DMA_BUF_SYNC_END : DMA_BUF_SYNC_START) |
					   (1 + p[2] % 3) };
	enum row r = ROW_sync_valid;
	void *arg = &s;
	int err;

	if (!b)
		return;
	switch (p[0] % 6) {
	case 0:
		r = ROW_sync_bad_flags;
		s.flags |= 1ull << (3 + (p[2] >> 8) % 61);
		break;
	case 1:
		r = ROW_sync_no_direction;
		s.flags &= ~(uint64_t)DMA_BUF_SYNC_RW;
		break;
	case 2:
		r = ROW_sync_arg_null;
		arg = NULL;
		break;
	}
	err = ioctl(b->fd, DMA_BUF_IOCTL_SYNC, arg) ? errno : 0;
	check(r, b->heap, err, "flags=%#llx", (unsigned long long)s.flags);
}

static void op_name(struct worker *w, const uint64_t *p)
{
	static const unsigned long cmds[] = { DMA_BUF_SET_NAME, DMA_BUF_SET_NAME_A,
					      DMA_BUF_SET_NAME_B };
	struct buf *b = pick_buf(w, p[1], true);
	char name[128];
	uint64_t r = p[2];
	enum row row;
	size_t len;
	int err;

	if (!b)
		return;
	switch (p[0] % 3) {
	case 0:
		row = ROW_set_name_long;
		len = DMA_BUF_NAME_LEN + r % 64;
		break;
	case 1:
		row = ROW_set_name_null;
		len = 0;
		break;
	default:
		row = ROW_set_name_short;
		len = r % DMA_BUF_NAME_LEN;
	}
	/* hostile bytes: control characters, escapes, quotes, bytes not UTF-8 */
	for (size_t i = 0; i < len; i++) {
		static const char hostile[] = "\x1b[2J\n\t\"\\\x7f\xff\xc3\x28\x01%s<>&";

		name[i] = (r >> (i % 56)) & 1 ? hostile[(r + i) % (sizeof(hostile) - 1)] :
			(char)('a' + (r + i * 7) % 26);
		r = r * 6364136223846793005ull + 1442695040888963407ull;
	}
	name[len] = '\0';
	err = ioctl(b->fd, cmds[p[3] % 3], row == ROW_set_name_null ? NULL : name) ? errno : 0;
	check(row, b->heap, err, "name of %zu bytes", len);
}

static void op_unknown_ioctl(struct worker *w, const uint64_t *p)
{
	struct buf *b = pick_buf(w, p[1], true);
	uint64_t arg[4] = {};
	unsigned long cmd;
	int err;

	if (!b)
		return;
	/* 'b' 0 to 3 are dma-buf's; 16 and up nobody's */
	cmd = _IOC(p[2] & 3, p[2] & 4 ? DMA_BUF_BASE : (p[2] >> 8) & 0xff, 16 + (p[2] >> 16) % 240,
		   (p[2] >> 24) % sizeof(arg));
	err = ioctl(b->fd, cmd, arg) ? errno : 0;
	check(ROW_buf_ioctl_unknown, b->heap, err, "cmd=%#lx", cmd);
}

/* "drop", "attach FD" or "FD" (verb NULL): 0, an errno, or -1 without the file */
static int importer_write(const char *verb, int fd)
{
	char cmd[32];
	int f = open(IMPORTER, O_WRONLY | O_CLOEXEC), err = 0;

	if (f < 0)
		return -1;
	if (!verb)
		snprintf(cmd, sizeof(cmd), "%d", fd);
	else if (!strcmp(verb, "drop"))
		snprintf(cmd, sizeof(cmd), "drop");
	else
		snprintf(cmd, sizeof(cmd), "%s %d", verb, fd);
	if (write(f, cmd, strlen(cmd)) < 0)
		err = errno;
	close(f);
	return err;
}

static void op_importer(struct worker *w, const uint64_t *p)
{
	struct buf *b = pick_buf(w, p[1], true);
	int err;

	if (!importer)
		return;
	if (p[0] % 8 == 0) {
		err = importer_write("drop", 0);
		if (!err)
			ADD(n_drops, 1);
		else if (err < 0)	/* the file not opened: like any other open's */
			ADD(harness_errors, 1);
		return;
	}
	if (!b)
		return;
	switch (p[0] % 3) {
	case 0:
		err = importer_write(NULL, b->fd);
		if (err >= 0)
			check(ROW_importer_check, b->heap, err, "fd of %llu bytes",
			      (unsigned long long)b->size);
		break;
	case 1:
		err = importer_write("attach", b->fd);
		if (err >= 0)
			check(ROW_importer_attach, b->heap, err, "fd of %llu bytes",
			      (unsigned long long)b->size);
		break;
	default:
		err = importer_write("attach", b->heap->fd);
		if (err >= 0)
			check(ROW_importer_not_dmabuf, b->heap, err, "the heap's fd");
	}
	if (err < 0)
		ADD(harness_errors, 1);
}

/* ---- processes and cgroups ---- */

static void sleep_us(uint64_t us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void reap_children(struct worker *w, bool kill_them)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (!w->children[i])
			continue;
		if (kill_them)
			kill(w->children[i], SIGKILL);
		if (waitpid(w->children[i], NULL, kill_them ? 0 : WNOHANG) != 0)
			w->children[i] = 0;
	}
}

/*
 * A child that allocates and frees valid buffers of up to an eighth of a
 * heap until killed, in the cgroup of its own (KILLED_CG) so that what it
 * did, which nobody can count, stays apart: a kill lands in the heaps'
 * allocation paths (charging, CMA, zeroing), whose unwinding must give
 * everything back.
 */
static void allocator_child(uint64_t r)
{
	int fds[4] = { -1, -1, -1, -1 };

	if (killed_procs[0]) {
		int f = open(killed_procs, O_WRONLY | O_CLOEXEC);

		if (f < 0 || write(f, "0", 1) != 1)
			_exit(1);
		close(f);
	}
	for (unsigned int i = 0;; i++) {
		struct heap *h = &heaps[next_rand(&r) % nheaps];
		struct dma_heap_allocation_data d = { .fd_flags = O_RDWR | O_CLOEXEC };
		uint64_t max = h->capacity ? h->capacity / 8 : 4ull << 20;

		d.len = 1 + next_rand(&r) % max;
		if (fds[i % 4] >= 0)
			close(fds[i % 4]);
		fds[i % 4] = ioctl(h->fd, DMA_HEAP_IOCTL_ALLOC, &d) ? -1 : (int)d.fd;
	}
}

/*
 * A child that holds every buffer, fd and mapping for up to 200 ms, or an
 * allocator (above); or the kill of one of them.
 */
static void op_fork(struct worker *w, const uint64_t *p)
{
	int slot = p[1] % MAX_CHILDREN;
	pid_t pid;

	reap_children(w, false);
	if (p[0] & 1) {
		if (w->children[slot]) {
			kill(w->children[slot], SIGKILL);
			waitpid(w->children[slot], NULL, 0);
			w->children[slot] = 0;
			ADD(n_kills, 1);
		}
		return;
	}
	if (w->children[slot])
		return;
	pid = fork();
	if (pid == 0) {
		if (p[0] % 4 == 2 && killed_procs[0])
			allocator_child(p[2]);
		sleep_us(p[2] % 200000);
		_exit(0);
	}
	if (pid > 0) {
		w->children[slot] = pid;
		ADD(n_forks, 1);
		ADD(n_allocators, p[0] % 4 == 2 && killed_procs[0]);
	}
}

static void op_cgroup(struct worker *w, const uint64_t *p)
{
	char value[32];
	struct heap *h;

	(void)w;
	if (p[0] % 5 == 4) {
		/* heapstat_core's accounting switched at run time: a buffer keeps
		 * the charge it was made with */
		static const char * const modes[] = { "on", "off", "auto" };

		if (accounting_was[0] && !cg_write_file(ACCOUNTING, modes[p[2] % 3]))
			ADD(n_accounting, 1);
		return;
	}
	if (!opts.cgroup)
		return;
	if (p[0] % 5 < 2) {
		if (!cg_enter(cgroups[p[1] % NCGROUPS], getpid()))
			ADD(n_moves, 1);
		else
			ADD(harness_errors, 1);
		return;
	}
	h = &heaps[p[1] % nheaps];
	if (!h->region[0])
		return;
	if (p[2] & 1)
		snprintf(value, sizeof(value), "max");
	else
		snprintf(value, sizeof(value), "%llu", (unsigned long long)((p[2] >> 8) % 256) << 16);
	if (!cg_dmem_set(cgroups[(p[1] >> 8) % NCGROUPS], "dmem.max", h->region, value))
		ADD(n_maxes, 1);
	else
		ADD(harness_errors, 1);
}

/* ---- the threads ---- */

static const struct {
	void (*fn)(struct worker *w, const uint64_t *p);
	int weight;
} ops[] = {
	{ op_alloc, 40 }, { op_mmap, 10 }, { op_munmap, 6 }, { op_dup_close, 14 },
	{ op_sync, 8 }, { op_name, 6 }, { op_unknown_ioctl, 2 }, { op_importer, 5 },
	{ op_fork, 3 }, { op_cgroup, 2 },
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	int total = 0;

	for (size_t i = 0; i < NOPS; i++)
		total += ops[i].weight;
	for (uint64_t n = 0; now_ns() < deadline && (!opts.ops || n < opts.ops); n++) {
		uint64_t p[4], pick = next_rand(&w->rng) % total;
		size_t i;

		/* the same draws whatever the operation does with them */
		w->digest = (w->digest ^ pick) * 0x100000001b3ull;
		for (i = 0; i < 4; i++) {
			p[i] = next_rand(&w->rng);
			w->digest = (w->digest ^ p[i]) * 0x100000001b3ull;
		}
		for (i = 0; pick >= (uint64_t)ops[i].weight; i++)
			pick -= ops[i].weight;
		ops[i].fn(w, p);
		ADD(ops_done, 1);
	}
	while (w->nbufs)
		buf_release(w, 0);
	reap_children(w, true);
	return NULL;
}

/* ---- set-up ---- */

static int add_heap(const char *arg)
{
	char name[64], *colon, path[128];
	struct heap *h;
	uint64_t cap;

	if (nheaps == MAX_HEAPS)
		return 0;
	h = &heaps[nheaps];
	snprintf(name, sizeof(name), "%s", arg);
	colon = strchr(name, ':');
	if (colon)
		*colon++ = '\0';
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	h->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (h->fd < 0) {
		printf("FAIL: heap_stress: %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(h->region, sizeof(h->region), REGION_PREFIX "%s", name);
	if (!cg_dmem_read("/sys/fs/cgroup", "dmem.capacity", h->region, &cap)) {
		h->capacity = cap;
		h->kind = (colon && !strcmp(colon, "nomap")) ||
			  (!colon && strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "-nomap")) ?
			KIND_NOMAP : KIND_HEAPSTAT;
	} else {
		h->region[0] = '\0';
		h->kind = colon && !strcmp(colon, "lsm") ? KIND_LSM :
			  !strcmp(name, "system") ? KIND_SYSTEM : KIND_CMA;
	}
	h->granule = page;
	nheaps++;
	return 0;
}

/* a heap's granule: the size of a one-byte buffer (counted like any, in the
 * stress's cgroup) */
static void probe_granule(struct heap *h)
{
	struct dma_heap_allocation_data d = { .len = 1, .fd_flags = O_RDWR | O_CLOEXEC };
	struct stat st;

	if (ioctl(h->fd, DMA_HEAP_IOCTL_ALLOC, &d)) {
		count_alloc(h, errno, 1, false);
		return;
	}
	if (!fstat(d.fd, &st) && st.st_size > 0)
		h->granule = st.st_size;
	close(d.fd);
	count_alloc(h, 0, 1, false);
}

static int setup_cgroups(void)
{
	char path[600];

	mkdir(opts.cgroup, 0755);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", opts.cgroup);
	if (cg_write_file(path, "+dmem")) {
		printf("FAIL: heap_stress: %s: +dmem: cannot enable\n", path);
		return -1;
	}
	for (int i = 0; i < NCGROUPS; i++) {
		snprintf(cgroups[i], sizeof(cgroups[i]), "%s/s%d", opts.cgroup, i);
		mkdir(cgroups[i], 0755);
	}
	snprintf(path, sizeof(path), "%s/" KILLED_CG, opts.cgroup);
	mkdir(path, 0755);
	snprintf(killed_procs, sizeof(killed_procs), "%s/cgroup.procs", path);
	if (cg_enter(cgroups[0], getpid())) {
		printf("FAIL: heap_stress: cannot enter %s\n", cgroups[0]);
		return -1;
	}
	return 0;
}

static void reset_limits(void)
{
	for (int i = 0; opts.cgroup && i < NCGROUPS; i++)
		for (int k = 0; k < nheaps; k++)
			if (heaps[k].region[0])
				cg_dmem_set(cgroups[i], "dmem.max", heaps[k].region, "max");
}

/* dma-buf fds this process still has: none once every thread let go */
static int dmabuf_fds_left(void)
{
	char link[300], target[128];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			n += !strncmp(target, "/dmabuf:", 8);
		}
	}
	closedir(d);
	return n;
}

static const struct argp_option options[] = {
	{ "seed", 's', "SEED", 0, "Seed of every thread's operations (default: from the clock)", 0 },
	{ "time", 't', "SECS", 0, "Run SECS seconds (default 10)", 0 },
	{ "threads", 'j', "N", 0, "Threads (default 4)", 0 },
	{ "ops", 'n', "N", 0, "At most N operations per thread; the run prints a digest of the "
	  "operations drawn, the same for the same seed", 0 },
	{ "cgroup", 'c', "DIR", 0, "Move among three child cgroups of DIR (cgroup2 path), "
	  "changing their dmem.max", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 's':
		if (parse_u64(arg, 0, UINT64_MAX, &opts.seed))
			argp_error(state, "invalid seed '%s'", arg);
		break;
	case 't':
		if (parse_u64(arg, 1, 86400, &opts.secs))
			argp_error(state, "invalid time '%s'", arg);
		break;
	case 'j':
		if (parse_u64(arg, 1, 64, &opts.threads))
			argp_error(state, "invalid thread count '%s'", arg);
		break;
	case 'n':
		if (parse_u64(arg, 1, UINT64_MAX, &opts.ops))
			argp_error(state, "invalid operation count '%s'", arg);
		break;
	case 'c':
		opts.cgroup = arg;
		break;
	case ARGP_KEY_ARG:
		if (add_heap(arg))
			argp_failure(state, 1, 0, "no heap %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void print_heap(struct heap *h)
{
	uint64_t other = 0;

	for (int e = 0; e <= MAX_ERRNO; e++)
		if (e != EAGAIN && e != ENOMEM)
			other += h->errs[e];
	printf("heap_stress: heap=%s kind=%s granule=%llu allocs=%llu alloc_bytes=%llu "
	       "foreign_allocs=%llu foreign_bytes=%llu foreign_fails=%llu efault_exports=%llu "
	       "efault_bytes=%llu null_efaults=%llu "
	       "fail_eagain=%llu fail_enomem=%llu fail_other=%llu fail_einval=%llu fail_efault=%llu\n",
	       h->name, kind_names[h->kind], (unsigned long long)h->granule,
	       (unsigned long long)h->allocs, (unsigned long long)h->alloc_bytes,
	       (unsigned long long)h->foreign_allocs, (unsigned long long)h->foreign_bytes,
	       (unsigned long long)h->foreign_fails,
	       (unsigned long long)h->efault_exports, (unsigned long long)h->efault_bytes,
	       (unsigned long long)h->null_efaults,
	       (unsigned long long)h->errs[EAGAIN], (unsigned long long)h->errs[ENOMEM],
	       (unsigned long long)other, (unsigned long long)h->errs[EINVAL],
	       (unsigned long long)h->errs[EFAULT]);
}

int main(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, "[HEAP[:nomap|:lsm]]...",
		"Hammer dma-buf heaps with valid and hostile input; check every errno against "
		"docs/errors.md.", NULL, NULL, NULL };
	struct worker *workers;
	char untried[2048] = "";
	bool seeded;
	int left, ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	if (parse_table())
		return 1;
	opts.seed = UINT64_MAX;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 1;
	seeded = opts.seed != UINT64_MAX;
	if (!seeded)
		opts.seed = now_ns() ^ ((uint64_t)getpid() << 32);
	printf("heap_stress: seed=%llu threads=%llu secs=%llu\n", (unsigned long long)opts.seed,
	       (unsigned long long)opts.threads, (unsigned long long)opts.secs);
	if (!nheaps) {
		DIR *d = opendir("/dev/dma_heap");
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.' && add_heap(de->d_name))
				return 1;
		if (d)
			closedir(d);
	}
	if (!nheaps) {
		printf("SKIP: heap_stress: no heap in /dev/dma_heap\n");
		return 0;
	}
	if (opts.cgroup && setup_cgroups())
		return 1;
	for (int k = 0; k < nheaps; k++)
		probe_granule(&heaps[k]);
	importer = !access(IMPORTER, W_OK);
	if (!access(ACCOUNTING, W_OK)) {
		FILE *f = fopen(ACCOUNTING, "re");

		if (!f || !fgets(accounting_was, sizeof(accounting_was), f))
			accounting_was[0] = '\0';
		accounting_was[strcspn(accounting_was, "\n")] = '\0';
		if (f)
			fclose(f);
	}

	workers = calloc(opts.threads, sizeof(*workers));
	if (!workers)
		return 1;
	deadline = now_ns() + opts.secs * 1000000000ull;
	for (uint64_t i = 0; i < opts.threads; i++) {
		struct worker *w = &workers[i];

		w->index = i;
		w->rng = opts.seed ^ (0x5851f42d4c957f2dull * (i + 1));
		w->ro_page = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		w->big = malloc(16384);
		if (w->ro_page == MAP_FAILED || !w->big ||
		    pthread_create(&w->thread, NULL, worker_run, w)) {
			printf("FAIL: heap_stress: cannot start thread %llu\n", (unsigned long long)i);
			return 1;
		}
	}
	for (uint64_t i = 0; i < opts.threads; i++)
		pthread_join(workers[i].thread, NULL);
	if (importer && importer_write("drop", 0))
		ADD(harness_errors, 1);
	reset_limits();
	if (accounting_was[0] && cg_write_file(ACCOUNTING, accounting_was))
		ADD(harness_errors, 1);

	if (mismatches > MAX_FAIL_LINES)
		printf("heap_stress: %llu more errno mismatches not shown\n",
		       (unsigned long long)(mismatches - MAX_FAIL_LINES));
	if (mismatches) {
		printf("FAIL: heap_stress: errno table: %llu of %llu calls returned an errno "
		       "docs/errors.md does not list\n", (unsigned long long)mismatches,
		       (unsigned long long)calls);
		ret = 1;
	} else {
		printf("PASS: heap_stress: errno table: %llu calls, every errno as docs/errors.md "
		       "lists\n", (unsigned long long)calls);
	}
	/* rows never tried on a heap they apply to: said, so a short run is known short */
	for (int r = 0; r < NROWS; r++) {
		for (int k = 0; k < nheaps; k++) {
			if (!applies[r][heaps[k].kind] || tried[r][k])
				continue;
			if (r == ROW_importer_check || r == ROW_importer_attach ||
			    r == ROW_importer_not_dmabuf) {
				if (!importer)
					continue;
			}
			if (strlen(untried) + strlen(table[r].id) + strlen(heaps[k].name) + 3 <
			    sizeof(untried)) {
				strcat(untried, " ");
				strcat(untried, table[r].id);
				strcat(untried, "@");
				strcat(untried, heaps[k].name);
			}
		}
	}
	if (untried[0])
		printf("heap_stress: not tried:%s\n", untried);
	if (data_errors) {
		printf("FAIL: heap_stress: %llu bytes written through one mapping read back "
		       "otherwise through another\n", (unsigned long long)data_errors);
		ret = 1;
	}
	left = dmabuf_fds_left();
	if (left == 0 && !harness_errors) {
		printf("PASS: heap_stress: every buffer let go (fds, mappings, children, importer)\n");
	} else {
		printf("FAIL: heap_stress: %d dma-buf fds left, %llu harness errors (pipes, forks, "
		       "cgroup writes, the importer)\n", left, (unsigned long long)harness_errors);
		ret = 1;
	}
	printf("heap_stress: seed=%llu threads=%llu secs=%llu ops=%llu calls=%llu mismatches=%llu "
	       "forks=%llu allocators=%llu kills=%llu moves=%llu dmem_max=%llu "
	       "accounting_switches=%llu importer_drops=%llu dups=%llu closes=%llu maps=%llu "
	       "untried=%s\n",
	       (unsigned long long)opts.seed, (unsigned long long)opts.threads,
	       (unsigned long long)opts.secs, (unsigned long long)ops_done,
	       (unsigned long long)calls, (unsigned long long)mismatches,
	       (unsigned long long)n_forks, (unsigned long long)n_allocators,
	       (unsigned long long)n_kills,
	       (unsigned long long)n_moves, (unsigned long long)n_maxes,
	       (unsigned long long)n_accounting,
	       (unsigned long long)n_drops, (unsigned long long)n_dups,
	       (unsigned long long)n_closes, (unsigned long long)n_maps, untried[0] ? "yes" : "no");
	if (opts.ops) {
		bool all = ops_done == opts.ops * opts.threads;
		uint64_t digest = 0;

		for (uint64_t i = 0; i < opts.threads; i++)
			digest = (digest ^ workers[i].digest) * 0x100000001b3ull;
		printf("heap_stress: sequence=%016llx%s\n", (unsigned long long)digest,
		       all ? "" : " (time up before every operation)");
	}
	for (int k = 0; k < nheaps; k++)
		print_heap(&heaps[k]);
	for (uint64_t i = 0; i < opts.threads; i++) {
		munmap(workers[i].ro_page, page);
		free(workers[i].big);
	}
	free(workers);
	for (int k = 0; k < nheaps; k++)
		close(heaps[k].fd);
	(void)seeded;
	return ret;
}
