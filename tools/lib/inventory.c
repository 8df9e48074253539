// SPDX-License-Identifier: GPL-2.0
/*
 * The live dma-buf inventory, each part from the best source the kernel has:
 * - buffers: BPF iter/dmabuf (6.16+) sees every buffer; else the fds (and
 *   with the task iterators the mappings) found below, which show only
 *   buffers some process holds so;
 * - holders: BPF iter/task_file and iter/task_vma, else /proc/<pid>/fd,
 *   fdinfo and maps (much slower with many fds).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "dmabuf_iter.h"		/* before the skeletons: their .bss has its types */
#include "lskel_run.h"		/* before the light skeletons: they load through it */
#include "dmabuf_iter.lskel.h"
#include "dmabuf_iter_tasks.lskel.h"
#include "cgroup_iter.lskel.h"
#include "errors.h"
#include "inventory.h"
#include "cgroup/dmem.h"
#include "cgroup/path.h"
#include "procfs.h"
#include "util.h"

/* a binary search of bufs (sorted by inode), without bsearch()'s call a comparison */
static struct inv_buf *find_in(struct inv_buf *bufs, size_t n, uint64_t ino)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bufs[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && bufs[lo].ino == ino ? &bufs[lo] : NULL;
}

struct inv_buf *inventory_find(struct inventory *inv, uint64_t ino)
{
	return find_in(inv->bufs, inv->nbufs, ino);
}

/* room for one more buffer, its fields left for the caller to write, all of them */
static inline struct inv_buf *next_buf(struct inventory *inv)
{
	/* indexes of holds and refs are 32 bits (31 in a ref) */
	if (inv->nbufs >= INV_REF_NO_BUF ||
	    grow_array((void **)&inv->bufs, &inv->bufs_cap, inv->nbufs, sizeof(*inv->bufs)))
		return NULL;
	return &inv->bufs[inv->nbufs++];
}

static struct inv_buf *new_buf(struct inventory *inv)
{
	struct inv_buf *b = next_buf(inv);

	if (b)
		memset(b, 0, sizeof(*b));
	return b;
}

/* the buffers' strings: few and small, kept until inventory_free() */
static void *inv_alloc(struct inventory *inv, size_t len)
{
	return arena_alloc(&inv->strings, len);
}

/* a string of at most @max bytes, not always terminated, kept */
static const char *inv_name(struct inventory *inv, const char *s, size_t max)
{
	size_t len = strnlen(s, max);
	char *d;

	if (!len)
		return "";
	d = inv_alloc(inv, len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* an exporter's name: a few names shared by many buffers, each kept once */
static const char *exporter_name(struct inventory *inv, const char *s)
{
	const char *d;

	for (size_t i = 0; i < inv->nexporters; i++)
		if (!strncmp(inv->exporters[i], s, HEAP_NAME_LEN))
			return inv->exporters[i];
	d = inv_name(inv, s, HEAP_NAME_LEN);
	if (d && inv->nexporters < ARRAY_SIZE(inv->exporters))
		inv->exporters[inv->nexporters++] = d;
	return d;
}

/* how an iterator's records are read: a fixed head, then what it says follows */
struct rec_format {
	size_t head;
	size_t (*len)(const void *head);	/* the whole record's; NULL: the head's */
	int (*on_rec)(const void *rec, void *arg);
};

/*
 * Run one iterator program, on_rec getting each whole record. Reads are
 * large: the seq file fills each with as many records as fit, never part
 * of one; a read of ours may still end inside one. Inlined where it is
 * called, with its format known there: each record's length and handler
 * are then direct calls, or inlined, not calls through the format's
 * pointers (100k records a walk).
 */
static inline __attribute__((always_inline))
int run_iter_on(int prog_fd, union bpf_iter_link_info *linfo, const struct rec_format *fmt,
		void *arg)
{
	static char buf[1 << 16] __attribute__((aligned(8)));
	static char copy[sizeof(buf)] __attribute__((aligned(8)));
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = linfo, .iter_info_len = sizeof(*linfo));
	size_t have = 0;
	ssize_t n;
	int link, fd, err = 0;

	link = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, linfo ? &opts : NULL);
	if (link < 0)
		return -errno;
	fd = bpf_iter_create(link);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t off = 0;

		have += n;
		while (!err && have - off >= fmt->head) {
			const char *rec = buf + off;
			size_t len;

			/* after a record of odd length (a cgroup's, by its name): read a copy,
			 * the structs' fields aligned */
			if ((uintptr_t)rec % 8) {
				memcpy(copy, rec, fmt->head);
				rec = copy;
			}
			len = fmt->len ? fmt->len(rec) : fmt->head;
			if (have - off < len)
				break;
			if (rec == copy)
				memcpy(copy, buf + off, len);
			err = fmt->on_rec(rec, arg);
			off += len;
		}
		if (err)
			break;
		memmove(buf, buf + off, have - off);	/* a record split across reads */
		have -= off;
	}
	if (!err && n < 0)
		err = -errno;
	if (!err && have)	/* the stream ended inside a record */
		err = -EPROTO;
	close(fd);
out:
	close(link);
	return err;
}

/* a task iterator over process @tgid's tasks (6.1+), or over all (0) */
static inline __attribute__((always_inline))
int run_iter(int prog_fd, pid_t tgid, const struct rec_format *fmt, void *arg)
{
	union bpf_iter_link_info linfo = { .task.pid = tgid };

	return run_iter_on(prog_fd, tgid ? &linfo : NULL, fmt, arg);
}

/* the exporter name of the last iter/dmabuf record that carried one */
struct buffer_stream {
	struct inventory *inv;
	const char *exp_name;
};

static size_t buffer_len(const void *head)
{
	const struct inv_buffer *r = head;

	return sizeof(*r) + !!(r->flags & INV_BUF_EXP_NAME) * HEAP_NAME_LEN +
	       (!!(r->flags & INV_BUF_NAME) + r->importers) * INV_NAME_LEN;
}

static int on_buffer(const void *rec, void *arg)
{
	struct buffer_stream *st = arg;
	const struct inv_buffer *r = rec;
	const char *p = (const char *)(r + 1);
	struct inv_buf *nb;

	if (r->flags & INV_BUF_EXP_NAME) {
		st->exp_name = exporter_name(st->inv, p);
		if (!st->exp_name)
			return -ENOMEM;
		p += HEAP_NAME_LEN;
	}
	if (!st->exp_name)	/* the first record names its exporter */
		return -EPROTO;
	nb = next_buf(st->inv);	/* written whole: one store of each field, 100k records */
	if (!nb)
		return -ENOMEM;
	*nb = (struct inv_buf){
		.ino = r->ino, .size = r->size, .exp_name = st->exp_name, .name = "",
		.attachments = r->attachments, .attachments_known = true,
	};
	st->inv->nmapped += !!(r->flags & INV_BUF_MAPPED);
	if (r->flags & INV_BUF_NAME) {
		nb->name = inv_name(st->inv, p, INV_NAME_LEN);
		p += INV_NAME_LEN;
	}
	if (r->importers) {
		char (*imp)[INV_NAME_LEN] = inv_alloc(st->inv, r->importers * INV_NAME_LEN);

		if (!imp)
			return -ENOMEM;
		memcpy(imp, p, r->importers * INV_NAME_LEN);
		for (int i = 0; i < r->importers; i++)
			imp[i][INV_NAME_LEN - 1] = '\0';
		nb->importers = (const char (*)[INV_NAME_LEN])imp;
		nb->nimporters = r->importers;
	}
	return nb->name ? 0 : -ENOMEM;
}

static const struct rec_format buffer_format = { sizeof(struct inv_buffer), buffer_len, on_buffer };

/* an fd record of iter/task_file, and the parts it came with */
struct fd_rec {
	uint64_t ino;
	uint32_t tgid;
	int32_t proc;		/* index in task_recs.procs, or -1 */
	int32_t buf;		/* index in task_recs.bufs, or -1 */
	bool path;		/* an O_PATH file's: INV_FD_PATH */
};

/* a mapping record of iter/task_vma, and the buffer it came with */
struct map_rec {
	uint64_t ino;
	uint64_t bytes;
	uint32_t tgid;
	int32_t buf;		/* index in task_recs.bufs, or -1 */
};

/* records of iter/task_file and iter/task_vma */
struct task_recs {
	struct fd_rec *fds;
	size_t nfds, fds_cap;
	bool fds_unordered;	/* a tgid below the one before: to sort */
	struct inv_fd_proc *procs;
	size_t nprocs, procs_cap;
	struct inv_fd_buf *bufs;
	size_t nbufs, bufs_cap;
	struct map_rec *maps;
	size_t nmaps, maps_cap;
};

static size_t fd_len(const void *head)
{
	const struct inv_fd *r = head;

	return sizeof(*r) + (r->flags & INV_FD_PROC ? sizeof(struct inv_fd_proc) : 0) +
	       (r->flags & INV_FD_BUF ? sizeof(struct inv_fd_buf) : 0);
}

/* the buffer a record came with, kept in t->bufs at *at */
static int take_buf(struct task_recs *t, const void *part, int32_t *at)
{
	if (grow_array((void **)&t->bufs, &t->bufs_cap, t->nbufs, sizeof(*t->bufs)))
		return -ENOMEM;
	memcpy(&t->bufs[t->nbufs], part, sizeof(*t->bufs));
	*at = t->nbufs++;
	return 0;
}

static inline __attribute__((always_inline))
int on_fd(const void *rec, void *arg)
{
	struct task_recs *t = arg;
	const struct inv_fd *r = rec;
	const char *p = (const char *)(r + 1);
	struct fd_rec *f;

	if (grow_array((void **)&t->fds, &t->fds_cap, t->nfds, sizeof(*t->fds)))
		return -ENOMEM;
	f = &t->fds[t->nfds++];
	*f = (struct fd_rec){ .ino = r->ino, .tgid = r->tgid, .proc = -1, .buf = -1,
			      .path = r->flags & INV_FD_PATH };
	/* told here, where the record is at hand, not by a comparison call per record later */
	t->fds_unordered |= t->nfds > 1 && f[-1].tgid > f->tgid;
	if (r->flags & INV_FD_PROC) {
		if (grow_array((void **)&t->procs, &t->procs_cap, t->nprocs, sizeof(*t->procs)))
			return -ENOMEM;
		memcpy(&t->procs[t->nprocs], p, sizeof(*t->procs));
		f->proc = t->nprocs++;
		p += sizeof(*t->procs);
	}
	if (r->flags & INV_FD_BUF)
		return take_buf(t, p, &f->buf);
	return 0;
}

static size_t map_len(const void *head)
{
	const struct inv_map *r = head;

	return sizeof(*r) + (r->flags & INV_MAP_BUF ? sizeof(struct inv_fd_buf) : 0);
}

static int on_map(const void *rec, void *arg)
{
	struct task_recs *t = arg;
	const struct inv_map *r = rec;
	struct map_rec *m;

	if (grow_array((void **)&t->maps, &t->maps_cap, t->nmaps, sizeof(*t->maps)))
		return -ENOMEM;
	m = &t->maps[t->nmaps++];
	*m = (struct map_rec){ .ino = r->ino, .bytes = r->bytes, .tgid = r->tgid, .buf = -1 };
	return r->flags & INV_MAP_BUF ? take_buf(t, r + 1, &m->buf) : 0;
}

static const struct rec_format fd_format = { sizeof(struct inv_fd), fd_len, on_fd };
static const struct rec_format map_format = { sizeof(struct inv_map), map_len, on_map };

static void task_recs_free(struct task_recs *t)
{
	free(t->fds);
	free(t->procs);
	free(t->bufs);
	free(t->maps);
}

static int push_ref(struct inventory *inv, size_t proc, uint64_t ino, bool is_map,
		    uint64_t map_bytes)
{
	if (grow_array((void **)&inv->refs, &inv->refs_cap, inv->nrefs, sizeof(*inv->refs)))
		return -ENOMEM;
	inv->refs[inv->nrefs++] = (struct inv_ref){ .proc = proc, .ino = ino, .is_map = is_map,
						    .map_bytes = map_bytes };
	return 0;
}

static size_t cgroup_slot(const char **tab, size_t cap, const char *path)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	size_t i;

	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (i = h & (cap - 1); tab[i] && strcmp(tab[i], path); i = (i + 1) & (cap - 1))
		;
	return i;
}

/*
 * A holder's cgroup path, kept once for every snapshot of the inventory
 * (heaptop takes the holders again and again): a set of the paths seen,
 * at most half full.
 */
static const char *cgroup_name(struct inventory *inv, const char *path)
{
	size_t i;
	char *s;

	if ((inv->ncgroups + 1) * 2 > inv->cgroups_cap) {
		size_t cap = inv->cgroups_cap ? inv->cgroups_cap * 2 : 64;
		const char **tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return NULL;
		for (size_t k = 0; k < inv->cgroups_cap; k++)
			if (inv->cgroups[k])
				tab[cgroup_slot(tab, cap, inv->cgroups[k])] = inv->cgroups[k];
		free(inv->cgroups);
		inv->cgroups = tab;
		inv->cgroups_cap = cap;
	}
	i = cgroup_slot(inv->cgroups, inv->cgroups_cap, path);
	if (inv->cgroups[i])
		return inv->cgroups[i];
	s = inv_alloc(inv, strlen(path) + 1);
	if (!s)
		return NULL;
	inv->cgroups[i] = strcpy(s, path);
	inv->ncgroups++;
	return s;
}

/* a holder; its refs follow with this index */
static int add_process(struct inventory *inv, pid_t pid, const char *comm, const char *cgroup,
		       size_t *idx)
{
	struct inv_proc *p;

	if (inv->nprocs >= UINT32_MAX ||
	    grow_array((void **)&inv->procs, &inv->procs_cap, inv->nprocs, sizeof(*p)))
		return -ENOMEM;
	p = &inv->procs[inv->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	/* processes of one cgroup mostly come one after another */
	p->cgroup = inv->nprocs && !strcmp(p[-1].cgroup, cgroup) ? p[-1].cgroup :
		    cgroup_name(inv, cgroup);
	if (!p->cgroup)
		return -ENOMEM;
	*idx = inv->nprocs++;
	return 0;
}

/*
 * A buffer an fd (or a mapping, from the task iterators) shows, when
 * iter/dmabuf did not name the buffers: added once per fd or mapping, made
 * unique by add_fd_only_buffers(). A buffer only mapped has no fd to show
 * it; /proc's maps do not say its size, so the procfs walk does not see it.
 */
static struct inv_buf *put_buffer(struct inventory *inv, uint64_t ino, uint64_t size,
				  const char *exp_name, const char *name)
{
	struct inv_buf *nb = new_buf(inv);

	if (!nb)
		return NULL;
	nb->ino = ino;
	nb->size = size;
	nb->exp_name = exporter_name(inv, exp_name);
	nb->name = inv_name(inv, name, INV_NAME_LEN);
	return nb->exp_name && nb->name ? nb : NULL;
}

static int add_fd_buffer(struct inventory *inv, uint64_t ino, uint64_t size,
			 const char *exp_name, const char *name)
{
	if (inv->buffers_src == SRC_ITER_DMABUF)
		return 0;
	return put_buffer(inv, ino, size, exp_name, name) ? 0 : -ENOMEM;
}

/* the buffers sorted by inode, one kept of each inode */
static void bufs_sorted_once(struct inventory *inv)
{
	size_t out = 0;

	sort_by_u64(inv->bufs, inv->nbufs, sizeof(*inv->bufs), offsetof(struct inv_buf, ino));
	for (size_t i = 0; i < inv->nbufs; i++)
		if (!out || inv->bufs[out - 1].ino != inv->bufs[i].ino)
			inv->bufs[out++] = inv->bufs[i];
	inv->nbufs = out;
}

/*
 * Without iter/dmabuf, the buffers are those the fds and mappings showed:
 * sorted, one kept of those shared by several. (With it, a buffer born since it
 * ran is left for the next snapshot: its fd record does not name it.)
 */
static void add_fd_only_buffers(struct inventory *inv)
{
	if (inv->buffers_src != SRC_ITER_DMABUF)
		bufs_sorted_once(inv);
}

/*
 * The buffer of ino, searched for from the one after the last found: a
 * process's fds come in fd order, mostly its buffers' inode order, often
 * the very next buffer, else with other processes' buffers between them.
 * Steps doubling from there, then a binary search of the last step: a few
 * looks where a search of all took 17 at 100k buffers.
 */
static struct inv_buf *find_next(struct inventory *inv, const struct inv_buf *last, uint64_t ino)
{
	size_t base, step = 1, n = inv->nbufs;

	if (!last || last->ino >= ino)
		return inventory_find(inv, ino);
	base = last - inv->bufs + 1;
	if (base < n && inv->bufs[base].ino == ino)	/* mostly */
		return &inv->bufs[base];
	while (base + step <= n && inv->bufs[base + step - 1].ino < ino)
		step *= 2;
	/* bufs[base + step / 2 - 1] was below ino: it is in [base + step / 2, base + step) */
	n = base + step < n ? base + step : n;
	base += step / 2;
	return base < n ? find_in(inv->bufs + base, n - base, ino) : NULL;
}

/*
 * One hold per (buffer, process). Refs come process by process, in the
 * order of the processes; a stable counting sort by buffer keeps that
 * order, so a process's refs to one buffer end up side by side and merge.
 * The counts give each buffer its holds; only when some process holds a
 * buffer twice (two fds, an fd and a mapping) are they merged and counted
 * again.
 */
static int add_holds(struct inventory *inv)
{
	const struct inv_buf *b = NULL;
	size_t n = 0, out = 0;
	bool twice = false;

	/* each buffer's refs counted in its holders, then its first_hold their sum
	 * before it; holders counts again as they are placed, up to the same */
	for (size_t i = 0; i < inv->nbufs; i++)
		inv->bufs[i].holders = 0;
	for (size_t i = 0; i < inv->nrefs; i++) {
		struct inv_ref *r = &inv->refs[i];

		b = find_next(inv, b, r->ino);
		r->buf = b ? b - inv->bufs : INV_REF_NO_BUF;
		if (!b)	/* a buffer born after iter/dmabuf ran */
			continue;
		inv->bufs[r->buf].holders++;
		n++;
	}
	for (size_t i = 0, sum = 0; i < inv->nbufs; i++) {
		inv->bufs[i].first_hold = sum;
		sum += inv->bufs[i].holders;
		inv->bufs[i].holders = 0;
	}
	free(inv->holds);
	inv->holds = malloc((n + 1) * sizeof(*inv->holds));
	if (!inv->holds)
		return -ENOMEM;
	for (size_t i = 0; i < inv->nrefs; i++) {
		const struct inv_ref *r = &inv->refs[i];
		struct inv_buf *rb;
		size_t at;

		if (r->buf == INV_REF_NO_BUF)
			continue;
		rb = &inv->bufs[r->buf];
		at = rb->first_hold + rb->holders++;
		/* the same process's last ref to it is the one before, if any */
		twice |= at > rb->first_hold && inv->holds[at - 1].proc == r->proc;
		inv->holds[at] = (struct inv_hold){
			.buf = r->buf, .proc = r->proc,
			.fds = !r->is_map, .map_bytes = r->is_map ? r->map_bytes : 0,
		};
	}
	inv->nholds = n;
	if (!twice)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct inv_hold *h = &inv->holds[i];

		if (out && inv->holds[out - 1].buf == h->buf && inv->holds[out - 1].proc == h->proc) {
			inv->holds[out - 1].fds += h->fds;
			inv->holds[out - 1].map_bytes += h->map_bytes;
			continue;
		}
		inv->holds[out++] = *h;
	}
	inv->nholds = out;
	for (size_t i = 0; i < inv->nbufs; i++)
		inv->bufs[i].holders = 0;
	for (size_t i = inv->nholds; i-- > 0;) {
		inv->bufs[inv->holds[i].buf].first_hold = i;
		inv->bufs[inv->holds[i].buf].holders++;
	}
	return 0;
}

#define PSS_SHIFT	12

void inventory_proc_totals(const struct inventory *inv, const char *exp_name, struct inv_proc *out)
{
	if (out != inv->procs)
		copy_array(out, inv->procs, inv->nprocs, sizeof(*out));
	if (!exp_name && out != inv->procs)
		return;		/* over every buffer: inventory.procs has them */
	for (size_t i = 0; i < inv->nprocs; i++) {
		out[i].fd_bytes = out[i].map_bytes = out[i].pss_bytes = 0;
		out[i].buffers = 0;
	}
	for (size_t i = 0; i < inv->nholds; i++) {
		const struct inv_hold *h = &inv->holds[i];
		const struct inv_buf *b = &inv->bufs[h->buf];
		struct inv_proc *p = &out[h->proc];

		if (exp_name && strcmp(b->exp_name, exp_name))
			continue;
		p->buffers++;
		if (h->fds)
			p->fd_bytes += b->size;
		p->map_bytes += h->map_bytes;
		/* in 1/4096 bytes (the kernel's smaps' PSS_SHIFT), rounded to
		 * the nearest byte once at the end: three 1 MiB buffers shared
		 * by three read 1 MiB each, not a byte less */
		p->pss_bytes += (b->size << PSS_SHIFT) / b->holders;
	}
	for (size_t i = 0; i < inv->nprocs; i++)
		out[i].pss_bytes = (out[i].pss_bytes + (1ull << (PSS_SHIFT - 1))) >> PSS_SHIFT;
}

static int cmp_fd_tgid(const void *a, const void *b)
{
	const struct fd_rec *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

static int cmp_map_tgid(const void *a, const void *b)
{
	const struct map_rec *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

struct inv_iters {
	struct dmabuf_iter_lskel *all;		/* the buffer and task iterators (6.16+) */
	struct dmabuf_iter_tasks_lskel *tasks;	/* or the task iterators */
	struct cgroup_iter_lskel *cg;		/* iter/cgroup, when it pays: cgroups_by_iter() */
	int dmabuf_prog, task_file_prog, task_vma_prog, cgroup_prog;	/* -1: none */
	struct inv_cgroup_session *cg_session;	/* cgroup_prog's, in its .bss */
	bool procfs_only;
	bool live;			/* a live view's: iter/cgroup whatever the tree */
	bool cg_decided;		/* whether to load iter/cgroup */
	const char *cgroups_src;	/* what walked the tree last: inventory.cgroups_src */
	const char *loaded;		/* inventory.iters_loaded */
	bool own_pidns;			/* holders from /proc: BPF's pids are the host's */
	struct cg_index cgroups;	/* id -> path, rebuilt when an id is missing */
};

#define TOO_DEEP	SIZE_MAX	/* a path length: longer than PATH_MAX */

/* the cgroup tree from iter/cgroup, in pre-order: the path of each from its parent's */
struct tree_walk {
	struct cg_index *ix;
	char path[PATH_MAX];
	struct {
		uint64_t id;
		size_t len;		/* of its path */
	} *stack;			/* the first record, and the chain down to the last */
	size_t depth, cap;
};

static size_t cgroup_pools(const struct inv_cgroup *r)
{
	return r->npools < INV_DMEM_POOLS ? r->npools : INV_DMEM_POOLS;
}

static size_t cgroup_len(const void *head)
{
	const struct inv_cgroup *r = head;

	return sizeof(*r) + cgroup_pools(r) * sizeof(struct inv_dmem_pool) +
	       (r->len & (INV_CGROUP_NAME_MAX - 1));
}

/* dmem's largest limit, which its files say as "max" (PAGE_COUNTER_MAX) */
static uint64_t dmem_no_limit(void)
{
	static uint64_t v;

	if (!v)
		v = (uint64_t)LONG_MAX / (uint64_t)sysconf(_SC_PAGESIZE);
	return v;
}

/* the cgroup's dmem charges and limits, as its dmem.current and dmem.max say */
static int cgroup_dmem(struct cg_index *ix, const struct inv_cgroup *r)
{
	const char *at = (const char *)(r + 1);
	struct cg_entry *e = &ix->v[ix->n - 1];
	size_t n = cgroup_pools(r);
	int err = 0;

	if (!(r->flags & INV_CG_DMEM_READ) || (r->flags & INV_CG_DMEM_MORE))
		return 0;	/* its files say */
	e->top = !r->parent;
	if (!(r->flags & INV_CG_DMEM_ON)) {
		e->dmem_state = CG_DMEM_OFF;
		return 0;
	}
	for (size_t i = 0; i < n && !err; i++) {
		struct inv_dmem_pool p;

		memcpy(&p, at + i * sizeof(p), sizeof(p));
		if (p.region_len >= sizeof(p.region) - 1)
			goto unread;	/* a name that may have been cut */
		if (!p.region_len)
			continue;	/* gone while the walk read it */
		p.region[p.region_len] = '\0';
		err = cg_index_add_dmem(ix, p.region, p.usage,
					p.max >= dmem_no_limit() ? CG_DMEM_MAX : p.max);
	}
	e->dmem_state = CG_DMEM_ON;
	return err;
unread:
	for (size_t k = 0; k < e->ndmem; k++)
		free(e->dmem[k].region);
	free(e->dmem);
	e->dmem = NULL;
	e->ndmem = 0;
	return 0;
}

static int on_cgroup(const void *rec, void *arg)
{
	struct tree_walk *w = arg;
	const struct inv_cgroup *r = rec;
	const char *name = (const char *)(r + 1) + cgroup_pools(r) * sizeof(struct inv_dmem_pool);
	size_t len = 0, n = r->len & (INV_CGROUP_NAME_MAX - 1);
	int err;

	if (w->depth) {	/* below the first, the root's path "" */
		while (w->depth > 1 && w->stack[w->depth - 1].id != r->parent)
			w->depth--;
		if (w->stack[w->depth - 1].id != r->parent)
			return 0;
		len = w->stack[w->depth - 1].len;
		if (len == TOO_DEEP || len + 1 + n >= sizeof(w->path)) {
			len = TOO_DEEP;	/* deeper than a path can say: it and below */
		} else {
			w->path[len++] = '/';
			memcpy(w->path + len, name, n);
			len += n;
		}
	}
	if (len != TOO_DEEP)
		w->path[len] = '\0';
	/* kept on the stack even when too deep: its siblings' parent stays there */
	if (grow_array((void **)&w->stack, &w->cap, w->depth, sizeof(*w->stack)))
		return -ENOMEM;
	w->stack[w->depth].id = r->id;
	w->stack[w->depth++].len = len;
	if (len == TOO_DEEP)
		return 0;
	err = cg_index_add(w->ix, r->id, w->path);
	return err ?: cgroup_dmem(w->ix, r);
}

static const struct rec_format cgroup_format = { sizeof(struct inv_cgroup), cgroup_len, on_cgroup };

/*
 * Below this many cgroups, walking the cgroup2 directories costs a one-shot
 * command less than loading iter/cgroup (its verification is most of it):
 * in guest instructions on 7.2, a one-shot report took 16 ms more with the
 * iterator whatever the tree, and 0.047 ms more a cgroup walking
 * directories (docs/benchmarks.md, Inventory). The model reads dmem's files
 * then, as `report` does anyway. A live view loads it whatever the tree: it
 * walks again and again, and takes dmem's charges from it.
 */
#define CG_ITER_MIN	350

/* the cgroups below the root (its cgroup.stat's nr_descendants); 0 when unknown.
 * cgroup.stat is "<key> <value>" lines, the shape cg_dmem_read() reads */
static uint64_t cgroups_below_root(void)
{
	uint64_t n;

	return cg_dmem_read(cg_root(), "cgroup.stat", "nr_descendants", &n) ? 0 : n;
}

/* iter/cgroup loaded, the first time a walk asks, where it pays (above) */
static void cgroups_by_iter(struct inv_iters *it)
{
	if (it->cg_decided)
		return;
	it->cg_decided = true;
	if (it->procfs_only || (!it->live && cgroups_below_root() < CG_ITER_MIN))
		return;
	it->cg = cgroup_iter_lskel__open_and_load();
	if (it->cg) {
		it->cgroup_prog = it->cg->progs.cgroup_tree.prog_fd;
		it->cg_session = &it->cg->bss->cg_session;
	}
}

/**
 * inventory_cgroups_walk() - walk the cgroup tree again
 *
 * With iter/cgroup (one record a cgroup) where it pays, else reading the
 * cgroup2 directories (every file of each). Return: 0 or a negative errno
 * (the tree is then empty: no cgroup2 here).
 */
int inventory_cgroups_walk(struct inv_iters *it)
{
	struct tree_walk w = { .ix = &it->cgroups };
	struct inv_cgroup_session *s;
	union bpf_iter_link_info linfo = {};
	int fd, err = -ENOENT;

	cgroups_by_iter(it);
	s = it->cg_session;
	if (it->cgroup_prog >= 0) {
		fd = open(cg_root(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			cg_index_free(&it->cgroups);
			linfo.cgroup.cgroup_fd = fd;
			linfo.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
			memset(s, 0, sizeof(*s));
			do {	/* in sessions, each going on after the last */
				s->bytes = s->full = 0;
				err = run_iter_on(it->cgroup_prog, &linfo, &cgroup_format, &w);
				/* the cgroup it went on after was removed meanwhile */
				if (!err && s->resume_after)
					err = -ESTALE;
				s->resume_after = s->last;
			} while (!err && s->full);
			close(fd);
		}
		free(w.stack);
	}
	if (!err) {
		cg_index_sort(&it->cgroups);
		it->cgroups_src = "iter/cgroup";
		return 0;
	}
	err = cg_index_build(&it->cgroups, cg_root());
	it->cgroups_src = err ? NULL : "the cgroup2 directories";
	return err;
}

/* the path of a cgroup id; a missing id rebuilds the index, once while *may_rebuild */
static const char *cgroup_path(struct inv_iters *it, uint64_t id, bool *may_rebuild)
{
	const char *path = cg_index_path(&it->cgroups, id);

	if (!path && *may_rebuild) {	/* a cgroup made since the last walk */
		*may_rebuild = false;
		if (!inventory_cgroups_walk(it))
			path = cg_index_path(&it->cgroups, id);
	}
	return path;
}

/* a holder's name and cgroup: from the fd record that named it, else from /proc */
static void identify(struct inv_iters *it, const struct inv_fd_proc *r, bool *may_rebuild,
		     const char *proc_root, struct proc_scan *ps)
{
	const char *path = r && r->cgroup_id ? cgroup_path(it, r->cgroup_id, may_rebuild) : NULL;

	if (!path) {
		proc_identify(proc_root, ps);
		return;
	}
	snprintf(ps->comm, sizeof(ps->comm), "%.*s", (int)sizeof(r->comm), r->comm);
	snprintf(ps->cgroup, sizeof(ps->cgroup), "%s", path);
}

/* the buffer a task iterator's record came with (@buf: in t->bufs, or -1: none) */
static int add_rec_buffer(struct inventory *inv, const struct task_recs *t, uint64_t ino,
			  int32_t buf)
{
	const struct inv_fd_buf *b = buf >= 0 ? &t->bufs[buf] : NULL;

	return b ? add_fd_buffer(inv, ino, b->size, b->exp_name, b->name) : 0;
}

/* holders from the task iterators: one process per tgid, named by its first
 * fd record (or /proc for a process with mappings only) */
static int add_task_holders(struct inv_iters *it, struct inventory *inv, struct task_recs *t,
			    const char *proc_root)
{
	bool may_rebuild = true;	/* one walk of the cgroup tree per snapshot at most */
	size_t i = 0, k = 0;
	int err = 0;

	if (t->fds_unordered)
		sort_ordered(t->fds, t->nfds, sizeof(*t->fds), cmp_fd_tgid);
	sort_ordered(t->maps, t->nmaps, sizeof(*t->maps), cmp_map_tgid);
	/* a ref each: room for them at once */
	if (reserve_array((void **)&inv->refs, &inv->refs_cap, inv->nrefs + t->nfds + t->nmaps,
			  sizeof(*inv->refs)))
		return -ENOMEM;
	while (!err && (i < t->nfds || k < t->nmaps)) {
		uint32_t tgid = i < t->nfds && (k >= t->nmaps || t->fds[i].tgid <= t->maps[k].tgid) ?
				t->fds[i].tgid : t->maps[k].tgid;
		struct proc_scan ps = { .pid = tgid };
		const struct inv_fd_proc *named = NULL;
		size_t nf = 0, nm = 0, proc;

		while (i + nf < t->nfds && t->fds[i + nf].tgid == tgid) {
			if (!named && t->fds[i + nf].proc >= 0)
				named = &t->procs[t->fds[i + nf].proc];
			nf++;
		}
		while (k + nm < t->nmaps && t->maps[k + nm].tgid == tgid)
			nm++;
		identify(it, named, &may_rebuild, proc_root, &ps);
		err = add_process(inv, tgid, ps.comm, ps.cgroup, &proc);
		for (; !err && nf; i++, nf--) {
			const struct fd_rec *f = &t->fds[i];

			err = push_ref(inv, proc, f->ino, false, 0) ?:
			      add_rec_buffer(inv, t, f->ino, f->buf);
		}
		for (; !err && nm; k++, nm--) {
			const struct map_rec *m = &t->maps[k];

			/* mapped, its fds closed: no fd record named it */
			err = push_ref(inv, proc, m->ino, true, m->bytes) ?:
			      add_rec_buffer(inv, t, m->ino, m->buf);
		}
	}
	return err;
}

/*
 * With iter/dmabuf: the buffers an O_PATH file alone keeps (their last file
 * released, they are off the list iter/dmabuf walks, yet their memory lives
 * while such a file is open), from those files' records: added once each,
 * the buffers sorted again.
 */
static int add_path_buffers(struct inventory *inv, const struct task_recs *t)
{
	size_t listed = inv->nbufs;

	for (size_t i = 0; i < t->nfds; i++) {
		const struct fd_rec *f = &t->fds[i];
		const struct inv_fd_buf *b = f->buf >= 0 ? &t->bufs[f->buf] : NULL;
		struct inv_buf *nb;

		if (!f->path || !b || find_in(inv->bufs, listed, f->ino))
			continue;
		nb = put_buffer(inv, f->ino, b->size, b->exp_name, b->name);
		if (!nb)
			return -ENOMEM;
		nb->attachments_known = true;	/* none: an importer holds a file of it */
	}
	if (inv->nbufs > listed)	/* (a buffer two O_PATH files keep came twice) */
		bufs_sorted_once(inv);
	return 0;
}

static int procfs_holders(struct inventory *inv, const char *proc_root)
{
	struct proc_walk *w = proc_walk_open(proc_root);
	struct proc_scan ps;
	size_t proc;
	int err;

	if (!w)
		return -errno;
	while ((err = proc_walk_next(w, &ps)) > 0) {
		err = 0;
		if (!ps.nfds && !ps.nmaps)
			continue;
		err = add_process(inv, ps.pid, ps.comm, ps.cgroup, &proc);
		for (size_t i = 0; i < ps.nfds && !err; i++) {
			const struct proc_dmabuf_fd *f = &ps.fds[i];

			err = push_ref(inv, proc, f->ino, false, 0) ?:
			      add_fd_buffer(inv, f->ino, f->size, f->exp_name, f->name);
		}
		for (size_t i = 0; i < ps.nmaps && !err; i++)
			err = push_ref(inv, proc, ps.maps[i].ino, true, ps.maps[i].bytes);
		if (err)
			break;
	}
	inv->unreadable = proc_walk_unreadable(w);
	proc_walk_close(w);
	return err;
}

/**
 * inventory_open() - load the iterator programs once, for repeated snapshots
 * @procfs_only: no BPF iterator, only /proc (to compare, or to check)
 * @live: for a live view: iter/cgroup whatever the tree's size (it is
 *	loaded on the first walk of the tree: cgroups_by_iter())
 *
 * A kernel refusing the iterators leaves /proc as the source; not an error.
 * Return: 0 or -ENOMEM.
 */
int inventory_open(struct inv_iters **out, bool procfs_only, bool live)
{
	struct inv_iters *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	it->procfs_only = procfs_only;
	it->live = live;
	it->own_pidns = heapstat_own_pidns();
	it->dmabuf_prog = it->task_file_prog = it->task_vma_prog = it->cgroup_prog = -1;
	/* the best set this kernel loads, tried: iter/dmabuf is 6.16+ */
	if (!procfs_only) {
		it->all = dmabuf_iter_lskel__open_and_load();
		if (!it->all)
			it->tasks = dmabuf_iter_tasks_lskel__open_and_load();
	}
	if (it->all || it->tasks)
		it->loaded = lskel_ran_here() ? "their loader run in user space" :
			     "the kernel running their loader";
	if (it->all) {
		it->dmabuf_prog = it->all->progs.dmabuf.prog_fd;
		it->task_file_prog = it->all->progs.task_file.prog_fd;
		it->task_vma_prog = it->all->progs.task_vma.prog_fd;
	} else if (it->tasks) {
		it->task_file_prog = it->tasks->progs.task_file.prog_fd;
		it->task_vma_prog = it->tasks->progs.task_vma.prog_fd;
	}
	*out = it;
	return 0;
}

/*
 * The cgroup tree the holders were named from (id -> path), walked again
 * when a holder's cgroup was not in it: a caller naming cgroups too may
 * share it, and walk it again with inventory_cgroups_walk().
 */
const struct cg_index *inventory_cgroups(struct inv_iters *it)
{
	return &it->cgroups;
}

void inventory_close(struct inv_iters *it)
{
	if (!it)
		return;
	dmabuf_iter_lskel__destroy(it->all);
	dmabuf_iter_tasks_lskel__destroy(it->tasks);
	cgroup_iter_lskel__destroy(it->cg);
	cg_index_free(&it->cgroups);
	free(it);
}

/* make the holds from the refs: every buffer's holders, every process's share */
static int link_holds(struct inventory *inv)
{
	int err;

	/* every buffer's holders and first_hold are set by add_holds() */
	err = add_holds(inv);
	if (!err)
		inventory_proc_totals(inv, NULL, inv->procs);
	return err;
}

/* a sentence added to the inventory's note, after those there ("; ") */
static void __attribute__((format(printf, 2, 3)))
note_add(struct inventory *inv, const char *fmt, ...)
{
	size_t n = strlen(inv->note);
	va_list ap;

	if (n && n + 2 < sizeof(inv->note)) {
		memcpy(inv->note + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(inv->note + n, sizeof(inv->note) - n, fmt, ap);
	va_end(ap);
}

/* who holds the buffers: processes by fd and mapping, each process's share */
static int take_holders(struct inv_iters *it, struct inventory *inv, const char *proc_root)
{
	struct task_recs t = {};
	int err;

	inv->nrefs = 0;
	/* mostly one fd a buffer: room for them at once */
	if (inv->buffers_src == SRC_ITER_DMABUF &&
	    reserve_array((void **)&t.fds, &t.fds_cap, inv->nbufs + inv->nbufs / 8 + 64,
			  sizeof(*t.fds)))
		return -ENOMEM;
	/* no mapping of any buffer (iter/dmabuf says): no process's mappings to walk;
	 * in a PID namespace of its own, the task iterators walk its processes but
	 * give the host's pids: /proc gives the namespace's */
	if (!it->own_pidns && it->task_file_prog >= 0 &&
	    !run_iter(it->task_file_prog, 0, &fd_format, &t) &&
	    ((inv->buffers_src == SRC_ITER_DMABUF && !inv->nmapped) ||
	     !run_iter(it->task_vma_prog, 0, &map_format, &t))) {
		inv->holders_src = SRC_ITER_TASK;
		err = add_task_holders(it, inv, &t, proc_root);
		if (!err && inv->buffers_src == SRC_ITER_DMABUF)
			err = add_path_buffers(inv, &t);
	} else {
		inv->holders_src = SRC_PROC_FDINFO;
		err = procfs_holders(inv, proc_root);
	}
	task_recs_free(&t);
	/* a /proc of an outer namespace (no --mount-proc) shows its processes too */
	inv->holders_ns_only = it->own_pidns && proc_own_pidns(proc_root);
	if (inv->buffers_src != SRC_ITER_DMABUF) {
		inv->buffers_src = inv->holders_src;
		add_fd_only_buffers(inv);
		if (inv->holders_ns_only)	/* the buffers too: its processes' fds */
			note_add(inv, "in a PID namespace of its own (a container's): buffers "
				 "and holders from its /proc; buffers no process of it holds an fd "
				 "to are not seen");
	} else if (inv->holders_ns_only) {
		note_add(inv, "in a PID namespace of its own (a container's): holders from its "
			 "/proc, BPF's pids being the host's; a buffer held outside it counts as "
			 "no process's");
	} else if (it->own_pidns) {
		note_add(inv, "in a PID namespace of its own with an outer one's /proc: holders "
			 "from that /proc, by its pids");
	}
	return err ?: link_holds(inv);
}

/**
 * inventory_sort_walked() - iter/dmabuf's buffers, as listed, in inode order
 *
 * iter/dmabuf lists the newest first, and the kernel numbers a dma-buf's
 * inode as it makes it: reversed, they are in order but for a few whose
 * export ended late (preempted between the two), each then after buffers
 * made later, often hundreds. Those few are copied out and sorted, and one
 * pass from the end puts every buffer in its place: no (key, index) pair
 * made for each buffer, and after the reversal none moved more than once.
 * More than a few: sort_by_u64(). Inodes are unique and not 0 here (the
 * kernel's count starts at 1): no two buffers' order to keep, and 0 marks
 * a place left.
 */
void inventory_sort_walked(struct inv_buf *b, size_t n)
{
	size_t nlate = 0, k = 0, i, j, to;
	struct inv_buf *late;
	uint64_t last = 0;

	for (i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
		struct inv_buf t = b[i];

		b[i] = b[j];
		b[j] = t;
	}
	/* a late one is below the last before it in order; counted first, nothing
	 * moved when there are too many */
	for (i = 0; i < n; i++) {
		if (i && b[i].ino < last)
			nlate++;
		else
			last = b[i].ino;
	}
	if (!nlate)
		return;
	late = nlate <= n / 64 ? malloc(nlate * sizeof(*late)) : NULL;
	if (!late) {
		sort_by_u64(b, n, sizeof(*b), offsetof(struct inv_buf, ino));
		return;
	}
	/* each copied out, its place marked by inode 0, which no dma-buf has */
	for (i = 0; i < n; i++) {
		if (i && b[i].ino < last) {
			late[k++] = b[i];
			b[i].ino = 0;
		} else {
			last = b[i].ino;
		}
	}
	sort_by_u64(late, nlate, sizeof(*late), offsetof(struct inv_buf, ino));
	/*
	 * From the end: each buffer in order after the late ones above it. A late
	 * one above a buffer in order comes after it here, so no place written is
	 * one still to read; with every late one placed, the rest are in place
	 * (no mark among them). Late ones below every buffer in order go first.
	 */
	i = to = n;
	j = nlate;
	while (i-- > 0 && j) {
		if (!b[i].ino)
			continue;
		while (j && late[j - 1].ino > b[i].ino)
			b[--to] = late[--j];
		b[--to] = b[i];
	}
	while (j)
		b[--to] = late[--j];
	free(late);
}


/**
 * inventory_take() - take a snapshot of live dma-bufs and their holders
 * @inv: filled in; inventory_free() it
 * @proc_root: "/proc", or another mount of it
 *
 * Return: 0 or a negative errno.
 */
int inventory_take(struct inv_iters *it, struct inventory *inv, const char *proc_root)
{
	struct buffer_stream st = { .inv = inv };
	char why[64] = "";
	int err = -ENOENT;

	memset(inv, 0, sizeof(*inv));
	if (it->dmabuf_prog >= 0)
		err = run_iter(it->dmabuf_prog, 0, &buffer_format, &st);
	if (!err) {
		inv->buffers_src = SRC_ITER_DMABUF;
		inventory_sort_walked(inv->bufs, inv->nbufs);
	} else {
		inventory_free(inv);	/* 6.12 and older have no iter/dmabuf */
		if (it->procfs_only)
			snprintf(why, sizeof(why), "--source procfs");
		else if (it->dmabuf_prog < 0)
			snprintf(why, sizeof(why), "no BPF iter/dmabuf in this kernel (6.16+)");
		else if (err == -ENOMEM)
			return err;
		else	/* loaded, and failed when run: say how */
			snprintf(why, sizeof(why), "BPF iter/dmabuf failed: %s", strerror(-err));
	}
	err = take_holders(it, inv, proc_root);
	/* the buffers the holders showed: the task iterators' fds and mappings, /proc's fds */
	if (why[0] && !inv->holders_ns_only)
		note_add(inv, "%s: buffers no process holds %s are not seen", why,
			 inv->holders_src == SRC_ITER_TASK ? "by fd or mapping" : "an fd to");
	if (inv->unreadable)	/* root too can be refused: ptrace's rules, a sandbox's */
		note_add(inv, "%zu process%s' fds and mappings not ours to read (%s): what they "
			 "hold is not counted", inv->unreadable, inv->unreadable == 1 ? "" : "es",
			 geteuid() ? "another user's; root reads them" :
			 "the kernel's ptrace access check refused root");
	inv->cgroups_src = it->cgroups_src;
	inv->iters_loaded = it->loaded;
	return err;
}

/* the buffers released go, the ones exported come (an export released since is no buffer) */
static int apply_buffers(struct inventory *inv, const struct inv_changes *ch, uint64_t *gone)
{
	size_t n = ch->nreleases, out = 0, base;
	bool sorted = true;

	copy_array(gone, ch->releases, n, sizeof(*gone));
	sort_ordered(gone, n, sizeof(*gone), cmp_u64);
	for (size_t i = 0, k = 0; i < inv->nbufs; i++) {	/* both sorted */
		while (k < n && gone[k] < inv->bufs[i].ino)
			k++;
		if (k == n || gone[k] != inv->bufs[i].ino)
			inv->bufs[out++] = inv->bufs[i];
	}
	inv->nbufs = out;
	base = out;
	for (size_t i = 0; i < ch->nexports; i++) {
		const struct inv_export *e = &ch->exports[i];
		struct inv_buf *b;

		if ((n && bsearch(&e->ino, gone, n, sizeof(*gone), cmp_u64)) ||
		    find_in(inv->bufs, base, e->ino))
			continue;
		b = new_buf(inv);
		if (!b)
			return -ENOMEM;
		b->ino = e->ino;
		b->size = e->size;
		b->exp_name = exporter_name(inv, e->exp_name);
		b->name = "";
		b->attachments_known = true;
		if (!b->exp_name)
			return -ENOMEM;
		sorted &= b == inv->bufs || b[-1].ino < b->ino;
	}
	/* inode numbers grow: the new ones mostly come after the rest, in order */
	if (!sorted)
		sort_by_u64(inv->bufs, inv->nbufs, sizeof(*inv->bufs), offsetof(struct inv_buf, ino));
	return 0;
}

/* the processes of @tgids (sorted) and their refs go; the others keep their order */
static int drop_procs(struct inventory *inv, const pid_t *tgids, size_t n)
{
	size_t *to = malloc((inv->nprocs + 1) * sizeof(*to)), out = 0;

	if (!to)
		return -ENOMEM;
	for (size_t i = 0; i < inv->nprocs; i++) {
		to[i] = SIZE_MAX;
		if (bsearch(&inv->procs[i].pid, tgids, n, sizeof(*tgids), cmp_pid))
			continue;
		to[i] = out;
		inv->procs[out++] = inv->procs[i];
	}
	inv->nprocs = out;
	out = 0;
	for (size_t i = 0; i < inv->nrefs; i++) {
		if (to[inv->refs[i].proc] == SIZE_MAX)
			continue;
		inv->refs[out] = inv->refs[i];
		inv->refs[out++].proc = to[inv->refs[i].proc];
	}
	inv->nrefs = out;
	free(to);
	return 0;
}

static int cmp_proc_pid(const void *a, const void *b)
{
	const struct inv_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/*
 * The processes back in pid order, as a walk gives them, and their refs
 * grouped in that order (add_holds() needs a process's refs side by side;
 * holds come sorted by buffer, then process).
 */
static int order_procs(struct inventory *inv)
{
	size_t n = inv->nprocs, *to = malloc((n + 1) * sizeof(*to)), *start;
	struct inv_ref *refs = malloc((inv->nrefs + 1) * sizeof(*refs));
	struct inv_proc *sorted = malloc((n + 1) * sizeof(*sorted));

	start = calloc(n + 1, sizeof(*start));
	if (!to || !refs || !sorted || !start) {
		free(to), free(refs), free(sorted), free(start);
		return -ENOMEM;
	}
	/* the old index rides in fd_bytes, recomputed by link_holds() anyway */
	for (size_t i = 0; i < n; i++)
		inv->procs[i].fd_bytes = i;
	copy_array(sorted, inv->procs, n, sizeof(*sorted));
	sort_ordered(sorted, n, sizeof(*sorted), cmp_proc_pid);
	for (size_t i = 0; i < n; i++)
		to[sorted[i].fd_bytes] = i;
	copy_array(inv->procs, sorted, n, sizeof(*sorted));
	for (size_t i = 0; i < inv->nrefs; i++)
		start[to[inv->refs[i].proc]]++;
	for (size_t i = 0, sum = 0; i <= n; i++) {
		size_t c = start[i];

		start[i] = sum;
		sum += c;
	}
	for (size_t i = 0; i < inv->nrefs; i++) {
		struct inv_ref r = inv->refs[i];

		r.proc = to[r.proc];
		refs[start[r.proc]++] = r;
	}
	free(inv->refs);
	inv->refs = refs;
	inv->refs_cap = inv->nrefs + 1;
	free(to), free(sorted), free(start);
	return 0;
}

/*
 * Processes left holding nothing: their fds were closed (not traced) and
 * their buffers released since. A walk would not list them.
 */
static int drop_idle_procs(struct inventory *inv)
{
	pid_t *idle;
	size_t n = 0;
	int err;

	for (size_t i = 0; i < inv->nprocs; i++)
		n += !inv->procs[i].buffers;
	if (!n)
		return 0;
	idle = malloc(n * sizeof(*idle));
	if (!idle)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < inv->nprocs; i++)
		if (!inv->procs[i].buffers)
			idle[n++] = inv->procs[i].pid;
	sort_ordered(idle, n, sizeof(*idle), cmp_pid);
	err = drop_procs(inv, idle, n) ?: link_holds(inv);
	free(idle);
	return err;
}

/**
 * inventory_apply() - bring an inventory up to date with what was traced
 * @inv: an inventory_take() from the BPF iterators
 * @ch: the buffers exported and finally released since, and the processes
 *	whose fds or mappings may have changed
 *
 * The buffers are changed in place, the processes of @ch walked again alone
 * (iter/task_file and iter/task_vma over one process each), and the holds
 * made again. What no event shows (an fd closed or passed on while the
 * buffer lives on, a mapping unmapped, a buffer named) stays as it was
 * until the next inventory_take(); a process left holding only buffers
 * released since goes.
 * Return: 0, -EINVAL when @inv was not taken from the iterators (take it
 * again instead), or a negative errno (take it again).
 */
int inventory_apply(struct inv_iters *it, struct inventory *inv, const struct inv_changes *ch,
		    const char *proc_root)
{
	size_t n = ch->ntgids, out = 0;
	pid_t *tgids = malloc((n + 1) * sizeof(*tgids));
	uint64_t *gone = malloc((ch->nreleases + 1) * sizeof(*gone));
	struct task_recs t = {};
	int err = 0;

	if (inv->buffers_src != SRC_ITER_DMABUF || inv->holders_src != SRC_ITER_TASK)
		err = -EINVAL;
	else if (!tgids || !gone)
		err = -ENOMEM;
	if (!err) {
		copy_array(tgids, ch->tgids, n, sizeof(*tgids));
		sort_ordered(tgids, n, sizeof(*tgids), cmp_pid);
		for (size_t i = 0; i < n; i++)
			if (!out || tgids[i] != tgids[out - 1])
				tgids[out++] = tgids[i];
		n = out;
		err = apply_buffers(inv, ch, gone) ?: drop_procs(inv, tgids, n);
	}
	/* a process gone (or holding nothing now) shows nothing */
	for (size_t i = 0; !err && i < n; i++)
		err = run_iter(it->task_file_prog, tgids[i], &fd_format, &t) ?:
		      run_iter(it->task_vma_prog, tgids[i], &map_format, &t);
	if (!err)
		err = add_task_holders(it, inv, &t, proc_root) ?: add_path_buffers(inv, &t);
	if (!err && n)
		err = order_procs(inv);
	if (!err)
		err = link_holds(inv) ?: drop_idle_procs(inv);
	task_recs_free(&t);
	free(tgids);
	free(gone);
	return err;
}

/* a hold's count of fds and bytes mapped, by buffer inode and process */
struct hold_key {
	uint64_t ino;
	pid_t pid;
	unsigned int fds;
	uint64_t map_bytes;
};

static int cmp_hold_key(const void *a, const void *b)
{
	const struct hold_key *x = a, *y = b;

	if (x->ino != y->ino)
		return (x->ino > y->ino) - (x->ino < y->ino);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct hold_key *hold_keys(const struct inventory *inv)
{
	struct hold_key *k = malloc((inv->nholds + 1) * sizeof(*k));

	for (size_t i = 0; k && i < inv->nholds; i++) {
		const struct inv_hold *h = &inv->holds[i];

		k[i] = (struct hold_key){ inv->bufs[h->buf].ino, inv->procs[h->proc].pid, h->fds,
					  h->map_bytes };
	}
	if (k)
		sort_ordered(k, inv->nholds, sizeof(*k), cmp_hold_key);
	return k;
}

/* what inventory_diff() leaves out: the inodes and processes of some changes, sorted */
struct diff_skip {
	uint64_t *inos;
	size_t ninos;
	pid_t *tgids;
	size_t ntgids;
};

static int skip_make(struct diff_skip *k, const struct inv_changes *ch)
{
	k->ninos = ch ? ch->nexports + ch->nreleases : 0;
	k->ntgids = ch ? ch->ntgids : 0;
	k->inos = malloc((k->ninos + 1) * sizeof(*k->inos));
	k->tgids = malloc((k->ntgids + 1) * sizeof(*k->tgids));
	if (!k->inos || !k->tgids)
		return -ENOMEM;
	for (size_t i = 0; ch && i < ch->nexports; i++)
		k->inos[i] = ch->exports[i].ino;
	if (ch) {
		copy_array(k->inos + ch->nexports, ch->releases, ch->nreleases, sizeof(*k->inos));
		copy_array(k->tgids, ch->tgids, ch->ntgids, sizeof(*k->tgids));
	}
	sort_ordered(k->inos, k->ninos, sizeof(*k->inos), cmp_u64);
	sort_ordered(k->tgids, k->ntgids, sizeof(*k->tgids), cmp_pid);
	return 0;
}

static bool skip_ino(const struct diff_skip *k, uint64_t ino)
{
	return k->ninos && bsearch(&ino, k->inos, k->ninos, sizeof(ino), cmp_u64);
}

static bool skip_hold(const struct diff_skip *k, const struct hold_key *h)
{
	return skip_ino(k, h->ino) ||
	       (k->ntgids && bsearch(&h->pid, k->tgids, k->ntgids, sizeof(h->pid), cmp_pid));
}

/**
 * inventory_diff() - how many buffers and holds two inventories differ by
 * @skip: NULL, or changes whose buffers and processes are left out
 * @last: NULL, or set to the last difference counted (left alone when none)
 *
 * A buffer counts when one has it and the other not, or with another size;
 * a hold (buffer, process) when one has it, or with other counts of fds or
 * bytes mapped. SIZE_MAX when out of memory.
 */
size_t inventory_diff(const struct inventory *a, const struct inventory *b,
		      const struct inv_changes *skip, struct inv_difference *last)
{
	struct hold_key *ka = hold_keys(a), *kb = hold_keys(b);
	struct diff_skip k = {};
	size_t d = SIZE_MAX, i = 0, j = 0;

	if (!ka || !kb || skip_make(&k, skip))
		goto out;
	d = 0;
	while (i < a->nbufs || j < b->nbufs) {
		const struct inv_buf *x = i < a->nbufs ? &a->bufs[i] : NULL;
		const struct inv_buf *y = j < b->nbufs ? &b->bufs[j] : NULL;
		bool differ;

		if (x && y && x->ino == y->ino)
			differ = x->size != y->size;
		else if (!y || (x && x->ino < y->ino))
			y = NULL, differ = true;
		else
			x = NULL, differ = true;
		if (differ && !skip_ino(&k, x ? x->ino : y->ino)) {
			d++;
			if (last)
				*last = (struct inv_difference){ .ino = x ? x->ino : y->ino,
					.bytes = { x ? x->size : 0, y ? y->size : 0 } };
		}
		i += !!x;
		j += !!y;
	}
	for (i = 0, j = 0; i < a->nholds || j < b->nholds;) {
		int c = i == a->nholds ? 1 : j == b->nholds ? -1 : cmp_hold_key(&ka[i], &kb[j]);
		const struct hold_key *x = c <= 0 ? &ka[i] : NULL, *y = c >= 0 ? &kb[j] : NULL;
		const struct hold_key *h = x ? x : y;

		if (!skip_hold(&k, h) && (c || x->fds != y->fds || x->map_bytes != y->map_bytes)) {
			d++;
			if (last)
				*last = (struct inv_difference){ .ino = h->ino, .pid = h->pid,
					.fds = { x ? x->fds : 0, y ? y->fds : 0 },
					.bytes = { x ? x->map_bytes : 0, y ? y->map_bytes : 0 } };
		}
		i += c <= 0;
		j += c >= 0;
	}
out:
	free(ka), free(kb), free(k.inos), free(k.tgids);
	return d;
}

/* One snapshot: inventory_open(), inventory_take(), inventory_close(). */
int inventory_collect(struct inventory *inv, const char *proc_root, bool procfs_only)
{
	struct inv_iters *it;
	int err = inventory_open(&it, procfs_only, false);

	if (err)
		return err;
	err = inventory_take(it, inv, proc_root);
	inventory_close(it);
	return err;
}

void inventory_free(struct inventory *inv)
{
	arena_free(&inv->strings);
	inv->nexporters = 0;
	free(inv->cgroups);
	inv->cgroups = NULL;
	inv->ncgroups = inv->cgroups_cap = 0;
	free(inv->bufs);
	free(inv->procs);
	free(inv->holds);
	free(inv->refs);
	inv->bufs = NULL;
	inv->procs = NULL;
	inv->holds = NULL;
	inv->refs = NULL;
	inv->nbufs = inv->nprocs = inv->nholds = inv->bufs_cap = inv->procs_cap = 0;
	inv->nrefs = inv->refs_cap = 0;
}
