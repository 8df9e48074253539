/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CGROUP_PATH_H
#define HEAPSTAT_CGROUP_PATH_H

#include <stddef.h>
#include <stdint.h>

#define CGROUP_ROOT	"/sys/fs/cgroup"	/* the cgroup2 mount */

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
const char *cg_index_path(const struct cg_index *ix, uint64_t id);
void cg_index_free(struct cg_index *ix);

#endif
