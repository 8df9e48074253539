/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat analyze --html: the analysis and its judged --fail-on checks as
 * one self-contained HTML5 page, for a CI job's artifacts.
 */
#ifndef HEAPSTAT_HTML_H
#define HEAPSTAT_HTML_H

#include <stddef.h>

#include "analysis.h"
#include "checks.h"

/*
 * Write the page of @a and @c (judged) to @path. 0, or -errno with why in
 * @why (a path that cannot be written, -ENOMEM); no partial file is left.
 */
int html_write(const struct analysis *a, const struct checks *c, const char *path, char *why,
	       size_t why_len);

#endif
