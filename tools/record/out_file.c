// SPDX-License-Identifier: GPL-2.0
/*
 * The files heapstat analyze writes (--html, --junit, --perfetto), all
 * alike. Never over the recording read: a slip of the fingers (--perfetto
 * run.hsrec) must not cost it. A regular file, or none yet, is written
 * beside its path and renamed over it whole: a reader never sees half of
 * one, and a failed write leaves what was there. Anything else the path
 * names (a symlink, a device, a FIFO: /dev/stdout, /dev/full) is written
 * through, and never replaced or removed. A signal that ends heapstat
 * meanwhile (INT, TERM, HUP, PIPE) removes the half-written file first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/text.h"
#include "out_file.h"

/* the file being written beside its path, for a signal to remove (one at a time) */
static char *volatile written;

static void remove_written(int sig)
{
	char *tmp = written;

	if (tmp)
		unlink(tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* INT, TERM, HUP and PIPE remove it, unless the caller ignores or handles them */
static void on_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	static bool done;

	if (done)
		return;
	done = true;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa = {}, old;

		if (sigaction(sigs[i], NULL, &old) || old.sa_handler != SIG_DFL)
			continue;
		sa.sa_handler = remove_written;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

/*
 * The name written beside @path: "<path>.<pid>.tmp", its last part cut to
 * fit NAME_MAX (a long name that fits would not fit with the suffix)
 */
static int tmp_name(const char *path, char **out)
{
	const char *base = strrchr(path, '/');
	size_t dir = base ? (size_t)(base + 1 - path) : 0, len = strlen(path + dir);
	char suffix[32];
	int n = snprintf(suffix, sizeof(suffix), ".%d.tmp", (int)getpid());

	if (len + n > NAME_MAX)
		len = NAME_MAX - n;
	return asprintf(out, "%.*s%.*s%s", (int)dir, path, (int)len, path + dir, suffix);
}

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
		if (tmp_name(path, &o->tmp) < 0) {
			o->tmp = NULL;
			snprintf(why, why_len, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		on_signals();
		fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0)
			written = o->tmp;
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
	written = NULL;
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
	written = NULL;
	free(o->tmp);
	o->tmp = NULL;
	o->f = NULL;
	if (!err && werr)
		snprintf(why, why_len, "failed to write %s: %s", text_safe(o->path),
			 strerror(-werr));
	return err ?: werr;
}
