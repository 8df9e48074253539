// SPDX-License-Identifier: GPL-2.0
/*
 * A cgroup's level in its hierarchy as the kernel counts it (the root's is
 * 0). A path's depth is that level only where heapstat sees the whole tree:
 * in a cgroup namespace, or under a bind mount of part of the tree, a path
 * counts from there, while the bpf-lsm limits' programs take a thread's
 * ancestors by the hierarchy's levels. bpf/cgroup_level.bpf.c asks the
 * kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lskel_run.h"		/* before the light skeleton: it loads through it */
#include "cgroup_level.lskel.h"
#include "cg_level.h"
#include "cgroup/path.h"

/* the level of the cgroup whose directory @dir is open, or a negative errno */
static int kernel_level(int dir)
{
	struct cgroup_level_lskel *s = cgroup_level_lskel__open_and_load();
	union bpf_iter_link_info linfo = {
		.cgroup = { .cgroup_fd = dir, .order = BPF_CGROUP_ITER_SELF_ONLY },
	};
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &linfo, .iter_info_len = sizeof(linfo));
	int link, fd, ret;
	__u32 level;
	ssize_t n;

	if (!s)
		return -EINVAL;
	link = bpf_link_create(s->progs.cgroup_level.prog_fd, 0, BPF_TRACE_ITER, &opts);
	ret = link < 0 ? -errno : 0;
	fd = ret ? -1 : bpf_iter_create(link);
	if (!ret && fd < 0)
		ret = -errno;
	if (!ret) {
		n = read(fd, &level, sizeof(level));
		ret = n == sizeof(level) && level <= INT_MAX ? (int)level : n < 0 ? -errno : -EIO;
	}
	if (fd >= 0)
		close(fd);
	if (link >= 0)
		close(link);
	cgroup_level_lskel__destroy(s);
	return ret;
}

/**
 * cg_level() - the level in the hierarchy of the cgroup at @path
 * @path: normalized, from the cgroup2 root heapstat sees ("/a/b"); parts at
 *        its end that are not made yet count a level each
 *
 * Return: the level; @path's depth where the kernel cannot say (no
 * iter/cgroup: before 6.1), which is the level outside a cgroup namespace.
 */
int cg_level(const char *path)
{
	size_t n = strlen(cg_root()) + strlen(path) + 1;
	int fd, level, below = 0, depth = cg_path_depth(path);
	char *dir = malloc(n);

	if (!dir)
		return depth;
	snprintf(dir, n, "%s%s", cg_root(), strcmp(path, "/") ? path : "");
	/* up to the deepest part there (a path beyond PATH_MAX is cut back too) */
	while ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
	       (errno == ENOENT || errno == ENAMETOOLONG) && below < depth) {
		*strrchr(dir, '/') = '\0';
		below++;
	}
	free(dir);
	if (fd < 0)
		return depth;
	level = kernel_level(fd);
	close(fd);
	return level < 0 ? depth : level + below;
}
