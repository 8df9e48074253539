// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat limit events: allocations a cgroup limit refused, from each
 * backend's own witness:
 *   bpf-lsm  the limit programs' refusal events (bpf/limit.bpf.c), kept in
 *            their pinned ring while nobody reads it (what does not fit is
 *            counted as dropped): with or without -f;
 *   dmem     a heap's allocation failing with EAGAIN, as the collector sees
 *            it: only while -f runs (dmem keeps no record of refusals);
 *   memcg    the memcg-charged system heap failing with ENOMEM where the
 *            cgroup's memory.max, or an ancestor's, leaves less room than
 *            was asked, or with EINTR there when the OOM killer chose the
 *            allocator (killed between two pages): also only while -f runs.
 * Each event names whose limit bound, with its usage and limit, and the top
 * holders of the heap under that cgroup, from the holdings model taken when
 * the event came (dmem: usage and limit as read then; bpf-lsm and memcg: as
 * the programs saw them at the refusal).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "limit.h"
#include "lib/collector.h"
#include "lib/errors.h"
#include "lib/holdings.h"
#include "lib/inventory.h"
#include "lib/json.h"
#include "lib/lsm_limit.h"
#include "lib/ready.h"
#include "lib/refusal.h"
#include "lib/text.h"
#include "lib/util.h"

#define TOP_HOLDERS	5
#define POLL_MS		100

/* one refusal, whoever saw it */
struct hit {
	uint64_t ts_ns;			/* CLOCK_MONOTONIC */
	const char *backend;
	enum refusal_backend backend_id;	/* dmem and memcg; REFUSAL_NONE: bpf-lsm */
	int err;			/* dmem and memcg: the allocation's */
	bool oom_victim;		/* memcg: its process the OOM killer's victim */
	pid_t pid, tid;
	char comm[17];
	char heap[COLL_NAME_LEN];
	uint64_t cgroup_id, bound_id;	/* bound_id 0: found from the model */
	uint64_t requested;
	bool known;			/* usage and limit known */
	uint64_t usage, limit;
	const char *when;		/* bpf-lsm: "ioctl", "export" or "full" (no room for its usage) */
	const struct coll_event *ce;	/* dmem and memcg: the collector's event; bpf-lsm NULL */
};

struct holder {
	size_t proc;
	uint64_t bytes;
};

struct events {
	const struct limit_events_opts *o;
	struct refusal_model m;		/* ev->m.inv and ev->m.h: the model of the moment */
	struct collector *coll;		/* -f: the paths of cgroups removed since it started */
	uint64_t shown;
	int err;			/* the first error: stop */
	bool said;			/* and it was said */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *path_of(struct events *ev, uint64_t id)
{
	static char unknown[2][24];	/* an event's cgroup and its limit's */
	static unsigned int next;
	const char *p = id ? holdings_cgroup_path(&ev->m.h, id) : NULL;

	if ((!p || !strcmp(p, "?")) && id && ev->coll)	/* removed since */
		p = collector_removed_cgroup(ev->coll, id);
	if (p && strcmp(p, "?"))
		return p;
	if (!id)
		return "?";
	/* gone, its path unknown: its id, as report's activity and the metrics name it */
	snprintf(unknown[next % 2], sizeof(unknown[0]), "?%llu", (unsigned long long)id);
	return unknown[next++ % 2];
}

static int cmp_holder(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : (x->proc > y->proc) - (x->proc < y->proc);
}

/* the processes under cgroup holding most of heap: up to TOP_HOLDERS in top; how many */
static size_t top_holders(struct events *ev, const char *cgroup, const char *heap,
			  struct holder *top)
{
	const struct inventory *inv = &ev->m.inv;
	uint64_t *bytes = calloc(inv->nprocs + 1, sizeof(*bytes));
	struct holder *all;
	size_t n = 0;

	if (!bytes)
		return 0;
	for (size_t i = 0; i < inv->nholds; i++) {
		const struct inv_hold *hd = &inv->holds[i];
		const struct inv_buf *b = &inv->bufs[hd->buf];
		const struct inv_proc *p = &inv->procs[hd->proc];

		if (b->exp_name && !strcmp(b->exp_name, heap) && p->cgroup &&
		    hold_in_cgroup(p->cgroup, cgroup))
			bytes[hd->proc] += b->size;
	}
	all = malloc((inv->nprocs + 1) * sizeof(*all));
	for (size_t p = 0; all && p < inv->nprocs; p++)
		if (bytes[p])
			all[n++] = (struct holder){ p, bytes[p] };
	if (all) {
		sort_ordered(all, n, sizeof(*all), cmp_holder);
		n = n < TOP_HOLDERS ? n : TOP_HOLDERS;
		memcpy(top, all, n * sizeof(*top));
	} else {
		n = 0;
	}
	free(all);
	free(bytes);
	return n;
}

/* CLOCK_MONOTONIC ns -> wall clock, as struct timespec */
static struct timespec wall_of(uint64_t mono_ns)
{
	uint64_t wall = mono_ns + real_minus_mono_ns();

	return (struct timespec){ .tv_sec = wall / 1000000000ull, .tv_nsec = wall % 1000000000ull };
}

static void print_hit(struct events *ev, const struct hit *e, const char *cgroup, const char *bound,
		      const struct holder *top, size_t ntop)
{
	struct timespec w = wall_of(e->ts_ns);
	char t[64], a[16], b[16], c[16];
	struct tm tm;

	gmtime_r(&w.tv_sec, &tm);
	if (ev->o->json) {
		struct json j;

		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(t + strlen(t), sizeof(t) - strlen(t), ".%03ldZ", w.tv_nsec / 1000000);
		json_init(&j, stdout);
		json_object(&j);
		json_kstr(&j, "time", t);
		json_ku64(&j, "monotonic_ns", e->ts_ns);
		json_kstr(&j, "backend", e->backend);
		json_ku64(&j, "pid", e->pid);
		json_ku64(&j, "tid", e->tid);
		json_kstr(&j, "comm", e->comm);
		json_kstr(&j, "cgroup", cgroup);
		json_kstr(&j, "heap", e->heap);
		json_ku64(&j, "requested_bytes", e->requested);
		json_ku64_or_null(&j, "usage_bytes", e->known, e->usage);
		json_ku64_or_null(&j, "limit_bytes", e->known, e->limit);
		json_key(&j, "limit_cgroup");
		if (bound)
			json_str(&j, bound);
		else
			json_null(&j);
		json_key(&j, "when");
		if (e->when)
			json_str(&j, e->when);
		else
			json_null(&j);
		json_key(&j, "top_holders");
		json_array(&j);
		for (size_t i = 0; i < ntop; i++) {
			const struct inv_proc *p = &ev->m.inv.procs[top[i].proc];

			json_object(&j);
			json_ku64(&j, "pid", p->pid);
			json_kstr(&j, "comm", p->comm);
			json_kstr(&j, "cgroup", p->cgroup);
			json_ku64(&j, "bytes", top[i].bytes);
			json_end(&j);
		}
		json_end(&j);
		json_end(&j);
	} else {
		char holders[512] = "";
		size_t len = 0;

		if (!ev->shown)
			printf("%-12s %7s %-16s %-20s %-20s %-7s %8s %8s %8s %-16s %s\n", "TIME", "PID",
			       "COMM", "CGROUP", "HEAP", "BACKEND", "ASKED", "USAGE", "LIMIT",
			       "LIMIT-ON", "TOP HOLDERS (PID:COMM:BYTES)");
		for (size_t i = 0; i < ntop && len < sizeof(holders); i++) {
			const struct inv_proc *p = &ev->m.inv.procs[top[i].proc];

			len += snprintf(holders + len, sizeof(holders) - len, "%s%d:%s:%s",
					i ? "," : "", p->pid, text_safe(p->comm),
					format_size(top[i].bytes, a, sizeof(a)));
		}
		strftime(t, sizeof(t), "%H:%M:%S", &tm);
		snprintf(t + strlen(t), sizeof(t) - strlen(t), ".%03ld", w.tv_nsec / 1000000);
		printf("%-12s %7d %s %s %s %-7s %8s %8s %8s %s %s\n", t, e->pid,
		       text_cell(e->comm, 16), text_cell(cgroup, 20), text_cell(e->heap, 20), e->backend,
		       format_size(e->requested, a, sizeof(a)),
		       e->known ? format_size(e->usage, b, sizeof(b)) : "-",
		       e->known ? format_size(e->limit, c, sizeof(c)) : "-",
		       text_cell(bound ?: "-", 16), ntop ? holders : "-");
	}
	ev->shown++;
	if (fflush(stdout) || ferror(stdout)) {
		ev->err = -(errno ?: EIO);
		fprintf(stderr, "heapstat limit events: cannot write the events: %s\n",
			strerror(-ev->err));
		/* said once: what could not be written is dropped, not tried again at exit */
		__fpurge(stdout);
		clearerr(stdout);
		ev->said = true;
	}
}

/*
 * A refusal: where it bound (bpf-lsm says; dmem and memcg by refusal_bind():
 * the limit leaving the least room over the task's cgroup and its
 * ancestors), then shown unless filtered out. memcg: only when that room is
 * less than was asked (refusal_is_limit()), else the failure is not a limit's.
 */
static void hit(struct events *ev, struct hit *e)
{
	struct holder top[TOP_HOLDERS];
	struct refusal_bound bd = { .cg = HOLD_NONE };
	const char *cgroup, *bound = NULL;
	size_t ntop = 0;
	int err = refusal_model_for(&ev->m, e->ts_ns);

	if (err) {
		ev->err = err;
		return;
	}
	cgroup = path_of(ev, e->cgroup_id);
	if (e->bound_id) {
		bound = path_of(ev, e->bound_id);
	} else if (refusal_bind(&ev->m, e->cgroup_id, cgroup, e->heap, e->requested, e->ce, &bd)) {
		bound = bd.path ? bd.path : path_of(ev, bd.id);
		e->known = true;
		e->usage = bd.usage;
		e->limit = bd.limit;
	}
	if (e->backend_id && !refusal_is_limit(e->backend_id, &bd, e->requested, e->err,
						  e->oom_victim))
		return;
	if (ev->o->cgroup[0] && !hold_in_cgroup(cgroup, ev->o->cgroup) &&
	    !(bound && hold_in_cgroup(bound, ev->o->cgroup)))
		return;
	ntop = top_holders(ev, bound ? bound : cgroup, e->heap, top);
	print_hit(ev, e, cgroup, bound, top, ntop);
}

static int on_lsm(const struct limit_event *le, void *ctx)
{
	struct events *ev = ctx;
	struct hit e = {
		.ts_ns = le->ts_ns, .backend = "bpf-lsm", .pid = le->tgid, .tid = le->pid,
		.cgroup_id = le->cgroup_id, .bound_id = le->bound_cgroup_id,
		.requested = le->requested, .known = le->when != LIMIT_NO_CELL,
		.usage = le->usage, .limit = le->limit,
		.when = le->when == LIMIT_AT_EXPORT ? "export" : le->when == LIMIT_NO_CELL ? "full" :
			"ioctl",
	};

	snprintf(e.comm, sizeof(e.comm), "%.*s", LIMIT_COMM_LEN, le->comm);
	lsm_limit_event_heap(le, e.heap);
	hit(ev, &e);
	return ev->err;
}

/*
 * -f: the bpf-lsm programs pinned now followed, as they come and go: their
 * ring opened once pinned, after the start or the last limit's clear, and
 * again when pinned anew. A ring unpinned (the last limit cleared, its
 * programs detached: nothing more comes to it) is read to its end first;
 * only the refusals of programs pinned and unpinned again between two looks
 * (POLL_MS) are not seen. @said: a failure to open them was said (once,
 * until they open).
 */
static struct lsm_limit *lsm_follow(struct events *ev, struct lsm_limit *lsm, bool *said)
{
	char why[512];
	int err;

	if (lsm && lsm_limit_current(lsm))
		return lsm;
	if (lsm) {
		while (!ev->err && lsm_limit_events(lsm, 0, on_lsm, ev, why, sizeof(why)) > 0)
			;
		lsm_limit_close(lsm);
		lsm = NULL;
	}
	err = lsm_limit_open(&lsm, NULL, 0, why, sizeof(why));
	if (err && err != -ENOENT && !*said)
		fprintf(stderr, "heapstat limit events: bpf-lsm refusals: %s\n", why);
	*said = err && err != -ENOENT;
	return lsm;
}

/* the collector's failed allocations on heaps dmem or memcg charge */
static void on_coll(const struct coll_event *ce, void *ctx)
{
	struct events *ev = ctx;
	struct hit e = {
		.ts_ns = ce->ts_ns, .pid = ce->tgid, .tid = ce->pid, .cgroup_id = ce->cgroup_id,
		.requested = ce->bytes, .err = ce->err, .oom_victim = ce->oom_victim, .ce = ce,
	};

	if (ce->type != EV_HEAP_ALLOC || !ce->err || ev->err)
		return;
	snprintf(e.heap, sizeof(e.heap), "%.*s", COLL_NAME_LEN, ce->name);
	ev->err = refusal_model_for(&ev->m, ce->ts_ns);
	if (ev->err)
		return;
	e.backend_id = refusal_backend_of(&ev->m, e.heap, ce->err, ce->fail_class);
	if (e.backend_id == REFUSAL_NONE)
		return;
	e.backend = refusal_backend_name(e.backend_id);
	snprintf(e.comm, sizeof(e.comm), "%.*s", COLL_COMM_LEN, ce->comm);
	hit(ev, &e);
}

int limit_events(const struct limit_events_opts *o)
{
	struct events ev = { .o = o };
	struct collector *coll = NULL;
	struct lsm_limit *lsm = NULL;
	uint64_t end = o->duration_ms ? now_ns() + o->duration_ms * 1000000ull : 0;
	char why[512];
	bool lsm_said = false;
	int err;

	/* -f: caught from the start, or one sent while the collector loads is lost */
	if (o->follow) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	refusal_model_init(&ev.m);
	err = lsm_limit_open(&lsm, NULL, 0, why, sizeof(why));
	if (err && err != -ENOENT) {
		fprintf(stderr, "heapstat limit events: bpf-lsm refusals: %s\n", why);
		return err == -ESTALE ? EXIT_UNSUPPORTED : 1;
	}
	if (o->follow) {
		err = collector_open(&coll, COLL_ATTACH_AUTO, 0, false, why, sizeof(why));
		if (err) {
			fprintf(stderr, "heapstat limit events: dmem and memcg refusals cannot be "
				"seen: %s\n", why);
			if (!lsm)
				return 1;
			coll = NULL;
		} else {
			collector_on_event(coll, on_coll, &ev, true);
			ev.coll = coll;
		}
	} else if (!lsm) {
		fprintf(stderr, "heapstat limit events: no bpf-lsm limit is set, and the kernel "
			"keeps no record of dmem or memcg refusals: follow them with -f\n");
		return 0;
	}
	if (o->follow)
		ready_notify("heapstat limit events", coll ? "following refusals" :
			     "following bpf-lsm refusals only");
	do {
		if (o->follow)
			lsm = lsm_follow(&ev, lsm, &lsm_said);
		/*
		 * -c without -f: read without taking (a ring gives up its events in
		 * order, and the other cgroups' would be taken with the ones shown);
		 * -f takes them as they come, or the ring would fill and refuse more
		 */
		if (lsm && o->cgroup[0] && !o->follow) {
			uint64_t overrun;

			err = lsm_limit_watch(lsm, on_lsm, &ev, &overrun, why, sizeof(why));
		} else if (lsm) {
			err = lsm_limit_events(lsm, coll || !o->follow ? 0 : POLL_MS, on_lsm, &ev,
					       why, sizeof(why));
		}
		if (lsm) {
			if (err < 0 && !ev.err) {
				fprintf(stderr, "heapstat limit events: %s\n", why);
				ev.err = err;
				ev.said = true;
			}
		}
		if (coll && !ev.err) {
			err = collector_poll(coll, POLL_MS);
			if (err < 0 && err != -EINTR)
				ev.err = err;
		} else if (!lsm && !ev.err) {
			usleep(POLL_MS * 1000);	/* -f: until limits are pinned */
		}
	} while (o->follow && !stop && !ev.err && (!end || now_ns() < end));
	if (lsm && !ev.err) {
		struct lsm_limit_stats st;

		if (!lsm_limit_stats(lsm, &st, why, sizeof(why)) && st.dropped)
			fprintf(stderr, "heapstat limit events: %llu bpf-lsm refusal events were "
				"dropped since the first limit (no room in the ring)\n",
				(unsigned long long)st.dropped);
	}
	if (ev.err && !ev.said)
		heapstat_error(ev.err, "follow the limit events", NULL);
	collector_close(coll);
	lsm_limit_close(lsm);
	refusal_model_free(&ev.m);
	return ev.err ? 1 : 0;
}
