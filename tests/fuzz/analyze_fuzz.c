// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for heapstat analyze (make fuzz, scripts/fuzz.sh): what
 * it makes of a recording, not only whether its records read (record_fuzz.c
 * does that). Built with -fsanitize=fuzzer,address,undefined like it: a
 * read out of bounds, a leak, undefined behaviour, a hang (-timeout) or an
 * allocation far beyond the input's size (-rss_limit_mb) is a finding.
 *
 * Each input, its frames' checksums made right first (or every input would
 * stop at the first frame), is analysed twice, as the command does it:
 * JSON with every file written (--html, --junit, --perfetto, to /dev/null)
 * and the default checks, then the text with a peak and a p99 check. The
 * exit status must be one analyze documents: 0, 1 (a check failed), 2 (a
 * recording it cannot read, or a check naming a heap it does not have) or
 * 3 (cut short).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heapstat.h"
#include "fix_checksums.h"

/* the commands' -v and -V are heapstat.c's, and -v's flag errors.c's, which
 * bring libbpf: none here */
const struct argp_child heapstat_common_options[] = { {} };
bool heapstat_verbose;

static int fd = -1;
static char path[64];
static FILE *report;		/* stderr as it was, for a finding */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("analyze_fuzz", MFD_CLOEXEC);
	if (fd < 0) {
		perror("analyze_fuzz: memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* what analyze prints is not the finding (libFuzzer's own stderr was taken at start) */
	report = stderr;
	if (!freopen("/dev/null", "w", stdout) || !(stderr = fopen("/dev/null", "w"))) {
		perror("analyze_fuzz: /dev/null");
		exit(1);
	}
	return 0;
}

static void analyze(const char *const *args, int n)
{
	char *argv[16];
	int rc;

	for (int i = 0; i < n; i++)
		argv[i] = (char *)args[i];
	argv[n] = (char *)path;
	argv[n + 1] = NULL;
	rc = cmd_analyze(n + 1, argv);
	if (rc < 0 || rc > 3) {
		fprintf(report, "analyze_fuzz: exit %d\n", rc);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const all[] = {
		"analyze", "-j", "--html", "/dev/null", "--junit", "/dev/null",
		"--perfetto", "/dev/null",
	};
	static const char *const gate[] = {
		"analyze", "--fail-on", "leaks,failures,peak:system>1M,p99:system>1ms",
	};
	uint8_t *fixed = fix_checksums(data, size);

	if (ftruncate(fd, 0) || pwrite(fd, fixed, size, 0) != (ssize_t)size) {
		perror("analyze_fuzz: the input's file");
		abort();
	}
	free(fixed);
	analyze(all, sizeof(all) / sizeof(*all));
	analyze(gate, sizeof(gate) / sizeof(*gate));
	return 0;
}
