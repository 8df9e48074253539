// SPDX-License-Identifier: GPL-2.0
/*
 * The dmem controller's files of one cgroup (cgroup2): dmem.capacity,
 * dmem.current, dmem.peak, dmem.min, dmem.low and dmem.max hold one line per
 * region, "<region> <bytes|max>"; writes take one such line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmem.h"

static int cg_file(char *buf, size_t len, const char *cgroup, const char *file)
{
	if ((size_t)snprintf(buf, len, "%s/%s", cgroup, file) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/**
 * cg_dmem_each() - call @fn for every region line of a cgroup's dmem file
 * @cgroup: the cgroup's directory, e.g. /sys/fs/cgroup/camera
 * @file: dmem.capacity, dmem.current, dmem.max, ...
 * @fn: gets the region, its bytes (CG_DMEM_MAX for "max") and @arg; a
 *	non-zero return stops the walk and is returned
 *
 * Return: 0, what @fn returned, -EINVAL for a malformed line, or a negative errno.
 */
int cg_dmem_each(const char *cgroup, const char *file,
		 int (*fn)(const char *region, uint64_t value, void *arg), void *arg)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	int ret;
	FILE *f;

	ret = cg_file(path, sizeof(path), cgroup, file);
	if (ret)
		return ret;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!ret && getline(&line, &cap, f) > 0) {
		char *val, *end;
		uint64_t v;

		line[strcspn(line, "\n")] = '\0';
		val = strchr(line, ' ');
		if (!val)
			continue;
		*val++ = '\0';
		if (!strcmp(val, "max")) {
			v = CG_DMEM_MAX;
		} else {
			errno = 0;
			v = strtoull(val, &end, 10);
			if (errno || *end || end == val) {
				ret = -EINVAL;
				break;
			}
		}
		ret = fn(line, v, arg);
	}
	free(line);
	fclose(f);
	return ret;
}

struct read_arg {
	const char *region;
	uint64_t *out;
};

static int match_region(const char *region, uint64_t value, void *arg)
{
	struct read_arg *ra = arg;

	if (strcmp(region, ra->region))
		return 0;
	*ra->out = value;
	return 1;
}

/**
 * cg_dmem_read() - a region's value in one of a cgroup's dmem files
 * @region: e.g. dma-heap/default_cma_region
 * @out: bytes, or CG_DMEM_MAX for "max"
 *
 * Return: 0, -ENOENT when the region is not listed, or another negative errno.
 */
int cg_dmem_read(const char *cgroup, const char *file, const char *region, uint64_t *out)
{
	struct read_arg ra = { region, out };
	int ret = cg_dmem_each(cgroup, file, match_region, &ra);

	return ret == 1 ? 0 : ret ? ret : -ENOENT;
}

/* write @line to a cgroup (or sysfs) file in one write(): 0 or -errno */
int cg_write_file(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, line, strlen(line)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/**
 * cg_dmem_set() - set a region's dmem.max, dmem.min or dmem.low
 * @value: bytes (K/M/G suffixes as the kernel's memparse takes them) or "max"
 *
 * The kernel keeps the old limit, and still reports success, when a new
 * dmem.max is below the usage: read it back to know.
 */
int cg_dmem_set(const char *cgroup, const char *file, const char *region, const char *value)
{
	char path[4096], line[512];
	int ret;

	ret = cg_file(path, sizeof(path), cgroup, file);
	if (ret)
		return ret;
	if ((size_t)snprintf(line, sizeof(line), "%s %s", region, value) >= sizeof(line))
		return -EINVAL;
	return cg_write_file(path, line);
}

/** cg_enter() - move a process into a cgroup */
int cg_enter(const char *cgroup, pid_t pid)
{
	char path[4096], num[24];
	int ret;

	ret = cg_file(path, sizeof(path), cgroup, "cgroup.procs");
	if (ret)
		return ret;
	snprintf(num, sizeof(num), "%d", (int)pid);
	return cg_write_file(path, num);
}

/**
 * dmem_region_heaps() - the dma-buf heaps a dmem region charges for
 * @region: a line's region, e.g. "dma-heap/default_cma_region"
 * @heaps: the heaps' names, pointers into @region or constants
 *
 * "dma-heap/<heap>" is one of heapstat's heaps. "cma/<area>" is a CMA area's
 * region, as proposed for upstream's CMA heap (one region per area, charged
 * by the heap of that area): the heap named after the area, and for the
 * area of cma= ("reserved") also "default_cma_region", the name upstream
 * gives the default area's heap.
 *
 * Return: how many heaps (at most 2); 0 for a region of anything else.
 */
int dmem_region_heaps(const char *region, const char *heaps[2])
{
	if (!strncmp(region, REGION_PREFIX, strlen(REGION_PREFIX)) && region[strlen(REGION_PREFIX)]) {
		heaps[0] = region + strlen(REGION_PREFIX);
		return 1;
	}
	if (!strncmp(region, CMA_REGION_PREFIX, strlen(CMA_REGION_PREFIX)) &&
	    region[strlen(CMA_REGION_PREFIX)]) {
		heaps[0] = region + strlen(CMA_REGION_PREFIX);
		if (strcmp(heaps[0], "reserved"))
			return 1;
		heaps[1] = "default_cma_region";
		return 2;
	}
	return 0;
}
