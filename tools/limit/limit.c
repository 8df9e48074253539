// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat limit: set, show and clear per-cgroup, per-heap limits, and run a
 * command in a limited cgroup. Each heap has the backend that can enforce a
 * limit on it, as the holdings model knows who charges the heap:
 *   dmem   a heap charging a dmem region "dma-heap/<heap>": dmem.max;
 *   memcg  the system heap under dma_heap.mem_accounting: memory.max, which
 *          caps all of a cgroup's memory (only with --memcg);
 *   bpf-lsm a heap nothing in the kernel charges: heapstat's BPF-LSM
 *          programs (tools/lib/lsm_limit.c), pinned while a limit is set.
 * Cgroups are changed through libcgroup (cgroup/control.c); usage, limits
 * and headroom are the model's (tools/lib/holdings.c).
 */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapstat.h"
#include "limit.h"
#include "cgroup/control.h"
#include "cgroup/dmem.h"
#include "cgroup/memcg.h"
#include "cgroup/path.h"
#include "lib/errors.h"
#include "lib/sources.h"
#include "lib/hold_view.h"
#include "lib/holdings.h"
#include "lib/json.h"
#include "lib/lsm_limit.h"
#include "lib/text.h"
#include "lib/util.h"

#define MAX_SETS	32

static const char doc[] =
"Set, show and clear per-cgroup limits on dma-buf heaps, and run a command\n"
"in a limited cgroup.\n"
"\n"
"A limit binds the cgroup and every cgroup below it. The backend is the\n"
"heap's: dmem (dmem.max of the heap's region \"dma-heap/<heap>\"; heapstat's\n"
"heaps, with accounting on), memcg (memory.max, for the system heap under\n"
"dma_heap.mem_accounting: it caps all of the cgroup's memory, so it needs\n"
"--memcg), or bpf-lsm for a heap nothing in the kernel charges (heapstat's\n"
"BPF-LSM programs, pinned in /sys/fs/bpf/heapstat while a limit is set; a\n"
"kernel with bpf in its LSMs). An allocation over a limit fails with EAGAIN\n"
"(dmem, bpf-lsm) and is charged nothing; past memory.max (memcg) the kernel\n"
"reclaims, then OOM-kills in the cgroup. SIZE takes K, M and G suffixes\n"
"(either case; powers of 1024; Ki and KiB alike, not KB), or max for no limit.\n"
"\n"
"USAGE: heapstat limit set CGROUP HEAP SIZE|max [--memcg]\n"
"       heapstat limit show [CGROUP] [-j]\n"
"       heapstat limit clear CGROUP [HEAP] [--memcg]\n"
"       heapstat limit events [-f] [-d SECS] [-c CGROUP] [-j]\n"
"       heapstat limit exec [--create] [--set HEAP=SIZE]... CGROUP\n"
"                           -- CMD [ARGS...]\n"
"\n"
"events prints the allocations a limit refused: who asked, how much, whose\n"
"limit bound with its usage, and the top holders under it. The bpf-lsm\n"
"programs keep theirs until read (-c without -f reads, takes none); dmem and\n"
"memcg keep none, so those are seen only while -f follows (it traces\n"
"allocations, as heaptop does). A bpf-lsm limit goes with its cgroup: the\n"
"next set, clear or exec --set drops those of removed cgroups.\n"
"\n"
"EXAMPLES:\n"
"    heapstat limit set /camera default_cma_region 64M\n"
"    heapstat limit show                  # every limit, usage, headroom\n"
"    heapstat limit show /camera -j\n"
"    heapstat limit clear /camera         # every heap's limit on /camera\n"
"    heapstat limit set /gpu system 1G --memcg   # all of /gpu's memory\n"
"    heapstat limit set /video system 256M       # bpf-lsm, no mem_accounting\n"
"    heapstat limit events -f -c /camera  # refusals as they happen\n"
"    heapstat limit exec --create --set default_cma_region=32M /ci/t1 -- ./test\n";

enum verb { VERB_NONE, VERB_SET, VERB_SHOW, VERB_CLEAR, VERB_EXEC, VERB_EVENTS };

static struct limit_opts {
	enum verb verb;
	bool json, memcg, create, follow;
	const char *cgroup;		/* events -c */
	uint64_t duration_ms;		/* events -d */
	const char *args[3];
	int nargs;
	const char *sets[MAX_SETS];	/* --set HEAP=SIZE */
	int nsets;
	char **cmd;			/* exec: after -- */
} opts;

enum { OPT_MEMCG = 0x100, OPT_CREATE, OPT_SET };

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "show, events: as JSON (events: one object a line)", 0 },
	{ "follow", 'f', NULL, 0, "events: follow them as they happen, until Ctrl-C", 0 },
	{ "duration", 'd', "SECS", 0, "events -f: stop after SECS seconds (0.001 to 86400)", 0 },
	{ "cgroup", 'c', "CGROUP", 0, "events: those in CGROUP or below, or bound by its limit", 0 },
	{ "memcg", OPT_MEMCG, NULL, 0, "set, clear, exec --set: the system heap's limit is memory.max, "
	  "all of the cgroup's memory: yes, mean that", 0 },
	{ "create", OPT_CREATE, NULL, 0, "exec: make the cgroup (and its parents) first", 0 },
	{ "set", OPT_SET, "HEAP=SIZE", 0, "exec: set this limit first (repeatable)", 0 },
	{ NULL, 'h', NULL, 0, "Show this help", -1 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	static const char * const verbs[] = { NULL, "set", "show", "clear", "exec", "events" };

	switch (key) {
	case 'j': opts.json = true; break;
	case 'f': opts.follow = true; break;
	case 'c': opts.cgroup = arg; break;
	case 'd':
		if (parse_interval_ms(arg, &opts.duration_ms) || !opts.duration_ms)
			argp_error(state, DURATION_REFUSED, text_safe(arg));
		break;
	case OPT_MEMCG: opts.memcg = true; break;
	case OPT_CREATE: opts.create = true; break;
	case OPT_SET:
		if (opts.nsets == MAX_SETS)
			argp_error(state, "at most %d --set", MAX_SETS);
		if (!strchr(arg, '='))
			argp_error(state, "--set '%s': give HEAP=SIZE", text_safe(arg));
		opts.sets[opts.nsets++] = arg;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		if (!opts.verb) {
			for (int v = VERB_SET; v <= VERB_EVENTS; v++)
				if (!strcmp(arg, verbs[v]))
					opts.verb = v;
			if (!opts.verb)
				argp_error(state, "unknown '%s': set, show, clear, events or exec",
					   text_safe(arg));
			return 0;
		}
		if (opts.verb == VERB_EXEC && opts.nargs == 1) {
			/* the command and its arguments, all of what is left */
			opts.cmd = &state->argv[state->next - 1];
			state->next = state->argc;
			return 0;
		}
		if (opts.nargs == 3)
			argp_error(state, "too many arguments at '%s'", text_safe(arg));
		opts.args[opts.nargs++] = arg;
		break;
	case ARGP_KEY_END: {
		static const int min[] = { 0, 3, 0, 1, 1, 0 }, max[] = { 0, 3, 1, 2, 1, 0 };

		if (!opts.verb)
			argp_error(state, "give set, show, clear, events or exec");
		if (opts.nargs < min[opts.verb] || opts.nargs > max[opts.verb])
			argp_error(state, "%s takes %s", verbs[opts.verb],
				   (const char *[]){ "", "CGROUP HEAP SIZE|max", "[CGROUP]",
						     "CGROUP [HEAP]", "CGROUP -- CMD [ARGS...]",
						     "no arguments but options" }[opts.verb]);
		if (opts.verb == VERB_EXEC && !opts.cmd)
			argp_error(state, "exec needs a command after --");
		if ((opts.create || opts.nsets) && opts.verb != VERB_EXEC)
			argp_error(state, "--create and --set go with exec");
		if (opts.json && opts.verb != VERB_SHOW && opts.verb != VERB_EVENTS)
			argp_error(state, "-j goes with show and events");
		if ((opts.follow || opts.cgroup) && opts.verb != VERB_EVENTS)
			argp_error(state, "%s goes with events", opts.follow ? "-f" : "-c");
		if (opts.duration_ms && !opts.follow)
			argp_error(state, "-d goes with events -f");
		if (opts.memcg && opts.verb != VERB_SET && opts.verb != VERB_CLEAR &&
		    !(opts.verb == VERB_EXEC && opts.nsets))
			argp_error(state, "--memcg goes with set, clear and exec --set");
		break;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* the model without an inventory: heaps, cgroups, charges and limits */
static int take_model(struct holdings *h, struct inventory *none, const char *cgroup)
{
	struct hold_sys sys = hold_sys_live;
	struct hold_filter flt = {};
	char why[512];
	int err;

	memset(none, 0, sizeof(*none));
	sys.mem_accounting = heap_mem_accounting();
	if (cgroup) {
		snprintf(flt.cgroup, sizeof(flt.cgroup), "%s", cgroup);
		err = hold_filter_check(&sys, &flt, NULL, why, sizeof(why));
		if (err) {
			fprintf(stderr, "heapstat limit: %s\n", why);
			return err;
		}
	}
	err = holdings_build(h, &sys, none, NULL, &flt);
	if (err)
		heapstat_error(err, "read the cgroups", NULL);
	return err;
}

/* a cgroup named not from the cgroup2 root, or empty */
static int cgroup_unnamed(const char *arg, int err)
{
	fprintf(stderr, "heapstat limit: cgroup '%s': %s\n", text_safe(arg), cg_path_refused(err));
	return -EINVAL;
}

/*
 * A cgroup the user named: normalized, and there. -EINVAL (said) for a
 * path that names none; else hold_filter_check()'s error, why in @why
 * (-ENOENT: no such cgroup, a removed one maybe).
 */
static int cgroup_check(const char *arg, char *out, size_t len, char *why, size_t why_len)
{
	struct hold_filter flt = {};
	int err;

	/* an empty filter is no filter: here it would be every cgroup */
	if (!*arg)
		return cgroup_unnamed(arg, -EINVAL);
	err = cg_path_normalize(arg, flt.cgroup, sizeof(flt.cgroup));
	if (err)
		return cgroup_unnamed(arg, err);
	err = hold_filter_check(&hold_sys_live, &flt, NULL, why, why_len);
	if (!err)
		snprintf(out, len, "%s", flt.cgroup);
	return err;
}

static int cgroup_arg(const char *arg, char *out, size_t len)
{
	char why[512];
	int err = cgroup_check(arg, out, len, why, sizeof(why));

	if (err && err != -EINVAL)	/* -EINVAL: said */
		fprintf(stderr, "heapstat limit: %s\n", why);
	return err;
}

/* a limit as the user wrote it: bytes, or max */
static int size_arg(const char *arg, uint64_t *bytes)
{
	int err;

	if (!strcmp(arg, "max")) {
		*bytes = HOLD_NO_LIMIT;
		return 0;
	}
	err = parse_size(arg, bytes);
	if (!err && *bytes == HOLD_NO_LIMIT)
		err = -ERANGE;
	if (err)
		fprintf(stderr, "heapstat limit: size '%s': %s\n", text_safe(arg), err == -ERANGE ?
			"too large" : "give bytes with an optional K, M or G suffix (powers of 1024), "
			"or max");
	return err;
}

/* the last limit cleared: the refusal events no reader took went with the programs */
static void say_unread(const struct lsm_limit *l)
{
	uint64_t n = lsm_limit_unread_unpinned(l);

	if (n)
		fprintf(stderr, "heapstat limit: note: %llu refusal event%s not taken by 'heapstat "
			"limit events' went with the programs (a 'limit events -f' running reads "
			"them)\n", (unsigned long long)n, n == 1 ? "" : "s");
}

/*
 * A heap nothing in the kernel charges: the BPF-LSM programs, loaded and
 * pinned by the first limit, unpinned with the last. Lifting a limit that
 * is not there changes nothing, as writing max to dmem.max does not.
 */
static int apply_lsm(const struct holdings *h, const char *cgroup, const char *heap,
		     uint64_t bytes)
{
	size_t cg = holdings_cgroup(h, cgroup);
	struct lsm_limit *l = NULL;
	bool unpinned;
	char why[512];
	int err;

	if (cg == HOLD_NONE || !h->cgs[cg].id) {
		fprintf(stderr, "heapstat limit: no cgroup %s\n", text_safe(cgroup));
		return -ENOENT;
	}
	err = lsm_limit_open(&l, NULL, bytes == HOLD_NO_LIMIT ? 0 : LSM_LIMIT_CREATE,
			     why, sizeof(why));
	if (err == -ENOENT && bytes == HOLD_NO_LIMIT)
		return 0;		/* nothing pinned: no limit */
	if (!err && bytes == HOLD_NO_LIMIT) {
		err = lsm_limit_clear(l, h->cgs[cg].id, heap, &unpinned, why, sizeof(why));
		if (err == -ENOENT)
			err = 0;
		if (!err && unpinned)
			say_unread(l);
	} else if (!err) {
		struct lsm_limit_row r;
		char a[16];

		err = lsm_limit_set(l, h->cgs[cg].id, heap, bytes, why, sizeof(why));
		/* kept as dmem's is not: refusing, as a limit it reached would */
		if (!err && !lsm_limit_get(l, h->cgs[cg].id, heap, &r, why, sizeof(why)) &&
		    r.usage > bytes)
			fprintf(stderr, "heapstat limit: note: %s holds %s of %s, above the limit: "
				"its allocations are refused until it frees below it\n",
				text_safe(cgroup), format_size(r.usage, a, sizeof(a)), text_safe(heap));
	}
	lsm_limit_close(l);
	if (err == -ESTALE) {
		fprintf(stderr, "heapstat limit: %s\n", text_safe(why));
		return err;
	}
	if (err) {
		fprintf(stderr, "heapstat limit: %s (bpf-lsm: heap '%s' charges no cgroup)\n",
			text_safe(why), text_safe(heap));
		/* bad input, or no BPF LSM active: nothing changed (exit 2) */
		return err == -EINVAL || err == -EOPNOTSUPP ? err : -EIO;
	}
	return 0;
}

/*
 * @bytes as the kernel keeps a limit of charger @ch: dmem and memcg count in
 * a page_counter, whose largest value (LONG_MAX / PAGE_SIZE: bytes for
 * dmem, pages for memcg) reads as max; memcg keeps whole pages, so below
 * one page it would be 0, which OOM-kills the cgroup's every task.
 * Return: 0, or -ERANGE after a message.
 */
static int size_kept(enum hold_charger ch, const char *heap, uint64_t bytes)
{
	uint64_t page = sysconf(_SC_PAGESIZE), top = LONG_MAX / page;
	char a[16];

	if (bytes == HOLD_NO_LIMIT)
		return 0;
	if (ch == CHARGER_MEMCG && bytes && bytes < page) {
		fprintf(stderr, "heapstat limit: size %llu: memory.max keeps whole pages, so it would "
			"be 0, which OOM-kills every task of the cgroup: give 0 if that is meant\n",
			(unsigned long long)bytes);
		return -ERANGE;
	}
	if (ch == CHARGER_MEMCG)
		top *= page;
	else if (ch != CHARGER_DMEM)
		return 0;
	if (bytes < top)
		return 0;
	fprintf(stderr, "heapstat limit: size %llu: the kernel keeps %s's %s below %llu bytes (%s), "
		"and reads a larger one as max: give max for no limit\n", (unsigned long long)bytes,
		text_safe(heap), ch == CHARGER_MEMCG ? "memory.max" : "dmem.max",
		(unsigned long long)top, format_size(top, a, sizeof(a)));
	return -ERANGE;
}

/*
 * The bpf-lsm limits of cgroups removed since they were set, dropped by
 * every set, clear and exec --set that succeeds (a limit goes with its
 * cgroup, as dmem.max does), the programs unpinned with the last; and by
 * a clear of a removed cgroup's @path, only if a limit was set there (a
 * typo drops nothing). @say: how many.
 * Return: how many were dropped, with @path how many of its.
 */
static size_t collect_removed(const char *path, bool say)
{
	struct lsm_collected c;
	struct lsm_limit *l;
	char why[512];
	int err = lsm_limit_open(&l, NULL, 0, why, sizeof(why));

	if (err) {
		/* none pinned, or another build's, which the command says; but a
		 * clear of a path naming no cgroup says only that: said here */
		if (err == -ESTALE && path)
			fprintf(stderr, "heapstat limit: %s\n", text_safe(why));
		return 0;
	}
	err = lsm_limit_collect(l, path, &c, why, sizeof(why));
	if (err)
		fprintf(stderr, "heapstat limit: warning: the limits of removed cgroups are kept: "
			"cannot %s\n", text_safe(why));
	else if (c.dropped && say)
		fprintf(stderr, "heapstat limit: dropped %zu bpf-lsm limit%s of removed cgroups%s\n",
			c.dropped, c.dropped == 1 ? "" : "s",
			c.unpinned ? ", the last: the programs are unpinned" : "");
	if (!err && c.unpinned)	/* (a set's or an exec's drop, unsaid, too) */
		say_unread(l);
	lsm_limit_close(l);
	return path ? c.of_path : c.dropped;
}

/*
 * The heap @heap, one whose limit can be set on @cgroup to @bytes as asked:
 * in /dev/dma_heap, when memcg charges it --memcg given, a size its
 * backend keeps.
 * Return: 0 with its index in *@k, or -ENOENT / -EINVAL / -ERANGE after a message.
 */
static int heap_arg(const struct holdings *h, const char *cgroup, const char *heap,
		    uint64_t bytes, size_t *k)
{
	*k = holdings_heap(h, heap);
	if (*k == HOLD_NONE || !h->heaps[*k].device) {
		fprintf(stderr, "heapstat limit: no heap '%s' (not in %s)\n", text_safe(heap),
			hold_sys_live.heap_dev);
		return -ENOENT;
	}
	if (h->heaps[*k].charger == CHARGER_MEMCG && !opts.memcg) {
		fprintf(stderr, "heapstat limit: heap '%s' is charged to memcg: its limit is "
			"memory.max, all of %s's memory; --memcg if that is meant\n",
			text_safe(heap), text_safe(cgroup));
		return -EINVAL;
	}
	return size_kept(h->heaps[*k].charger, heap, bytes);
}

/*
 * @cgroup has its controller's @file: the controller is enabled in its
 * parent's cgroup.subtree_control. Else 1 when @lifting (no limit there to
 * lift), or -EOPNOTSUPP after a message.
 */
static int has_file(const char *cgroup, const char *controller, const char *file, bool lifting)
{
	char dir[4096], path[4200];

	if (cg_dir(dir, sizeof(dir), cg_root(), cgroup))
		return 0;	/* said by the write */
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!access(path, F_OK) || errno != ENOENT)
		return 0;
	if (lifting)
		return 1;
	*strrchr(dir, '/') = '\0';
	fprintf(stderr, "heapstat limit: cgroup %s has no %s: %s is not enabled in its parent's "
		"cgroup.subtree_control (echo +%s >%s/cgroup.subtree_control, or make it with "
		"heapstat limit exec --create)\n", text_safe(cgroup), file, controller, controller,
		text_safe(dir));
	return -EOPNOTSUPP;
}

/*
 * dmem.max as written, or why not: the kernel keeps the limit it had when
 * the cgroup's usage is above the one written (dmem does not reclaim), and
 * says nothing.
 */
static int dmem_max_took(const char *cgroup, const char *region, uint64_t bytes)
{
	uint64_t now = 0, usage = 0;
	char dir[4096], a[16], b[16];
	int err = cg_dir(dir, sizeof(dir), cg_root(), cgroup) ?:
		  cg_dmem_read(dir, "dmem.max", region, &now);

	if (err) {
		fprintf(stderr, "heapstat limit: wrote %s's dmem.max, but cannot read it back: %s\n",
			text_safe(cgroup), strerror(-err));
		return err;
	}
	if (now == (bytes == HOLD_NO_LIMIT ? CG_DMEM_MAX : bytes))
		return 0;
	format_size(now, a, sizeof(a));
	if (!cg_dmem_read(dir, "dmem.current", region, &usage) && usage > bytes)
		fprintf(stderr, "heapstat limit: the kernel kept %s's dmem.max for %s at %s: its "
			"usage, %s, is above %llu (dmem reclaims nothing; free buffers first)\n",
			text_safe(cgroup), region, now == CG_DMEM_MAX ? "max" : a,
			format_size(usage, b, sizeof(b)), (unsigned long long)bytes);
	else	/* not the usage: another write came after this one */
		fprintf(stderr, "heapstat limit: %s's dmem.max for %s reads %s, not the %s "
			"written (another writer?)\n", text_safe(cgroup), region,
			now == CG_DMEM_MAX ? "max" : a,
			bytes == HOLD_NO_LIMIT ? "max" : format_size(bytes, b, sizeof(b)));
	return -EBUSY;
}

/*
 * memory.max of @cgroup (its directory @dir) read back after a write of
 * @bytes (HOLD_NO_LIMIT: max): whole pages, as memcg keeps it; and what the
 * kernel did to get the cgroup under it, which for memcg may be OOM-killing
 * its tasks (memory.events' oom_kill since @kills0, the count before the
 * write; UINT64_MAX: unknown).
 */
static int memory_max_took(const char *cgroup, const char *dir, uint64_t bytes, uint64_t kills0)
{
	uint64_t page = sysconf(_SC_PAGESIZE), want, now = 0, kills = 0;
	char a[16];
	int err = dir[0] ? cg_memcg_value(dir, "memory.max", &now) : -ENAMETOOLONG;

	if (err) {
		fprintf(stderr, "heapstat limit: wrote %s's memory.max, but cannot read it back: %s\n",
			text_safe(cgroup), strerror(-err));
		return err;
	}
	want = bytes == HOLD_NO_LIMIT ? CG_DMEM_MAX : bytes - bytes % page;
	if (now != want) {
		fprintf(stderr, "heapstat limit: %s's memory.max reads %s, not the %llu written "
			"(another writer?)\n", text_safe(cgroup),
			now == CG_DMEM_MAX ? "max" : format_size(now, a, sizeof(a)),
			(unsigned long long)want);
		return -EBUSY;
	}
	if (bytes != HOLD_NO_LIMIT && bytes % page)
		fprintf(stderr, "heapstat limit: note: memory.max keeps whole pages: %llu\n",
			(unsigned long long)want);
	if (kills0 != UINT64_MAX && !cg_memcg_oom_kills(dir, &kills) && kills > kills0)
		fprintf(stderr, "heapstat limit: note: to bring %s under it, the kernel OOM-killed "
			"%llu of its tasks (memory.events oom_kill since the write)\n", text_safe(cgroup),
			(unsigned long long)(kills - kills0));
	return 0;
}

/* dmem.max and memory.max are no root's files; the bpf-lsm backend keeps none either */
static int root_refused(const char *cgroup)
{
	if (strcmp(cgroup, "/"))
		return 0;
	fprintf(stderr, "heapstat limit: the root cgroup cannot be limited\n");
	return -EINVAL;
}

/*
 * A bpf-lsm heap that has a dmem region (heapstat's, its accounting off, or
 * turned on since a bpf-lsm limit was set) keeps the dmem.max set while it
 * charged there, which binds (again) beside the bpf-lsm limits, unshown: a
 * cgroup x heap has one limit, so the bpf-lsm one set or lifted lifts that
 * too. Said; one that cannot be is said and left (the bpf-lsm limit holds).
 */
static void lift_dormant_dmem(const struct holdings *h, const char *cgroup, size_t k)
{
	char dir[4096], value[320], why[512], a[16];
	uint64_t now;

	if (!h->heaps[k].region || cg_dir(dir, sizeof(dir), cg_root(), cgroup) ||
	    cg_dmem_read(dir, "dmem.max", h->heaps[k].region, &now) || now == CG_DMEM_MAX)
		return;
	snprintf(value, sizeof(value), "%s max", h->heaps[k].region);
	if (cg_control_write(cgroup, "dmem", "dmem.max", value, why, sizeof(why)))
		fprintf(stderr, "heapstat limit: warning: failed to %s: %s's dmem.max for %s (%s), "
			"set while the heap charged dmem, binds whenever it does\n", text_safe(why),
			text_safe(cgroup), h->heaps[k].region, format_size(now, a, sizeof(a)));
	else
		fprintf(stderr, "heapstat limit: note: lifted %s's dmem.max for %s (%s), set while "
			"the heap charged dmem: its limits are bpf-lsm's\n", text_safe(cgroup),
			h->heaps[k].region, format_size(now, a, sizeof(a)));
}

/*
 * exec's --set: the dormant dmem.max of a bpf-lsm --set lifted only once
 * every --set is written (one refused sets back the others: nothing lifted)
 */
static struct {
	bool defer;
	int n;
	size_t heap[MAX_SETS];
} lifts;

/*
 * Set (or with HOLD_NO_LIMIT lift) one limit through the heap's backend.
 * Return: 0, or a negative errno after a message.
 */
static int apply(const struct holdings *h, const char *cgroup, const char *heap, uint64_t bytes)
{
	char value[CGROUP_PATH_MAX], why[512], dir[4096];
	uint64_t kills0;
	size_t k;
	int err;

	err = root_refused(cgroup) ?: heap_arg(h, cgroup, heap, bytes, &k);
	if (err)
		return err;
	switch (h->heaps[k].charger) {
	case CHARGER_DMEM:
		err = has_file(cgroup, "dmem", "dmem.max", bytes == HOLD_NO_LIMIT);
		if (err)
			return err > 0 ? 0 : err;
		if (bytes == HOLD_NO_LIMIT)
			snprintf(value, sizeof(value), "%s max", h->heaps[k].region);
		else
			snprintf(value, sizeof(value), "%s %llu", h->heaps[k].region,
				 (unsigned long long)bytes);
		err = cg_control_write(cgroup, "dmem", "dmem.max", value, why, sizeof(why));
		if (!err)
			return dmem_max_took(cgroup, h->heaps[k].region, bytes);
		break;
	case CHARGER_MEMCG:
		err = has_file(cgroup, "memory", "memory.max", bytes == HOLD_NO_LIMIT);
		if (err)
			return err > 0 ? 0 : err;
		if (bytes == HOLD_NO_LIMIT)
			snprintf(value, sizeof(value), "max");
		else
			snprintf(value, sizeof(value), "%llu", (unsigned long long)bytes);
		/* a limit lifted kills nothing: no count before */
		if (cg_dir(dir, sizeof(dir), cg_root(), cgroup))
			dir[0] = '\0';
		if (!dir[0] || bytes == HOLD_NO_LIMIT || cg_memcg_oom_kills(dir, &kills0))
			kills0 = UINT64_MAX;
		err = cg_control_write(cgroup, "memory", "memory.max", value, why, sizeof(why));
		if (!err)
			return memory_max_took(cgroup, dir, bytes, kills0);
		break;
	default:
		err = apply_lsm(h, cgroup, heap, bytes);
		if (err)
			return err;
		if (!lifts.defer)
			lift_dormant_dmem(h, cgroup, k);
		else if (lifts.n < MAX_SETS)	/* (an undo's own are never lifted) */
			lifts.heap[lifts.n++] = k;
		return 0;
	}
	if (err)
		fprintf(stderr, "heapstat limit: failed to %s\n", text_safe(why));
	return err;
}

/* the limits shown: set on a cgroup itself, or with CGROUP given, binding it or below */
static bool shown(struct holdings *h, size_t cg, size_t k, const char *under)
{
	struct hold_cell *c = hold_cell(h, cg, k);

	if (h->heaps[k].charger == CHARGER_NONE || !hold_in_cgroup(h->cgs[cg].path, under ?: ""))
		return false;
	if (h->heaps[k].charger == CHARGER_MEMCG)
		holdings_read_memcg(h, &hold_sys_live, cg, k);
	holdings_bind_limit(h, cg, k);
	return under ? c->limit_cg != HOLD_NONE : c->max != HOLD_NO_LIMIT;
}

/* where a number comes from */
static const char *file_of(enum hold_charger c, bool limit)
{
	if (c == CHARGER_MEMCG)
		return limit ? "memory.max" : "memory.current";
	if (c == CHARGER_LSM)
		return limit ? "bpf:limits" : "bpf:usage";
	return limit ? "dmem.max" : "dmem.current";
}

/* what the kernel skipped of the pinned bpf-lsm programs (the model opened them) */
static void say_skips(void)
{
	uint64_t skipped = lsm_limit_skips(NULL);

	if (skipped)
		fprintf(stderr, "heapstat limit: note: the kernel skipped the bpf-lsm limits' "
			"programs %llu times at buffers' exports (a tracing program preempted on "
			"a CPU counts as running there, and is skipped for the other tasks there "
			"meanwhile): bpf-lsm usage may be off by a buffer for each\n",
			(unsigned long long)skipped);
}

static int show(const char *cgroup)
{
	struct inventory none;
	struct holdings h;
	struct json j;
	char a[16], b[16], c[16];
	size_t wcg = 24, wheap = 20, won = 16;
	bool *on;	/* each cell shown, as shown() said once (it reads memcg's files) */
	int err = take_model(&h, &none, cgroup);

	on = err ? NULL : calloc(h.ncgs * h.nheaps + 1, sizeof(*on));
	if (!err && !on) {
		err = -ENOMEM;
		heapstat_error(err, "show the limits", NULL);
	}
	if (err) {
		holdings_free(&h);
		return err;
	}
	/* limits are read from the cgroup files and bpf-lsm's pinned maps alone */
	sources_say("heapstat limit show", &none, NULL);
	if (access(hold_sys_live.heap_dev, F_OK))
		fprintf(stderr, "heapstat limit: no DMA-BUF heaps here (no %s: "
			"CONFIG_DMABUF_HEAPS): nothing to limit\n", hold_sys_live.heap_dev);
	if (h.lsm_err == -ESTALE)
		fprintf(stderr, "heapstat limit: bpf-lsm limits not shown: %s\n", h.lsm_why);
	else if (h.lsm_err)
		fprintf(stderr, "heapstat limit: the bpf-lsm limits in %s are not shown: %s%s\n",
			LSM_LIMIT_PIN_DIR, strerror(-h.lsm_err),
			h.lsm_err == -EACCES ? " (root only)" : "");
	if (h.lsm_rows)
		say_skips();
	for (size_t cg = 0; cg < h.ncgs; cg++)	/* the columns, each its widest */
		for (size_t k = 0; k < h.nheaps; k++) {
			on[cg * h.nheaps + k] = shown(&h, cg, k, cgroup);
			if (opts.json || !on[cg * h.nheaps + k])
				continue;
			wcg = text_cell_width(h.cgs[cg].path, wcg);
			wheap = text_cell_width(h.heaps[k].name, wheap);
			won = text_cell_width(h.cgs[hold_cell(&h, cg, k)->limit_cg].path, won);
		}
	if (opts.json) {
		json_init(&j, stdout);
		json_array(&j);
	} else {
		printf("%-*s %-*s %-7s %10s %-*s %10s %10s  %s\n", (int)wcg, "CGROUP", (int)wheap,
		       "HEAP", "BACKEND", "LIMIT", (int)won, "SET-ON", "USAGE", "HEADROOM", "SOURCE");
	}
	for (size_t cg = 0; cg < h.ncgs; cg++)
		for (size_t k = 0; k < h.nheaps; k++) {
			const struct hold_cell *x = hold_cell(&h, cg, k);
			enum hold_charger ch = h.heaps[k].charger;

			if (!on[cg * h.nheaps + k])
				continue;
			if (opts.json) {
				json_object(&j);
				json_kstr(&j, "cgroup", h.cgs[cg].path);
				json_kstr(&j, "heap", h.heaps[k].name);
				json_kstr(&j, "backend", charger_name(ch));
				json_ku64_or_null(&j, "own_limit_bytes", x->max != HOLD_NO_LIMIT, x->max);
				json_ku64(&j, "limit_bytes", x->limit);
				json_kstr(&j, "limit_cgroup", h.cgs[x->limit_cg].path);
				json_kstr(&j, "limit_source", file_of(ch, true));
				json_ku64_or_null(&j, "usage_bytes", x->charged_known, x->charged);
				json_kstr(&j, "usage_source", file_of(ch, false));
				json_ku64(&j, "headroom_bytes", x->headroom);
				json_kbool(&j, "all_memory", ch == CHARGER_MEMCG);
				json_end(&j);
				continue;
			}
			printf("%s %s %-7s %10s %s %10s %10s  %s, %s%s\n",
			       text_cell(h.cgs[cg].path, wcg), text_cell(h.heaps[k].name, wheap),
			       charger_name(ch), format_size(x->limit, a, sizeof(a)),
			       text_cell(h.cgs[x->limit_cg].path, won),
			       x->charged_known ? format_size(x->charged, b, sizeof(b)) : "-",
			       format_size(x->headroom, c, sizeof(c)), file_of(ch, true),
			       file_of(ch, false), ch == CHARGER_MEMCG ? " (all memory)" : "");
		}
	if (opts.json)
		json_end(&j);
	free(on);
	holdings_free(&h);
	return 0;
}

/* every limit of the cgroup lifted: every dmem heap's, and memory.max with --memcg */
static int clear(struct holdings *h, const char *cgroup, const char *heap)
{
	size_t cg = holdings_cgroup(h, cgroup);
	int err = 0;

	if (heap)
		return apply(h, cgroup, heap, HOLD_NO_LIMIT);
	if (h->lsm_err == -ESTALE) {	/* its bpf-lsm limits unknown: none lifted */
		fprintf(stderr, "heapstat limit: %s\n", h->lsm_why);
		return h->lsm_err;
	}
	for (size_t k = 0; k < h->nheaps && !err; k++) {
		enum hold_charger ch = h->heaps[k].charger;

		if (((ch == CHARGER_DMEM || ch == CHARGER_LSM) && cg != HOLD_NONE &&
		     hold_cell(h, cg, k)->max != HOLD_NO_LIMIT) || (ch == CHARGER_MEMCG && opts.memcg)) {
			err = apply(h, cgroup, h->heaps[k].name, HOLD_NO_LIMIT);
		} else if ((ch == CHARGER_LSM || ch == CHARGER_NONE) && cg != HOLD_NONE) {
			lift_dormant_dmem(h, cgroup, k);	/* (none pinned: NONE) */
		} else if (ch == CHARGER_MEMCG && cg != HOLD_NONE) {
			char a[16];

			holdings_read_memcg(h, &hold_sys_live, cg, k);
			if (hold_cell(h, cg, k)->max != HOLD_NO_LIMIT)
				fprintf(stderr, "heapstat limit: note: %s's memory.max (%s) is left: it "
					"caps all of its memory; --memcg lifts it too\n", text_safe(cgroup),
					format_size(hold_cell(h, cg, k)->max, a, sizeof(a)));
		}
	}
	return err;
}

/*
 * The command in @cgroup, in heapstat's place, as cgexec runs it: no
 * heapstat waits behind it, so the signals sent to it (a Ctrl-C, a
 * SIGTERM) are the command's own, and so is its exit, by a signal too.
 * Exits as env does when it cannot: 125 (not moved), 126, 127.
 */
static int run_in(const char *cgroup)
{
	char why[512];

	if (cg_control_attach(cgroup, getpid(), why, sizeof(why))) {
		fprintf(stderr, "heapstat limit: failed to %s\n", text_safe(why));
		return EXIT_EXEC_CGROUP;
	}
	fflush(NULL);
	execvp(opts.cmd[0], opts.cmd);
	fprintf(stderr, "heapstat limit: cannot run %s: %s\n", text_safe(opts.cmd[0]),
		strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/*
 * A dmem.max of @bytes for heap @k the kernel would keep: not below what
 * @cgroup is charged (the model's dmem.current: it keeps the old limit then,
 * and reclaims nothing). Else said, -EBUSY: exec checks every --set before
 * it writes one.
 */
static int dmem_room(const struct holdings *h, const char *cgroup, size_t k, uint64_t bytes)
{
	size_t cg = holdings_cgroup(h, cgroup);
	const struct hold_cell *c = cg != HOLD_NONE ? hold_cell(h, cg, k) : NULL;
	char a[16];

	if (bytes == HOLD_NO_LIMIT || !c || !c->charged_known || c->charged <= bytes)
		return 0;
	fprintf(stderr, "heapstat limit: %s is charged %s of %s, above %llu: the kernel would "
		"keep its dmem.max (dmem reclaims nothing; free buffers first); nothing set\n",
		text_safe(cgroup), format_size(c->charged, a, sizeof(a)), h->heaps[k].region,
		(unsigned long long)bytes);
	return -EBUSY;
}

/*
 * @cgroup enables controllers for its children: a cgroup v2 that does holds
 * no process ("no internal processes"), and the move would fail after the
 * limits were written. Said, true.
 */
static bool holds_no_process(const char *cgroup)
{
	char line[256];

	if (!cg_control_delegates(cgroup, line, sizeof(line)))
		return false;
	fprintf(stderr, "heapstat limit: cgroup %s enables %s for its children (its "
		"cgroup.subtree_control), so it can hold no process: run the command in a "
		"child of it\n", text_safe(cgroup), line);
	return true;
}

/* @cgroup's own limit of heap @k in the model; HOLD_NO_LIMIT: none, or no such cgroup */
static uint64_t limit_now(struct holdings *h, const char *cgroup, size_t k)
{
	size_t cg = holdings_cgroup(h, cgroup);

	if (cg == HOLD_NONE)
		return HOLD_NO_LIMIT;
	if (h->heaps[k].charger == CHARGER_MEMCG)
		holdings_read_memcg(h, &hold_sys_live, cg, k);
	return hold_cell(h, cg, k)->max;
}

/*
 * exec's --set that were written (@done of them, their indices in @order),
 * a later one refused: each given back the limit it replaced, @was, last
 * first (a heap set twice ends as it was), so that a refused exec changes
 * nothing. What cannot be given back is said (apply()).
 */
static void undo_sets(const struct holdings *h, const char *cgroup, char heap[][256],
		      const uint64_t *was, const int *order, int done)
{
	int failed = 0;

	for (int i = done - 1; i >= 0; i--)
		failed += apply(h, cgroup, heap[order[i]], was[order[i]]) != 0;
	fprintf(stderr, "heapstat limit: %s the %d --set written before it%s\n",
		failed ? "failed to undo" : "undid", done,
		failed ? ": see above; heapstat limit show says what holds" : "");
}

static int exec_limited(void)
{
	const char *want[3] = { NULL };
	char cgroup[CGROUP_PATH_MAX], heap[MAX_SETS][256], why[512], made[CGROUP_PATH_MAX] = "";
	uint64_t bytes[MAX_SETS], was[MAX_SETS];
	int order[MAX_SETS], done = 0;
	struct inventory none;
	struct holdings h = {};
	bool lsm = false, dmem = false, memcg = false;
	int n = 0, err;

	err = cg_path_normalize(opts.args[0], cgroup, sizeof(cgroup));
	if (err) {
		cgroup_unnamed(opts.args[0], err);
		return EXIT_USAGE;
	}
	/* every --set checked before anything is made or changed */
	err = (opts.nsets ? root_refused(cgroup) : 0) ?: take_model(&h, &none, NULL);
	for (int i = 0; !err && i < opts.nsets; i++) {
		const char *eq = strchr(opts.sets[i], '=');
		size_t k;

		snprintf(heap[i], sizeof(heap[i]), "%.*s", (int)(eq - opts.sets[i]), opts.sets[i]);
		err = size_arg(eq + 1, &bytes[i]) ?: heap_arg(&h, cgroup, heap[i], bytes[i], &k);
		/* a bpf-lsm limit needs the cgroup's id, from a model with it */
		lsm |= !err && h.heaps[k].charger != CHARGER_DMEM &&
		       h.heaps[k].charger != CHARGER_MEMCG;
		/* a cgroup made for it has the controllers its --set need, no other */
		dmem |= !err && h.heaps[k].charger == CHARGER_DMEM;
		memcg |= !err && h.heaps[k].charger == CHARGER_MEMCG;
	}
	/*
	 * a bpf-lsm limit's cgroup is not deeper than the programs follow, and
	 * one where the BPF LSM is off is refused before a cgroup is made for it
	 * (and a controller enabled at the root, which would stay)
	 */
	if (!err && lsm && ((err = lsm_limit_depth(cgroup, why, sizeof(why))) ||
			    (err = lsm_limit_usable(why, sizeof(why)))))
		fprintf(stderr, "heapstat limit: %s\n", text_safe(why));
	/* (one that is not there, or is made, enables no controller for children) */
	if (!err && holds_no_process(cgroup))
		err = -EINVAL;
	/* the root is there, and takes no controller of its own */
	if (!err && opts.create && strcmp(cgroup, "/")) {
		if (dmem && cg_controller_available("dmem"))
			want[n++] = "dmem";
		if (memcg && cg_controller_available("memory"))
			want[n++] = "memory";
		/* failed, what it made for it goes again */
		err = cg_control_create(cgroup, want, made, sizeof(made), why, sizeof(why));
		if (err) {
			fprintf(stderr, "heapstat limit: failed to %s\n", text_safe(why));
			holdings_free(&h);
			return err == -ENOTDIR ? EXIT_USAGE : 1;
		}
		if (lsm) {
			holdings_free(&h);
			err = take_model(&h, &none, NULL);
		}
	} else if (!err && cgroup_arg(cgroup, cgroup, sizeof(cgroup))) {
		err = -ENOENT;
	}
	/* the controllers' files of every --set there before any is written */
	for (int i = 0; !err && i < opts.nsets; i++) {
		enum hold_charger ch = h.heaps[holdings_heap(&h, heap[i])].charger;

		if (ch == CHARGER_DMEM || ch == CHARGER_MEMCG)
			err = has_file(cgroup, ch == CHARGER_DMEM ? "dmem" : "memory",
				       ch == CHARGER_DMEM ? "dmem.max" : "memory.max",
				       bytes[i] == HOLD_NO_LIMIT);
		err = err > 0 ? 0 : err;
		if (!err && ch == CHARGER_DMEM)
			err = dmem_room(&h, cgroup, holdings_heap(&h, heap[i]), bytes[i]);
	}
	/* what each replaces, given back if a later one is refused */
	for (int i = 0; !err && i < opts.nsets; i++)
		was[i] = limit_now(&h, cgroup, holdings_heap(&h, heap[i]));
	/*
	 * the bpf-lsm limits first: what may still be refused (the BPF LSM not
	 * active, the programs not loading, their table full) comes before a
	 * controller's file is written, which the checks above leave little
	 * to refuse
	 */
	lifts.defer = true;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; !err && i < opts.nsets; i++) {
			enum hold_charger ch = h.heaps[holdings_heap(&h, heap[i])].charger;

			if ((ch != CHARGER_DMEM && ch != CHARGER_MEMCG) != !pass)
				continue;
			err = apply(&h, cgroup, heap[i], bytes[i]);
			if (!err)
				order[done++] = i;
		}
	if (err && done)	/* (lifting nothing either) */
		undo_sets(&h, cgroup, heap, was, order, done);
	lifts.defer = false;
	for (int i = 0; !err && i < lifts.n; i++)
		lift_dormant_dmem(&h, cgroup, lifts.heap[i]);
	holdings_free(&h);
	/* refused (the BPF LSM not active, a limit the kernel would not keep):
	 * the cgroups made for it go again */
	if (err && made[0] && cg_control_unmake(cgroup, made, want, why, sizeof(why)))
		fprintf(stderr, "heapstat limit: failed to %s\n", text_safe(why));
	if (opts.nsets && !err)
		collect_removed(NULL, false);
	if (err)
		return err == -EINVAL || err == -ENOENT || err == -ERANGE || err == -EOPNOTSUPP ?
		       EXIT_USAGE :
		       err == -ESTALE ? EXIT_UNSUPPORTED : 1;
	return run_in(cgroup);
}

/*
 * "set /cg heap -1": getopt takes -1 for an option ("invalid option -- '1'");
 * a negative number after set is a size, refused as one.
 */
static bool negative_size(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-')	/* the options before the verb */
		i++;
	if (i == argc || strcmp(argv[i], "set"))
		return false;
	for (i++; i < argc && strcmp(argv[i], "--"); i++)
		if (argv[i][0] == '-' && (isdigit((unsigned char)argv[i][1]) || argv[i][1] == '.'))
			return size_arg(argv[i], &(uint64_t){ 0 }) != 0;
	return false;
}

int cmd_limit(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, "VERB [ARGS...]", doc,
					  heapstat_common_options, NULL, NULL };
	char cgroup[CGROUP_PATH_MAX], why[512];
	struct inventory none;
	struct holdings h = {};
	uint64_t bytes;
	int err;

	argv[0] = "heapstat limit";
	argp_err_exit_status = EXIT_USAGE;
	if (negative_size(argc, argv) || argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return EXIT_USAGE;
	/*
	 * exec without --set sets nothing: whoever may move a process into the
	 * cgroup (and make it, with --create) may, as with cgexec; the kernel's
	 * cgroup permissions decide (a subtree delegated to a user)
	 */
	if (opts.verb != VERB_SHOW && !(opts.verb == VERB_EXEC && !opts.nsets) && geteuid()) {
		fprintf(stderr, "heapstat limit: only root %s: try sudo heapstat limit\n",
			opts.verb == VERB_EVENTS ? "reads limit events" : "sets limits");
		return EXIT_UNSUPPORTED;
	}
	if (opts.verb != VERB_SHOW && opts.verb != VERB_EVENTS && cg_control_init(why, sizeof(why))) {
		fprintf(stderr, "heapstat limit: failed to %s\n", text_safe(why));
		return EXIT_UNSUPPORTED;
	}
	switch (opts.verb) {
	case VERB_SHOW:
		if (opts.nargs && cgroup_arg(opts.args[0], cgroup, sizeof(cgroup)))
			return EXIT_USAGE;
		return show(opts.nargs ? cgroup : NULL) ? 1 : 0;
	case VERB_EXEC:
		return exec_limited();
	case VERB_EVENTS: {
		static struct limit_events_opts eo;

		if (opts.cgroup && cgroup_arg(opts.cgroup, eo.cgroup, sizeof(eo.cgroup)))
			return EXIT_USAGE;
		if (heapstat_pidns_preflight())		/* an event names pids */
			return EXIT_UNSUPPORTED;
		eo.json = opts.json;
		eo.follow = opts.follow;
		eo.duration_ms = opts.duration_ms;
		return limit_events(&eo);
	}
	default:
		break;
	}
	/* the arguments' own form first, as -1's refusal is (negative_size()) */
	if (opts.verb == VERB_SET && size_arg(opts.args[2], &bytes))
		return EXIT_USAGE;
	/*
	 * clear of a cgroup removed: its bpf-lsm limits went with it (dropped
	 * now, said); else no such cgroup, nothing changed
	 */
	err = cgroup_check(opts.args[0], cgroup, sizeof(cgroup), why, sizeof(why));
	if (err == -ENOENT && opts.verb == VERB_CLEAR &&
	    !cg_path_normalize(opts.args[0], cgroup, sizeof(cgroup)) && collect_removed(cgroup, true))
		return 0;
	if (err && err != -EINVAL)	/* -EINVAL: said */
		fprintf(stderr, "heapstat limit: %s\n", why);
	if (err)
		return EXIT_USAGE;
	if (opts.verb == VERB_CLEAR && root_refused(cgroup))	/* set's refusal, not a silent 0 */
		return EXIT_USAGE;
	err = take_model(&h, &none, NULL);
	if (!err)
		err = opts.verb == VERB_SET ? apply(&h, cgroup, opts.args[1], bytes) :
		      clear(&h, cgroup, opts.nargs > 1 ? opts.args[1] : NULL);
	holdings_free(&h);
	if (!err)	/* refused, nothing changes */
		collect_removed(NULL, opts.verb == VERB_CLEAR);
	if (err == -ENOENT || err == -EINVAL || err == -EOPNOTSUPP || err == -ERANGE)
		return EXIT_USAGE;
	if (err == -ESTALE)	/* another build's pins: nothing done */
		return EXIT_UNSUPPORTED;
	return err ? 1 : 0;
}
