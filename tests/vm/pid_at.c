// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: run CMD as process PID, a pid another process had (clone3's
 * set_tid, as CRIU restores one: root, the pid free), and exit with its
 * status: a pid used again, as a busy system does after it wraps.
 *
 *   pid_at 1234 dmabuf_alloc -H system -s 64K -w 30
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

int main(int argc, char **argv)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	pid_t want, pid;
	char *end;
	int st;

	if (argc < 3) {
		fprintf(stderr, "usage: pid_at PID CMD [ARGS...]\n");
		return 2;
	}
	errno = 0;
	want = strtol(argv[1], &end, 10);
	if (errno || *end || want <= 1) {
		fprintf(stderr, "pid_at: not a pid: %s\n", argv[1]);
		return 2;
	}
	args.set_tid = (uintptr_t)&want;
	args.set_tid_size = 1;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		fprintf(stderr, "pid_at: clone3 as pid %d: %s\n", want, strerror(errno));
		return 1;
	}
	if (!pid) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "pid_at: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0) {
		fprintf(stderr, "pid_at: wait: %s\n", strerror(errno));
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
