// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the holdings model (tools/lib/holdings.c) on a fake
 * /proc, cgroup tree and /dev/dma_heap made in a temporary directory: the
 * inventory is taken from the fake /proc (--source procfs), the model reads
 * the fake cgroup files. No root, no BPF.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "lib/hold_view.h"
#include "lib/holdings.h"
#include "lib/inventory.h"
#include "lib/refusal.h"

static char top[] = "/tmp/heapstat-holdings-XXXXXX";
static char proc[4200], cgroot[4200], devs[4200];
static struct hold_sys sys;

static void run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd)) {
		printf("  fixture command failed: %s\n", cmd);
		test_failed++;
	}
}

/* write TEXT to the file at a path made of FMT */
static void put(const char *text, const char *fmt, ...)
{
	char path[8192];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	f = fopen(path, "w");
	if (!f) {
		printf("  cannot write %s: %s\n", path, strerror(errno));
		test_failed++;
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void fresh(void)
{
	run("rm -rf %s/proc %s/cg %s/dev && mkdir -p %s/proc %s/cg %s/dev", top, top, top, top, top,
	    top);
	put("dma-heap/system 1073741824\ndma-heap/cma 134217728\n", "%s/dmem.capacity", cgroot);
	put("", "%s/system", devs);
	put("", "%s/cma", devs);
}

/* a cgroup directory, with its dmem files when given */
static void cgroup(const char *path, const char *current, const char *max)
{
	run("mkdir -p '%s%s'", cgroot, path);
	if (current)
		put(current, "%s%s/dmem.current", cgroot, path);
	if (max)
		put(max, "%s%s/dmem.max", cgroot, path);
}

/* a process in CGROUP with no dma-buf yet */
static void process(int pid, const char *comm, const char *cg)
{
	char text[4200];

	run("mkdir -p %s/%d/fd %s/%d/fdinfo", proc, pid, proc, pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(text, "%s/%d/comm", proc, pid);
	snprintf(text, sizeof(text), "1:name=systemd:/\n0::%s\n", cg);
	put(text, "%s/%d/cgroup", proc, pid);
	put("", "%s/%d/maps", proc, pid);
}

/* an fd of PID to buffer INO: fdinfo as the kernel writes it, FILLER lines first */
static void fd(int pid, int fdn, uint64_t ino, uint64_t size, const char *exp, int filler)
{
	char text[65536], link[4300];
	size_t n = 0;

	for (int i = 0; i < filler; i++)
		n += snprintf(text + n, sizeof(text) - n, "filler_%d:\t%040d\n", i, i);
	snprintf(text + n, sizeof(text) - n, "pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t%llu\n"
		 "size:\t%llu\ncount:\t1\nexp_name:\t%s\nname:\t\n",
		 (unsigned long long)ino, (unsigned long long)size, exp);
	put(text, "%s/%d/fdinfo/%d", proc, pid, fdn);
	snprintf(link, sizeof(link), "%s/%d/fd/%d", proc, pid, fdn);
	if (symlink("/dmabuf:", link)) {
		printf("  symlink %s: %s\n", link, strerror(errno));
		test_failed++;
	}
}

static int build(struct inventory *inv, struct holdings *h, struct hold_filter *flt)
{
	static struct hold_filter none;
	char why[512];
	int err;

	err = inventory_collect(inv, proc, true);
	CHECK_EQ(err, 0);
	if (err)
		return err;
	if (!flt)
		flt = &none;
	err = hold_filter_check(&sys, flt, inv, why, sizeof(why));
	CHECK(!err, "%s", why);
	if (!err)
		err = holdings_build(h, &sys, inv, NULL, flt);
	CHECK_EQ(err, 0);
	return err;
}

static const struct hold_cell *cell(const struct holdings *h, const char *cg, const char *heap)
{
	size_t c = holdings_cgroup(h, cg), k = holdings_heap(h, heap);

	if (c == HOLD_NONE || k == HOLD_NONE)
		return NULL;
	return hold_cell(h, c, k);
}

/* a buffer held by processes of 100 cgroups (two in one of them) counts once in each */
static void shared_buffer_counts_once_per_cgroup(void)
{
	struct inventory inv;
	struct holdings h;
	unsigned int rows = 0;

	fresh();
	for (int i = 0; i < 100; i++) {
		char cg[32];

		snprintf(cg, sizeof(cg), "/c%d", i);
		cgroup(cg, NULL, NULL);
		process(100 + i, "holder", cg);
		fd(100 + i, 3, 42, 1 << 20, "system", 0);
	}
	process(300, "holder2", "/c7");	/* a second process of /c7, two fds */
	fd(300, 3, 42, 1 << 20, "system", 0);
	fd(300, 4, 42, 1 << 20, "system", 0);
	if (build(&inv, &h, NULL))
		goto out;
	CHECK_EQ(h.heaps[holdings_heap(&h, "system")].bytes, 1 << 20);
	CHECK_EQ(h.heaps[holdings_heap(&h, "system")].buffers, 1);
	for (int i = 0; i < 100; i++) {
		char cg[32];
		const struct hold_cell *c;

		snprintf(cg, sizeof(cg), "/c%d", i);
		c = cell(&h, cg, "system");
		CHECK(c && c->bytes == 1 << 20 && c->buffers == 1 && c->row, "%s", cg);
	}
	for (size_t i = 0; i < h.nrows; i++)
		rows++;
	CHECK_EQ(rows, 100);
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/* a tree's totals: a buffer held in two of its cgroups once, its own and its descendants' */
static void tree_totals_count_a_buffer_once(void)
{
	static const struct {
		const char *cg;
		uint64_t bytes, own;
		unsigned int buffers;
	} want[] = {
		{ "/", (1 << 20) + 4096 + 65536, 0, 3 },
		{ "/t", (1 << 20) + 4096 + 65536, 65536, 3 },
		{ "/t/a", (1 << 20) + 4096, 1 << 20, 2 },
		{ "/t/a/x", 4096, 4096, 1 },
		{ "/t/b", 1 << 20, 1 << 20, 1 },
	};
	struct inventory inv;
	struct holdings h;

	fresh();
	cgroup("/t", NULL, NULL);
	cgroup("/t/a", NULL, NULL);
	cgroup("/t/a/x", NULL, NULL);
	cgroup("/t/b", NULL, NULL);
	process(10, "a", "/t/a");
	fd(10, 3, 50, 1 << 20, "system", 0);
	process(11, "b", "/t/b");
	fd(11, 3, 50, 1 << 20, "system", 0);
	fd(11, 4, 50, 1 << 20, "system", 0);
	process(12, "x", "/t/a/x");
	fd(12, 3, 51, 4096, "system", 0);
	process(13, "t", "/t");
	fd(13, 3, 52, 65536, "system", 0);
	if (build(&inv, &h, NULL))
		goto out;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct hold_cell *c = cell(&h, want[i].cg, "system");

		CHECK(c && c->tree_bytes == want[i].bytes && c->tree_buffers == want[i].buffers &&
		      c->bytes == want[i].own, "%s: tree %llu bytes, %u buffers; own %llu", want[i].cg,
		      c ? (unsigned long long)c->tree_bytes : 0ULL, c ? c->tree_buffers : 0,
		      c ? (unsigned long long)c->bytes : 0ULL);
	}
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/* charged for a buffer it passed on: a row with its charge and nothing held */
static void charged_without_holding(void)
{
	struct inventory inv;
	struct holdings h;
	const struct hold_cell *a, *b;

	fresh();
	cgroup("/a", "dma-heap/system 8192\ndma-heap/cma 0\n", "dma-heap/system max\n");
	cgroup("/b", "dma-heap/system 0\n", "dma-heap/system max\n");
	process(10, "receiver", "/b");
	fd(10, 5, 77, 8192, "system", 0);
	if (build(&inv, &h, NULL))
		goto out;
	a = cell(&h, "/a", "system");
	b = cell(&h, "/b", "system");
	CHECK(a && a->row && a->bytes == 0 && a->charged_known && a->charged == 8192 &&
	      a->own_charge == 8192, "a");
	CHECK(b && b->row && b->bytes == 8192 && b->buffers == 1 && b->charged == 0, "b");
	CHECK(a && a->limit_cg == HOLD_NONE && a->limit == HOLD_NO_LIMIT, "no limit");
	/* a parent charged only through its child has no row of its own */
	cgroup("/p", "dma-heap/system 4096\n", NULL);
	cgroup("/p/q", "dma-heap/system 4096\n", NULL);
	holdings_free(&h);
	if (holdings_build(&h, &sys, &inv, NULL, &(struct hold_filter){}))
		goto out;
	a = cell(&h, "/p", "system");
	b = cell(&h, "/p/q", "system");
	CHECK(a && !a->row && a->charged == 4096 && a->own_charge == 0, "p");
	CHECK(b && b->row && b->own_charge == 4096, "p/q");
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/* the limit that binds is the shared ancestor's: its limit less its charge */
static void headroom_under_an_ancestors_limit(void)
{
	struct inventory inv;
	struct holdings h;
	const struct hold_cell *x, *y;

	fresh();
	cgroup("/p", "dma-heap/cma 6291456\n", "dma-heap/cma 10485760\n");
	cgroup("/p/x", "dma-heap/cma 4194304\n", "dma-heap/cma max\n");
	cgroup("/p/y", "dma-heap/cma 2097152\n", "dma-heap/cma 3145728\n");
	process(20, "x", "/p/x");
	fd(20, 3, 1, 4194304, "cma", 0);
	process(21, "y", "/p/y");
	fd(21, 3, 2, 2097152, "cma", 0);
	if (build(&inv, &h, NULL))
		goto out;
	x = cell(&h, "/p/x", "cma");
	y = cell(&h, "/p/y", "cma");
	/* x: no limit of its own; /p leaves 10M - 6M = 4M (not 10M - 4M) */
	CHECK(x && x->limit == 10485760 && x->headroom == 4194304 &&
	      x->limit_cg == holdings_cgroup(&h, "/p"), "x: limit %llu headroom %llu",
	      x ? (unsigned long long)x->limit : 0ULL, x ? (unsigned long long)x->headroom : 0ULL);
	/* y: its own 3M less 2M leaves less room than /p's 4M */
	CHECK(y && y->limit == 3145728 && y->headroom == 1048576 &&
	      y->limit_cg == holdings_cgroup(&h, "/p/y"), "y");
	/* the nearest ancestor the model has of a path it has not (a removed cgroup's) */
	CHECK_EQ(holdings_ancestor(&h, "/p/x/gone/deeper"), holdings_cgroup(&h, "/p/x"));
	CHECK_EQ(holdings_ancestor(&h, "/p/z"), holdings_cgroup(&h, "/p"));
	CHECK_EQ(holdings_ancestor(&h, "/p/x"), holdings_cgroup(&h, "/p"));
	CHECK_EQ(holdings_ancestor(&h, "/p/x/"), holdings_cgroup(&h, "/p/x"));
	CHECK_EQ(holdings_ancestor(&h, "/"), HOLD_NONE);
	CHECK_EQ(holdings_ancestor(&h, "?12"), HOLD_NONE);
	/* a charge over the limit (a limit lowered below usage): no room, not a wrap */
	holdings_free(&h);
	cgroup("/p/y", NULL, "dma-heap/cma 1048576\n");
	if (holdings_build(&h, &sys, &inv, NULL, &(struct hold_filter){}))
		goto out;
	y = cell(&h, "/p/y", "cma");
	CHECK(y && y->limit == 1048576 && y->headroom == 0, "y over");
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/* -c takes a cgroup and those below; "/p/" is "/p"; what does not exist is an error */
static void filters(void)
{
	struct hold_filter flt = { .cgroup = "//p/" };
	struct inventory inv;
	struct holdings h;
	char why[512];

	fresh();
	cgroup("/p/x", NULL, NULL);
	cgroup("/px", NULL, NULL);
	process(30, "in", "/p/x");
	fd(30, 3, 5, 4096, "system", 0);
	process(31, "out", "/px");
	fd(31, 3, 6, 8192, "system", 0);
	if (build(&inv, &h, &flt))
		goto out;
	CHECK(!strcmp(flt.cgroup, "/p"), "%s", flt.cgroup);
	CHECK(h.proc_shown[0] + h.proc_shown[1] == 1, "one process");
	CHECK_EQ(h.heaps[holdings_heap(&h, "system")].bytes, 4096);
	CHECK_EQ(h.nrows, 1);
	snprintf(flt.cgroup, sizeof(flt.cgroup), "/nosuch");
	CHECK_EQ(hold_filter_check(&sys, &flt, &inv, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "no cgroup /nosuch"), "%s", why);
	snprintf(flt.cgroup, sizeof(flt.cgroup), "camera");
	CHECK_EQ(hold_filter_check(&sys, &flt, &inv, why, sizeof(why)), -EINVAL);
	snprintf(flt.cgroup, sizeof(flt.cgroup), "/p/../px");
	CHECK_EQ(hold_filter_check(&sys, &flt, &inv, why, sizeof(why)), -EINVAL);
	flt = (struct hold_filter){ .pid = 99999 };
	CHECK_EQ(hold_filter_check(&sys, &flt, &inv, why, sizeof(why)), -ENOENT);
	flt = (struct hold_filter){ .heap = "nosuch" };
	CHECK_EQ(hold_filter_check(&sys, &flt, &inv, why, sizeof(why)), -ENOENT);
	flt = (struct hold_filter){ .heap = "cma" };	/* a heap without buffers */
	CHECK_EQ(hold_filter_check(&sys, &flt, &inv, why, sizeof(why)), 0);
	/* a heap filter shows the processes holding that heap's buffers, no other */
	holdings_free(&h);
	CHECK_EQ(holdings_build(&h, &sys, &inv, NULL, &flt), 0);
	CHECK(!h.proc_shown[0] && !h.proc_shown[1], "processes of another heap shown");
	holdings_free(&h);
	flt = (struct hold_filter){ .heap = "system", .pid = 31 };
	CHECK_EQ(holdings_build(&h, &sys, &inv, NULL, &flt), 0);
	CHECK(h.proc_shown[0] + h.proc_shown[1] == 1, "the one process of the heap and pid");
	CHECK_EQ(h.heaps[holdings_heap(&h, "system")].bytes, 8192);
	/* a cgroup path is a directory, not one of its files */
	put("", "%s/p/x/cgroup.procs", cgroot);
	flt = (struct hold_filter){ .cgroup = "/p/x/cgroup.procs" };
	CHECK_EQ(hold_filter_check(&sys, &flt, &inv, why, sizeof(why)), -ENOENT);
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/* no silent caps: a 600-byte cgroup path, fdinfo past 1023 bytes */
static void long_paths_and_fdinfo(void)
{
	struct inventory inv;
	struct holdings h;
	char cg[700] = "";
	const struct hold_cell *c;

	fresh();
	while (strlen(cg) < 600)
		strcat(cg, "/a-rather-long-cgroup-name");
	cgroup(cg, "dma-heap/system 4096\n", NULL);
	process(40, "deep", cg);
	fd(40, 3, 9, 4096, "system", 40);	/* fdinfo of about 2 KiB */
	if (build(&inv, &h, NULL))
		goto out;
	CHECK_EQ(inv.nprocs, 1);
	CHECK(inv.nprocs && !strcmp(inv.procs[0].cgroup, cg), "path cut");
	c = cell(&h, cg, "system");
	CHECK(c && c->row && c->bytes == 4096 && c->charged == 4096, "deep cell");
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/* a buffer's name is its owner's text: one that looks like more fields is only a name */
static void name_is_not_fields(void)
{
	struct inventory inv;
	struct holdings h;
	const struct hold_cell *c;

	fresh();
	cgroup("/n", NULL, NULL);
	process(50, "namer", "/n");
	fd(50, 3, 11, 4096, "system", 0);
	put("pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t11\nsize:\t4096\ncount:\t1\n"
	    "exp_name:\tsystem\nname:\tx\nsize:\t1099511627776\nino:\t12\n", "%s/50/fdinfo/3", proc);
	if (build(&inv, &h, NULL))
		goto out;
	CHECK_EQ(inv.nbufs, 1);
	CHECK(inv.nbufs && inv.bufs[0].ino == 11 && inv.bufs[0].size == 4096 &&
	      !strcmp(inv.bufs[0].name, "x\nsize:\t1099511627776\nino:\t12"), "fields from the name");
	c = cell(&h, "/n", "system");
	CHECK(c && c->bytes == 4096, "the name's size counted");
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/* a kernel whose CMA heap charges its area's region "cma/<area>" (as proposed
 * upstream): each heap of an area is charged and limited through that region */
static void cma_area_regions(void)
{
	struct inventory inv;
	struct holdings h;
	const struct hold_cell *cam, *def, *res;
	size_t k;

	fresh();
	put("dma-heap/system 1073741824\ncma/reserved 134217728\ncma/camera 33554432\n"
	    "cma/video 16777216\n", "%s/dmem.capacity", cgroot);
	put("", "%s/default_cma_region", devs);
	put("", "%s/reserved", devs);
	put("", "%s/camera", devs);
	cgroup("/cam", "cma/camera 4096\ncma/reserved 8192\ncma/video 0\n",
	       "cma/camera 1048576\ncma/reserved max\ncma/video max\n");
	process(30, "cam", "/cam");
	fd(30, 3, 9, 4096, "camera", 0);
	if (build(&inv, &h, NULL))
		goto out;
	k = holdings_heap(&h, "camera");
	CHECK(k != HOLD_NONE && h.heaps[k].charger == CHARGER_DMEM && h.heaps[k].region &&
	      !strcmp(h.heaps[k].region, "cma/camera"), "camera's region");
	k = holdings_heap(&h, "default_cma_region");
	CHECK(k != HOLD_NONE && h.heaps[k].region && !strcmp(h.heaps[k].region, "cma/reserved"),
	      "default_cma_region's region is the default area's");
	CHECK(holdings_heap(&h, "video") == HOLD_NONE, "no heap for an area without one");
	cam = cell(&h, "/cam", "camera");
	def = cell(&h, "/cam", "default_cma_region");
	res = cell(&h, "/cam", "reserved");
	CHECK(cam && cam->row && cam->bytes == 4096 && cam->charged == 4096 && cam->max == 1048576 &&
	      cam->limit == 1048576 && cam->headroom == 1044480, "camera's cell");
	CHECK(def && res && def->charged == 8192 && res->charged == 8192 &&
	      def->max == HOLD_NO_LIMIT, "the default area's heaps share its charge");
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/*
 * heapstat's default_cma_region heap beside an area's region that names it
 * too (cma/reserved, listed first): the heap is charged and limited through
 * its own dma-heap/ region, whatever order the files list them in.
 */
static void own_region_first(void)
{
	struct inventory inv;
	struct holdings h;
	const struct hold_cell *def;
	size_t k;

	fresh();
	put("cma/reserved 134217728\ndma-heap/default_cma_region 134217728\n",
	    "%s/dmem.capacity", cgroot);
	put("", "%s/default_cma_region", devs);
	cgroup("/cam", "cma/reserved 0\ndma-heap/default_cma_region 8192\n",
	       "cma/reserved 4096\ndma-heap/default_cma_region 1048576\n");
	process(31, "cam", "/cam");
	fd(31, 3, 9, 8192, "default_cma_region", 0);
	if (build(&inv, &h, NULL))
		goto out;
	k = holdings_heap(&h, "default_cma_region");
	CHECK(k != HOLD_NONE && h.heaps[k].region &&
	      !strcmp(h.heaps[k].region, "dma-heap/default_cma_region"), "its own region");
	def = cell(&h, "/cam", "default_cma_region");
	CHECK(def && def->charged == 8192 && def->max == 1048576 && def->headroom == 1040384,
	      "charged and limited by its own region's lines");
	CHECK(holdings_heap(&h, "reserved") == HOLD_NONE, "no heap for the area");
out:
	holdings_free(&h);
	inventory_free(&inv);
}

/*
 * A cgroup namespace's root (a container): no dmem.capacity there, its
 * dmem.current names the regions. Their heaps are charged by dmem, with no
 * capacity known; with mem_accounting on, "system" stays dmem's too.
 */
static void namespace_root_regions(void)
{
	struct inventory inv;
	struct holdings h;
	const struct hold_cell *c;
	size_t k;

	fresh();
	run("rm -f %s/dmem.capacity", cgroot);
	put("dma-heap/system 4096\ndma-heap/cma 0\n", "%s/dmem.current", cgroot);
	put("dma-heap/system 1048576\ndma-heap/cma max\n", "%s/dmem.max", cgroot);
	process(32, "app", "/");
	fd(32, 3, 9, 4096, "system", 0);
	sys.mem_accounting = true;
	if (build(&inv, &h, NULL))
		goto out;
	k = holdings_heap(&h, "system");
	CHECK(k != HOLD_NONE && h.heaps[k].charger == CHARGER_DMEM && !h.heaps[k].capacity_known,
	      "system: charger %d", k != HOLD_NONE ? (int)h.heaps[k].charger : -1);
	k = holdings_heap(&h, "cma");
	CHECK(k != HOLD_NONE && h.heaps[k].charger == CHARGER_DMEM, "cma charged by dmem");
	c = cell(&h, "/", "system");
	CHECK(c && c->charged_known && c->charged == 4096 && c->max == 1048576,
	      "the root's own dmem.current and dmem.max");
out:
	sys.mem_accounting = false;
	holdings_free(&h);
	inventory_free(&inv);
}

/*
 * The kept inventory brought up to date: exports and final releases applied
 * to the buffers (the processes' part needs the task iterators: VM tests)
 * leave what a new walk finds; inventory_diff() counts the rest, less what
 * it is told to leave out.
 */
/*
 * Each fd finds its buffer (add_holds(): from the one after the last found,
 * by steps doubling, else by a search of all): four processes' buffers
 * interleaved by inode, with gaps, one shared, a few inodes far below the
 * rest and one far above: every buffer's holders and every process's bytes
 * as made.
 */
enum { MANY_PROCS = 4, MANY_EACH = 200, MANY_FAR = 1000000 };

static uint64_t many_ino(int k, int p)
{
	return (k < 3 ? 1000 : 900000) + MANY_PROCS * k + p;
}

static void holds_found_among_many(void)
{
	static unsigned int want_holders[MANY_EACH][MANY_PROCS];
	uint64_t want_bytes[MANY_PROCS] = {}, want_holds = 0;
	int fdn[MANY_PROCS] = {};
	struct inventory inv;
	struct inv_buf *b;

	fresh();
	for (int p = 0; p < MANY_PROCS; p++)
		process(20 + p, "many", "/m");
	for (int k = 0; k < MANY_EACH; k++)
		for (int p = 0; p < MANY_PROCS; p++) {
			uint64_t ino = many_ino(k, p), size = 4096 * (1 + ino % 3);
			int last = MANY_PROCS - 1;

			if (k % 7 == 3)	/* a gap: no such buffer */
				continue;
			fd(20 + p, 3 + fdn[p]++, ino, size, "system", 0);
			want_holders[k][p]++;
			want_bytes[p] += size;
			want_holds++;
			if (k == 100 && p == 1) {	/* shared with the last process */
				fd(20 + last, 3 + fdn[last]++, ino, size, "system", 0);
				want_holders[k][p]++;
				want_bytes[last] += size;
				want_holds++;
			}
		}
	fd(20, 3 + fdn[0]++, MANY_FAR, 4096, "system", 0);
	want_bytes[0] += 4096;
	want_holds++;
	if (inventory_collect(&inv, proc, true)) {
		CHECK(false, "inventory_collect");
		return;
	}
	CHECK_EQ(inv.nholds, want_holds);
	for (int k = 0; k < MANY_EACH; k++)
		for (int p = 0; p < MANY_PROCS; p++) {
			b = inventory_find(&inv, many_ino(k, p));
			CHECK((b ? b->holders : 0) == want_holders[k][p],
			      "buffer %llu: %u holders, not %u", (unsigned long long)many_ino(k, p),
			      b ? b->holders : 0, want_holders[k][p]);
		}
	b = inventory_find(&inv, MANY_FAR);
	CHECK(b && b->holders == 1, "the far buffer's holder");
	for (size_t i = 0; i < inv.nprocs; i++)
		CHECK(inv.procs[i].fd_bytes == want_bytes[inv.procs[i].pid - 20],
		      "pid %d: %llu bytes, not %llu", inv.procs[i].pid,
		      (unsigned long long)inv.procs[i].fd_bytes,
		      (unsigned long long)want_bytes[inv.procs[i].pid - 20]);
	CHECK_EQ(inv.nprocs, MANY_PROCS);
	inventory_free(&inv);
}

/*
 * iter/dmabuf's order (newest first) to inode order: none late, a few late
 * by hundreds (taken out and merged back), late ones at either end, too
 * many late (sorted whole), and 0 to 3 buffers; every record whole, none
 * lost.
 */
static void walked_buffers_sorted(void)
{
	enum { N = 5000 };
	static struct inv_buf v[N];
	static const size_t sizes[] = { 0, 1, 2, 3, N };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++)
		for (int order = 0; order < 5; order++) {
			size_t n = sizes[s];
			uint64_t sum = 0, sum_after = 0;

			/* made in inode order 1..n, listed newest first */
			for (size_t i = 0; i < n; i++) {
				uint64_t ino = n - i;

				v[i] = (struct inv_buf){ .ino = ino, .size = ino * 3 };
				sum += ino;
			}
			/* a late one: listed as newer than the buffers after it */
			for (size_t i = 0; i + 1 < n; i++) {
				size_t far = order == 1 ? 300 : order == 2 ? n : 2;
				bool late = order == 1 ? i % 97 == 5 : order == 2 ? i == 0 :
					    order == 3 ? i == n - 2 : order == 4 ? i % 3 == 0 : false;
				struct inv_buf t;

				if (!late)
					continue;
				far = i + far < n ? far : n - 1 - i;
				/* v[i + far] moves up to i, the ones between down one */
				t = v[i + far];
				memmove(&v[i + 1], &v[i], far * sizeof(*v));
				v[i] = t;
			}
			inventory_sort_walked(v, n);
			for (size_t i = 0; i < n; i++) {
				sum_after += v[i].ino;
				CHECK(v[i].size == v[i].ino * 3, "order %d n %zu: record torn", order, n);
				CHECK(!i || v[i - 1].ino < v[i].ino, "order %d n %zu at %zu: %llu before %llu",
				      order, n, i, (unsigned long long)(i ? v[i - 1].ino : 0),
				      (unsigned long long)v[i].ino);
			}
			CHECK(sum == sum_after, "order %d n %zu: buffers lost", order, n);
		}
}

static void inventory_updates_and_diff(void)
{
	struct inventory kept, walked;
	struct inv_difference last = {};
	struct inv_export exp[] = { { 103, 8192, "system" }, { 104, 4096, "system" } };
	uint64_t rel[] = { 101, 104 };
	struct inv_changes ch = { .exports = exp, .nexports = 2, .releases = rel, .nreleases = 2 };
	pid_t pids[] = { 11 };
	struct inv_changes skip_pid = { .tgids = pids, .ntgids = 1 };
	uint64_t rel102[] = { 102 };
	struct inv_changes skip_ino = { .releases = rel102, .nreleases = 1 };

	fresh();
	process(10, "cam", "/a");
	fd(10, 3, 101, 4096, "system", 0);
	fd(10, 4, 102, 65536, "system", 0);
	process(11, "enc", "/b");
	fd(11, 3, 102, 65536, "system", 0);
	CHECK_EQ(inventory_collect(&kept, proc, true), 0);
	/* 101 released (its fd closed), 103 exported and held, 104 come and gone */
	run("rm %s/10/fd/3 %s/10/fdinfo/3", proc, proc);
	fd(11, 5, 103, 8192, "system", 0);
	CHECK_EQ(inventory_collect(&walked, proc, true), 0);
	CHECK_EQ(inventory_diff(&kept, &walked, NULL, NULL), 4);	/* buffers 101, 103; holds (101, 10), (103, 11) */
	CHECK_EQ(inventory_diff(&kept, &walked, &skip_pid, NULL), 3);

	/* the buffers' part of an update; the inventory as if from the iterators */
	kept.buffers_src = SRC_ITER_DMABUF;
	kept.holders_src = SRC_ITER_TASK;
	CHECK_EQ(inventory_apply(NULL, &kept, &ch, proc), 0);
	CHECK_EQ(kept.nbufs, 2);
	CHECK(kept.nbufs == 2 && kept.bufs[0].ino == 102 && kept.bufs[1].ino == 103 &&
	      kept.bufs[1].size == 8192 && !strcmp(kept.bufs[1].exp_name, "system"), "buffers");
	/* holds of 101 went with it; 102 kept both holders; 103's holder is not walked */
	CHECK_EQ(kept.nholds, 2);
	CHECK_EQ(kept.bufs[0].holders, 2);
	CHECK_EQ(kept.procs[0].fd_bytes, 65536);
	CHECK_EQ(kept.procs[0].pss_bytes, 32768);
	CHECK_EQ(inventory_diff(&kept, &walked, NULL, &last), 1);	/* hold (103, 11) */
	CHECK(last.ino == 103 && last.pid == 11 && last.fds[0] == 0 && last.fds[1] == 1 &&
	      last.bytes[0] == 0 && last.bytes[1] == 0, "the hold kept has not, the walk has");
	CHECK_EQ(inventory_diff(&kept, &walked, &skip_pid, NULL), 0);
	/* a size that differs counts; left out by inode */
	walked.bufs[0].size = 1;
	CHECK_EQ(inventory_diff(&kept, &walked, &skip_pid, &last), 1);
	CHECK(last.ino == 102 && last.pid == 0 && last.bytes[0] == 65536 && last.bytes[1] == 1,
	      "the buffer's two sizes");
	/* nothing counted: the last difference is left as it was */
	CHECK_EQ(inventory_diff(&kept, &kept, NULL, &last), 0);
	CHECK_EQ(last.ino, 102);
	CHECK_EQ(inventory_diff(&walked, &kept, &skip_ino, NULL), 1);	/* (103, 11) */
	/* without the iterators' sources, nothing is applied */
	walked.buffers_src = SRC_PROC_FDINFO;
	CHECK_EQ(inventory_apply(NULL, &walked, &ch, proc), -EINVAL);
	inventory_free(&kept);
	inventory_free(&walked);
}

/* the note under a table with removed cgroups' rows: distinct, in order, safe, fitted */
static void removed_note(void)
{
	const char *two[] = { "/ci/b", "/ci/a", "/ci/b", "/ci/a\x1b[2J" };
	const char *many[] = { "/j9", "/j8", "/j7", "/j6", "/j5", "/j4", "/j3", "/j2", "/j1",
			       "/j0", "/j9", "/j0" };
	const char *one[] = { "/a-cgroup-whose-name-does-not-fit" }, *abc[] = { "/aa", "/bb", "/cc" };
	const char *none[1] = { NULL };
	char out[128], tiny[40];

	CHECK(!strcmp(hold_removed_note(two, 4, out, sizeof(out)),
		      "note: removed while traced: /ci/b, /ci/a, /ci/a^[[2J"), "%s", out);
	CHECK(!strcmp(hold_removed_note(many, 12, out, sizeof(out)),
		      "note: removed while traced: /j9, /j8, /j7, /j6, /j5, /j4, /j3, /j2 and 2 more"),
	      "%s", out);
	/* room for one name and the count: the others counted; the last needs no room kept */
	CHECK(!strcmp(hold_removed_note(abc, 3, out, 45), "note: removed while traced: /aa and 2 more"),
	      "%s", out);
	CHECK(!strcmp(hold_removed_note(abc, 2, out, 45), "note: removed while traced: /aa, /bb"),
	      "%s", out);
	CHECK(!strcmp(many[0], "/j9") && !strcmp(many[9], "/j0"), "the caller's order kept");
	/* no room for any name: only the count */
	CHECK(!strcmp(hold_removed_note(one, 1, tiny, sizeof(tiny)),
		      "note: removed while traced: 1 more"), "%s", tiny);
	CHECK(!strcmp(hold_removed_note(none, 0, out, sizeof(out)), ""), "%s", out);
}

/* which memcg failures are a limit's: ENOMEM by the room; EINTR also by the OOM killer's choice */
static void memcg_refusal_rules(void)
{
	struct refusal_bound full = { .found = true, .cg = 1, .usage = 30 << 20, .limit = 32 << 20 };
	struct refusal_bound roomy = { .found = true, .cg = 1, .usage = 0, .limit = 400 << 20 };
	struct refusal_bound gone = { .found = true, .cg = HOLD_NONE, .usage = 31 << 20,
				      .limit = 32 << 20 };
	struct refusal_bound none = { .cg = HOLD_NONE };

	CHECK(refusal_is_limit(REFUSAL_MEMCG, &full, 4 << 20, -ENOMEM, false), "ENOMEM, no room");
	CHECK(!refusal_is_limit(REFUSAL_MEMCG, &full, 1 << 20, -ENOMEM, false), "ENOMEM with room");
	CHECK(!refusal_is_limit(REFUSAL_MEMCG, &full, 4 << 20, -EINTR, false), "EINTR, killed by a user");
	CHECK(refusal_is_limit(REFUSAL_MEMCG, &full, 4 << 20, -EINTR, true), "EINTR, the OOM killer's");
	CHECK(!refusal_is_limit(REFUSAL_MEMCG, &roomy, 4 << 20, -EINTR, true), "EINTR with room");
	CHECK(refusal_is_limit(REFUSAL_MEMCG, &roomy, 512ull << 20, -EINTR, true),
	      "EINTR, more than room");
	CHECK(!refusal_is_limit(REFUSAL_MEMCG, &roomy, 512ull << 20, -EINTR, false),
	      "EINTR, more than room, killed by a user");
	CHECK(!refusal_is_limit(REFUSAL_MEMCG, &none, 4 << 20, -ENOMEM, false), "no limit found");
	/* read at the failure: a cgroup the model has no more still bound */
	CHECK(refusal_is_limit(REFUSAL_MEMCG, &gone, 4 << 20, -ENOMEM, false), "bound, removed since");
	CHECK(refusal_is_limit(REFUSAL_DMEM, &none, 4 << 20, -EAGAIN, false), "dmem: its EAGAIN says");
	CHECK(!refusal_is_limit(REFUSAL_NONE, &full, 4 << 20, -ENOMEM, true), "no backend");
}

/* PSS of buffers shared unevenly: rounded once per process, not per buffer */
static void pss_rounded_once(void)
{
	struct inv_buf bufs[3] = {
		{ .ino = 1, .size = 1 << 20, .exp_name = "system", .name = "", .holders = 3 },
		{ .ino = 2, .size = 1 << 20, .exp_name = "system", .name = "", .holders = 3 },
		{ .ino = 3, .size = 1 << 20, .exp_name = "system", .name = "", .holders = 3 },
	};
	struct inv_proc procs[3] = { { .pid = 1 }, { .pid = 2 }, { .pid = 3 } };
	struct inv_hold holds[9];
	struct inventory inv = { .bufs = bufs, .nbufs = 3, .procs = procs, .nprocs = 3,
				 .holds = holds, .nholds = 9 };

	for (uint32_t i = 0; i < 9; i++)
		holds[i] = (struct inv_hold){ .buf = i / 3, .proc = i % 3, .fds = 1 };
	inventory_proc_totals(&inv, NULL, procs);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(procs[i].pss_bytes, 1 << 20);	/* 3 x 349525.33: 1048575 by buffer */
		CHECK_EQ(procs[i].fd_bytes, 3 << 20);
	}
	/* one buffer's third: 349525.33, rounded to the nearest */
	inv.nholds = 3;
	inventory_proc_totals(&inv, NULL, procs);
	CHECK_EQ(procs[0].pss_bytes, 349525);
}

/* a cell's hits as lsm_since keeps them */
static uint64_t since_hits(const struct lsm_since *s, uint64_t id, uint32_t dev)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].cgroup_id == id && s->v[i].dev == dev)
			return lsm_since_hits(&s->v[i]);
	return UINT64_MAX;
}

static bool keep_odd(uint64_t id, void *ctx)
{
	(void)ctx;
	return id & 1;
}

/*
 * The BPF-LSM's hits since a view began: the first read is the base, a cell
 * made since counts from 0, the programs pinned anew (another cells map) or
 * a cell freed and made again go on from what was counted, a read with
 * nothing pinned keeps it, and a cell gone is kept until its cgroup is not.
 */
static void lsm_since_counts_on(void)
{
	struct lsm_limit_row r[3] = {
		{ .cgroup_id = 7, .dev = 1, .hits = 5, .heap = "system" },
		{ .cgroup_id = 3, .dev = 1, .hits = 0, .heap = "system" },
		{ .cgroup_id = 3, .dev = 2, .hits = 9, .heap = "" },
	};
	struct lsm_limit_row late[2] = {
		{ .cgroup_id = 5, .dev = 1, .hits = 4, .heap = "system" },
		{ .cgroup_id = 6, .dev = 1, .hits = 0, .heap = "system" },
	};
	struct lsm_since s = {};
	uint64_t total;

	CHECK_EQ(lsm_since_update(&s, 10, r, 3), 0);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(s.v[0].cgroup_id, 3);		/* kept by id, then device */
	CHECK_EQ(s.v[1].dev, 2);		/* (3, 2) */
	CHECK_EQ(since_hits(&s, 7, 1), 0);	/* counted before: the base */
	CHECK_EQ(since_hits(&s, 3, 2), 0);
	r[0].hits = 8;
	r[1].hits = 2;
	CHECK_EQ(lsm_since_update(&s, 10, r, 2), 0);	/* (3, 2) not read: kept */
	CHECK_EQ(since_hits(&s, 7, 1), 3);
	CHECK_EQ(since_hits(&s, 3, 1), 2);
	CHECK_EQ(since_hits(&s, 3, 2), 0);
	CHECK(!s.v[1].read && s.v[0].read, "read flags");
	CHECK_EQ(lsm_since_update(&s, 0, NULL, 0), 0);	/* the last limit cleared */
	CHECK_EQ(since_hits(&s, 7, 1), 3);
	r[0].hits = 1;		/* pinned anew: new cells from 0 */
	r[1].hits = 2;
	CHECK_EQ(lsm_since_update(&s, 11, r, 2), 0);
	CHECK_EQ(since_hits(&s, 7, 1), 4);
	CHECK_EQ(since_hits(&s, 3, 1), 4);
	r[0].hits = 0;		/* the same map, a cell freed and made again */
	CHECK_EQ(lsm_since_update(&s, 11, r, 1), 0);
	CHECK_EQ(since_hits(&s, 7, 1), 4);
	r[0].hits = 2;
	CHECK_EQ(lsm_since_update(&s, 11, r, 1), 0);
	CHECK_EQ(since_hits(&s, 7, 1), 6);
	/* a cell first seen after the base counts whole; a limit's row without hits waits */
	CHECK_EQ(lsm_since_update(&s, 11, late, 2), 0);
	CHECK_EQ(since_hits(&s, 5, 1), 4);
	CHECK_EQ(since_hits(&s, 6, 1), UINT64_MAX);
	CHECK(!strcmp(s.v[0].heap, "system") && !s.v[1].heap[0], "names: %s, %s", s.v[0].heap, s.v[1].heap);
	/*
	 * pruned: a removed cgroup's entry (odd ids are still the caller's)
	 * keep_removed_ns after it went, once its cell is not read; its hits
	 * still in the total, which never goes down
	 */
	late[0].cgroup_id = 8;
	CHECK_EQ(lsm_since_update(&s, 11, late, 1), 0);
	s.keep_removed_ns = 1000;
	CHECK(lsm_since_kept(&s, &s.v[4]), "8/1 shown: there");
	CHECK_EQ(lsm_since_name(&s.v[4], "/job"), 0);
	CHECK_EQ(lsm_since_name(&s.v[4], NULL), 0);	/* gone: now */
	CHECK(s.v[4].removed_ns && lsm_since_path(&s, 8) && !strcmp(lsm_since_path(&s, 8), "/job"),
	      "8's path kept");
	s.v[4].removed_ns -= 2000;			/* gone 2 us ago */
	CHECK(!lsm_since_kept(&s, &s.v[4]), "8/1 not shown: its time passed");
	total = lsm_since_total(&s);
	lsm_since_prune(&s, keep_odd, NULL);
	CHECK_EQ(s.n, 5);	/* 3/1, 3/2, 5/1, 7/1, and 8/1: its cell read */
	CHECK_EQ(since_hits(&s, 8, 1), 4);
	CHECK_EQ(lsm_since_update(&s, 11, r, 1), 0);
	lsm_since_prune(&s, keep_odd, NULL);
	CHECK_EQ(s.n, 4);
	CHECK_EQ(since_hits(&s, 8, 1), UINT64_MAX);
	CHECK_EQ(since_hits(&s, 5, 1), 4);
	CHECK_EQ(lsm_since_total(&s), total);
	CHECK(!lsm_since_path(&s, 8) && !lsm_since_path(&s, 5), "no path for 8 (gone), 5 (never)");
	/* kept while the caller has it, however long ago it went */
	CHECK_EQ(lsm_since_name(&s.v[2], NULL), 0);	/* 5/1 */
	s.v[2].removed_ns -= 2000;
	s.v[2].read = false;
	lsm_since_prune(&s, keep_odd, NULL);
	CHECK_EQ(s.n, 4);
	lsm_since_free(&s);
	CHECK(!s.v && !s.n, "freed");
}

int main(void)
{
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(proc, sizeof(proc), "%s/proc", top);
	snprintf(cgroot, sizeof(cgroot), "%s/cg", top);
	snprintf(devs, sizeof(devs), "%s/dev", top);
	sys = (struct hold_sys){ .proc = proc, .cgroup_root = cgroot, .heap_dev = devs };
	RUN(shared_buffer_counts_once_per_cgroup);
	RUN(tree_totals_count_a_buffer_once);
	RUN(charged_without_holding);
	RUN(headroom_under_an_ancestors_limit);
	RUN(filters);
	RUN(long_paths_and_fdinfo);
	RUN(name_is_not_fields);
	RUN(cma_area_regions);
	RUN(own_region_first);
	RUN(namespace_root_regions);
	RUN(holds_found_among_many);
	RUN(walked_buffers_sorted);
	RUN(inventory_updates_and_diff);
	RUN(removed_note);
	RUN(memcg_refusal_rules);
	RUN(pss_rounded_once);
	RUN(lsm_since_counts_on);
	run("rm -rf %s", top);
	return tests_failed ? 1 : 0;
}
