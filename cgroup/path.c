// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup ids and paths: a cgroup2 cgroup's id (what BPF's
 * bpf_get_current_cgroup_id() returns) is the inode number of its directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "path.h"

static __thread struct cg_index *building;
static __thread size_t building_root_len;

static int cmp_entry(const void *a, const void *b)
{
	uint64_t x = ((const struct cg_entry *)a)->id, y = ((const struct cg_entry *)b)->id;

	return (x > y) - (x < y);
}

static int add_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct cg_index *ix = building;
	struct cg_entry *v;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	if (ix->n == ix->cap) {
		v = realloc(ix->v, (ix->cap ? ix->cap * 2 : 64) * sizeof(*v));
		if (!v)
			return -1;
		ix->v = v;
		ix->cap = ix->cap ? ix->cap * 2 : 64;
	}
	v = &ix->v[ix->n];
	v->id = st->st_ino;
	v->path = strdup(path[building_root_len] ? path + building_root_len : "/");
	if (!v->path)
		return -1;
	ix->n++;
	return 0;
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
	int err = 0;

	cg_index_free(ix);
	building = ix;
	building_root_len = strlen(root);
	if (nftw(root, add_entry, 16, FTW_PHYS | FTW_MOUNT))
		err = errno ? -errno : -ENOMEM;
	building = NULL;
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
