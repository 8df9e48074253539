// SPDX-License-Identifier: GPL-2.0
/* Host unit tests: the dmem file format as cgroup/dmem.c reads and writes it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "cgroup/dmem.h"

static char dir[] = "/tmp/heapstat-dmem-XXXXXX";

/* a fixture file below the test's directory */
static void put(const char *file, const char *text)
{
	test_put_file(dir, file, text);
}

static void reads_regions_exactly(void)
{
	uint64_t v = 0;

	put("dmem.current", "dma-heap/a 123\ndma-heap/ab max\ndrm/0000:03:00.0/vram0 4096\n");
	CHECK_EQ(cg_dmem_read(dir, "dmem.current", "dma-heap/a", &v), 0);
	CHECK_EQ(v, 123);
	CHECK_EQ(cg_dmem_read(dir, "dmem.current", "dma-heap/ab", &v), 0);
	CHECK(v == CG_DMEM_MAX, "%llu", (unsigned long long)v);
	CHECK_EQ(cg_dmem_read(dir, "dmem.current", "drm/0000:03:00.0/vram0", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(cg_dmem_read(dir, "dmem.current", "dma-heap/", &v), -ENOENT);
	CHECK_EQ(cg_dmem_read(dir, "dmem.current", "dma-heap/abc", &v), -ENOENT);
	CHECK_EQ(cg_dmem_read(dir, "dmem.nosuchfile", "dma-heap/a", &v), -ENOENT);
}

static void rejects_bad_values(void)
{
	uint64_t v = 7;

	put("dmem.max", "dma-heap/a 12x\ndma-heap/b \ndma-heap/c 99999999999999999999999\n");
	CHECK_EQ(cg_dmem_read(dir, "dmem.max", "dma-heap/a", &v), -EINVAL);
	CHECK_EQ(cg_dmem_read(dir, "dmem.max", "dma-heap/b", &v), -EINVAL);
	CHECK_EQ(cg_dmem_read(dir, "dmem.max", "dma-heap/c", &v), -EINVAL);
}

static void writes_one_line(void)
{
	char path[256], buf[128] = "";
	FILE *f;

	put("dmem.max", "");
	CHECK_EQ(cg_dmem_set(dir, "dmem.max", "dma-heap/a", "64M"), 0);
	snprintf(path, sizeof(path), "%s/dmem.max", dir);
	f = fopen(path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f), "read back");
	if (f)
		fclose(f);
	CHECK(!strcmp(buf, "dma-heap/a 64M"), "'%s'", buf);
	CHECK_EQ(cg_dmem_set("/nonexistent", "dmem.max", "dma-heap/a", "1"), -ENOENT);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(reads_regions_exactly);
	RUN(rejects_bad_values);
	RUN(writes_one_line);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) || tests_failed ? 1 : 0;
}
