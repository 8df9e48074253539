// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup ids and paths: a cgroup2 cgroup's id (what BPF's
 * bpf_get_current_cgroup_id() returns) is the inode number of its directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

static int cmp_entry(const void *a, const void *b)
{
	uint64_t x = ((const struct cg_entry *)a)->id, y = ((const struct cg_entry *)b)->id;

	return (x > y) - (x < y);
}

/* one cgroup's id and path ("" is the root's); cg_index_sort() after the last */
int cg_index_add(struct cg_index *ix, uint64_t id, const char *path)
{
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64;
		struct cg_entry *v = realloc(ix->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ix->v = v;
		ix->cap = cap;
	}
	memset(&ix->v[ix->n], 0, sizeof(ix->v[0]));
	ix->v[ix->n].id = id;
	ix->v[ix->n].path = strdup(*path ? path : "/");
	if (!ix->v[ix->n].path)
		return -ENOMEM;
	ix->n++;
	return 0;
}

/* a dmem pool of the cgroup added last (its dmem_state set by the caller) */
int cg_index_add_dmem(struct cg_index *ix, const char *region, uint64_t current, uint64_t max)
{
	struct cg_entry *e = &ix->v[ix->n - 1];
	struct cg_dmem *v = realloc(e->dmem, (e->ndmem + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	e->dmem = v;
	v[e->ndmem].region = strdup(region);
	if (!v[e->ndmem].region)
		return -ENOMEM;
	v[e->ndmem].current = current;
	v[e->ndmem++].max = max;
	return 0;
}

/*
 * The cgroups below @dir (@path from the root, in a buffer of PATH_MAX): a
 * directory entry's inode number is the cgroup's id, so only directories are
 * read, none of the many files of each cgroup is looked at.
 */
static int walk(struct cg_index *ix, int dir, char *path, size_t len)
{
	DIR *d = fdopendir(dir);
	struct dirent *e;
	int err = 0;

	if (!d) {
		close(dir);
		return -errno;
	}
	while (!err && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int sub;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (len + 1 + n >= PATH_MAX) {
			ix->partial = true;	/* deeper than a path can say */
			continue;
		}
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, n + 1);
		err = cg_index_add(ix, e->d_ino, path);
		if (err)
			break;
		sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			err = walk(ix, sub, path, len + 1 + n);
		else if (errno != ENOENT)	/* removed meanwhile: no error, and not missed */
			ix->partial = true;
	}
	path[len] = '\0';
	closedir(d);
	return err;
}

void cg_index_free(struct cg_index *ix)
{
	for (size_t i = 0; i < ix->n; i++) {
		for (size_t k = 0; k < ix->v[i].ndmem; k++)
			free(ix->v[i].dmem[k].region);
		free(ix->v[i].dmem);
		free(ix->v[i].path);
	}
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}

/**
 * cg_index_build() - (re)read every cgroup below @root: one walk for many lookups
 *
 * Return: 0 or a negative errno; the index is empty on error.
 */
int cg_index_build(struct cg_index *ix, const char *root)
{
	char path[PATH_MAX] = "";
	struct stat st;
	int dir, err;

	cg_index_free(ix);
	dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (fstat(dir, &st)) {
		err = -errno;
		close(dir);
		return err;
	}
	err = cg_index_add(ix, st.st_ino, "");
	if (!err)
		err = walk(ix, dir, path, 0);
	else
		close(dir);
	if (err) {
		cg_index_free(ix);
		return err;
	}
	cg_index_sort(ix);
	return 0;
}

void cg_index_sort(struct cg_index *ix)
{
	qsort(ix->v, ix->n, sizeof(*ix->v), cmp_entry);
}

/* cgroup @id as of the last build, NULL when it was not there */
const struct cg_entry *cg_index_find(const struct cg_index *ix, uint64_t id)
{
	struct cg_entry key = { .id = id };

	return ix->n ? bsearch(&key, ix->v, ix->n, sizeof(key), cmp_entry) : NULL;
}

const char *cg_index_path(const struct cg_index *ix, uint64_t id)
{
	const struct cg_entry *e = cg_index_find(ix, id);

	return e ? e->path : NULL;
}

/* a mount point as mountinfo writes it: space, tab, newline and backslash in octal */
static void unescape_octal(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/**
 * cg_root() - where the cgroup2 hierarchy is mounted
 *
 * From /proc/self/mountinfo: /sys/fs/cgroup on a unified host,
 * /sys/fs/cgroup/unified on a hybrid one. The first cgroup2 mount is taken,
 * /sys/fs/cgroup when it is one of them; /sys/fs/cgroup when none is found
 * (its files are then missing, and read as such).
 */
const char *cg_root(void)
{
	static char root[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (root[0])
		return root;
	snprintf(root, sizeof(root), "%s", CGROUP_ROOT_DEFAULT);
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return root;
	for (bool found = false; getline(&line, &cap, f) > 0;) {
		char *dash = strstr(line, " - "), mnt[PATH_MAX], type[64];

		/* id parent dev root mountpoint options... - fstype source superoptions */
		if (!dash || sscanf(dash + 3, "%63s", type) != 1 || strcmp(type, "cgroup2") ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape_octal(mnt);
		if (!found || !strcmp(mnt, CGROUP_ROOT_DEFAULT))
			snprintf(root, sizeof(root), "%s", mnt);
		found = true;
	}
	free(line);
	fclose(f);
	return root;
}

/* the levels of a normalized path below the root: "/a/b" 2; "/" and "" 0 */
int cg_path_depth(const char *path)
{
	int n = 0;

	for (const char *p = path; *p; p++)
		n += *p == '/' && p[1];
	return n;
}

/*
 * The length of the first @depth components of @path ("/a/b/c", 1: "/a"); 0:
 * none deeper. Depth 0: 1 (the root, "/") for every path but "/". As the
 * exporter folds deeper cgroups into their ancestor's series.
 */
size_t cg_path_depth_prefix(const char *path, unsigned int depth)
{
	const char *p = path;

	if (!depth)
		return strcmp(path, "/") ? 1 : 0;
	for (unsigned int d = 0; d < depth; d++) {
		p = strchr(p + 1, '/');
		if (!p)
			return 0;
	}
	return p - path;
}

/**
 * cg_path_normalize() - a cgroup path as the user wrote it, as heapstat keeps it
 * @in: from the cgroup2 root: "/camera", "/camera/", "//camera/./x"
 * @out: "/camera", "/camera/x"; "/" for the root
 *
 * Return: 0, -EINVAL when it does not start with '/' or has a ".." part,
 * -ENAMETOOLONG when it does not fit @len.
 */
int cg_path_normalize(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (!in || in[0] != '/')
		return -EINVAL;
	while (*in) {
		size_t n;

		while (*in == '/')
			in++;
		n = strcspn(in, "/");
		if (!n)
			break;
		if (n == 2 && !strncmp(in, "..", 2))
			return -EINVAL;
		if (!(n == 1 && in[0] == '.')) {
			if (o + 1 + n + 1 > len)
				return -ENAMETOOLONG;
			out[o++] = '/';
			memcpy(out + o, in, n);
			o += n;
		}
		in += n;
	}
	if (len < 2)
		return -ENAMETOOLONG;
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* why cg_path_normalize() refused a path (its error), for "cgroup '%s': %s" */
const char *cg_path_refused(int err)
{
	return err == -ENAMETOOLONG ? "too long" :
	       "give a path from the cgroup2 root, starting with '/' and without '..' parts, "
	       "e.g. /camera";
}

/* the directory of cgroup @path ("/" or "/camera") under @root, in @buf */
int cg_dir(char *buf, size_t len, const char *root, const char *path)
{
	if ((size_t)snprintf(buf, len, "%s%s", root, strcmp(path, "/") ? path : "") >= len)
		return -ENAMETOOLONG;
	return 0;
}

/**
 * cg_id_alive() - whether the cgroup of @id is there now
 * @root: the cgroup2 hierarchy's mount (cg_root())
 *
 * A cgroup2 cgroup's id is also its directory's file handle (kernfs's
 * FILEID_KERNFS): opened by it, or ESTALE once the cgroup is removed (ids
 * are never reused). For a cgroup made after a walk, which the walk's index
 * does not hold. Needs CAP_DAC_READ_SEARCH and a kernel with CONFIG_FHANDLE.
 *
 * Return: 1, 0 (gone), or a negative errno (not said either way).
 */
int cg_id_alive(const char *root, uint64_t id)
{
	union {
		struct file_handle fh;
		char space[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = 0xfe } };
	int mfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, ret;

	if (mfd < 0)
		return -errno;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	ret = fd >= 0 ? 1 : errno == ESTALE ? 0 : -errno;
	if (fd >= 0)
		close(fd);
	close(mfd);
	return ret;
}
