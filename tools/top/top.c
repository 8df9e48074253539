// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat top (also installed as heaptop): the live view of dma-buf heaps,
 * cgroups and CMA, on the collector's model (tools/lib/live.c). An
 * interactive terminal gets the full-screen view (tools/top_ui.c); batch
 * mode prints plain or JSON frames.
 */
#include <argp.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heapstat.h"
#include "cgroup/path.h"
#include "lib/errors.h"
#include "lib/ready.h"
#include "lib/sources.h"
#include "lib/text.h"
#include "lib/util.h"
#include "top.h"

static struct top_opts {
	uint64_t count;		/* frames to show, 0: until q or a signal */
	uint64_t rescan_ms;	/* the longest between two whole walks */
	uint64_t keep_removed_ms;	/* a removed cgroup's rows, after its counts settle */
	bool batch;
	bool json;
} opts = { .rescan_ms = LIVE_RESCAN_MS, .keep_removed_ms = LIVE_KEEP_REMOVED_MS };

static struct top_state state = { .interval_ms = 1000 };	/* sorts: top_state_init() */

static volatile sig_atomic_t top_exiting;
static bool plain_ascii;	/* plain frames: ascii_terminal() */

static const char doc[] =
"Live view of DMA-BUF heaps, cgroups and CMA: heaptop.\n"
"\n"
"Header meters per CMA area (used/total, largest free extent, fragmentation)\n"
"and per heap; below, rows cgroup x heap: bytes held, buffers, peak, alloc/s,\n"
"free/s, allocation latency p50/p99 over the last interval, failures since\n"
"start, limit hits, what the kernel charged, the limit (dmem.max, or\n"
"memory.max for the memcg-charged system heap) and the headroom under it.\n"
"Other views: processes and buffers.\n"
"\n"
"Who holds what is walked once, then kept up to date from traced events:\n"
"buffers exported and released are applied, and the processes an event may\n"
"have changed (new dma-buf fds, imports, mmaps, and forks, execs, exits and\n"
"cgroup moves of holders) walked again alone. Everything is walked again at\n"
"least every --rescan seconds for what no event shows (an fd closed or passed\n"
"without releasing its buffer, an unmapped mapping), as a check of what was kept.\n"
"\n"
"Keys: q quit, v next view, s reverse the sort, < > sort column, c filter by\n"
"cgroup, h filter by heap, p pause, + - interval, Left Right scroll, ? help.\n"
"\n"
"USAGE: heaptop [-d SECS] [-b] [-n COUNT] [-j] [--view VIEW] [-c CGROUP]\n"
"               [--heap NAME] [--rescan SECS] [--keep-removed SECS] [-v]\n"
"\n"
"EXAMPLES:\n"
"    heaptop                     # refresh every second, q quits\n"
"    heaptop -d 0.5 -c /camera   # every half second, /camera and below\n"
"    heaptop -b -n 5             # five plain frames, then exit\n"
"    heaptop -b -n 1 --view buffers\n"
"    heaptop -j -n 3             # three JSON objects, one per frame\n"
"    heaptop --keep-removed 60   # CI jobs' cgroups: their rows for a minute\n";

enum { OPT_VIEW = 0x100, OPT_HEAP, OPT_RESCAN, OPT_KEEP };

static const struct argp_option options[] = {
	{ "delay", 'd', "SECS", 0, "Refresh interval in seconds (default 1, 0.1 to 3600)", 0 },
	{ "batch", 'b', NULL, 0, "Batch mode: plain frames, no terminal control", 0 },
	{ "iterations", 'n', "COUNT", 0, "Exit after COUNT frames", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per frame (implies -b)", 0 },
	{ "view", OPT_VIEW, "VIEW", 0, "cgroups (default), processes or buffers", 0 },
	{ "cgroup", 'c', "CGROUP", 0, "Only CGROUP and the cgroups below it, e.g. /camera", 0 },
	{ "heap", OPT_HEAP, "NAME", 0, "Only heap NAME", 0 },
	{ "rescan", OPT_RESCAN, "SECS", 0, "Walk every buffer and holder at least every SECS "
	  "seconds (default 5; 0: every refresh)", 0 },
	{ "keep-removed", OPT_KEEP, "SECS", 0, "Keep a removed cgroup's rows SECS seconds after "
	  "its last buffer went (default 3600, at most 86400; 0: drop them then)", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf's messages, and with -b lines saying where buffers "
	  "and holders were read from (heapstat -v top)", 0 },
	{ "version", 'V', NULL, 0, "Print the version (heaptop is heapstat's top)", -1 },
	{ NULL, 'h', NULL, 0, "Show this help", -1 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *st)
{
	int err;

	switch (key) {
	case 'd':
		if (parse_interval_ms(arg, &state.interval_ms) || state.interval_ms < 100 ||
		    state.interval_ms > 3600000)
			argp_error(st, "invalid interval '%s': seconds from 0.1 to 3600, to the "
				   "millisecond", text_safe(arg));
		break;
	case 'b':
		opts.batch = true;
		break;
	case 'n':
		if (parse_u64(arg, 1, UINT32_MAX, &opts.count))
			argp_error(st, "invalid count '%s': a whole number from 1", text_safe(arg));
		break;
	case 'j':
		opts.json = opts.batch = true;
		break;
	case OPT_VIEW:
		for (int v = 0; v < TV_COUNT; v++)
			if (!strcmp(arg, top_view_names[v])) {
				state.view = v;
				return 0;
			}
		argp_error(st, "unknown view '%s': cgroups, processes or buffers", text_safe(arg));
		break;
	case 'c':
		err = cg_path_normalize(arg, state.cgroup, sizeof(state.cgroup));
		if (err)
			argp_error(st, "cgroup '%s': %s", text_safe(arg), cg_path_refused(err));
		break;
	case OPT_HEAP:
		if (!*arg)	/* "" is no filter here; refused, as report's filter check refuses it */
			argp_error(st, "no heap or exporter ''");
		if (strlen(arg) >= sizeof(state.heap))
			argp_error(st, "heap name '%s' is too long", text_safe(arg));
		snprintf(state.heap, sizeof(state.heap), "%s", arg);
		break;
	case OPT_RESCAN:
		err = parse_interval_or_zero_ms(arg, &opts.rescan_ms);	/* 0: every frame */
		if (err || (opts.rescan_ms && opts.rescan_ms < 100) || opts.rescan_ms > 3600000)
			argp_error(st, "invalid rescan interval '%s': 0, or seconds from 0.1 to "
				   "3600, to the millisecond", text_safe(arg));
		break;
	case OPT_KEEP:
		if (parse_interval_or_zero_ms(arg, &opts.keep_removed_ms))
			argp_error(st, "invalid time to keep removed cgroups '%s': 0, or seconds up "
				   "to 86400, to the millisecond", text_safe(arg));
		break;
	case 'v':
		heapstat_verbose = true;
		break;
	case 'h':
		argp_state_help(st, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'V':
		printf("heapstat %s\n", HEAPSTAT_VERSION);
		exit(0);	/* as argp's -h: the output checked at exit */
	case ARGP_KEY_ARG:
		argp_error(st, "unexpected argument '%s'", text_safe(arg));
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	top_exiting = 1;
}

/*
 * Plain frames on a terminal whose locale (LC_CTYPE) is not UTF-8: a
 * character beyond ASCII a '?' per column, as the interactive view shows
 * it there (its bytes could read as an 8-bit terminal's C1 controls); into
 * a pipe or a file, as they are. A locale that cannot be had is C's.
 */
static bool ascii_terminal(FILE *f)
{
	locale_t loc;
	bool ascii;

	if (!isatty(fileno(f)))
		return false;
	loc = newlocale(LC_CTYPE_MASK, "", (locale_t)0);
	if (!loc)
		return true;
	ascii = strcmp(nl_langinfo_l(CODESET, loc), "UTF-8") != 0;
	freelocale(loc);
	return ascii;
}

static void emit_line(void *ctx, enum top_attr attr, const char *line)
{
	char ascii[TOP_LINE_MAX];

	(void)attr;
	fprintf(ctx, "%s\n", plain_ascii ? text_ascii(line, ascii, sizeof(ascii)) : line);
}

/*
 * sleep one interval (the first: at most TOP_FIRST_MS), draining the
 * events, or less when a signal ends it
 */
static int sleep_interval(struct live *l, bool first)
{
	uint64_t ms = first ? top_first_ms(state.interval_ms) : state.interval_ms;
	uint64_t end = now_ns() + ms * 1000000ull;
	int err = 0;

	live_name_removals(l);	/* once: inside the interval, not before the frame */

	while (!err && !top_exiting && now_ns() < end) {
		uint64_t ms = (end - now_ns()) / 1000000 + 1;
		struct timespec ts;

		ms = ms < LIVE_DRAIN_MS ? ms : LIVE_DRAIN_MS;
		ts = (struct timespec){ ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		err = live_drain(l);
	}
	return err;
}

static int run_batch(struct live *l)
{
	const struct live_frame *f;
	uint64_t shown = 0;
	bool said = false;
	char clock[16];
	int err;

	plain_ascii = !opts.json && ascii_terminal(stdout);
	while (!top_exiting) {
		err = sleep_interval(l, !said);
		if (top_exiting)
			break;
		if (!err)
			err = live_sample(l, &f);
		if (err) {
			heapstat_error(err, "sample", NULL);
			return 1;
		}
		if (!said)
			sources_say(heapstat_cmd, f->inv, live_collector(l)), said = true;
		else if (f->exits_refused)	/* its hook is attached after the first frame */
			sources_say_refused(heapstat_cmd, live_collector(l), COLL_FEAT_HOLDERS);
		top_clock(clock, sizeof(clock));
		if (opts.json) {
			top_json(stdout, l, f, &state, clock);
		} else {
			top_render(l, f, &state, clock, 0, emit_line, stdout);
			fputc('\n', stdout);
		}
		if (fflush(stdout) || ferror(stdout)) {
			heapstat_error(errno ?: EIO, "write a frame", NULL);
			/* said once: what could not be written is dropped, not tried again at exit */
			__fpurge(stdout);
			clearerr(stdout);
			return 1;
		}
		if (opts.count && ++shown >= opts.count)
			break;
	}
	return 0;
}

/*
 * -c names a cgroup that exists, --heap a heap or an exporter with live
 * buffers, as report's do (either may go later: its rows then go). An
 * exporter not in /dev/dma_heap is looked for in a snapshot taken for it.
 */
static int check_filter(const char *self)
{
	struct hold_filter flt = { .heap = state.heap[0] ? state.heap : NULL };
	struct inventory inv = {};
	char why[512];
	int err;

	snprintf(flt.cgroup, sizeof(flt.cgroup), "%s", state.cgroup);
	err = hold_filter_check(&hold_sys_live, &flt, NULL, why, sizeof(why));
	if (err == -ENOENT && flt.heap) {
		/* a snapshot that fails part way is freed too (it says nothing more) */
		if (!inventory_collect(&inv, hold_sys_live.proc, false))
			err = hold_filter_check(&hold_sys_live, &flt, &inv, why, sizeof(why));
		inventory_free(&inv);
	}
	if (err)
		fprintf(stderr, "%s: %s\n", self, why);
	return err;
}

int cmd_top(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct sigaction sa = { .sa_handler = on_signal };
	struct live *l = NULL;
	bool interactive;
	int err, ret;

	top_state_init(&state);
	if (strcmp(argv[0], "heaptop"))
		argv[0] = "heapstat top";
	argp_err_exit_status = EXIT_USAGE;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return EXIT_USAGE;
	/*
	 * A signal ends the sleep (never restarted) or the wait for a key (no
	 * SA_RESTART on a terminal); frames on a pipe restart a write it comes
	 * in (SA_RESTART): interrupted, a frame was cut or lost and the exit 1
	 */
	interactive = !opts.batch && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (!interactive)
		sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	/* no BTF, or a PID namespace of its own, is no error: the frames are
	 * snapshots, and say why (live_open()) */
	err = heapstat_caps_preflight();
	if (err)
		return EXIT_UNSUPPORTED;
	if (interactive && top_term_check())
		return 1;
	if ((state.cgroup[0] || state.heap[0]) && check_filter(argv[0]))
		return EXIT_USAGE;
	err = live_open(&l, COLL_ATTACH_AUTO, opts.rescan_ms);
	if (err) {
		heapstat_error(err, "start", NULL);
		return 1;
	}
	live_keep_removed(l, opts.keep_removed_ms);
	ready_notify(argv[0], live_collector(l) ? "tracing" : "not tracing: snapshots");
	if (interactive)
		ret = top_interactive(l, &state, opts.count, &top_exiting);
	else
		ret = run_batch(l);
	live_close(l);
	return ret;
}
