// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat analyze --junit (junit.h): the Ant JUnit format that CI systems
 * read (tests/record/junit.xsd describes what is written). One testsuite
 * "heapstat analyze" in a testsuites; a testcase per check, classname
 * "heapstat.<recording's name without extension>", whose body holds the
 * check's summary and detail: CI systems show a failure's text, not its
 * message attribute, and a passing check's numbers go to its system-out.
 * The testcase "recording" fails when the recording was cut short, lost
 * events, or stopped before its command ended: a check judged on part of
 * a run is no proof.
 *
 * Every string from the recording (comm, cgroup paths, heap names, the
 * command line) and from the command line is escaped, and what XML 1.0
 * cannot hold (controls but tab and line breaks, bytes that are not UTF-8,
 * U+FFFE and U+FFFF) is written as \xNN or \uNNNN text instead, so the file
 * is well-formed whatever the names hold. C1 controls and DEL, allowed but
 * acted on by some terminals, are written so too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "lib/text.h"
#include "lib/util.h"
#include "junit.h"
#include "out_file.h"

#define SUITE_NAME	"heapstat analyze"
#define MAX_PROPS	8

struct tcase {
	const char *name;
	const char *type;		/* failure or error type; NULL: passed */
	bool error;			/* not judged (an error), rather than failed */
	const char *summary;		/* one line: the message attribute, the body's first line */
	const char *detail;		/* the body's next lines, each ending in '\n' */
};

struct report {
	char classname[300];
	uint64_t time_ns;
	char timestamp[32];		/* UTC, without zone as the Ant format has it */
	const char *hostname;
	struct { const char *name, *value; } props[MAX_PROPS];
	int nprops;
	struct tcase cases[MAX_CHECKS + 1];
	int ncases;
};

/* @s as XML character data, or as an attribute's value (double-quoted) when @attr */
static void xml_escape(FILE *f, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n) {
		uint32_t cp;
		size_t len = utf8_char(p, n, &cp);

		if (!len) {			/* not UTF-8: the byte's value, as text */
			fprintf(f, "\\x%02x", *p);
			p++, n--;
			continue;
		}
		if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')		/* also keeps "]]>" out */
			fputs("&gt;", f);
		else if (cp == '"' && attr)
			fputs("&quot;", f);
		else if (cp == '\r' || ((cp == '\t' || cp == '\n') && attr))
			fprintf(f, "&#%u;", cp);	/* else normalized away by the parser */
		else if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f))
			fprintf(f, "\\x%02x", cp);
		else if (cp == 0xfffe || cp == 0xffff || text_bidi_control(cp))
			fprintf(f, "\\u%04x", cp);	/* bidi: as text and HTML show it */
		else
			fwrite(p, 1, len, f);
		p += len;
		n -= len;
	}
}

static void attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	xml_escape(f, value, true);
	fputc('"', f);
}

/* seconds, without the locale's decimal point */
static void attr_time(FILE *f, uint64_t ns)
{
	fprintf(f, " time=\"%llu.%03llu\"", (unsigned long long)(ns / 1000000000),
		(unsigned long long)(ns / 1000000 % 1000));
}

static void write_report(FILE *f, const struct report *r)
{
	int failures = 0, errors = 0;

	for (int i = 0; i < r->ncases; i++) {
		failures += r->cases[i].type && !r->cases[i].error;
		errors += r->cases[i].type && r->cases[i].error;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
	attr(f, "name", SUITE_NAME);
	fprintf(f, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\"", r->ncases, failures,
		errors);
	attr_time(f, r->time_ns);
	fputs(">\n  <testsuite", f);
	attr(f, "name", SUITE_NAME);
	fprintf(f, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\"", r->ncases, failures,
		errors);
	attr_time(f, r->time_ns);
	attr(f, "timestamp", r->timestamp);
	attr(f, "hostname", r->hostname);
	fputs(">\n    <properties>\n", f);
	for (int i = 0; i < r->nprops; i++) {
		fputs("      <property", f);
		attr(f, "name", r->props[i].name);
		attr(f, "value", r->props[i].value);
		fputs("/>\n", f);
	}
	fputs("    </properties>\n", f);
	for (int i = 0; i < r->ncases; i++) {
		const struct tcase *t = &r->cases[i];
		const char *el = t->error ? "error" : "failure";

		fputs("    <testcase", f);
		attr(f, "name", t->name);
		attr(f, "classname", r->classname);
		attr_time(f, 0);	/* judged from the recording, at once */
		fputs(">\n      ", f);
		if (t->type) {
			fprintf(f, "<%s", el);
			attr(f, "message", t->summary);
			attr(f, "type", t->type);
			fputc('>', f);
		} else {
			fputs("<system-out>", f);
		}
		xml_escape(f, t->summary, false);
		fputc('\n', f);
		xml_escape(f, t->detail, false);
		fprintf(f, "</%s>\n    </testcase>\n", t->type ? el : "system-out");
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
}

/* @r to @path (out_file.c): never over the recording @file */
static int commit(const char *path, const char *file, const struct report *r, char *why,
		  size_t why_len)
{
	struct out_file o;
	int err = out_file_open(&o, path, file, why, why_len);

	if (err)
		return err;
	write_report(o.f, r);
	return out_file_close(&o, 0, why, why_len);
}

/* "heapstat." and the recording's file name without its directory and extension */
static void set_classname(struct report *r, const char *file)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	const char *dot = strrchr(base, '.');
	size_t n = dot && dot > base ? (size_t)(dot - base) : strlen(base);

	snprintf(r->classname, sizeof(r->classname), "heapstat.%.*s", (int)n, base);
}

static void set_timestamp(struct report *r, uint64_t real_ns)
{
	time_t t = real_ns / 1000000000;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
	    !strftime(r->timestamp, sizeof(r->timestamp), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(r->timestamp, sizeof(r->timestamp), "1970-01-01T00:00:00");
}

static void add_prop(struct report *r, const char *name, const char *value)
{
	if (r->nprops < MAX_PROPS) {
		r->props[r->nprops].name = name;
		r->props[r->nprops].value = value;
		r->nprops++;
	}
}

int junit_write(const char *path, const struct analysis *a, const struct checks *c,
		char *why, size_t why_len)
{
	struct report *r = calloc(1, sizeof(*r));
	char end[64], events[24], drops[24], cut[24], dur[16], summary[512], detail[384];
	bool running = a->ended && a->end.how == REC_END_RUNNING;
	bool not_run = a->ended && a->end.how == REC_END_NOT_STARTED;
	int err;

	if (!r) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	set_classname(r, a->file);
	r->time_ns = an_span(a);
	set_timestamp(r, a->hdr->real_ns);
	r->hostname = *a->hdr->host ? a->hdr->host : "unknown";
	snprintf(events, sizeof(events), "%llu", (unsigned long long)a->events);
	snprintf(drops, sizeof(drops), "%llu", (unsigned long long)a->drops);
	snprintf(cut, sizeof(cut), "%llu", (unsigned long long)a->cut);
	add_prop(r, "recording", a->file);
	add_prop(r, "kernel", a->hdr->kernel);
	add_prop(r, "command", a->hdr->command);
	add_prop(r, "end", an_end_text(a, end, sizeof(end)));
	add_prop(r, "events", events);
	add_prop(r, "lost_events", drops);
	if (a->truncated)
		add_prop(r, "cut_at_byte", cut);

	for (int i = 0; i < c->n; i++) {
		static const char *const kinds[] = {
			[CHECK_LEAKS] = "leaks", [CHECK_FAILURES] = "failures",
			[CHECK_PEAK] = "peak", [CHECK_P99] = "p99",
		};
		const struct check *k = &c->v[i];
		struct tcase *t = &r->cases[r->ncases++];

		t->name = k->name;
		t->type = k->failed ? kinds[k->kind] : NULL;
		t->summary = k->summary;
		t->detail = k->detail ? k->detail : "";
	}

	format_ns(r->time_ns, dur, sizeof(dur));
	if (a->truncated)
		snprintf(summary, sizeof(summary), "recording: cut short at byte %llu (%s): %llu "
			 "event%s over %s, %llu lost", (unsigned long long)a->cut, a->damage,
			 (unsigned long long)a->events, a->events == 1 ? "" : "s", dur,
			 (unsigned long long)a->drops);
	else
		snprintf(summary, sizeof(summary), "recording: %llu event%s over %s, %llu lost, %s",
			 (unsigned long long)a->events, a->events == 1 ? "" : "s", dur,
			 (unsigned long long)a->drops, end);
	detail[0] = '\0';
	if (a->truncated)
		snprintf(detail, sizeof(detail), "the checks judged the run up to the cut\n");
	if (a->drops)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%llu events "
			 "lost before they were recorded: the checks judged the run without them\n",
			 (unsigned long long)a->drops);
	if (running)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "the recording "
			 "stopped before the command ended: the checks judged part of its run, and "
			 "what it held then as leaked\n");
	if (not_run)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "the recording "
			 "stopped before the command started: it was not run, and no check judged "
			 "it\n");
	r->cases[r->ncases++] = (struct tcase){
		.name = "recording",
		.type = a->truncated ? "truncated" : a->drops ? "lost-events" :
			running ? "command-running" : not_run ? "command-not-started" : NULL,
		.summary = summary,
		.detail = detail,
	};

	err = commit(path, a->file, r, why, why_len);
	free(r);
	return err;
}

int junit_write_unreadable(const char *path, const char *file, const char *reason,
			   char *why, size_t why_len)
{
	struct report *r = calloc(1, sizeof(*r));
	struct utsname u;
	char summary[640];
	int err;

	if (!r) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* no recording to say when and where: now, here */
	set_classname(r, file);
	set_timestamp(r, (uint64_t)time(NULL) * 1000000000);
	r->hostname = uname(&u) || !*u.nodename ? "unknown" : u.nodename;
	add_prop(r, "recording", file);
	snprintf(summary, sizeof(summary), "recording: not read: %s", reason);
	r->cases[r->ncases++] = (struct tcase){
		.name = "recording",
		.type = "unreadable",
		.error = true,
		.summary = summary,
		.detail = "no check was judged\n",
	};
	err = commit(path, file, r, why, why_len);
	free(r);
	return err;
}
