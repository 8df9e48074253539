// SPDX-License-Identifier: GPL-2.0
/*
 * An object loaded the way a light skeleton is, without libbpf reading the
 * kernel's BTF: libbpf writes the loader program (gen_loader) from the
 * object as it is set up now (which programs load, the maps' sizes, the
 * read-only data), and lskel_run() runs it. The kernel applies the CO-RE
 * relocations and finds the attach targets by name; libbpf's own load
 * parses the kernel's BTF in user space for both (docs/benchmarks.md,
 * start-up). The object's state after it is libbpf's "loaded" with no fds:
 * the maps are given theirs, and the programs' stay here.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "light_load.h"
#include "lskel_run.h"

static int index_of(struct bpf_object *obj, const struct bpf_program *prog)
{
	struct bpf_program *p;
	int i = 0;

	bpf_object__for_each_program(p, obj) {
		if (p == prog)
			return i;
		i++;
	}
	return -1;
}

int light_prog_fd(const struct light *l, struct bpf_object *obj, const struct bpf_program *prog)
{
	int i = index_of(obj, prog);

	return i < 0 || (size_t)i >= l->nprogs ? -1 : l->prog_fd[i];
}

/* a global data map mapped over the object's copy of it, as a skeleton's */
static int map_data(struct bpf_map *map)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size;
	void *data = (void *)bpf_map__initial_value(map, &size);	/* the skeleton reads it there */
	int prot = PROT_READ;

	if (!data)
		return 0;
	size = ((size + 7) / 8 * 8 + page - 1) / page * page;
	if (!(bpf_map__map_flags(map) & BPF_F_RDONLY_PROG))
		prot |= PROT_WRITE;
	if (mmap(data, size, prot, MAP_SHARED | MAP_FIXED, bpf_map__fd(map), 0) == MAP_FAILED)
		return -errno;
	return 0;
}

int light_load(struct light *l, struct bpf_object *obj)
{
	LIBBPF_OPTS(gen_loader_opts, gen);
	struct bpf_load_and_run_opts run = {};
	struct bpf_loader_ctx *ctx = NULL;
	struct bpf_map_desc *md;
	struct bpf_prog_desc *pd;
	struct bpf_program *prog;
	struct bpf_map *map;
	size_t nmaps = 0, nloaded = 0, i = 0, k = 0, m = 0;
	int err;

	memset(l, 0, sizeof(*l));
	bpf_object__for_each_program(prog, obj) {
		l->nprogs++;
		nloaded += bpf_program__autoload(prog);
	}
	bpf_object__for_each_map(map, obj)
		nmaps++;
	l->prog_fd = malloc((l->nprogs ?: 1) * sizeof(int));
	l->link_fd = malloc((l->nprogs ?: 1) * sizeof(int));
	for (i = 0; i < l->nprogs; i++) {
		if (l->prog_fd)
			l->prog_fd[i] = -1;
		if (l->link_fd)
			l->link_fd[i] = -1;
	}
	if (!l->prog_fd || !l->link_fd) {
		light_close(l);
		return -ENOMEM;
	}
	/* the loader, made as the object would load: no map or program is made */
	err = bpf_object__gen_loader(obj, &gen) ?: bpf_object__load(obj);
	if (!err) {
		size_t sz = sizeof(*ctx) + nmaps * sizeof(*md) + nloaded * sizeof(*pd);

		ctx = calloc(1, sz);
		if (!ctx)
			err = -ENOMEM;
		else
			ctx->sz = sz;
	}
	if (!err) {
		run.ctx = ctx;
		run.data = gen.data;
		run.data_sz = gen.data_sz;
		run.insns = gen.insns;
		run.insns_sz = gen.insns_sz;
		err = lskel_run(&run);
	}
	if (err) {
		free(ctx);
		light_close(l);
		return err < 0 ? err : -EINVAL;
	}
	/* its fds: each map's, in the object's order, then each loaded program's */
	md = (struct bpf_map_desc *)(ctx + 1);
	pd = (struct bpf_prog_desc *)(md + nmaps);
	i = 0;
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__autoload(prog))
			l->prog_fd[i] = pd[k++].prog_fd;
		i++;
	}
	bpf_object__for_each_map(map, obj) {
		if (!err)
			err = bpf_map__reuse_fd(map, md[m].map_fd) ?: map_data(map);
		close(md[m++].map_fd);
	}
	free(ctx);
	if (err)
		light_close(l);
	return err;
}

/* a program's link: BTF-typed ones at the target they were loaded for, raw tracepoints by name */
static int attach_one(const struct bpf_program *prog, int fd)
{
	const char *sec = bpf_program__section_name(prog), *tp = strchr(sec, '/');

	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_TRACING:
		return bpf_raw_tracepoint_open(NULL, fd);
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		return tp && tp[1] ? bpf_raw_tracepoint_open(tp + 1, fd) : -EINVAL;
	default:
		return -EOPNOTSUPP;
	}
}

/* @prog's link, unless it has one or is not loaded (@i: its index) */
static int attach_at(struct light *l, const struct bpf_program *prog, int i)
{
	int fd;

	if (i < 0 || l->prog_fd[i] < 0 || l->link_fd[i] >= 0)
		return 0;
	fd = attach_one(prog, l->prog_fd[i]);
	if (fd < 0)
		return fd;
	l->link_fd[i] = fd;
	return 0;
}

int light_attach_prog(struct light *l, struct bpf_object *obj, const struct bpf_program *prog)
{
	int i = index_of(obj, prog);

	if (i < 0 || (size_t)i >= l->nprogs || l->prog_fd[i] < 0)
		return -ENOENT;
	return attach_at(l, prog, i);
}

void light_close(struct light *l)
{
	for (size_t i = 0; l->link_fd && i < l->nprogs; i++)
		if (l->link_fd[i] >= 0)
			close(l->link_fd[i]);
	for (size_t i = 0; l->prog_fd && i < l->nprogs; i++)
		if (l->prog_fd[i] >= 0)
			close(l->prog_fd[i]);
	free(l->link_fd);
	free(l->prog_fd);
	memset(l, 0, sizeof(*l));
}
