// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat report: a snapshot of who holds how much of which dma-buf heap,
 * per heap, cgroup, process and buffer, beside what the kernel charged each
 * cgroup (dmem.current).
 */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapstat.h"
#include "cgroup/dmem.h"
#include "cgroup/memcg.h"
#include "cgroup/path.h"
#include "lib/cma.h"
#include "lib/collector.h"
#include "lib/errors.h"
#include "lib/inventory.h"
#include "lib/json.h"
#include "lib/util.h"

enum view { V_SUMMARY, V_HEAPS, V_CGROUPS, V_PROCESSES, V_BUFFERS, V_CMA, V_ACTIVITY };
static const char * const view_names[] = {
	"summary", "heaps", "cgroups", "processes", "buffers", "cma", "activity"
};

static struct report_opts {
	enum view view;
	bool json, csv;
	const char *cgroup;
	const char *heap;
	pid_t pid;
	uint64_t duration_ms;
	bool procfs_only;
	enum coll_attach attach;
} opts;

static volatile sig_atomic_t exiting;

static const char doc[] =
"Show who holds how much of which dma-buf heap, now.\n"
"\n"
"VIEW is summary (the default), heaps, cgroups, processes, buffers, cma or\n"
"activity (with --duration).\n"
"Sizes are human-readable in tables and exact bytes in JSON and CSV.\n"
"Cgroup paths are relative to the cgroup2 root, e.g. /camera.\n"
"\n"
"With --duration, heapstat also traces every heap allocation, export, final\n"
"release and CMA allocation for that long and adds the activity: alloc/s,\n"
"free/s, latency p50/p99/max, failures by class (capacity, fragmentation,\n"
"busy, limit, other).\n"
"\n"
"USAGE: heapstat report [VIEW] [-c CGROUP] [-p PID] [--heap NAME] [-d SECS] [-j|--csv]\n"
"\n"
"EXAMPLES:\n"
"    heapstat report                   # every view, as tables\n"
"    heapstat report buffers --heap system\n"
"    heapstat report processes -c /camera\n"
"    heapstat report -j                # everything, as one JSON object\n"
"    heapstat report cgroups --csv\n"
"    heapstat report cma               # CMA areas: used, largest free extent\n"
"    heapstat report -d 10 -j          # ten seconds of activity, then the snapshot\n"
"    heapstat report activity -d 5 --attach kprobe   # without BPF trampolines\n";

enum { OPT_HEAP = 0x100, OPT_CSV, OPT_SOURCE, OPT_ATTACH };

static const struct argp_option options[] = {
	{ "cgroup", 'c', "CGROUP", 0, "Only processes in CGROUP (a path from the cgroup2 root)", 0 },
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

	switch (key) {
	case 'c':
		if (arg[0] != '/')
			argp_error(state, "cgroup '%s': give a path from the cgroup2 root, e.g. /camera", arg);
		opts.cgroup = arg;
		break;
	case 'p':
		if (parse_u64(arg, 1, INT32_MAX, &v))
			argp_error(state, "invalid pid '%s'", arg);
		opts.pid = v;
		break;
	case OPT_HEAP:
		opts.heap = arg;
		break;
	case 'd':
		if (parse_interval_ms(arg, &opts.duration_ms))
			argp_error(state, "invalid duration '%s': seconds from 0.001 to 86400", arg);
		break;
	case 'j':
		opts.json = true;
		break;
	case OPT_SOURCE:
		if (strcmp(arg, "auto") && strcmp(arg, "procfs"))
			argp_error(state, "unknown source '%s': auto or procfs", arg);
		opts.procfs_only = !strcmp(arg, "procfs");
		break;
	case OPT_CSV:
		opts.csv = true;
		break;
	case OPT_ATTACH:
		if (!strcmp(arg, "auto"))
			opts.attach = COLL_ATTACH_AUTO;
		else if (!strcmp(arg, "tracing"))
			opts.attach = COLL_ATTACH_TRACING;
		else if (!strcmp(arg, "kprobe"))
			opts.attach = COLL_ATTACH_KPROBE;
		else
			argp_error(state, "unknown attach mode '%s': auto, tracing or kprobe", arg);
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
		argp_error(state, "unknown view '%s': summary, heaps, cgroups, processes, buffers, cma or activity", arg);
		break;
	case ARGP_KEY_END:
		if (opts.json && opts.csv)
			argp_error(state, "-j and --csv exclude each other");
		if (opts.view == V_ACTIVITY && !opts.duration_ms)
			argp_error(state, "the activity view needs --duration SECS");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- the report's model, derived from the inventory ---- */

struct heap_row {
	char name[INV_NAME_LEN];
	uint64_t bytes;
	unsigned int buffers;
};

struct cg_row {
	char path[CGROUP_PATH_MAX];
	uint64_t bytes;			/* held: buffers its processes hold, each once */
	unsigned int buffers;
	struct heap_row *heaps;		/* held, per heap */
	size_t nheaps;
	struct heap_row *charged;	/* dmem.current per dma-heap region */
	size_t ncharged;
	struct cg_memcg memcg;		/* with dma_heap.mem_accounting */
	bool memcg_known;
};

struct report {
	struct inventory inv;
	bool *buf_shown;		/* per buffer: passes the filters */
	bool *proc_shown;		/* per process */
	struct heap_row *heaps;
	size_t nheaps;
	struct cg_row *cgs;
	size_t ncgs, cgs_cap;
	uint64_t kernel_held_bytes;
	unsigned int kernel_held;
	bool mem_accounting;		/* the system heap charges memcg */
	struct cma_area *cma;
	size_t ncma;
	struct collector *coll;		/* with --duration */
	double seconds;			/* how long it traced */
};

static bool in_cgroup(const char *path, const char *cg)
{
	size_t n = strlen(cg);

	if (!strcmp(cg, "/"))
		return true;
	return !strncmp(path, cg, n) && (path[n] == '\0' || path[n] == '/');
}

/* a cgroup id as a path, "?<id>" once it is gone: one walk of the tree, at first use */
static const char *cg_name(uint64_t id)
{
	static struct cg_index ix;
	static bool built;
	static char gone[32];
	const char *path;

	if (!id)
		return "(before tracing)";
	if (!built)
		built = !cg_index_build(&ix, CGROUP_ROOT);
	path = cg_index_path(&ix, id);
	if (path)
		return path;
	snprintf(gone, sizeof(gone), "?%llu", (unsigned long long)id);
	return gone;
}

static bool heap_stats_shown(const struct coll_heap_stats *h)
{
	return (!opts.heap || !strcmp(h->heap, opts.heap)) &&
	       (!opts.cgroup || in_cgroup(cg_name(h->cgroup_id), opts.cgroup));
}

static void print_activity(FILE *out, struct report *rep)
{
	size_t n;
	struct coll_heap_stats *hs = collector_heap_stats(rep->coll, &n);
	unsigned long long dropped = collector_dropped(rep->coll);

	if (opts.csv)
		fprintf(out, "cgroup,heap,allocs,alloc_bytes,frees,free_bytes,allocs_per_sec,"
			"frees_per_sec,p50_us,p99_us,max_us,fail_capacity,fail_fragmentation,"
			"fail_busy,fail_limit,fail_other\n");
	else
		fprintf(out, "%-24s %-20s %7s %8s %7s %8s %8s %8s %8s %s\n", "CGROUP", "HEAP",
			"ALLOCS", "ALLOC/s", "FREES", "FREE/s", "p50-us", "p99-us", "max-us",
			"FAIL cap/frag/busy/limit/other");
	for (size_t i = 0; i < n; i++) {
		struct coll_heap_stats *h = &hs[i];
		double p50 = lat_percentile(&h->lat, 50) / 1e3, p99 = lat_percentile(&h->lat, 99) / 1e3;
		double max = lat_percentile(&h->lat, 100) / 1e3;

		if (!heap_stats_shown(h))
			continue;
		if (opts.csv)
			fprintf(out, "%s,%s,%llu,%llu,%llu,%llu,%.2f,%.2f,%.1f,%.1f,%.1f,%llu,%llu,%llu,%llu,%llu\n",
				cg_name(h->cgroup_id), h->heap, (unsigned long long)h->agg.allocs,
				(unsigned long long)h->agg.alloc_bytes, (unsigned long long)h->agg.frees,
				(unsigned long long)h->agg.free_bytes, h->agg.allocs / rep->seconds,
				h->agg.frees / rep->seconds, p50, p99, max,
				(unsigned long long)h->agg.failures[FAIL_CAPACITY],
				(unsigned long long)h->agg.failures[FAIL_FRAGMENTATION],
				(unsigned long long)h->agg.failures[FAIL_BUSY],
				(unsigned long long)h->agg.failures[FAIL_LIMIT],
				(unsigned long long)h->agg.failures[FAIL_OTHER]);
		else
			fprintf(out, "%-24s %-20s %7llu %8.1f %7llu %8.1f %8.1f %8.1f %8.1f %llu/%llu/%llu/%llu/%llu\n",
				cg_name(h->cgroup_id), h->heap, (unsigned long long)h->agg.allocs,
				h->agg.allocs / rep->seconds, (unsigned long long)h->agg.frees,
				h->agg.frees / rep->seconds, p50, p99, max,
				(unsigned long long)h->agg.failures[FAIL_CAPACITY],
				(unsigned long long)h->agg.failures[FAIL_FRAGMENTATION],
				(unsigned long long)h->agg.failures[FAIL_BUSY],
				(unsigned long long)h->agg.failures[FAIL_LIMIT],
				(unsigned long long)h->agg.failures[FAIL_OTHER]);
	}
	if (dropped && opts.csv)	/* a line more would not be CSV */
		fprintf(stderr, "heapstat: %llu events dropped (a full ring buffer or map); "
			"latencies are of the rest\n", dropped);
	else if (dropped)
		fprintf(out, "dropped: %llu events\n", dropped);
}

static void json_activity(FILE *out, struct report *rep)
{
	size_t n, m;
	struct coll_heap_stats *hs = collector_heap_stats(rep->coll, &n);
	struct coll_cma_stats *cs = collector_cma_stats(rep->coll, &m);
	bool first = true;

	fprintf(out, ",\"duration_s\":%.3f,\"attach\":\"%s\",\"export_variant\":\"%s\","
		"\"heap_tracepoints\":%s,\"activity\":[", rep->seconds,
		coll_attach_name(collector_attach(rep->coll)), collector_export_variant(rep->coll),
		collector_heap_tracepoints(rep->coll) ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		struct coll_heap_stats *h = &hs[i];

		if (!heap_stats_shown(h))
			continue;
		fprintf(out, "%s{\"cgroup\":", first ? "" : ",");
		json_string(out, cg_name(h->cgroup_id));
		fprintf(out, ",\"heap\":");
		json_string(out, h->heap);
		fprintf(out, ",\"allocs\":%llu,\"alloc_bytes\":%llu,\"exports\":%llu,"
			"\"export_bytes\":%llu,\"frees\":%llu,\"free_bytes\":%llu,\"charged_bytes\":%lld,"
			"\"allocs_per_sec\":%.3f,\"frees_per_sec\":%.3f,"
			"\"latency_ns\":{\"p50\":%llu,\"p99\":%llu,\"max\":%llu},\"failures\":{",
			(unsigned long long)h->agg.allocs, (unsigned long long)h->agg.alloc_bytes,
			(unsigned long long)h->agg.exports, (unsigned long long)h->agg.export_bytes,
			(unsigned long long)h->agg.frees, (unsigned long long)h->agg.free_bytes,
			(long long)h->agg.charged_bytes, h->agg.allocs / rep->seconds, h->agg.frees / rep->seconds,
			(unsigned long long)lat_percentile(&h->lat, 50),
			(unsigned long long)lat_percentile(&h->lat, 99),
			(unsigned long long)lat_percentile(&h->lat, 100));
		for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
			fprintf(out, "%s\"%s\":%llu", c == FAIL_CAPACITY ? "" : ",", fail_class_name(c),
				(unsigned long long)h->agg.failures[c]);
		fprintf(out, "}}");
		first = false;
	}
	fprintf(out, "],\"cma_activity\":[");
	for (size_t i = 0; i < m; i++) {
		struct coll_cma_stats *c = &cs[i];

		fprintf(out, "%s{\"area\":", i ? "," : "");
		json_string(out, c->area);
		fprintf(out, ",\"allocs\":%llu,\"failures\":%llu,\"busy_retries\":%llu,"
			"\"alloc_bytes\":%llu,\"release_bytes\":%llu,"
			"\"latency_ns\":{\"p50\":%llu,\"p99\":%llu,\"max\":%llu}}",
			(unsigned long long)c->allocs, (unsigned long long)c->failures,
			(unsigned long long)c->busy_retries, (unsigned long long)c->alloc_bytes,
			(unsigned long long)c->release_bytes,
			(unsigned long long)lat_percentile(&c->lat, 50),
			(unsigned long long)lat_percentile(&c->lat, 99),
			(unsigned long long)lat_percentile(&c->lat, 100));
	}
	fputc(']', out);
}

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/* trace for the duration (or until a signal), then stop folding */
static int trace_activity(struct report *rep)
{
	uint64_t start = now_ns(), end = start + opts.duration_ms * 1000000ull;
	int err;

	err = collector_open(&rep->coll, opts.attach, 0, false);
	if (err)
		return err;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!exiting && now_ns() < end) {
		uint64_t left = (end - now_ns()) / 1000000;

		err = collector_poll(rep->coll, left > 100 ? 100 : (int)left + 1);
		if (err)
			return err;
	}
	rep->seconds = (now_ns() - start) / 1e9;
	err = collector_poll(rep->coll, 0);
	return err ? err : collector_sync(rep->coll);
}

static struct heap_row *heap_row(struct heap_row **rows, size_t *n, const char *name)
{
	struct heap_row *r;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*rows)[i].name, name))
			return &(*rows)[i];
	r = realloc(*rows, (*n + 1) * sizeof(*r));
	if (!r)
		return NULL;
	*rows = r;
	r = &r[(*n)++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

static struct cg_row *cg_row(struct report *rep, const char *path)
{
	struct cg_row *c;

	for (size_t i = 0; i < rep->ncgs; i++)
		if (!strcmp(rep->cgs[i].path, path))
			return &rep->cgs[i];
	if (grow_array((void **)&rep->cgs, &rep->cgs_cap, rep->ncgs, sizeof(*c)))
		return NULL;
	c = &rep->cgs[rep->ncgs++];
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	return c;
}

static int add_charge(const char *region, uint64_t value, void *arg)
{
	struct cg_row *c = arg;
	struct heap_row *h;

	if (strncmp(region, REGION_PREFIX, strlen(REGION_PREFIX)) || !value)
		return 0;
	h = heap_row(&c->charged, &c->ncharged, region + strlen(REGION_PREFIX));
	if (!h)
		return -ENOMEM;
	h->bytes = value;
	return 0;
}

static bool proc_passes(const struct inv_proc *p)
{
	return (!opts.pid || p->pid == opts.pid) && (!opts.cgroup || in_cgroup(p->cgroup, opts.cgroup));
}

static int build_report(struct report *rep)
{
	struct inventory *inv = &rep->inv;
	bool by_proc = opts.pid || opts.cgroup;
	size_t *cg_of;

	rep->mem_accounting = heap_mem_accounting();
	rep->buf_shown = calloc(inv->nbufs + 1, sizeof(bool));
	rep->proc_shown = calloc(inv->nprocs + 1, sizeof(bool));
	if (!rep->buf_shown || !rep->proc_shown)
		return -ENOMEM;
	for (size_t i = 0; i < inv->nprocs; i++)
		rep->proc_shown[i] = proc_passes(&inv->procs[i]);
	/* with a process filter, the buffers those processes hold */
	for (size_t i = 0; i < inv->nbufs; i++)
		rep->buf_shown[i] = !by_proc && (!opts.heap || !strcmp(inv->bufs[i].exp_name, opts.heap));
	for (size_t i = 0; by_proc && i < inv->nholds; i++) {
		const struct inv_hold *h = &inv->holds[i];

		if (rep->proc_shown[h->proc] &&
		    (!opts.heap || !strcmp(inv->bufs[h->buf].exp_name, opts.heap)))
			rep->buf_shown[h->buf] = true;
	}

	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		struct heap_row *h;

		if (!rep->buf_shown[i])
			continue;
		h = heap_row(&rep->heaps, &rep->nheaps, b->exp_name);
		if (!h)
			return -ENOMEM;
		h->bytes += b->size;
		h->buffers++;
		if (!b->holders && b->attachments_known && !b->attachments) {
			rep->kernel_held++;
			rep->kernel_held_bytes += b->size;
		}
	}

	/* held per cgroup: a buffer counts once per cgroup, whatever holds it */
	cg_of = malloc((inv->nprocs + 1) * sizeof(*cg_of));	/* each process's row */
	if (!cg_of)
		return -ENOMEM;
	for (size_t i = 0; i < inv->nprocs; i++)
		cg_of[i] = SIZE_MAX;
	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		size_t seen[64], nseen = 0;

		if (!rep->buf_shown[i])
			continue;
		for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++) {
			size_t proc = inv->holds[k].proc, ci = cg_of[proc];
			struct cg_row *c;
			struct heap_row *h;
			bool dup = false;

			if (!rep->proc_shown[proc])
				continue;
			if (ci == SIZE_MAX) {
				c = cg_row(rep, inv->procs[proc].cgroup);
				if (!c)
					goto nomem;
				ci = cg_of[proc] = c - rep->cgs;
			}
			for (size_t s = 0; s < nseen && !dup; s++)
				dup = seen[s] == ci;
			if (dup)
				continue;
			if (nseen < ARRAY_SIZE(seen))
				seen[nseen++] = ci;
			c = &rep->cgs[ci];
			h = heap_row(&c->heaps, &c->nheaps, b->exp_name);
			if (!h)
				goto nomem;
			c->bytes += b->size;
			c->buffers++;
			h->bytes += b->size;
			h->buffers++;
		}
	}
	free(cg_of);
	/* what the kernel charged them */
	for (size_t i = 0; i < rep->ncgs; i++) {
		char dir[CGROUP_PATH_MAX + 32];
		int err;

		snprintf(dir, sizeof(dir), "%s%s", CGROUP_ROOT,
			 strcmp(rep->cgs[i].path, "/") ? rep->cgs[i].path : "");
		err = cg_dmem_each(dir, "dmem.current", add_charge, &rep->cgs[i]);
		if (err && err != -ENOENT)	/* no dmem controller there: nothing charged */
			return err;
		if (rep->mem_accounting)	/* no memory controller there: unknown */
			rep->cgs[i].memcg_known = !cg_memcg_read(dir, &rep->cgs[i].memcg);
	}
	return 0;
nomem:
	free(cg_of);
	return -ENOMEM;
}

static void free_report(struct report *rep)
{
	for (size_t i = 0; i < rep->ncgs; i++) {
		free(rep->cgs[i].heaps);
		free(rep->cgs[i].charged);
	}
	free(rep->cgs);
	free(rep->heaps);
	free(rep->buf_shown);
	free(rep->proc_shown);
	free(rep->cma);
	collector_close(rep->coll);
	inventory_free(&rep->inv);
}

/* ---- output ---- */

static const char *hsize(uint64_t bytes)
{
	static char bufs[8][16];
	static int next;
	char *b = bufs[next++ % 8];

	return format_size(bytes, b, 16);
}

static void print_heaps(FILE *out, const struct report *rep)
{
	if (opts.csv) {
		fprintf(out, "heap,bytes,buffers\n");
		for (size_t i = 0; i < rep->nheaps; i++)
			fprintf(out, "%s,%llu,%u\n", rep->heaps[i].name,
				(unsigned long long)rep->heaps[i].bytes, rep->heaps[i].buffers);
		return;
	}
	fprintf(out, "%-24s %10s %8s\n", "HEAP", "BYTES", "BUFFERS");
	for (size_t i = 0; i < rep->nheaps; i++)
		fprintf(out, "%-24s %10s %8u\n", rep->heaps[i].name, hsize(rep->heaps[i].bytes),
			rep->heaps[i].buffers);
	if (rep->kernel_held)
		fprintf(out, "kernel-held (no fd, mapping or attachment): %u buffers, %s\n",
			rep->kernel_held, hsize(rep->kernel_held_bytes));
}

static uint64_t charged_of(const struct cg_row *c, const char *heap)
{
	for (size_t i = 0; i < c->ncharged; i++)
		if (!strcmp(c->charged[i].name, heap))
			return c->charged[i].bytes;
	return 0;
}

static void print_cgroups(FILE *out, const struct report *rep)
{
	if (opts.csv)
		fprintf(out, "cgroup,heap,held_bytes,held_buffers,charged_bytes,memcg_kernel_bytes\n");
	else
		fprintf(out, "%-28s %-24s %10s %8s %10s %12s\n", "CGROUP", "HEAP", "HELD", "BUFFERS",
			"CHARGED", "MEMCG-KERNEL");
	for (size_t i = 0; i < rep->ncgs; i++) {
		const struct cg_row *c = &rep->cgs[i];

		for (size_t k = 0; k < c->nheaps; k++) {
			const struct heap_row *h = &c->heaps[k];
			char memcg[24] = "";

			/* once per cgroup: memcg charges are not split per heap */
			if (c->memcg_known && !k)
				snprintf(memcg, sizeof(memcg), "%llu",
					 (unsigned long long)c->memcg.kernel);
			if (opts.csv)
				fprintf(out, "%s,%s,%llu,%u,%llu,%s\n", c->path, h->name,
					(unsigned long long)h->bytes, h->buffers,
					(unsigned long long)charged_of(c, h->name), memcg);
			else
				fprintf(out, "%-28s %-24s %10s %8u %10s %12s\n", c->path, h->name,
					hsize(h->bytes), h->buffers, hsize(charged_of(c, h->name)),
					memcg[0] ? hsize(c->memcg.kernel) : "-");
		}
	}
}

static void print_processes(FILE *out, const struct report *rep)
{
	const struct inventory *inv = &rep->inv;

	if (opts.csv)
		fprintf(out, "pid,comm,cgroup,fd_bytes,map_bytes,pss_bytes,buffers\n");
	else
		fprintf(out, "%7s %-16s %-28s %10s %10s %10s %7s\n", "PID", "COMM", "CGROUP",
			"FD-BYTES", "MAP-BYTES", "PSS", "BUFFERS");
	for (size_t i = 0; i < inv->nprocs; i++) {
		const struct inv_proc *p = &inv->procs[i];

		if (!rep->proc_shown[i])
			continue;
		if (opts.csv)
			fprintf(out, "%d,%s,%s,%llu,%llu,%llu,%u\n", p->pid, p->comm, p->cgroup,
				(unsigned long long)p->fd_bytes, (unsigned long long)p->map_bytes,
				(unsigned long long)p->pss_bytes, p->buffers);
		else
			fprintf(out, "%7d %-16s %-28s %10s %10s %10s %7u\n", p->pid, p->comm,
				p->cgroup, hsize(p->fd_bytes), hsize(p->map_bytes),
				hsize(p->pss_bytes), p->buffers);
	}
}

/* the devices attached to a buffer, as far as named: "-" for none or unknown */
static const char *importers(const struct inv_buf *b, const char *sep, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; b->attachments_known && i < b->nimporters; i++)
		len += snprintf(buf + len, size - len, "%s%.*s", len ? sep : "",
				INV_NAME_LEN, b->importers[i]);
	return len ? buf : "-";
}

static void print_buffers(FILE *out, const struct report *rep)
{
	const struct inventory *inv = &rep->inv;

	if (opts.csv)
		fprintf(out, "inode,heap,name,bytes,attachments,importers,holders\n");
	else
		fprintf(out, "%10s %-24s %-16s %10s %7s %-20s %s\n", "INODE", "HEAP", "NAME", "BYTES",
			"ATTACH", "IMPORTERS", "HOLDERS");
	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		char holders[256] = "", attach[12] = "?", imp[INV_MAX_IMPORTERS * (INV_NAME_LEN + 1)];
		size_t len = 0;

		if (!rep->buf_shown[i])
			continue;
		for (size_t k = b->first_hold; k < b->first_hold + b->holders &&
					       len < sizeof(holders) - 16; k++)
			len += snprintf(holders + len, sizeof(holders) - len, "%s%d",
					len ? (opts.csv ? ";" : ",") : "",
					inv->procs[inv->holds[k].proc].pid);
		if (b->attachments_known)
			snprintf(attach, sizeof(attach), "%u", b->attachments);
		if (!len)
			snprintf(holders, sizeof(holders), "%s", b->attachments_known &&
				 !b->attachments ? "kernel" : "-");
		if (opts.csv)
			fprintf(out, "%llu,%s,%s,%llu,%s,%s,%s\n", (unsigned long long)b->ino,
				b->exp_name, b->name, (unsigned long long)b->size, attach,
				importers(b, ";", imp, sizeof(imp)), holders);
		else
			fprintf(out, "%10llu %-24s %-16s %10s %7s %-20s %s\n", (unsigned long long)b->ino,
				b->exp_name, b->name[0] ? b->name : "-", hsize(b->size),
				attach, importers(b, ",", imp, sizeof(imp)), holders);
	}
}

static void print_cma(FILE *out, const struct report *rep)
{
	if (opts.csv)
		fprintf(out, "area,total_bytes,used_bytes,free_bytes,largest_free_bytes,free_extents,"
			"fragmentation,alloc_success_pages,alloc_fail_pages\n");
	else
		fprintf(out, "%-20s %10s %10s %12s %8s %6s %10s %10s\n", "CMA-AREA", "TOTAL", "USED",
			"LARGEST-FREE", "EXTENTS", "FRAG", "ALLOC-OK", "ALLOC-FAIL");
	for (size_t i = 0; i < rep->ncma; i++) {
		const struct cma_area *a = &rep->cma[i];
		char frag[16] = "?", largest[16] = "?", extents[16] = "?";

		if (a->have_bitmap) {
			snprintf(frag, sizeof(frag), "%.3f", a->fragmentation);
			snprintf(extents, sizeof(extents), "%u", a->free_extents);
			if (opts.csv)
				snprintf(largest, sizeof(largest), "%llu",
					 (unsigned long long)a->largest_free_bytes);
			else
				format_size(a->largest_free_bytes, largest, sizeof(largest));
		}
		if (opts.csv)
			fprintf(out, "%s,%llu,%llu,%llu,%s,%s,%s,%llu,%llu\n", a->name,
				(unsigned long long)a->total_bytes, (unsigned long long)a->used_bytes,
				(unsigned long long)(a->total_bytes - a->used_bytes), largest, extents,
				frag, (unsigned long long)a->alloc_success_pages,
				(unsigned long long)a->alloc_fail_pages);
		else
			fprintf(out, "%-20s %10s %10s %12s %8s %6s %10llu %10llu\n", a->name,
				hsize(a->total_bytes), hsize(a->used_bytes), largest, extents, frag,
				(unsigned long long)a->alloc_success_pages,
				(unsigned long long)a->alloc_fail_pages);
	}
	if (!opts.csv && !rep->ncma)
		fprintf(out, "(no CMA area: boot with cma=SIZE)\n");
	else if (!opts.csv && rep->ncma && !rep->cma[0].have_bitmap)
		fprintf(out, "(free extents need debugfs: mount -t debugfs none /sys/kernel/debug)\n");
}

static void json_heap_rows(FILE *out, const struct heap_row *rows, size_t n, bool buffers)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_string(out, rows[i].name);
		fprintf(out, ",\"bytes\":%llu", (unsigned long long)rows[i].bytes);
		if (buffers)
			fprintf(out, ",\"buffers\":%u", rows[i].buffers);
		fputc('}', out);
	}
	fputc(']', out);
}

/* the heaps this system offers: /dev/dma_heap/<name> */
static void print_heap_devices(FILE *out)
{
	DIR *d = opendir("/dev/dma_heap");
	struct dirent *de;
	bool first = true;

	fputc('[', out);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		fputs(first ? "" : ",", out);
		json_string(out, de->d_name);
		first = false;
	}
	fputc(']', out);
	if (d)
		closedir(d);
}

static bool have_heaps(void)
{
	return access("/dev/dma_heap", F_OK) == 0;
}

/* free_bytes, largest_free_bytes, fragmentation, free_extents_by_order of an area */
static void json_extents(FILE *out, const struct cma_area *a)
{
	fprintf(out, "\"free_bytes\":%llu,\"largest_free_bytes\":%llu,\"fragmentation\":%.6f,"
		"\"free_extents_by_order\":{", (unsigned long long)a->free_bytes,
		(unsigned long long)a->largest_free_bytes, a->fragmentation);
	for (int o = 0, first = 1; o < CMA_ORDERS; o++) {
		if (!a->free_by_order[o])
			continue;
		fprintf(out, "%s\"%d\":%u", first ? "" : ",", o, a->free_by_order[o]);
		first = 0;
	}
	fputc('}', out);
}

/* the collector's free-extent map of an area, when it has one */
static const struct coll_cma_stats *traced_area(struct collector *coll, const char *name)
{
	size_t n;
	const struct coll_cma_stats *cs = collector_cma_stats(coll, &n);

	for (size_t i = 0; i < n; i++)
		if (cs[i].mapped && !strcmp(cs[i].area, name))
			return &cs[i];
	return NULL;
}

static void print_json(FILE *out, struct report *rep)
{
	const struct inventory *inv = &rep->inv;
	const struct coll_cma_stats *t;
	struct coll_buf x;
	bool first = true;

	fprintf(out, "{\"sources\":{\"buffers\":\"%s\",\"holders\":\"%s\"",
		inv_source_name(inv->buffers_src), inv_source_name(inv->holders_src));
	if (inv->buffers_note) {
		fprintf(out, ",\"note\":");
		json_string(out, inv->buffers_note);
	}
	fprintf(out, "},\"dma_heap_devices\":");
	print_heap_devices(out);
	fprintf(out, ",\"heaps\":");
	json_heap_rows(out, rep->heaps, rep->nheaps, true);
	fprintf(out, ",\"mem_accounting\":%s", rep->mem_accounting ? "true" : "false");
	fprintf(out, ",\"kernel_held\":{\"bytes\":%llu,\"buffers\":%u}",
		(unsigned long long)rep->kernel_held_bytes, rep->kernel_held);

	fprintf(out, ",\"cgroups\":[");
	for (size_t i = 0; i < rep->ncgs; i++) {
		const struct cg_row *c = &rep->cgs[i];

		fprintf(out, "%s{\"path\":", i ? "," : "");
		json_string(out, c->path);
		fprintf(out, ",\"bytes\":%llu,\"buffers\":%u,\"heaps\":",
			(unsigned long long)c->bytes, c->buffers);
		json_heap_rows(out, c->heaps, c->nheaps, true);
		fprintf(out, ",\"charged\":");
		json_heap_rows(out, c->charged, c->ncharged, false);
		if (c->memcg_known) {
			fprintf(out, ",\"memcg\":{\"current_bytes\":%llu,\"kernel_bytes\":%llu,"
				"\"max_bytes\":", (unsigned long long)c->memcg.current,
				(unsigned long long)c->memcg.kernel);
			if (c->memcg.max == CG_DMEM_MAX)
				fprintf(out, "null}");
			else
				fprintf(out, "%llu}", (unsigned long long)c->memcg.max);
		} else {
			fprintf(out, ",\"memcg\":null");
		}
		fputc('}', out);
	}

	fprintf(out, "],\"processes\":[");
	for (size_t i = 0; i < inv->nprocs; i++) {
		const struct inv_proc *p = &inv->procs[i];

		if (!rep->proc_shown[i])
			continue;
		fputs(first ? "" : ",", out);
		json_process(out, p);
		first = false;
	}

	fprintf(out, "],\"buffers\":[");
	first = true;
	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		bool hfirst = true;

		if (!rep->buf_shown[i])
			continue;
		fprintf(out, "%s{\"inode\":%llu,\"heap\":", first ? "" : ",",
			(unsigned long long)b->ino);
		json_string(out, b->exp_name);
		fprintf(out, ",\"name\":");
		json_string(out, b->name);
		fprintf(out, ",\"bytes\":%llu,\"attachments\":", (unsigned long long)b->size);
		if (b->attachments_known) {
			fprintf(out, "%u,\"importers\":[", b->attachments);
			for (int k = 0; k < b->nimporters; k++) {
				fprintf(out, "%s", k ? "," : "");
				json_string(out, b->importers[k]);
			}
			fputc(']', out);
		} else {
			fprintf(out, "null,\"importers\":null");
		}
		/* who exported it is known for buffers exported while tracing */
		if (rep->coll && collector_export_of(rep->coll, b->ino, &x)) {
			fprintf(out, ",\"cgroup\":");
			json_string(out, cg_name(x.cgroup_id));
			fprintf(out, ",\"pid\":%u,\"charged_cgroup\":", x.tgid);
			if (x.charged_cgroup_id)
				json_string(out, cg_name(x.charged_cgroup_id));
			else
				fprintf(out, "null");
		} else {
			fprintf(out, ",\"cgroup\":null,\"pid\":null,\"charged_cgroup\":null");
		}
		fprintf(out, ",\"kernel_held\":%s,\"holders\":[",
			!b->holders && b->attachments_known && !b->attachments ? "true" : "false");
		for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++) {
			const struct inv_hold *h = &inv->holds[k];

			fprintf(out, "%s{\"pid\":%d,\"fds\":%u,\"map_bytes\":%llu}", hfirst ? "" : ",",
				inv->procs[h->proc].pid, h->fds, (unsigned long long)h->map_bytes);
			hfirst = false;
		}
		fprintf(out, "]}");
		first = false;
	}
	fprintf(out, "],\"cma_areas\":[");
	for (size_t i = 0; i < rep->ncma; i++) {
		const struct cma_area *a = &rep->cma[i];

		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_string(out, a->name);
		fprintf(out, ",\"total_bytes\":%llu,\"used_bytes\":%llu,\"alloc_success_pages\":%llu,"
			"\"alloc_fail_pages\":%llu,\"release_pages\":%llu,\"source\":\"%s\"",
			(unsigned long long)a->total_bytes, (unsigned long long)a->used_bytes,
			(unsigned long long)a->alloc_success_pages,
			(unsigned long long)a->alloc_fail_pages, (unsigned long long)a->release_pages,
			a->have_bitmap ? "sysfs+debugfs-bitmap" : "sysfs");
		if (a->have_bitmap) {
			fputc(',', out);
			json_extents(out, a);
		} else {
			fprintf(out, ",\"free_bytes\":%llu,\"largest_free_bytes\":null,"
				"\"fragmentation\":null,\"free_extents_by_order\":null",
				(unsigned long long)(a->total_bytes - a->used_bytes));
		}
		/* with --duration: the map kept from the traced events */
		t = rep->coll ? traced_area(rep->coll, a->name) : NULL;
		if (t) {
			fprintf(out, ",\"traced\":{");
			json_extents(out, &t->traced);
			fputc('}', out);
		} else if (rep->coll) {
			fprintf(out, ",\"traced\":null");
		}
		fputc('}', out);
	}
	fputc(']', out);
	if (rep->coll)
		json_activity(out, rep);
	fprintf(out, ",\"drops\":%llu}\n",
		(unsigned long long)(rep->coll ? collector_dropped(rep->coll) : 0));
}

int cmd_report(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, "[VIEW]", doc, NULL, NULL, NULL };
	struct report rep = {};
	int err, ret = 1;

	argv[0] = "heapstat report";
	argp_err_exit_status = 1;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 1;
	err = heapstat_bpf_preflight();
	if (err)
		return EXIT_UNSUPPORTED;
	if (opts.duration_ms) {
		err = trace_activity(&rep);
		if (err) {
			ret = EXIT_UNSUPPORTED;
			goto out;
		}
	}

	err = inventory_collect(&rep.inv, "/proc", opts.procfs_only);
	if (!err)
		err = build_report(&rep);
	if (!err)
		err = cma_areas_read(CMA_SYSFS, CMA_DEBUGFS, &rep.cma, &rep.ncma);
	if (err) {
		heapstat_error(err, "take the inventory", NULL);
		goto out;
	}
	if (opts.json) {
		print_json(stdout, &rep);
	} else {
		switch (opts.view) {
		case V_SUMMARY:
			if (opts.csv) {
				print_heaps(stdout, &rep);
				break;
			}
			printf("buffers from %s, holders from %s\n",
			       inv_source_name(rep.inv.buffers_src), inv_source_name(rep.inv.holders_src));
			if (rep.inv.buffers_note)
				printf("note: %s\n", rep.inv.buffers_note);
			if (!have_heaps())
				printf("note: no DMA-BUF heaps here (no /dev/dma_heap: CONFIG_DMABUF_HEAPS)\n");
			if (!rep.inv.nbufs)
				printf("note: no dma-buf is alive\n");
			putchar('\n');
			print_heaps(stdout, &rep);
			putchar('\n');
			print_cgroups(stdout, &rep);
			putchar('\n');
			print_processes(stdout, &rep);
			putchar('\n');
			print_cma(stdout, &rep);
			if (rep.coll) {
				printf("\nactivity over %.1f s\n", rep.seconds);
				print_activity(stdout, &rep);
			}
			break;
		case V_HEAPS: print_heaps(stdout, &rep); break;
		case V_CGROUPS: print_cgroups(stdout, &rep); break;
		case V_PROCESSES: print_processes(stdout, &rep); break;
		case V_BUFFERS: print_buffers(stdout, &rep); break;
		case V_CMA: print_cma(stdout, &rep); break;
		case V_ACTIVITY: print_activity(stdout, &rep); break;
		}
	}
	ret = 0;
out:
	free_report(&rep);
	return ret;
}
