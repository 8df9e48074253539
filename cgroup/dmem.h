/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CGROUP_DMEM_H
#define HEAPSTAT_CGROUP_DMEM_H

#include <stdint.h>
#include <sys/types.h>

/* the dmem regions of dma-buf heaps: "dma-heap/<heap name>" (heapstat's), and
 * "cma/<area>" (a CMA area's, as proposed upstream): dmem_region_heaps() */
#define REGION_PREFIX		"dma-heap/"
#define CMA_REGION_PREFIX	"cma/"

/* dmem limits read back as this when they are "max" */
#define CG_DMEM_MAX	UINT64_MAX

int cg_dmem_each(const char *cgroup, const char *file,
		 int (*fn)(const char *region, uint64_t value, void *arg), void *arg);
int cg_dmem_read(const char *cgroup, const char *file, const char *region, uint64_t *out);
int cg_dmem_set(const char *cgroup, const char *file, const char *region, const char *value);
int cg_enter(const char *cgroup, pid_t pid);
int cg_write_file(const char *path, const char *line);
int dmem_region_heaps(const char *region, const char *heaps[2]);

#endif
