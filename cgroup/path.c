// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup ids and paths: a cgroup2 cgroup's id (what BPF's
 * bpf_get_current_cgroup_id() returns) is the inode number of its directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "tools/lib/util.h"

static int cmp_entry(const void *a, const void *b)
{
	uint64_t x = ((const struct cg_entry *)a)->id, y = ((const struct cg_entry *)b)->id;

	return (x > y) - (x < y);
}

static int add_entry(struct cg_index *ix, uint64_t id, const char *path)
{
	if (grow_array((void **)&ix->v, &ix->cap, ix->n, sizeof(*ix->v)))
		return -ENOMEM;
	ix->v[ix->n].id = id;
	ix->v[ix->n].path = strdup(*path ? path : "/");
	if (!ix->v[ix->n].path)
		return -ENOMEM;
	ix->n++;
	return 0;
}

/*
 * The cgroups below @dir (@path from the root, in a buffer of PATH_MAX): a
 * directory entry's inode number is the cgroup's id, so only directories are
 * read, none of the many files of each cgroup is looked at.
 */
static int walk(struct cg_index *ix, int dir, char *path, size_t len)
{
	DIR *d = fdopendir(dir);
	struct dirent *e;
	int err = 0;

	if (!d) {
		close(dir);
		return -errno;
	}
	while (!err && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int sub;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (len + 1 + n >= PATH_MAX)
			continue;	/* deeper than a path can say */
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, n + 1);
		err = add_entry(ix, e->d_ino, path);
		if (err)
			break;
		sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			err = walk(ix, sub, path, len + 1 + n);
		/* a cgroup removed meanwhile is not an error */
	}
	path[len] = '\0';
	closedir(d);
	return err;
}

void cg_index_free(struct cg_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i].path);
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}

/**
 * cg_index_build() - (re)read every cgroup below @root: one walk for many lookups
 *
 * Return: 0 or a negative errno; the index is empty on error.
 */
int cg_index_build(struct cg_index *ix, const char *root)
{
	char path[PATH_MAX] = "";
	struct stat st;
	int dir, err;

	cg_index_free(ix);
	dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (fstat(dir, &st)) {
		err = -errno;
		close(dir);
		return err;
	}
	err = add_entry(ix, st.st_ino, "");
	if (!err)
		err = walk(ix, dir, path, 0);
	else
		close(dir);
	if (err) {
		cg_index_free(ix);
		return err;
	}
	qsort(ix->v, ix->n, sizeof(*ix->v), cmp_entry);
	return 0;
}

/* the path of cgroup @id as of the last build, NULL when it was not there */
const char *cg_index_path(const struct cg_index *ix, uint64_t id)
{
	struct cg_entry key = { .id = id }, *e;

	e = ix->n ? bsearch(&key, ix->v, ix->n, sizeof(key), cmp_entry) : NULL;
	return e ? e->path : NULL;
}
