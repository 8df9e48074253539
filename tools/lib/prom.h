/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus exposition formats, written to a FILE: the text format
 * 0.0.4 and OpenMetrics 1.0.0. A family is begun once (its HELP and TYPE),
 * then its samples follow; the two formats differ in how a counter's family
 * is named (OpenMetrics: without _total in HELP and TYPE), in the info type
 * (a gauge in 0.0.4), in what HELP escapes, and in the closing "# EOF".
 * Label values are escaped (backslash, double quote, newline) and made
 * valid UTF-8 (a byte that starts no well-formed character becomes the four
 * characters \xhh: prom_label_value()), so a cgroup path or heap name cannot
 * break the exposition.
 */
#ifndef HEAPSTAT_PROM_H
#define HEAPSTAT_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum prom_format {
	PROM_TEXT,		/* text/plain; version=0.0.4 */
	PROM_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

enum prom_type { PROM_GAUGE, PROM_COUNTER, PROM_HISTOGRAM, PROM_INFO };

struct prom_label {
	const char *name;
	const char *value;
};

struct prom {
	FILE *f;
	enum prom_format fmt;
	char family[128];	/* the family being written, as named at prom_family() */
	enum prom_type type;
	uint64_t samples;	/* written so far, every family */
};

const char *prom_content_type(enum prom_format fmt);
enum prom_format prom_negotiate(const char *accept);

void prom_init(struct prom *p, FILE *f, enum prom_format fmt);
/* @name: the family's base name (a counter's without _total, an info's without _info) */
void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);
void prom_u64(struct prom *p, const struct prom_label *l, size_t n, uint64_t v);
void prom_double(struct prom *p, const struct prom_label *l, size_t n, double v);
/*
 * A histogram: bounds[nb] in increasing order (the +Inf bucket is added),
 * counts[nb + 1] per bucket (not cumulative; the last: above every bound).
 */
void prom_histogram(struct prom *p, const struct prom_label *l, size_t n, const double *bounds,
		    const uint64_t *counts, size_t nb, double sum);
void prom_end(struct prom *p);

void prom_label_value(FILE *f, const char *s);

#endif
