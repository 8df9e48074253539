/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_ERRORS_H
#define HEAPSTAT_ERRORS_H

#include <stdbool.h>

/* exit status when the system cannot run heapstat at all (no root, BPF, BTF) */
#define EXIT_UNSUPPORTED	2
#define EXIT_USAGE		2	/* bad input: a message, nothing done or changed */
/* a command run in a cgroup (limit exec) not moved there, as env's own failures */
#define EXIT_EXEC_CGROUP	125
/* a command recorded still running when the recording stopped (-d, a signal), as timeout's */
#define EXIT_RUNNING		124

extern bool heapstat_verbose;
extern char heapstat_cmd[32];	/* who says a message: "heapstat report", "heaptop" */
/* why nothing traces in a PID namespace of its own */
extern const char heapstat_pidns_why[];

void heapstat_error(int err, const char *what, const char *hint);
int heapstat_bpf_preflight(void);
int heapstat_snapshot_preflight(void);
int heapstat_caps_preflight(void);
int heapstat_pidns_preflight(void);
bool heapstat_own_pidns(void);
const char *heapstat_no_btf(void);
void heapstat_libbpf_setup(void);

#endif
