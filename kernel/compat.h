/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel-version floor of heapstat's heap modules, and any shim they
 * need above it. No version test belongs anywhere else.
 */
#ifndef HEAPSTAT_COMPAT_H
#define HEAPSTAT_COMPAT_H

#include <linux/version.h>

/* 7.1 is the first release exporting cma_alloc() and cma_release() to modules */
#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 1, 0)
#error "heapstat's heap modules need Linux 7.1 or later (cma_alloc/cma_release exports)"
#endif

#endif /* HEAPSTAT_COMPAT_H */
