// SPDX-License-Identifier: GPL-2.0
/* Host unit tests: cgroup/path.c against the host's own cgroup2 hierarchy. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "cgroup/path.h"

/* a cgroup asked by its id: there while it is, gone once removed, gone for an id never made */
static void id_alive(void)
{
	const char *root = cg_root();
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/heapstat-unit-%d", root, (int)getpid());
	CHECK(!mkdir(dir, 0755) && !stat(dir, &st), "%s: %m", dir);
	CHECK_EQ(cg_id_alive(root, st.st_ino), 1);
	CHECK(!rmdir(dir), "%s: %m", dir);
	CHECK_EQ(cg_id_alive(root, st.st_ino), 0);
	CHECK_EQ(cg_id_alive(root, UINT64_MAX), 0);
	CHECK_EQ(cg_id_alive("/nonexistent", st.st_ino), -ENOENT);
}

/* the ancestor the exporter folds a deeper cgroup into, and heaptop's whole path */
static void depth_prefix(void)
{
	CHECK_EQ(cg_path_depth_prefix("/a/b/c", 1), 2);		/* "/a" */
	CHECK_EQ(cg_path_depth_prefix("/a/b/c", 2), 4);		/* "/a/b" */
	CHECK_EQ(cg_path_depth_prefix("/a/b/c", 3), 0);		/* none deeper */
	CHECK_EQ(cg_path_depth_prefix("/a/b/c", UINT_MAX), 0);
	CHECK_EQ(cg_path_depth_prefix("/a", 0), 1);		/* the root's */
	CHECK_EQ(cg_path_depth_prefix("/", 0), 0);
	CHECK_EQ(cg_path_depth_prefix("?123", 1), 0);		/* a removed cgroup's id */
}

int main(void)
{
	struct stat st;

	RUN(depth_prefix);
	if (geteuid() || stat(cg_root(), &st))
		test_skip("id_alive", "needs root and a cgroup2 hierarchy");
	else
		RUN(id_alive);
	return tests_failed ? 1 : 0;
}
