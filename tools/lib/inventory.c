// SPDX-License-Identifier: GPL-2.0
/*
 * The live dma-buf inventory: buffers from the best source the kernel has
 * (BPF iter/dmabuf, 6.16+, sees every buffer; else /proc/<pid>/fdinfo, which
 * sees only buffers some process holds an fd to), and their holders from
 * /proc (fds and mappings).
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
#include "procfs.h"

const char *inv_source_name(enum inv_source src)
{
	switch (src) {
	case SRC_ITER_DMABUF: return "iter/dmabuf";
	case SRC_PROC_FDINFO: return "procfs-fdinfo";
	case SRC_PROC_MAPS: return "procfs-maps";
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

/* Every live buffer through iter/dmabuf. Return: 0, or a negative errno
 * when the kernel cannot run it (callers fall back). */
static int collect_iter(struct inventory *inv)
{
	struct dmabuf_iter_bpf *skel;
	struct bpf_link *link = NULL;
	struct inv_buffer rec;
	size_t cap = 0;
	int fd = -1, err;
	ssize_t n;

	skel = dmabuf_iter_bpf__open_and_load();
	if (!skel)
		return -errno;
	link = bpf_program__attach_iter(skel->progs.dmabuf, NULL);
	if (!link) {
		err = -errno;
		goto out;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while ((n = read(fd, &rec, sizeof(rec))) == sizeof(rec)) {
		if (inv->nbufs == cap) {
			struct inv_buf *nb;

			cap = cap ? cap * 2 : 256;
			nb = realloc(inv->bufs, cap * sizeof(*nb));
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			inv->bufs = nb;
		}
		memset(&inv->bufs[inv->nbufs], 0, sizeof(*inv->bufs));
		inv->bufs[inv->nbufs].b = rec;
		inv->bufs[inv->nbufs].attachments_known = true;
		inv->nbufs++;
	}
	err = n < 0 ? -errno : 0;
out:
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	dmabuf_iter_bpf__destroy(skel);
	return err;
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
	if (r->n == r->cap) {
		struct ref *nv;

		r->cap = r->cap ? r->cap * 2 : 256;
		nv = realloc(r->v, r->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		r->v = nv;
	}
	r->v[r->n++] = *ref;
	return 0;
}

static int add_process(struct inventory *inv, struct refs *refs, const struct proc_scan *ps)
{
	struct inv_proc *p;
	int err = 0;

	if (!ps->nfds && !ps->nmaps)
		return 0;
	p = realloc(inv->procs, (inv->nprocs + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	inv->procs = p;
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

/* Buffers an fd shows that the iterator did not (none, or born since). */
static int add_fd_only_buffers(struct inventory *inv, const struct refs *refs)
{
	size_t sorted = inv->nbufs;

	for (size_t i = 0; i < refs->n; i++) {
		const struct proc_dmabuf_fd *f = &refs->v[i].fd;
		struct inv_buf *nb;
		bool seen = false;

		if (refs->v[i].is_map || find_in(inv->bufs, sorted, f->ino))
			continue;
		for (size_t k = sorted; k < inv->nbufs && !seen; k++)
			seen = inv->bufs[k].b.ino == f->ino;
		if (seen)
			continue;
		nb = realloc(inv->bufs, (inv->nbufs + 1) * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		inv->bufs = nb;
		nb = &inv->bufs[inv->nbufs++];
		memset(nb, 0, sizeof(*nb));
		nb->b.ino = f->ino;
		nb->b.size = f->size;
		snprintf(nb->b.exp_name, sizeof(nb->b.exp_name), "%s", f->exp_name);
		snprintf(nb->b.name, sizeof(nb->b.name), "%s", f->name);
	}
	qsort(inv->bufs, inv->nbufs, sizeof(*inv->bufs), cmp_ino);
	return 0;
}

static struct inv_hold *hold_of(struct inventory *inv, size_t buf, size_t proc)
{
	struct inv_hold *h;

	/* a process's refs come together, so its holds are the last ones */
	for (size_t i = inv->nholds; i-- > 0 && inv->holds[i].proc == proc;)
		if (inv->holds[i].buf == buf)
			return &inv->holds[i];
	h = realloc(inv->holds, (inv->nholds + 1) * sizeof(*h));
	if (!h)
		return NULL;
	inv->holds = h;
	h = &inv->holds[inv->nholds++];
	*h = (struct inv_hold){ .buf = buf, .proc = proc };
	return h;
}

static int add_holds(struct inventory *inv, const struct refs *refs)
{
	for (size_t i = 0; i < refs->n; i++) {
		const struct ref *r = &refs->v[i];
		struct inv_buf *b = inventory_find(inv, r->fd.ino);
		struct inv_hold *h;

		if (!b)	/* a mapping whose buffer was born after the iterator ran */
			continue;
		h = hold_of(inv, b - inv->bufs, r->proc);
		if (!h)
			return -ENOMEM;
		if (r->is_map)
			h->map_bytes += r->map_bytes;
		else
			h->fds++;
	}
	return 0;
}

static void compute_shares(struct inventory *inv)
{
	for (size_t i = 0; i < inv->nholds; i++)
		inv->bufs[inv->holds[i].buf].holders++;
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

/**
 * inventory_collect() - take a snapshot of live dma-bufs and their holders
 * @inv: filled in; inventory_free() it
 * @proc_root: "/proc", or another mount of it
 *
 * Return: 0 or a negative errno.
 */
int inventory_collect(struct inventory *inv, const char *proc_root)
{
	struct refs refs = {};
	struct proc_walk *w;
	struct proc_scan ps;
	int err;

	memset(inv, 0, sizeof(*inv));
	err = collect_iter(inv);
	if (!err) {
		inv->buffers_src = SRC_ITER_DMABUF;
	} else {
		/* 6.12 and older have no iter/dmabuf */
		inventory_free(inv);
		inv->buffers_src = SRC_PROC_FDINFO;
		inv->buffers_note = "no BPF iter/dmabuf in this kernel (6.16+): "
				    "buffers no process holds an fd to are not seen";
	}
	qsort(inv->bufs, inv->nbufs, sizeof(*inv->bufs), cmp_ino);
	inv->holders_src = SRC_PROC_FDINFO;

	w = proc_walk_open(proc_root);
	if (!w)
		return -errno;
	while ((err = proc_walk_next(w, &ps)) > 0) {
		err = add_process(inv, &refs, &ps);
		if (err)
			break;
	}
	proc_walk_close(w);
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

void inventory_free(struct inventory *inv)
{
	free(inv->bufs);
	free(inv->procs);
	free(inv->holds);
	inv->bufs = NULL;
	inv->procs = NULL;
	inv->holds = NULL;
	inv->nbufs = inv->nprocs = inv->nholds = 0;
}
