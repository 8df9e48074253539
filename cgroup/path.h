/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CGROUP_PATH_H
#define HEAPSTAT_CGROUP_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#define CGROUP_ROOT_DEFAULT	"/sys/fs/cgroup"	/* where cgroup2 is mounted, mostly */

/* a cgroup's charge of one dmem region, as its dmem.current and dmem.max say */
struct cg_dmem {
	char *region;
	uint64_t current;
	uint64_t max;		/* CG_DMEM_MAX: "max" */
};

enum cg_dmem_state {
	CG_DMEM_UNREAD,		/* not read with the walk: read its files */
	CG_DMEM_OFF,		/* dmem is not on in it: no dmem.* files */
	CG_DMEM_ON,		/* ndmem pools; every other region 0, "max" */
};

/* every cgroup's id and path, sorted by id: one walk for many lookups */
struct cg_entry {
	uint64_t id;
	char *path;
	enum cg_dmem_state dmem_state;
	bool top;		/* with dmem_state: the hierarchy's root, no dmem.max
				 * (not a cgroup namespace's root) */
	struct cg_dmem *dmem;
	size_t ndmem;
};

struct cg_index {
	struct cg_entry *v;
	size_t n, cap;
	bool partial;		/* a subtree not walked (too deep, or not opened): not every cgroup */
};

int cg_index_build(struct cg_index *ix, const char *root);
int cg_index_add(struct cg_index *ix, uint64_t id, const char *path);
int cg_index_add_dmem(struct cg_index *ix, const char *region, uint64_t current, uint64_t max);
void cg_index_sort(struct cg_index *ix);
const struct cg_entry *cg_index_find(const struct cg_index *ix, uint64_t id);
const char *cg_index_path(const struct cg_index *ix, uint64_t id);
void cg_index_free(struct cg_index *ix);
const char *cg_root(void);
int cg_path_normalize(const char *in, char *out, size_t len);
int cg_path_depth(const char *path);
size_t cg_path_depth_prefix(const char *path, unsigned int depth);
const char *cg_path_refused(int err);
int cg_dir(char *buf, size_t len, const char *root, const char *path);
int cg_id_alive(const char *root, uint64_t id);

#endif
