/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_MAP_WINDOW_H
#define HEAPSTAT_MAP_WINDOW_H

#include <stddef.h>

/*
 * A BPF array map made with BPF_F_MMAPABLE, read through read-only mappings
 * of a few pages each, made when an entry in them is first read: the kernel
 * maps every page of a mapping at once, so mapping the whole array would
 * count all of it in our RSS.
 */
struct map_window {
	int fd;
	size_t entry_size;	/* the kernel's: the value size rounded up to 8 */
	size_t entries;
	size_t per_window;	/* entries in a window: whole entries and pages */
	size_t window_bytes;
	size_t map_bytes;	/* the array's, page aligned */
	void **windows;		/* NULL until mapped */
	size_t nwindows;
	size_t mapped;		/* windows mapped */
};

int map_window_open(struct map_window *m, int fd, size_t value_size, size_t entries);
/* entry i (< entries), or NULL with errno set when its window cannot be mapped */
const void *map_window_at(struct map_window *m, size_t i);
void map_window_close(struct map_window *m);

#endif
