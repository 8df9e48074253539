// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the arm64 device-tree VM (tests/boot/carveout_dt.sh, cma_areas.sh):
 * mounts what the tests need, loads the modules listed in /modules (one
 * "file.ko params" per line, in load order), runs the commands in /run (one
 * "program args..." per line), or without it /heap_test on every heap the
 * carveout module made from the device tree, then reports dmesg's
 * WARN/BUG/Oops lines and powers off. Its lines are named for the case,
 * heapstat.case= on the kernel command line (default carveout_dt); a line
 * "CASE: run: program args..." comes before each /run command's output.
 * Static, so the initramfs needs no shell and no libc.
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

static char name[64] = "carveout_dt";	/* heapstat.case= */

/* heapstat.case=NAME from the kernel command line */
static void case_name(void)
{
	FILE *f = fopen("/proc/cmdline", "r");
	char line[1024], *p;

	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (p = strstr(line, "heapstat.case=")))
		sscanf(p + strlen("heapstat.case="), "%63[^ \n]", name);
	fclose(f);
}

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
			printf("FAIL: %s: mount %s: %s\n", name, m[i].dir, strerror(errno));
	}
	if (cg_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+dmem"))
		printf("FAIL: %s: no dmem controller\n", name);
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
			printf("FAIL: %s: loading %s: %s\n", name, line, strerror(errno));
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
		/* tests/dt/carveout.dtsi names its no-map node "secure"; "wb" the
		 * one the module maps, which arm64's devices may not attach to */
		if (asprintf(&argv[n], "%s%s", name,
			     !strcmp(name, "carveout-secure") ? ":nomap" :
			     !strcmp(name, "carveout-wb") ? ":noncoherent" : "") < 0)
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
		printf("FAIL: %s: dmesg: /dev/kmsg: %s\n", name, strerror(errno));
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
		printf("FAIL: %s: dmesg clean: %d bad lines\n", name, found);
	else
		printf("PASS: %s: dmesg clean\n", name);
}

/* /run: each line a program and its arguments, run in turn; -ENOENT without it */
static int run_file(void)
{
	FILE *f = fopen("/run", "r");
	char line[1024];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *argv[32], *save = NULL;
		int n = 0, rc;

		for (char *w = strtok_r(line, " \n", &save); w && n < 31;
		     w = strtok_r(NULL, " \n", &save))
			argv[n++] = w;
		if (!n)
			continue;
		argv[n] = NULL;
		/* where its output starts, for the test to cut it out */
		printf("%s: run:", name);
		for (int i = 0; i < n; i++)
			printf(" %s", argv[i]);
		putchar('\n');
		rc = run(argv);
		if (rc)
			printf("FAIL: %s: %s exit %d\n", name, argv[0], rc);
	}
	fclose(f);
	return 0;
}

/* carveout_dt: heap_test on the carveout heaps the device tree and the module's range made */
static void carveout_heaps(void)
{
	char *argv[10] = { "/heap_test" };
	int n, rc;

	n = heap_args(argv + 1, 8);
	if (n != 3)
		printf("FAIL: %s: %d carveout heaps, want 3\n", name, n);
	if (n) {
		rc = run(argv);
		if (rc)
			printf("FAIL: %s: heap_test exit %d\n", name, rc);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	mounts();
	case_name();
	if (load_modules() == 0)
		printf("PASS: %s: modules load with the device tree's reserved memory\n", name);
	if (run_file() == -ENOENT)
		carveout_heaps();
	scan_dmesg();
	printf("%s: done\n", name);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
