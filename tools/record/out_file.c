// SPDX-License-Identifier: GPL-2.0
/*
 * The files heapstat analyze writes (--html, --junit, --perfetto), all
 * alike. Never over the recording read: a slip of the fingers (--perfetto
 * run.hsrec) must not cost it. A regular file, or none yet, is written
 * beside its path and renamed over it whole: a reader never sees half of
 * one, and a failed write leaves what was there. Anything else the path
 * names (a symlink, a device, a FIFO: /dev/stdout, /dev/full) is written
 * through, and never replaced or removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/text.h"
#include "out_file.h"

/**
 * out_file_open() - start writing @path
 * @recording: the recording being read, which @path must not be
 * @why: what went wrong, for the user
 *
 * Return: 0 with @o->f open, or a negative errno with @why set.
 */
int out_file_open(struct out_file *o, const char *path, const char *recording, char *why,
		  size_t why_len)
{
	struct stat in, st;
	bool exists;
	int fd, err;

	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!*path) {
		snprintf(why, why_len, "an empty file name: give one");
		return -EINVAL;
	}
	if (recording && !stat(path, &st) && !stat(recording, &in) && in.st_dev == st.st_dev &&
	    in.st_ino == st.st_ino) {
		snprintf(why, why_len, "%s is the recording: not writing over it", text_safe(path));
		return -EEXIST;
	}
	exists = !lstat(path, &st);
	if (exists ? S_ISREG(st.st_mode) : errno == ENOENT) {
		if (asprintf(&o->tmp, "%s.%d.tmp", path, (int)getpid()) < 0) {
			o->tmp = NULL;
			snprintf(why, why_len, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	}
	if (fd >= 0 && (o->f = fdopen(fd, "w")))
		return 0;
	err = -errno;
	if (fd >= 0)
		close(fd);
	if (o->tmp && fd >= 0)
		unlink(o->tmp);
	if (o->tmp && exists)	/* the file made beside it failed: the path is there */
		snprintf(why, why_len, "failed to replace %s: cannot make %s beside it: %s",
			 text_safe(path), text_safe(o->tmp), strerror(-err));
	else
		snprintf(why, why_len, "failed to create %s: %s", text_safe(path), strerror(-err));
	free(o->tmp);
	o->tmp = NULL;
	return err;
}

/**
 * out_file_close() - finish writing it
 * @err: 0, or what writing it came to (@why then already set)
 *
 * Return: @err, or how flushing, closing or renaming it failed (@why set).
 */
int out_file_close(struct out_file *o, int err, char *why, size_t why_len)
{
	int werr = 0;

	if (fflush(o->f) || ferror(o->f))
		werr = -(errno ?: EIO);
	if (!werr && o->tmp && fsync(fileno(o->f)))
		werr = -errno;
	if (fclose(o->f) && !werr)
		werr = -(errno ?: EIO);
	if (!err && !werr && o->tmp && rename(o->tmp, o->path))
		werr = -errno;
	if (o->tmp && (err || werr))
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	o->f = NULL;
	if (!err && werr)
		snprintf(why, why_len, "failed to write %s: %s", text_safe(o->path),
			 strerror(-werr));
	return err ?: werr;
}
