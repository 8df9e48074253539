// SPDX-License-Identifier: GPL-2.0
/*
 * dma-buf holders from /proc: for each process, the fds that are dma-bufs
 * (their link reads "/dmabuf:<name>"; fdinfo gives inode, size, exporter)
 * and its mappings of dma-bufs (maps lines naming "/dmabuf:", on the dma-buf
 * filesystem).
 *
 * As the task_file iterator's counts_fds_for_process() does, a process's
 * fds are its leader's table and each other table its threads have
 * (unshare(2), clone(2) without CLONE_FILES: told apart by kcmp(2)), once;
 * its mappings are the leader's, or a thread's where the leader is a
 * zombie without an mm.
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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include <linux/magic.h>

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
	pid_t *tables;			/* a process's threads whose fd tables were read */
	size_t tables_cap;
	pid_t thread;			/* a thread of it other than the leader, 0: none */
	dev_t dmabuf_dev;		/* the dma-buf filesystem's, once a file of it is seen */
	bool dev_known;
	size_t unreadable;		/* processes whose fds or mappings we may not read */
	bool kcmp;			/* kcmp(2) can compare the /proc's tasks: its pid
					 * namespace is ours, and the kernel has it */
};

struct proc_walk *proc_walk_open(const char *proc_root)
{
	struct proc_walk *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	snprintf(w->root, sizeof(w->root), "%s", proc_root);
	w->kcmp = proc_own_pidns(proc_root);
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
	free(w->tables);
	free(w);
}

/* the first @len - 1 bytes of a small file, NUL-ended: how many, or a negative errno */
static ssize_t read_small(const char *path, char *buf, size_t len)
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
	return n;
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

/**
 * proc_start_time() - when process @pid started (/proc/<pid>/stat's
 * starttime, clock ticks since boot): a pid used again is another process
 * with another; 0 when there is no such process
 */
uint64_t proc_start_time(const char *proc_root, pid_t pid)
{
	char path[4096], buf[1024], *p;
	unsigned long long t;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	/* after the comm, which may hold spaces and ')': state is field 3, starttime 22 */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu", &t) != 1)
		return 0;
	return t;
}

/*
 * proc_own_pidns() - this /proc is of this process's PID namespace: its
 * status's NSpid has one pid (a /proc of an outer namespace lists this
 * process's pid in each from that one down); without NSpid (a kernel
 * without PID namespaces) there is one. false when it cannot tell.
 */
bool proc_own_pidns(const char *proc_root)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	bool one = false, seen = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/status", proc_root);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		char *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		seen = true;
		strtol(line + 6, &end, 10);
		one = end != line + 6 && strspn(end, " \t\n") == strlen(end);
		break;
	}
	free(line);
	fclose(f);
	return one || !seen;
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

/* learn the dma-buf filesystem's device from one of its files, @ino (not another since) */
static void learn_dev(struct proc_walk *w, const char *path, uint64_t ino)
{
	struct stat st;

	if (!w->dev_known && !stat(path, &st) && st.st_ino == ino) {
		w->dmabuf_dev = st.st_dev;
		w->dev_known = true;
	}
}

/* a read refused: the process is another user's, or ours without ptrace access to it */
static bool denied(int err)
{
	return err == EACCES || err == EPERM;
}

/* the dma-buf fds of one fd table, thread @tid's of process @pid (the leader's: @tid @pid) */
static int scan_table(struct proc_walk *w, pid_t pid, pid_t tid, struct proc_scan *out)
{
	char dir[64], path[4096], info[4096], link[256];
	struct dirent *de;
	DIR *d;

	if (tid == pid)
		snprintf(dir, sizeof(dir), "%d", (int)pid);
	else
		snprintf(dir, sizeof(dir), "%d/task/%d", (int)pid, (int)tid);
	snprintf(path, sizeof(path), "%s/%s/fd", w->root, dir);
	d = opendir(path);
	if (!d) {
		out->unreadable |= denied(errno);
		return -errno;
	}
	while ((de = readdir(d))) {
		ssize_t n;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s/fd/%s", w->root, dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)	/* closed meanwhile, or not ours to read (no ptrace access) */
			out->unreadable |= denied(errno);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, DMABUF_PREFIX, strlen(DMABUF_PREFIX)))
			continue;
		if (grow_array((void **)&w->fds, &w->fds_cap, out->nfds, sizeof(*w->fds))) {
			closedir(d);
			return -ENOMEM;
		}
		snprintf(info, sizeof(info), "%s/%s/fdinfo/%s", w->root, dir, de->d_name);
		if (!parse_fdinfo(info, &w->fds[out->nfds])) {	/* closed meanwhile: skip */
			learn_dev(w, path, w->fds[out->nfds].ino);	/* exp_name: a dma-buf */
			out->nfds++;
		}
	}
	closedir(d);
	return 0;
}

/*
 * Thread @tid's fd table is none of those read for process @pid: kcmp(2)
 * says so (a task gone meanwhile: its table need not be read, or the others
 * tell). Where kcmp cannot tell (no CONFIG_KCMP, no ptrace access, another
 * pid namespace's /proc), one thread's is read when the leader's held no
 * dma-buf (a zombie leader has no table): a table they share then adds
 * nothing; another of its own, or one beside a leader's holding dma-bufs,
 * is missed.
 */
static bool own_table(struct proc_walk *w, pid_t pid, pid_t tid, size_t ntables, size_t nfds)
{
	char path[4096];

	for (size_t i = 0; w->kcmp && i < ntables; i++) {
		long rc = syscall(SYS_kcmp, w->tables[i], tid, KCMP_FILES, 0, 0);

		if (rc == 0)
			return false;
		if (rc > 0)
			continue;
		if (errno != ESRCH) {
			w->kcmp = errno != ENOSYS;	/* not built: not asked again */
			return ntables == 1 && !nfds;
		}
		snprintf(path, sizeof(path), "%s/%d/task/%d", w->root, (int)pid, (int)tid);
		if (access(path, F_OK))
			return false;
	}
	return w->kcmp || (ntables == 1 && !nfds);
}

static int scan_fds(struct proc_walk *w, pid_t pid, struct proc_scan *out)
{
	char path[4096];
	struct dirent *de;
	size_t ntables = 0;
	DIR *d;
	int err;

	w->thread = 0;
	out->fds = w->fds;
	if (grow_array((void **)&w->tables, &w->tables_cap, 0, sizeof(*w->tables)))
		return -ENOMEM;
	/* the leader first: its table is the process's own */
	w->tables[ntables++] = pid;
	err = scan_table(w, pid, pid, out);
	out->fds = w->fds;
	if (err == -ENOMEM)
		return err;
	snprintf(path, sizeof(path), "%s/%d/task", w->root, (int)pid);
	d = opendir(path);
	if (!d)		/* gone meanwhile: the leader's, as read */
		return 0;
	err = 0;
	while (!err && (de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0 || tid == pid)
			continue;
		if (!w->thread)
			w->thread = tid;
		if (!own_table(w, pid, tid, ntables, out->nfds))
			continue;
		if (grow_array((void **)&w->tables, &w->tables_cap, ntables, sizeof(*w->tables)))
			err = -ENOMEM;
		else if (!(err = scan_table(w, pid, tid, out)))
			w->tables[ntables++] = tid;	/* compared with the next ones */
		else if (err != -ENOMEM)
			err = 0;			/* gone meanwhile */
	}
	closedir(d);
	out->fds = w->fds;
	return err;
}

/*
 * A maps line's file is a dma-buf: the filesystem of the file mapped, where
 * map_files shows it (root, the leader's mm); else its device, once one of
 * the walk's dma-bufs told it. Its path alone ("/dmabuf:") might be any
 * file's so named.
 */
static bool is_dmabuf_map(struct proc_walk *w, pid_t pid, uint64_t start, uint64_t end,
			  uint64_t ino, unsigned int major, unsigned int minor)
{
	char path[4096];
	struct statfs sf;

	snprintf(path, sizeof(path), "%s/%d/map_files/%" PRIx64 "-%" PRIx64, w->root, (int)pid,
		 start, end);
	if (!statfs(path, &sf)) {
		if (sf.f_type != DMA_BUF_MAGIC)
			return false;
		learn_dev(w, path, ino);
		return true;
	}
	return !w->dev_known || w->dmabuf_dev == makedev(major, minor);
}

/* the mappings of @path, a maps file; -ENODATA when it has no line at all (no mm) */
static int scan_maps_of(struct proc_walk *w, pid_t pid, const char *path, struct proc_scan *out)
{
	char *line = NULL;
	size_t cap = 0;
	bool any = false;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		out->unreadable |= denied(errno);
		return -errno;
	}
	while (getline(&line, &cap, f) > 0) {
		uint64_t start, end, ino;
		unsigned int major, minor;
		int name_at = 0;

		any = true;
		if (!strstr(line, DMABUF_PREFIX))
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*s %x:%x %" SCNu64 " %n",
			   &start, &end, &major, &minor, &ino, &name_at) != 5 ||
		    strncmp(line + name_at, DMABUF_PREFIX, strlen(DMABUF_PREFIX)) ||
		    !is_dmabuf_map(w, pid, start, end, ino, major, minor))
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
	return any ? 0 : -ENODATA;
}

static int scan_maps(struct proc_walk *w, pid_t pid, struct proc_scan *out)
{
	char path[4096];
	int err;

	snprintf(path, sizeof(path), "%s/%d/maps", w->root, (int)pid);
	err = scan_maps_of(w, pid, path, out);
	if (err != -ENODATA || !w->thread)
		return err;
	/* the leader's mm is gone (a zombie): its threads' is the process's */
	snprintf(path, sizeof(path), "%s/%d/task/%d/maps", w->root, (int)pid, (int)w->thread);
	return scan_maps_of(w, pid, path, out);
}

/** proc_identify() - fill in a process's comm and cgroup ("?" when gone) */
void proc_identify(const char *proc_root, struct proc_scan *ps)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%d/comm", proc_root, (int)ps->pid);
	if (read_small(path, ps->comm, sizeof(ps->comm)) < 0)
		snprintf(ps->comm, sizeof(ps->comm), "?");
	comm_line_end(ps->comm);
	if (proc_cgroup_of(proc_root, ps->pid, ps->cgroup, sizeof(ps->cgroup)))
		snprintf(ps->cgroup, sizeof(ps->cgroup), "?");
}

/* a process, not a kernel thread: /proc/<pid>/cmdline, anyone's to read, is not empty */
static bool has_cmdline(struct proc_walk *w, pid_t pid)
{
	char path[4096], c[2];

	snprintf(path, sizeof(path), "%s/%d/cmdline", w->root, (int)pid);
	return read_small(path, c, sizeof(c)) > 0;
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
		if (read_small(path, out->comm, sizeof(out->comm)) < 0)
			continue;
		comm_line_end(out->comm);
		if (proc_cgroup_of(w->root, pid, out->cgroup, sizeof(out->cgroup)))
			snprintf(out->cgroup, sizeof(out->cgroup), "?");
		if (scan_fds(w, pid, out) == -ENOMEM || scan_maps(w, pid, out) == -ENOMEM)
			return -ENOMEM;
		/* a kernel thread (no command line) holds no buffer: not counted */
		if (out->unreadable && has_cmdline(w, pid))
			w->unreadable++;
		return 1;
	}
	return 0;
}

/**
 * proc_walk_unreadable() - how many processes the walk could not read
 *
 * Their fds or mappings were refused to us (another user's, or ours without
 * ptrace access): what they hold is not counted. Kernel threads left out.
 */
size_t proc_walk_unreadable(const struct proc_walk *w)
{
	return w->unreadable;
}
