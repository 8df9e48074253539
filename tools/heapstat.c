// SPDX-License-Identifier: GPL-2.0
/* heapstat: who holds how much of which DMA-BUF heap. Subcommand dispatch. */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapstat.h"
#include "lib/errors.h"
#include "lib/text.h"
#include "lib/util.h"

static const struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	int lost;	/* its exit status when its stdout lost what it wrote; 0: its own, or 1 */
} subcommands[] = {
	{ "report", cmd_report, "who holds how much of which heap: heaps, cgroups, processes, buffers",
	  0 },
	{ "top", cmd_top, "live view of heaps, cgroups and CMA (also installed as heaptop)", 0 },
	{ "limit", cmd_limit, "set, show and clear per-cgroup heap limits; run a command under them",
	  0 },
	{ "record", cmd_record, "record every heap allocation of a run, for analyze", 0 },
	/* its 1 is a failed check: output it cannot write is 2, as any file's */
	{ "analyze", cmd_analyze, "leaks, peaks and failures of a recording; gate CI on them",
	  EXIT_USAGE },
	{ "export", cmd_export, "serve the model as Prometheus metrics, or write it for node_exporter",
	  0 },
};

/* the options every command takes after its name as heapstat does before it */
static error_t parse_common(int key, char *arg, struct argp_state *st)
{
	(void)arg;
	(void)st;
	switch (key) {
	case 'v':
		heapstat_verbose = true;
		return 0;
	case 'V':
		printf("heapstat %s\n", HEAPSTAT_VERSION);
		exit(0);	/* as argp's -h: the output checked at exit */
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_option common_options[] = {
	{ "verbose", 'v', NULL, 0, "libbpf's messages, the sources and the attach methods "
	  "(as heapstat -v COMMAND)", 0 },
	{ "version", 'V', NULL, 0, "Print the version", -1 },
	{},
};

static const struct argp common_argp = { common_options, parse_common, NULL, NULL, NULL, NULL,
					 NULL };
const struct argp_child heapstat_common_options[] = { { &common_argp, 0, NULL, 0 }, {} };

static void usage(FILE *f)
{
	fprintf(f, "Usage: heapstat [-v] COMMAND [OPTION...]\n\n"
		"Trace DMA-BUF heap buffers: who allocated and who holds how much of which heap.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\nOptions:\n"
		"  -v, --verbose  show libbpf's messages, the sources and the attach methods\n"
		"  -h, --help     this text\n"
		"  -V, --version  print the version\n\n"
		"'heapstat COMMAND --help' describes a command.\n\n"
		"Examples:\n"
		"  heapstat report           # who holds which heap now\n"
		"  heapstat report -j        # the same, as JSON\n"
		"  heapstat top              # refresh every second until q\n"
		"  heapstat top -b -n 3 -j   # three JSON frames, for scripts\n"
		"  heapstat limit set /camera default_cma_region 64M\n"
		"  heapstat record -o run.hsrec -- ./camera_test\n"
		"  heapstat analyze run.hsrec --fail-on leaks\n"
		"  heapstat export --listen 127.0.0.1:9464\n");
}

static bool output_checked;
static int output_lost_status;			/* and the status then, if not 0 */

/* what a command wrote reached its stdout, or it fails: >/dev/full, a closed stdout */
static int output_done(int status)
{
	output_checked = true;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	fprintf(stderr, "%s: failed to write the output: %s\n", heapstat_cmd,
		strerror(errno ? errno : EIO));
	return output_lost_status ?: status ?: 1;
}

/* the same for an exit() on the way (argp's after -h) */
static void output_at_exit(void)
{
	int rc;

	if (!output_checked && (rc = output_done(0)))
		_exit(rc);
}

/*
 * getopt shows an unknown long option whole, through the safe stream, which
 * keeps line breaks: one in an option's name (none of heapstat's has any
 * control character) would print a line of the user's making. Refused here,
 * shown safe. Up to "--": a command's arguments after it are its own.
 */
static bool option_names_safe(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (strncmp(argv[i], "--", 2))
			continue;
		for (const char *p = argv[i] + 2; *p && *p != '='; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				fprintf(stderr, "heapstat: unknown option '%s'\n", text_safe(argv[i]));
				return false;
			}
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/');
	static struct safe_stream err_state;
	FILE *safe = text_safe_stream(&err_state, STDERR_FILENO);
	int i = 1;

	/*
	 * A snapshot's arrays (100k buffers: a few MiB each) come and go in
	 * turn; freed to the heap, not unmapped, the next ones reuse their
	 * pages instead of faulting in and zeroing new ones (a tenth of a
	 * one-shot report's faults; docs/benchmarks.md, inventory).
	 */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);

	/* every message through it: names in them are shown, never obeyed by a terminal */
	if (safe)
		stderr = safe;
	atexit(output_at_exit);
	if (!option_names_safe(argc, argv))
		return EXIT_USAGE;

	/* installed as heaptop too: heapstat top */
	if (!strcmp(self ? self + 1 : argv[0], "heaptop")) {
		heapstat_libbpf_setup();
		argv[0] = "heaptop";
		snprintf(heapstat_cmd, sizeof(heapstat_cmd), "heaptop");
		return output_done(cmd_top(argc, argv));
	}

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {	/* the command follows, whatever its name */
			i++;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return output_done(0);
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("heapstat %s\n", HEAPSTAT_VERSION);
			return output_done(0);
		} else if ((argv[i][1] == 'v' && !argv[i][strspn(argv[i] + 1, "v") + 1]) ||
			   !strcmp(argv[i], "--verbose")) {	/* -v, -vv... */
			heapstat_verbose = true;
		} else {
			fprintf(stderr, "heapstat: unknown option '%s'\n", text_safe(argv[i]));
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	heapstat_libbpf_setup();
	for (size_t s = 0; s < ARRAY_SIZE(subcommands); s++)
		if (!strcmp(argv[i], subcommands[s].name)) {
			snprintf(heapstat_cmd, sizeof(heapstat_cmd), "heapstat %s", subcommands[s].name);
			output_lost_status = subcommands[s].lost;
			return output_done(subcommands[s].run(argc - i, argv + i));
		}
	fprintf(stderr, "heapstat: unknown command '%s' (see heapstat --help)\n", text_safe(argv[i]));
	return EXIT_USAGE;
}
