// SPDX-License-Identifier: GPL-2.0
/*
 * What heaptop's holder hooks cost the rest of the system, in one VM boot: a
 * loop that forks a child which execs busybox's true, and waits for it, with
 *   BARE     nothing attached,
 *   AGG      the collector as report and export load it (no holder hooks),
 *   HOLDERS  the collector as heaptop loads it: also the sched fork, exec and
 *            cgroup-attach raw tracepoints and exit_files, with the looping
 *            process listed as a holder (so each of its forks counts a change).
 * The loop runs in a process forked before any collector is loaded, told by
 * a pipe to run a round: it has none of the collector's mappings, whose page
 * tables its forks would copy (what the system's other processes pay, not
 * what heapstat's own forks would). The variants are interleaved in each
 * round, the median round kept. make bench boots this VM with -icount:
 * guest time is instructions executed.
 *
 *   fork_bench [OPS]   (default 300 forks a round)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/collector.h"
#include "lib/util.h"

#define ROUNDS 7

enum { BARE, AGG, HOLDERS, VARIANTS };
static const char *const names[VARIANTS] = { "BARE", "AGG", "HOLDERS" };

static double loop_ns(int n)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		int status;

		if (pid < 0) {
			perror("fork_bench: fork");
			exit(1);
		}
		if (!pid) {
			execl("/bin/busybox", "true", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fork_bench: the child failed\n");
			exit(1);
		}
	}
	return (double)(now_ns() - t0) / n;
}

static pid_t worker;
static int to_worker, from_worker;

/* the looping process: a round of n after a warm-up, for each n it reads */
static void work(int in, int out)
{
	int n;

	while (read(in, &n, sizeof(n)) == sizeof(n)) {
		double ns;

		loop_ns(n / 10);	/* the emulator translates the patched code */
		ns = loop_ns(n);
		if (write(out, &ns, sizeof(ns)) != sizeof(ns))
			_exit(1);
	}
	_exit(0);
}

static void start_worker(void)
{
	int down[2], up[2];

	if (pipe(down) || pipe(up)) {
		perror("fork_bench: pipe");
		exit(1);
	}
	worker = fork();
	if (worker < 0) {
		perror("fork_bench: fork");
		exit(1);
	}
	if (!worker) {
		close(down[1]);
		close(up[0]);
		work(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	to_worker = down[1];
	from_worker = up[0];
}

static double run(int v, int n)
{
	struct collector *c = NULL;
	char why[256];
	double ns;

	if (v != BARE) {
		if (collector_open(&c, COLL_ATTACH_AUTO, 0, v == HOLDERS, why, sizeof(why))) {
			fprintf(stderr, "fork_bench: %s\n", why);
			exit(1);
		}
		if (v == HOLDERS && collector_set_holders(c, &worker, 1)) {
			fprintf(stderr, "fork_bench: cannot list the loop as a holder\n");
			exit(1);
		}
	}
	if (write(to_worker, &n, sizeof(n)) != sizeof(n) ||
	    read(from_worker, &ns, sizeof(ns)) != sizeof(ns)) {
		fprintf(stderr, "fork_bench: the looping process stopped\n");
		exit(1);
	}
	collector_close(c);
	return ns;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double t[VARIANTS][ROUNDS], m[VARIANTS];
	int n = argc > 1 ? atoi(argv[1]) : 300;

	if (argc > 2 || n <= 0) {
		fprintf(stderr, "usage: fork_bench [OPS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_worker();
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < VARIANTS; i++) {
			int v = (r + i) % VARIANTS;

			t[v][r] = run(v, n);
		}
	for (int v = 0; v < VARIANTS; v++) {
		qsort(t[v], ROUNDS, sizeof(double), cmp);
		m[v] = t[v][ROUNDS / 2];
	}
	printf("fork+exec+wait, median of %d interleaved rounds of %d (us per op)\n", ROUNDS, n);
	printf("%9s %9s %9s %9s %11s %7s\n", names[BARE], names[AGG], names[HOLDERS], "AGG/BARE",
	       "HOLDERS/BARE", "NOISE");
	printf("%9.2f %9.2f %9.2f %8.2f%% %10.2f%% %6.1f%%\n", m[BARE] / 1e3, m[AGG] / 1e3,
	       m[HOLDERS] / 1e3, (m[AGG] - m[BARE]) / m[BARE] * 100,
	       (m[HOLDERS] - m[BARE]) / m[BARE] * 100,
	       (t[BARE][ROUNDS * 3 / 4] - t[BARE][ROUNDS / 4]) / m[BARE] * 100);
	close(to_worker);
	waitpid(worker, NULL, 0);
	return 0;
}
