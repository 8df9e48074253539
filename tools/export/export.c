// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat export: the holdings model as Prometheus metrics, served over
 * HTTP at /metrics (--listen, http.c) or written to DIR/heapstat.prom for
 * node_exporter's textfile collector (--textfile). The model is heaptop's
 * (tools/lib/live.c), kept loaded: the collector is drained every
 * LIVE_DRAIN_MS, and a sample is taken by a scrape, unless the last one is
 * younger than the interval (-i, default 1 s: the scrape is answered from
 * that one), or every interval into the file. metrics.c makes the families.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "heapstat.h"
#include "lib/errors.h"
#include "lib/ready.h"
#include "lib/sources.h"
#include "lib/text.h"
#include "lib/util.h"
#include "export.h"

#define TEXTFILE_NAME	"heapstat.prom"
/*
 * The longest between two whole walks of the buffers and holders, which
 * traced events keep up to date in between (heaptop's --rescan, 5 s
 * there): what no event shows (an fd closed or passed without releasing its
 * buffer, an munmap) is seen this late. Scrapes come every 15 s or more,
 * and the walk is most of a sample's cost at thousands of holders.
 */
#define EXPORT_RESCAN_MS	30000

static struct export_opts {
	const char *listen;
	const char *textfile;
	uint64_t interval_ms;		/* 0: the mode's default */
	uint64_t cgroup_depth;
	uint64_t max_series;
	uint64_t keep_removed_ms;	/* a removed cgroup's series, after its counts settle */
} opts = { .cgroup_depth = 4, .max_series = 10000, .keep_removed_ms = LIVE_KEEP_REMOVED_MS };

static volatile sig_atomic_t exiting;

static const char doc[] =
"Export the holdings model as Prometheus metrics.\n"
"\n"
"With --listen, serve them over HTTP at /metrics: the Prometheus text format\n"
"0.0.4, or OpenMetrics 1.0.0 when the scraper's Accept header asks for it.\n"
"A scrape samples the model, unless the last sample is younger than the\n"
"interval (default 1 s): it is then answered from that one. With --textfile,\n"
"sample every interval (default 15 s) and write DIR/heapstat.prom atomically,\n"
"for node_exporter's textfile collector; a file that cannot be written is\n"
"said once and tried again every interval (the exit then 1); the first one\n"
"failing ends it at once (exit 1).\n"
"\n"
"The metrics (docs/metrics.md): bytes and buffers per heap and its capacity;\n"
"per cgroup x heap held, charged, peak, limit and headroom; allocations,\n"
"frees and failures by class; allocation latency as a histogram; CMA areas;\n"
"limit refusals; the exporter's drops and scrape duration. Rows of cgroups\n"
"deeper than --cgroup-depth are summed into their ancestor's series, and past\n"
"--max-series the rows holding least are left out; both are counted in\n"
"metrics of their own. A removed cgroup's series end --keep-removed seconds\n"
"after its last buffer went. Runs until SIGINT, SIGTERM or SIGHUP (exit 0).\n"
"\n"
"USAGE: heapstat export --listen [ADDR]:PORT | --textfile DIR [-i SECS]\n"
"                       [--cgroup-depth N] [--max-series N]\n"
"                       [--keep-removed SECS]\n"
"\n"
"EXAMPLES:\n"
"    heapstat export --listen 127.0.0.1:9464          # serve /metrics\n"
"    heapstat export --textfile /var/lib/prometheus/node-exporter -i 15\n"
"    heapstat export --listen 127.0.0.1:9464 --cgroup-depth 2 --max-series 5000\n";

enum { OPT_LISTEN = 0x100, OPT_TEXTFILE, OPT_DEPTH, OPT_MAX_SERIES, OPT_KEEP };

static const struct argp_option options[] = {
	{ "listen", OPT_LISTEN, "[ADDR]:PORT", 0, "Serve /metrics over HTTP on ADDR:PORT "
	  "(e.g. 127.0.0.1:9464, [::1]:9464; :9464 on every interface)", 0 },
	{ "textfile", OPT_TEXTFILE, "DIR", 0, "Write DIR/heapstat.prom every interval instead", 0 },
	{ "interval", 'i', "SECS", 0, "Sample at most every SECS seconds with --listen "
	  "(default 1), every SECS with --textfile (default 15); 0.1 to 3600", 0 },
	{ "cgroup-depth", OPT_DEPTH, "N", 0, "Series for cgroups down to depth N below the root "
	  "(default 4, at most 64; 0: the root alone); deeper ones are summed into their "
	  "ancestor", 0 },
	{ "max-series", OPT_MAX_SERIES, "N", 0, "At most N series (default 10000; 0: no bound)", 0 },
	{ "keep-removed", OPT_KEEP, "SECS", 0, "Keep a removed cgroup's series SECS seconds after "
	  "its last buffer went (default 3600, at most 86400; 0: end them then)", 0 },
	{ NULL, 'h', NULL, 0, "Show this help", -1 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *st)
{
	switch (key) {
	case OPT_LISTEN:
		if (opts.listen)
			argp_error(st, "--listen given twice: one address");
		opts.listen = arg;
		break;
	case OPT_TEXTFILE:
		if (!arg[0])
			argp_error(st, "--textfile needs a directory");
		if (opts.textfile)
			argp_error(st, "--textfile given twice: one directory");
		opts.textfile = arg;
		break;
	case 'i':
		if (parse_interval_ms(arg, &opts.interval_ms) || opts.interval_ms < 100 ||
		    opts.interval_ms > 3600000)
			argp_error(st, "invalid interval '%s': seconds from 0.1 to 3600, to the "
				   "millisecond", text_safe(arg));
		break;
	case OPT_DEPTH:
		if (parse_u64(arg, 0, 64, &opts.cgroup_depth))
			argp_error(st, "invalid cgroup depth '%s': a whole number from 0 to 64", text_safe(arg));
		break;
	case OPT_MAX_SERIES:
		if (parse_u64(arg, 0, UINT32_MAX, &opts.max_series))
			argp_error(st, "invalid series bound '%s': a whole number, 0 for none", text_safe(arg));
		break;
	case OPT_KEEP:
		if (parse_interval_or_zero_ms(arg, &opts.keep_removed_ms))
			argp_error(st, "invalid time to keep removed cgroups '%s': 0, or seconds up "
				   "to 86400, to the millisecond", text_safe(arg));
		break;
	case 'h':
		argp_state_help(st, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_error(st, "unexpected argument '%s'", text_safe(arg));
		break;
	case ARGP_KEY_END:
		if (!opts.listen == !opts.textfile)
			argp_error(st, "give one of --listen [ADDR]:PORT and --textfile DIR");
		if (opts.listen) {
			struct sockaddr_storage sa;
			unsigned int salen;

			if (http_parse_addr(opts.listen, &sa, &salen))
				argp_error(st, "invalid address '%s': [ADDR]:PORT, e.g. 127.0.0.1:9464, "
					   "[::1]:9464 or :9464", text_safe(opts.listen));
		}
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

struct exporter {
	struct live *l;
	const struct live_frame *f;	/* the last sample; NULL: none yet */
	uint64_t sampled_ns;
	struct export_metrics m;
	bool said_untraced;
	bool said_sources;
};

/* a sample, unless the last is younger than max_age_ns */
static int sample(struct exporter *x, uint64_t max_age_ns)
{
	int err;

	if (x->f && now_ns() - x->sampled_ns < max_age_ns)
		return 0;
	err = live_sample(x->l, &x->f);
	if (err) {
		x->f = NULL;
		return err;
	}
	x->sampled_ns = now_ns();
	if (!x->said_sources) {
		sources_say(heapstat_cmd, x->f->inv, live_collector(x->l));
		x->said_sources = true;
	} else if (x->f->exits_refused) {	/* its hook is attached after the first sample */
		sources_say_refused(heapstat_cmd, live_collector(x->l), COLL_FEAT_HOLDERS);
	}
	if (x->f->no_tracing && !x->said_untraced) {
		fprintf(stderr, "heapstat export: not traced (heap and cgroup snapshots only: no "
			"allocation counts, latencies or failures): %s\n", x->f->no_tracing);
		x->said_untraced = true;
	}
	return 0;
}

/* the exposition of a sample, into f */
static int expose(struct exporter *x, FILE *f, enum prom_format fmt, uint64_t max_age_ns)
{
	uint64_t start = now_ns();
	struct prom p;
	int err = sample(x, max_age_ns);

	if (err)
		return err;
	prom_init(&p, f, fmt);
	err = export_metrics_write(&x->m, &p, x->f, live_collector(x->l));
	export_metrics_self(&p, (now_ns() - start) / 1e9);
	return err ?: ferror(f) ? -EIO : 0;
}

/* GET /metrics */
static int on_scrape(void *ctx, const char *accept, char **body, size_t *len, const char **type)
{
	struct exporter *x = ctx;
	enum prom_format fmt = prom_negotiate(accept);
	FILE *f = open_memstream(body, len);
	int err;

	if (!f)
		return -errno;
	err = expose(x, f, fmt, opts.interval_ms * 1000000ull);
	if (fclose(f) && !err)
		err = -EIO;
	if (err)
		heapstat_error(err, "sample the model for a scrape", NULL);
	*type = prom_content_type(fmt);
	return err;
}

/* between samples: the collector's events, which keep nothing in aggregate mode */
static int drain(struct exporter *x)
{
	return live_drain(x->l);
}

static int run_listen(struct exporter *x, struct http_server *s)
{
	int err = 0;

	while (!exiting && !err) {
		err = http_serve(s, LIVE_DRAIN_MS, on_scrape, x);
		if (!err)
			err = drain(x);
	}
	if (err)
		heapstat_error(err, "serve", NULL);
	return err ? 1 : 0;
}

/* a file of its own in @dir (its name in @tmp, 4096 bytes): its fd, or why not in @why */
static int textfile_tmp(const char *dir, char *tmp, char *why, size_t why_len)
{
	int fd;

	if (snprintf(tmp, 4096, "%s/.%s.XXXXXX", dir, TEXTFILE_NAME) >= 4096) {
		snprintf(why, why_len, "the path '%s' is too long", text_safe(dir));
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fd = -errno;
		snprintf(why, why_len, "cannot write in %s: %s", text_safe(dir), strerror(-fd));
	}
	return fd;
}

/*
 * DIR/heapstat.prom, whole or not at all: a file of its own in DIR, synced,
 * renamed over it. The exposition is made in memory first: a write that
 * fails (a full disk) is said as itself, not as the sample's failure.
 */
static int write_textfile(struct exporter *x, const char *dir, char *why, size_t why_len)
{
	char tmp[4096], path[4096], *body = NULL;
	const char *what = "write";
	size_t len = 0;
	FILE *m;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, TEXTFILE_NAME);
	fd = textfile_tmp(dir, tmp, why, why_len);
	if (fd < 0)
		return fd;
	m = open_memstream(&body, &len);
	err = m ? expose(x, m, PROM_TEXT, 0) : -errno;
	if (m && fclose(m) && !err)
		err = -ENOMEM;
	if (err)
		what = "sample the model for";
	else if (fchmod(fd, 0644))
		err = -errno;
	else
		err = write_all(fd, body, len);
	if (!err && fsync(fd))
		err = -errno;
	free(body);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path)) {
		err = -errno;
		snprintf(why, why_len, "cannot rename %s over %s: %s", text_safe(tmp),
			 text_safe(path), strerror(-err));
		unlink(tmp);
		return err;
	}
	if (!err)
		return 0;
	snprintf(why, why_len, "cannot %s %s: %s", what, text_safe(tmp), strerror(-err));
	unlink(tmp);
	return err;
}

/*
 * A file that cannot be written (a full disk, the directory gone) is said and
 * tried again at the next beat, as a scrape that fails is answered 500 and the
 * exporter serves on: said once for as long as it fails for one reason, and
 * when it is written again. The last file is left as it was (node_exporter's
 * node_textfile_mtime_seconds tells its age). The exit is then 1. The first
 * file failing ends the exporter at once, exit 1: it is not started (no
 * READY=1 to wait for), and systemd's Restart= tries it again.
 */
static int run_textfile(struct exporter *x)
{
	uint64_t next = now_ns();
	char why[8300];
	int err = 0, failing = 0;
	bool failed = false, written = false;

	while (!exiting && !err) {
		uint64_t now = now_ns();

		if (now >= next) {
			/* on time: the next beat; behind (stopped, a slow disk): one file, then on */
			next += opts.interval_ms * 1000000ull;
			if (next <= now)
				next = now + opts.interval_ms * 1000000ull;
			err = write_textfile(x, opts.textfile, why, sizeof(why));
			if (err && !written) {
				fprintf(stderr, "heapstat export: %s\n", why);
				return 1;
			}
			if (err) {
				if (err != failing)
					fprintf(stderr, "heapstat export: %s; trying again every %g s\n",
						why, opts.interval_ms / 1000.0);
				failing = err;
				failed = true;
				err = 0;
				continue;
			}
			if (failing)
				fprintf(stderr, "heapstat export: %s/%s written again\n",
					text_safe(opts.textfile), TEXTFILE_NAME);
			failing = 0;
			written = true;
			ready_notify("heapstat export", live_collector(x->l) ?
				     "writing the textfile, tracing" :
				     "writing the textfile, not tracing: snapshots");
		} else {
			struct timespec ts = { 0, LIVE_DRAIN_MS * 1000000L };

			nanosleep(&ts, NULL);
			err = drain(x);
			if (err)
				heapstat_error(err, "drain the collector", NULL);
		}
	}
	return err || failed ? 1 : 0;
}

/* a directory we can write in: checked before loading anything, as bad input */
static int check_dir(const char *dir)
{
	char tmp[4096], why[4200];
	struct stat st;
	int fd;

	if (stat(dir, &st)) {
		fprintf(stderr, "heapstat export: --textfile %s: %s\n", text_safe(dir), strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "heapstat export: --textfile %s: not a directory\n", text_safe(dir));
		return -ENOTDIR;
	}
	/* a file made there and removed: access() passes root anywhere (/proc, /sys) */
	fd = textfile_tmp(dir, tmp, why, sizeof(why));
	if (fd == -ENAMETOOLONG)
		fprintf(stderr, "heapstat export: --textfile: %s\n", why);
	else if (fd < 0)
		fprintf(stderr, "heapstat export: --textfile %s: cannot write in it: %s\n",
			text_safe(dir), strerror(-fd));
	if (fd < 0)
		return fd;
	close(fd);
	unlink(tmp);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, NULL, doc, heapstat_common_options,
					  NULL, NULL };
	struct sigaction sa = { .sa_handler = on_signal };
	struct exporter x = {};
	struct http_server *s = NULL;
	char why[512];
	int err, ret = 1;

	argv[0] = "heapstat export";
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (!opts.interval_ms)
		opts.interval_ms = opts.listen ? 1000 : 15000;
	x.m.cgroup_depth = opts.cgroup_depth;
	x.m.max_series = opts.max_series;

	/* bad input first, before anything is loaded: the port, the directory */
	if (opts.textfile && check_dir(opts.textfile))
		return EXIT_USAGE;
	if (opts.listen) {
		err = http_open(&s, opts.listen, why, sizeof(why));
		if (err == -ENOMEM) {
			heapstat_error(err, "listen", NULL);
			return 1;
		}
		if (err) {
			fprintf(stderr, "heapstat export: %s\n", why);
			return EXIT_USAGE;
		}
	}
	/* no SA_RESTART: a signal ends the wait */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);	/* its terminal gone: a stop, as heaptop's */
	signal(SIGPIPE, SIG_IGN);

	/* no BTF or a PID namespace of its own, no tracing: the metrics are
	 * snapshots, and stderr says why (sample()) */
	if (heapstat_caps_preflight()) {
		ret = EXIT_UNSUPPORTED;
		goto out;
	}
	err = live_open(&x.l, COLL_ATTACH_AUTO, EXPORT_RESCAN_MS);
	if (err) {
		heapstat_error(err, "start", NULL);
		goto out;
	}
	live_fold_depth(x.l, opts.cgroup_depth);	/* a folded series keeps its removed rows */
	live_keep_removed(x.l, opts.keep_removed_ms);
	live_name_removals(x.l);	/* before the first sample, which says what was refused */
	/* the first sample now: what is wrong is said at start, not at the first scrape */
	err = sample(&x, 0);
	if (err) {
		heapstat_error(err, "sample the model", NULL);
		goto out;
	}
	if (opts.listen)
		ready_notify("heapstat export", live_collector(x.l) ? "serving /metrics, tracing" :
			     "serving /metrics, not tracing: snapshots");
	ret = opts.listen ? run_listen(&x, s) : run_textfile(&x);
out:
	http_close(s);
	live_close(x.l);
	return ret;
}
