/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_PROCFS_H
#define HEAPSTAT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "heap_name.h"

/* a dma-buf fd, as /proc/<pid>/fdinfo/<fd> describes it */
struct proc_dmabuf_fd {
	uint64_t ino;
	uint64_t size;
	char exp_name[HEAP_NAME_LEN];
	char name[32];		/* DMA_BUF_NAME_LEN */
};

/* a mapping of a dma-buf, from /proc/<pid>/maps */
struct proc_dmabuf_map {
	uint64_t ino;
	uint64_t bytes;
};

/* one process's dma-buf fds and mappings; valid until the next walk step */
struct proc_scan {
	pid_t pid;
	char comm[17];
	char cgroup[4096];	/* cgroup2 path, "/" for the root */
	struct proc_dmabuf_fd *fds;
	size_t nfds;
	struct proc_dmabuf_map *maps;
	size_t nmaps;
	bool unreadable;	/* its fds or mappings we may not read (another user's) */
};

struct proc_walk;

struct proc_walk *proc_walk_open(const char *proc_root);
int proc_walk_next(struct proc_walk *w, struct proc_scan *out);
size_t proc_walk_unreadable(const struct proc_walk *w);
void proc_walk_close(struct proc_walk *w);
void proc_identify(const char *proc_root, struct proc_scan *ps);
int proc_cgroup_of(const char *proc_root, pid_t pid, char *buf, size_t len);
int proc_tgid(const char *proc_root, pid_t pid);
uint64_t proc_start_time(const char *proc_root, pid_t pid);
bool proc_own_pidns(const char *proc_root);

#endif
