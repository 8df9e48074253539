// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: run CMD with signals SIG... ignored, as env --ignore-signal
 * does (busybox's env cannot, and its sh keeps SIGCHLD for itself whatever
 * trap says).
 *
 *   sig_ign CHLD -- heapstat record -- true
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "PIPE", SIGPIPE },
		{ "TERM", SIGTERM }, { "CHLD", SIGCHLD }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	};
	int i = 1;

	for (; i < argc && strcmp(argv[i], "--"); i++) {
		size_t k = 0;

		while (k < sizeof(sigs) / sizeof(*sigs) && strcmp(sigs[k].name, argv[i]))
			k++;
		if (k == sizeof(sigs) / sizeof(*sigs)) {
			fprintf(stderr, "sig_ign: unknown signal '%s'\n", argv[i]);
			return 2;
		}
		signal(sigs[k].sig, SIG_IGN);
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: sig_ign SIG... -- CMD [ARGS...]\n");
		return 2;
	}
	execvp(argv[i + 1], argv + i + 1);
	perror(argv[i + 1]);
	return 127;
}
