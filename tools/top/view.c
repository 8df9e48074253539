// SPDX-License-Identifier: GPL-2.0
/*
 * heaptop's views of a frame, as lines of text (for the terminal and for
 * batch mode alike) and as JSON: the header meters, then the table of the
 * current view, filtered and sorted as the user chose. Each view is a table
 * of columns (title, width, compare, format), as htop describes its fields:
 * a new column is one entry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hold_view.h"
#include "lib/json.h"
#include "lib/losses.h"
#include "lib/sources.h"
#include "lib/text.h"
#include "lib/util.h"
#include "top.h"

#define LINE_MAX_LEN	TOP_LINE_MAX
#define CELL_LEN	256

const char * const top_view_names[TV_COUNT] = { "cgroups", "processes", "buffers" };

void top_clock(char *buf, size_t len)
{
	time_t t = time(NULL);

	strftime(buf, len, "%H:%M:%S", localtime(&t));
}

/* what a column's format and compare may look at besides the row */
struct view_ctx {
	struct live *l;
	const struct live_frame *f;
};

struct column {
	const char *title;
	int width;			/* < 0: left-aligned; 0: the last, as long as it is */
	int (*cmp)(const void *a, const void *b);
	const char *(*format)(const struct view_ctx *v, const void *row, char *buf);
	bool head;			/* a name: one too long shows its start ("name.."),
					 * not its end, as a path does ("..leaf") */
};

#define CMP(a, b)	((a) > (b) ? 1 : (a) < (b) ? -1 : 0)

static const char *size(uint64_t bytes, char *buf)
{
	return format_size(bytes, buf, CELL_LEN);
}

/* tenths to one decimal, in integers: a thousand rows a second notice printf's %f */
static const char *tenths(uint64_t tenths, char *buf)
{
	size_t n = format_u64(tenths / 10, buf, CELL_LEN);

	if (n + 3 <= CELL_LEN) {
		buf[n++] = '.';
		buf[n++] = '0' + tenths % 10;
		buf[n] = '\0';
	}
	return buf;
}

static const char *rate(double per_sec, char *buf)
{
	return tenths((uint64_t)(per_sec * 10 + 0.5), buf);
}

static const char *usecs(uint64_t ns, char *buf)
{
	return ns ? tenths((ns + 50) / 100, buf) : "-";
}

/* ---- the cgroups view: rows of the model ---- */

#define ROW(p)	((const struct live_row *)(p))

static bool limited(const struct live_row *r)
{
	return r->limit_cgroup != NULL;
}

static int c_cgroup(const void *a, const void *b) { return strcmp(ROW(a)->cgroup, ROW(b)->cgroup); }
static int c_heap(const void *a, const void *b) { return strcmp(ROW(a)->heap, ROW(b)->heap); }
static int c_bytes(const void *a, const void *b) { return CMP(ROW(a)->c.bytes, ROW(b)->c.bytes); }
static int c_bufs(const void *a, const void *b) { return CMP(ROW(a)->c.buffers, ROW(b)->c.buffers); }
static int c_peak(const void *a, const void *b) { return CMP(ROW(a)->peak, ROW(b)->peak); }
static int c_alloc(const void *a, const void *b) { return CMP(ROW(a)->alloc_rate, ROW(b)->alloc_rate); }
static int c_free(const void *a, const void *b) { return CMP(ROW(a)->free_rate, ROW(b)->free_rate); }
static int c_p50(const void *a, const void *b) { return CMP(ROW(a)->p50_ns, ROW(b)->p50_ns); }
static int c_p99(const void *a, const void *b) { return CMP(ROW(a)->p99_ns, ROW(b)->p99_ns); }
static int c_fail(const void *a, const void *b) { return CMP(ROW(a)->fails, ROW(b)->fails); }
static int c_charged(const void *a, const void *b) { return CMP(ROW(a)->c.charged, ROW(b)->c.charged); }
static int c_limit(const void *a, const void *b) { return CMP(ROW(a)->c.limit, ROW(b)->c.limit); }
static int c_hits(const void *a, const void *b) { return CMP(ROW(a)->c.limit_hits, ROW(b)->c.limit_hits); }

static int c_headroom(const void *a, const void *b)
{
	uint64_t x = limited(ROW(a)) ? ROW(a)->c.headroom : UINT64_MAX;
	uint64_t y = limited(ROW(b)) ? ROW(b)->c.headroom : UINT64_MAX;

	return CMP(x, y);
}

/* @p, or the start of the UTF-8 character it is inside */
static const char *char_start(const char *p)
{
	while ((*(const unsigned char *)p & 0xc0) == 0x80)
		p++;	/* past its continuation bytes: a cut never shows half a character */
	return p;
}

/*
 * A cgroup path for a cell, made safe: the end of a long one (its cell shows
 * the tail), where two paths differ, and "..." before it.
 */
static const char *cgroup_cell(const char *path, char *buf)
{
	static char all[4 * CGROUP_PATH_MAX + 4];	/* a byte shows as 4 at most */
	size_t n;

	text_safe_buf(path, SIZE_MAX, all, sizeof(all));
	n = strlen(all);
	if (n < CELL_LEN)
		return memcpy(buf, all, n + 1);
	snprintf(buf, CELL_LEN, "...%s", char_start(all + n - (CELL_LEN - 4)));
	return buf;
}

static const char *f_cgroup(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return cgroup_cell(ROW(r)->cgroup, buf);
}

static const char *f_heap(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return text_safe_buf(ROW(r)->heap, SIZE_MAX, buf, CELL_LEN);
}

/* a row that vanished says so where its bytes were */
static const char *f_bytes(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return ROW(r)->gone ? "gone" : size(ROW(r)->c.bytes, buf);
}

static const char *f_bufs(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	format_u64(ROW(r)->c.buffers, buf, CELL_LEN);
	return buf;
}

static const char *f_peak(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return size(ROW(r)->peak, buf);
}

static const char *f_alloc(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return rate(ROW(r)->alloc_rate, buf);
}

static const char *f_free(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return rate(ROW(r)->free_rate, buf);
}

static const char *f_p50(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return usecs(ROW(r)->p50_ns, buf);
}

static const char *f_p99(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return usecs(ROW(r)->p99_ns, buf);
}

static const char *f_fail(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	format_u64(ROW(r)->fails, buf, CELL_LEN);
	return buf;
}

static const char *f_hits(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	format_u64(ROW(r)->c.limit_hits, buf, CELL_LEN);
	return buf;
}

static const char *f_charged(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return ROW(r)->c.charged_known ? size(ROW(r)->c.charged, buf) : "-";
}

static const char *f_limit(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return limited(ROW(r)) ? size(ROW(r)->c.limit, buf) : "-";
}

static const char *f_headroom(const struct view_ctx *v, const void *r, char *buf)
{
	(void)v;
	return limited(ROW(r)) ? size(ROW(r)->c.headroom, buf) : "-";
}

static const struct column row_cols[] = {
	{ "CGROUP", -24, c_cgroup, f_cgroup, false },
	{ "HEAP", -20, c_heap, f_heap, true },
	{ "BYTES", 8, c_bytes, f_bytes, false },
	{ "BUFS", 5, c_bufs, f_bufs, false },
	{ "PEAK", 8, c_peak, f_peak, false },
	{ "ALLOC/s", 8, c_alloc, f_alloc, false },
	{ "FREE/s", 8, c_free, f_free, false },
	{ "p50-us", 8, c_p50, f_p50, false },
	{ "p99-us", 8, c_p99, f_p99, false },
	{ "FAIL", 5, c_fail, f_fail, false },
	{ "HITS", 5, c_hits, f_hits, false },
	{ "CHARGED", 8, c_charged, f_charged, false },
	{ "LIMIT", 8, c_limit, f_limit, false },
	{ "HEADROOM", 8, c_headroom, f_headroom, false },
};

/* ---- the processes view: the inventory's ---- */

#define PROC(p)	((const struct inv_proc *)(p))

static int p_pid(const void *a, const void *b) { return CMP(PROC(a)->pid, PROC(b)->pid); }
static int p_comm(const void *a, const void *b) { return strcmp(PROC(a)->comm, PROC(b)->comm); }
static int p_cgroup(const void *a, const void *b) { return strcmp(PROC(a)->cgroup, PROC(b)->cgroup); }
static int p_fd(const void *a, const void *b) { return CMP(PROC(a)->fd_bytes, PROC(b)->fd_bytes); }
static int p_map(const void *a, const void *b) { return CMP(PROC(a)->map_bytes, PROC(b)->map_bytes); }
static int p_pss(const void *a, const void *b) { return CMP(PROC(a)->pss_bytes, PROC(b)->pss_bytes); }
static int p_bufs(const void *a, const void *b) { return CMP(PROC(a)->buffers, PROC(b)->buffers); }

static const char *fp_pid(const struct view_ctx *v, const void *p, char *buf)
{
	(void)v;
	snprintf(buf, CELL_LEN, "%d", PROC(p)->pid);
	return buf;
}

static const char *fp_comm(const struct view_ctx *v, const void *p, char *buf)
{
	(void)v;
	return text_safe_buf(PROC(p)->comm, SIZE_MAX, buf, CELL_LEN);
}

static const char *fp_cgroup(const struct view_ctx *v, const void *p, char *buf)
{
	(void)v;
	return cgroup_cell(PROC(p)->cgroup, buf);
}

static const char *fp_fd(const struct view_ctx *v, const void *p, char *buf)
{
	(void)v;
	return size(PROC(p)->fd_bytes, buf);
}

static const char *fp_map(const struct view_ctx *v, const void *p, char *buf)
{
	(void)v;
	return size(PROC(p)->map_bytes, buf);
}

static const char *fp_pss(const struct view_ctx *v, const void *p, char *buf)
{
	(void)v;
	return size(PROC(p)->pss_bytes, buf);
}

static const char *fp_bufs(const struct view_ctx *v, const void *p, char *buf)
{
	(void)v;
	snprintf(buf, CELL_LEN, "%u", PROC(p)->buffers);
	return buf;
}

static const struct column proc_cols[] = {
	{ "PID", 7, p_pid, fp_pid, false },
	{ "COMM", -16, p_comm, fp_comm, true },
	{ "CGROUP", -24, p_cgroup, fp_cgroup, false },
	{ "FD-BYTES", 9, p_fd, fp_fd, false },
	{ "MAP-BYTES", 9, p_map, fp_map, false },
	{ "PSS", 9, p_pss, fp_pss, false },
	{ "BUFS", 5, p_bufs, fp_bufs, false },
};

/* ---- the buffers view: the inventory's, with who exported them while traced ---- */

#define BUF(p)	((const struct inv_buf *)(p))

static int b_inode(const void *a, const void *b) { return CMP(BUF(a)->ino, BUF(b)->ino); }
static int b_heap(const void *a, const void *b) { return strcmp(BUF(a)->exp_name, BUF(b)->exp_name); }
static int b_size(const void *a, const void *b) { return CMP(BUF(a)->size, BUF(b)->size); }
static int b_holders(const void *a, const void *b) { return CMP(BUF(a)->holders, BUF(b)->holders); }
/* age: the inode grows with time, older buffers have smaller ones */
static int b_age(const void *a, const void *b) { return CMP(BUF(b)->ino, BUF(a)->ino); }

/* who exported each buffer (by its index in the inventory), read once for a sort */
struct exporter {
	bool known;
	uint32_t tgid;
	char comm[COLL_COMM_LEN];
};
static const struct exporter *sort_ex;
static const struct inv_buf *sort_bufs;

/*
 * By the exporting process's pid, then its name; those from before tracing
 * ("?") after the others in ascending order
 */
static int b_exporter(const void *a, const void *b)
{
	const struct exporter *x = &sort_ex[BUF(a) - sort_bufs], *y = &sort_ex[BUF(b) - sort_bufs];

	if (!x->known || !y->known)
		return (int)y->known - (int)x->known;
	return CMP(x->tgid, y->tgid) ?: strncmp(x->comm, y->comm, COLL_COMM_LEN);
}

/* sort_ex for the buffers of @inv, from the collector's slots as they are now */
static struct exporter *exporters_read(struct live *l, const struct inventory *inv)
{
	struct exporter *ex = calloc(inv->nbufs + 1, sizeof(*ex));
	struct collector *coll = live_collector(l);
	struct coll_buf x;

	for (size_t i = 0; ex && coll && i < inv->nbufs; i++)
		if (collector_export_of(coll, inv->bufs[i].ino, &x)) {
			ex[i] = (struct exporter){ .known = true, .tgid = x.tgid };
			memcpy(ex[i].comm, x.comm, sizeof(ex[i].comm));
		}
	return ex;
}

static const char *fb_inode(const struct view_ctx *v, const void *b, char *buf)
{
	(void)v;
	snprintf(buf, CELL_LEN, "%llu", (unsigned long long)BUF(b)->ino);
	return buf;
}

static const char *fb_heap(const struct view_ctx *v, const void *b, char *buf)
{
	(void)v;
	return text_safe_buf(BUF(b)->exp_name, HEAP_NAME_LEN, buf, CELL_LEN);
}

static const char *fb_size(const struct view_ctx *v, const void *b, char *buf)
{
	(void)v;
	return size(BUF(b)->size, buf);
}

/* buffers from before heaptop started are at least as old as it */
static const char *fb_age(const struct view_ctx *v, const void *b, char *buf)
{
	struct collector *coll = live_collector(v->l);
	struct coll_buf x;

	/* an export traced after the frame's time (the frame took the buffer first): 0 */
	if (coll && collector_export_of(coll, BUF(b)->ino, &x))
		snprintf(buf, CELL_LEN, "%.1f",
			 (v->f->ts_ns > x.born_ns ? v->f->ts_ns - x.born_ns : 0) / 1e9);
	else
		snprintf(buf, CELL_LEN, ">%.0f", (v->f->ts_ns - live_start_ns(v->l)) / 1e9);
	return buf;
}

static const char *fb_exporter(const struct view_ctx *v, const void *b, char *buf)
{
	struct collector *coll = live_collector(v->l);
	char comm[COLL_COMM_LEN * 4 + 4];
	struct coll_buf x;

	if (!coll || !collector_export_of(coll, BUF(b)->ino, &x))
		return "?";
	snprintf(buf, CELL_LEN, "%u/%s", x.tgid, text_safe_buf(x.comm, COLL_COMM_LEN, comm,
							       sizeof(comm)));
	return buf;
}

/* pids, then the devices attached */
static const char *fb_holders(const struct view_ctx *v, const void *b, char *buf)
{
	hold_holders(v->f->h, BUF(b), ',', buf, CELL_LEN / 2);
	if (BUF(b)->attachments_known && BUF(b)->attachments) {
		size_t n = strlen(buf);

		if (!strcmp(buf, "-"))
			n = 0;
		else
			buf[n++] = ',';
		/* in the room left, which its list fits with its own "+N" */
		hold_importers(BUF(b), ',', buf + n, CELL_LEN - n);
	}
	return buf;
}

static const struct column buf_cols[] = {
	{ "INODE", 10, b_inode, fb_inode, false },
	{ "HEAP", -20, b_heap, fb_heap, true },
	{ "SIZE", 8, b_size, fb_size, false },
	{ "AGE-s", 8, b_age, fb_age, false },
	{ "EXPORTER", -22, b_exporter, fb_exporter, true },
	{ "HOLDERS", 0, b_holders, fb_holders, false },
};

static const struct view_table {
	const struct column *cols;
	int ncols;
	int sort;			/* what it sorts by at first */
} views[TV_COUNT] = {
	[TV_CGROUPS] = { row_cols, ARRAY_SIZE(row_cols), 2 },		/* bytes held */
	[TV_PROCESSES] = { proc_cols, ARRAY_SIZE(proc_cols), 5 },	/* PSS */
	[TV_BUFFERS] = { buf_cols, ARRAY_SIZE(buf_cols), 2 },		/* size */
};

void top_state_init(struct top_state *st)
{
	for (int v = 0; v < TV_COUNT; v++)
		st->sort[v] = views[v].sort;
}

/* the titles of a view's columns; their number */
int top_view_columns(enum top_view v, const char **names, int max)
{
	for (int i = 0; i < views[v].ncols && i < max; i++)
		names[i] = views[v].cols[i].title;
	return views[v].ncols;
}

/* ---- filters and sorting ---- */

static bool row_shown(const struct live_row *r, const struct top_state *st)
{
	return hold_in_cgroup(r->cgroup, st->cgroup) && (!st->heap[0] || !strcmp(r->heap, st->heap));
}

static bool buf_shown(const struct inventory *inv, const struct inv_buf *b,
		      const struct top_state *st)
{
	if (st->heap[0] && strcmp(b->exp_name, st->heap))
		return false;
	if (!st->cgroup[0])
		return true;
	for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++)
		if (hold_in_cgroup(inv->procs[inv->holds[k].proc].cgroup, st->cgroup))
			return true;
	return false;
}

/* a process's totals, as report's: over the heap filtered (heaptop's own) */
static bool proc_shown(const struct inv_proc *p, const struct top_state *st)
{
	return hold_in_cgroup(p->cgroup, st->cgroup) && (!st->heap[0] || p->buffers);
}

static int (*sort_cmp)(const void *, const void *);
static enum top_view sort_view;
static bool sort_asc;

/* the chosen column, then a stable order between equals: names, pids, inodes up */
static int cmp_sorted(const void *x, const void *y)
{
	const void *a = *(const void * const *)x, *b = *(const void * const *)y;
	int c = sort_cmp ? sort_cmp(a, b) : 0;

	if (c)
		return sort_asc ? c : -c;
	switch (sort_view) {
	case TV_PROCESSES: return p_pid(a, b);
	case TV_BUFFERS: return b_inode(a, b);
	default: return c_cgroup(a, b) ?: c_heap(a, b);
	}
}

/* pointers to what passes the filters, sorted; NULL on ENOMEM */
static const void **select_sorted(struct live *l, const struct live_frame *f,
				  const struct top_state *st, enum top_view view, size_t *n)
{
	const struct inventory *inv = f->inv;
	size_t nv = f->nrows + inv->nprocs + inv->nbufs + 1;
	/* with a heap filter, the processes' totals after the pointers, freed with them */
	size_t totals = view == TV_PROCESSES && st->heap[0] ? inv->nprocs : 0;
	const void **v = malloc(nv * sizeof(*v) + totals * sizeof(struct inv_proc));
	const struct inv_proc *procs = inv->procs;

	if (!v)
		return NULL;
	if (totals) {
		struct inv_proc *heap_procs = (struct inv_proc *)(v + nv);

		inventory_proc_totals(inv, st->heap, heap_procs);
		procs = heap_procs;
	}
	*n = 0;
	switch (view) {
	case TV_PROCESSES:
		for (size_t i = 0; i < inv->nprocs; i++)
			if (proc_shown(&procs[i], st))
				v[(*n)++] = &procs[i];
		break;
	case TV_BUFFERS:
		for (size_t i = 0; i < inv->nbufs; i++)
			if (buf_shown(inv, &inv->bufs[i], st))
				v[(*n)++] = &inv->bufs[i];
		break;
	default:
		for (size_t i = 0; i < f->nrows; i++)
			if (row_shown(&f->rows[i], st))
				v[(*n)++] = &f->rows[i];
		break;
	}
	sort_cmp = views[view].cols[st->sort[view]].cmp;
	sort_view = view;
	sort_asc = st->ascending;
	if (sort_cmp == b_exporter) {
		/* read once: the slots change under a sort that would read them */
		struct exporter *ex = exporters_read(l, inv);

		if (!ex) {
			free(v);
			return NULL;
		}
		sort_ex = ex;
		sort_bufs = inv->bufs;
		sort_ordered(v, *n, sizeof(*v), cmp_sorted);
		sort_ex = NULL;
		free(ex);
		return v;
	}
	sort_ordered(v, *n, sizeof(*v), cmp_sorted);
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

/*
 * @text on as many lines of @width columns as it needs (0: one line), cut
 * at spaces (a word wider than a line at the width), lines after the first
 * indented: a message to read whole, such as why nothing is traced
 */
static void emit_wrapped(top_emit_fn emit, void *ctx, enum top_attr attr, const char *text,
			 int width)
{
	char line[LINE_MAX_LEN];
	const char *p = text;
	bool first = true;

	while (*p) {
		size_t indent = first ? 0 : 2;
		size_t cols = width > (int)indent + 8 ? (size_t)width - indent : SIZE_MAX;
		size_t n = text_head(p, cols), cut = n;

		if (p[n]) {	/* at the last space that fits, if any */
			while (cut && p[cut] != ' ')
				cut--;
			n = cut ? cut : n;
		}
		snprintf(line, sizeof(line), "%*s%.*s", (int)indent, "", (int)n, p);
		emit(ctx, attr, line);
		p += n;
		while (*p == ' ')
			p++;
		first = false;
	}
}

/* @n bytes of @s at @at, as many as the line has room for */
static size_t put_text(char *line, size_t at, const char *s, size_t n)
{
	if (n > LINE_MAX_LEN - 1 - at)
		n = LINE_MAX_LEN - 1 - at;
	memcpy(line + at, s, n);
	line[at + n] = '\0';
	return at + n;
}

static size_t put_spaces(char *line, size_t at, size_t n)
{
	if (n > LINE_MAX_LEN - 1 - at)
		n = LINE_MAX_LEN - 1 - at;
	memset(line + at, ' ', n);
	line[at + n] = '\0';
	return at + n;
}

/*
 * A cell padded to its column's width in screen columns (a wide character
 * takes two), a space after all but the last; a left-aligned one that does
 * not fit shows its tail (a name: its start), a right-aligned number its
 * value in fewer digits (fit_number(): the columns stay aligned). (Not
 * printf's padding: tables of a thousand rows a second notice it.)
 */
static size_t put_cell(char *line, size_t at, const struct column *c, const char *text, bool last)
{
	size_t w = c->width < 0 ? -c->width : c->width, cols = text_width(text);
	bool left = c->width < 0;
	char fit[32];

	if (at >= LINE_MAX_LEN - 1)
		return at;
	if (!left && c->width && cols > w) {	/* (width 0: the rest of the line) */
		text = fit_number(text, w, fit, sizeof(fit));
		cols = text_width(text);
	}
	if (left && cols > w && w > 2 && c->head) {
		size_t n = text_head(text, w - 2);
		char part[CELL_LEN];
		size_t pw;

		snprintf(part, sizeof(part), "%.*s", (int)n, text);
		pw = text_width(part);
		at = put_text(line, at, text, n);
		at = put_text(line, at, "..", 2);
		at = put_spaces(line, at, pw < w - 2 ? w - 2 - pw : 0);	/* half a wide character */
	} else if (left && cols > w && w > 2) {
		const char *t = text_tail(text, w - 2);
		size_t tw = text_width(t);

		at = put_text(line, at, "..", 2);
		at = put_text(line, at, t, strlen(t));
		at = put_spaces(line, at, tw < w - 2 ? w - 2 - tw : 0);	/* half a wide character */
	} else {
		if (!left && cols < w)
			at = put_spaces(line, at, w - cols);
		at = put_text(line, at, text, strlen(text));
		if (left && cols < w)
			at = put_spaces(line, at, w - cols);
	}
	return last || !c->width ? at : put_text(line, at, " ", 1);
}

static void render_table(const struct view_ctx *vc, enum top_view view, const void **rows,
			 size_t n, top_emit_fn emit, void *ctx)
{
	const struct view_table *t = &views[view];
	char line[LINE_MAX_LEN], buf[CELL_LEN];
	size_t at = 0;

	for (int i = 0; i < t->ncols; i++)
		at = put_cell(line, at, &t->cols[i], t->cols[i].title, i == t->ncols - 1);
	emit(ctx, TA_HEADER | TA_TABLE, line);
	for (size_t k = 0; k < n; k++) {
		enum top_attr attr = TA_NORMAL;

		at = 0;
		for (int i = 0; i < t->ncols; i++)
			at = put_cell(line, at, &t->cols[i], t->cols[i].format(vc, rows[k], buf),
				      i == t->ncols - 1);
		if (view == TV_CGROUPS) {
			const struct live_row *r = rows[k];

			if (r->gone || r->cgroup_removed)
				attr = TA_DIM;
			else if (limited(r) && r->c.headroom < r->c.limit / 10)
				attr = TA_ALERT;	/* within a tenth of its limit */
		}
		emit(ctx, attr | TA_TABLE, line);
	}
}

/*
 * The note naming the shown rows' cgroups removed while traced (dimmed
 * rows), above the table: a screen cuts what is below it. Within @width
 * columns (0: any), its count kept.
 */
static void render_removed(const struct live_row **rows, size_t n, int width, top_emit_fn emit,
			   void *ctx)
{
	const char **paths = malloc((n ?: 1) * sizeof(*paths));
	char note[LINE_MAX_LEN];
	size_t k = 0, len = width > 0 && (size_t)width < sizeof(note) ? (size_t)width + 1 :
			    sizeof(note);

	for (size_t i = 0; paths && i < n; i++)
		if (rows[i]->cgroup_removed)
			paths[k++] = rows[i]->cgroup;
	if (k && *hold_removed_note(paths, k, note, len))
		emit(ctx, TA_NORMAL, note);
	free(paths);
}

static void render_meters(const struct live_frame *f, int width, top_emit_fn emit, void *ctx)
{
	char line[LINE_MAX_LEN], a[CELL_LEN], b[CELL_LEN], c[CELL_LEN], name[CELL_LEN];
	char lost[LINE_MAX_LEN], alert[LINE_MAX_LEN + 64];
	size_t len = 0, shown = 0;
	/* the HEAPS line goes on as many lines as the screen's width, or its room, needs */
	size_t room = width > 0 && (size_t)width < sizeof(line) ? (size_t)width : sizeof(line) - 1;

	for (size_t i = 0; i < f->ncma; i++) {
		const struct live_cma *m = &f->cma[i];
		char bar[11];
		int fill = m->total ? (int)(m->used * 10 / m->total) : 0;

		fill = fill > 10 ? 10 : fill;
		memset(bar, '#', fill);
		memset(bar + fill, '.', 10 - fill);
		bar[10] = '\0';
		text_safe_buf(m->name, SIZE_MAX, name, sizeof(name));
		if (m->mapped)
			emitf(emit, ctx, TA_NORMAL, "CMA %-14s [%s] %7s/%-7s largest free %7s  frag %.2f",
			      name, bar, size(m->used, a), size(m->total, b),
			      size(m->largest_free, c), m->fragmentation);
		else
			emitf(emit, ctx, TA_NORMAL, "CMA %-14s [%s] %7s/%-7s largest free ?  frag ?",
			      name, bar, size(m->used, a), size(m->total, b));
	}
	line[0] = '\0';
	for (size_t i = 0; i < f->h->nheaps; i++) {
		const struct hold_heap *h = &f->h->heaps[i];
		char item[CELL_LEN + 64];
		int n;

		if (!h->buffers)
			continue;
		text_safe_buf(h->name, SIZE_MAX, name, sizeof(name));
		n = snprintf(item, sizeof(item), "%s%s %s in %u", len ? "  " : "HEAPS ", name,
			     size(h->bytes, a), h->buffers);
		if (len && len + n > room) {
			emit(ctx, TA_NORMAL, line);
			len = 0;
			n = snprintf(item, sizeof(item), "      %s %s in %u", name, size(h->bytes, a),
				     h->buffers);
		}
		len += snprintf(line + len, sizeof(line) - len, "%s", item);
		shown++;
	}
	emit(ctx, TA_NORMAL, shown ? line : "HEAPS (no dma-buf)");
	if (f->no_tracing) {
		snprintf(alert, sizeof(alert), "NOT TRACED (snapshots only: no rates, latencies or "
			 "failures): %s", f->no_tracing);
		emit_wrapped(emit, ctx, TA_ALERT, alert, width);
	}
	if (losses_text(&f->losses, lost, sizeof(lost))) {
		snprintf(alert, sizeof(alert), "LOST %s", lost);
		emit_wrapped(emit, ctx, TA_ALERT, alert, width);
	}
}

/* what a filter's cgroup is now, when not a cgroup of the system: said after it */
static const char *cgroup_state(const struct holdings *h, const char *path)
{
	size_t cg = path[0] ? holdings_cgroup(h, path) : 0;

	if (cg == HOLD_NONE)
		return " (no such cgroup)";
	return path[0] && h->cgs[cg].removed ? " (removed)" : "";
}

/* One frame as lines: title, meters, the table of the current view. */
void top_render(struct live *l, const struct live_frame *f, const struct top_state *st,
		const char *clock, int width, top_emit_fn emit, void *ctx)
{
	struct view_ctx vc = { l, f };
	char cg[CELL_LEN], heap[CELL_LEN], hit[3 * CELL_LEN] = "";
	const void **v;
	size_t n;

	if (f->last_hit.ts_ns)
		snprintf(hit, sizeof(hit), "   LIMIT HIT %s %s %.0fs ago (%llu)",
			 text_safe_buf(f->last_hit.cgroup, SIZE_MAX, cg, sizeof(cg)),
			 text_safe_buf(f->last_hit.heap, SIZE_MAX, heap, sizeof(heap)),
			 (f->ts_ns - f->last_hit.ts_ns) / 1e9,
			 (unsigned long long)f->last_hit.hits);
	emitf(emit, ctx, TA_TITLE, "heaptop - %s, every %gs%s%s   alloc/s %.1f  free/s %.1f  fail/s %.1f%s",
	      clock, st->interval_ms / 1000.0, st->paused ? " [paused]" : "",
	      f->no_tracing ? " [not traced]" : "", f->alloc_rate, f->free_rate, f->fail_rate, hit);
	render_meters(f, width, emit, ctx);
	v = select_sorted(l, f, st, st->view, &n);
	if (!v) {
		emit(ctx, TA_ALERT, "out of memory");
		return;
	}
	emitf(emit, ctx, TA_NORMAL, "view %s, sort %s %s%s%s%s%s%s%s, %zu shown",
	      top_view_names[st->view], views[st->view].cols[st->sort[st->view]].title,
	      st->ascending ? "up" : "down", st->cgroup[0] ? ", cgroup " : "",
	      text_safe_buf(st->cgroup, SIZE_MAX, cg, sizeof(cg)), cgroup_state(f->h, st->cgroup),
	      st->heap[0] ? ", heap " : "", text_safe_buf(st->heap, SIZE_MAX, heap, sizeof(heap)),
	      st->heap[0] && holdings_heap(f->h, st->heap) == HOLD_NONE ? " (no such heap)" : "", n);
	if (st->view == TV_CGROUPS)
		render_removed((const struct live_row **)v, n, width, emit, ctx);
	render_table(&vc, st->view, v, n, emit, ctx);
	free(v);
}

/* ---- JSON: one object per frame, every view, filters applied ---- */

static void json_row(struct json *j, const struct live_row *r)
{
	json_object(j);
	hold_json_row_fields(j, r->cgroup, r->cgroup_removed, r->heap, r->charger, &r->c,
			     r->limit_cgroup);
	json_ku64(j, "peak_bytes", r->peak);
	json_kdouble(j, "allocs_per_sec", r->alloc_rate);
	json_kdouble(j, "frees_per_sec", r->free_rate);
	json_ku64_or_null(j, "p50_ns", r->p50_ns, r->p50_ns);
	json_ku64_or_null(j, "p99_ns", r->p99_ns, r->p99_ns);
	json_ku64(j, "failures", r->fails);
	json_kbool(j, "gone", r->gone);
	json_end(j);
}

/* a check's last difference (inventory_stats.last_difference), null: none */
static void difference_json(struct json *j, const struct inv_difference *d)
{
	json_key(j, "last_difference");
	if (!d->ino) {
		json_null(j);
		return;
	}
	json_object(j);
	json_ku64(j, "ino", d->ino);
	json_ku64(j, "pid", d->pid);
	json_key(j, "fds");
	json_array(j);
	json_u64(j, d->fds[0]);
	json_u64(j, d->fds[1]);
	json_end(j);
	json_key(j, "bytes");
	json_array(j);
	json_u64(j, d->bytes[0]);
	json_u64(j, d->bytes[1]);
	json_end(j);
	json_end(j);
}

void top_json(FILE *out, struct live *l, const struct live_frame *f,
	      const struct top_state *st, const char *clock)
{
	const struct inventory *inv = f->inv;
	const void **v;
	struct json j;
	size_t n;

	json_init(&j, out);
	json_object(&j);
	json_kstr(&j, "time", clock);
	json_kdouble(&j, "interval_s", f->interval_s);
	json_kdouble(&j, "allocs_per_sec", f->alloc_rate);
	json_kdouble(&j, "frees_per_sec", f->free_rate);
	json_kdouble(&j, "failures_per_sec", f->fail_rate);
	json_ku64(&j, "drops", f->drops);
	losses_json(&j, &f->losses);
	json_kstr(&j, "inventory", f->inv_taken ? f->inv_taken : "kept");
	json_key(&j, "inventory_stats");
	json_object(&j);
	json_ku64(&j, "walks", f->inv_stats.walks);
	json_ku64(&j, "updates", f->inv_stats.updates);
	json_ku64(&j, "checks", f->inv_stats.checks);
	json_ku64(&j, "differences", f->inv_stats.differences);
	difference_json(&j, &f->inv_stats.last_difference);
	json_ku64(&j, "models", f->inv_stats.models);
	json_ku64(&j, "cgroup_walks", f->inv_stats.cgroup_walks);
	json_ku64(&j, "forgotten_rows", f->inv_stats.forgotten);
	json_end(&j);
	sources_json(&j, inv, f->h, live_collector(l));
	json_key(&j, "tracing");
	json_object(&j);
	json_kbool(&j, "attached", !f->no_tracing);
	json_key(&j, "missing");
	if (f->no_tracing)
		json_str(&j, f->no_tracing);
	else
		json_null(&j);
	json_end(&j);
	json_key(&j, "last_limit_hit");
	if (f->last_hit.ts_ns) {
		json_object(&j);
		json_kstr(&j, "cgroup", f->last_hit.cgroup);
		json_kstr(&j, "heap", f->last_hit.heap);
		json_ku64(&j, "limit_hits", f->last_hit.hits);
		json_kdouble(&j, "age_s", (f->ts_ns - f->last_hit.ts_ns) / 1e9);
		json_end(&j);
	} else {
		json_null(&j);
	}
	json_key(&j, "cma");
	json_array(&j);
	for (size_t i = 0; i < f->ncma; i++) {
		const struct live_cma *m = &f->cma[i];

		json_object(&j);
		json_kstr(&j, "name", m->name);
		json_ku64(&j, "total_bytes", m->total);
		json_ku64(&j, "used_bytes", m->used);
		json_ku64_or_null(&j, "largest_free_bytes", m->mapped, m->largest_free);
		json_key(&j, "fragmentation");
		if (m->mapped)
			json_double(&j, m->fragmentation);
		else
			json_null(&j);
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "heaps");
	json_array(&j);
	for (size_t i = 0; i < f->h->nheaps; i++)
		if (f->h->heaps[i].buffers)
			hold_json_heap(&j, &f->h->heaps[i]);
	json_end(&j);
	json_key(&j, "rows");
	json_array(&j);
	v = select_sorted(l, f, st, TV_CGROUPS, &n);
	for (size_t i = 0; v && i < n; i++)
		json_row(&j, v[i]);
	free(v);
	json_end(&j);
	json_key(&j, "processes");
	json_array(&j);
	v = select_sorted(l, f, st, TV_PROCESSES, &n);
	for (size_t i = 0; v && i < n; i++)
		hold_json_process(&j, v[i]);
	free(v);
	json_end(&j);
	json_key(&j, "buffers");
	json_array(&j);
	v = select_sorted(l, f, st, TV_BUFFERS, &n);
	for (size_t i = 0; v && i < n; i++)
		hold_json_buffer(&j, f->h, (const struct inv_buf *)v[i] - inv->bufs,
				 live_collector(l), f->ts_ns);
	free(v);
	json_end(&j);
	json_end(&j);
}
