// SPDX-License-Identifier: GPL-2.0
/* The heaps a system offers, as /dev/dma_heap lists them (heap_dev.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "heap_dev.h"
#include "util.h"

int heap_dev_of(const char *dir, const char *heap, uint32_t *dev)
{
	char path[PATH_MAX];
	struct stat st;

	if (!heap[0] || strchr(heap, '/') || !strcmp(heap, ".") || !strcmp(heap, ".."))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, heap) >= sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENODEV;
	/* as include/linux/kdev_t.h's MKDEV(): what BPF reads in an inode's i_rdev */
	*dev = major(st.st_rdev) << 20 | minor(st.st_rdev);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct heap_dev *)a)->name, ((const struct heap_dev *)b)->name);
}

void heap_devs_free(struct heap_dev *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int heap_devs_read(const char *dir, struct heap_dev **v, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0, k = 0;
	uint32_t dev;
	int err = 0;

	*v = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (heap_dev_of(dir, de->d_name, &dev))
			dev = 0;	/* gone since, or no device */
		err = grow_array((void **)v, &cap, k, sizeof(**v));
		if (!err && !((*v)[k].name = strdup(de->d_name)))
			err = -ENOMEM;
		if (!err)
			(*v)[k++].dev = dev;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	if (err) {
		heap_devs_free(*v, k);
		*v = NULL;
		return err;
	}
	sort_ordered(*v, k, sizeof(**v), by_name);
	*n = k;
	return 0;
}
