// SPDX-License-Identifier: GPL-2.0
/*
 * A cgroup's level in its hierarchy and its ancestors' ids, as the kernel
 * counts them (the root's level is 0). A path tells them only where
 * heapstat sees the whole tree: in a cgroup namespace, or under a bind
 * mount of part of the tree, a path counts from there and names none of the
 * cgroups above, while the bpf-lsm limits' programs take a thread's
 * ancestors by the hierarchy's levels. bpf/cgroup_level.bpf.c asks the
 * kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lskel_run.h"		/* before the light skeleton: it loads through it */
#include "cgroup_level.lskel.h"
#include "cg_level.h"
#include "cgroup/path.h"

/* loaded at the first question, kept for the process's others (a command asks a few) */
static struct cgroup_level_lskel *skel;

/* the record of the cgroup whose directory @dir is open */
static int kernel_rec(int dir, struct cg_level_rec *out)
{
	union bpf_iter_link_info linfo = {
		.cgroup = { .cgroup_fd = dir, .order = BPF_CGROUP_ITER_SELF_ONLY },
	};
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &linfo, .iter_info_len = sizeof(linfo));
	int link, fd, ret;
	ssize_t n;

	if (!skel && !(skel = cgroup_level_lskel__open_and_load()))
		return errno ? -errno : -EINVAL;
	link = bpf_link_create(skel->progs.cgroup_level.prog_fd, 0, BPF_TRACE_ITER, &opts);
	ret = link < 0 ? -errno : 0;
	fd = ret ? -1 : bpf_iter_create(link);
	if (!ret && fd < 0)
		ret = -errno;
	if (!ret) {
		n = read(fd, out, sizeof(*out));
		ret = n == sizeof(*out) ? 0 : n < 0 ? -errno : -EIO;
	}
	if (fd >= 0)
		close(fd);
	if (link >= 0)
		close(link);
	return ret;
}

/**
 * cg_levels_of() - the level and ancestors of the cgroup at @path
 * @path: normalized, from the cgroup2 root heapstat sees ("/a/b")
 * @missing: NULL, or where to say how many parts at its end are not made
 *           yet, each counted a level (their ids 0); NULL: none may be
 *
 * Return: 0, or a negative errno (-ENOENT: not there).
 */
int cg_levels_of(const char *path, struct cg_level_rec *out, int *missing)
{
	size_t n = strlen(cg_root()) + strlen(path) + 1;
	int fd, err, below = 0, depth = cg_path_depth(path);
	char *dir = malloc(n);

	if (!dir)
		return -ENOMEM;
	snprintf(dir, n, "%s%s", cg_root(), strcmp(path, "/") ? path : "");
	/* up to the deepest part there (a path beyond PATH_MAX is cut back too, and
	 * one through a file: making it is refused later, and said) */
	while ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && missing &&
	       (errno == ENOENT || errno == ENAMETOOLONG || errno == ENOTDIR) && below < depth) {
		*strrchr(dir, '/') = '\0';
		below++;
	}
	err = fd < 0 ? -errno : 0;
	free(dir);
	if (err)
		return err;
	err = kernel_rec(fd, out);
	close(fd);
	out->level += below;
	if (missing)
		*missing = below;
	return err;
}

/* cg_levels_of()'s level alone, parts not made counted: a negative errno when not known */
int cg_level(const char *path)
{
	struct cg_level_rec r;
	int err = cg_levels_of(path, &r, &(int){ 0 });

	return err ? err : (int)r.level;
}
