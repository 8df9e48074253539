// SPDX-License-Identifier: GPL-2.0
/*
 * runstat CMD [ARGS...]: run a command with its output discarded and print
 * "wall_ms=N cpu_ms=N maxrss_kb=N status=N minflt=N" (benchmarks; cpu is user + system).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"

int main(int argc, char **argv)
{
	struct rusage ru;
	uint64_t t0;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: runstat CMD [ARGS...]\n");
		return 2;
	}
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execvp(argv[1], argv + 1);
		perror("runstat: exec");
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) {
		perror("runstat");
		return 1;
	}
	printf("wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld status=%d minflt=%ld\n", (now_ns() - t0) / 1e6,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3, ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_minflt);
	return 0;
}
