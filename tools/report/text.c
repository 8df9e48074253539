// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat report as tables and as CSV. Tables show sizes human-readable
 * and names terminal-safe, each name column as wide as its widest (rows
 * aligned; none cut but one past TEXT_MAX bytes, as everywhere); CSV has exact bytes and is RFC 4180 (quoted fields,
 * records ending in CRLF).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>

#include "lib/hold_view.h"
#include "lib/losses.h"
#include "lib/text.h"
#include "lib/util.h"
#include "report.h"

static const char *hsize(uint64_t bytes)
{
	static char bufs[8][16];
	static int next;

	return format_size(bytes, bufs[next++ % 8], 16);
}

/*
 * One CSV record: @fmt has a letter per field, s a string (made an RFC 4180
 * field), u an uint64_t, f a double (%.3f), o an uint64_t or empty when the
 * next int argument is 0 (unknown), g a double so.
 */
static void csv_row(FILE *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p != fmt)
			fputc(',', out);
		switch (*p) {
		case 's':
			csv_field(out, va_arg(ap, const char *));
			break;
		case 'u':
			fprintf(out, "%llu", (unsigned long long)va_arg(ap, uint64_t));
			break;
		case 'f':
			fprintf(out, "%.3f", va_arg(ap, double));
			break;
		case 'o': {
			int known = va_arg(ap, int);
			uint64_t v = va_arg(ap, uint64_t);

			if (known)
				fprintf(out, "%llu", (unsigned long long)v);
			break;
		}
		case 'g': {	/* a double or empty, as 'o' */
			int known = va_arg(ap, int);
			double v = va_arg(ap, double);

			if (known)
				fprintf(out, "%.3f", v);
			break;
		}
		}
	}
	fputs("\r\n", out);	/* RFC 4180: records end in CRLF */
	va_end(ap);
}

/* a CSV header: @names, comma-separated, as a record */
static void csv_head(FILE *out, const char *names)
{
	fprintf(out, "%s\r\n", names);
}

static void print_heaps(FILE *out, const struct report *rep)
{
	const struct holdings *h = &rep->h;
	bool csv = rep->opts->csv;
	size_t w = 24;

	for (size_t i = 0; !csv && i < h->nheaps; i++)
		if (h->heaps[i].buffers)
			w = text_cell_width(h->heaps[i].name, w);
	if (csv)
		csv_head(out, "heap,bytes,buffers");
	else
		fprintf(out, "%-*s %10s %8s\n", (int)w, "HEAP", "BYTES", "BUFFERS");
	for (size_t i = 0; i < h->nheaps; i++) {
		const struct hold_heap *hp = &h->heaps[i];

		if (!hp->buffers)
			continue;
		if (csv)
			csv_row(out, "suu", hp->name, hp->bytes, (uint64_t)hp->buffers);
		else
			fprintf(out, "%s %10s %8u\n", text_cell(hp->name, w), hsize(hp->bytes),
				hp->buffers);
	}
	if (!csv && h->kernel_held && h->inv->holders_ns_only)
		fprintf(out, "held by no process of this PID namespace (the kernel's, or held "
			"outside it; no attachment): %u buffers, %s\n",
			h->kernel_held, hsize(h->kernel_held_bytes));
	else if (!csv && h->kernel_held)
		fprintf(out, "kernel-held (no fd, mapping or attachment): %u buffers, %s\n",
			h->kernel_held, hsize(h->kernel_held_bytes));
}

/* a size, or "-" when not known */
static const char *hsize_or(bool known, uint64_t bytes)
{
	return known ? hsize(bytes) : "-";
}

/* the widths of a table's cgroup and heap columns: the rows' widest, at least @wcg and @wheap */
static void row_widths(const struct holdings *h, bool traced, size_t *wcg, size_t *wheap)
{
	for (size_t i = 0; i < h->nrows; i++) {
		size_t cell = h->rows[i];

		if (traced && !h->cells[cell].traced)
			continue;
		*wcg = text_cell_width(h->cgs[cell / h->nheaps].path, *wcg);
		*wheap = text_cell_width(h->heaps[cell % h->nheaps].name, *wheap);
	}
}

static void print_cgroups(FILE *out, const struct report *rep)
{
	const struct holdings *h = &rep->h;
	bool csv = rep->opts->csv;
	size_t wcg = 28, wheap = 24;

	if (!csv)
		row_widths(h, false, &wcg, &wheap);
	if (csv)
		csv_head(out, "cgroup,heap,held_bytes,held_buffers,charged_bytes,charged_by,"
			 "own_charged_bytes,limit_bytes,limit_cgroup,headroom_bytes,limit_hits,"
			 "memcg_kernel_bytes");
	else
		fprintf(out, "%-*s %-*s %10s %8s %10s %10s %10s %6s %12s\n", (int)wcg, "CGROUP",
			(int)wheap, "HEAP",
			"HELD", "BUFFERS", "CHARGED", "LIMIT", "HEADROOM", "HITS", "MEMCG-KERNEL");
	for (size_t i = 0; i < h->nrows; i++) {
		size_t cell = h->rows[i];
		const struct hold_cell *c = &h->cells[cell];
		const struct hold_cgroup *cg = &h->cgs[cell / h->nheaps];
		const struct hold_heap *hp = &h->heaps[cell % h->nheaps];
		bool limited = c->limit_cg != HOLD_NONE;
		bool memcg = hp->charger == CHARGER_MEMCG && cg->memcg_known;

		if (csv)
			csv_row(out, "ssuuosoosouo", cg->path, hp->name, c->bytes, (uint64_t)c->buffers,
				c->charged_known, c->charged,
				c->charged_known ? charger_name(hp->charger) : "",
				c->charged_known && hp->charger != CHARGER_MEMCG, c->own_charge,
				limited, c->limit, limited ? h->cgs[c->limit_cg].path : "",
				limited, c->headroom, c->limit_hits, memcg, cg->memcg.kernel);
		else
			fprintf(out, "%s %s %10s %8u %10s %10s %10s %6llu %12s\n",
				text_cell(cg->path, wcg), text_cell(hp->name, wheap), hsize(c->bytes),
				c->buffers,
				hsize_or(c->charged_known, c->charged), hsize_or(limited, c->limit),
				hsize_or(limited, c->headroom), (unsigned long long)c->limit_hits,
				hsize_or(memcg, cg->memcg.kernel));
	}
}

static void print_processes(FILE *out, const struct report *rep)
{
	const struct inventory *inv = &rep->inv;
	bool csv = rep->opts->csv;
	size_t wcomm = 16, wcg = 28;

	for (size_t i = 0; !csv && i < inv->nprocs; i++) {
		if (!rep->h.proc_shown[i])
			continue;
		wcomm = text_cell_width(rep->h.procs[i].comm, wcomm);
		wcg = text_cell_width(rep->h.procs[i].cgroup, wcg);
	}
	if (csv)
		csv_head(out, "pid,comm,cgroup,fd_bytes,map_bytes,pss_bytes,buffers");
	else
		fprintf(out, "%7s %-*s %-*s %10s %10s %10s %7s\n", "PID", (int)wcomm, "COMM",
			(int)wcg, "CGROUP", "FD-BYTES", "MAP-BYTES", "PSS", "BUFFERS");
	for (size_t i = 0; i < inv->nprocs; i++) {
		const struct inv_proc *p = &rep->h.procs[i];

		if (!rep->h.proc_shown[i])
			continue;
		if (csv)
			csv_row(out, "ussuuuu", (uint64_t)p->pid, p->comm, p->cgroup, p->fd_bytes,
				p->map_bytes, p->pss_bytes, (uint64_t)p->buffers);
		else
			fprintf(out, "%7d %s %s %10s %10s %10s %7u\n", p->pid,
				text_cell(p->comm, wcomm), text_cell(p->cgroup, wcg), hsize(p->fd_bytes),
				hsize(p->map_bytes), hsize(p->pss_bytes), p->buffers);
	}
}

static void print_buffers(FILE *out, const struct report *rep)
{
	const struct inventory *inv = &rep->inv;
	bool csv = rep->opts->csv;
	size_t wheap = 24, wname = 16, wimp = 20;

	for (size_t i = 0; !csv && i < inv->nbufs; i++) {
		char imp[HOLD_LIST_MAX];

		if (!rep->h.buf_shown[i])
			continue;
		wheap = text_cell_width(inv->bufs[i].exp_name, wheap);
		wname = text_cell_width(inv->bufs[i].name, wname);
		wimp = text_cell_width(hold_importers(&inv->bufs[i], ',', imp, sizeof(imp)), wimp);
	}
	if (csv)
		csv_head(out, "inode,heap,name,bytes,attachments,importers,holders");
	else
		fprintf(out, "%10s %-*s %-*s %10s %7s %-*s %s\n", "INODE", (int)wheap, "HEAP",
			(int)wname, "NAME", "BYTES", "ATTACH", (int)wimp, "IMPORTERS", "HOLDERS");
	char small[HOLD_LIST_MAX], *big = NULL;
	size_t big_len = 0;

	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		/* CSV lists every holder: a pid is at most 11 characters and a ';' */
		size_t need = csv ? (size_t)b->holders * 12 + 16 : 0;
		char imp[HOLD_LIST_MAX], attach[12] = "?", *holders = small;
		size_t len = sizeof(small);

		if (!rep->h.buf_shown[i])
			continue;
		if (b->attachments_known)
			snprintf(attach, sizeof(attach), "%u", b->attachments);
		if (need > big_len) {
			char *p = realloc(big, need);

			if (p)
				big = p, big_len = need;
		}
		if (need > sizeof(small) && big_len >= need)
			holders = big, len = big_len;
		hold_holders(&rep->h, b, csv ? ';' : ',', holders, len);
		hold_importers(b, csv ? ';' : ',', imp, sizeof(imp));
		if (csv)	/* none: an empty field */
			csv_row(out, "ussusss", b->ino, b->exp_name, b->name, b->size,
				b->attachments_known ? attach : "", strcmp(imp, "-") ? imp : "",
				strcmp(holders, "-") ? holders : "");
		else
			fprintf(out, "%10llu %s %s %10s %7s %s %s\n",
				(unsigned long long)b->ino, text_cell(b->exp_name, wheap),
				text_cell(b->name[0] ? b->name : "-", wname), hsize(b->size), attach,
				text_cell(imp, wimp), holders);
	}
	free(big);
}

/* what debugfs's CMA files (sizes, bitmaps) need here: mounted, readable, built */
static const char *cma_debugfs_needs(void)
{
	struct statfs st;

	if (statfs("/sys/kernel/debug", &st) || st.f_type != 0x64626720)	/* DEBUGFS_MAGIC */
		return "mount -t debugfs none /sys/kernel/debug";
	if (!access(CMA_DEBUGFS, F_OK))
		return CMA_DEBUGFS " unreadable";
	return errno == EACCES ? "only root reads debugfs" :
	       "this kernel has no CMA debugfs: CONFIG_CMA_DEBUGFS";
}

static void print_cma(FILE *out, const struct report *rep)
{
	bool csv = rep->opts->csv;
	size_t w = 20;

	for (size_t i = 0; !csv && i < rep->ncma; i++)
		w = text_cell_width(rep->cma[i].name, w);
	if (csv)
		csv_head(out, "area,total_bytes,used_bytes,free_bytes,largest_free_bytes,free_extents,"
			 "fragmentation,alloc_success_pages,alloc_fail_pages");
	else
		fprintf(out, "%-*s %10s %10s %12s %8s %6s %10s %10s\n", (int)w, "CMA-AREA", "TOTAL",
			"USED", "LARGEST-FREE", "EXTENTS", "FRAG", "ALLOC-OK", "ALLOC-FAIL");
	for (size_t i = 0; i < rep->ncma; i++) {
		const struct cma_area *a = &rep->cma[i];
		char frag[16] = "?", largest[16] = "?", extents[16] = "?";

		if (a->have_bitmap) {
			snprintf(frag, sizeof(frag), "%.3f", a->fragmentation);
			snprintf(extents, sizeof(extents), "%u", a->free_extents);
			format_size(a->largest_free_bytes, largest, sizeof(largest));
		}
		/* without the bitmap, CSV's numeric fields are empty, not "?" */
		if (csv)
			csv_row(out, "suuuoosuu", a->name, a->total_bytes, a->used_bytes,
				cma_free_bytes(a), (int)a->have_bitmap, a->largest_free_bytes,
				(int)a->have_bitmap, (uint64_t)a->free_extents,
				a->have_bitmap ? frag : "", a->alloc_success_pages,
				a->alloc_fail_pages);
		else
			fprintf(out, "%s %10s %10s %12s %8s %6s %10llu %10llu\n",
				text_cell(a->name, w), hsize(a->total_bytes), hsize(a->used_bytes),
				largest, extents, frag, (unsigned long long)a->alloc_success_pages,
				(unsigned long long)a->alloc_fail_pages);
	}
	if (!csv && rep->cma_unread && access(CMA_SYSFS, F_OK))
		fprintf(out, "(CMA memory is reserved, but this kernel has no CMA sysfs "
			"(CONFIG_CMA_SYSFS): its areas are not listed)\n");
	else if (!csv && rep->cma_unread)	/* 6.12's sysfs has no size: debugfs tells it */
		fprintf(out, "(CMA memory is reserved, but no area's size is readable: %s)\n",
			cma_debugfs_needs());
	else if (!csv && !rep->ncma)
		fprintf(out, "(no CMA area: boot with cma=SIZE)\n");
	else if (!csv && rep->ncma && !rep->cma[0].have_bitmap)
		fprintf(out, "(free extents need debugfs: %s)\n", cma_debugfs_needs());
}

/* latency or lifetime percentiles in microseconds */
static double pct_us(struct lat_set *l, double p)
{
	return l ? lat_percentile(l, p) / 1e3 : 0;
}

static int sampled(const struct lat_set *l)
{
	return l && l->n;
}

/*
 * A percentile for a cell: a latency in microseconds, a lifetime (@human)
 * human-readable; "-" without a sample, as JSON's null. One of six
 * rotating buffers: a row's six cells.
 */
static const char *pct_cell(struct lat_set *l, double p, bool human)
{
	static char bufs[6][16];
	static int next;
	char *b = bufs[next++ % 6];

	if (!sampled(l))
		return "-";
	if (human)
		return format_ns(lat_percentile(l, p), b, 16);
	snprintf(b, 16, "%.1f", pct_us(l, p));
	return b;
}

/* the activity's cgroups that were removed while traced, under its table */
static void print_removed(FILE *out, const struct holdings *h)
{
	const char **paths = malloc((h->nrows ?: 1) * sizeof(*paths));
	static char note[8 * TEXT_MAX];
	size_t n = 0;

	for (size_t i = 0; paths && i < h->nrows; i++) {
		size_t cg = h->rows[i] / h->nheaps;

		if (h->cells[h->rows[i]].traced && h->cgs[cg].removed)
			paths[n++] = h->cgs[cg].path;
	}
	if (n && *hold_removed_note(paths, n, note, sizeof(note)))
		fprintf(out, "%s\n", note);
	free(paths);
}

static void print_activity(FILE *out, struct report *rep)
{
	const struct holdings *h = &rep->h;
	bool csv = rep->opts->csv;
	struct coll_losses losses;
	char lost[1024];
	size_t wcg = 24, wheap = 20;

	if (rep->coll && !csv)
		row_widths(h, true, &wcg, &wheap);
	if (!rep->coll && !csv) {	/* CSV has its header, and stderr says why (report.c) */
		fprintf(out, "no activity: %s\n", rep->no_tracing);
		return;
	}
	if (csv)
		csv_head(out, "cgroup,heap,allocs,alloc_bytes,frees,free_bytes,allocs_per_sec,"
			 "frees_per_sec,p50_us,p99_us,max_us,life_p50_us,life_p99_us,life_max_us,"
			 "fail_capacity,fail_fragmentation,fail_busy,fail_limit,fail_other");
	else
		fprintf(out, "%-*s %-*s %7s %8s %7s %8s %8s %8s %8s %8s %8s %8s %s\n", (int)wcg,
			"CGROUP", (int)wheap, "HEAP", "ALLOCS", "ALLOC/s", "FREES", "FREE/s", "p50-us", "p99-us", "max-us",
			"LIFE-p50", "LIFE-p99", "LIFE-max", "FAIL cap/frag/busy/limit/other");
	if (!rep->coll)
		return;
	for (size_t i = 0; i < h->nrows; i++) {
		size_t cell = h->rows[i];
		const struct hold_cell *c = &h->cells[cell];
		const char *cg = h->cgs[cell / h->nheaps].path, *heap = h->heaps[cell % h->nheaps].name;
		const __u64 *f = c->agg.failures;

		if (!c->traced)
			continue;
		if (csv)
			csv_row(out, "ssuuuuffgggggguuuuu", cg, heap, c->agg.allocs, c->agg.alloc_bytes,
				c->agg.frees, c->agg.free_bytes, c->agg.allocs / rep->seconds,
				c->agg.frees / rep->seconds, sampled(c->lat), pct_us(c->lat, 50),
				sampled(c->lat), pct_us(c->lat, 99), sampled(c->lat),
				pct_us(c->lat, 100), sampled(c->life), pct_us(c->life, 50),
				sampled(c->life), pct_us(c->life, 99), sampled(c->life),
				pct_us(c->life, 100), f[FAIL_CAPACITY], f[FAIL_FRAGMENTATION],
				f[FAIL_BUSY], f[FAIL_LIMIT], f[FAIL_OTHER]);
		else
			fprintf(out, "%s %s %7llu %8.1f %7llu %8.1f %8s %8s %8s %8s %8s %8s "
				"%llu/%llu/%llu/%llu/%llu\n", text_cell(cg, wcg), text_cell(heap, wheap),
				(unsigned long long)c->agg.allocs, c->agg.allocs / rep->seconds,
				(unsigned long long)c->agg.frees, c->agg.frees / rep->seconds,
				pct_cell(c->lat, 50, false), pct_cell(c->lat, 99, false),
				pct_cell(c->lat, 100, false), pct_cell(c->life, 50, true),
				pct_cell(c->life, 99, true), pct_cell(c->life, 100, true),
				(unsigned long long)f[FAIL_CAPACITY],
				(unsigned long long)f[FAIL_FRAGMENTATION], (unsigned long long)f[FAIL_BUSY],
				(unsigned long long)f[FAIL_LIMIT], (unsigned long long)f[FAIL_OTHER]);
	}
	if (!csv)
		print_removed(out, h);
	if (!csv && collector_cma_untraced(rep->coll))
		fprintf(out, "note: CMA's allocations are not traced on this kernel: a CMA heap's "
			"failures are classed capacity, fragmentation and busy not told\n");
	collector_losses(rep->coll, &losses);
	if (losses_text(&losses, lost, sizeof(lost)))	/* a line more would not be CSV */
		fprintf(csv ? stderr : out, "%slost: %s\n", csv ? "heapstat: " : "", lost);
}

static void print_summary(FILE *out, struct report *rep)
{
	const struct inventory *inv = &rep->inv;

	if (rep->opts->csv) {
		print_heaps(out, rep);
		return;
	}
	fprintf(out, "buffers from %s, holders from %s\n", inv_source_name(inv->buffers_src),
		inv_source_name(inv->holders_src));
	if (inv->note[0])
		fprintf(out, "note: %s\n", inv->note);
	if (access(hold_sys_live.heap_dev, F_OK))
		fprintf(out, "note: no DMA-BUF heaps here (no /dev/dma_heap: CONFIG_DMABUF_HEAPS)\n");
	/* only iter/dmabuf sees every buffer: the others, what processes hold */
	if (!inv->nbufs)
		fprintf(out, "note: %s\n", inv->buffers_src == SRC_ITER_DMABUF ?
			"no dma-buf is alive" : "no dma-buf seen");
	fputc('\n', out);
	print_heaps(out, rep);
	fputc('\n', out);
	print_cgroups(out, rep);
	fputc('\n', out);
	print_processes(out, rep);
	fputc('\n', out);
	print_cma(out, rep);
	if (rep->opts->duration_ms) {
		if (rep->coll)	/* else print_activity() says why there is none */
			fprintf(out, "\nactivity over %.1f s\n", rep->seconds);
		else
			fputc('\n', out);
		print_activity(out, rep);
	}
}

void report_text(FILE *out, struct report *rep)
{
	switch (rep->opts->view) {
	case V_SUMMARY: print_summary(out, rep); break;
	case V_HEAPS: print_heaps(out, rep); break;
	case V_CGROUPS: print_cgroups(out, rep); break;
	case V_PROCESSES: print_processes(out, rep); break;
	case V_BUFFERS: print_buffers(out, rep); break;
	case V_CMA: print_cma(out, rep); break;
	case V_ACTIVITY: print_activity(out, rep); break;
	}
}
