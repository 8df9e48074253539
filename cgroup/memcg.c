// SPDX-License-Identifier: GPL-2.0
/*
 * The memory controller's view of a cgroup, for heaps that charge memcg:
 * upstream's system heap allocates with __GFP_ACCOUNT when the boot
 * parameter dma_heap.mem_accounting is set, and those pages count in
 * memory.current and in memory.stat's "kernel" line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmem.h"
#include "memcg.h"

/**
 * cg_memcg_value() - a one-value memory file of a cgroup: memory.current, memory.max, ...
 * @out: bytes, or CG_DMEM_MAX for "max"
 *
 * Return: 0, -ENOENT without the memory controller there, or a negative errno.
 */
int cg_memcg_value(const char *cgroup, const char *file, uint64_t *out)
{
	char path[4096], val[32];
	unsigned long long v;
	int ret = 0;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cgroup, file) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(val, sizeof(val), f))
		ret = -EINVAL;
	else if (!strcmp(val, "max\n"))
		*out = CG_DMEM_MAX;
	else if (sscanf(val, "%llu", &v) == 1)
		*out = v;
	else
		ret = -EINVAL;
	fclose(f);
	return ret;
}

/**
 * cg_memcg_read() - a cgroup's memory.current, memory.stat kernel and memory.max
 * @cgroup: the cgroup's directory, e.g. /sys/fs/cgroup/camera
 *
 * Return: 0, -ENOENT without the memory controller there, or a negative errno.
 */
int cg_memcg_read(const char *cgroup, struct cg_memcg *out)
{
	int ret;

	ret = cg_memcg_value(cgroup, "memory.current", &out->current);
	if (!ret)
		ret = cg_memcg_value(cgroup, "memory.max", &out->max);
	/* memory.stat is "<key> <value>" lines, the shape of the dmem files */
	if (!ret)
		ret = cg_dmem_read(cgroup, "memory.stat", "kernel", &out->kernel);
	return ret;
}

/**
 * cg_memcg_oom_kills() - the OOM killer's kills under a cgroup: memory.events' oom_kill
 * @cgroup: the cgroup's directory
 *
 * Its descendants' kills counted too, but where cgroup2 is mounted with
 * memory_localevents (then only the cgroup's own).
 *
 * Return: 0, -ENOENT without the memory controller there, or a negative errno.
 */
int cg_memcg_oom_kills(const char *cgroup, uint64_t *out)
{
	/* memory.events is "<key> <value>" lines, the shape of the dmem files */
	return cg_dmem_read(cgroup, "memory.events", "oom_kill", out);
}

/* whether the dma-heap core charges memcg (the system heap's __GFP_ACCOUNT) */
bool heap_mem_accounting(void)
{
	char c = 'N';
	FILE *f = fopen("/sys/module/dma_heap/parameters/mem_accounting", "re");

	if (f) {
		c = (char)fgetc(f);
		fclose(f);
	}
	return c == 'Y' || c == '1';
}
