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

int main(void)
{
	struct stat st;

	if (geteuid() || stat(cg_root(), &st))
		test_skip("id_alive", "needs root and a cgroup2 hierarchy");
	else
		RUN(id_alive);
	return tests_failed ? 1 : 0;
}
