// SPDX-License-Identifier: GPL-2.0
/*
 * The live dma-buf inventory, each part from the best source the kernel has:
 * - buffers: BPF iter/dmabuf (6.16+) sees every buffer; else the fds found
 *   below, which show only buffers some process holds an fd to;
 * - holders: BPF iter/task_file and iter/task_vma, else /proc/<pid>/fd,
 *   fdinfo and maps (much slower with many fds).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dmabuf_iter.skel.h"
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

	return (x->b.ino > y->b.ino) - (x->b.ino < y->b.ino);
}

static struct inv_buf *find_in(struct inv_buf *bufs, size_t n, uint64_t ino)
{
	struct inv_buf key = { .b.ino = ino };

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

/*
 * Run one iterator program; on_rec gets each fixed-size record. Reads are
 * large: the seq file fills each with as many records as fit.
 */
static int run_iter(struct bpf_program *prog, size_t rec_size,
		    int (*on_rec)(void *rec, void *arg), void *arg)
{
	static char buf[1 << 16];
	struct bpf_link *link;
	size_t have = 0;
	ssize_t n;
	int fd, err = 0;

	link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while (!err && (n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t off = 0;

		have += n;
		for (; !err && have - off >= rec_size; off += rec_size)
			err = on_rec(buf + off, arg);
		memmove(buf, buf + off, have - off);	/* a record split across reads */
		have -= off;
	}
	if (!err && n < 0)
		err = -errno;
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

static int on_buffer(void *rec, void *arg)
{
	struct inv_buf *nb = new_buf(arg);

	if (!nb)
		return -ENOMEM;
	memcpy(&nb->b, rec, sizeof(nb->b));
	nb->attachments_known = true;
	return 0;
}

/* records of iter/task_file and iter/task_vma */
struct task_recs {
	struct inv_fd *fds;
	size_t nfds, fds_cap;
	struct inv_map *maps;
	size_t nmaps, maps_cap;
};

static int on_fd(void *rec, void *arg)
{
	struct task_recs *t = arg;

	if (grow_array((void **)&t->fds, &t->fds_cap, t->nfds, sizeof(*t->fds)))
		return -ENOMEM;
	memcpy(&t->fds[t->nfds++], rec, sizeof(*t->fds));
	return 0;
}

static int on_map(void *rec, void *arg)
{
	struct task_recs *t = arg;

	if (grow_array((void **)&t->maps, &t->maps_cap, t->nmaps, sizeof(*t->maps)))
		return -ENOMEM;
	memcpy(&t->maps[t->nmaps++], rec, sizeof(*t->maps));
	return 0;
}

/* one dma-buf reference of a process, before buffers are final */
struct ref {
	size_t proc;
	bool is_map;
	uint64_t map_bytes;
	struct proc_dmabuf_fd fd;	/* ino, and for fds what fdinfo says */
};

struct refs {
	struct ref *v;
	size_t n, cap;
};

static int push_ref(struct refs *r, const struct ref *ref)
{
	if (grow_array((void **)&r->v, &r->cap, r->n, sizeof(*r->v)))
		return -ENOMEM;
	r->v[r->n++] = *ref;
	return 0;
}

static int add_process(struct inventory *inv, struct refs *refs, const struct proc_scan *ps)
{
	struct inv_proc *p;
	int err = 0;

	if (!ps->nfds && !ps->nmaps)
		return 0;
	if (grow_array((void **)&inv->procs, &inv->procs_cap, inv->nprocs, sizeof(*p)))
		return -ENOMEM;
	p = &inv->procs[inv->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = ps->pid;
	snprintf(p->comm, sizeof(p->comm), "%s", ps->comm);
	snprintf(p->cgroup, sizeof(p->cgroup), "%s", ps->cgroup);
	for (size_t i = 0; i < ps->nfds && !err; i++)
		err = push_ref(refs, &(struct ref){ .proc = inv->nprocs, .fd = ps->fds[i] });
	for (size_t i = 0; i < ps->nmaps && !err; i++)
		err = push_ref(refs, &(struct ref){ .proc = inv->nprocs, .is_map = true,
			.map_bytes = ps->maps[i].bytes, .fd.ino = ps->maps[i].ino });
	inv->nprocs++;
	return err;
}

/*
 * Buffers an fd shows that iter/dmabuf did not: without that iterator, every
 * buffer. With it, one born since it ran, left for the next snapshot (its fd
 * record does not name it then).
 */
static int add_fd_only_buffers(struct inventory *inv, const struct refs *refs)
{
	size_t sorted = inv->nbufs;

	if (inv->buffers_src == SRC_ITER_DMABUF)
		return 0;
	for (size_t i = 0; i < refs->n; i++) {
		const struct proc_dmabuf_fd *f = &refs->v[i].fd;
		struct inv_buf *nb;

		if (refs->v[i].is_map || find_in(inv->bufs, sorted, f->ino))
			continue;
		nb = new_buf(inv);
		if (!nb)
			return -ENOMEM;
		nb->b.ino = f->ino;
		nb->b.size = f->size;
		snprintf(nb->b.exp_name, sizeof(nb->b.exp_name), "%s", f->exp_name);
		snprintf(nb->b.name, sizeof(nb->b.name), "%s", f->name);
	}
	qsort(inv->bufs, inv->nbufs, sizeof(*inv->bufs), cmp_ino);
	/* a buffer shared by several fds was added once per fd: keep one */
	size_t out = 0;

	for (size_t i = 0; i < inv->nbufs; i++)
		if (!out || inv->bufs[out - 1].b.ino != inv->bufs[i].b.ino)
			inv->bufs[out++] = inv->bufs[i];
	inv->nbufs = out;
	return 0;
}

/* the buffer of ino: the one after the last found first, as a process's fds come in order */
static struct inv_buf *find_next(struct inventory *inv, const struct inv_buf *last, uint64_t ino)
{
	if (last && last + 1 < inv->bufs + inv->nbufs && last[1].b.ino == ino)
		return (struct inv_buf *)last + 1;
	return inventory_find(inv, ino);
}

/*
 * One hold per (buffer, process). Refs come process by process; a stable
 * counting sort by buffer keeps that order, so a process's refs to one
 * buffer end up side by side and merge.
 */
static int add_holds(struct inventory *inv, const struct refs *refs)
{
	struct inv_hold *all;
	size_t *start, n = 0, out = 0;
	const struct inv_buf *b = NULL;

	all = malloc((refs->n + 1) * sizeof(*all));
	start = calloc(inv->nbufs + 1, sizeof(*start));
	if (!all || !start) {
		free(all);
		free(start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < refs->n; i++) {
		const struct ref *r = &refs->v[i];

		b = find_next(inv, b, r->fd.ino);
		if (!b)	/* a mapping whose buffer was born after the iterator ran */
			continue;
		all[n++] = (struct inv_hold){
			.buf = b - inv->bufs, .proc = r->proc,
			.fds = !r->is_map, .map_bytes = r->is_map ? r->map_bytes : 0,
		};
		start[b - inv->bufs]++;
	}
	for (size_t i = 0, sum = 0; i <= inv->nbufs; i++) {
		size_t c = start[i];

		start[i] = sum;
		sum += c;
	}
	free(inv->holds);
	inv->holds = malloc((n + 1) * sizeof(*inv->holds));
	if (!inv->holds) {
		free(all);
		free(start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		inv->holds[start[all[i].buf]++] = all[i];
	free(all);
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
			p->fd_bytes += b->b.size;
		p->map_bytes += h->map_bytes;
		p->pss_bytes += b->b.size / b->holders;
	}
}

static int cmp_fd_tgid(const void *a, const void *b)
{
	const struct inv_fd *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

static int cmp_map_tgid(const void *a, const void *b)
{
	const struct inv_map *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

struct inv_iters {
	struct dmabuf_iter_bpf *skel;	/* NULL: /proc only */
	bool procfs_only;
	struct cg_index cgroups;	/* id -> path, rebuilt when an id is missing */
};

/* the path of a cgroup id; a missing id rebuilds the index, once while *may_rebuild */
static const char *cgroup_path(struct inv_iters *it, uint64_t id, bool *may_rebuild)
{
	const char *path = cg_index_path(&it->cgroups, id);

	if (!path && *may_rebuild) {	/* a cgroup made since the last walk */
		*may_rebuild = false;
		if (!cg_index_build(&it->cgroups, CGROUP_ROOT))
			path = cg_index_path(&it->cgroups, id);
	}
	return path;
}

/* the cgroup path of an id, from the inventory's index; NULL when unknown */
const char *inventory_cgroup_path(struct inv_iters *it, uint64_t id)
{
	bool may_rebuild = true;

	return cgroup_path(it, id, &may_rebuild);
}

/* a holder's name and cgroup: from its fd records, else from /proc */
static void identify(struct inv_iters *it, const struct inv_fd *r, bool *may_rebuild,
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

/* the record of a process's fds that names it (the first the iterator wrote) */
static const struct inv_fd *named_record(const struct inv_fd *fds, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (fds[j].cgroup_id)
			return &fds[j];
	return NULL;
}

/* holders from the task iterators: one process per tgid, named by its fd
 * records (or /proc for a process with mappings only) */
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
		struct proc_dmabuf_fd *fds;
		struct proc_dmabuf_map *maps;
		size_t nf = 0, nm = 0;

		while (i + nf < t->nfds && t->fds[i + nf].tgid == tgid)
			nf++;
		while (k + nm < t->nmaps && t->maps[k + nm].tgid == tgid)
			nm++;
		fds = calloc(nf + 1, sizeof(*fds));
		maps = calloc(nm + 1, sizeof(*maps));
		if (!fds || !maps) {
			free(fds);
			free(maps);
			return -ENOMEM;
		}
		for (size_t j = 0; j < nf; j++) {
			const struct inv_fd *r = &t->fds[i + j];

			fds[j].ino = r->ino;
			fds[j].size = r->size;
			memcpy(fds[j].exp_name, r->exp_name, sizeof(fds[j].exp_name));
			memcpy(fds[j].name, r->name, sizeof(fds[j].name));
			fds[j].exp_name[sizeof(fds[j].exp_name) - 1] = '\0';
			fds[j].name[sizeof(fds[j].name) - 1] = '\0';
		}
		for (size_t j = 0; j < nm; j++)
			maps[j] = (struct proc_dmabuf_map){ t->maps[k + j].ino, t->maps[k + j].bytes };
		ps.fds = fds;
		ps.nfds = nf;
		ps.maps = maps;
		ps.nmaps = nm;
		identify(it, named_record(&t->fds[i], nf), &may_rebuild, proc_root, &ps);
		err = add_process(inv, refs, &ps);
		free(fds);
		free(maps);
		i += nf;
		k += nm;
	}
	return err;
}

/* the iterator programs, or NULL when this kernel refuses them */
static struct dmabuf_iter_bpf *load_iters(bool dmabuf, bool task)
{
	struct dmabuf_iter_bpf *skel = dmabuf_iter_bpf__open();

	if (!skel)
		return NULL;
	bpf_program__set_autoload(skel->progs.dmabuf, dmabuf);
	bpf_program__set_autoload(skel->progs.task_file, task);
	bpf_program__set_autoload(skel->progs.task_vma, task);
	skel->rodata->have_dmabuf_iter = dmabuf;
	if (dmabuf_iter_bpf__load(skel)) {
		dmabuf_iter_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int procfs_holders(struct inventory *inv, struct refs *refs, const char *proc_root)
{
	struct proc_walk *w = proc_walk_open(proc_root);
	struct proc_scan ps;
	int err;

	if (!w)
		return -errno;
	while ((err = proc_walk_next(w, &ps)) > 0) {
		err = add_process(inv, refs, &ps);
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
	/*
	 * The best set this kernel loads, tried rather than probed (a probe
	 * parses the kernel's BTF once more): iter/dmabuf is 6.16+, and a
	 * kernel may refuse the task iterators.
	 */
	if (!procfs_only) {
		it->skel = load_iters(true, true);
		if (!it->skel)
			it->skel = load_iters(false, true);
		if (!it->skel)
			it->skel = load_iters(true, false);
	}
	*out = it;
	return 0;
}

void inventory_close(struct inv_iters *it)
{
	if (!it)
		return;
	dmabuf_iter_bpf__destroy(it->skel);
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
	struct dmabuf_iter_bpf *skel = it->skel;
	struct task_recs t = {};
	struct refs refs = {};
	int err;

	if (skel && bpf_program__autoload(skel->progs.task_file) &&
	    !run_iter(skel->progs.task_file, sizeof(struct inv_fd), on_fd, &t) &&
	    !run_iter(skel->progs.task_vma, sizeof(struct inv_map), on_map, &t)) {
		inv->holders_src = SRC_ITER_TASK;
		err = add_task_holders(it, inv, &refs, &t, proc_root);
	} else {
		inv->holders_src = SRC_PROC_FDINFO;
		err = procfs_holders(inv, &refs, proc_root);
	}
	if (inv->buffers_src != SRC_ITER_DMABUF)
		inv->buffers_src = inv->holders_src;
	free(t.fds);
	free(t.maps);
	if (!err)
		err = add_fd_only_buffers(inv, &refs);
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
	struct dmabuf_iter_bpf *skel = it->skel;

	memset(inv, 0, sizeof(*inv));
	if (skel && bpf_program__autoload(skel->progs.dmabuf) &&
	    !run_iter(skel->progs.dmabuf, sizeof(struct inv_buffer), on_buffer, inv)) {
		inv->buffers_src = SRC_ITER_DMABUF;
	} else {
		inventory_free(inv);	/* 6.12 and older have no iter/dmabuf */
		inv->buffers_note = it->procfs_only ?
				    "--source procfs: buffers no process holds an fd to are not seen" :
				    "no BPF iter/dmabuf in this kernel (6.16+): "
				    "buffers no process holds an fd to are not seen";
	}
	sort_ordered(inv->bufs, inv->nbufs, sizeof(*inv->bufs), cmp_ino);
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
	free(inv->bufs);
	free(inv->procs);
	free(inv->holds);
	inv->bufs = NULL;
	inv->procs = NULL;
	inv->holds = NULL;
	inv->nbufs = inv->nprocs = inv->nholds = inv->bufs_cap = inv->procs_cap = 0;
}
