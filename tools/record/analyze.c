// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat analyze: what a recording (heapstat record) says about its run,
 * as the analysis (analysis.c) computes it: leaks (buffers allocated during
 * it and alive at its end, with who held them then, or nobody), the peak of
 * each cgroup x heap, when and whose allocations made it, the failed
 * allocations by class and the limits' refusals, allocation latencies and
 * buffer lifetimes per heap. --fail-on (checks.c) turns them into an exit
 * status for CI, --junit (junit.c) into a report for CI's test views,
 * --perfetto (perfetto.c) into a Perfetto trace. A recording cut short (a
 * recorder killed) is analysed up to its last whole record, said so, and
 * exits 3.
 */
#include <argp.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "heapstat.h"
#include "lib/errors.h"
#include "lib/inventory.h"
#include "lib/json.h"
#include "lib/text.h"
#include "lib/util.h"
#include "analysis.h"
#include "checks.h"
#include "html.h"
#include "junit.h"
#include "perfetto.h"

#define EXIT_TRUNCATED	3

static const char doc[] =
"Analyse a recording of heapstat record: the buffers allocated during the run\n"
"and alive at its end (leaks), with who held them then; the peak of each\n"
"cgroup x heap and of each heap, when, and whose allocations made it; the\n"
"failed allocations by class, and whose limit refused those a limit did;\n"
"allocation latency (p50/p90/p99/max) and buffer lifetimes per heap.\n"
"\n"
"--fail-on makes the exit status 1 when a check fails: leaks (any),\n"
"failures (any failed allocation), peak:HEAP>SIZE (the heap's peak over all\n"
"cgroups), p99:HEAP>TIME (the heap's allocation latency; TIME in ms, or with\n"
"ns, us, ms, s). A recording cut short is analysed up to its cut and exits 3.\n"
"--html writes all of it and the checks as one self-contained page.\n"
"\n"
"--junit writes the checks as JUnit XML for CI test reporters, a testcase\n"
"each, plus a testcase \"recording\" that fails when the recording was cut\n"
"short or lost events. Without --fail-on it judges leaks and failures, and\n"
"the exit status stays 0 when they fail: only --fail-on sets it. A\n"
"recording that cannot be read gets a report of that one error.\n"
"\n"
"--perfetto writes a Perfetto trace (ui.perfetto.dev): a counter of bytes per\n"
"heap and per cgroup x heap, CMA pages per area, a slice per allocation on\n"
"its thread, failures and limit refusals as instants.\n"
"\n"
"USAGE: heapstat analyze FILE [-j] [--fail-on CHECKS] [--junit OUT.xml]\n"
"                        [--perfetto OUT] [--html OUT.html]\n"
"\n"
"EXAMPLES:\n"
"    heapstat analyze run.hsrec\n"
"    heapstat analyze run.hsrec -j\n"
"    heapstat analyze run.hsrec --fail-on 'leaks,failures,peak:system>64M'\n"
"    heapstat analyze run.hsrec --fail-on 'p99:system>5ms'\n"
"    heapstat analyze run.hsrec --fail-on leaks --junit report.xml\n"
"    heapstat analyze run.hsrec --perfetto run.pftrace\n"
"    heapstat analyze run.hsrec --fail-on leaks --html report.html\n";

static struct analyze_opts {
	const char *file;
	bool json;
	const char *junit;
	const char *perfetto;
	const char *html;
	struct checks checks;
} opts;

enum { OPT_FAIL_ON = 0x100, OPT_JUNIT, OPT_PERFETTO, OPT_HTML };

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "Print JSON", 0 },
	{ "fail-on", OPT_FAIL_ON, "CHECKS", 0,
	  "Exit 1 when one fails: leaks, failures, peak:HEAP>SIZE, p99:HEAP>TIME "
	  "(comma-separated)", 0 },
	{ "junit", OPT_JUNIT, "OUT.xml", 0,
	  "Write the checks (leaks, failures without --fail-on) as JUnit XML", 0 },
	{ "perfetto", OPT_PERFETTO, "OUT", 0, "Write a Perfetto trace (protobuf) to OUT", 0 },
	{ "html", OPT_HTML, "OUT.html", 0, "Also write a self-contained HTML report", 0 },
	{ NULL, 'h', NULL, 0, "Show this help", -1 },
	{},
};

/* where a file not made yet would be: its directory (0 when there is none) and its name */
static const char *file_place(const char *path, struct stat *dir)
{
	const char *slash = strrchr(path, '/');
	char d[PATH_MAX];

	snprintf(d, sizeof(d), "%.*s", slash ? (int)(slash - path + 1) : 1, slash ? path : ".");
	if (stat(d, dir))
		memset(dir, 0, sizeof(*dir));
	return slash ? slash + 1 : path;
}

/* names one file: the same regular file, or the same name in one directory of none yet */
static bool one_file(const char *a, const char *b)
{
	struct stat sa, sb;
	bool ea = !stat(a, &sa), eb = !stat(b, &sb);
	const char *na, *nb;

	if (ea || eb)
		return ea && eb && S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev &&
		       sa.st_ino == sb.st_ino;
	na = file_place(a, &sa);
	nb = file_place(b, &sb);
	return !strcmp(na, nb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Every file to write refused before anything is read or printed: one
 * unnamed, the recording itself (out_file_open() checks again as it opens),
 * or two naming one, the last written would be all of it.
 */
static void outputs_apart(struct argp_state *state)
{
	const char *out[] = { opts.html, opts.junit, opts.perfetto };
	static const char *const opt[] = { "--html", "--junit", "--perfetto" };

	for (int i = 0; i < 3; i++) {
		if (out[i] && !*out[i])
			argp_error(state, "%s: an empty file name: give one", opt[i]);
		if (out[i] && !access(opts.file, F_OK) && one_file(out[i], opts.file))
			argp_error(state, "%s %s is the recording: not writing over it", opt[i],
				   text_safe(out[i]));
	}
	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (out[i] && out[k] && one_file(out[i], out[k]))
				argp_error(state, "%s and %s both write %s: give each its own file",
					   opt[i], opt[k], text_safe(out[k]));
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char why[256];

	switch (key) {
	case 'j': opts.json = true; break;
	case OPT_FAIL_ON:
		if (checks_parse(&opts.checks, arg, why, sizeof(why)))
			argp_error(state, "--fail-on: %s", why);
		break;
	case OPT_JUNIT:
	case OPT_PERFETTO:
	case OPT_HTML: {	/* one file each: a second would silently win */
		const char **o = key == OPT_JUNIT ? &opts.junit :
				 key == OPT_PERFETTO ? &opts.perfetto : &opts.html;

		if (*o)
			argp_error(state, "--%s given twice: one file each", key == OPT_JUNIT ?
				   "junit" : key == OPT_PERFETTO ? "perfetto" : "html");
		*o = arg;
		break;
	}
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		if (opts.file)
			argp_error(state, "one recording at a time");
		opts.file = arg;
		break;
	case ARGP_KEY_END:
		if (!opts.file)
			argp_error(state, "give the recording to analyse");
		if (!*opts.file)
			argp_error(state, "an empty file name: give the recording to analyse");
		outputs_apart(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void print_dists(const struct analysis *a)
{
	char v[5][16];
	size_t w = 20;

	for (size_t i = 0; i < a->nlatency; i++)
		w = text_cell_width(a->latency[i].heap, w);
	printf("\n%-*s %8s %10s %10s %10s %10s %10s\n", (int)w, "HEAP", "ALLOCS", "LAT-P50",
	       "LAT-P90", "LAT-P99", "LAT-MAX", "LIFE-P50");
	for (size_t i = 0; i < a->nlatency; i++) {
		const struct an_dist *d = &a->latency[i], *l = an_lifetime(a, d->heap);

		printf("%s %8zu %10s %10s %10s %10s %10s\n", text_cell(d->heap, w), d->n,
		       format_ns(an_percentile(d, 50), v[0], 16), format_ns(an_percentile(d, 90), v[1], 16),
		       format_ns(an_percentile(d, 99), v[2], 16), format_ns(an_percentile(d, 100), v[3], 16),
		       l ? format_ns(an_percentile(l, 50), v[4], 16) : "-");
	}
}

static int print_cma(const struct analysis *a)
{
	struct an_cma_summary *v;
	size_t n;
	char s[6][16];
	size_t w = 20;

	if (an_cma_summaries(a, &v, &n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		w = text_cell_width(v[i].area, w);
	if (n)
		printf("\n%-*s %8s %10s %10s %10s %12s %9s\n", (int)w, "CMA AREA", "TOTAL",
		       "USED-START", "USED-END", "USED-MAX", "LARGEST-MIN", "FRAG-MAX");
	if (a->hdr->untraced & REC_UNTRACED_CMA)
		printf("%sCMA's allocations and releases: not traced on the recording's kernel\n",
		       n ? "" : "\n");
	for (size_t i = 0; i < n; i++) {
		printf("%s %8s %10s %10s %10s ", text_cell(v[i].area, w),
		       format_size(v[i].total_bytes, s[0], 16), format_size(v[i].first->used_bytes, s[1], 16),
		       format_size(v[i].last->used_bytes, s[2], 16), format_size(v[i].used_max, s[3], 16));
		if (v[i].extents)
			printf("%12s %8.1f%%\n", format_size(v[i].largest_free_min, s[4], 16),
			       v[i].fragmentation_max * 100);
		else
			printf("%12s %9s\n", "-", "-");
	}
	free(v);
	return 0;
}

static int json_cma(struct json *j, const struct analysis *a)
{
	struct an_cma_summary *v;
	size_t n;

	if (an_cma_summaries(a, &v, &n))
		return -ENOMEM;
	json_key(j, "cma");
	json_array(j);
	for (size_t i = 0; i < n; i++) {
		json_object(j);
		json_kstr(j, "area", v[i].area);
		json_ku64(j, "total_bytes", v[i].total_bytes);
		json_ku64(j, "samples", v[i].samples);
		json_ku64(j, "used_bytes_start", v[i].first->used_bytes);
		json_ku64(j, "used_bytes_end", v[i].last->used_bytes);
		json_ku64(j, "used_bytes_max", v[i].used_max);
		json_ku64_or_null(j, "largest_free_bytes_min", v[i].extents, v[i].largest_free_min);
		json_key(j, "fragmentation_max");
		if (v[i].extents)
			json_double(j, v[i].fragmentation_max);
		else
			json_null(j);
		json_ku64_or_null(j, "fragmentation_max_at_ns", v[i].extents,
				  an_rel(a, v[i].fragmentation_max_ts));
		json_ku64(j, "busy_retries", v[i].busy);
		json_end(j);
	}
	json_end(j);
	free(v);
	return 0;
}

/*
 * A stack's frames, indented under the row they are the stack of; a stack
 * shown above, one line saying where (@where, by stack: the row it was
 * first shown under, @here; NULL: every one whole). A loop's leaks share
 * theirs: each whole was as many copies (and a crafted recording's, of 256
 * frames of 1 KB, 260 KB a row).
 */
static void print_stack(const struct analysis *a, uint32_t id, char (*where)[48],
			const char *here)
{
	size_t k = an_stack_index(a, id);

	if (k == SIZE_MAX)
		return;
	if (where && where[k][0]) {
		printf("        (the stack of %s, above)\n", where[k]);
		return;
	}
	if (where)
		snprintf(where[k], sizeof(where[k]), "%s", here);
	for (size_t i = 0; i < a->stacks[k].n; i++)
		printf("        %s\n", text_safe(a->stacks[k].frames[i]));
}

/* "stack": the frames, when the allocation has a stack */
static void json_stack(struct json *j, const struct analysis *a, uint32_t id)
{
	size_t n;
	const char *const *f = an_stack(a, id, &n);

	if (!f)
		return;
	json_key(j, "stack");
	json_array(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, f[i]);
	json_end(j);
}

/* the allocations a limit refused, and whose limit */
static void print_limits(const struct analysis *a)
{
	char s[4][16];
	size_t wcg = 24, wlim = 24, wheap = 20;

	for (size_t i = 0; i < a->nlimits; i++) {
		wcg = text_cell_width(an_cgroup_path(a, a->limits[i].cgroup_id), wcg);
		wlim = text_cell_width(an_limit_cgroup(a, &a->limits[i]) ?: "-", wlim);
		wheap = text_cell_width(a->limits[i].heap, wheap);
	}
	printf("\nREFUSED BY A LIMIT: %zu\n", a->nlimits);
	if (a->nlimits)
		printf("%12s %7s %-*s %-*s %-*s %9s %9s %9s %s\n", "AT", "PID", (int)wcg, "CGROUP",
		       (int)wlim, "WHOSE LIMIT", (int)wheap, "HEAP", "REQUESTED", "USAGE", "LIMIT",
		       "BACKEND");
	for (size_t i = 0; i < a->nlimits; i++) {
		const struct rec_limit *l = &a->limits[i];

		bool known = an_limit_known(l);

		printf("%12s %7u %s %s %s %9s %9s %9s %s\n",
		       format_ns(an_rel(a, l->ts), s[0], 16), l->pid,
		       text_cell(an_cgroup_path(a, l->cgroup_id), wcg),
		       text_cell(an_limit_cgroup(a, l) ?: "-", wlim),
		       text_cell(l->heap, wheap), format_size(l->requested, s[1], 16),
		       known ? format_size(l->usage, s[2], 16) : "-",
		       known ? format_size(l->limit, s[3], 16) : "-",
		       a->in_ioctl[i] ? "bpf-lsm, in the ioctl" : an_limit_backend(l->backend));
	}
}

/* a usage row's cgroup: "(all)" for the sum over every cgroup */
static const char *use_cgroup(const struct analysis *a, const struct an_usage *u)
{
	return u->cgroup_id ? an_cgroup_path(a, u->cgroup_id) : "(all)";
}

static int print_text(const struct analysis *a)
{
	char s1[16], s2[16], s3[16], who[64], how[64], here[48];
	size_t wheap = 20, wcomm = 16, wcg = 24;
	char (*where)[48] = calloc(a->nstacks ?: 1, sizeof(*where));	/* NULL: each whole */

	printf("recording %s: kernel %s, host %s, command '%s' (%s)\n", text_safe(a->file),
	       text_safe(a->hdr->kernel), text_safe(a->hdr->host), text_safe(a->hdr->command),
	       an_end_text(a, how, sizeof(how)));
	/* on the clock of every "AT" below: from the recording's start */
	printf("%llu event%s over %s (%s to %s from the start), %llu lost\n",
	       (unsigned long long)a->events, a->events == 1 ? "" : "s",
	       format_ns(an_span(a), s1, sizeof(s1)),
	       format_ns(an_rel(a, a->first_ts), s2, sizeof(s2)),
	       format_ns(an_rel(a, a->last_ts), s3, sizeof(s3)), (unsigned long long)a->drops);
	if (a->truncated)
		printf("CUT SHORT at byte %llu: analysed up to there\n", (unsigned long long)a->cut);
	printf("\nLEAKS: %zu buffer%s, %s (allocated while recorded, alive at the end)\n", a->nleaks,
	       a->nleaks == 1 ? "" : "s", format_size(a->leaked_bytes, s1, sizeof(s1)));
	for (size_t i = 0; i < a->nleaks; i++) {
		wheap = text_cell_width(a->leaks[i]->heap, wheap);
		wcomm = text_cell_width(a->leaks[i]->comm, wcomm);
		wcg = text_cell_width(an_cgroup_path(a, a->leaks[i]->cgroup_id), wcg);
	}
	if (a->nleaks)
		printf("%10s %-*s %8s %7s %-*s %-*s %s\n", "INODE", (int)wheap, "HEAP", "SIZE", "PID",
		       (int)wcomm, "COMM", (int)wcg, "CGROUP", "HELD AT THE END BY");
	for (size_t i = 0; i < a->nleaks; i++) {
		const struct an_buffer *b = a->leaks[i];

		printf("%10llu %s %8s %7u %s %s %s\n", (unsigned long long)b->ino,
		       text_cell(b->heap, wheap), format_size(b->size, s1, sizeof(s1)), b->pid,
		       text_cell(b->comm, wcomm), text_cell(an_cgroup_path(a, b->cgroup_id), wcg),
		       an_held_by(b, who, sizeof(who)));
		snprintf(here, sizeof(here), "inode %llu", (unsigned long long)b->ino);
		print_stack(a, b->stack_id, where, here);
	}
	wcg = 24, wheap = 20;
	for (size_t i = 0; i < a->nuse; i++) {
		wcg = text_cell_width(use_cgroup(a, &a->use[i]), wcg);
		wheap = text_cell_width(a->use[i].heap, wheap);
	}
	printf("\n%-*s %-*s %10s %12s\n", (int)wcg, "CGROUP", (int)wheap, "HEAP", "PEAK", "AT");
	for (size_t i = 0; i < a->nuse; i++) {
		const struct an_usage *u = &a->use[i];

		printf("%s %s %10s %12s\n", text_cell(use_cgroup(a, u), wcg), text_cell(u->heap, wheap),
		       format_size(u->peak, s1, sizeof(s1)), format_ns(an_rel(a, u->peak_ts), s2, sizeof(s2)));
	}
	if (a->hdr->untraced & REC_UNTRACED_FDS)
		printf("\nFDS: not traced (the recording's kernel has no dma_buf_fd tracepoints: "
		       "7.0+)\n");
	else
		printf("\nFDS: %llu made, %llu taken by the kernel (importers), %llu mappings\n",
		       (unsigned long long)a->fds[REC_FD_MADE],
		       (unsigned long long)a->fds[REC_FD_TAKEN],
		       (unsigned long long)a->fds[REC_FD_MMAP]);
	printf("\nFAILURES: %llu", (unsigned long long)a->failed);
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		printf("  %s %llu", fail_class_name(c), (unsigned long long)a->failures[c]);
	printf("\n");
	if (a->ioctl_refusals)	/* no alloc record has them: the heap was never asked */
		printf("and %llu refused by a bpf-lsm limit in the ioctl (REFUSED BY A LIMIT)\n",
		       (unsigned long long)a->ioctl_refusals);
	/* with stacks (record --stacks): where each failed */
	for (size_t i = 0; i < a->nallocs; i++) {
		const struct an_alloc *x = &a->allocs[i];

		if (!x->err || !an_stack(a, x->stack_id, &(size_t){ 0 }))
			continue;
		printf("%s %8s %7u %s %s at %s\n", text_cell(x->heap, 20),
		       format_size(x->requested, s1, sizeof(s1)), x->pid, text_cell(x->comm, 16),
		       fail_class_name(x->fail_class), format_ns(an_rel(a, x->ts), s2, sizeof(s2)));
		snprintf(here, sizeof(here), "the failure at %s", s2);
		print_stack(a, x->stack_id, where, here);
	}
	free(where);
	print_limits(a);
	print_dists(a);
	return print_cma(a);	/* -ENOMEM: said, exit 1 (not a table left out) */
}

static void json_dist(struct json *j, const char *key, const struct an_dist *d)
{
	json_key(j, key);
	if (!d || !d->n) {
		json_null(j);
		return;
	}
	json_object(j);
	json_ku64(j, "count", d->n);
	json_ku64(j, "p50_ns", an_percentile(d, 50));
	json_ku64(j, "p90_ns", an_percentile(d, 90));
	json_ku64(j, "p99_ns", an_percentile(d, 99));
	json_ku64(j, "max_ns", an_percentile(d, 100));
	json_end(j);
}

static int json_peak_holders(struct json *j, const struct analysis *a, const struct an_usage *u)
{
	struct an_holding *h;
	size_t n;

	if (an_held_at(a, u->heap, u->cgroup_id, u->peak_ts, &h, &n))
		return -ENOMEM;
	json_key(j, "held_then");
	json_array(j);
	for (size_t i = 0; i < n; i++) {
		json_object(j);
		json_ku64(j, "pid", h[i].pid);
		json_kstr(j, "comm", h[i].comm);
		json_kstr(j, "cgroup", an_cgroup_path(a, h[i].cgroup_id));
		json_ku64(j, "bytes", h[i].bytes);
		json_ku64(j, "buffers", h[i].buffers);
		json_end(j);
	}
	json_end(j);
	free(h);
	return 0;
}

static int print_json(const struct analysis *a)
{
	bool fds = !(a->hdr->untraced & REC_UNTRACED_FDS);	/* else their counts unknown */
	struct json j;
	int err = 0;

	json_init(&j, stdout);
	json_object(&j);
	json_key(&j, "recording");
	json_object(&j);
	json_kstr(&j, "kernel", a->hdr->kernel);
	json_kstr(&j, "host", a->hdr->host);
	json_kstr(&j, "command", a->hdr->command);
	json_key(&j, "exit");
	if (a->ended && a->end.how == REC_END_EXITED)
		json_i64(&j, a->end.code);
	else
		json_null(&j);
	json_key(&j, "signal");
	if (a->ended && a->end.how == REC_END_SIGNALED)
		json_i64(&j, a->end.code);
	else
		json_null(&j);
	json_kbool(&j, "command_running", a->ended && a->end.how == REC_END_RUNNING);
	json_kbool(&j, "command_not_started", a->ended && a->end.how == REC_END_NOT_STARTED);
	json_ku64(&j, "events", a->events);
	json_ku64(&j, "drops", a->drops);
	json_ku64(&j, "duration_ns", an_span(a));
	/* from the recording's start, as every at_ns */
	json_ku64_or_null(&j, "first_event_ns", a->events, an_rel(a, a->first_ts));
	json_ku64_or_null(&j, "last_event_ns", a->events, an_rel(a, a->last_ts));
	json_kbool(&j, "truncated", a->truncated);
	json_ku64_or_null(&j, "cut_offset", a->truncated, a->cut);
	json_end(&j);
	json_ku64(&j, "leaked_bytes", a->leaked_bytes);
	json_key(&j, "leaks");
	json_array(&j);
	for (size_t i = 0; i < a->nleaks; i++) {
		const struct an_buffer *b = a->leaks[i];

		json_object(&j);
		json_ku64(&j, "inode", b->ino);
		json_kstr(&j, "heap", b->heap);
		json_ku64(&j, "bytes", b->size);
		json_ku64(&j, "pid", b->pid);
		json_kstr(&j, "comm", b->comm);
		json_kstr(&j, "cgroup", an_cgroup_path(a, b->cgroup_id));
		json_ku64(&j, "allocated_ns", an_rel(a, b->ts));
		json_kbool(&j, "in_final_snapshot", b->in_final);
		json_ku64(&j, "holders", b->holders);
		json_ku64_or_null(&j, "held_by", b->holders, b->holder);
		json_ku64_or_null(&j, "fds_made", fds, b->fds[REC_FD_MADE]);
		json_ku64_or_null(&j, "fds_taken", fds, b->fds[REC_FD_TAKEN]);
		json_ku64_or_null(&j, "mappings", fds, b->fds[REC_FD_MMAP]);
		json_stack(&j, a, b->stack_id);
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "peaks");
	json_array(&j);
	for (size_t i = 0; i < a->nuse && !err; i++) {
		const struct an_usage *u = &a->use[i];

		json_object(&j);
		json_key(&j, "cgroup");
		if (u->cgroup_id)
			json_str(&j, an_cgroup_path(a, u->cgroup_id));
		else
			json_null(&j);
		json_kstr(&j, "heap", u->heap);
		json_ku64(&j, "peak_bytes", u->peak);
		json_ku64(&j, "at_ns", an_rel(a, u->peak_ts));
		err = json_peak_holders(&j, a, u);
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "failures");
	json_object(&j);
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		json_ku64(&j, fail_class_name(c), a->failures[c]);
	json_end(&j);
	json_ku64(&j, "failed_allocations", a->failed);
	json_ku64(&j, "ioctl_refusals", a->ioctl_refusals);
	json_key(&j, "fd_events");
	if (fds) {
		json_object(&j);
		json_ku64(&j, "made", a->fds[REC_FD_MADE]);
		json_ku64(&j, "taken", a->fds[REC_FD_TAKEN]);
		json_ku64(&j, "mappings", a->fds[REC_FD_MMAP]);
		json_end(&j);
	} else {
		json_null(&j);
	}
	json_key(&j, "untraced");
	json_array(&j);
	if (!fds)
		json_str(&j, "fds");
	if (a->hdr->untraced & REC_UNTRACED_CMA)
		json_str(&j, "cma");
	json_end(&j);
	json_key(&j, "failed");		/* each failed attempt */
	json_array(&j);
	for (size_t i = 0; i < a->nallocs; i++) {
		const struct an_alloc *x = &a->allocs[i];

		if (!x->err)
			continue;
		json_object(&j);
		json_ku64(&j, "at_ns", an_rel(a, x->ts));
		json_kstr(&j, "heap", x->heap);
		json_ku64(&j, "requested_bytes", x->requested);
		json_kstr(&j, "class", fail_class_name(x->fail_class));
		/* as an_error_text() tells: a crafted file may hold any value */
		json_ku64_or_null(&j, "errno", x->err < 0 && x->err > -4096, (uint64_t)-(int64_t)x->err);
		json_ku64(&j, "pid", x->pid);
		json_kstr(&j, "comm", x->comm);
		json_kstr(&j, "cgroup", an_cgroup_path(a, x->cgroup_id));
		json_stack(&j, a, x->stack_id);
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "limit_refusals");	/* as limit events -j names them */
	json_array(&j);
	for (size_t i = 0; i < a->nlimits; i++) {
		const struct rec_limit *l = &a->limits[i];

		json_object(&j);
		json_ku64(&j, "at_ns", an_rel(a, l->ts));
		json_ku64(&j, "pid", l->pid);
		json_ku64_or_null(&j, "tid", l->tid != 0, l->tid);
		json_kstr(&j, "cgroup", an_cgroup_path(a, l->cgroup_id));
		json_kstr_or_null(&j, "limit_cgroup",
				  an_limit_cgroup(a, l));
		json_kstr(&j, "heap", l->heap);
		json_ku64(&j, "requested_bytes", l->requested);
		json_ku64_or_null(&j, "usage_bytes", an_limit_known(l), l->usage);
		json_ku64_or_null(&j, "limit_bytes", an_limit_known(l), l->limit);
		json_kstr(&j, "backend", an_limit_backend(l->backend));
		json_kstr_or_null(&j, "when", an_limit_when(l->when));
		json_kbool(&j, "in_ioctl", a->in_ioctl[i]);
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "heaps");
	json_array(&j);
	for (size_t i = 0; i < a->nuse; i++) {
		const struct an_usage *u = &a->use[i];

		if (u->cgroup_id)
			continue;
		json_object(&j);
		json_kstr(&j, "heap", u->heap);
		json_dist(&j, "latency", an_latency(a, u->heap));
		json_dist(&j, "lifetime", an_lifetime(a, u->heap));
		json_end(&j);
	}
	json_end(&j);
	err = err ?: json_cma(&j, a);
	json_end(&j);
	return err;
}

/* where the snapshot @when (REC_SNAP_START, _FINAL) read the buffers */
static const char *snap_source(const struct analysis *a, int when)
{
	return a->snapped[when] ? inv_source_name(a->snap_source[when]) : "no snapshot";
}

/*
 * -v: the file's format and where its snapshots read the buffers, as the
 * recorder's -v said: "heapstat analyze: FILE: format 1.5; buffers from
 * iter/dmabuf at the start, iter/dmabuf at the end"
 */
static void say_sources(const struct analysis *a)
{
	fprintf(stderr, "heapstat analyze: %s: format %u.%u; buffers from %s at the start, %s at "
		"the end\n", text_safe(a->file), a->hdr->major, a->hdr->minor,
		snap_source(a, REC_SNAP_START), snap_source(a, REC_SNAP_FINAL));
}

int cmd_analyze(int argc, char **argv)
{
	static const struct checks no_checks;
	static const struct argp argp = { options, parse_arg, "FILE", doc,
					  heapstat_common_options, NULL, NULL };
	struct analysis a;
	char why[512], jwhy[512];
	int err, failed, rc;
	bool gate;

	memset(&opts, 0, sizeof(opts));	/* each call its own (analyze_fuzz.c's calls) */
	argv[0] = "heapstat analyze";
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return EXIT_USAGE;
	err = an_read(&a, opts.file, why, sizeof(why));
	if (err) {
		fprintf(stderr, "heapstat analyze: %s\n", why);
		rc = err == -ENODATA ? EXIT_TRUNCATED : err == -ENOMEM ? 1 : EXIT_USAGE;
		/* CI still gets a report, saying that nothing was judged */
		if (opts.junit && err != -ENOMEM &&
		    junit_write_unreadable(opts.junit, opts.file, why, jwhy, sizeof(jwhy))) {
			fprintf(stderr, "heapstat analyze: %s\n", jwhy);
			rc = EXIT_USAGE;
		}
		goto out;
	}
	if (a.truncated)
		fprintf(stderr, "heapstat analyze: %s was cut short at byte %llu (%s): analysed up "
			"to there\n", text_safe(opts.file), (unsigned long long)a.cut, a.damage);
	if (heapstat_verbose)
		say_sources(&a);
	/* before anything is written: exit 2 is nothing done */
	if (checks_heaps_named(&opts.checks, &a, why, sizeof(why))) {
		fprintf(stderr, "heapstat analyze: %s\n", why);
		rc = EXIT_USAGE;
		goto out;
	}
	if (opts.perfetto) {
		err = perfetto_write(&a, opts.perfetto, why, sizeof(why));
		if (err) {
			fprintf(stderr, "heapstat analyze: %s\n", why);
			rc = err == -ENOMEM ? 1 : EXIT_USAGE;
			goto out;
		}
	}
	/* only --fail-on sets the exit status; --junit alone reports the default checks */
	gate = opts.checks.n > 0;
	if (opts.junit && !gate && checks_parse(&opts.checks, "leaks,failures", why, sizeof(why))) {
		fprintf(stderr, "heapstat analyze: %s\n", strerror(ENOMEM));
		rc = 1;
		goto out;
	}
	failed = checks_judge(&opts.checks, &a);
	if (failed < 0) {
		fprintf(stderr, "heapstat analyze: %s\n", strerror(-failed));
		rc = 1;
		goto out;
	}
	/* the page shows --fail-on's checks only: not --junit's own */
	if (opts.html && (err = html_write(&a, gate ? &opts.checks : &no_checks, opts.html, why,
					   sizeof(why)))) {
		fprintf(stderr, "heapstat analyze: %s\n", why);
		rc = err == -ENOMEM ? 1 : EXIT_USAGE;
		goto out;
	}
	rc = gate && failed ? 1 : 0;
	if (a.truncated)
		rc = EXIT_TRUNCATED;
	/* as --html's and --perfetto's: exit 2, and no analysis on stdout */
	if (opts.junit && junit_write(opts.junit, &a, &opts.checks, why, sizeof(why))) {
		fprintf(stderr, "heapstat analyze: %s\n", why);
		rc = EXIT_USAGE;
		goto out;
	}
	/* the files first: a reader of stdout that stops early (| head) loses none */
	err = opts.json ? print_json(&a) : print_text(&a);
	if (err) {
		fprintf(stderr, "heapstat analyze: %s\n", strerror(-err));
		rc = 1;
		goto out;
	}
	for (int i = 0; gate && i < opts.checks.n; i++)
		if (opts.checks.v[i].failed)
			fprintf(stderr, "heapstat analyze: %s\n", opts.checks.v[i].summary);
out:
	an_free(&a);
	checks_free(&opts.checks);
	return rc;
}
