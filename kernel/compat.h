/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel-version floor of heapstat's heap modules, what they need of the
 * kernel's configuration, and any shim they need above it. No version test
 * belongs anywhere else.
 */
#ifndef HEAPSTAT_COMPAT_H
#define HEAPSTAT_COMPAT_H

#include <linux/version.h>

/* 7.1 is the first release exporting cma_alloc() and cma_release() to modules */
#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 1, 0)
#error "heapstat's heap modules need Linux 7.1 or later (cma_alloc/cma_release exports)"
#endif

/*
 * What the heaps are made of (DKMS skips a kernel without them: dkms.conf's
 * BUILD_EXCLUSIVE_CONFIG). Without CONFIG_CGROUP_DMEM they build and charge
 * nobody (accounting.c).
 */
#if !IS_ENABLED(CONFIG_CMA) || !IS_ENABLED(CONFIG_DMABUF_HEAPS)
#error "heapstat's heap modules need CONFIG_CMA and CONFIG_DMABUF_HEAPS"
#endif

#endif /* HEAPSTAT_COMPAT_H */
