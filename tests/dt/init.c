// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the arm64 device-tree VM (tests/boot/carveout_dt.sh): mounts what
 * heap_test needs, loads the modules listed in /modules (one "file.ko params"
 * per line, in load order), runs /heap_test on every heap the carveout module
 * made from the device tree, then reports dmesg's WARN/BUG/Oops lines and
 * powers off. Static, so the initramfs needs no shell and no libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/dmem.h"

static void mounts(void)
{
	static const struct { const char *type, *dir; } m[] = {
		{ "proc", "/proc" }, { "sysfs", "/sys" }, { "devtmpfs", "/dev" },
		{ "tmpfs", "/tmp" }, { "debugfs", "/sys/kernel/debug" },
		{ "tracefs", "/sys/kernel/tracing" }, { "cgroup2", "/sys/fs/cgroup" },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dir, 0755);
		if (mount(m[i].type, m[i].dir, m[i].type, 0, NULL))
			printf("FAIL: carveout_dt: mount %s: %s\n", m[i].dir, strerror(errno));
	}
	if (cg_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+dmem"))
		printf("FAIL: carveout_dt: no dmem controller\n");
}

/* /modules: "file.ko params" per line, dependencies first */
static int load_modules(void)
{
	FILE *f = fopen("/modules", "r");
	char line[512];
	int err = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *params = strchr(line, ' '), *nl = strchr(line, '\n');
		int fd;

		if (nl)
			*nl = '\0';
		if (params)
			*params++ = '\0';
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, params ? params : "", 0)) {
			printf("FAIL: carveout_dt: loading %s: %s\n", line, strerror(errno));
			err = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	return err;
}

/* the heaps in dmem.capacity, as heap_test arguments (no-map ones marked) */
static int heap_args(char **argv, int max)
{
	FILE *f = fopen("/sys/fs/cgroup/dmem.capacity", "r");
	char line[256];
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char name[128];

		if (sscanf(line, "dma-heap/%127s", name) != 1 || strncmp(name, "carveout-", 9))
			continue;
		/* tests/dt/carveout.dtsi names its no-map node "secure" */
		if (asprintf(&argv[n], "%s%s", name,
			     strcmp(name, "carveout-secure") ? "" : ":nomap") < 0)
			break;
		printf("carveout_dt: heap %s\n", argv[n]);
		n++;
	}
	fclose(f);
	return n;
}

static int run(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* dmesg through /dev/kmsg: every record, the bad ones reported */
static void scan_dmesg(void)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "Call trace:", "Kernel panic", "kmemleak",
	};
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC), found = 0;
	char rec[2048];
	ssize_t n;

	if (fd < 0) {
		printf("FAIL: carveout_dt: dmesg: /dev/kmsg: %s\n", strerror(errno));
		return;
	}
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;	/* overwritten records */
		rec[n] = '\0';
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				printf("dmesg: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
				found++;
				break;
			}
		}
	}
	close(fd);
	if (found)
		printf("FAIL: carveout_dt: dmesg clean: %d bad lines\n", found);
	else
		printf("PASS: carveout_dt: dmesg clean\n");
}

int main(void)
{
	char *argv[10] = { "/heap_test" };
	int n, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mounts();
	if (load_modules() == 0)
		printf("PASS: carveout_dt: modules load with the device tree's ranges\n");
	n = heap_args(argv + 1, 8);
	if (n != 2)
		printf("FAIL: carveout_dt: %d carveout heaps from the device tree, want 2\n", n);
	if (n) {
		rc = run(argv);
		if (rc)
			printf("FAIL: carveout_dt: heap_test exit %d\n", rc);
	}
	scan_dmesg();
	printf("carveout_dt: done\n");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
