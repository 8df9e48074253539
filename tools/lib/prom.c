// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus exposition formats (prom.h): text 0.0.4, as Prometheus and
 * node_exporter's textfile collector read it, and OpenMetrics 1.0.0, which
 * a scraper asks for in its Accept header.
 */
#include <math.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prom.h"
#include "text.h"

const char *prom_content_type(enum prom_format fmt)
{
	return fmt == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				       : "text/plain; version=0.0.4; charset=utf-8";
}

/* the q of one media range ("type/sub;version=...;q=0.5"), 1 when it has none */
static double media_q(const char *range, size_t len)
{
	const char *q = range;

	while ((q = memchr(q, ';', len - (q - range)))) {
		q++;
		while (q < range + len && (*q == ' ' || *q == '\t'))
			q++;
		if (range + len - q > 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
			return strtod(q + 2, NULL);
	}
	return 1;
}

static bool media_is(const char *range, size_t len, const char *type)
{
	size_t n = strlen(type);

	while (len && (*range == ' ' || *range == '\t'))
		range++, len--;
	return len >= n && !strncasecmp(range, type, n) &&
	       (len == n || range[n] == ';' || range[n] == ' ' || range[n] == '\t');
}

/**
 * prom_negotiate() - the format an Accept header asks for
 * @accept: the header's value, NULL when there was none
 *
 * OpenMetrics when it is acceptable at least as much as the text format
 * (text/plain, text/ *, * / *), else the text format.
 */
enum prom_format prom_negotiate(const char *accept)
{
	double om = 0, text = 0;

	while (accept && *accept) {
		size_t len = strcspn(accept, ",");
		double q = media_q(accept, len);

		if (media_is(accept, len, "application/openmetrics-text"))
			om = q > om ? q : om;
		else if (media_is(accept, len, "text/plain") || media_is(accept, len, "text/*") ||
			 media_is(accept, len, "*/*"))
			text = q > text ? q : text;
		accept += len + (accept[len] == ',');
	}
	return om > 0 && om >= text ? PROM_OPENMETRICS : PROM_TEXT;
}

void prom_init(struct prom *p, FILE *f, enum prom_format fmt)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	/* one thread writes it: no lock taken for each of the many small writes */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	p->fmt = fmt;
}

/* a HELP text: backslash and newline escaped, and in OpenMetrics the double quote */
static void help_text(const struct prom *p, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", p->f);
		else if (*s == '\n')
			fputs("\\n", p->f);
		else if (*s == '"' && p->fmt == PROM_OPENMETRICS)
			fputs("\\\"", p->f);
		else
			fputc(*s, p->f);
	}
}

static const char *type_name(const struct prom *p, enum prom_type t)
{
	switch (t) {
	case PROM_COUNTER: return "counter";
	case PROM_HISTOGRAM: return "histogram";
	case PROM_INFO: return p->fmt == PROM_OPENMETRICS ? "info" : "gauge";
	default: return "gauge";
	}
}

/* the name of a family in its HELP and TYPE lines */
static const char *family_suffix(const struct prom *p, enum prom_type t)
{
	if (p->fmt == PROM_OPENMETRICS)
		return "";
	return t == PROM_COUNTER ? "_total" : t == PROM_INFO ? "_info" : "";
}

/* the name of its samples (a histogram's get _bucket, _sum and _count instead) */
static const char *sample_suffix(enum prom_type t)
{
	return t == PROM_COUNTER ? "_total" : t == PROM_INFO ? "_info" : "";
}

void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
	const char *sfx = family_suffix(p, type);

	snprintf(p->family, sizeof(p->family), "%s", name);
	p->type = type;
	fprintf(p->f, "# HELP %s%s ", name, sfx);
	help_text(p, help);
	fprintf(p->f, "\n# TYPE %s%s %s\n", name, sfx, type_name(p, type));
}

/*
 * After a backslash of a name, whether the value would read on as an escape:
 * a backslash, a byte written as \xhh, or the characters x, [8-f], [0-9a-f]
 */
static bool reads_as_escape(const unsigned char *s)
{
	uint32_t cp;

	return *s == '\\' || (*s && !utf8_char(s, strnlen((const char *)s, 4), &cp)) ||
	       (s[0] == 'x' && s[1] && strchr("89abcdef", s[1]) &&
		s[2] && strchr("0123456789abcdef", s[2]));
}

/**
 * prom_label_value() - a label's value, as the exposition formats quote it
 *
 * Backslash, double quote and newline escaped. Both formats are UTF-8 and
 * Prometheus refuses a scrape with an invalid label value: a byte that starts
 * no well-formed UTF-8 character is written as the four characters \xhh
 * (lowercase hex), and a backslash the value would read on as an escape from
 * (reads_as_escape()) as \\: two names are never one label value, and the
 * value reads back to the name's bytes. Other names, systemd's "\x2d"
 * included, are unchanged.
 */
void prom_label_value(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s, *run = u;

	/* runs of printable ASCII are written at once: most names are nothing else */
	for (;;) {
		uint32_t cp;
		size_t len;

		while (*u >= 0x20 && *u < 0x7f && *u != '\\' && *u != '"')
			u++;
		if (u > run)
			fwrite(run, 1, u - run, f);
		if (!*u)
			return;
		len = utf8_char(u, strnlen((const char *)u, 4), &cp);
		if (!len) {	/* the value's \xhh: the exposition's \\xhh */
			fprintf(f, "\\\\x%02x", *u);
			len = 1;
		} else if (*u == '\\') {	/* the value's \\ or \ */
			fputs(reads_as_escape(u + 1) ? "\\\\\\\\" : "\\\\", f);
		} else if (*u == '"') {
			fputs("\\\"", f);
		} else if (*u == '\n') {
			fputs("\\n", f);
		} else {
			fwrite(u, 1, len, f);
		}
		u += len;
		run = u;
	}
}

static void labels(struct prom *p, const struct prom_label *l, size_t n, const char *le)
{
	if (!n && !le)
		return;
	fputc('{', p->f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', p->f);
		fputs(l[i].name, p->f);
		fputs("=\"", p->f);
		prom_label_value(p->f, l[i].value);
		fputc('"', p->f);
	}
	if (le)
		fprintf(p->f, "%sle=\"%s\"", n ? "," : "", le);
	fputc('}', p->f);
}

/* the shortest decimal that reads back as v; NaN and the infinities by name */
static const char *number(double v, char *buf, size_t len)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

static void sample_name(struct prom *p, const char *suffix)
{
	fputs(p->family, p->f);
	fputs(suffix, p->f);
}

/* " V\n": thousands of these a scrape, without printf's parsing */
static void value_u64(FILE *f, uint64_t v)
{
	char buf[24], *e = buf + sizeof(buf), *b = e;

	*--b = '\n';
	do {
		*--b = '0' + v % 10;
		v /= 10;
	} while (v);
	*--b = ' ';
	fwrite(b, 1, e - b, f);
}

void prom_u64(struct prom *p, const struct prom_label *l, size_t n, uint64_t v)
{
	sample_name(p, sample_suffix(p->type));
	labels(p, l, n, NULL);
	value_u64(p->f, v);
	p->samples++;
}

void prom_double(struct prom *p, const struct prom_label *l, size_t n, double v)
{
	char buf[40];

	sample_name(p, sample_suffix(p->type));
	labels(p, l, n, NULL);
	fprintf(p->f, " %s\n", number(v, buf, sizeof(buf)));
	p->samples++;
}

void prom_histogram(struct prom *p, const struct prom_label *l, size_t n, const double *bounds,
		    const uint64_t *counts, size_t nb, double sum)
{
	uint64_t cum = 0;
	char le[40], buf[40];

	for (size_t i = 0; i <= nb; i++) {
		cum += counts[i];
		sample_name(p, "_bucket");
		labels(p, l, n, i < nb ? number(bounds[i], le, sizeof(le)) : "+Inf");
		value_u64(p->f, cum);
	}
	sample_name(p, "_sum");
	labels(p, l, n, NULL);
	fprintf(p->f, " %s\n", number(sum, buf, sizeof(buf)));
	sample_name(p, "_count");
	labels(p, l, n, NULL);
	value_u64(p->f, cum);
	p->samples += nb + 3;
}

void prom_end(struct prom *p)
{
	if (p->fmt == PROM_OPENMETRICS)
		fputs("# EOF\n", p->f);
}
