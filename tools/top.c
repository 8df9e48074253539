// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat top: a live view of dma-buf exports and final releases per
 * exporter, counted by bpf/bufcount.bpf.c from the moment it attaches.
 */
#include <argp.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "heapstat.h"
#include "lib/errors.h"
#include "lib/exporters.h"
#include "lib/json.h"
#include "lib/util.h"

#define MAX_ROWS	64
#define INPUT_POLL_MS	50

static struct top_opts {
	uint64_t interval_ms;
	uint64_t count;		/* frames to show, 0: until q or a signal */
	bool batch;
	bool json;
} opts = { .interval_ms = 1000 };

static volatile sig_atomic_t exiting;

static const char doc[] =
"Show dma-buf exports and final releases per exporter, live.\n"
"\n"
"Counts start when heapstat attaches. An interactive terminal is redrawn\n"
"every interval until q; batch mode prints plain frames.\n"
"\n"
"USAGE: heapstat top [-d SECS] [-b] [-n COUNT] [-j]\n"
"\n"
"EXAMPLES:\n"
"    heapstat top               # refresh every second, q quits\n"
"    heapstat top -d 0.5        # refresh every half second\n"
"    heapstat top -b -n 5       # five plain frames, then exit\n"
"    heapstat top -b -n 1 -j    # one JSON object\n";

static const struct argp_option options[] = {
	{ "delay", 'd', "SECS", 0, "Refresh interval in seconds (default 1, down to 0.001)", 0 },
	{ "batch", 'b', NULL, 0, "Batch mode: plain frames, no terminal control", 0 },
	{ "iterations", 'n', "COUNT", 0, "Exit after COUNT frames", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per frame (implies -b)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'd':
		if (parse_interval_ms(arg, &opts.interval_ms))
			argp_error(state, "invalid interval '%s': seconds from 0.001 to 86400", arg);
		break;
	case 'b':
		opts.batch = true;
		break;
	case 'n':
		if (parse_u64(arg, 1, UINT32_MAX, &opts.count))
			argp_error(state, "invalid count '%s': a whole number from 1", arg);
		break;
	case 'j':
		opts.json = opts.batch = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

struct frame {
	struct exporter_row rows[MAX_ROWS];
	int n;
	__u64 dropped;	/* events not counted: a map was full */
	uint64_t ts_ns;
};

static const struct exporter_row *find_row(const struct frame *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (!strcmp(f->rows[i].name, name))
			return &f->rows[i];
	return NULL;
}

static double rate(__u64 now, __u64 before, uint64_t ns)
{
	return ns ? (double)(now - before) * 1e9 / ns : 0;
}

static void print_table(FILE *out, const struct frame *cur, const struct frame *prev,
			const char *clock)
{
	uint64_t ns = cur->ts_ns - prev->ts_ns;
	char live[16];

	fprintf(out, "heapstat top - %s, every %.3gs, counting since start\n", clock,
		opts.interval_ms / 1000.0);
	fprintf(out, "%-24s %8s %12s %10s %10s %10s %10s\n", "EXPORTER", "LIVE", "LIVE-BYTES",
		"EXPORT/s", "RELEASE/s", "EXPORTS", "RELEASES");
	for (int i = 0; i < cur->n; i++) {
		const struct exporter_row *r = &cur->rows[i], *p = find_row(prev, r->name);
		const struct exporter_stats *s = &r->stats;
		__u64 pe = p ? p->stats.exports : 0, pr = p ? p->stats.releases : 0;

		fprintf(out, "%-24s %8lld %12s %10.1f %10.1f %10llu %10llu\n", r->name,
			(long long)(s->exports - s->releases),
			format_size(s->bytes_exported - s->bytes_released, live, sizeof(live)),
			rate(s->exports, pe, ns), rate(s->releases, pr, ns),
			(unsigned long long)s->exports, (unsigned long long)s->releases);
	}
	if (!cur->n)
		fprintf(out, "(no dma-buf exported since start)\n");
	if (cur->dropped)
		fprintf(out, "dropped: %llu events not counted (a BPF map was full)\n",
			(unsigned long long)cur->dropped);
}

static void print_json(FILE *out, const struct frame *cur, const struct frame *prev,
		       const char *clock)
{
	uint64_t ns = cur->ts_ns - prev->ts_ns;

	fprintf(out, "{\"time\":\"%s\",\"interval_ms\":%llu,\"exporters\":[", clock,
		(unsigned long long)opts.interval_ms);
	for (int i = 0; i < cur->n; i++) {
		const struct exporter_row *r = &cur->rows[i], *p = find_row(prev, r->name);
		const struct exporter_stats *s = &r->stats;

		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_string(out, r->name);
		fprintf(out, ",\"live_buffers\":%lld,\"live_bytes\":%lld,\"exports\":%llu,"
			"\"releases\":%llu,\"bytes_exported\":%llu,\"bytes_released\":%llu,"
			"\"exports_per_sec\":%.2f,\"releases_per_sec\":%.2f}",
			(long long)(s->exports - s->releases),
			(long long)(s->bytes_exported - s->bytes_released),
			(unsigned long long)s->exports, (unsigned long long)s->releases,
			(unsigned long long)s->bytes_exported, (unsigned long long)s->bytes_released,
			rate(s->exports, p ? p->stats.exports : 0, ns),
			rate(s->releases, p ? p->stats.releases : 0, ns));
	}
	fprintf(out, "],\"dropped\":%llu}\n", (unsigned long long)cur->dropped);
}

/* Wait one interval; in a terminal, watch for q meanwhile. */
static void wait_interval(bool interactive)
{
	uint64_t end = now_ns() + opts.interval_ms * 1000000ull;

	while (!exiting) {
		uint64_t now = now_ns();
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int ms;

		if (now >= end)
			return;
		ms = (end - now) / 1000000 + 1;
		if (!interactive) {
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
			continue;
		}
		if (ms > INPUT_POLL_MS)
			ms = INPUT_POLL_MS;
		if (poll(&pfd, 1, ms) > 0) {
			char c;

			if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				exiting = 1;
		}
	}
}

int cmd_top(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct frame *frames = NULL, *cur, *prev;
	struct bufcount *bc = NULL;
	struct termios saved_tio;
	bool interactive, tio_saved = false;
	uint64_t shown = 0;
	int err, ret = 1;

	argv[0] = "heapstat top";
	argp_err_exit_status = 1;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	interactive = !opts.batch && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);

	frames = calloc(2, sizeof(*frames));
	if (!frames) {
		heapstat_error(-ENOMEM, "allocate frames", NULL);
		goto cleanup;
	}
	err = bufcount_open(&bc);
	if (err) {
		ret = EXIT_UNSUPPORTED;
		goto cleanup;
	}
	if (interactive && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		struct termios raw = saved_tio;

		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tio_saved = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fputs("\033[?25l", stdout);	/* hide the cursor */
	}

	prev = &frames[0];
	cur = &frames[1];
	prev->ts_ns = now_ns();
	while (!exiting) {
		char clock[16];
		time_t t = time(NULL);

		wait_interval(interactive);
		if (exiting)
			break;
		cur->n = bufcount_read(bc, cur->rows, MAX_ROWS, &cur->dropped);
		if (cur->n < 0) {
			heapstat_error(cur->n, "read counters", NULL);
			goto cleanup;
		}
		cur->ts_ns = now_ns();
		strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&t));
		if (interactive)
			fputs("\033[H\033[2J", stdout);
		if (opts.json)
			print_json(stdout, cur, prev, clock);
		else
			print_table(stdout, cur, prev, clock);
		if (interactive)
			fputs("\nq: quit\n", stdout);
		else if (!opts.json)
			fputc('\n', stdout);
		fflush(stdout);
		if (opts.count && ++shown >= opts.count)
			break;
		struct frame *tmp = prev;

		prev = cur;
		cur = tmp;
	}
	ret = 0;

cleanup:
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		fputs("\033[?25h", stdout);
		fflush(stdout);
	}
	bufcount_close(bc);
	free(frames);
	return ret;
}
