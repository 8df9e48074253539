// SPDX-License-Identifier: GPL-2.0
/*
 * heaptop's views of a frame, as lines of text (for the terminal and for
 * batch mode alike) and as JSON: the header meters, then the table of the
 * current view, filtered and sorted as the user chose.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/util.h"
#include "top.h"

#define LINE_MAX_LEN	1024
#define CG_WIDTH	24

const char * const top_view_names[TV_COUNT] = { "cgroups", "processes", "buffers" };

enum { C_CGROUP, C_HEAP, C_BYTES, C_BUFS, C_PEAK, C_ALLOC, C_FREE, C_P50, C_P99, C_FAIL,
       C_LIMIT, C_HEADROOM, C_ROWS };
static const char * const row_cols[C_ROWS] = {
	"CGROUP", "HEAP", "BYTES", "BUFS", "PEAK", "ALLOC/s", "FREE/s", "p50-us", "p99-us",
	"FAIL", "LIMIT", "HEADROOM",
};
enum { P_PID, P_COMM, P_CGROUP, P_FD, P_MAP, P_PSS, P_BUFS, P_COLS };
static const char * const proc_cols[P_COLS] = {
	"PID", "COMM", "CGROUP", "FD-BYTES", "MAP-BYTES", "PSS", "BUFS",
};
enum { B_INODE, B_HEAP, B_SIZE, B_AGE, B_EXPORTER, B_HOLDERS, B_COLS };
static const char * const buf_cols[B_COLS] = {
	"INODE", "HEAP", "SIZE", "AGE-s", "EXPORTER", "HOLDERS",
};

/* what each view sorts by at first: bytes held, PSS, size */
const int top_default_sort[TV_COUNT] = { C_BYTES, P_PSS, B_SIZE };

int top_view_columns(enum top_view v, const char * const **names)
{
	switch (v) {
	case TV_PROCESSES: *names = proc_cols; return P_COLS;
	case TV_BUFFERS: *names = buf_cols; return B_COLS;
	default: *names = row_cols; return C_ROWS;
	}
}

static bool in_cgroup(const char *path, const char *filter)
{
	size_t n = strlen(filter);

	if (!n || !strcmp(filter, "/"))
		return true;
	return !strncmp(path, filter, n) && (path[n] == '\0' || path[n] == '/');
}

static const char *size(uint64_t bytes, char *buf)
{
	return format_size(bytes, buf, 16);
}

/* a path that fits the column: its tail */
static const char *fit(const char *path, char *buf, size_t width)
{
	size_t n = strlen(path);

	if (n <= width)
		return path;
	snprintf(buf, width + 1, "..%s", path + n - (width - 2));
	return buf;
}

#define NUM_LEN	24

/* tenths to one decimal, in integers: a thousand rows a second notice printf's %f */
static const char *tenths(uint64_t tenths, char *buf)
{
	snprintf(buf, NUM_LEN, "%llu.%u", (unsigned long long)(tenths / 10), (unsigned int)(tenths % 10));
	return buf;
}

static const char *rate(double per_sec, char *buf)
{
	return tenths((uint64_t)(per_sec * 10 + 0.5), buf);
}

static uint64_t headroom(const struct live_row *r)
{
	return r->limit > r->charged ? r->limit - r->charged : 0;
}

/* ---- sorting: one comparator per view, on the chosen column ---- */

static int sort_col;
static bool sort_asc;

#define CMP(a, b)	((a) > (b) ? 1 : (a) < (b) ? -1 : 0)

static int ordered(int c)
{
	return sort_asc ? c : -c;
}

static int cmp_rows(const void *x, const void *y)
{
	const struct live_row *a = *(const struct live_row * const *)x;
	const struct live_row *b = *(const struct live_row * const *)y;
	int c;

	switch (sort_col) {
	case C_CGROUP: c = strcmp(a->cgroup, b->cgroup); break;
	case C_HEAP: c = strcmp(a->heap, b->heap); break;
	case C_BUFS: c = CMP(a->bufs, b->bufs); break;
	case C_PEAK: c = CMP(a->peak, b->peak); break;
	case C_ALLOC: c = CMP(a->alloc_rate, b->alloc_rate); break;
	case C_FREE: c = CMP(a->free_rate, b->free_rate); break;
	case C_P50: c = CMP(a->p50_ns, b->p50_ns); break;
	case C_P99: c = CMP(a->p99_ns, b->p99_ns); break;
	case C_FAIL: c = CMP(a->fails, b->fails); break;
	case C_LIMIT: c = CMP(a->limit, b->limit); break;
	case C_HEADROOM: c = CMP(headroom(a), headroom(b)); break;
	default: c = CMP(a->bytes, b->bytes); break;
	}
	if (!c)	/* a stable order between equals: by name */
		c = sort_asc ? strcmp(a->cgroup, b->cgroup) ?: strcmp(a->heap, b->heap) :
			       strcmp(b->cgroup, a->cgroup) ?: strcmp(b->heap, a->heap);
	return ordered(c);
}

static int cmp_procs(const void *x, const void *y)
{
	const struct inv_proc *a = *(const struct inv_proc * const *)x;
	const struct inv_proc *b = *(const struct inv_proc * const *)y;
	int c;

	switch (sort_col) {
	case P_PID: c = CMP(a->pid, b->pid); break;
	case P_COMM: c = strcmp(a->comm, b->comm); break;
	case P_CGROUP: c = strcmp(a->cgroup, b->cgroup); break;
	case P_FD: c = CMP(a->fd_bytes, b->fd_bytes); break;
	case P_MAP: c = CMP(a->map_bytes, b->map_bytes); break;
	case P_BUFS: c = CMP(a->buffers, b->buffers); break;
	default: c = CMP(a->pss_bytes, b->pss_bytes); break;
	}
	return ordered(c ?: CMP(b->pid, a->pid));
}

static int cmp_bufs(const void *x, const void *y)
{
	const struct inv_buf *a = *(const struct inv_buf * const *)x;
	const struct inv_buf *b = *(const struct inv_buf * const *)y;
	int c;

	switch (sort_col) {
	case B_INODE: c = CMP(a->ino, b->ino); break;
	case B_HEAP: c = strcmp(a->exp_name, b->exp_name); break;
	case B_HOLDERS: c = CMP(a->holders, b->holders); break;
	/* age: the inode grows with time, older buffers have smaller ones */
	case B_AGE: c = CMP(b->ino, a->ino); break;
	case B_EXPORTER: c = 0; break;
	default: c = CMP(a->size, b->size); break;
	}
	return ordered(c ?: CMP(b->ino, a->ino));
}

/* ---- filters ---- */

static bool row_shown(const struct live_row *r, const struct top_state *st)
{
	return in_cgroup(r->cgroup, st->cgroup) && (!st->heap[0] || !strcmp(r->heap, st->heap));
}

static bool buf_shown(const struct inventory *inv, const struct inv_buf *b,
		      const struct top_state *st)
{
	if (st->heap[0] && strcmp(b->exp_name, st->heap))
		return false;
	if (!st->cgroup[0])
		return true;
	for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++)
		if (in_cgroup(inv->procs[inv->holds[k].proc].cgroup, st->cgroup))
			return true;
	return false;
}

static bool proc_shown(const struct inventory *inv, size_t p, const struct top_state *st)
{
	if (!in_cgroup(inv->procs[p].cgroup, st->cgroup))
		return false;
	if (!st->heap[0])
		return true;
	for (size_t k = 0; k < inv->nholds; k++)
		if (inv->holds[k].proc == p && !strcmp(inv->bufs[inv->holds[k].buf].exp_name, st->heap))
			return true;
	return false;
}

/* pointers to what passes the filters, sorted; NULL on ENOMEM */
static const void **select_sorted(const struct live_frame *f, const struct top_state *st,
				  size_t *n)
{
	const struct inventory *inv = f->inv;
	size_t cap = f->nrows + inv->nprocs + inv->nbufs + 1;
	const void **v = malloc(cap * sizeof(*v));
	int (*cmp)(const void *, const void *);

	if (!v)
		return NULL;
	*n = 0;
	switch (st->view) {
	case TV_PROCESSES:
		for (size_t i = 0; i < inv->nprocs; i++)
			if (proc_shown(inv, i, st))
				v[(*n)++] = &inv->procs[i];
		cmp = cmp_procs;
		break;
	case TV_BUFFERS:
		for (size_t i = 0; i < inv->nbufs; i++)
			if (buf_shown(inv, &inv->bufs[i], st))
				v[(*n)++] = &inv->bufs[i];
		cmp = cmp_bufs;
		break;
	default:
		for (size_t i = 0; i < f->nrows; i++)
			if (row_shown(&f->rows[i], st))
				v[(*n)++] = &f->rows[i];
		cmp = cmp_rows;
		break;
	}
	sort_col = st->sort[st->view];
	sort_asc = st->ascending;
	qsort(v, *n, sizeof(*v), cmp);
	return v;
}

/* ---- lines ---- */

static void emitf(top_emit_fn emit, void *ctx, enum top_attr attr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void emitf(top_emit_fn emit, void *ctx, enum top_attr attr, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(ctx, attr, line);
}

static void render_meters(const struct live_frame *f, int width, top_emit_fn emit, void *ctx)
{
	char line[LINE_MAX_LEN], a[16], b[16], c[16];
	size_t len = 0;

	for (size_t i = 0; i < f->ncma; i++) {
		const struct live_cma *m = &f->cma[i];
		char bar[11];
		int fill = m->total ? (int)(m->used * 10 / m->total) : 0;

		memset(bar, '#', fill);
		memset(bar + fill, '.', 10 - fill);
		bar[10] = '\0';
		if (m->mapped)
			emitf(emit, ctx, TA_NORMAL, "CMA %-14s [%s] %7s/%-7s largest free %7s  frag %.2f",
			      m->name, bar, size(m->used, a), size(m->total, b),
			      size(m->largest_free, c), m->fragmentation);
		else
			emitf(emit, ctx, TA_NORMAL, "CMA %-14s [%s] %7s/%-7s largest free ?  frag ?",
			      m->name, bar, size(m->used, a), size(m->total, b));
	}
	line[0] = '\0';
	for (size_t i = 0; i < f->nheaps; i++) {
		const struct live_heap *h = &f->heaps[i];
		char item[96];
		int n = snprintf(item, sizeof(item), "%s%s %s in %u", len ? "  " : "HEAPS ",
				 h->name, size(h->bytes, a), h->bufs);

		if (width > 0 && len && len + n > (size_t)width) {
			emit(ctx, TA_NORMAL, line);
			len = 0;
			n = snprintf(item, sizeof(item), "      %s %s in %u", h->name,
				     size(h->bytes, a), h->bufs);
		}
		len += snprintf(line + len, sizeof(line) - len, "%s", item);
		if (len >= sizeof(line) - 1)
			break;
	}
	emit(ctx, TA_NORMAL, f->nheaps ? line : "HEAPS (no dma-buf)");
	if (f->drops)
		emitf(emit, ctx, TA_ALERT, "DROPPED %llu events (counts stay exact; latencies miss them)",
		      (unsigned long long)f->drops);
}

static void render_rows(const void **v, size_t n, top_emit_fn emit, void *ctx)
{
	emitf(emit, ctx, TA_HEADER, "%-*s %-20s %8s %5s %8s %8s %8s %8s %8s %5s %8s %8s",
	      CG_WIDTH, row_cols[0], row_cols[1], row_cols[2], row_cols[3], row_cols[4],
	      row_cols[5], row_cols[6], row_cols[7], row_cols[8], row_cols[9], row_cols[10],
	      row_cols[11]);
	for (size_t i = 0; i < n; i++) {
		const struct live_row *r = v[i];
		char cg[CG_WIDTH + 1], b[16], p[16], l[16], h[16], p50[NUM_LEN] = "-", p99[NUM_LEN] = "-";
		char ar[NUM_LEN], fr[NUM_LEN];
		bool limited = r->limit != LIVE_NO_LIMIT;
		enum top_attr attr = r->gone ? TA_DIM : TA_NORMAL;

		if (r->p50_ns)
			tenths((r->p50_ns + 50) / 100, p50);
		if (r->p99_ns)
			tenths((r->p99_ns + 50) / 100, p99);
		if (!r->gone && limited && headroom(r) < r->limit / 10)
			attr = TA_ALERT;	/* within a tenth of its limit */
		/* a row that vanished says so where its bytes were */
		emitf(emit, ctx, attr, "%-*s %-20.20s %8s %5u %8s %8s %8s %8s %8s %5llu %8s %8s",
		      CG_WIDTH, fit(r->cgroup, cg, CG_WIDTH), r->heap,
		      r->gone ? "gone" : size(r->bytes, b), r->bufs,
		      size(r->peak, p), rate(r->alloc_rate, ar), rate(r->free_rate, fr), p50, p99,
		      (unsigned long long)r->fails, limited ? size(r->limit, l) : "-",
		      limited ? size(headroom(r), h) : "-");
	}
}

static void render_procs(const void **v, size_t n, top_emit_fn emit, void *ctx)
{
	emitf(emit, ctx, TA_HEADER, "%7s %-16s %-*s %9s %9s %9s %5s", proc_cols[0], proc_cols[1],
	      CG_WIDTH, proc_cols[2], proc_cols[3], proc_cols[4], proc_cols[5], proc_cols[6]);
	for (size_t i = 0; i < n; i++) {
		const struct inv_proc *p = v[i];
		char cg[CG_WIDTH + 1], a[16], b[16], c[16];

		emitf(emit, ctx, TA_NORMAL, "%7d %-16s %-*s %9s %9s %9s %5u", p->pid, p->comm,
		      CG_WIDTH, fit(p->cgroup, cg, CG_WIDTH), size(p->fd_bytes, a),
		      size(p->map_bytes, b), size(p->pss_bytes, c), p->buffers);
	}
}

/* a buffer's holders: pids, and the devices attached */
static void holders_of(const struct inventory *inv, const struct inv_buf *b, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t k = b->first_hold; k < b->first_hold + b->holders && n < len - 16; k++)
		n += snprintf(out + n, len - n, "%s%d", n ? "," : "",
			      inv->procs[inv->holds[k].proc].pid);
	for (int i = 0; b->attachments_known && i < b->nimporters &&
			n < len - INV_NAME_LEN - 2; i++)
		n += snprintf(out + n, len - n, "%s%s", n ? "," : "", b->importers[i]);
	if (!n)
		snprintf(out, len, "%s", b->attachments_known ? "kernel" : "-");
}

static void render_bufs(struct live *l, const struct live_frame *f, const void **v, size_t n,
			top_emit_fn emit, void *ctx)
{
	emitf(emit, ctx, TA_HEADER, "%10s %-20s %8s %8s %-22s %s", buf_cols[0], buf_cols[1],
	      buf_cols[2], buf_cols[3], buf_cols[4], buf_cols[5]);
	for (size_t i = 0; i < n; i++) {
		const struct inv_buf *b = v[i];
		char s[16], age[16], exporter[32] = "?", holders[128];
		struct coll_buf x;

		/* buffers from before heaptop started are at least as old as it */
		if (live_export_of(l, b->ino, &x)) {
			snprintf(age, sizeof(age), "%.1f", (f->ts_ns - x.born_ns) / 1e9);
			snprintf(exporter, sizeof(exporter), "%u/%.*s", x.tgid, COLL_COMM_LEN,
				 x.comm);
		} else {
			snprintf(age, sizeof(age), ">%.0f", (f->ts_ns - live_start_ns(l)) / 1e9);
		}
		holders_of(f->inv, b, holders, sizeof(holders));
		emitf(emit, ctx, TA_NORMAL, "%10llu %-20.20s %8s %8s %-22s %s",
		      (unsigned long long)b->ino, b->exp_name, size(b->size, s), age,
		      exporter, holders);
	}
}

/* One frame as lines: title, meters, the table of the current view. */
void top_render(struct live *l, const struct live_frame *f, const struct top_state *st,
		const char *clock, int width, top_emit_fn emit, void *ctx)
{
	const char * const *cols;
	size_t n;
	const void **v;

	top_view_columns(st->view, &cols);
	emitf(emit, ctx, TA_TITLE, "heaptop - %s, every %gs%s   alloc/s %.1f  free/s %.1f  fail/s %.1f",
	      clock, st->interval_ms / 1000.0, st->paused ? " [paused]" : "", f->alloc_rate,
	      f->free_rate, f->fail_rate);
	render_meters(f, width, emit, ctx);
	v = select_sorted(f, st, &n);
	if (!v) {
		emit(ctx, TA_ALERT, "out of memory");
		return;
	}
	emitf(emit, ctx, TA_NORMAL, "view %s, sort %s %s%s%s%s%s, %zu shown",
	      top_view_names[st->view], cols[st->sort[st->view]], st->ascending ? "up" : "down",
	      st->cgroup[0] ? ", cgroup " : "", st->cgroup, st->heap[0] ? ", heap " : "",
	      st->heap, n);
	switch (st->view) {
	case TV_PROCESSES: render_procs(v, n, emit, ctx); break;
	case TV_BUFFERS: render_bufs(l, f, v, n, emit, ctx); break;
	default: render_rows(v, n, emit, ctx); break;
	}
	free(v);
}

/* ---- JSON: one object per frame, every view, filters applied ---- */

static void json_u64_or_null(FILE *out, const char *key, bool known, uint64_t v)
{
	if (known)
		fprintf(out, ",\"%s\":%llu", key, (unsigned long long)v);
	else
		fprintf(out, ",\"%s\":null", key);
}

void top_json(FILE *out, struct live *l, const struct live_frame *f,
	      const struct top_state *st, const char *clock)
{
	const struct inventory *inv = f->inv;
	struct top_state s = *st;
	const void **v;
	size_t n;

	fprintf(out, "{\"time\":\"%s\",\"interval_s\":%.3f,\"allocs_per_sec\":%.3f,"
		"\"frees_per_sec\":%.3f,\"failures_per_sec\":%.3f,\"drops\":%llu,"
		"\"inventory\":\"%s\",\"cma\":[",
		clock, f->interval_s, f->alloc_rate, f->free_rate, f->fail_rate,
		(unsigned long long)f->drops, f->inv_taken ? f->inv_taken : "kept");
	for (size_t i = 0; i < f->ncma; i++) {
		const struct live_cma *m = &f->cma[i];

		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_string(out, m->name);
		fprintf(out, ",\"total_bytes\":%llu,\"used_bytes\":%llu",
			(unsigned long long)m->total, (unsigned long long)m->used);
		json_u64_or_null(out, "largest_free_bytes", m->mapped, m->largest_free);
		if (m->mapped)
			fprintf(out, ",\"fragmentation\":%.6f}", m->fragmentation);
		else
			fprintf(out, ",\"fragmentation\":null}");
	}
	fprintf(out, "],\"heaps\":[");
	for (size_t i = 0; i < f->nheaps; i++) {
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_string(out, f->heaps[i].name);
		fprintf(out, ",\"bytes\":%llu,\"buffers\":%u}",
			(unsigned long long)f->heaps[i].bytes, f->heaps[i].bufs);
	}
	fprintf(out, "],\"rows\":[");
	s.view = TV_CGROUPS;
	v = select_sorted(f, &s, &n);
	for (size_t i = 0; v && i < n; i++) {
		const struct live_row *r = v[i];
		bool limited = r->limit != LIVE_NO_LIMIT;

		fprintf(out, "%s{\"cgroup\":", i ? "," : "");
		json_string(out, r->cgroup);
		fprintf(out, ",\"heap\":");
		json_string(out, r->heap);
		fprintf(out, ",\"bytes\":%llu,\"buffers\":%u,\"peak_bytes\":%llu,"
			"\"allocs_per_sec\":%.3f,\"frees_per_sec\":%.3f",
			(unsigned long long)r->bytes, r->bufs, (unsigned long long)r->peak,
			r->alloc_rate, r->free_rate);
		json_u64_or_null(out, "p50_ns", r->p50_ns, r->p50_ns);
		json_u64_or_null(out, "p99_ns", r->p99_ns, r->p99_ns);
		fprintf(out, ",\"failures\":%llu", (unsigned long long)r->fails);
		json_u64_or_null(out, "limit_bytes", limited, r->limit);
		json_u64_or_null(out, "headroom_bytes", limited, headroom(r));
		fprintf(out, ",\"charged_bytes\":%llu,\"charged_by\":\"%s\",\"gone\":%s}",
			(unsigned long long)r->charged, r->memcg ? "memcg" : "dmem",
			r->gone ? "true" : "false");
	}
	free(v);
	fprintf(out, "],\"processes\":[");
	s.view = TV_PROCESSES;
	v = select_sorted(f, &s, &n);
	for (size_t i = 0; v && i < n; i++) {
		fputs(i ? "," : "", out);
		json_process(out, v[i]);
	}
	free(v);
	fprintf(out, "],\"buffers\":[");
	s.view = TV_BUFFERS;
	v = select_sorted(f, &s, &n);
	for (size_t i = 0; v && i < n; i++) {
		const struct inv_buf *b = v[i];
		struct coll_buf x;
		bool known = live_export_of(l, b->ino, &x);

		fprintf(out, "%s{\"inode\":%llu,\"heap\":", i ? "," : "", (unsigned long long)b->ino);
		json_string(out, b->exp_name);
		fprintf(out, ",\"bytes\":%llu", (unsigned long long)b->size);
		json_u64_or_null(out, "age_ns", known, known ? f->ts_ns - x.born_ns : 0);
		json_u64_or_null(out, "exporter_pid", known, known ? x.tgid : 0);
		fprintf(out, ",\"holders\":[");
		for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++)
			fprintf(out, "%s%d", k > b->first_hold ? "," : "",
				inv->procs[inv->holds[k].proc].pid);
		fprintf(out, "],\"importers\":[");
		for (int k = 0; b->attachments_known && k < b->nimporters; k++) {
			fprintf(out, "%s", k ? "," : "");
			json_string(out, b->importers[k]);
		}
		fprintf(out, "]}");
	}
	free(v);
	fprintf(out, "]}\n");
}
