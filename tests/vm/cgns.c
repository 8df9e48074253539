// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: run a command in a cgroup namespace of its own, rooted at the
 * caller's cgroup, with cgroup2 mounted again at /sys/fs/cgroup in a mount
 * namespace of its own (what a container sees).
 *
 *   cgns heaptop -b -j -n 1
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: cgns CMD [ARGS...]\n");
		return 2;
	}
	if (unshare(CLONE_NEWCGROUP | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    umount2("/sys/fs/cgroup", MNT_DETACH) ||
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL)) {
		fprintf(stderr, "cgns: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "cgns: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
