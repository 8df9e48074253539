// SPDX-License-Identifier: GPL-2.0
/*
 * The live dma-buf inventory, each part from the best source the kernel has:
 * - buffers: BPF iter/dmabuf (6.16+) sees every buffer; else the fds found
 *   below, which show only buffers some process holds an fd to;
 * - holders: BPF iter/task_file and iter/task_vma, else /proc/<pid>/fd,
 *   fdinfo and maps (much slower with many fds).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "dmabuf_iter.lskel.h"
#include "dmabuf_iter_tasks.lskel.h"
#include "errors.h"
#include "inventory.h"
#include "cgroup/path.h"
#include "procfs.h"
#include "util.h"

const char *inv_source_name(enum inv_source src)
{
	switch (src) {
	case SRC_ITER_DMABUF: return "iter/dmabuf";
	case SRC_ITER_TASK: return "iter/task_file+task_vma";
	case SRC_PROC_FDINFO: return "procfs-fdinfo";
	default: return "none";
	}
}

static int cmp_ino(const void *a, const void *b)
{
	const struct inv_buf *x = a, *y = b;

	return (x->ino > y->ino) - (x->ino < y->ino);
}

static struct inv_buf *find_in(struct inv_buf *bufs, size_t n, uint64_t ino)
{
	struct inv_buf key = { .ino = ino };

	return bsearch(&key, bufs, n, sizeof(*bufs), cmp_ino);
}

struct inv_buf *inventory_find(struct inventory *inv, uint64_t ino)
{
	return find_in(inv->bufs, inv->nbufs, ino);
}

static struct inv_buf *new_buf(struct inventory *inv)
{
	struct inv_buf *b;

	if (grow_array((void **)&inv->bufs, &inv->bufs_cap, inv->nbufs, sizeof(*inv->bufs)))
		return NULL;
	b = &inv->bufs[inv->nbufs++];
	memset(b, 0, sizeof(*b));
	return b;
}

/* the buffers' strings: few and small, kept until inventory_free() */
static void *inv_alloc(struct inventory *inv, size_t len)
{
	return arena_alloc(&inv->strings, len);
}

/* a string of at most INV_NAME_LEN bytes, not always terminated, kept */
static const char *inv_name(struct inventory *inv, const char *s)
{
	size_t len = strnlen(s, INV_NAME_LEN);
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
		if (!strncmp(inv->exporters[i], s, INV_NAME_LEN))
			return inv->exporters[i];
	d = inv_name(inv, s);
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
 * of one; a read of ours may still end inside one.
 */
static int run_iter(int prog_fd, const struct rec_format *fmt, void *arg)
{
	static char buf[1 << 16];
	size_t have = 0;
	ssize_t n;
	int link, fd, err = 0;

	link = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, NULL);
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
			size_t len = fmt->len ? fmt->len(buf + off) : fmt->head;

			if (have - off < len)
				break;
			err = fmt->on_rec(buf + off, arg);
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

/* the exporter name of the last iter/dmabuf record that carried one */
struct buffer_stream {
	struct inventory *inv;
	const char *exp_name;
};

static size_t buffer_len(const void *head)
{
	const struct inv_buffer *r = head;

	return sizeof(*r) + (!!(r->flags & INV_BUF_EXP_NAME) + !!(r->flags & INV_BUF_NAME) +
			     r->importers) * INV_NAME_LEN;
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
		p += INV_NAME_LEN;
	}
	if (!st->exp_name)	/* the first record names its exporter */
		return -EPROTO;
	nb = new_buf(st->inv);
	if (!nb)
		return -ENOMEM;
	nb->ino = r->ino;
	nb->size = r->size;
	nb->exp_name = st->exp_name;
	nb->name = "";
	nb->attachments = r->attachments;
	nb->attachments_known = true;
	if (r->flags & INV_BUF_NAME) {
		nb->name = inv_name(st->inv, p);
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
};

/* records of iter/task_file and iter/task_vma */
struct task_recs {
	struct fd_rec *fds;
	size_t nfds, fds_cap;
	struct inv_fd_proc *procs;
	size_t nprocs, procs_cap;
	struct inv_fd_buf *bufs;
	size_t nbufs, bufs_cap;
	struct inv_map *maps;
	size_t nmaps, maps_cap;
};

static size_t fd_len(const void *head)
{
	const struct inv_fd *r = head;

	return sizeof(*r) + (r->flags & INV_FD_PROC ? sizeof(struct inv_fd_proc) : 0) +
	       (r->flags & INV_FD_BUF ? sizeof(struct inv_fd_buf) : 0);
}

static int on_fd(const void *rec, void *arg)
{
	struct task_recs *t = arg;
	const struct inv_fd *r = rec;
	const char *p = (const char *)(r + 1);
	struct fd_rec *f;

	if (grow_array((void **)&t->fds, &t->fds_cap, t->nfds, sizeof(*t->fds)))
		return -ENOMEM;
	f = &t->fds[t->nfds++];
	*f = (struct fd_rec){ .ino = r->ino, .tgid = r->tgid, .proc = -1, .buf = -1 };
	if (r->flags & INV_FD_PROC) {
		if (grow_array((void **)&t->procs, &t->procs_cap, t->nprocs, sizeof(*t->procs)))
			return -ENOMEM;
		memcpy(&t->procs[t->nprocs], p, sizeof(*t->procs));
		f->proc = t->nprocs++;
		p += sizeof(*t->procs);
	}
	if (r->flags & INV_FD_BUF) {
		if (grow_array((void **)&t->bufs, &t->bufs_cap, t->nbufs, sizeof(*t->bufs)))
			return -ENOMEM;
		memcpy(&t->bufs[t->nbufs], p, sizeof(*t->bufs));
		f->buf = t->nbufs++;
	}
	return 0;
}

static int on_map(const void *rec, void *arg)
{
	struct task_recs *t = arg;

	if (grow_array((void **)&t->maps, &t->maps_cap, t->nmaps, sizeof(*t->maps)))
		return -ENOMEM;
	memcpy(&t->maps[t->nmaps++], rec, sizeof(*t->maps));
	return 0;
}

static const struct rec_format fd_format = { sizeof(struct inv_fd), fd_len, on_fd };
static const struct rec_format map_format = { sizeof(struct inv_map), NULL, on_map };

static void task_recs_free(struct task_recs *t)
{
	free(t->fds);
	free(t->procs);
	free(t->bufs);
	free(t->maps);
}

/* one dma-buf reference of a process, before buffers are final */
struct ref {
	size_t proc;
	uint64_t ino;
	uint64_t map_bytes;
	uint32_t buf;		/* add_holds(): its index in inventory.bufs */
	bool is_map;
};

struct refs {
	struct ref *v;
	size_t n, cap;
};

static int push_ref(struct refs *r, size_t proc, uint64_t ino, bool is_map, uint64_t map_bytes)
{
	if (grow_array((void **)&r->v, &r->cap, r->n, sizeof(*r->v)))
		return -ENOMEM;
	r->v[r->n++] = (struct ref){ .proc = proc, .ino = ino, .is_map = is_map,
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

	if (grow_array((void **)&inv->procs, &inv->procs_cap, inv->nprocs, sizeof(*p)))
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
 * A buffer an fd shows, when iter/dmabuf did not name the buffers: added
 * once per fd, made unique by add_fd_only_buffers().
 */
static int add_fd_buffer(struct inventory *inv, uint64_t ino, uint64_t size,
			 const char *exp_name, const char *name)
{
	struct inv_buf *nb;

	if (inv->buffers_src == SRC_ITER_DMABUF)
		return 0;
	nb = new_buf(inv);
	if (!nb)
		return -ENOMEM;
	nb->ino = ino;
	nb->size = size;
	nb->exp_name = exporter_name(inv, exp_name);
	nb->name = inv_name(inv, name);
	return nb->exp_name && nb->name ? 0 : -ENOMEM;
}

/*
 * Without iter/dmabuf, the buffers are those the fds showed: sorted, one
 * kept of those shared by several fds. (With it, a buffer born since it
 * ran is left for the next snapshot: its fd record does not name it.)
 */
static void add_fd_only_buffers(struct inventory *inv)
{
	size_t out = 0;

	if (inv->buffers_src == SRC_ITER_DMABUF)
		return;
	sort_by_u64(inv->bufs, inv->nbufs, sizeof(*inv->bufs), offsetof(struct inv_buf, ino));
	for (size_t i = 0; i < inv->nbufs; i++)
		if (!out || inv->bufs[out - 1].ino != inv->bufs[i].ino)
			inv->bufs[out++] = inv->bufs[i];
	inv->nbufs = out;
}

/* the buffer of ino: the one after the last found first, as a process's fds come in order */
static struct inv_buf *find_next(struct inventory *inv, const struct inv_buf *last, uint64_t ino)
{
	if (last && last + 1 < inv->bufs + inv->nbufs && last[1].ino == ino)
		return (struct inv_buf *)last + 1;
	return inventory_find(inv, ino);
}

/*
 * One hold per (buffer, process). Refs come process by process; a stable
 * counting sort by buffer keeps that order, so a process's refs to one
 * buffer end up side by side and merge.
 */
static int add_holds(struct inventory *inv, struct refs *refs)
{
	const struct inv_buf *b = NULL;
	size_t *start, n = 0, out = 0;

	start = calloc(inv->nbufs + 1, sizeof(*start));
	if (!start)
		return -ENOMEM;
	for (size_t i = 0; i < refs->n; i++) {
		struct ref *r = &refs->v[i];

		b = find_next(inv, b, r->ino);
		r->buf = b ? b - inv->bufs : UINT32_MAX;
		if (!b)	/* a buffer born after iter/dmabuf ran */
			continue;
		start[r->buf]++;
		n++;
	}
	for (size_t i = 0, sum = 0; i <= inv->nbufs; i++) {
		size_t c = start[i];

		start[i] = sum;
		sum += c;
	}
	free(inv->holds);
	inv->holds = malloc((n + 1) * sizeof(*inv->holds));
	if (!inv->holds) {
		free(start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < refs->n; i++) {
		const struct ref *r = &refs->v[i];

		if (r->buf == UINT32_MAX)
			continue;
		inv->holds[start[r->buf]++] = (struct inv_hold){
			.buf = r->buf, .proc = r->proc,
			.fds = !r->is_map, .map_bytes = r->is_map ? r->map_bytes : 0,
		};
	}
	free(start);
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
	for (size_t i = inv->nholds; i-- > 0;) {
		inv->bufs[inv->holds[i].buf].first_hold = i;
		inv->bufs[inv->holds[i].buf].holders++;
	}
	return 0;
}

static void compute_shares(struct inventory *inv)
{
	for (size_t i = 0; i < inv->nholds; i++) {
		const struct inv_hold *h = &inv->holds[i];
		const struct inv_buf *b = &inv->bufs[h->buf];
		struct inv_proc *p = &inv->procs[h->proc];

		p->buffers++;
		if (h->fds)
			p->fd_bytes += b->size;
		p->map_bytes += h->map_bytes;
		p->pss_bytes += b->size / b->holders;
	}
}

static int cmp_fd_tgid(const void *a, const void *b)
{
	const struct fd_rec *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

static int cmp_map_tgid(const void *a, const void *b)
{
	const struct inv_map *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

struct inv_iters {
	struct dmabuf_iter_lskel *all;		/* the three iterators (6.16+) */
	struct dmabuf_iter_tasks_lskel *tasks;	/* or the task iterators alone */
	int dmabuf_prog, task_file_prog, task_vma_prog;	/* -1: none */
	bool procfs_only;
	struct cg_index cgroups;	/* id -> path, rebuilt when an id is missing */
};

/* the path of a cgroup id; a missing id rebuilds the index, once while *may_rebuild */
static const char *cgroup_path(struct inv_iters *it, uint64_t id, bool *may_rebuild)
{
	const char *path = cg_index_path(&it->cgroups, id);

	if (!path && *may_rebuild) {	/* a cgroup made since the last walk */
		*may_rebuild = false;
		if (!cg_index_build(&it->cgroups, cg_root()))
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

/* holders from the task iterators: one process per tgid, named by its first
 * fd record (or /proc for a process with mappings only) */
static int add_task_holders(struct inv_iters *it, struct inventory *inv, struct refs *refs,
			    struct task_recs *t, const char *proc_root)
{
	bool may_rebuild = true;	/* one walk of the cgroup tree per snapshot at most */
	size_t i = 0, k = 0;
	int err = 0;

	sort_ordered(t->fds, t->nfds, sizeof(*t->fds), cmp_fd_tgid);
	sort_ordered(t->maps, t->nmaps, sizeof(*t->maps), cmp_map_tgid);
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

			err = push_ref(refs, proc, f->ino, false, 0);
			if (!err && f->buf >= 0)
				err = add_fd_buffer(inv, f->ino, t->bufs[f->buf].size,
						    t->bufs[f->buf].exp_name, t->bufs[f->buf].name);
		}
		for (; !err && nm; k++, nm--)
			err = push_ref(refs, proc, t->maps[k].ino, true, t->maps[k].bytes);
	}
	return err;
}

static int procfs_holders(struct inventory *inv, struct refs *refs, const char *proc_root)
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

			err = push_ref(refs, proc, f->ino, false, 0) ?:
			      add_fd_buffer(inv, f->ino, f->size, f->exp_name, f->name);
		}
		for (size_t i = 0; i < ps.nmaps && !err; i++)
			err = push_ref(refs, proc, ps.maps[i].ino, true, ps.maps[i].bytes);
		if (err)
			break;
	}
	proc_walk_close(w);
	return err;
}

/**
 * inventory_open() - load the iterator programs once, for repeated snapshots
 * @procfs_only: no BPF iterator, only /proc (to compare, or to check)
 *
 * A kernel refusing the iterators leaves /proc as the source; not an error.
 * Return: 0 or -ENOMEM.
 */
int inventory_open(struct inv_iters **out, bool procfs_only)
{
	struct inv_iters *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	it->procfs_only = procfs_only;
	it->dmabuf_prog = it->task_file_prog = it->task_vma_prog = -1;
	/* the best set this kernel loads, tried: iter/dmabuf is 6.16+ */
	if (!procfs_only) {
		it->all = dmabuf_iter_lskel__open_and_load();
		if (!it->all)
			it->tasks = dmabuf_iter_tasks_lskel__open_and_load();
	}
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

void inventory_close(struct inv_iters *it)
{
	if (!it)
		return;
	dmabuf_iter_lskel__destroy(it->all);
	dmabuf_iter_tasks_lskel__destroy(it->tasks);
	cg_index_free(&it->cgroups);
	free(it);
}

/**
 * inventory_take() - take a snapshot of live dma-bufs and their holders
 * @inv: filled in; inventory_free() it
 * @proc_root: "/proc", or another mount of it
 *
 * Return: 0 or a negative errno.
 */
/* who holds the buffers: processes by fd and mapping, each process's share */
static int take_holders(struct inv_iters *it, struct inventory *inv, const char *proc_root)
{
	struct task_recs t = {};
	struct refs refs = {};
	int err;

	if (it->task_file_prog >= 0 && !run_iter(it->task_file_prog, &fd_format, &t) &&
	    !run_iter(it->task_vma_prog, &map_format, &t)) {
		inv->holders_src = SRC_ITER_TASK;
		err = add_task_holders(it, inv, &refs, &t, proc_root);
	} else {
		inv->holders_src = SRC_PROC_FDINFO;
		err = procfs_holders(inv, &refs, proc_root);
	}
	task_recs_free(&t);
	if (inv->buffers_src != SRC_ITER_DMABUF) {
		inv->buffers_src = inv->holders_src;
		add_fd_only_buffers(inv);
	}
	if (!err)
		err = add_holds(inv, &refs);
	free(refs.v);
	if (err)
		return err;
	compute_shares(inv);
	return 0;
}


int inventory_take(struct inv_iters *it, struct inventory *inv, const char *proc_root)
{
	struct buffer_stream st = { .inv = inv };

	int err = -ENOENT;

	memset(inv, 0, sizeof(*inv));
	if (it->dmabuf_prog >= 0)
		err = run_iter(it->dmabuf_prog, &buffer_format, &st);
	if (!err) {
		inv->buffers_src = SRC_ITER_DMABUF;
	} else {
		inventory_free(inv);	/* 6.12 and older have no iter/dmabuf */
		if (it->procfs_only)
			inv->buffers_note = "--source procfs: buffers no process holds an fd to "
					    "are not seen";
		else if (it->dmabuf_prog < 0)
			inv->buffers_note = "no BPF iter/dmabuf in this kernel (6.16+): "
					    "buffers no process holds an fd to are not seen";
		else if (err == -ENOMEM)
			return err;
		else	/* loaded, and failed when run: say how */
			snprintf(inv->note, sizeof(inv->note), "BPF iter/dmabuf failed: %s: buffers "
				 "no process holds an fd to are not seen", strerror(-err));
		if (inv->note[0])
			inv->buffers_note = inv->note;
	}
	sort_by_u64(inv->bufs, inv->nbufs, sizeof(*inv->bufs), offsetof(struct inv_buf, ino));
	return take_holders(it, inv, proc_root);
}

/**
 * inventory_retake_holders() - walk the holders again, keep the buffers
 * @inv: an inventory_take() whose buffers came from iter/dmabuf
 *
 * For a caller that knows no buffer came or went since (its exports and
 * releases are traced). Return: 0, -EINVAL when the buffers were found
 * through their holders (take it all again instead), or a negative errno.
 */
int inventory_retake_holders(struct inv_iters *it, struct inventory *inv, const char *proc_root)
{
	if (inv->buffers_src != SRC_ITER_DMABUF)
		return -EINVAL;
	free(inv->procs);
	free(inv->holds);
	inv->procs = NULL;
	inv->holds = NULL;
	inv->nprocs = inv->procs_cap = inv->nholds = 0;
	for (size_t i = 0; i < inv->nbufs; i++)
		inv->bufs[i].holders = inv->bufs[i].first_hold = 0;
	return take_holders(it, inv, proc_root);
}

/* One snapshot: inventory_open(), inventory_take(), inventory_close(). */
int inventory_collect(struct inventory *inv, const char *proc_root, bool procfs_only)
{
	struct inv_iters *it;
	int err = inventory_open(&it, procfs_only);

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
	inv->bufs = NULL;
	inv->procs = NULL;
	inv->holds = NULL;
	inv->nbufs = inv->nprocs = inv->nholds = inv->bufs_cap = inv->procs_cap = 0;
}
