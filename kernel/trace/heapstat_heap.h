/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat heaps' tracepoints: the stable hooks BPF programs attach to for
 * allocations and final frees of heapstat heap buffers.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM heapstat_heap

#if !defined(_TRACE_HEAPSTAT_HEAP_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_HEAPSTAT_HEAP_H

#include <linux/tracepoint.h>

/*
 * heap_alloc - one DMA_HEAP_IOCTL_ALLOC on a heapstat heap, failed or not
 * @len: requested length (page aligned by the dma-heap core)
 * @alloc_len: bytes taken from the heap, 0 on failure
 * @err: 0 or the negative errno returned
 * @cgroup_id: id of the cgroup charged, 0 when nothing was charged
 * @ino: inode of the new dma-buf, 0 on failure
 */
TRACE_EVENT(heap_alloc,

	TP_PROTO(const char *heap, unsigned long len, unsigned long alloc_len,
		 u32 fd_flags, u64 heap_flags, u64 duration_ns, int err,
		 u64 cgroup_id, unsigned long ino),

	TP_ARGS(heap, len, alloc_len, fd_flags, heap_flags, duration_ns, err, cgroup_id, ino),

	TP_STRUCT__entry(
		__string(heap, heap)
		__field(unsigned long, len)
		__field(unsigned long, alloc_len)
		__field(u32, fd_flags)
		__field(u64, heap_flags)
		__field(u64, duration_ns)
		__field(int, err)
		__field(u64, cgroup_id)
		__field(unsigned long, ino)
	),

	TP_fast_assign(
		__assign_str(heap);
		__entry->len = len;
		__entry->alloc_len = alloc_len;
		__entry->fd_flags = fd_flags;
		__entry->heap_flags = heap_flags;
		__entry->duration_ns = duration_ns;
		__entry->err = err;
		__entry->cgroup_id = cgroup_id;
		__entry->ino = ino;
	),

	TP_printk("heap=%s len=%lu alloc_len=%lu fd_flags=0x%x heap_flags=0x%llx duration_ns=%llu err=%d cgroup_id=%llu ino=%lu",
		  __get_str(heap), __entry->len, __entry->alloc_len, __entry->fd_flags,
		  __entry->heap_flags, __entry->duration_ns, __entry->err,
		  __entry->cgroup_id, __entry->ino)
);

/*
 * heap_free - final release of a heapstat heap buffer
 * @lifetime_ns: time since its allocation
 * @cgroup_id: id of the cgroup uncharged, 0 when nothing was charged
 */
TRACE_EVENT(heap_free,

	TP_PROTO(const char *heap, unsigned long len, unsigned long ino,
		 u64 lifetime_ns, u64 cgroup_id),

	TP_ARGS(heap, len, ino, lifetime_ns, cgroup_id),

	TP_STRUCT__entry(
		__string(heap, heap)
		__field(unsigned long, len)
		__field(unsigned long, ino)
		__field(u64, lifetime_ns)
		__field(u64, cgroup_id)
	),

	TP_fast_assign(
		__assign_str(heap);
		__entry->len = len;
		__entry->ino = ino;
		__entry->lifetime_ns = lifetime_ns;
		__entry->cgroup_id = cgroup_id;
	),

	TP_printk("heap=%s len=%lu ino=%lu lifetime_ns=%llu cgroup_id=%llu",
		  __get_str(heap), __entry->len, __entry->ino, __entry->lifetime_ns,
		  __entry->cgroup_id)
);

#endif /* _TRACE_HEAPSTAT_HEAP_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE heapstat_heap
#include <trace/define_trace.h>
