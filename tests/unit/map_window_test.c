// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test: an mmapable BPF array read through map windows
 * (tools/lib/map_window.c), on the host kernel's own BPF: every entry reads
 * back as written, whatever its size, and only the windows read are mapped.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "../test.h"
#include "tools/lib/map_window.h"

/* an array of n entries of size bytes, entry i filled with bytes (i * 7 + k) */
static int make_array(size_t size, size_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	unsigned char v[256];
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "heapstat_test", 4, size, n, &opts);

	for (uint32_t i = 0; fd >= 0 && i < n; i++) {
		for (size_t k = 0; k < size; k++)
			v[k] = i * 7 + k;
		if (bpf_map_update_elem(fd, &i, v, BPF_ANY)) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static bool entry_ok(const unsigned char *p, uint32_t i, size_t size)
{
	for (size_t k = 0; k < size; k++)
		if (p[k] != (unsigned char)(i * 7 + k))
			return false;
	return true;
}

static void reads_each_entry(size_t size, size_t n)
{
	struct map_window m;
	int fd = make_array(size, n);
	size_t bad = 0;

	if (fd < 0) {
		printf("  cannot make a BPF array: %s\n", strerror(errno));
		test_failed++;
		return;
	}
	CHECK_EQ(map_window_open(&m, fd, size, n), 0);
	/* one entry: one window */
	CHECK(map_window_at(&m, 1) != NULL, "entry 1");
	CHECK_EQ(m.mapped, 1);
	CHECK(entry_ok(map_window_at(&m, n - 1), n - 1, size), "the last entry");
	CHECK_EQ(m.mapped, n - 1 < m.per_window ? 1 : 2);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = map_window_at(&m, i);

		bad += !p || !entry_ok(p, i, size);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(m.mapped, m.nwindows);
	errno = 0;
	CHECK(!map_window_at(&m, n) && errno == EINVAL, "past the end");
	map_window_close(&m);
	close(fd);
}

static void windows_hold_whole_entries_and_pages(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct map_window m;

	CHECK_EQ(map_window_open(&m, -1, 80, 131072), 0);
	CHECK_EQ(m.window_bytes % page, 0);
	CHECK_EQ(m.window_bytes % 80, 0);
	CHECK_EQ(m.window_bytes, 80 * page / 16);	/* the least such */
	map_window_close(&m);
	CHECK_EQ(map_window_open(&m, -1, 20, 10), 0);
	CHECK_EQ(m.entry_size, 24);
	map_window_close(&m);
	CHECK_EQ(map_window_open(&m, -1, 0, 10), -EINVAL);
}

int main(void)
{
	RUN(windows_hold_whole_entries_and_pages);
	if (geteuid()) {
		test_skip("map_window_reads", "needs root for BPF maps");
		return tests_failed != 0;
	}
	/* the collector's two arrays' entry sizes, an odd one, a window or less */
	test_begin(); reads_each_entry(80, 20000); test_end("map_window_reads_80");
	test_begin(); reads_each_entry(168, 3000); test_end("map_window_reads_168");
	test_begin(); reads_each_entry(20, 1000); test_end("map_window_reads_20");
	test_begin(); reads_each_entry(8, 3); test_end("map_window_reads_few");
	return tests_failed != 0;
}
