/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat analyze --junit: the judged checks as a JUnit XML file (the Ant
 * format that GitLab, Jenkins and GitHub's test reporters read), one
 * testcase per check plus one for the recording itself. The file is written
 * beside its destination and renamed over it, so that a reader never sees
 * half of one.
 */
#ifndef HEAPSTAT_JUNIT_H
#define HEAPSTAT_JUNIT_H

#include <stddef.h>

#include "analysis.h"
#include "checks.h"

/*
 * Write @c's judged checks on @a, and the testcase "recording" (failed when
 * the recording was cut short or lost events), to @path. 0, or -errno with
 * why in @why.
 */
int junit_write(const char *path, const struct analysis *a, const struct checks *c,
		char *why, size_t why_len);

/*
 * Write a report of one testcase "recording" in error: @file could not be
 * read (@reason), so nothing was judged. 0, or -errno with why in @why.
 */
int junit_write_unreadable(const char *path, const char *file, const char *reason,
			   char *why, size_t why_len);

#endif
