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

/*
 * arm64 (make arm64 builds the objects with __TARGET_ARCH_arm64): libbpf's
 * PT_REGS_* read a kprobe's registers as struct user_pt_regs there, which
 * vmlinux.h, from x86's BTF, lacks. Its uapi layout, read from the kprobe's
 * context as it is (no relocation).
 */
#if defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
#endif

/* the name of the heap behind a /dev/dma_heap/<name> file (its private_data) */
static __always_inline const char *heap_name(const struct dma_heap *heap)
{
	return heap ? BPF_CORE_READ(heap, name) : NULL;
}

#endif /* HEAPSTAT_CORE_FIXES_BPF_H */
