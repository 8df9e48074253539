// SPDX-License-Identifier: GPL-2.0
/*
 * dma-buf holders from /proc: for each process, the fds that are dma-bufs
 * (their link reads "/dmabuf:<name>"; fdinfo gives inode, size, exporter)
 * and its mappings of dma-bufs (maps lines naming "/dmabuf:").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

#define DMABUF_PREFIX "/dmabuf:"

struct proc_walk {
	char root[256];
	DIR *dir;
	struct proc_dmabuf_fd *fds;
	size_t fds_cap;
	struct proc_dmabuf_map *maps;
	size_t maps_cap;
};

struct proc_walk *proc_walk_open(const char *proc_root)
{
	struct proc_walk *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	snprintf(w->root, sizeof(w->root), "%s", proc_root);
	w->dir = opendir(proc_root);
	if (!w->dir) {
		free(w);
		return NULL;
	}
	return w;
}

void proc_walk_close(struct proc_walk *w)
{
	if (!w)
		return;
	closedir(w->dir);
	free(w->fds);
	free(w->maps);
	free(w);
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* a comm file's line end cut: only it, as a name set with prctl() may hold line breaks */
static void comm_line_end(char *comm)
{
	size_t n = strlen(comm);

	if (n && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

/** proc_cgroup_of() - a process's cgroup2 path, from /proc/<pid>/cgroup */
int proc_cgroup_of(const char *proc_root, pid_t pid, char *buf, size_t len)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* one line per hierarchy: cgroup v1's too on a hybrid host */
	while (err && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3))	/* the unified hierarchy */
			continue;
		line[strcspn(line, "\n")] = '\0';
		err = (size_t)snprintf(buf, len, "%s", line + 3) < len ? 0 : -ENAMETOOLONG;
	}
	free(line);
	fclose(f);
	return err;
}

/** proc_tgid() - the process (thread group) of task @pid: itself for a process; <= 0 when none */
int proc_tgid(const char *proc_root, pid_t pid)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	int tgid = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (tgid < 0 && getline(&line, &cap, f) > 0)
		if (!strncmp(line, "Tgid:", 5))
			tgid = atoi(line + 5);
	free(line);
	fclose(f);
	return tgid;
}

/*
 * proc_own_pidns() - this /proc is of this process's PID namespace: its
 * status's NSpid has one pid (a /proc of an outer namespace lists this
 * process's pid in each from that one down). false when it cannot tell.
 */
bool proc_own_pidns(const char *proc_root)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	bool one = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/status", proc_root);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		char *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		strtol(line + 6, &end, 10);
		one = end != line + 6 && strspn(end, " \t\n") == strlen(end);
		break;
	}
	free(line);
	fclose(f);
	return one;
}

/*
 * The fdinfo of a dma-buf fd: read line by line, whatever its length. The
 * buffer's name comes last, as its owner wrote it: line breaks and all, so
 * what follows "name:" is the name, never another field.
 */
static int parse_fdinfo(const char *path, struct proc_dmabuf_fd *f)
{
	char *line = NULL;
	size_t cap = 0;
	bool named = false;
	FILE *in = fopen(path, "re");

	if (!in)
		return -errno;
	memset(f, 0, sizeof(*f));
	while (getline(&line, &cap, in) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (named) {
			size_t n = strlen(f->name);

			snprintf(f->name + n, sizeof(f->name) - n, "\n%s", line);
		} else if (!strncmp(line, "ino:", 4))
			f->ino = strtoull(line + 4, NULL, 10);
		else if (!strncmp(line, "size:", 5))
			f->size = strtoull(line + 5, NULL, 10);
		else if (!strncmp(line, "exp_name:", 9))	/* "exp_name:\t%s": the tab alone */
			snprintf(f->exp_name, sizeof(f->exp_name), "%s", line + 9 + (line[9] == '\t'));
		else if ((named = !strncmp(line, "name:", 5)))	/* a name may start with blanks */
			snprintf(f->name, sizeof(f->name), "%s", line + 5 + (line[5] == '\t'));
	}
	free(line);
	fclose(in);
	return f->ino && f->exp_name[0] ? 0 : -EINVAL;
}

static int scan_fds(struct proc_walk *w, pid_t pid, struct proc_scan *out)
{
	char path[4096], link[256];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", w->root, (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		ssize_t n;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%d/fd/%s", w->root, (int)pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, DMABUF_PREFIX, strlen(DMABUF_PREFIX)))
			continue;
		if (grow_array((void **)&w->fds, &w->fds_cap, out->nfds, sizeof(*w->fds))) {
			closedir(d);
			return -ENOMEM;
		}
		snprintf(path, sizeof(path), "%s/%d/fdinfo/%s", w->root, (int)pid, de->d_name);
		if (!parse_fdinfo(path, &w->fds[out->nfds]))	/* closed meanwhile: skip */
			out->nfds++;
	}
	closedir(d);
	out->fds = w->fds;
	return 0;
}

static int scan_maps(struct proc_walk *w, pid_t pid, struct proc_scan *out)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/maps", w->root, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		uint64_t start, end, ino;
		int name_at = 0;

		if (!strstr(line, DMABUF_PREFIX))
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*s %*s %" SCNu64 " %n",
			   &start, &end, &ino, &name_at) != 3 ||
		    strncmp(line + name_at, DMABUF_PREFIX, strlen(DMABUF_PREFIX)))
			continue;
		if (grow_array((void **)&w->maps, &w->maps_cap, out->nmaps, sizeof(*w->maps))) {
			free(line);
			fclose(f);
			return -ENOMEM;
		}
		w->maps[out->nmaps++] = (struct proc_dmabuf_map){ .ino = ino, .bytes = end - start };
	}
	free(line);
	fclose(f);
	out->maps = w->maps;
	return 0;
}

/** proc_identify() - fill in a process's comm and cgroup ("?" when gone) */
void proc_identify(const char *proc_root, struct proc_scan *ps)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%d/comm", proc_root, (int)ps->pid);
	if (read_small(path, ps->comm, sizeof(ps->comm)))
		snprintf(ps->comm, sizeof(ps->comm), "?");
	comm_line_end(ps->comm);
	if (proc_cgroup_of(proc_root, ps->pid, ps->cgroup, sizeof(ps->cgroup)))
		snprintf(ps->cgroup, sizeof(ps->cgroup), "?");
}

/**
 * proc_walk_next() - the next process and its dma-buf fds and mappings
 *
 * Processes that exit meanwhile, or whose files we may not read, are skipped.
 * Return: 1 with @out filled, 0 at the end, or a negative errno.
 */
int proc_walk_next(struct proc_walk *w, struct proc_scan *out)
{
	struct dirent *de;

	while ((de = readdir(w->dir))) {
		char path[4096];
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->pid = pid;
		snprintf(path, sizeof(path), "%s/%ld/comm", w->root, pid);
		if (read_small(path, out->comm, sizeof(out->comm)))
			continue;
		comm_line_end(out->comm);
		if (proc_cgroup_of(w->root, pid, out->cgroup, sizeof(out->cgroup)))
			snprintf(out->cgroup, sizeof(out->cgroup), "?");
		if (scan_fds(w, pid, out) == -ENOMEM || scan_maps(w, pid, out) == -ENOMEM)
			return -ENOMEM;
		return 1;
	}
	return 0;
}
