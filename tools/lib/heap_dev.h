/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_HEAP_DEV_H
#define HEAPSTAT_HEAP_DEV_H

#include <stddef.h>
#include <stdint.h>

/* where the kernel's DMA-BUF heaps are: /dev/dma_heap/<heap> */
#define HEAP_DEV_DIR	"/dev/dma_heap"

/* a heap this system offers */
struct heap_dev {
	char *name;
	uint32_t dev;		/* its device number as the kernel keeps it (major << 20 | minor);
				 * 0 when not a character device */
};

/*
 * The heaps in @dir (HEAP_DEV_DIR, or a test's), sorted by name: each
 * entry there but dot files. None and 0 without the directory (no
 * CONFIG_DMABUF_HEAPS); a negative errno when it cannot be read. Free with
 * heap_devs_free().
 */
int heap_devs_read(const char *dir, struct heap_dev **v, size_t *n);
void heap_devs_free(struct heap_dev *v, size_t n);

/*
 * @heap's device number in @dir: -EINVAL for a name that could reach outside
 * it ("", ".", "..", a slash), -ENODEV for a file that is no character
 * device, else stat(2)'s -errno (-ENOENT: no such heap)
 */
int heap_dev_of(const char *dir, const char *heap, uint32_t *dev);

#endif
