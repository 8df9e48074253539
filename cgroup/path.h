/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CGROUP_PATH_H
#define HEAPSTAT_CGROUP_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#define CGROUP_ROOT_DEFAULT	"/sys/fs/cgroup"	/* where cgroup2 is mounted, mostly */

/* every cgroup's id and path, sorted by id: one walk for many lookups */
struct cg_entry {
	uint64_t id;
	char *path;
};

struct cg_index {
	struct cg_entry *v;
	size_t n, cap;
};

int cg_index_build(struct cg_index *ix, const char *root);
int cg_index_add(struct cg_index *ix, uint64_t id, const char *path);
void cg_index_sort(struct cg_index *ix);
const char *cg_index_path(const struct cg_index *ix, uint64_t id);
void cg_index_free(struct cg_index *ix);
const char *cg_root(void);
int cg_path_normalize(const char *in, char *out, size_t len);
int cg_dir(char *buf, size_t len, const char *root, const char *path);

#endif
