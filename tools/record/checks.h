/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat analyze's CI checks (--fail-on): parsed from the command line,
 * judged on an analysis, each with a one-line summary (analyze's stderr)
 * and a detail text (a JUnit testcase's body, the HTML report).
 */
#ifndef HEAPSTAT_CHECKS_H
#define HEAPSTAT_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis.h"

#define MAX_CHECKS	32

enum check_kind { CHECK_LEAKS, CHECK_FAILURES, CHECK_PEAK, CHECK_P99 };

struct check {
	enum check_kind kind;
	char name[160];			/* as given: "leaks", "peak:system>64M", "p99:system>5ms" */
	char heap[128];			/* peak and p99 */
	uint64_t limit;			/* peak: bytes; p99: ns */
	/* judged */
	bool failed;
	char summary[256];		/* "leaks: 3 buffers, 6.0M" */
	char *detail;			/* what was found, one line each */
};

struct checks {
	struct check v[MAX_CHECKS];
	int n;
};

/* add the comma-separated checks of @arg; -EINVAL names the bad one in @why */
int checks_parse(struct checks *c, const char *arg, char *why, size_t why_len);
/* -ENOENT, why in @why, when a check names a heap the recording does not */
int checks_heaps_named(const struct checks *c, const struct analysis *a, char *why,
		       size_t why_len);
/* judge each check; how many failed, or -ENOMEM */
int checks_judge(struct checks *c, const struct analysis *a);
void checks_free(struct checks *c);

#endif
