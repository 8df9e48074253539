// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness, told as systemd's sd_notify(3) tells it, without libsystemd:
 * one datagram, "READY=1\nSTATUS=...", to the AF_UNIX socket $NOTIFY_SOCKET
 * names (a path, or "@name" in the abstract namespace). A unit of
 * Type=notify is started once its command traces; a script waits for the
 * same message instead of guessing from the links a process holds. The
 * variable is unset once used: a process started after it tells nothing
 * in heapstat's name, and a second call tells nothing twice.
 *
 * A socket that cannot be told is a warning, not a failure: the command
 * works all the same, and systemd says when a start times out.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "ready.h"
#include "text.h"

/* "STATUS=" holds one line */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n')
			*s = ' ';
}

static int notify(const char *path, const char *status)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	socklen_t salen;
	char msg[512];
	int fd, n, err = 0;

	if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')	/* abstract: no NUL after the name, the length says where it ends */
		sa.sun_path[0] = '\0';
	salen = offsetof(struct sockaddr_un, sun_path) + len;
	n = snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s\n", status);
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	one_line(msg + strlen("READY=1\nSTATUS="));
	msg[n - 1] = '\n';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, n, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) != n)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

void ready_notify(const char *cmd, const char *status)
{
	const char *path = getenv("NOTIFY_SOCKET");
	int err;

	if (!path || !*path)
		return;
	err = notify(path, status);
	if (err)
		fprintf(stderr, "%s: warning: cannot tell NOTIFY_SOCKET %s that it is ready: %s\n",
			cmd, text_safe(path), err == -EINVAL ? "not a socket's path (/path or "
			"@abstract)" : strerror(-err));
	unsetenv("NOTIFY_SOCKET");
}
