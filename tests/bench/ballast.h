/* SPDX-License-Identifier: GPL-2.0 */
/* Buffers held beside a benchmark's loop, so its slab caches have room (ballast.c). */
#ifndef HEAPSTAT_BENCH_BALLAST_H
#define HEAPSTAT_BENCH_BALLAST_H

extern int ballast_n;	/* buffers held */

/* hold N buffers of @heap, N from the environment variable @env (0 to 256, default 64) */
int ballast_hold(int heap, const char *env);
void ballast_drop(void);

#endif
