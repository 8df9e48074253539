/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_LSKEL_RUN_H
#define HEAPSTAT_LSKEL_RUN_H

#include <stdbool.h>
/* what libbpf 1.1's skel_internal.h uses without including it */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/skel_internal.h>

int lskel_run(struct bpf_load_and_run_opts *opts);
/* how the last light skeleton loaded: its loader run here, or by the kernel */
bool lskel_ran_here(void);
/* the kernel runs the loaders, as without lskel_run(): to compare */
extern bool lskel_by_kernel;
/* a loader here stops after as many instructions (and the kernel runs it): to test that */
extern long lskel_max_steps;

/*
 * The light skeletons included after this header call lskel_run() where
 * they called bpf_load_and_run().
 */
#define bpf_load_and_run lskel_run

#endif
