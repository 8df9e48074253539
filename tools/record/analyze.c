// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat analyze: what a recording (heapstat record) says about its run:
 * leaks (buffers allocated during it and alive at its end, with who held
 * them then, or nobody), the peak of each cgroup x heap and when, and the
 * failed allocations by class. --fail-on turns them into an exit status for
 * CI. A recording cut short (a recorder killed) is analysed up to its last
 * whole record, said so, and exits 3.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapstat.h"
#include "lib/collector.h"
#include "lib/json.h"
#include "lib/record.h"
#include "lib/text.h"
#include "lib/util.h"

#define EXIT_USAGE	2
#define EXIT_TRUNCATED	3
#define MAX_PEAK_CHECKS	16

static const char doc[] =
"Analyse a recording of heapstat record: the buffers allocated during the run\n"
"and alive at its end (leaks), with who held them then; the peak of each\n"
"cgroup x heap and of each heap, and when; the failed allocations by class.\n"
"\n"
"--fail-on makes the exit status 1 when a check fails: leaks (any),\n"
"failures (any failed allocation), peak:HEAP>SIZE (the heap's peak over all\n"
"cgroups). A recording cut short is analysed up to its cut and exits 3.\n"
"\n"
"USAGE: heapstat analyze FILE [-j] [--fail-on CHECK[,CHECK...]]\n"
"\n"
"EXAMPLES:\n"
"    heapstat analyze run.hsrec\n"
"    heapstat analyze run.hsrec -j\n"
"    heapstat analyze run.hsrec --fail-on leaks,failures,peak:system>64M\n";

struct peak_check {
	char heap[128];
	uint64_t bytes;
};

static struct analyze_opts {
	const char *file;
	bool json;
	bool fail_leaks, fail_failures;
	struct peak_check peaks[MAX_PEAK_CHECKS];
	int npeaks;
} opts;

enum { OPT_FAIL_ON = 0x100 };

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "Print JSON", 0 },
	{ "fail-on", OPT_FAIL_ON, "CHECKS", 0,
	  "Exit 1 when one fails: leaks, failures, peak:HEAP>SIZE (comma-separated)", 0 },
	{ NULL, 'h', NULL, 0, "Show this help", -1 },
	{},
};

static int parse_checks(char *arg)
{
	for (char *save = NULL, *c = strtok_r(arg, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		char *gt = strchr(c, '>');

		if (!strcmp(c, "leaks")) {
			opts.fail_leaks = true;
		} else if (!strcmp(c, "failures")) {
			opts.fail_failures = true;
		} else if (!strncmp(c, "peak:", 5) && gt && gt > c + 5 &&
			   opts.npeaks < MAX_PEAK_CHECKS) {
			struct peak_check *p = &opts.peaks[opts.npeaks];

			if (parse_size(gt + 1, &p->bytes))
				return -EINVAL;
			snprintf(p->heap, sizeof(p->heap), "%.*s", (int)(gt - c - 5), c + 5);
			opts.npeaks++;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j': opts.json = true; break;
	case OPT_FAIL_ON:
		if (parse_checks(arg))
			argp_error(state, "--fail-on: give leaks, failures or peak:HEAP>SIZE "
				   "(at most %d), comma-separated", MAX_PEAK_CHECKS);
		break;
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
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* a buffer allocated while recorded, alive until its release record */
struct live {
	uint64_t ino, ts, size, cgroup_id;
	uint32_t pid;
	const char *comm, *heap;	/* the reader's strings (live until close) */
	bool released;
	bool in_final;			/* in the final snapshot */
	uint32_t holders, holder;	/* there: how many held it, the first */
};

/* a cgroup x heap's bytes alive, and their peak */
struct usage {
	uint64_t cgroup_id;		/* 0: the heap over all cgroups */
	const char *heap;
	int64_t bytes;
	uint64_t peak, peak_ts;
};

struct cgname {
	uint64_t id;
	const char *path;
};

struct analysis {
	struct rec_reader *r;
	const struct rec_header *hdr;
	struct live *live;		/* by ino, open addressing; nlive used of cap */
	size_t nlive, cap;
	struct usage *use;
	size_t nuse, usecap;
	struct cgname *cgs;
	size_t ncgs, cgcap;
	uint64_t failures[FAIL_CLASSES], events, drops, first_ts, last_ts;
	bool ended, final_snap;
	struct rec_end end;
};

static struct live *probe(struct live *v, size_t cap, uint64_t ino)
{
	for (size_t i = (ino * 0x9e3779b97f4a7c15ull) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (v[i].ino == ino || !v[i].ino)
			return &v[i];
}

static struct live *live_find(struct analysis *a, uint64_t ino)
{
	struct live *l = a->cap ? probe(a->live, a->cap, ino) : NULL;

	return l && l->ino ? l : NULL;
}

/* ino's slot, made if new (the table kept at most half full) */
static struct live *live_add(struct analysis *a, uint64_t ino)
{
	struct live *l;

	if ((a->nlive + 1) * 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		struct live *v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		for (size_t i = 0; i < a->cap; i++)
			if (a->live[i].ino)
				*probe(v, cap, a->live[i].ino) = a->live[i];
		free(a->live);
		a->live = v;
		a->cap = cap;
	}
	l = probe(a->live, a->cap, ino);
	if (!l->ino)
		a->nlive++;
	return l;
}

static struct usage *usage_of(struct analysis *a, uint64_t cgroup_id, const char *heap)
{
	for (size_t i = 0; i < a->nuse; i++)
		if (a->use[i].cgroup_id == cgroup_id && !strcmp(a->use[i].heap, heap))
			return &a->use[i];
	if (grow_array((void **)&a->use, &a->usecap, a->nuse, sizeof(*a->use)))
		return NULL;
	a->use[a->nuse] = (struct usage){ .cgroup_id = cgroup_id, .heap = heap };
	return &a->use[a->nuse++];
}

static void account(struct analysis *a, uint64_t cgroup_id, const char *heap, int64_t bytes,
		    uint64_t ts)
{
	uint64_t ids[2] = { cgroup_id, 0 };

	for (int i = 0; i < 2; i++) {
		struct usage *u = usage_of(a, ids[i], heap);

		if (!u)
			continue;
		u->bytes += bytes;
		if (u->bytes > 0 && (uint64_t)u->bytes > u->peak) {
			u->peak = u->bytes;
			u->peak_ts = ts;
		}
	}
}

static const char *cgroup_path(const struct analysis *a, uint64_t id)
{
	for (size_t i = 0; i < a->ncgs; i++)
		if (a->cgs[i].id == id)
			return a->cgs[i].path;
	return "?";
}

static int fold(struct analysis *a, const struct rec *x)
{
	struct live *l;

	if (rec_type_is_event(x->type))
		a->events++;
	switch (x->type) {
	case REC_PROCESS:
		for (size_t i = 0; i < a->ncgs; i++)
			if (a->cgs[i].id == x->process.cgroup_id)
				return 0;
		if (grow_array((void **)&a->cgs, &a->cgcap, a->ncgs, sizeof(*a->cgs)))
			return -ENOMEM;
		a->cgs[a->ncgs++] = (struct cgname){ x->process.cgroup_id, x->process.cgroup };
		return 0;
	case REC_ALLOC:
		if (!a->first_ts)
			a->first_ts = x->alloc.ts;
		a->last_ts = x->alloc.ts;
		if (x->alloc.err) {
			if (x->alloc.fail_class < FAIL_CLASSES)
				a->failures[x->alloc.fail_class]++;
			return 0;
		}
		if (!x->alloc.ino)
			return 0;
		l = live_add(a, x->alloc.ino);
		if (!l)
			return -ENOMEM;
		*l = (struct live){ .ino = x->alloc.ino, .ts = x->alloc.ts, .size = x->alloc.allocated,
				    .cgroup_id = x->alloc.cgroup_id, .pid = x->alloc.pid,
				    .comm = x->alloc.comm, .heap = x->alloc.heap };
		account(a, l->cgroup_id, l->heap, l->size, l->ts);
		return 0;
	case REC_RELEASE:
		a->last_ts = x->release.ts;
		l = live_find(a, x->release.ino);
		if (l && !l->released) {
			l->released = true;
			account(a, l->cgroup_id, l->heap, -(int64_t)l->size, x->release.ts);
		}
		return 0;
	case REC_SNAP_BEGIN:
		a->final_snap = x->snap_begin.when == REC_SNAP_FINAL;
		return 0;
	case REC_SNAP_BUF:
		l = a->final_snap ? live_find(a, x->snap_buf.ino) : NULL;
		if (l && !l->released) {
			l->in_final = true;
			l->holders = x->snap_buf.nholders;
			l->holder = x->snap_buf.nholders ? x->snap_buf.holders[0] : 0;
		}
		return 0;
	case REC_DROPS:
		a->drops += x->drops.count;
		return 0;
	case REC_END:
		a->ended = true;
		a->end = x->end;
		return 0;
	default:
		return 0;
	}
}

static int cmp_leak(const void *x, const void *y)
{
	const struct live *a = *(const struct live * const *)x, *b = *(const struct live * const *)y;

	return (a->ts > b->ts) - (a->ts < b->ts);
}

/* the leaks, oldest first; *n of them, *bytes together */
static const struct live **leaks(const struct analysis *a, size_t *n, uint64_t *bytes)
{
	const struct live **v = calloc(a->nlive + 1, sizeof(*v));

	*n = 0;
	*bytes = 0;
	for (size_t i = 0; v && i < a->cap; i++)
		if (a->live[i].ino && !a->live[i].released) {
			v[(*n)++] = &a->live[i];
			*bytes += a->live[i].size;
		}
	if (v)
		qsort(v, *n, sizeof(*v), cmp_leak);
	return v;
}

static const char *held_by(const struct live *l, char *buf, size_t len)
{
	if (!l->in_final)
		return "not in the final snapshot";
	if (!l->holders)
		return "nobody (kernel-held)";
	snprintf(buf, len, "pid %u%s", l->holder, l->holders > 1 ? " and others" : "");
	return buf;
}

static uint64_t heap_peak(const struct analysis *a, const char *heap)
{
	for (size_t i = 0; i < a->nuse; i++)
		if (!a->use[i].cgroup_id && !strcmp(a->use[i].heap, heap))
			return a->use[i].peak;
	return 0;
}

static void end_text(const struct analysis *a, char *buf, size_t len)
{
	if (!a->ended)
		snprintf(buf, len, "no end (cut short)");
	else if (a->end.how == REC_END_EXITED)
		snprintf(buf, len, "exited %d", a->end.code);
	else if (a->end.how == REC_END_SIGNALED)
		snprintf(buf, len, "killed by signal %d", a->end.code);
	else
		snprintf(buf, len, "no command");
}

static void print_text(const struct analysis *a, bool truncated, uint64_t cut)
{
	const struct live **v;
	size_t n;
	uint64_t bytes, total = 0;
	char s1[16], s2[16], who[64], how[64];

	end_text(a, how, sizeof(how));
	printf("recording %s: kernel %s, host %s, command '%s' (%s)\n", text_safe(opts.file),
	       text_safe(a->hdr->kernel), text_safe(a->hdr->host), text_safe(a->hdr->command), how);
	printf("%llu events over %s, %llu lost\n", (unsigned long long)a->events,
	       format_ns(a->last_ts > a->first_ts ? a->last_ts - a->first_ts : 0, s1, sizeof(s1)),
	       (unsigned long long)a->drops);
	if (truncated)
		printf("CUT SHORT at byte %llu: analysed up to there\n", (unsigned long long)cut);
	v = leaks(a, &n, &bytes);
	printf("\nLEAKS: %zu buffers, %s (allocated while recorded, alive at the end)\n", n,
	       format_size(bytes, s1, sizeof(s1)));
	if (n)
		printf("%10s %-20s %8s %7s %-16s %-24s %s\n", "INODE", "HEAP", "SIZE", "PID", "COMM",
		       "CGROUP", "HELD AT THE END BY");
	for (size_t i = 0; v && i < n; i++)
		printf("%10llu %-20s %8s %7u %-16s %-24s %s\n", (unsigned long long)v[i]->ino,
		       text_safe(v[i]->heap), format_size(v[i]->size, s1, sizeof(s1)), v[i]->pid,
		       text_safe(v[i]->comm), text_safe(cgroup_path(a, v[i]->cgroup_id)),
		       held_by(v[i], who, sizeof(who)));
	free(v);
	printf("\n%-24s %-20s %10s %12s\n", "CGROUP", "HEAP", "PEAK", "AT");
	for (size_t i = 0; i < a->nuse; i++) {
		const struct usage *u = &a->use[i];

		printf("%-24s %-20s %10s %12s\n", u->cgroup_id ? text_safe(cgroup_path(a, u->cgroup_id)) :
		       "(all)", text_safe(u->heap), format_size(u->peak, s1, sizeof(s1)),
		       format_ns(u->peak_ts > a->hdr->mono_ns ? u->peak_ts - a->hdr->mono_ns : 0, s2,
				 sizeof(s2)));
	}
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		total += a->failures[c];
	printf("\nFAILURES: %llu", (unsigned long long)total);
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		printf("  %s %llu", fail_class_name(c), (unsigned long long)a->failures[c]);
	printf("\n");
}

static void print_json(const struct analysis *a, bool truncated, uint64_t cut)
{
	const struct live **v;
	size_t n;
	uint64_t bytes, total = 0;
	struct json j;

	json_init(&j, stdout);
	json_object(&j);
	json_key(&j, "recording");
	json_object(&j);
	json_kstr(&j, "kernel", a->hdr->kernel);
	json_kstr(&j, "host", a->hdr->host);
	json_kstr(&j, "command", a->hdr->command);
	json_key(&j, "exit");
	if (a->ended && a->end.how == REC_END_EXITED)
		json_u64(&j, a->end.code);
	else
		json_null(&j);
	json_key(&j, "signal");
	if (a->ended && a->end.how == REC_END_SIGNALED)
		json_u64(&j, a->end.code);
	else
		json_null(&j);
	json_ku64(&j, "events", a->events);
	json_ku64(&j, "drops", a->drops);
	json_ku64(&j, "duration_ns", a->last_ts > a->first_ts ? a->last_ts - a->first_ts : 0);
	json_kbool(&j, "truncated", truncated);
	json_ku64_or_null(&j, "cut_offset", truncated, cut);
	json_end(&j);
	v = leaks(a, &n, &bytes);
	json_ku64(&j, "leaked_bytes", bytes);
	json_key(&j, "leaks");
	json_array(&j);
	for (size_t i = 0; v && i < n; i++) {
		json_object(&j);
		json_ku64(&j, "inode", v[i]->ino);
		json_kstr(&j, "heap", v[i]->heap);
		json_ku64(&j, "bytes", v[i]->size);
		json_ku64(&j, "pid", v[i]->pid);
		json_kstr(&j, "comm", v[i]->comm);
		json_kstr(&j, "cgroup", cgroup_path(a, v[i]->cgroup_id));
		json_ku64(&j, "allocated_ns", v[i]->ts > a->hdr->mono_ns ? v[i]->ts - a->hdr->mono_ns : 0);
		json_kbool(&j, "in_final_snapshot", v[i]->in_final);
		json_ku64(&j, "holders", v[i]->holders);
		json_ku64_or_null(&j, "held_by", v[i]->holders, v[i]->holder);
		json_end(&j);
	}
	json_end(&j);
	free(v);
	json_key(&j, "peaks");
	json_array(&j);
	for (size_t i = 0; i < a->nuse; i++) {
		const struct usage *u = &a->use[i];

		json_object(&j);
		json_key(&j, "cgroup");
		if (u->cgroup_id)
			json_str(&j, cgroup_path(a, u->cgroup_id));
		else
			json_null(&j);
		json_kstr(&j, "heap", u->heap);
		json_ku64(&j, "peak_bytes", u->peak);
		json_ku64(&j, "at_ns", u->peak_ts > a->hdr->mono_ns ? u->peak_ts - a->hdr->mono_ns : 0);
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "failures");
	json_object(&j);
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++) {
		json_ku64(&j, fail_class_name(c), a->failures[c]);
		total += a->failures[c];
	}
	json_end(&j);
	json_ku64(&j, "failed_allocations", total);
	json_end(&j);
}

/* the --fail-on checks that fail, told on stderr; how many */
static int gate(const struct analysis *a)
{
	const struct live **v;
	size_t n;
	uint64_t bytes, total = 0;
	int failed = 0;
	char s1[16], s2[16];

	v = leaks(a, &n, &bytes);
	free(v);
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		total += a->failures[c];
	if (opts.fail_leaks && n) {
		fprintf(stderr, "heapstat analyze: leaks: %zu buffers, %s\n", n,
			format_size(bytes, s1, sizeof(s1)));
		failed++;
	}
	if (opts.fail_failures && total) {
		fprintf(stderr, "heapstat analyze: failures: %llu failed allocations\n",
			(unsigned long long)total);
		failed++;
	}
	for (int i = 0; i < opts.npeaks; i++) {
		uint64_t p = heap_peak(a, opts.peaks[i].heap);

		if (p > opts.peaks[i].bytes) {
			fprintf(stderr, "heapstat analyze: peak:%s: %s over %s\n",
				text_safe(opts.peaks[i].heap), format_size(p, s1, sizeof(s1)),
				format_size(opts.peaks[i].bytes, s2, sizeof(s2)));
			failed++;
		}
	}
	return failed;
}

int cmd_analyze(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, "FILE", doc, NULL, NULL, NULL };
	struct analysis a = {};
	struct rec x;
	char why[512];
	uint64_t cut = 0;
	bool truncated;
	int err, rc;

	argv[0] = "heapstat analyze";
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return EXIT_USAGE;
	err = rec_reader_open(&a.r, opts.file, why, sizeof(why));
	if (err) {
		fprintf(stderr, "heapstat analyze: %s\n", why);
		return EXIT_USAGE;
	}
	a.hdr = rec_reader_header(a.r);
	if (!a.hdr) {
		fprintf(stderr, "heapstat analyze: %s: cut short inside its header: nothing to "
			"analyse\n", opts.file);
		rec_reader_close(a.r);
		return EXIT_TRUNCATED;
	}
	while ((rc = rec_next(a.r, &x)) > 0 && !(err = fold(&a, &x)))
		;
	if (rc < 0 || err) {
		fprintf(stderr, "heapstat analyze: failed to read %s: %s\n", opts.file,
			strerror(-(rc < 0 ? rc : err)));
		rc = 1;
		goto out;
	}
	truncated = rec_reader_truncated(a.r, &cut);
	if (truncated)
		fprintf(stderr, "heapstat analyze: %s was cut short at byte %llu (%s): analysed up "
			"to there\n", opts.file, (unsigned long long)cut,
			rec_reader_damage(a.r) ?: "no end record");
	if (opts.json)
		print_json(&a, truncated, cut);
	else
		print_text(&a, truncated, cut);
	rc = gate(&a) ? 1 : 0;
	if (truncated)
		rc = EXIT_TRUNCATED;
out:
	rec_reader_close(a.r);
	free(a.live);
	free(a.use);
	free(a.cgs);
	return rc;
}
