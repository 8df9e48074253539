// SPDX-License-Identifier: GPL-2.0
/* tools/lib/heap_dev.c against a directory of real device nodes (root: mknod) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../test.h"
#include "lib/heap_dev.h"

static char dir[64] = "/tmp/heap_dev_test.XXXXXX";

static void node(const char *name, dev_t dev)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(!mknod(path, S_IFCHR | 0600, dev), "mknod %s: %s", path, strerror(errno));
}

static void lists_sorted_with_devices(void)
{
	struct heap_dev *v;
	size_t n = 99;

	node("system", makedev(250, 0));
	node("reserved", makedev(250, 3));
	node("camera", makedev(4095, 1048575));	/* the largest MKDEV() holds */
	test_put_file(dir, "not_a_device", "");
	test_put_file(dir, ".hidden", "");
	CHECK_EQ(heap_devs_read(dir, &v, &n), 0);
	CHECK_EQ(n, 4);
	if (n != 4)
		return;
	CHECK(!strcmp(v[0].name, "camera"), "%s", v[0].name);
	CHECK_EQ(v[0].dev, 4095u << 20 | 1048575);
	CHECK(!strcmp(v[1].name, "not_a_device"), "%s", v[1].name);
	CHECK_EQ(v[1].dev, 0);
	CHECK(!strcmp(v[2].name, "reserved"), "%s", v[2].name);
	CHECK_EQ(v[2].dev, 250u << 20 | 3);
	CHECK(!strcmp(v[3].name, "system"), "%s", v[3].name);
	CHECK_EQ(v[3].dev, 250u << 20);
	heap_devs_free(v, n);
}

static void no_directory_is_no_heaps(void)
{
	struct heap_dev *v = (void *)1;
	size_t n = 99;

	CHECK_EQ(heap_devs_read("/nonexistent/dma_heap", &v, &n), 0);
	CHECK_EQ(n, 0);
	CHECK(v == NULL, "%p", (void *)v);
	CHECK_EQ(heap_devs_read("/etc/passwd", &v, &n), -ENOTDIR);
	CHECK_EQ(n, 0);
}

static void device_of_one_heap(void)
{
	uint32_t dev = 7;

	CHECK_EQ(heap_dev_of(dir, "reserved", &dev), 0);
	CHECK_EQ(dev, 250u << 20 | 3);
	dev = 7;
	CHECK_EQ(heap_dev_of(dir, "not_a_device", &dev), -ENODEV);
	CHECK_EQ(heap_dev_of(dir, "gone", &dev), -ENOENT);
	/* names that would reach outside the directory */
	CHECK_EQ(heap_dev_of(dir, "", &dev), -EINVAL);
	CHECK_EQ(heap_dev_of(dir, ".", &dev), -EINVAL);
	CHECK_EQ(heap_dev_of(dir, "..", &dev), -EINVAL);
	CHECK_EQ(heap_dev_of(dir, "../null", &dev), -EINVAL);
	CHECK_EQ(dev, 7);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "%s/probe", dir);
	if (mknod(cmd, S_IFCHR | 0600, makedev(1, 3)) && errno == EPERM) {
		test_skip("heap_dev", "mknod needs root (CAP_MKNOD)");
		rmdir(dir);
		return 0;
	}
	unlink(cmd);
	RUN(lists_sorted_with_devices);
	RUN(no_directory_is_no_heaps);
	RUN(device_of_one_heap);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tests_failed ? 1 : 0;
}
