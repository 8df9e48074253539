// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: run a command whose every new dma-buf fd is installed MS
 * milliseconds after the dma_buf_fd tracepoint announced it
 * (bpf/fd_window.bpf.c), and exit with its status; how many fds were held
 * back goes to stderr.
 *
 *   fd_window 300 dmabuf_alloc -H system -s 1M -w 30
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "fd_window.skel.h"

int main(int argc, char **argv)
{
	struct fd_window_bpf *skel;
	int go[2], status = 0, err;
	char *end;
	long ms;
	pid_t pid;

	ms = argc > 2 ? strtol(argv[1], &end, 10) : -1;
	if (ms < 0 || ms > 2000 || *end) {
		fprintf(stderr, "usage: fd_window MS CMD [ARGS...] (MS: 0 to 2000)\n");
		return 2;
	}
	if (pipe(go))
		return perror("fd_window: pipe"), 1;
	pid = fork();
	if (pid < 0)
		return perror("fd_window: fork"), 1;
	if (!pid) {	/* the command, once the program waits for its fds */
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "fd_window: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	skel = fd_window_bpf__open();
	if (!skel) {
		fprintf(stderr, "fd_window: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_tgid = pid;
	skel->rodata->delay_ns = ms * 1000000ull;
	err = fd_window_bpf__load(skel) ?: fd_window_bpf__attach(skel);
	if (err || write(go[1], "", 1) != 1) {
		fprintf(stderr, "fd_window: %s\n", strerror(err ? -err : errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fd_window_bpf__destroy(skel);
		return 1;
	}
	close(go[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fprintf(stderr, "fd_window: %llu fds held back %ld ms\n",
		(unsigned long long)skel->bss->delayed, ms);
	fd_window_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
