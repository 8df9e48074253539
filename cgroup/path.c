// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup ids and paths: a cgroup2 cgroup's id (what BPF's
 * bpf_get_current_cgroup_id() returns) is the inode number of its directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "path.h"

static __thread struct {
	uint64_t id;
	size_t root_len;
	char *buf;
	size_t len;
	int found;
} walk;

static int match(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_D || (uint64_t)st->st_ino != walk.id)
		return 0;
	snprintf(walk.buf, walk.len, "%s", path[walk.root_len] ? path + walk.root_len : "/");
	walk.found = 1;
	return 1;
}

/**
 * cg_path_of_id() - the path of cgroup @id below @root, e.g. "/camera"
 * @root: the cgroup2 mount, /sys/fs/cgroup
 *
 * Return: 0, -ENOENT when no cgroup has that id (it may be gone), or a negative errno.
 */
int cg_path_of_id(const char *root, uint64_t id, char *buf, size_t len)
{
	walk.id = id;
	walk.root_len = strlen(root);
	walk.buf = buf;
	walk.len = len;
	walk.found = 0;
	if (nftw(root, match, 16, FTW_PHYS | FTW_MOUNT) < 0)
		return -errno;
	return walk.found ? 0 : -ENOENT;
}
