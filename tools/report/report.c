// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat report: a snapshot of who holds how much of which dma-buf heap,
 * per heap, cgroup, process and buffer, beside what the kernel charged each
 * cgroup and under which limit: the holdings model (tools/lib/holdings.c),
 * printed as tables or CSV (text.c) or JSON (json.c). This file: options,
 * and taking the snapshot.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapstat.h"
#include "cgroup/memcg.h"
#include "cgroup/path.h"
#include "lib/errors.h"
#include "lib/procfs.h"
#include "lib/ready.h"
#include "lib/sources.h"
#include "lib/text.h"
#include "lib/util.h"
#include "report.h"

static const char * const view_names[] = {
	"summary", "heaps", "cgroups", "processes", "buffers", "cma", "activity"
};

static struct report_opts opts;

static volatile sig_atomic_t exiting;

static const char doc[] =
"Show who holds how much of which dma-buf heap, now.\n"
"\n"
"VIEW is summary (the default), heaps, cgroups, processes, buffers, cma or\n"
"activity (with --duration).\n"
"Sizes are human-readable in tables and exact bytes in JSON and CSV.\n"
"Cgroup paths are relative to the cgroup2 root, e.g. /camera; -c takes the\n"
"cgroup and every cgroup below it.\n"
"\n"
"Per cgroup x heap: HELD, the buffers its processes hold (each once);\n"
"CHARGED, what the kernel charged it (dmem.current of the heap's region, or\n"
"memory.current for the memcg-charged system heap), descendants included;\n"
"LIMIT and HEADROOM, of the cgroup or ancestor whose limit leaves the least\n"
"room. A cgroup charged for buffers it no longer holds has a row too.\n"
"\n"
"With --duration, heapstat also traces every heap allocation, export, final\n"
"release and CMA allocation for that long and adds the activity: alloc/s,\n"
"free/s, latency p50/p99/max, buffer lifetimes p50/p99/max, failures by\n"
"class (capacity, fragmentation, busy, limit, other). Where the kernel refuses\n"
"tracing, the snapshot is reported and the output says why.\n"
"\n"
"USAGE: heapstat report [VIEW] [-c CGROUP] [-p PID] [--heap NAME]\n"
"                       [-d SECS [--attach MODE]] [--source SRC] [-j|--csv]\n"
"\n"
"EXAMPLES:\n"
"    heapstat report                   # every view, as tables\n"
"    heapstat report buffers --heap system\n"
"    heapstat report processes -c /camera\n"
"    heapstat report -j                # everything, as one JSON object\n"
"    heapstat report cgroups --csv\n"
"    heapstat report cma               # CMA areas: used, largest free extent\n"
"    heapstat report -d 10 -j          # ten seconds of activity, and the rest\n"
"    heapstat report activity -d 5 --attach kprobe   # without BPF trampolines\n";

enum { OPT_HEAP = 0x100, OPT_CSV, OPT_SOURCE, OPT_ATTACH };

static const struct argp_option options[] = {
	{ "cgroup", 'c', "CGROUP", 0, "Only processes in CGROUP and the cgroups below it (a path from the cgroup2 root)", 0 },
	{ "pid", 'p', "PID", 0, "Only process PID", 0 },
	{ "heap", OPT_HEAP, "NAME", 0, "Only buffers of heap (exporter) NAME", 0 },
	{ "duration", 'd', "SECS", 0, "Trace activity for SECS seconds first (0.001 to 86400)", 0 },
	{ "source", OPT_SOURCE, "SRC", 0, "auto (BPF iterators, else /proc) or procfs (/proc only)", 0 },
	{ "attach", OPT_ATTACH, "MODE", 0, "With -d: auto (fentry/fexit and BTF tracepoints where the "
	  "kernel takes them, else kprobes), tracing or kprobe", 0 },
	{ "json", 'j', NULL, 0, "One JSON object with every view", 0 },
	{ "csv", OPT_CSV, NULL, 0, "The view as CSV (summary: heaps)", 0 },
	{ NULL, 'h', NULL, 0, "Show this help", -1 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	uint64_t v;
	int err;

	switch (key) {
	case 'c':
		err = cg_path_normalize(arg, opts.flt.cgroup, sizeof(opts.flt.cgroup));
		if (err)
			argp_error(state, "cgroup '%s': %s", text_safe(arg), cg_path_refused(err));
		break;
	case 'p':
		if (parse_u64(arg, 1, INT32_MAX, &v))
			argp_error(state, "invalid pid '%s'", text_safe(arg));
		opts.flt.pid = v;
		break;
	case OPT_HEAP:
		opts.flt.heap = arg;
		break;
	case 'd':
		if (parse_interval_ms(arg, &opts.duration_ms))
			argp_error(state, DURATION_REFUSED, text_safe(arg));
		break;
	case 'j':
		opts.json = true;
		break;
	case OPT_SOURCE:
		if (strcmp(arg, "auto") && strcmp(arg, "procfs"))
			argp_error(state, "unknown source '%s': auto or procfs", text_safe(arg));
		opts.procfs_only = !strcmp(arg, "procfs");
		break;
	case OPT_CSV:
		opts.csv = true;
		break;
	case OPT_ATTACH:
		opts.attach_given = true;
		if (!strcmp(arg, "auto"))
			opts.attach = COLL_ATTACH_AUTO;
		else if (!strcmp(arg, "tracing"))
			opts.attach = COLL_ATTACH_TRACING;
		else if (!strcmp(arg, "kprobe"))
			opts.attach = COLL_ATTACH_KPROBE;
		else
			argp_error(state, "unknown attach mode '%s': auto, tracing or kprobe", text_safe(arg));
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		for (size_t i = 0; i < ARRAY_SIZE(view_names); i++)
			if (!strcmp(arg, view_names[i])) {
				if (state->arg_num)
					argp_error(state, "one view at a time");
				opts.view = i;
				return 0;
			}
		argp_error(state, "unknown view '%s': summary, heaps, cgroups, processes, buffers, cma or "
			   "activity", text_safe(arg));
		break;
	case ARGP_KEY_END:
		if (opts.json && opts.csv)
			argp_error(state, "-j and --csv exclude each other");
		if (opts.view == V_ACTIVITY && !opts.duration_ms)
			argp_error(state, "the activity view needs --duration SECS");
		if (opts.attach_given && !opts.duration_ms)
			argp_error(state, "--attach goes with --duration: nothing traces without it");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/*
 * Trace for the duration (or until a signal). A kernel that refuses
 * tracing leaves the snapshot alone to report: rep->no_tracing says why.
 */
static int trace_for(struct report *rep)
{
	uint64_t start, end;
	int err;

	err = collector_open(&rep->coll, opts.attach, 0, false, rep->no_tracing,
			     sizeof(rep->no_tracing));
	if (err == -ENOMEM)
		return err;
	/* from the attach: the duration traced, its rates' divisor, not the load's time */
	start = now_ns();
	end = start + opts.duration_ms * 1000000ull;
	if (!err) {	/* the BPF-LSM's refusals from here, as the collector's */
		rep->lsm_since.keep_removed_ns = UINT64_MAX;	/* a removed cgroup's: all */
		lsm_since_read(&rep->lsm_since, hold_sys_live.lsm_pin_dir);
	}
	ready_notify("heapstat report", err ? "not tracing: the report is a snapshot" :
		     "tracing");
	if (err)
		return 0;
	refusal_count_start(&rep->refusals, rep->coll, heap_mem_accounting());
	for (uint64_t read_ns = start; !exiting && now_ns() < end;) {
		uint64_t left = (end - now_ns()) / 1000000;

		err = collector_poll(rep->coll, left > 100 ? 100 : (int)left + 1);
		if (err)
			return err;
		if (now_ns() - read_ns >= LSM_SINCE_READ_MS * 1000000ull) {
			lsm_since_read(&rep->lsm_since, hold_sys_live.lsm_pin_dir);
			read_ns = now_ns();
		}
	}
	rep->seconds = (now_ns() - start) / 1e9;
	err = collector_poll(rep->coll, 0);
	return err ? err : collector_sync(rep->coll);
}

/*
 * INT and TERM end the tracing, while the collector loads too (the report
 * then covers no time); after it, they do what they did before.
 */
static int trace_activity(struct report *rep)
{
	void (*old_int)(int) = signal(SIGINT, on_signal);
	void (*old_term)(int) = signal(SIGTERM, on_signal);
	int err = trace_for(rep);

	signal(SIGINT, old_int);
	signal(SIGTERM, old_term);
	return err;
}

static void free_report(struct report *rep)
{
	holdings_free(&rep->h);
	free(rep->cma);
	collector_close(rep->coll);
	refusal_count_stop(&rep->refusals);
	inventory_free(&rep->inv);
	lsm_since_free(&rep->lsm_since);
}

/*
 * -d's heap filter, once the inventory can name it (the cgroup and pid
 * checked before), and whether the process is still the one checked
 */
static int heap_checked(const struct hold_sys *sys, const struct inventory *inv, char *why,
			size_t len)
{
	struct hold_filter heap = { .heap = opts.flt.heap };

	/* the same pid started again later is another process */
	opts.flt.pid_gone = opts.flt.pid &&
			    (proc_tgid(sys->proc, opts.flt.pid) != opts.flt.pid ||
			     proc_start_time(sys->proc, opts.flt.pid) != opts.flt.pid_start);
	if (opts.flt.pid_gone)
		fprintf(stderr, "heapstat report: note: process %d exited while traced: its "
			"cgroup's rows as traced\n", opts.flt.pid);
	return hold_filter_check(sys, &heap, inv, why, len);
}

int cmd_report(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, "[VIEW]", doc,
					  heapstat_common_options, NULL, NULL };
	struct hold_sys sys = hold_sys_live;
	struct report rep = { .opts = &opts };
	char why[512];
	int err, ret = 1;

	argv[0] = "heapstat report";
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	/* /proc alone needs no BPF: no capability, no BTF; a snapshot names no
	 * pid BPF saw, so it runs in a PID namespace of its own too */
	if (!opts.procfs_only || opts.duration_ms) {
		err = opts.duration_ms ? heapstat_bpf_preflight() : heapstat_snapshot_preflight();
		if (err == -EPERM && !opts.duration_ms)
			fprintf(stderr, "heapstat report: hint: --source procfs reads /proc alone, "
				"without BPF (the processes this user may read)\n");
		if (err)
			return EXIT_UNSUPPORTED;
	}
	if (opts.duration_ms) {
		/* the cgroup and the process named, before the trace (a heap may come with
		 * it); gone while traced (a CI job's), their traced rows are still shown */
		const char *heap = opts.flt.heap;

		opts.flt.heap = NULL;
		if (hold_filter_check(&sys, &opts.flt, NULL, why, sizeof(why))) {
			fprintf(stderr, "heapstat report: %s\n", why);
			return EXIT_USAGE;
		}
		opts.flt.heap = heap;
		err = trace_activity(&rep);
		if (err) {
			heapstat_error(err, "trace the activity", NULL);
			goto out;
		}
	}
	err = inventory_collect(&rep.inv, sys.proc, opts.procfs_only);
	if (err) {
		heapstat_error(err, "take the inventory", NULL);
		goto out;
	}
	rep.now_ns = now_ns();
	sources_say(heapstat_cmd, &rep.inv, rep.coll);
	err = opts.duration_ms ? heap_checked(&sys, &rep.inv, why, sizeof(why)) :
		hold_filter_check(&sys, &opts.flt, &rep.inv, why, sizeof(why));
	if (err) {
		fprintf(stderr, "heapstat report: %s\n", why);
		ret = EXIT_USAGE;
		goto out;
	}
	sys.mem_accounting = heap_mem_accounting();
	if (rep.coll)
		sys.lsm_since = &rep.lsm_since;
	err = holdings_build(&rep.h, &sys, &rep.inv, rep.coll, &opts.flt);
	if (!err)
		err = cma_areas_read(CMA_SYSFS, CMA_DEBUGFS, true, &rep.cma, &rep.ncma);
	rep.cma_unread = !err && !rep.ncma && cma_reserved_kb("/proc/meminfo") > 0;
	if (err) {
		heapstat_error(err, "read the cgroups and CMA areas", NULL);
		goto out;
	}
	if (opts.json)
		report_json(stdout, &rep);
	else
		report_text(stdout, &rep);
	ret = 0;
	if (opts.duration_ms && !rep.coll) {
		/* said once: where the output does not say it (JSON's tracing, the text views) */
		if (!opts.json && (opts.csv || (opts.view != V_SUMMARY && opts.view != V_ACTIVITY)))
			fprintf(stderr, "heapstat report: no activity: %s\n", rep.no_tracing);
		/* the activity view is nothing else: a script must not take it for a quiet system */
		if (opts.view == V_ACTIVITY)
			ret = 1;
	}
out:
	free_report(&rep);
	return ret;
}
