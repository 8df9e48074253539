// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat record: every heap allocation of a run, in a recording
 * (docs/record-format.md) for heapstat analyze. A snapshot of the live
 * buffers at the start and at the end; between them the collector's events
 * (allocation attempts with their buffer, other exports, final releases,
 * CMA allocations and releases, limit refusals: refusals.c), the tasks they
 * came from, checkpoints and the events lost. With --flight N the events go
 * to a ring in memory instead, written out as a recording on a trigger
 * (flight.c). With -- CMD, CMD runs in a fresh cgroup below the
 * recorder's own (libcgroup), only that subtree is recorded, the recording
 * ends when CMD exits and heapstat exits with CMD's status (124 stopped
 * first, as timeout's: the recording says CMD was still running). The file is
 * written as it goes: a recorder killed leaves it readable up to its last
 * whole record.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heapstat.h"
#include "cgroup/control.h"
#include "cgroup/path.h"
#include "lib/cma.h"
#include "lib/collector.h"
#include "lib/errors.h"
#include "lib/heap_dev.h"
#include "lib/hindex.h"
#include "lib/holdings.h"
#include "lib/inventory.h"
#include "lib/procfs.h"
#include "lib/ready.h"
#include "lib/record.h"
#include "lib/sources.h"
#include "lib/text.h"
#include "lib/util.h"
#include "flight.h"
#include "refusals.h"
#include "stacks.h"

/*
 * The recording keeps these as numbers (docs/record-format.md): heapstat's
 * enums must not move under it.
 */
_Static_assert(SRC_NONE == 0 && SRC_ITER_DMABUF == 1 && SRC_ITER_TASK == 2 && SRC_PROC_FDINFO == 3,
	       "enum inv_source is part of the recording format");
_Static_assert(FAIL_NONE == 0 && FAIL_CAPACITY == 1 && FAIL_FRAGMENTATION == 2 && FAIL_BUSY == 3 &&
	       FAIL_LIMIT == 4 && FAIL_OTHER == 5, "enum coll_fail_class is part of the recording format");

/*
 * The ring (RING_BYTES) holds about 48,000 events; a loop of 4 KiB
 * allocations makes 150,000 a second in the test VM: drained every 100 ms it
 * lost some whenever the recorder was late, every 25 ms none.
 */
#define POLL_MS		25
#define CHECKPOINT_MS	1000
#define STOP_GRACE_MS	500	/* stopped first: how long the command may take to end too */
#define RING_BYTES	(8 << 20)
#define FLIGHT_MAX	1000000

static const char doc[] =
"Record every heap allocation, export, final release and CMA allocation of a\n"
"run, with snapshots of the live buffers at its start and end, for heapstat\n"
"analyze.\n"
"\n"
"With -- CMD, CMD runs in a new cgroup below heapstat's own and only that\n"
"cgroup and those below it are recorded; the recording ends when CMD exits,\n"
"and heapstat exits with CMD's status (124 when -d or a signal stops it first:\n"
"CMD goes on, unrecorded). Without, it records everything (or -c CGROUP)\n"
"until SIGINT, SIGTERM, SIGHUP or -d SECS. Allocations a limit refused\n"
"(bpf-lsm, dmem or memcg) are recorded with whose limit it was, its usage\n"
"and its limit.\n"
"\n"
"With --flight N, nothing is written as it goes: the last N events are kept\n"
"in memory, and when an allocation fails, a limit refuses or heapstat gets\n"
"SIGUSR1, they are written with the process records they need and a snapshot\n"
"of the live buffers of that moment to DIR/heapstat-<UTC time>-<reason>.hsrec,\n"
"an ordinary recording (reasons: alloc-failed, limit, sigusr1). Recording goes\n"
"on; at most one file a second (the triggers in between are counted).\n"
"\n"
"USAGE: heapstat record -o FILE [--stacks] [-c CGROUP] [-d SECS]\n"
"                       [-- CMD [ARGS...]]\n"
"       heapstat record --flight N -o DIR [--stacks] [-c CGROUP] [-d SECS]\n"
"                       [-- CMD ...]\n"
"\n"
"EXAMPLES:\n"
"    heapstat record -o run.hsrec -- ./camera_test   # the test, then analyze\n"
"    heapstat record -o all.hsrec -d 60              # everything for a minute\n"
"    heapstat record --stacks -o run.hsrec -- ./app  # and each one's stack\n"
"    heapstat analyze run.hsrec --fail-on leaks\n"
"    heapstat record --flight 1000 -o /var/tmp -c /camera &  # before a failure\n"
"    kill -USR1 %1                                           # and before now\n";

static struct record_opts {
	const char *out;
	const char *cgroup;
	uint64_t duration_ms;
	uint64_t flight;		/* --flight N: 0, not a flight recorder */
	char **cmd;
	bool stacks;
} opts;

#define OPT_STACKS	0x100

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0, "Write the recording to FILE (required); with --flight, the "
	  "directory to write recordings in", 0 },
	{ "cgroup", 'c', "CGROUP", 0, "Only CGROUP and those below it (not with a command)", 0 },
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds (0.001 to 86400)", 0 },
	{ "flight", 'F', "N", 0, "Flight recorder: keep the last N events (1 to 1000000), write a "
	  "recording into the directory -o DIR when an allocation fails, a limit refuses or on "
	  "SIGUSR1", 0 },
	{ "stacks", OPT_STACKS, NULL, 0, "Record each allocation's kernel and user stack (user "
	  "frames of code built with frame pointers)", 0 },
	{ NULL, 'h', NULL, 0, "Show this help", -1 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'o': opts.out = arg; break;
	case OPT_STACKS: opts.stacks = true; break;
	case 'c': opts.cgroup = arg; break;
	case 'd':
		if (parse_interval_ms(arg, &opts.duration_ms) || !opts.duration_ms)
			argp_error(state, DURATION_REFUSED, text_safe(arg));
		break;
	case 'F':
		if (parse_u64(arg, 1, FLIGHT_MAX, &opts.flight))
			argp_error(state, "--flight '%s': give a number of events, 1 to %u", text_safe(arg),
				   FLIGHT_MAX);
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		opts.cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END: {
		const char *last = state->argc > 1 ? state->argv[state->argc - 1] : "";

		/* options after the command are the command's, as with env or timeout */
		if (!opts.out)
			argp_error(state, "%s%s", opts.flight ? "give the directory for the recordings "
				   "with -o DIR" : "give the recording's file with -o FILE",
				   opts.cmd ? ", before the command" : "");
		/* "-- $CMD" with CMD empty would record the whole system until stopped */
		if (!opts.cmd && !strcmp(last, "--") && last != opts.out && last != opts.cgroup)
			argp_error(state, "no command after --: give one, or leave out the --");
		if (opts.cmd && opts.cgroup)
			argp_error(state, "-c goes without a command: a command's cgroup is recorded");
		break;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* what is recorded: a cgroup subtree's ids, learnt as events name them */
struct scope {
	char root[CGROUP_PATH_MAX];	/* "": everything */
	struct cg_index ix;
	struct collector *coll;		/* the paths of cgroups removed since */
	uint64_t *in, *out;		/* ids known in or out, sorted as added */
	size_t nin, nout, incap, outcap;
};

/* a task as its last process record described it */
struct task_seen {
	uint32_t tid, pid;
	uint64_t cgroup_id;
};

struct recorder {
	struct rec_writer *w;
	struct collector *coll;
	struct stacks *stacks;		/* --stacks */
	struct scope scope;
	struct task_seen *tasks;	/* as their last process record described them */
	size_t ntasks, taskcap;
	struct hindex task_ix;		/* tasks by tid */
	uint64_t start_ns, last_ns;
	uint64_t walk_ns, snap_end_ns;	/* the last snapshot: its walk's start, its end */
	/* set after the final snapshot: later events are not the recording's */
	uint64_t end_ns, end_release_ns;
	int err;
	struct refusals ref;		/* the limit records */
	struct flight *fl;		/* --flight: the events go here, not to w */
	const char *trigger;		/* --flight: why the event being kept is one to write */
	const char *pending;		/* --flight: a file's reason, written once the rings
					 * are drained (its events held) */
	const char *command;		/* the header's */
	uint64_t suppressed;		/* --flight: triggers without a file, as last said */
	uint64_t flight_failed;		/* --flight: files that could not be written */
};

static volatile sig_atomic_t stop, dump;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	dump = 1;
}

/* the command (*@child; 0: none left) ended: its wait status in *@how, *@child 0 */
static bool reaped(pid_t *child, int *how)
{
	int status;

	if (*child <= 0 || waitpid(*child, &status, WNOHANG) != *child)
		return false;
	*how = status;
	*child = 0;
	return true;
}

static bool id_in(const uint64_t *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

static int id_add(uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
	if (grow_array((void **)v, cap, *n, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = id;
	return 0;
}

/*
 * The cgroup path of id, "" when unknown; the tree is walked again for a new
 * id, and one removed before its events were read has the path it had.
 */
static const char *path_of(struct scope *s, uint64_t id)
{
	const char *p = cg_index_path(&s->ix, id);

	if (!p && s->coll)	/* before the walk: a removed one's is kept, no walk finds it */
		p = collector_removed_cgroup(s->coll, id);
	if (!p && !cg_index_build(&s->ix, cg_root()))
		p = cg_index_path(&s->ix, id);
	return p ? p : "";
}

/* a limit record with its bound cgroup's path: often an ancestor no process names */
static struct rec named_limit(struct scope *s, const struct rec *x)
{
	struct rec y = *x;

	y.limit.bound_cgroup = x->limit.bound_cgroup_id ? path_of(s, x->limit.bound_cgroup_id) : "";
	return y;
}

static bool in_scope(struct scope *s, uint64_t id)
{
	bool in;

	if (!s->root[0])
		return true;
	if (id_in(s->in, s->nin, id))
		return true;
	if (id_in(s->out, s->nout, id))
		return false;
	in = hold_in_cgroup(path_of(s, id), s->root);
	if (in)
		id_add(&s->in, &s->nin, &s->incap, id);
	else
		id_add(&s->out, &s->nout, &s->outcap, id);
	return in;
}

/*
 * A record for the recording, or with --flight for the ring (an allocation
 * that failed and a limit refusal make the event one to write out).
 */
static int emit(struct recorder *r, const struct rec *x)
{
	if (!r->fl)
		return rec_write(r->w, x);
	if (x->type == REC_LIMIT)
		r->trigger = "limit";
	else if (x->type == REC_ALLOC && x->alloc.err && !r->trigger)
		r->trigger = "alloc-failed";
	return flight_add(r->fl, x);
}

/* emit() for stacks_of() */
static int emit_stack(const struct rec *x, void *ctx)
{
	return emit(ctx, x);
}

static uint64_t task_hash_at(const void *ctx, size_t pos)
{
	const struct recorder *r = ctx;

	return hindex_mix(r->tasks[pos].tid);
}

static bool task_match(const void *ctx, size_t pos, const void *key)
{
	const struct recorder *r = ctx;

	return r->tasks[pos].tid == *(const uint32_t *)key;
}

/*
 * A process record the first time a task is seen, and again when it is no
 * longer where the last one said: moved to another cgroup, or its tid taken
 * by a task of another process (who's cgroup path is filled in). Not for a
 * new name alone: an allocation's event names the task as the collector
 * last read it, other events as it is now, and the records carry it anyway.
 */
static int describe_task(struct recorder *r, const struct rec_process *who)
{
	struct rec p = { .type = REC_PROCESS, .process = *who };
	size_t i = hindex_find(&r->task_ix, hindex_mix(who->tid), r, task_match, &who->tid);
	struct task_seen *t;

	if (i != HINDEX_NONE) {
		t = &r->tasks[i];
		if (t->cgroup_id == who->cgroup_id && t->pid == who->pid)
			return 0;
	} else {
		if (hindex_room(&r->task_ix, r->ntasks, r, task_hash_at) ||
		    grow_array((void **)&r->tasks, &r->taskcap, r->ntasks, sizeof(*r->tasks)))
			return -ENOMEM;
		t = &r->tasks[r->ntasks];
		t->tid = who->tid;
		hindex_put(&r->task_ix, hindex_mix(who->tid), r->ntasks++);
	}
	t->pid = who->pid;
	t->cgroup_id = who->cgroup_id;
	p.process.cgroup = path_of(&r->scope, who->cgroup_id);
	return emit(r, &p);
}

static int describe(struct recorder *r, const struct coll_event *e)
{
	char comm[COLL_COMM_LEN + 1];

	copy_bounded(comm, e->comm, COLL_COMM_LEN);
	return describe_task(r, &(struct rec_process){ .pid = e->tgid, .tid = e->pid,
						       .comm = comm,
						       .cgroup_id = e->cgroup_id });
}

static int flight_event_done(struct recorder *r);

static void on_event(const struct coll_event *e, void *ctx)
{
	struct recorder *r = ctx;
	char name[COLL_NAME_LEN + 1], comm[COLL_COMM_LEN + 1];
	struct rec x = {};
	int err = 0;

	if (r->err || !in_scope(&r->scope, e->cgroup_id))
		return;
	if (r->end_ns && e->ts_ns > (e->type == EV_BUF_RELEASE ? r->end_release_ns : r->end_ns))
		return;
	r->last_ns = e->ts_ns;
	/* the names, for the events that have them */
	if (e->type != EV_BUF_RELEASE && e->type != EV_BUF_FD)
		copy_bounded(name, e->name, COLL_NAME_LEN);
	switch (e->type) {
	case EV_HEAP_ALLOC:
		copy_bounded(comm, e->comm, COLL_COMM_LEN);
		err = describe(r, e);
		x.type = REC_ALLOC;
		x.alloc = (struct rec_alloc){ .ts = e->ts_ns, .pid = e->tgid, .tid = e->pid,
					      .comm = comm, .cgroup_id = e->cgroup_id, .heap = name,
					      .requested = e->bytes,
					      .allocated = e->err ? 0 : e->buf_bytes,
					      .latency_ns = e->latency_ns, .err = e->err,
					      .ino = e->err ? 0 : e->ino,
					      .fail_class = e->fail_class };
		break;
	case EV_BUF_EXPORT:
		err = describe(r, e);
		x.type = REC_EXPORT;
		x.export = (struct rec_export){ .ts = e->ts_ns, .pid = e->tgid,
						.cgroup_id = e->cgroup_id, .exporter = name,
						.ino = e->ino, .size = e->buf_bytes };
		break;
	case EV_BUF_RELEASE:
		x.type = REC_RELEASE;
		x.release = (struct rec_release){ .ts = e->ts_ns, .ino = e->ino,
						  .lifetime_ns = e->latency_ns,
						  .cgroup_id = e->cgroup_id };
		break;
	case EV_CMA_ALLOC:
	case EV_CMA_RELEASE:
		x.type = REC_CMA;
		x.cma = (struct rec_cma){ .ts = e->ts_ns, .area = name, .pfn = e->pfn,
					  .count = e->bytes / (uint64_t)sysconf(_SC_PAGESIZE),
					  .latency_ns = e->latency_ns, .result = e->err,
					  .kind = e->type == EV_CMA_ALLOC ? REC_CMA_ALLOC :
						  REC_CMA_RELEASE };
		break;
	case EV_BUF_FD:
		err = describe(r, e);
		x.type = REC_FD;
		x.fd = (struct rec_fd){ .ts = e->ts_ns, .pid = e->tgid, .ino = e->ino,
					.kind = e->fd_kind == FD_MADE ? REC_FD_MADE :
						e->fd_kind == FD_TAKEN ? REC_FD_TAKEN : REC_FD_MMAP };
		break;
	default:
		return;
	}
	if (!err && x.type == REC_ALLOC && r->stacks)
		err = stacks_of(r->stacks, r->coll, emit_stack, r, e, &x.alloc.stack_id);
	if (!err)
		err = emit(r, &x);
	/* the busy retries a CMA allocation went through: one record after it, count them */
	if (!err && e->type == EV_CMA_ALLOC && e->cma_busy) {
		x.cma.kind = REC_CMA_BUSY;
		x.cma.count = e->cma_busy;
		err = emit(r, &x);
	}
	/* a failed allocation a dmem or memcg limit refused: its limit record */
	if (!err && x.type == REC_ALLOC && x.alloc.err && refusals_may_be_limit(e)) {
		err = refusals_of_failure(&r->ref, e, path_of(&r->scope, e->cgroup_id), &x);
		if (err > 0)
			x = named_limit(&r->scope, &x);
		err = err > 0 ? emit(r, &x) : err;
	}
	if (!err && r->fl) {
		bool was = r->pending;

		err = flight_event_done(r);
		/* a trigger: its file is written as this poll returns, the events
		 * after it left in the ring meanwhile (its nested drain takes them) */
		if (!was && r->pending)
			collector_poll_stop(r->coll);
	}
	r->err = err;
}

/* each CMA area's state now: its fragmentation over the recording */
static int cma_states(struct recorder *r)
{
	struct cma_area *areas;
	size_t n;
	int err = cma_areas_read(CMA_SYSFS, CMA_DEBUGFS, true, &areas, &n);
	uint64_t ts = now_ns();

	for (size_t i = 0; !err && i < n; i++) {
		struct rec x = { .type = REC_CMA_STATE };

		x.cma_state = (struct rec_cma_state){
			.ts = ts, .area = areas[i].name, .total_bytes = areas[i].total_bytes,
			.used_bytes = areas[i].used_bytes,
			.largest_free_bytes = areas[i].have_bitmap ? areas[i].largest_free_bytes : 0,
			.free_extents = areas[i].have_bitmap ? areas[i].free_extents : 0,
			.flags = areas[i].have_bitmap ? REC_CMA_EXTENTS : 0 };
		err = rec_write(r->w, &x);
	}
	free(areas);
	return err;
}

static int by_heap_name(const void *a, const void *b)
{
	return strcmp(((const struct rec_heap_bytes *)a)->heap,
		      ((const struct rec_heap_bytes *)b)->heap);
}

static void heaps_free(struct rec_heap_bytes *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].heap);
	free(v);
}

/*
 * Every heap of the system (/dev/dma_heap, none without it), each with the
 * bytes of @inv's buffers it exported: so that analyze knows a heap the run
 * never allocated from from one that is not there.
 */
static int heaps_now(const struct inventory *inv, struct rec_heap_bytes **heaps, uint32_t *n)
{
	struct rec_heap_bytes *v;
	struct heap_dev *hd;
	size_t k;
	int err = heap_devs_read(HEAP_DEV_DIR, &hd, &k);

	*heaps = NULL;
	*n = 0;
	if (err || !k)
		return err;
	v = calloc(k, sizeof(*v));
	if (!v) {
		heap_devs_free(hd, k);
		return -ENOMEM;
	}
	/* the names change hands, sorted as by_heap_name() takes them */
	for (size_t i = 0; i < k; i++)
		v[i].heap = hd[i].name;
	free(hd);
	for (size_t i = 0; i < inv->nbufs; i++) {
		const struct inv_buf *b = &inv->bufs[i];
		struct rec_heap_bytes key = { .heap = b->exp_name }, *h;

		h = b->exp_name ? bsearch(&key, v, k, sizeof(*v), by_heap_name) : NULL;
		if (h)
			h->bytes += b->size;
	}
	*heaps = v;
	*n = (uint32_t)k;
	return 0;
}

/* an inventory of the live buffers in the recording */
static int snapshot(struct recorder *r, uint32_t when)
{
	struct inventory inv;
	struct rec x = { .type = REC_SNAP_BEGIN };
	struct rec_heap_bytes *heaps = NULL;
	uint32_t *pids = NULL, nheaps = 0;
	uint64_t bytes = 0, walk = now_ns();
	int err = inventory_collect(&inv, "/proc", false);

	if (err)
		return err;
	r->walk_ns = walk;
	x.snap_begin = (struct rec_snap_begin){ .ts = now_ns(), .when = when,
						.source = inv.buffers_src };
	if (when == 1)
		sources_say(heapstat_cmd, &inv, r->coll);
	err = rec_write(r->w, &x);
	pids = calloc(inv.nprocs + 1, sizeof(*pids));
	if (!pids)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < inv.nbufs; i++) {
		const struct inv_buf *b = &inv.bufs[i];

		for (unsigned int k = 0; k < b->holders; k++)
			pids[k] = inv.procs[inv.holds[b->first_hold + k].proc].pid;
		x.type = REC_SNAP_BUF;
		x.snap_buf = (struct rec_snap_buf){ .ino = b->ino, .size = b->size,
						    .exporter = b->exp_name ?: "",
						    .name = b->name ?: "", .nholders = b->holders,
						    .holders = pids };
		err = rec_write(r->w, &x);
		bytes += b->size;
	}
	if (!err)
		err = heaps_now(&inv, &heaps, &nheaps);
	if (!err) {
		x.type = REC_SNAP_END;
		r->snap_end_ns = now_ns();
		x.snap_end = (struct rec_snap_end){ .ts = r->snap_end_ns, .buffers = inv.nbufs,
						    .bytes = bytes, .nheaps = nheaps,
						    .heaps = heaps };
		err = rec_write(r->w, &x);
	}
	heaps_free(heaps, nheaps);
	free(pids);
	inventory_free(&inv);
	return err ?: cma_states(r) ?: rec_flush(r->w);
}

static int checkpoint(struct recorder *r)
{
	size_t n;
	struct coll_heap_stats *hs = collector_heap_stats(r->coll, &n);
	struct rec_heap_bytes *heaps = calloc(n + 1, sizeof(*heaps));
	struct rec x = { .type = REC_CHECKPOINT };
	size_t k = 0;
	int err;

	if (!heaps)
		return -ENOMEM;
	/* bytes of buffers alive that each heap exported while recorded, all cgroups */
	for (size_t i = 0; i < n; i++) {
		int64_t live = (int64_t)(hs[i].agg.export_bytes - hs[i].agg.free_bytes);
		size_t j;

		for (j = 0; j < k && strcmp(heaps[j].heap, hs[i].heap); j++)
			;
		if (j == k)
			heaps[k++].heap = hs[i].heap;
		heaps[j].bytes += live > 0 ? (uint64_t)live : 0;
	}
	x.checkpoint = (struct rec_checkpoint){ .ts = now_ns(), .nheaps = k, .heaps = heaps };
	err = rec_write(r->w, &x) ?: cma_states(r) ?: rec_flush(r->w);
	free(heaps);
	return err;
}

/* the events lost since the start: the collector's (skipped calls too), the bpf-lsm refusals' */
static int write_drops(struct recorder *r)
{
	uint64_t lost[2] = { collector_dropped(r->coll) + collector_skipped(r->coll),
			     refusals_lost(&r->ref) };
	int err = 0;

	for (int i = 0; !err && i < 2; i++) {
		struct rec x = { .type = REC_DROPS };

		if (!lost[i])
			continue;
		x.drops = (struct rec_drops){ .first_ts = r->start_ns, .last_ts = now_ns(),
					      .count = lost[i],
					      .source = i ? REC_DROP_LIMIT_EVENTS : REC_DROP_EVENTS };
		err = rec_write(r->w, &x);
	}
	return err;
}

/* a bpf-lsm refusal (refusals.c): recorded when the refused task is */
static int on_limit(const struct rec *x, const struct rec_process *who, void *ctx)
{
	struct recorder *r = ctx;
	struct rec y;
	int err;

	if (r->err || !in_scope(&r->scope, x->limit.cgroup_id))
		return 0;
	y = named_limit(&r->scope, x);
	err = describe_task(r, who) ?: emit(r, &y);
	if (!err && r->fl)
		err = flight_event_done(r);
	r->err = err;
	return err;
}

/* --flight, while a file is written: the bpf-lsm refusals join the event kept */
static int on_limit_staged(const struct rec *x, const struct rec_process *who, void *ctx)
{
	struct recorder *r = ctx;

	struct rec y;

	if (r->err || !in_scope(&r->scope, x->limit.cgroup_id))
		return 0;
	y = named_limit(&r->scope, x);
	return describe_task(r, who) ?: flight_add(r->fl, &y);
}

/*
 * After a final snapshot: the events up to its end, waited for. The producer's
 * position, read now, is past every release until then (a program reserves its
 * record before it takes the time). A program still writing its record stops
 * the consumer there, and a release left out reads as a leak in no snapshot.
 * 200 ms at most: QEMU's single-threaded TCG runs a vCPU for up to 100 ms
 * before the next.
 */
static void drain_to_snapshot(struct recorder *r, const char *what)
{
	if (collector_drain_to(r->coll, collector_ring_mark(r->coll), 200) == -ETIME)
		fprintf(stderr, "heapstat record: events still being written at the end of %s "
			"were not waited for: a release among them would read as a leak\n", what);
}

/*
 * --flight: what a file adds to the events kept: the events lost, the live
 * buffers now, then the releases until the snapshot's walk ended, as at the
 * end of a recording (end_of_recording()): a buffer released after the
 * trigger, before the walk reached it, is in no snapshot, and its release is
 * what says it is no leak (the process that failed often exits at once).
 */
static int flight_extra(struct rec_writer *w, void *ctx)
{
	struct recorder *r = ctx;
	int err;

	r->w = w;
	err = write_drops(r) ?: snapshot(r, REC_SNAP_FINAL);
	if (!err)
		drain_to_snapshot(r, "this file");	/* staged behind the held trigger */
	if (!err)
		err = r->err ?: flight_write_releases(r->fl, w, r->snap_end_ns);
	r->w = NULL;
	return err;
}

/*
 * --flight: the file of the events kept (and held: a trigger's), at most one
 * a second (flight.c counts the rest). One that cannot be written is said
 * and counted, and recording goes on.
 */
static void flight_dump(struct recorder *r, const char *reason)
{
	char path[PATH_MAX + 64];
	uint64_t n = 0;
	int rc;

	rc = flight_write(r->fl, opts.out, reason, r->command, flight_extra, r, path,
			  sizeof(path), &n);
	r->pending = NULL;
	flight_commit(r->fl);
	if (rc < 0) {
		r->flight_failed++;
		heapstat_error(rc, "write a flight recording in", opts.out);
		return;
	}
	if (rc > 0) {
		fprintf(stderr, "heapstat record: wrote %s (%s, %llu events", text_safe(path),
			reason, (unsigned long long)n);
		if (r->fl->suppressed > r->suppressed)
			fprintf(stderr, "; %llu triggers within a second of the last file, none "
				"written", (unsigned long long)(r->fl->suppressed - r->suppressed));
		r->suppressed = r->fl->suppressed;
		fprintf(stderr, ")\n");
	}
}

/*
 * --flight: an event kept. A trigger's records (with the bpf-lsm refusal
 * that came before a failed allocation it caused) are held for its file,
 * written once the rings are drained; another trigger meanwhile is within
 * the same second, counted.
 */
static int flight_event_done(struct recorder *r)
{
	const char *reason = r->trigger;

	r->trigger = NULL;
	if (r->pending) {
		r->fl->suppressed += reason != NULL;
		return 0;
	}
	if (!reason || !flight_due(r->fl)) {
		/* within a second of the last file: counted, and kept as any event */
		r->fl->suppressed += reason != NULL;
		flight_commit(r->fl);
		return 0;
	}
	refusals_poll_lsm(&r->ref, on_limit_staged, r);
	flight_hold(r->fl);
	r->pending = reason;
	return 0;
}

/*
 * The end of a recording: the last checkpoint and snapshot, then what the
 * rings took meanwhile, up to the snapshot: the releases until its walk
 * ended (a buffer released before the walk found it is in neither the
 * snapshot nor the events drained before it, and would read as a leak), the
 * rest until it began (a buffer allocated during the walk may be missed by
 * it: after the end, not a leak in no snapshot). Then the events lost, the
 * walk's too.
 */
/* the collector detached, its stacks' losses said first */
static void collector_end(struct recorder *r)
{
	if (r->stacks && r->coll && collector_stacks_lost(r->coll))
		fprintf(stderr, "heapstat record: %" PRIu64 " allocations' stacks were not kept "
			"(the stack map was full)\n", collector_stacks_lost(r->coll));
	collector_close(r->coll);
	r->coll = r->scope.coll = NULL;
}

static int end_of_recording(struct recorder *r)
{
	int err = checkpoint(r) ?: snapshot(r, REC_SNAP_FINAL);

	if (err)
		return err;
	r->end_ns = r->walk_ns;
	r->end_release_ns = r->snap_end_ns;
	drain_to_snapshot(r, "the recording");
	return r->err ?: write_drops(r) ?: rec_flush(r->w);
}

/*
 * -o, before anything loads: a directory with --flight, else a file in one;
 * either way somewhere heapstat can write.
 */
static int out_check(const char *path, bool flight)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (!*path) {
		fprintf(stderr, "heapstat record: an empty %s name: give one with -o\n",
			flight ? "directory" : "file");
		return -EINVAL;
	}
	if ((!stat(path, &st) && S_ISDIR(st.st_mode)) != flight) {
		if (flight)
			fprintf(stderr, "heapstat record: --flight writes into a directory: %s is "
				"none\n", text_safe(path));
		else
			fprintf(stderr, "heapstat record: -o %s is a directory (--flight writes "
				"into one)\n", text_safe(path));
		return flight ? -ENOTDIR : -EISDIR;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = flight ? NULL : strrchr(dir, '/');
	if (!flight && !slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash)
		slash[slash == dir] = '\0';	/* "/x" -> "/" */
	if (access(dir, W_OK | X_OK)) {
		fprintf(stderr, "heapstat record: cannot write in %s: %s\n", text_safe(dir),
			strerror(errno));
		return -EACCES;
	}
	return 0;
}

/* -o names a file another recording is writing: said, bad usage */
static int out_busy(void)
{
	fprintf(stderr, "heapstat record: %s is being written by another recording\n",
		text_safe(opts.out));
	return EXIT_USAGE;
}

/* the command's cgroup: a new one below heapstat's own */
static int command_cgroup(char *out, size_t len)
{
	char self[CGROUP_PATH_MAX], why[512];
	static const char * const none[] = { NULL };
	int err = proc_cgroup_of("/proc", getpid(), self, sizeof(self));

	if (err) {
		heapstat_error(err, "find heapstat's own cgroup", NULL);
		return err;
	}
	if ((size_t)snprintf(out, len, "%s/heapstat-record-%d", strcmp(self, "/") ? self : "",
			     getpid()) >= len) {
		heapstat_error(-ENAMETOOLONG, "make the command's cgroup below", self);
		return -ENAMETOOLONG;
	}
	err = cg_control_create(out, none, NULL, 0, why, sizeof(why));
	if (err)
		fprintf(stderr, "heapstat record: failed to %s\n", why);
	return err;
}

/*
 * The header's command: its words, cut where a recording's string ends
 * (REC_MAX_STR) and said so: a command line may be far longer (a test
 * runner given every test file), which would refuse the whole recording.
 */
static char *command_line(void)
{
	size_t len = 1, cut = REC_MAX_STR - 40;	/* room for the tail below */
	char *s;

	for (char **a = opts.cmd; a && *a; a++)
		len += strlen(*a) + 1;
	s = calloc(1, len);
	for (char **a = opts.cmd; s && a && *a; a++)
		strcat(strcat(s, a == opts.cmd ? "" : " "), *a);
	if (s && strlen(s) > REC_MAX_STR)
		snprintf(s + cut, 41, " ... (%zu bytes more)", strlen(s) - cut);
	return s;
}

int cmd_record(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, "[-- CMD [ARGS...]]", doc,
					  heapstat_common_options, NULL, NULL };
	struct recorder r = {};
	struct flight fl;
	struct rec_header hdr = {};
	char why[512], cgroup[CGROUP_PATH_MAX] = "";
	uint64_t end, next_cp;
	int how = REC_STATUS_NONE, err;
	static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1 };
	sigset_t ignored;
	char *cmdline;
	pid_t child = 0;
	bool said = false;	/* the failure, said while the command ran on */

	argv[0] = "heapstat record";
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return EXIT_USAGE;
	/*
	 * Caught from the start: a command started in the background by a shell begins
	 * with SIGINT ignored, and one sent while the collector loads must still end it.
	 * The set-up goes on and the recording ends as soon as it has begun. A hangup
	 * (the terminal or the ssh session gone) ends it whole too. The command starts
	 * with what was ignored here still ignored, as without heapstat; and SIGCHLD
	 * ignored here would reap it unseen.
	 */
	sigemptyset(&ignored);
	for (size_t i = 0; i < sizeof(caught) / sizeof(*caught); i++) {
		struct sigaction was;

		if (!sigaction(caught[i], NULL, &was) && was.sa_handler == SIG_IGN)
			sigaddset(&ignored, caught[i]);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGCHLD, SIG_DFL);
	if (opts.flight)
		signal(SIGUSR1, on_usr1);
	if (opts.cgroup) {
		err = cg_path_normalize(opts.cgroup, r.scope.root, sizeof(r.scope.root));
		if (err) {
			fprintf(stderr, "heapstat record: cgroup '%s': %s\n", text_safe(opts.cgroup),
				cg_path_refused(err));
			return EXIT_USAGE;
		}
		if (cg_dir(cgroup, sizeof(cgroup), cg_root(), r.scope.root) || access(cgroup, F_OK)) {
			/* worded as report's, top's and limit's (hold_filter_check()) */
			fprintf(stderr, "heapstat record: no cgroup %s (under %s)\n",
				text_safe(r.scope.root), text_safe(cg_root()));
			return EXIT_USAGE;
		}
	}
	if (out_check(opts.out, opts.flight))
		return EXIT_USAGE;
	/* said before anything loads; the writer claims it for good when it opens */
	if (!opts.flight && rec_writer_busy(opts.out))
		return out_busy();
	if (heapstat_caps_preflight() || heapstat_pidns_preflight())
		return EXIT_UNSUPPORTED;
	if (heapstat_no_btf()) {
		fprintf(stderr, "heapstat record: nothing can be recorded: %s\n", heapstat_no_btf());
		return EXIT_UNSUPPORTED;
	}
	if (opts.cmd && cg_control_init(why, sizeof(why))) {
		fprintf(stderr, "heapstat record: failed to %s\n", why);
		return EXIT_UNSUPPORTED;
	}
	err = collector_open_rec(&r.coll, COLL_ATTACH_AUTO, RING_BYTES, false,
				 COLL_WANT_EVENTS | COLL_WANT_FDS | (opts.stacks ? COLL_WANT_STACKS : 0),
				 why, sizeof(why));
	if (err) {
		fprintf(stderr, "heapstat record: nothing can be recorded: %s\n", why);
		return 1;
	}
	r.scope.coll = r.coll;
	if (opts.stacks && stacks_new(&r.stacks, "/proc")) {
		heapstat_error(-ENOMEM, "set up the stacks' symbolizer", NULL);
		collector_close(r.coll);
		return 1;
	}
	cmdline = command_line();
	hdr.command = r.command = cmdline ? cmdline : "";
	hdr.untraced = (collector_fds(r.coll) ? 0 : REC_UNTRACED_FDS) |
		       (collector_cma_untraced(r.coll) ||
			collector_refused(r.coll, COLL_FEAT_CMA, &(int){ 0 }) ? REC_UNTRACED_CMA : 0);
	err = opts.flight ? flight_init(&fl, opts.flight) : rec_writer_open(&r.w, opts.out, &hdr);
	if (opts.flight)
		fl.untraced = hdr.untraced;
	if (err && err != -EBUSY)
		heapstat_error(err, opts.flight ? "keep the flight recorder's events" :
			       "create the recording", opts.out);
	if (err) {
		stacks_free(r.stacks);
		collector_close(r.coll);
		free(cmdline);
		return err == -EBUSY ? out_busy() : 1;	/* -EBUSY: its file left whole */
	}
	r.fl = opts.flight ? &fl : NULL;
	collector_on_event(r.coll, on_event, &r, false);
	r.start_ns = now_ns();
	refusals_init(&r.ref, r.start_ns);
	err = r.fl ? 0 : snapshot(&r, REC_SNAP_START);
	/* before the command starts: it inherits no NOTIFY_SOCKET of ours */
	if (!err)
		ready_notify("heapstat record", r.fl ? "recording, as a flight recorder" :
			     "recording");
	if (!err && opts.cmd) {
		err = command_cgroup(cgroup, sizeof(cgroup));
		snprintf(r.scope.root, sizeof(r.scope.root), "%s", cgroup);
	}
	if (!err && opts.cmd && stop) {
		fprintf(stderr, "heapstat record: stopped before %s started: not run\n",
			text_safe(opts.cmd[0]));
		how = REC_STATUS_NOT_STARTED;
	} else if (!err && opts.cmd) {
		child = cg_control_spawn(cgroup, opts.cmd, "heapstat record", &ignored);
		if (child < 0)
			err = child;
	}
	end = opts.duration_ms ? now_ns() + opts.duration_ms * 1000000ull : 0;
	next_cp = now_ns() + CHECKPOINT_MS * 1000000ull;
	while (!err && !r.err && !stop && (!end || now_ns() < end)) {
		int rc = collector_poll(r.coll, POLL_MS);

		if (rc < 0 && rc != -EINTR)
			err = rc;
		if (!err && !r.err)
			err = refusals_poll_lsm(&r.ref, on_limit, &r);
		if (r.fl && dump) {
			dump = 0;
			if (r.pending || !flight_due(r.fl)) {
				fl.suppressed++;
			} else {
				flight_hold(r.fl);
				r.pending = "sigusr1";
			}
		}
		if (!err && !r.err && r.fl && r.pending)
			flight_dump(&r, r.pending);
		if (r.fl)
			goto reap;
		if (!err && !r.err && (now_ns() >= next_cp || rec_checkpoint_due(r.w))) {
			err = checkpoint(&r);
			next_cp = now_ns() + CHECKPOINT_MS * 1000000ull;
		}
		if (!err && !r.err)
			err = rec_flush(r.w);
reap:
		if (reaped(&child, &how))
			break;
	}
	/*
	 * A failure while the command runs (the disk full): said now, and the
	 * command runs to its end, as it would have, unrecorded; until then
	 * heapstat stops only as it would have (a signal, -d).
	 */
	if ((err || r.err) && child > 0 && !stop && (!end || now_ns() < end)) {
		heapstat_error(err ?: r.err, "record", opts.out);
		said = true;
		fprintf(stderr, "heapstat record: recording stopped: waiting for %s (pid %d) to "
			"exit\n", text_safe(opts.cmd[0]), child);
		/* nothing more is read: its programs off every allocation meanwhile */
		collector_end(&r);
		while (!reaped(&child, &how) && child > 0 && !stop && (!end || now_ns() < end))
			usleep(20000);
		if (!child && WIFEXITED(how))
			fprintf(stderr, "heapstat record: %s exited with %d, unrecorded since\n",
				text_safe(opts.cmd[0]), WEXITSTATUS(how));
		else if (!child)
			fprintf(stderr, "heapstat record: %s was killed by signal %d, unrecorded "
				"since\n", text_safe(opts.cmd[0]), WTERMSIG(how));
	}
	/* stopped first: a Ctrl-C reached the command too, which may be ending of it */
	for (int i = 0; !reaped(&child, &how) && child > 0 && i < STOP_GRACE_MS / 10; i++)
		usleep(10000);
	if (child > 0) {		/* the command goes on, unrecorded */
		fprintf(stderr, "heapstat record: stopped before %s exited (pid %d)\n",
			text_safe(opts.cmd[0]), child);
		how = REC_STATUS_RUNNING;
	}
	/* what the rings still hold, then the last checkpoint and snapshot, the lost, the end */
	if (!err && !r.err)
		collector_poll(r.coll, 0);
	if (!err && !r.err)
		err = refusals_poll_lsm(&r.ref, on_limit, &r);
	/* a trigger there stopped that poll: its file, then the rest of the rings
	 * (a trigger among them is within the second of that file) */
	while (!err && !r.err && r.fl && r.pending) {
		flight_dump(&r, r.pending);
		collector_poll(r.coll, 0);
	}
	if (!err && !r.err && !r.fl)
		err = end_of_recording(&r);
	err = err ?: r.err;
	if (err && !said)
		heapstat_error(err, "record", opts.out);
	if (r.fl) {
		if (fl.suppressed)
			fprintf(stderr, "heapstat record: %llu files written, %llu triggers within a "
				"second of a file not written\n", (unsigned long long)fl.files,
				(unsigned long long)fl.suppressed);
		if (r.flight_failed) {
			fprintf(stderr, "heapstat record: %llu flight recordings could not be "
				"written\n", (unsigned long long)r.flight_failed);
			err = err ?: -EIO;
		}
		flight_free(&fl);
	} else {
		err = rec_writer_close(r.w, how) ?: err;
	}
	collector_end(&r);
	stacks_free(r.stacks);
	refusals_free(&r.ref);
	free(cmdline);
	/* the command's cgroup goes with it, unless something of it lives on */
	if (opts.cmd && cgroup[0] && !cg_dir(why, sizeof(why), cg_root(), cgroup))
		rmdir(why);
	free(r.tasks);
	hindex_free(&r.task_ix);
	free(r.scope.in);
	free(r.scope.out);
	cg_index_free(&r.scope.ix);
	if (err)
		return 1;
	if (how == REC_STATUS_NONE)
		return 0;
	if (how == REC_STATUS_RUNNING || how == REC_STATUS_NOT_STARTED)
		return EXIT_RUNNING;
	return WIFEXITED(how) ? WEXITSTATUS(how) : 128 + WTERMSIG(how);
}
