/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A heap's or exporter's name as heapstat reads it, in BPF and from fdinfo:
 * HEAP_NAME_LEN bytes with its NUL in every reader, so that the name a
 * buffer, a heap's ioctl, /dev/dma_heap and dmem give is one name, one row.
 * CMA_MAX_NAME: the longest a CMA area's name, and so an upstream CMA heap's,
 * can be. dma-heap bounds no name: of a longer one these keep the first
 * HEAP_NAME_LEN - 1 bytes (docs/design.md, the holdings model).
 */
#ifndef HEAPSTAT_HEAP_NAME_H
#define HEAPSTAT_HEAP_NAME_H

#define HEAP_NAME_LEN	64

#endif /* HEAPSTAT_HEAP_NAME_H */
