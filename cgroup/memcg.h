/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CGROUP_MEMCG_H
#define HEAPSTAT_CGROUP_MEMCG_H

#include <stdbool.h>
#include <stdint.h>

/* what the memory controller charged a cgroup; max is CG_DMEM_MAX for "max" */
struct cg_memcg {
	uint64_t current;	/* memory.current */
	uint64_t kernel;	/* memory.stat "kernel": where __GFP_ACCOUNT pages go */
	uint64_t max;		/* memory.max */
};

int cg_memcg_read(const char *cgroup, struct cg_memcg *out);
int cg_memcg_value(const char *cgroup, const char *file, uint64_t *out);
int cg_memcg_oom_kills(const char *cgroup, uint64_t *out);
bool heap_mem_accounting(void);

#endif
