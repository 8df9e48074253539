// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat analyze --html (html.h): the analysis (analysis.h) and the
 * --fail-on checks as one HTML5 page that a CI user opens from a job's
 * artifacts, offline. One file: inline CSS, charts drawn here as inline SVG,
 * no script, no font, image or link to fetch (a Content-Security-Policy
 * forbids them too, should anything slip in). Every string a recording
 * holds (comm, heap, cgroup path, command, host) is escaped; controls are
 * shown as the terminal views show them, never obeyed.
 *
 * A long recording stays a small page: the timeline draws a series with at
 * most TL_MAX_POINTS vertices (its steps cut into TL_COLS columns, each
 * keeping the lowest, highest and last bytes), each chart the TL_MAX_SERIES
 * largest series, and a table at most HTML_MAX_ROWS rows.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heapstat.h"
#include "lib/text.h"
#include "lib/util.h"
#include "html.h"
#include "out_file.h"

#define HTML_MAX_ROWS	1000	/* rows of a table (leaks, failures, limits) */
#define TL_COLS		500	/* columns a long series is cut into */
#define TL_MAX_POINTS	(4 * TL_COLS)	/* 2000 vertices a series at most */
#define TL_MAX_SERIES	12	/* series of a chart */
#define TL_MAX_MARKS	200	/* failed allocations marked on the timeline */
#define HB_DECADE	4	/* histogram buckets a decade */
#define HB_MAX		(20 * HB_DECADE)	/* 1ns to 2^64ns */
#define HOLDERS_SHOWN	8	/* whose allocations made a peak: the largest */
#define DETAIL_OPEN	12	/* a check's detail of more lines is folded */

/* Tableau 10, darkened where it is too light on white */
static const char *const palette[] = {
	"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
	"#76b7b2", "#c9a227", "#9c755f", "#ff9da7", "#7f7f7f",
};
#define NCOLORS		(sizeof(palette) / sizeof(palette[0]))

static const char css[] =
":root{--fg:#1f2328;--mute:#59636e;--line:#d8dee4;--soft:#f6f8fa;--bad:#cf222e;"
"--badbg:#ffebe9;--good:#1a7f37}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;font:14px/1.45 'DejaVu Sans',system-ui,sans-serif;color:var(--fg);"
"background:#fff}\n"
"main{max-width:1240px;margin:0 auto;padding:18px 28px 40px}\n"
"h1{font-size:21px;margin:0 0 6px;word-break:break-all}\n"
"h2{font-size:17px;margin:30px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}\n"
"h3{font-size:14px;margin:0 0 4px}\n"
"nav{font-size:13px;margin:6px 0 4px}nav a{color:#0969da;margin-right:14px;"
"text-decoration:none}\n"
".m,code,pre{font-family:'DejaVu Sans Mono',ui-monospace,monospace;font-size:12.5px}\n"
".mute{color:var(--mute);font-weight:normal}\n"
".none{color:var(--mute);font-style:italic}\n"
"dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}\n"
"dl.meta dt{color:var(--mute)}dl.meta dd{margin:0;word-break:break-all}\n"
".cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 4px}\n"
".card{border:1px solid var(--line);border-radius:6px;padding:6px 14px;min-width:120px}\n"
".card b{display:block;font-size:19px}.card span{color:var(--mute);font-size:12px}\n"
".card.bad{border-color:var(--bad);background:var(--badbg)}.card.bad b{color:var(--bad)}\n"
".banner{background:var(--badbg);border:1px solid var(--bad);color:var(--bad);"
"padding:9px 14px;border-radius:6px;font-weight:bold;margin:10px 0}\n"
"table{border-collapse:collapse;width:100%;margin:4px 0 8px}\n"
"th,td{padding:4px 9px;border-bottom:1px solid var(--line);text-align:left;"
"vertical-align:top}\n"
"th{background:var(--soft);font-size:12px;color:var(--mute);white-space:nowrap}\n"
"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
"td{overflow-wrap:break-word}td.m{word-break:break-all}\n"
"tr.stack td{border-top:0;padding-top:0}ol.frames{margin:0;padding-left:28px}\n"
".badge{display:inline-block;padding:1px 9px;border-radius:10px;font-weight:bold;"
"font-size:12px;color:#fff;white-space:nowrap}\n"
".pass{background:var(--good)}.fail{background:var(--bad)}\n"
"pre{background:var(--soft);padding:6px 8px;border-radius:4px;white-space:pre-wrap;"
"word-break:break-word;margin:4px 0 0}\n"
"figure{margin:6px 0 14px}svg{display:block;width:100%;height:auto}\n"
"svg text{font:11px 'DejaVu Sans',sans-serif;fill:#59636e}\n"
"svg .g{stroke:#e6eaef;stroke-width:1}svg .ax{stroke:#8c959f;stroke-width:1}\n"
"svg .series{fill:none;stroke-width:2;stroke-linejoin:round}\n"
"svg .mark{fill:var(--bad)}svg .bar{fill:#4e79a7}svg .pct{stroke:#cf222e;"
"stroke-dasharray:3 2}\n"
".legend{list-style:none;padding:0;margin:4px 0 0;display:flex;flex-wrap:wrap;"
"gap:4px 20px;font-size:13px}.legend li{display:flex;align-items:center;gap:6px}\n"
".legend svg{display:inline;width:auto}\n"
".hists{display:grid;grid-template-columns:1fr 1fr;gap:10px 24px}\n"
".hist{border:1px solid var(--line);border-radius:6px;padding:8px 10px 4px}\n"
"#check-table td:nth-child(-n+2){width:1%;white-space:nowrap}\n"
"summary{cursor:pointer;color:var(--mute);font-size:13px}\n"
"footer{margin-top:36px;color:var(--mute);font-size:12px}\n";

/*
 * @s as HTML text or attribute value: the characters HTML gives meaning to
 * as entities; controls as text_safe() shows them (^J, \x9b), bytes that are
 * not UTF-8 as \xNN, and the bidirectional controls, which would reorder
 * what is around them, as \u202e (text_safe()'s ways). @n bytes of it;
 * @lines: a line break is kept (in a <pre>).
 */
static void esc_text(FILE *f, const char *s, size_t n, bool lines)
{
	const unsigned char *p = (const unsigned char *)s;

	while (n) {
		uint32_t cp;
		size_t len = utf8_char(p, n, &cp);

		if (!len) {
			fprintf(f, "\\x%02x", p[0]);
			len = 1;
		} else if (lines && cp == '\n') {
			fputc('\n', f);
		} else if (cp < 0x20 || cp == 0x7f) {
			fprintf(f, "^%c", cp == 0x7f ? '?' : (char)(cp + '@'));
		} else if (cp >= 0x80 && cp <= 0x9f) {
			fprintf(f, "\\x%02x", p[1]);
		} else if (text_bidi_control(cp)) {
			fprintf(f, "\\u%04x", cp);
		} else if (cp == '&') {
			fputs("&amp;", f);
		} else if (cp == '<') {
			fputs("&lt;", f);
		} else if (cp == '>') {
			fputs("&gt;", f);
		} else if (cp == '"') {
			fputs("&quot;", f);
		} else if (cp == '\'') {
			fputs("&#39;", f);
		} else {
			fwrite(p, 1, len, f);
		}
		p += len;
		n -= len;
	}
}

static void esc(FILE *f, const char *s)
{
	esc_text(f, s, strlen(s), false);
}

/* "8.0M" -> "8M", "10.0ms" -> "10ms": axis labels */
static const char *trim0(char *buf)
{
	char *d = strstr(buf, ".0");

	if (d && (d[2] < '0' || d[2] > '9'))
		memmove(d, d + 2, strlen(d + 2) + 1);
	return buf;
}

static const char *cgroup_label(const struct analysis *a, uint64_t id)
{
	return id ? an_cgroup_path(a, id) : "(all)";
}

static void td_esc(FILE *f, const char *cls, const char *s)
{
	fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ?: "", cls ? "\"" : "");
	esc(f, s);
	fputs("</td>", f);
}

static void more_rows(FILE *f, size_t n, const char *what)
{
	if (n > HTML_MAX_ROWS)
		fprintf(f, "<p class=\"none\">The first %d of %zu %s; heapstat analyze -j lists "
			"them all.</p>\n", HTML_MAX_ROWS, n, what);
}

/* the page's head and its header: the recording, how it ended, what it says */

static void head(FILE *f, const struct analysis *a)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", f);
	fprintf(f, "<meta name=\"generator\" content=\"heapstat %s\">\n<title>heapstat: ",
		HEAPSTAT_VERSION);
	esc(f, a->file);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);
}

static void card(FILE *f, bool bad, const char *value, const char *what)
{
	fprintf(f, "<div class=\"card%s\"><b>%s</b><span>%s</span></div>\n", bad ? " bad" : "",
		value, what);
}

static void header(FILE *f, const struct analysis *a, const struct checks *c)
{
	char s1[32], s2[32], v[96];
	int failed = 0;
	time_t t;
	struct tm tm;

	fputs("<header>\n<h1>heapstat analyze: ", f);
	esc(f, a->file);
	fputs("</h1>\n<nav><a href=\"#checks\">Checks</a><a href=\"#timeline-section\">Timeline"
	      "</a><a href=\"#leaks-section\">Leaks</a><a href=\"#peaks\">Peaks</a>"
	      "<a href=\"#failures-section\">Failures</a><a href=\"#latency\">Latency</a>"
	      "<a href=\"#lifetimes\">Lifetimes</a></nav>\n", f);
	if (a->truncated) {
		fprintf(f, "<div class=\"banner\" id=\"truncated\">This recording was cut short at "
			"byte %llu (", (unsigned long long)a->cut);
		esc(f, a->damage);
		fputs("): analysed up to there. What happened after is not in this page.</div>\n",
		      f);
	}
	if (a->drops)
		fprintf(f, "<div class=\"banner\">%llu events were lost before they reached the "
			"recorder: the numbers below undercount.</div>\n",
			(unsigned long long)a->drops);
	fputs("<dl class=\"meta\">\n<dt>Recording</dt><dd class=\"m\">", f);
	esc(f, a->file);
	fputs("</dd>\n<dt>Kernel</dt><dd>", f);
	esc(f, a->hdr->kernel);
	fputs("</dd>\n<dt>Host</dt><dd>", f);
	esc(f, a->hdr->host);
	fputs("</dd>\n<dt>Command</dt><dd class=\"m\">", f);
	if (*a->hdr->command)
		esc(f, a->hdr->command);
	else
		fputs("<span class=\"none\">none (the whole system was recorded)</span>", f);
	fputs("</dd>\n<dt>Ended</dt><dd>", f);
	esc(f, an_end_text(a, v, sizeof(v)));
	fputs("</dd>\n", f);
	t = (time_t)(a->hdr->real_ns / 1000000000ull);
	if (a->hdr->real_ns && gmtime_r(&t, &tm) && strftime(v, sizeof(v), "%Y-%m-%d %H:%M:%S UTC",
							     &tm))
		fprintf(f, "<dt>Started</dt><dd>%s</dd>\n", v);
	fputs("</dl>\n<div class=\"cards\">\n", f);
	card(f, false, format_ns(an_span(a), s1, sizeof(s1)), "first to last event");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)a->events);
	card(f, false, v, "events");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)a->drops);
	card(f, a->drops, v, "events lost");
	snprintf(v, sizeof(v), "%zu &middot; %s", a->nleaks,
		 format_size(a->leaked_bytes, s2, sizeof(s2)));
	card(f, a->nleaks, v, "leaked buffers, bytes");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(a->failed + a->ioctl_refusals));
	card(f, a->failed + a->ioctl_refusals, v, "failed allocations");
	for (int i = 0; i < c->n; i++)
		failed += c->v[i].failed;
	if (!c->n)
		snprintf(v, sizeof(v), "none");
	else if (failed)
		snprintf(v, sizeof(v), "%d of %d failed", failed, c->n);
	else
		snprintf(v, sizeof(v), "%d passed", c->n);
	card(f, failed, v, "--fail-on checks");
	fputs("</div>\n</header>\n", f);
}

/* a check's detail, its first HTML_MAX_ROWS lines; folded when long */
static void detail(FILE *f, const char *s)
{
	size_t lines = 0, len = 0, shown = 0;

	for (const char *p = s; *p; p++)
		if (*p == '\n' || !p[1])
			if (++lines <= HTML_MAX_ROWS)
				len = p - s + 1, shown = lines;
	if (lines > DETAIL_OPEN)
		fprintf(f, "<details><summary>%zu lines</summary>", lines);
	fputs("<pre>", f);
	esc_text(f, s, len, true);
	if (lines > shown)
		fprintf(f, "\n(%zu lines more: heapstat analyze -j lists them all)", lines - shown);
	fputs("</pre>", f);
	if (lines > DETAIL_OPEN)
		fputs("</details>", f);
}

static void checks_section(FILE *f, const struct checks *c)
{
	fputs("<section>\n<h2 id=\"checks\">Checks (--fail-on)</h2>\n", f);
	if (!c->n) {
		fputs("<p class=\"none\">No --fail-on check was given: nothing was judged.</p>\n"
		      "</section>\n", f);
		return;
	}
	fputs("<table id=\"check-table\">\n<tr><th>Check</th><th>Result</th><th>What was found"
	      "</th></tr>\n", f);
	for (int i = 0; i < c->n; i++) {
		const struct check *k = &c->v[i];

		fprintf(f, "<tr data-failed=\"%d\">", k->failed);
		td_esc(f, "m", k->name);
		fprintf(f, "<td><span class=\"badge %s\">%s</span></td><td>", k->failed ? "fail" :
			"pass", k->failed ? "FAIL" : "PASS");
		esc(f, k->summary);
		if (k->detail && *k->detail)
			detail(f, k->detail);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n</section>\n", f);
}

/* the timeline: bytes over time, step lines drawn in a plot area */

#define TL_W		1200	/* the viewBox; the page scales it to its width */
#define TL_H		330
#define TL_X0		66
#define TL_Y0		14
#define TL_PW		(TL_W - TL_X0 - 18)
#define TL_PH		(TL_H - TL_Y0 - 46)

struct axes {
	uint64_t tmax;			/* ns since the start at the right edge */
	uint64_t ymax;			/* bytes at the top */
};

static double ax_x(const struct axes *ax, uint64_t t)
{
	return TL_X0 + (t >= ax->tmax ? TL_PW : (double)t / ax->tmax * TL_PW);
}

/* a double: a usage (signed) and a grid line (up to UINT64_MAX) alike */
static double ax_y(const struct axes *ax, double b)
{
	return TL_Y0 + TL_PH - (b <= 0 ? 0 : (double)b / ax->ymax * TL_PH);
}

/* a time axis tick: 1, 2 or 5 x 10^k ns, at most 8 of them */
static uint64_t time_step(uint64_t tmax)
{
	static const int m[] = { 1, 2, 5 };

	for (uint64_t p = 1;; p *= 10)
		for (int i = 0; i < 3; i++)
			if (tmax / (p * m[i]) <= 8 || p >= 1000000000000000000ull)
				return p * m[i];
}

static void axes_draw(FILE *f, const struct axes *ax, uint64_t ystep)
{
	uint64_t tstep = time_step(ax->tmax), unit = 1000000000;
	int decimals = 0;
	char s[32];

	while (unit > 1 && tstep % unit) {
		unit /= 10;
		decimals++;
	}
	fputs("<g>", f);
	/* steps up to the edge, which a damaged recording may put near 2^64 */
	for (uint64_t b = 0;; b += ystep) {
		double y = ax_y(ax, b);

		fprintf(f, "<line class=\"g\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", TL_X0,
			TL_X0 + TL_PW, y, y, TL_X0 - 6, y + 4,
			trim0((char *)format_size(b, s, sizeof(s))));
		if (ax->ymax - b < ystep)
			break;
	}
	for (uint64_t t = 0;; t += tstep) {
		double x = ax_x(ax, t);

		fprintf(f, "<line class=\"g\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f s</text>", x, x,
			TL_Y0, TL_Y0 + TL_PH + 4, x, TL_Y0 + TL_PH + 17, decimals, t / 1e9);
		if (ax->tmax - t < tstep)
			break;
	}
	fprintf(f, "<line class=\"ax\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
		"<line class=\"ax\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the recording started"
		"</text></g>\n", TL_X0, TL_X0 + TL_PW, TL_Y0 + TL_PH, TL_Y0 + TL_PH, TL_X0, TL_X0,
		TL_Y0, TL_Y0 + TL_PH, TL_X0 + TL_PW / 2, TL_H - 6);
}

/* the pen goes to the lowest, the highest and the last bytes of a column */
static void column(FILE *f, const struct axes *ax, double x, int64_t lo, int64_t hi, int64_t last)
{
	fprintf(f, "H%.1fV%.1f", x, ax_y(ax, lo));
	if (hi != lo)
		fprintf(f, "V%.1f", ax_y(ax, hi));
	if (last != hi)
		fprintf(f, "V%.1f", ax_y(ax, last));
}

/*
 * Usage @use's bytes as a step line from 0 at the start. A series of more
 * steps than TL_MAX_POINTS / 2 is cut into TL_COLS columns: a column of
 * 2.2 px draws the same either way.
 */
static void series_path(FILE *f, const struct analysis *a, const struct axes *ax, size_t use)
{
	size_t count = 0, col = (size_t)-1;
	int64_t lo = 0, hi = 0, last = 0;
	double x = TL_X0, cx = 0;
	bool exact;

	for (size_t i = 0; i < a->nsteps; i++)
		count += a->steps[i].usage == use;
	exact = count * 2 <= TL_MAX_POINTS;
	fprintf(f, " d=\"M%d %.1f", TL_X0, ax_y(ax, 0));
	for (size_t i = 0; i < a->nsteps; i++) {
		const struct an_step *s = &a->steps[i];
		size_t c;

		if (s->usage != use)
			continue;
		/* events from per-CPU buffers come slightly out of order: never backwards */
		if (ax_x(ax, an_rel(a, s->ts)) > x)
			x = ax_x(ax, an_rel(a, s->ts));
		if (exact) {
			fprintf(f, "H%.1fV%.1f", x, ax_y(ax, s->bytes));
			continue;
		}
		c = (size_t)((x - TL_X0) * TL_COLS / TL_PW);
		if (c >= TL_COLS)
			c = TL_COLS - 1;
		if (c != col) {
			if (col != (size_t)-1)
				column(f, ax, cx, lo, hi, last);
			col = c;
			cx = x;
			lo = hi = s->bytes;
		}
		lo = s->bytes < lo ? s->bytes : lo;
		hi = s->bytes > hi ? s->bytes : hi;
		last = s->bytes;
	}
	if (col != (size_t)-1)
		column(f, ax, cx, lo, hi, last);
	fprintf(f, "H%d\"", TL_X0 + TL_PW);
}

static void swatch(FILE *f, size_t i)
{
	fprintf(f, "<svg width=\"26\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" y1=\"5\" "
		"x2=\"25\" y2=\"5\" stroke=\"%s\" stroke-width=\"3\"%s/></svg>",
		palette[i % NCOLORS], i >= NCOLORS ? " stroke-dasharray=\"5 3\"" : "");
}

/* failed allocations as red marks at the bottom of the plot */
static size_t fail_marks(FILE *f, const struct analysis *a, const struct axes *ax)
{
	size_t n = 0;
	char s1[16], s2[16];

	for (size_t i = 0; i < a->nallocs && n < TL_MAX_MARKS; i++) {
		const struct an_alloc *x = &a->allocs[i];

		if (!x->err)
			continue;
		fprintf(f, "<path class=\"mark\" d=\"M%.1f %dl4.5 9h-9z\"><title>failed at %s: ",
			ax_x(ax, an_rel(a, x->ts)), TL_Y0 + TL_PH - 9,
			format_ns(an_rel(a, x->ts), s1, sizeof(s1)));
		esc(f, x->heap);
		fprintf(f, " %s by pid %u (", format_size(x->requested, s2, sizeof(s2)), x->pid);
		esc(f, x->comm);
		fprintf(f, "), %s</title></path>\n", fail_class_name(x->fail_class));
		n++;
	}
	return n;
}

struct pick {
	uint64_t peak;
	size_t use;
};

static int cmp_peak(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;

	if (a->peak != b->peak)
		return (a->peak < b->peak) - (a->peak > b->peak);
	return (a->use > b->use) - (a->use < b->use);
}

static int cmp_use(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;

	return (a->use > b->use) - (a->use < b->use);
}

/* the one cgroup whose buffers of @heap were, or NULL */
static const struct an_usage *sole_cgroup(const struct analysis *a, const char *heap)
{
	const struct an_usage *one = NULL;

	for (size_t i = 0; i < a->nuse; i++)
		if (a->use[i].cgroup_id && !strcmp(a->use[i].heap, heap)) {
			if (one)
				return NULL;
			one = &a->use[i];
		}
	return one;
}

/*
 * Each heap's bytes in one cgroup: a chart per cgroup would draw the heaps'
 * again. Each heap's cgroup rows counted in its row of all cgroups, found
 * by the index (not a search per heap: a crafted recording may name
 * thousands).
 */
static bool sole_cgroups(const struct analysis *a)
{
	size_t *rows = calloc(a->nuse + 1, sizeof(*rows));
	bool sole = rows != NULL;

	for (size_t i = 0; sole && i < a->nuse; i++)
		if (a->use[i].cgroup_id)
			rows[an_usage_of(a, 0, a->use[i].heap) - a->use]++;
	for (size_t i = 0; sole && i < a->nuse; i++)
		sole = a->use[i].cgroup_id || rows[i] == 1;
	free(rows);
	return sole;
}

/* the heaps' bytes (usages of cgroup 0), or the cgroup x heaps' (the largest) */
static int timeline(FILE *f, const struct analysis *a, bool per_cgroup)
{
	bool sole = !per_cgroup && sole_cgroups(a);
	struct pick *p = calloc(a->nuse + 1, sizeof(*p));
	struct axes ax = {};
	uint64_t peak = 0, ystep = 1;
	size_t n = 0, all, marks = 0;
	char s1[16], s2[16];

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < a->nuse; i++)
		if (!!a->use[i].cgroup_id == per_cgroup && a->use[i].peak) {
			p[n++] = (struct pick){ a->use[i].peak, i };
			peak = a->use[i].peak > peak ? a->use[i].peak : peak;
		}
	all = n;
	if (n > TL_MAX_SERIES) {
		/* the largest, in the order of the heaps' chart (the same colours, often) */
		sort_ordered(p, n, sizeof(*p), cmp_peak);
		n = TL_MAX_SERIES;
		sort_ordered(p, n, sizeof(*p), cmp_use);
	}
	if (!n) {
		if (!per_cgroup)
			fputs("<p class=\"none\">No buffer was allocated while recorded.</p>\n", f);
		free(p);
		return 0;
	}
	ax.tmax = an_rel(a, a->last_ts);
	if (a->ended && an_rel(a, a->end.ts) > ax.tmax)
		ax.tmax = an_rel(a, a->end.ts);
	ax.tmax = ax.tmax ?: 1;
	while (peak / ystep > 5)
		ystep *= 2;
	ax.ymax = peak / ystep + 1 > UINT64_MAX / ystep ? UINT64_MAX : (peak / ystep + 1) * ystep;

	fprintf(f, "<figure>\n<h3>%s</h3>\n<svg id=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"%s\">\n", per_cgroup ? "Bytes per cgroup and heap" :
		"Bytes per heap, all cgroups", per_cgroup ? "timeline-cgroups" : "timeline",
		TL_W, TL_H, per_cgroup ? "bytes per cgroup and heap over time" :
		"bytes per heap over time");
	axes_draw(f, &ax, ystep);
	for (size_t i = 0; i < n; i++) {
		const struct an_usage *u = &a->use[p[i].use];

		fprintf(f, "<path class=\"series\" stroke=\"%s\"%s data-heap=\"",
			palette[i % NCOLORS], i >= NCOLORS ? " stroke-dasharray=\"7 4\"" : "");
		esc(f, u->heap);
		fputs("\" data-cgroup=\"", f);
		esc(f, u->cgroup_id ? an_cgroup_path(a, u->cgroup_id) : "");
		fputs("\"", f);
		series_path(f, a, &ax, p[i].use);
		fputs("><title>", f);
		esc(f, u->heap);
		fputs(" in ", f);
		esc(f, cgroup_label(a, u->cgroup_id));
		fprintf(f, ": peak %s at %s</title></path>\n", format_size(u->peak, s1, sizeof(s1)),
			format_ns(an_rel(a, u->peak_ts), s2, sizeof(s2)));
	}
	if (!per_cgroup)
		marks = fail_marks(f, a, &ax);
	fputs("</svg>\n<ul class=\"legend\">\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct an_usage *u = &a->use[p[i].use];

		fputs("<li>", f);
		swatch(f, i);
		fputs("<span>", f);
		if (per_cgroup) {
			esc(f, an_cgroup_path(a, u->cgroup_id));
			fputs(" &middot; ", f);
		}
		esc(f, u->heap);
		if (sole) {
			fputs(" <span class=\"mute\">in</span> <span class=\"m\">", f);
			esc(f, an_cgroup_path(a, sole_cgroup(a, u->heap)->cgroup_id));
			fputs("</span>", f);
		}
		fprintf(f, " <span class=\"mute\">peak %s</span></span></li>\n",
			format_size(u->peak, s1, sizeof(s1)));
	}
	if (marks) {
		fputs("<li><svg width=\"12\" height=\"10\" aria-hidden=\"true\"><path "
		      "d=\"M6 1l5 8h-10z\" fill=\"#cf222e\"/></svg><span>", f);
		if (marks < a->failed)
			fprintf(f, "the first %zu failed allocations", marks);
		else
			fprintf(f, "failed allocation%s", marks > 1 ? "s" : "");
		fputs("</span></li>\n", f);
	}
	fputs("</ul>\n", f);
	if (all > n)
		fprintf(f, "<p class=\"none\">The %zu largest of %zu %s series; the peaks table has "
			"them all.</p>\n", n, all, per_cgroup ? "cgroup and heap" : "heap");
	fputs("</figure>\n", f);
	free(p);
	return 0;
}

static int timeline_section(FILE *f, const struct analysis *a)
{
	int err;

	fputs("<section>\n<h2 id=\"timeline-section\">Bytes over time</h2>\n<p class=\"mute\">"
	      "Bytes of the buffers allocated while recorded and alive, from 0 at the start."
	      "</p>\n", f);
	err = timeline(f, a, false);
	if (!err && a->nuse && sole_cgroups(a))
		fputs("<p class=\"mute\">Each heap's buffers were all in one cgroup, named in the "
		      "legend: per cgroup, the chart would be the same.</p>\n", f);
	else if (!err)
		err = timeline(f, a, true);
	fputs("</section>\n", f);
	return err;
}

static void leaks_section(FILE *f, const struct analysis *a)
{
	char s1[16], s2[16], who[64];

	fprintf(f, "<section>\n<h2 id=\"leaks-section\">Leaks: %zu buffer%s, %s</h2>\n<p class="
		"\"mute\">Allocated while recorded and alive at the end.</p>\n", a->nleaks,
		a->nleaks == 1 ? "" : "s", format_size(a->leaked_bytes, s1, sizeof(s1)));
	fputs("<table id=\"leaks\">\n<tr><th class=\"n\">Inode</th><th>Heap</th><th class=\"n\">"
	      "Size</th><th class=\"n\">PID</th><th>Comm</th><th>Cgroup</th><th class=\"n\">"
	      "Allocated at</th><th>Held at the end by</th></tr>\n", f);
	for (size_t i = 0; i < a->nleaks && i < HTML_MAX_ROWS; i++) {
		const struct an_buffer *b = a->leaks[i];
		const char *const *frames;
		size_t nframes;

		fprintf(f, "<tr class=\"leak\" data-inode=\"%llu\"><td class=\"n\">%llu</td>",
			(unsigned long long)b->ino, (unsigned long long)b->ino);
		td_esc(f, NULL, b->heap);
		fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%u</td>",
			format_size(b->size, s1, sizeof(s1)), b->pid);
		td_esc(f, "m", b->comm);
		td_esc(f, "m", an_cgroup_path(a, b->cgroup_id));
		fprintf(f, "<td class=\"n\">%s</td>", format_ns(an_rel(a, b->ts), s2, sizeof(s2)));
		td_esc(f, NULL, an_held_by(b, who, sizeof(who)));
		fputs("</tr>\n", f);
		frames = b->stack_id ? an_stack(a, b->stack_id, &nframes) : NULL;
		if (!frames || !nframes)
			continue;
		fputs("<tr class=\"stack\"><td></td><td colspan=\"7\"><ol class=\"frames m\">", f);
		for (size_t k = 0; k < nframes; k++) {
			fputs("<li>", f);
			esc(f, frames[k]);
			fputs("</li>", f);
		}
		fputs("</ol></td></tr>\n", f);
	}
	if (!a->nleaks)
		fputs("<tr><td colspan=\"8\" class=\"none\">No leak: every buffer allocated while "
		      "recorded was released.</td></tr>\n", f);
	fputs("</table>\n", f);
	more_rows(f, a->nleaks, "leaks");
	fputs("</section>\n", f);
}

/* the rows' peaks; past HTML_MAX_ROWS the largest, in the recording's order */
static int peaks_section(FILE *f, const struct analysis *a)
{
	struct pick *p = calloc(a->nuse + 1, sizeof(*p));
	size_t rows = a->nuse;
	char s1[16], s2[16];

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < a->nuse; i++)
		p[i] = (struct pick){ a->use[i].peak, i };
	if (rows > HTML_MAX_ROWS) {
		sort_ordered(p, rows, sizeof(*p), cmp_peak);
		rows = HTML_MAX_ROWS;
		sort_ordered(p, rows, sizeof(*p), cmp_use);
	}
	fputs("<section>\n<h2 id=\"peaks\">Peaks</h2>\n<table id=\"peak-table\">\n<tr><th>Cgroup"
	      "</th><th>Heap</th><th class=\"n\">Peak</th><th class=\"n\">At</th><th>Alive then, "
	      "allocated by</th></tr>\n", f);
	for (size_t i = 0; i < rows; i++) {
		const struct an_usage *u = &a->use[p[i].use];
		struct an_holding *h;
		size_t n;

		if (an_held_at(a, u->heap, u->cgroup_id, u->peak_ts, &h, &n)) {
			free(p);
			return -ENOMEM;
		}
		fputs("<tr>", f);
		td_esc(f, u->cgroup_id ? "m" : "mute", cgroup_label(a, u->cgroup_id));
		td_esc(f, NULL, u->heap);
		fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%s</td><td>",
			format_size(u->peak, s1, sizeof(s1)),
			format_ns(an_rel(a, u->peak_ts), s2, sizeof(s2)));
		for (size_t k = 0; k < n && k < HOLDERS_SHOWN; k++) {
			fprintf(f, "<div>pid %u <span class=\"m\">", h[k].pid);
			esc(f, h[k].comm);
			fputs("</span>", f);
			if (!u->cgroup_id) {
				fputs(" in <span class=\"m\">", f);
				esc(f, an_cgroup_path(a, h[k].cgroup_id));
				fputs("</span>", f);
			}
			fprintf(f, ": %s in %llu buffer%s</div>",
				format_size(h[k].bytes, s1, sizeof(s1)),
				(unsigned long long)h[k].buffers, h[k].buffers == 1 ? "" : "s");
		}
		if (n > HOLDERS_SHOWN)
			fprintf(f, "<div class=\"mute\">and %zu more</div>", n - HOLDERS_SHOWN);
		fputs("</td></tr>\n", f);
		free(h);
	}
	free(p);
	fputs("</table>\n", f);
	more_rows(f, a->nuse, "cgroup x heap peaks");
	if (!a->nuse)
		fputs("<p class=\"none\">No buffer was allocated while recorded.</p>\n", f);
	fputs("</section>\n", f);
	return 0;
}

static void limits_table(FILE *f, const struct analysis *a)
{
	char s[4][16];

	fprintf(f, "<h3>Refused by a limit: %zu</h3>\n<table id=\"limits\">\n<tr><th class=\"n\">"
		"At</th><th class=\"n\">PID</th><th>Cgroup</th><th>Whose limit</th><th>Heap</th>"
		"<th class=\"n\">Requested</th><th class=\"n\">Usage then</th><th class=\"n\">Limit"
		"</th><th>By</th></tr>\n", a->nlimits);
	for (size_t i = 0; i < a->nlimits && i < HTML_MAX_ROWS; i++) {
		const struct rec_limit *l = &a->limits[i];

		fprintf(f, "<tr><td class=\"n\">%s</td><td class=\"n\">%u</td>",
			format_ns(an_rel(a, l->ts), s[0], 16), l->pid);
		td_esc(f, "m", an_cgroup_path(a, l->cgroup_id));
		td_esc(f, "m", an_limit_cgroup(a, l) ?: "-");
		td_esc(f, NULL, l->heap);
		fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			"<td>%s</td></tr>\n", format_size(l->requested, s[1], 16),
			an_limit_known(l) ? format_size(l->usage, s[2], 16) : "-",
			an_limit_known(l) ? format_size(l->limit, s[3], 16) : "-",
			a->in_ioctl[i] ? "bpf-lsm, <em>in the ioctl</em>" : an_limit_backend(l->backend));
	}
	fputs("</table>\n", f);
	more_rows(f, a->nlimits, "refusals");
}

static void failures_section(FILE *f, const struct analysis *a)
{
	char s1[16], s2[16];
	size_t shown = 0;

	fprintf(f, "<section>\n<h2 id=\"failures-section\">Failed allocations: %llu</h2>\n"
		"<table id=\"failure-classes\" style=\"width:auto\">\n<tr>",
		(unsigned long long)(a->failed + a->ioctl_refusals));
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		fprintf(f, "<th class=\"n\">%s</th>", fail_class_name(c));
	fputs("</tr>\n<tr>", f);
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		fprintf(f, "<td class=\"n\"%s>%llu</td>", a->failures[c] ?
			" style=\"color:var(--bad);font-weight:bold\"" : "",
			(unsigned long long)a->failures[c]);
	fputs("</tr>\n</table>\n", f);
	if (a->ioctl_refusals)	/* no alloc record has them */
		fprintf(f, "<p>%llu refused by a bpf-lsm limit in the ioctl, before the heap was "
			"asked: among the refusals below (<em>in the ioctl</em>), not in this table.</p>\n",
			(unsigned long long)a->ioctl_refusals);
	if (!a->failed && !a->ioctl_refusals) {
		fputs("<p class=\"none\">Every allocation succeeded.</p>\n", f);
	} else if (a->failed) {
		fputs("<table id=\"failures\">\n<tr><th class=\"n\">At</th><th>Heap</th><th class="
		      "\"n\">Requested</th><th class=\"n\">PID</th><th>Comm</th><th>Cgroup</th>"
		      "<th>Error</th><th>Class</th></tr>\n", f);
		for (size_t i = 0; i < a->nallocs && shown < HTML_MAX_ROWS; i++) {
			const struct an_alloc *x = &a->allocs[i];

			if (!x->err)
				continue;
			fprintf(f, "<tr data-class=\"%s\"><td class=\"n\">%s</td>",
				fail_class_name(x->fail_class),
				format_ns(an_rel(a, x->ts), s1, sizeof(s1)));
			td_esc(f, NULL, x->heap);
			fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%u</td>",
				format_size(x->requested, s2, sizeof(s2)), x->pid);
			td_esc(f, "m", x->comm);
			td_esc(f, "m", an_cgroup_path(a, x->cgroup_id));
			td_esc(f, NULL, an_error_text(x->err));
			fprintf(f, "<td>%s</td></tr>\n", fail_class_name(x->fail_class));
			shown++;
		}
		fputs("</table>\n", f);
		more_rows(f, a->failed, "failed allocations");
	}
	if (a->nlimits)
		limits_table(f, a);
	fputs("</section>\n", f);
}

/* histograms of latencies or lifetimes: buckets a quarter decade wide */

static const uint32_t hb_edge[HB_DECADE] = { 10000, 17783, 31623, 56234 };	/* 10^(i/4) */

static int hb_of(uint64_t v)
{
	unsigned __int128 q;
	uint64_t p = 1;
	int k = 0, i;

	if (!v)
		return 0;
	while (v / p >= 10) {
		p *= 10;
		k++;
	}
	q = (unsigned __int128)v * 10000 / p;
	for (i = HB_DECADE - 1; i > 0 && q < hb_edge[i]; i--)
		;
	return k * HB_DECADE + i;
}

/* the lower edge of bucket @b */
static double hb_low(int b)
{
	double p = 1;

	for (int k = 0; k < b / HB_DECADE; k++)
		p *= 10;
	return p * hb_edge[b % HB_DECADE] / 10000;
}

/* a bucket edge as ns, for its label */
static uint64_t hb_ns(int b)
{
	double v = hb_low(b) + 0.5;

	return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

#define HG_W		560
#define HG_H		136
#define HG_X0		34
#define HG_Y0		16
#define HG_PW		(HG_W - HG_X0 - 24)
#define HG_PH		(HG_H - HG_Y0 - 26)

static double hg_x(int b0, int nb, uint64_t v)
{
	int b = hb_of(v);
	double lo = hb_low(b), hi = hb_low(b + 1), frac = v > lo ? (v - lo) / (hi - lo) : 0;

	return HG_X0 + (b - b0 + (frac < 1 ? frac : 1)) * HG_PW / nb;
}

static void histogram(FILE *f, const struct an_dist *d, int b0, int b1)
{
	static const struct { double pct; const char *name, *anchor; int dx; } marks[] = {
		{ 50, "p50", "end", -2 }, { 99, "p99", "start", 2 },
	};
	int nb = b1 - b0 + 1, c[HB_MAX + 1] = {}, cmax = 1;
	double bw = (double)HG_PW / nb;
	char s1[16], s2[16];

	for (size_t i = 0; i < d->n; i++)
		c[hb_of(d->v[i]) - b0]++;
	for (int b = 0; b < nb; b++)
		cmax = c[b] > cmax ? c[b] : cmax;
	fprintf(f, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"histogram\">\n", HG_W,
		HG_H);
	for (int b = 0; b < nb; b++) {
		double h = (double)c[b] / cmax * HG_PH;

		if (!c[b])
			continue;
		snprintf(s1, sizeof(s1), "%s", format_ns(hb_ns(b0 + b), s2, sizeof(s2)));
		fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\"><title>%s to %s: %d</title></rect>\n",
			HG_X0 + b * bw + 0.5,
			HG_Y0 + HG_PH - h, bw > 2 ? bw - 1 : bw, h, s1,
			format_ns(hb_ns(b0 + b + 1), s2, sizeof(s2)), c[b]);
	}
	for (int b = 0; b <= nb; b += HB_DECADE) {
		double x = HG_X0 + b * bw;

		fprintf(f, "<line class=\"ax\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, x,
			HG_Y0 + HG_PH, HG_Y0 + HG_PH + 4, x, HG_Y0 + HG_PH + 16,
			trim0((char *)format_ns(hb_ns(b0 + b), s1, sizeof(s1))));
	}
	fprintf(f, "<line class=\"ax\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d</text>"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", HG_X0, HG_X0 + HG_PW,
		HG_Y0 + HG_PH, HG_Y0 + HG_PH, HG_X0 - 4, HG_Y0 + 4, cmax, HG_X0 - 4, HG_Y0 + HG_PH);
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		uint64_t v = an_percentile(d, marks[i].pct);
		double x = hg_x(b0, nb, v);

		fprintf(f, "<line class=\"pct\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s<title>%s %s</title>"
			"</text>\n",
			x, x, HG_Y0 - 2, HG_Y0 + HG_PH, x + marks[i].dx, HG_Y0 - 5, marks[i].anchor,
			marks[i].name, marks[i].name, format_ns(v, s1, sizeof(s1)));
	}
	fputs("</svg>\n", f);
}

static void dists_section(FILE *f, const struct analysis *a, bool latency)
{
	const struct an_dist *v = latency ? a->latency : a->lifetime;
	size_t nv = latency ? a->nlatency : a->nlifetime;
	int b0 = HB_MAX, b1 = 0;
	char s[4][16];

	fprintf(f, "<section>\n<h2 id=\"%s\">%s</h2>\n<table id=\"%s-table\">\n<tr><th>Heap</th>"
		"<th class=\"n\">%s</th><th class=\"n\">p50</th><th class=\"n\">p90</th>"
		"<th class=\"n\">p99</th><th class=\"n\">Max</th></tr>\n",
		latency ? "latency" : "lifetimes",
		latency ? "Allocation latency" : "Buffer lifetimes",
		latency ? "latency" : "lifetimes", latency ? "Allocations" : "Released");
	for (size_t i = 0; i < a->nuse; i++) {
		const struct an_usage *u = &a->use[i];
		const struct an_dist *d = (latency ? an_latency : an_lifetime)(a, u->heap);

		if (u->cgroup_id)
			continue;
		fputs("<tr>", f);
		td_esc(f, NULL, u->heap);
		if (!d || !d->n) {
			fputs("<td class=\"n\">0</td><td class=\"n\">-</td><td class=\"n\">-</td>"
			      "<td class=\"n\">-</td><td class=\"n\">-</td></tr>\n", f);
			continue;
		}
		fprintf(f, "<td class=\"n\">%zu</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			"<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", d->n,
			format_ns(an_percentile(d, 50), s[0], 16),
			format_ns(an_percentile(d, 90), s[1], 16),
			format_ns(an_percentile(d, 99), s[2], 16),
			format_ns(d->v[d->n - 1], s[3], 16));
	}
	fputs("</table>\n", f);
	/* one scale for every heap's histogram, whole decades */
	for (size_t i = 0; i < nv; i++)
		if (v[i].n) {
			b0 = hb_of(v[i].v[0]) < b0 ? hb_of(v[i].v[0]) : b0;
			b1 = hb_of(v[i].v[v[i].n - 1]) > b1 ? hb_of(v[i].v[v[i].n - 1]) : b1;
		}
	if (b0 > b1) {
		fprintf(f, "<p class=\"none\">%s</p>\n</section>\n", latency ?
			"No allocation succeeded." :
			"No buffer allocated while recorded was released.");
		return;
	}
	b0 -= b0 % HB_DECADE;
	b1 += HB_DECADE - 1 - b1 % HB_DECADE;
	fputs("<div class=\"hists\">\n", f);
	for (size_t i = 0; i < a->nuse; i++) {
		const struct an_usage *u = &a->use[i];
		const struct an_dist *d = (latency ? an_latency : an_lifetime)(a, u->heap);

		if (u->cgroup_id || !d || !d->n)
			continue;
		fputs("<div class=\"hist\"><h3>", f);
		esc(f, u->heap);
		fprintf(f, " <span class=\"mute\">%zu %s &middot; p50 %s &middot; p99 %s</span>"
			"</h3>\n", d->n, latency ? "allocations" : "released",
			format_ns(an_percentile(d, 50), s[0], 16),
			format_ns(an_percentile(d, 99), s[1], 16));
		histogram(f, d, b0, b1);
		fputs("</div>\n", f);
	}
	fputs("</div>\n</section>\n", f);
}

static int page(FILE *f, const struct analysis *a, const struct checks *c)
{
	int err;

	head(f, a);
	header(f, a, c);
	checks_section(f, c);
	err = timeline_section(f, a);
	if (err)
		return err;
	leaks_section(f, a);
	err = peaks_section(f, a);
	if (err)
		return err;
	failures_section(f, a);
	dists_section(f, a, true);
	dists_section(f, a, false);
	fprintf(f, "<footer>heapstat %s analyze. This page is one file: nothing in it is loaded "
		"from anywhere else.</footer>\n</main>\n</body>\n</html>\n", HEAPSTAT_VERSION);
	return 0;
}

int html_write(const struct analysis *a, const struct checks *c, const char *path, char *why,
	       size_t why_len)
{
	struct out_file o;
	int err = out_file_open(&o, path, a->file, why, why_len);

	if (err)
		return err;
	err = page(o.f, a, c);
	if (err)
		snprintf(why, why_len, "failed to write %s: %s", text_safe(path), strerror(-err));
	return out_file_close(&o, err, why, why_len);
}
