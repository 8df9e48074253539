/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bufcount.bpf.c and user space: fixed-width fields only. */
#ifndef HEAPSTAT_BUFCOUNT_H
#define HEAPSTAT_BUFCOUNT_H

#include "heap_name.h"

#define EXP_NAME_LEN	HEAP_NAME_LEN

/* map key: the exporter's name (dma_buf->exp_name), the heap name for heap buffers */
struct exporter_key {
	char name[EXP_NAME_LEN];
};

/* map value: counters since attach, summed over CPUs by user space */
struct exporter_stats {
	__u64 exports;
	__u64 releases;		/* final releases, not dma_buf_put() */
	__u64 bytes_exported;
	__u64 bytes_released;
};

#endif /* HEAPSTAT_BUFCOUNT_H */
