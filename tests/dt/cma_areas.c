// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat's heaps on more than one CMA area, in the arm64 device-tree VM
 * (tests/boot/cma_areas.sh). Given each heap and the area it must take from:
 * /dev/dma_heap holds those heaps and CMA sysfs those areas, no more; each
 * heap's dmem.capacity is its area's size (whole chunks for the chunk heap);
 * a buffer from each heap takes exactly its pages from its own area and none
 * from the others, and gives them back at its release.
 *
 * usage: cma_areas HEAP=AREA[:GRANULE]...
 *   GRANULE, the unit the heap rounds lengths up to (64K for the chunk
 *   heap), defaults to the page size.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#define CMA_SYSFS	"/sys/kernel/mm/cma"
#define MAX_HEAPS	8
#define MAX_AREAS	16	/* CONFIG_CMA_AREAS is 8 here */
#define LEN		(2ul << 20 | 4096)	/* not a whole number of chunks */

static struct {
	char heap[64], area[64];
	uint64_t granule;
} heaps[MAX_HEAPS];
static int nheaps, failed;
static uint64_t page;

#define PASS(...) do { printf("PASS: cma_areas: " __VA_ARGS__); putchar('\n'); } while (0)
#define FAIL(...) do { printf("FAIL: cma_areas: " __VA_ARGS__); putchar('\n'); failed++; } while (0)

/* a number in /sys/kernel/mm/cma/AREA/FILE, or -1 */
static int64_t area_read(const char *area, const char *file)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), CMA_SYSFS "/%s/%s", area, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* the dmem region's capacity of a heap, from the root's dmem.capacity, or -1 */
static int64_t dmem_capacity(const char *heap)
{
	FILE *f = fopen("/sys/fs/cgroup/dmem.capacity", "r");
	char line[256], name[128];
	long long bytes, found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "dma-heap/%127s %lld", name, &bytes) == 2 && !strcmp(name, heap))
			found = bytes;
	fclose(f);
	return found;
}

/* the names in DIR, sorted, joined by spaces */
static void dir_names(const char *dir, char *out, size_t len)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && used < len)
			used += snprintf(out + used, len - used, "%s%s", used ? " " : "",
					 ents[i]->d_name);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the expected names (heaps or their distinct areas), sorted, joined by spaces */
static void want_names(int areas, char *out, size_t len)
{
	const char *names[MAX_HEAPS];
	size_t used = 0;
	int n = 0;

	for (int i = 0; i < nheaps; i++)
		names[n++] = areas ? heaps[i].area : heaps[i].heap;
	qsort(names, n, sizeof(*names), by_name);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		if ((!i || strcmp(names[i], names[i - 1])) && used < len)
			used += snprintf(out + used, len - used, "%s%s", used ? " " : "", names[i]);
}

static void names_match(void)
{
	char got[1024], want[1024];

	dir_names("/dev/dma_heap", got, sizeof(got));
	want_names(0, want, sizeof(want));
	if (!strcmp(got, want))
		PASS("heaps in /dev/dma_heap: %s", got);
	else
		FAIL("heaps in /dev/dma_heap: got '%s', want '%s'", got, want);
	dir_names(CMA_SYSFS, got, sizeof(got));
	want_names(1, want, sizeof(want));
	if (!strcmp(got, want))
		PASS("CMA areas: %s", got);
	else
		FAIL("CMA areas: got '%s', want '%s'", got, want);
}

static void capacity_is_area(int h)
{
	int64_t total = area_read(heaps[h].area, "total_pages");
	int64_t want = total < 0 ? -1 : (int64_t)(total * page / heaps[h].granule * heaps[h].granule);
	int64_t got = dmem_capacity(heaps[h].heap);

	if (total > 0 && got == want)
		PASS("%s: dmem capacity %" PRId64 " bytes, area %s's size", heaps[h].heap, got,
		     heaps[h].area);
	else
		FAIL("%s: dmem capacity %" PRId64 ", want %" PRId64 " (area %s: %" PRId64 " pages)",
		     heaps[h].heap, got, want, heaps[h].area, total);
}

/* available pages of every area in CMA sysfs, listed or not */
struct snapshot {
	int n;
	char area[MAX_AREAS][64];
	int64_t avail[MAX_AREAS];
};

static void snapshot(struct snapshot *snap)
{
	struct dirent **ents;
	int n = scandir(CMA_SYSFS, &ents, NULL, alphasort);

	snap->n = 0;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && snap->n < MAX_AREAS) {
			snprintf(snap->area[snap->n], sizeof(snap->area[0]), "%.63s", ents[i]->d_name);
			snap->avail[snap->n] = area_read(ents[i]->d_name, "available_pages");
			snap->n++;
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

/* which areas moved by how much against before, as "area:-N" words */
static void moved(const struct snapshot *before, const struct snapshot *after, char *out,
		  size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	if (before->n != after->n) {
		snprintf(out, len, "areas came or went");
		return;
	}
	for (int i = 0; i < before->n; i++)
		if (after->avail[i] != before->avail[i] && used < len)
			used += snprintf(out + used, len - used, "%s%s:%+" PRId64, used ? " " : "",
					 before->area[i], after->avail[i] - before->avail[i]);
}

static void lands_in_area(int h)
{
	struct dma_heap_allocation_data data = { .len = LEN, .fd_flags = O_RDWR | O_CLOEXEC };
	uint64_t taken = (LEN + heaps[h].granule - 1) / heaps[h].granule * heaps[h].granule;
	struct snapshot before, during, after;
	char path[128], got[512], want[128];
	int fd;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heaps[h].heap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	snapshot(&before);
	if (fd < 0 || ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &data)) {
		FAIL("%s: allocating %lu bytes: %s", heaps[h].heap, LEN, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	snapshot(&during);
	close(data.fd);	/* the last reference: released now */
	close(fd);
	snapshot(&after);
	moved(&before, &during, got, sizeof(got));
	snprintf(want, sizeof(want), "%s:-%" PRIu64, heaps[h].area, taken / page);
	if (!strcmp(got, want))
		PASS("%s: a %lu-byte buffer takes %" PRIu64 " pages of area %s alone",
		     heaps[h].heap, LEN, taken / page, heaps[h].area);
	else
		FAIL("%s: a %lu-byte buffer: available pages moved '%s', want '%s'",
		     heaps[h].heap, LEN, got, want);
	moved(&before, &after, got, sizeof(got));
	if (!got[0])
		PASS("%s: its release gives the pages back", heaps[h].heap);
	else
		FAIL("%s: after its release, available pages moved '%s'", heaps[h].heap, got);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	for (int i = 1; i < argc && nheaps < MAX_HEAPS; i++, nheaps++) {
		char *eq = strchr(argv[i], '='), *colon;

		if (!eq || eq == argv[i] || !eq[1]) {
			fprintf(stderr, "usage: cma_areas HEAP=AREA[:GRANULE]...\n");
			return 2;
		}
		colon = strchr(eq, ':');
		heaps[nheaps].granule = colon ? strtoull(colon + 1, NULL, 0) : page;
		if (!heaps[nheaps].granule)
			heaps[nheaps].granule = page;
		snprintf(heaps[nheaps].heap, sizeof(heaps[nheaps].heap), "%.*s",
			 (int)(eq - argv[i]), argv[i]);
		snprintf(heaps[nheaps].area, sizeof(heaps[nheaps].area), "%.*s",
			 colon ? (int)(colon - eq - 1) : (int)strlen(eq + 1), eq + 1);
	}
	if (!nheaps) {
		fprintf(stderr, "usage: cma_areas HEAP=AREA[:GRANULE]...\n");
		return 2;
	}
	names_match();
	for (int h = 0; h < nheaps; h++) {
		capacity_is_area(h);
		lands_in_area(h);
	}
	return failed ? 1 : 0;
}
