/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CGROUP_PATH_H
#define HEAPSTAT_CGROUP_PATH_H

#include <stddef.h>
#include <stdint.h>

#define CGROUP_ROOT	"/sys/fs/cgroup"	/* the cgroup2 mount */

int cg_path_of_id(const char *root, uint64_t id, char *buf, size_t len);

#endif
