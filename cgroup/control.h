/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Changing cgroups through libcgroup: creating one with its controllers,
 * writing a controller's file, moving a process. Messages for the user are
 * written to @why; the functions return 0 or a negative errno.
 */
#ifndef HEAPSTAT_CGROUP_CONTROL_H
#define HEAPSTAT_CGROUP_CONTROL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int cg_control_init(char *why, size_t len);
bool cg_controller_available(const char *controller);
int cg_control_create(const char *cgroup, const char * const *controllers, char *made,
		      size_t made_len, char *why, size_t len);
int cg_control_unmake(const char *cgroup, const char *first, const char * const *controllers,
		      char *why, size_t len);
int cg_control_write(const char *cgroup, const char *controller, const char *file,
		     const char *value, char *why, size_t len);
int cg_control_attach(const char *cgroup, pid_t pid, char *why, size_t len);
bool cg_control_delegates(const char *cgroup, char *controllers, size_t len);
pid_t cg_control_spawn(const char *cgroup, char * const *argv, const char *who,
		       const sigset_t *ignored);

#endif
