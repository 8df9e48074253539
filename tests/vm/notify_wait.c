// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: systemd's end of sd_notify(3). Binds a datagram socket at
 * PATH, goes to the background once bound (so a command given
 * NOTIFY_SOCKET=PATH right after cannot tell it too early), prints every
 * message it gets, and exits 0 at the first that holds the line READY=1, or
 * 1 after SECS seconds without one. tests/lib.sh's ready_socket and
 * wait_ready use it.
 *
 *   notify_wait /tmp/ready.sock 120 >/tmp/ready.sock.msg
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* a line of msg says READY=1 */
static int ready_in(const char *msg)
{
	for (const char *l = msg; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, "READY=1", 7) && (l[7] == '\n' || !l[7]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec t0, t;
	char msg[4096];
	int fd, secs;
	pid_t pid;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path) || (secs = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: notify_wait PATH SECS\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("notify_wait: bind");
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("notify_wait: fork");
		return 1;
	}
	if (pid)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left, n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = secs * 1000 - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					   (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, left) == 0) {
			printf("notify_wait: no READY=1 in %d s\n", secs);
			return 1;
		}
		n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n < 0)
			continue;
		msg[n] = '\0';
		printf("%s%s", msg, n && msg[n - 1] == '\n' ? "" : "\n");
		fflush(stdout);
		if (ready_in(msg))
			return 0;
	}
}
