// SPDX-License-Identifier: GPL-2.0
/*
 * --fail-on's checks (checks.h): leaks (any buffer allocated while recorded
 * and alive at the end), failures (any failed allocation), peak:HEAP>SIZE
 * (the heap's peak over all cgroups), p99:HEAP>TIME (the 99th percentile of
 * the heap's successful allocations' latency; TIME in ms unless it says ns,
 * us, ms or s).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"
#include "lib/util.h"
#include "checks.h"

/* "5", "0.5ms", "200us", "1s", "750000ns": ns */
static int parse_time(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; double ns; } units[] = {
		{ "", 1e6 }, { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1 }, { "s", 1e9 },
	};
	const char *end;
	size_t n = strspn(s, "0123456789");
	double v;

	/* decimal, as the help says: not strtod()'s hex, exponents, inf or nan */
	if (!n)
		return -EINVAL;
	end = s + n;
	if (*end == '.') {
		n = strspn(end + 1, "0123456789");
		if (!n)
			return -EINVAL;
		end += 1 + n;
	}
	v = strtod(s, NULL);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			v *= units[i].ns;
			if (v >= 1.8e19 || (v > 0 && v < 1))	/* past u64, or below a ns */
				return -ERANGE;
			*ns = (uint64_t)v;
			return 0;
		}
	return -EINVAL;
}

int checks_parse(struct checks *c, const char *arg, char *why, size_t why_len)
{
	char *copy = strdup(arg), *rest = copy, *t;
	size_t named = 0;

	if (!copy)
		return -ENOMEM;
	while ((t = strsep(&rest, ","))) {
		struct check *k = &c->v[c->n];
		char *gt = strchr(t, '>');
		bool again = false;
		int err = 0;

		if (!*t)	/* ",": said as no check below */
			continue;
		named++;
		for (int i = 0; i < c->n && !again; i++)
			again = !strcmp(c->v[i].name, t);
		if (again)	/* once is enough: judged and told once */
			continue;

		if (c->n == MAX_CHECKS) {
			snprintf(why, why_len, "at most %d checks", MAX_CHECKS);
			free(copy);
			return -EINVAL;
		}
		memset(k, 0, sizeof(*k));
		if (!strcmp(t, "leaks")) {
			k->kind = CHECK_LEAKS;
		} else if (!strcmp(t, "failures")) {
			k->kind = CHECK_FAILURES;
		} else if (!strncmp(t, "peak:", 5) && gt && gt > t + 5) {
			k->kind = CHECK_PEAK;
			err = parse_size(gt + 1, &k->limit);
		} else if (!strncmp(t, "p99:", 4) && gt && gt > t + 4) {
			k->kind = CHECK_P99;
			err = parse_time(gt + 1, &k->limit);
		} else {
			err = -EINVAL;
		}
		if (!err && (k->kind == CHECK_PEAK || k->kind == CHECK_P99)) {
			char *heap = strchr(t, ':') + 1;

			if ((size_t)(gt - heap) >= sizeof(k->heap))
				err = -ENAMETOOLONG;
			else
				snprintf(k->heap, sizeof(k->heap), "%.*s", (int)(gt - heap), heap);
		}
		if (err && err != -ENAMETOOLONG && (k->kind == CHECK_PEAK || k->kind == CHECK_P99)) {
			/* the check is known: what is wrong is its threshold */
			snprintf(why, why_len, "'%s': %s '%s' %s", text_safe(t),
				 k->kind == CHECK_PEAK ? "the size" : "the time", text_safe(gt + 1),
				 err != -ERANGE ? (k->kind == CHECK_PEAK ?
				 "is not bytes with an optional K, M or G suffix (powers of 1024; "
				 "not KB or MB)" : "is not a time: a number in ms, or with ns, us, ms "
				 "or s") : k->kind == CHECK_PEAK ? "is too large" :
				 "is below a nanosecond or too large");
			free(copy);
			return -EINVAL;
		}
		if (err || strlen(t) >= sizeof(k->name)) {
			snprintf(why, why_len, "'%s' is not a check: give leaks, failures, "
				 "peak:HEAP>SIZE or p99:HEAP>TIME (5ms, 200us)", text_safe(t));
			free(copy);
			return -EINVAL;
		}
		snprintf(k->name, sizeof(k->name), "%s", t);
		c->n++;
	}
	free(copy);
	if (!named) {
		snprintf(why, why_len, "'%s' names no check: give leaks, failures, "
			 "peak:HEAP>SIZE or p99:HEAP>TIME", text_safe(arg));
		return -EINVAL;
	}
	return 0;
}

/*
 * A heap the recording does not name, not even in its snapshots' list of the
 * system's heaps, is a typo or another machine's: a check of it could never
 * fail, so it is refused rather than passed.
 */
int checks_heaps_named(const struct checks *c, const struct analysis *a, char *why,
		       size_t why_len)
{
	for (int i = 0; i < c->n; i++) {
		const struct check *k = &c->v[i];
		size_t o;

		if ((k->kind != CHECK_PEAK && k->kind != CHECK_P99) || an_heap_named(a, k->heap))
			continue;
		o = (size_t)snprintf(why, why_len, "--fail-on %s: %s has no heap '%s' (",
				     text_safe(k->name), text_safe(a->file), text_safe(k->heap));
		for (size_t h = 0; h < a->nheaps && o < why_len; h++)
			o += (size_t)snprintf(why + o, why_len - o, "%s%s", h ? ", " : "its heaps: ",
					      text_safe(a->heaps[h]));
		if (o < why_len)
			snprintf(why + o, why_len - o, "%s)", a->nheaps ? "" : "it names none");
		return -ENOENT;
	}
	return 0;
}

/* a growing text: the detail of a check */
struct text {
	char *s;
	size_t len, cap;
	int err;
	bool cut;
};

/* what a check's detail may take (a CI's page shows less): a stack for each
 * of a recording's failures is what could pass it */
#define DETAIL_MAX	(16u << 20)

/* room for @n bytes more and a NUL */
static bool room(struct text *t, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *s = realloc(t->s, cap);

		if (!s) {
			t->err = -ENOMEM;
			return false;
		}
		t->s = s;
		t->cap = cap;
	}
	return true;
}

__attribute__((format(printf, 2, 3)))
static void add(struct text *t, const char *fmt, ...)
{
	static const char cut[] = "(the rest left out: the detail passes 16 MiB)\n";
	va_list ap;
	int n;

	if (t->err || t->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + n > DETAIL_MAX) {
		t->cut = true;
		if (room(t, sizeof(cut)))
			t->len += sprintf(t->s + t->len, "%s", cut);
		return;
	}
	if (!room(t, n))
		return;
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, n + 1, fmt, ap);
	va_end(ap);
	t->len += n;
}

/*
 * @v and @limit, as @fmt rounds them, in @s1 and @s2 (@len bytes each); in
 * @unit exactly when they round alike but differ ("4194304 bytes over
 * 4194303 bytes", not "4.0M over 4.0M")
 */
static void said_apart(uint64_t v, uint64_t limit, const char *(*fmt)(uint64_t, char *, size_t),
		       const char *unit, char *s1, char *s2, size_t len)
{
	fmt(v, s1, len);
	fmt(limit, s2, len);
	if (!strcmp(s1, s2) && v != limit) {
		snprintf(s1, len, "%llu%s", (unsigned long long)v, unit);
		snprintf(s2, len, "%llu%s", (unsigned long long)limit, unit);
	}
}

/* a stack's frames, indented under what they are the stack of */
static void stack_detail(struct text *t, const struct analysis *a, uint32_t id)
{
	size_t n;
	const char *const *f = an_stack(a, id, &n);

	for (size_t i = 0; i < n; i++)
		add(t, "    %s\n", text_safe(f[i]));
}

static void leaks_detail(struct text *t, const struct analysis *a)
{
	char s1[16], s2[16], who[64];

	for (size_t i = 0; i < a->nleaks; i++) {
		const struct an_buffer *b = a->leaks[i];

		add(t, "inode %llu: %s %s by pid %u (%s) in %s at %s, %s%s\n",
		    (unsigned long long)b->ino, text_safe(b->heap), format_size(b->size, s1, sizeof(s1)),
		    b->pid, text_safe(b->comm), text_safe(an_cgroup_path(a, b->cgroup_id)),
		    format_ns(an_rel(a, b->ts), s2, sizeof(s2)),
		    b->in_final ? "held at the end by " : "", an_held_by(b, who, sizeof(who)));
		stack_detail(t, a, b->stack_id);
	}
}

static void failures_detail(struct text *t, const struct analysis *a)
{
	char s1[16], s2[16];

	for (size_t i = 0; i < a->nallocs; i++) {
		const struct an_alloc *x = &a->allocs[i];

		if (!x->err)
			continue;
		add(t, "%s %s by pid %u (%s) in %s at %s: %s (%s)\n", text_safe(x->heap),
		    format_size(x->requested, s1, sizeof(s1)), x->pid, text_safe(x->comm),
		    text_safe(an_cgroup_path(a, x->cgroup_id)), format_ns(an_rel(a, x->ts), s2, sizeof(s2)),
		    an_error_text(x->err), fail_class_name(x->fail_class));
		stack_detail(t, a, x->stack_id);
	}
	for (size_t i = 0; i < a->nlimits; i++) {
		const struct rec_limit *l = &a->limits[i];

		if (!a->in_ioctl[i])
			continue;
		add(t, "%s %s by pid %u in %s at %s: refused by %s's bpf-lsm limit in the ioctl "
		    "(limit)\n", text_safe(l->heap), format_size(l->requested, s1, sizeof(s1)),
		    l->pid, text_safe(an_cgroup_path(a, l->cgroup_id)),
		    format_ns(an_rel(a, l->ts), s2, sizeof(s2)), text_safe(an_limit_cgroup(a, l) ?: "?"));
	}
}

static int peak_detail(struct text *t, const struct analysis *a, const char *heap)
{
	struct an_holding *h;
	uint64_t at = 0;
	size_t n;
	char s1[16], s2[16];

	for (size_t i = 0; i < a->nuse; i++)
		if (!a->use[i].cgroup_id && !strcmp(a->use[i].heap, heap))
			at = a->use[i].peak_ts;
	add(t, "peak %s at %s\n", format_size(an_heap_peak(a, heap), s1, sizeof(s1)),
	    format_ns(an_rel(a, at), s2, sizeof(s2)));
	if (an_held_at(a, heap, 0, at, &h, &n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		add(t, "alive then, allocated by pid %u (%s) in %s: %s in %llu buffer%s\n",
		    h[i].pid, text_safe(h[i].comm), text_safe(an_cgroup_path(a, h[i].cgroup_id)),
		    format_size(h[i].bytes, s1, sizeof(s1)), (unsigned long long)h[i].buffers,
		    h[i].buffers == 1 ? "" : "s");
	free(h);
	return 0;
}

static void latency_detail(struct text *t, const struct an_dist *d)
{
	char p50[16], p90[16], p99[16], max[16];

	if (!d || !d->n) {
		add(t, "no successful allocation\n");
		return;
	}
	add(t, "%zu allocation%s: p50 %s, p90 %s, p99 %s, max %s\n", d->n, d->n == 1 ? "" : "s",
	    format_ns(an_percentile(d, 50), p50, sizeof(p50)),
	    format_ns(an_percentile(d, 90), p90, sizeof(p90)),
	    format_ns(an_percentile(d, 99), p99, sizeof(p99)),
	    format_ns(d->v[d->n - 1], max, sizeof(max)));
}

static int judge(struct check *k, const struct analysis *a)
{
	struct text t = {};
	const struct an_dist *d;
	uint64_t v;
	char s1[32], s2[32];

	switch (k->kind) {
	case CHECK_LEAKS:
		k->failed = a->nleaks > 0;
		snprintf(k->summary, sizeof(k->summary), "leaks: %zu buffer%s, %s", a->nleaks,
			 a->nleaks == 1 ? "" : "s", format_size(a->leaked_bytes, s1, sizeof(s1)));
		leaks_detail(&t, a);
		break;
	case CHECK_FAILURES:
		v = a->failed + a->ioctl_refusals;
		k->failed = v > 0;
		snprintf(k->summary, sizeof(k->summary), "failures: %llu failed allocation%s",
			 (unsigned long long)v, v == 1 ? "" : "s");
		if (a->ioctl_refusals)
			snprintf(k->summary + strlen(k->summary), sizeof(k->summary) -
				 strlen(k->summary), " (%llu refused by a bpf-lsm limit in the ioctl)",
				 (unsigned long long)a->ioctl_refusals);
		failures_detail(&t, a);
		break;
	case CHECK_PEAK:
		v = an_heap_peak(a, k->heap);
		k->failed = v > k->limit;
		said_apart(v, k->limit, format_size, " bytes", s1, s2, sizeof(s1));
		snprintf(k->summary, sizeof(k->summary), "peak:%s: %s %s %s", text_safe(k->heap),
			 s1, k->failed ? "over" : "within", s2);
		if (peak_detail(&t, a, k->heap))
			t.err = -ENOMEM;
		break;
	case CHECK_P99:
		d = an_latency(a, k->heap);
		v = an_percentile(d, 99);
		k->failed = v > k->limit;
		said_apart(v, k->limit, format_ns, "ns", s1, s2, sizeof(s1));
		snprintf(k->summary, sizeof(k->summary), "p99:%s: %s %s %s", text_safe(k->heap),
			 s1, k->failed ? "over" : "within", s2);
		latency_detail(&t, d);
		break;
	}
	if (t.err) {
		free(t.s);
		return t.err;
	}
	free(k->detail);
	k->detail = t.s ? t.s : strdup("");
	return k->detail ? 0 : -ENOMEM;
}

int checks_judge(struct checks *c, const struct analysis *a)
{
	int failed = 0, err;

	for (int i = 0; i < c->n; i++) {
		err = judge(&c->v[i], a);
		if (err)
			return err;
		failed += c->v[i].failed;
	}
	return failed;
}

void checks_free(struct checks *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->v[i].detail);
		c->v[i].detail = NULL;
	}
}
