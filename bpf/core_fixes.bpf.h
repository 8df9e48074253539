/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels heapstat runs on, in one place.
 *
 * - dma_buf tracepoints (dma_buf_export, ...) exist since 7.0: older kernels
 *   use fexit/dma_buf_export instead; user space picks the variant by
 *   probing for the tracepoint's BTF before load.
 * - dma_buf_ops gained no field heapstat reads; struct dma_heap's name has
 *   been there since 5.6.
 */
#ifndef HEAPSTAT_CORE_FIXES_BPF_H
#define HEAPSTAT_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* the name of the heap behind a /dev/dma_heap/<name> file (its private_data) */
static __always_inline const char *heap_name(const struct dma_heap *heap)
{
	return heap ? BPF_CORE_READ(heap, name) : NULL;
}

#endif /* HEAPSTAT_CORE_FIXES_BPF_H */
