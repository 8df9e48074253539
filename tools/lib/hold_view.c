// SPDX-License-Identifier: GPL-2.0
/* The model's objects in JSON, and the lists tables show (hold_view.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hold_view.h"
#include "text.h"

const char *charger_name(enum hold_charger c)
{
	switch (c) {
	case CHARGER_DMEM: return "dmem";
	case CHARGER_MEMCG: return "memcg";
	case CHARGER_LSM: return "bpf-lsm";
	default: return "none";
	}
}

/* {name, bytes, buffers, device, charged_by} */
void hold_json_heap(struct json *j, const struct hold_heap *hp)
{
	json_object(j);
	json_kstr(j, "name", hp->name);
	json_ku64(j, "bytes", hp->bytes);
	json_ku64(j, "buffers", hp->buffers);
	json_kbool(j, "device", hp->device);
	json_kstr(j, "charged_by", charger_name(hp->charger));
	json_end(j);
}

/* what a cgroup did with a heap while traced, in the caller's object: allocs,
 * alloc_bytes, exports, export_bytes, frees, free_bytes, failures{by class} */
void hold_json_agg_fields(struct json *j, const struct coll_agg *a)
{
	json_ku64(j, "allocs", a->allocs);
	json_ku64(j, "alloc_bytes", a->alloc_bytes);
	json_ku64(j, "exports", a->exports);
	json_ku64(j, "export_bytes", a->export_bytes);
	json_ku64(j, "frees", a->frees);
	json_ku64(j, "free_bytes", a->free_bytes);
	json_key(j, "failures");
	json_object(j);
	for (int c = FAIL_CAPACITY; c < FAIL_CLASSES; c++)
		json_ku64(j, fail_class_name(c), a->failures[c]);
	json_end(j);
}

/*
 * A cgroup x heap row's fields, in an object the caller opened and closes
 * (heaptop adds its rates): cgroup, cgroup_removed, heap, bytes and buffers held,
 * charged_bytes, own_charged_bytes and charged_by, limit_bytes, limit_cgroup
 * and headroom_bytes, limit_hits, allocated (null unless traced).
 */
void hold_json_row_fields(struct json *j, const char *cgroup, bool cgroup_removed,
			  const char *heap, enum hold_charger charger, const struct hold_cell *c,
			  const char *limit_cgroup)
{
	json_kstr(j, "cgroup", cgroup);
	json_kbool(j, "cgroup_removed", cgroup_removed);
	json_kstr(j, "heap", heap);
	json_ku64(j, "bytes", c->bytes);
	json_ku64(j, "buffers", c->buffers);
	json_ku64_or_null(j, "charged_bytes", c->charged_known, c->charged);
	json_ku64_or_null(j, "own_charged_bytes", c->charged_known && charger != CHARGER_MEMCG,
			  c->own_charge);
	json_kstr_or_null(j, "charged_by", c->charged_known ? charger_name(charger) : NULL);
	json_ku64_or_null(j, "limit_bytes", limit_cgroup, c->limit);
	json_kstr_or_null(j, "limit_cgroup", limit_cgroup);
	json_ku64_or_null(j, "headroom_bytes", limit_cgroup, c->headroom);
	json_ku64(j, "limit_hits", c->limit_hits);
	json_key(j, "allocated");
	if (c->traced) {
		json_object(j);
		hold_json_agg_fields(j, &c->agg);
		json_end(j);
	} else {
		json_null(j);
	}
}

/* the same, for row @cell of the model */
void hold_json_cell(struct json *j, const struct holdings *h, size_t cell)
{
	const struct hold_cell *c = &h->cells[cell];

	hold_json_row_fields(j, h->cgs[cell / h->nheaps].path, h->cgs[cell / h->nheaps].removed,
			     h->heaps[cell % h->nheaps].name, h->heaps[cell % h->nheaps].charger, c,
			     c->limit_cg != HOLD_NONE ? h->cgs[c->limit_cg].path : NULL);
}

/* {pid, comm, cgroup, fd_bytes, map_bytes, pss_bytes, buffers} */
void hold_json_process(struct json *j, const struct inv_proc *p)
{
	json_object(j);
	json_ku64(j, "pid", p->pid);
	json_kstr(j, "comm", p->comm);
	json_kstr(j, "cgroup", p->cgroup);
	json_ku64(j, "fd_bytes", p->fd_bytes);
	json_ku64(j, "map_bytes", p->map_bytes);
	json_ku64(j, "pss_bytes", p->pss_bytes);
	json_ku64(j, "buffers", p->buffers);
	json_end(j);
}

/*
 * {inode, heap, name, bytes, attachments, importers, importers_cut,
 * kernel_held, holders: [{pid, fds, map_bytes}], and who exported it, known
 * for buffers exported while tracing: pid, comm, cgroup, charged_cgroup, age_ns}
 */
void hold_json_buffer(struct json *j, const struct holdings *h, size_t buf,
		      struct collector *coll, uint64_t now_ns)
{
	const struct inventory *inv = h->inv;
	const struct inv_buf *b = &inv->bufs[buf];
	struct coll_buf x;
	bool known = coll && collector_export_of(coll, b->ino, &x);

	json_object(j);
	json_ku64(j, "inode", b->ino);
	json_kstr(j, "heap", b->exp_name);
	json_kstr(j, "name", b->name);
	json_ku64(j, "bytes", b->size);
	json_ku64_or_null(j, "attachments", b->attachments_known, b->attachments);
	json_key(j, "importers");
	if (b->attachments_known) {
		json_array(j);
		for (int k = 0; k < b->nimporters; k++)
			json_strn(j, b->importers[k], INV_NAME_LEN);
		json_end(j);
	} else {
		json_null(j);
	}
	/* only the first INV_MAX_IMPORTERS devices are named */
	json_kbool(j, "importers_cut", b->attachments_known && b->attachments > b->nimporters);
	json_kbool(j, "kernel_held", !b->holders && b->attachments_known && !b->attachments);
	json_key(j, "holders");
	json_array(j);
	for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++) {
		const struct inv_hold *hd = &inv->holds[k];

		json_object(j);
		json_ku64(j, "pid", inv->procs[hd->proc].pid);
		json_ku64(j, "fds", hd->fds);
		json_ku64(j, "map_bytes", hd->map_bytes);
		json_end(j);
	}
	json_end(j);
	json_ku64_or_null(j, "pid", known, known ? x.tgid : 0);
	json_key(j, "comm");
	if (known)
		json_strn(j, x.comm, COLL_COMM_LEN);
	else
		json_null(j);
	json_kstr_or_null(j, "cgroup", known ? holdings_cgroup_path(h, x.cgroup_id) : NULL);
	json_kstr_or_null(j, "charged_cgroup", known && x.charged_cgroup_id ?
			  holdings_cgroup_path(h, x.charged_cgroup_id) : NULL);
	json_ku64_or_null(j, "age_ns", known && now_ns > x.born_ns, known ? now_ns - x.born_ns : 0);
	json_end(j);
}

/* append to a list that fits @len, or say how many more did not fit */
struct list {
	char *out;
	size_t len, n;
	unsigned int cut;
};

static void list_add(struct list *l, char sep, const char *item)
{
	size_t need = strlen(item) + 1;

	/* keep room for " +NNNN" */
	if (l->cut || l->n + need + 8 > l->len) {
		l->cut++;
		return;
	}
	l->n += snprintf(l->out + l->n, l->len - l->n, "%s%s", l->n ? (char[2]){ sep, 0 } : "",
			 item);
}

static const char *list_done(struct list *l, const char *none)
{
	if (l->cut)
		snprintf(l->out + l->n, l->len - l->n, " +%u", l->cut);
	else if (!l->n)
		snprintf(l->out, l->len, "%s", none);
	return l->out;
}

/* the pids holding @b: "12,40 +3" when not all fit; "kernel" or "-" for none */
const char *hold_holders(const struct holdings *h, const struct inv_buf *b, char sep,
			 char *out, size_t len)
{
	const struct inventory *inv = h->inv;
	struct list l = { out, len, 0, 0 };

	out[0] = '\0';
	for (size_t k = b->first_hold; k < b->first_hold + b->holders; k++) {
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", inv->procs[inv->holds[k].proc].pid);
		list_add(&l, sep, pid);
	}
	return list_done(&l, b->attachments_known && !b->attachments ? "kernel" : "-");
}

/* the devices attached to @b, terminal-safe: "-" for none or unknown, "+N" for those unnamed */
const char *hold_importers(const struct inv_buf *b, char sep, char *out, size_t len)
{
	struct list l = { out, len, 0, 0 };
	char name[INV_NAME_LEN * 4 + 4];

	out[0] = '\0';
	for (int i = 0; b->attachments_known && i < b->nimporters; i++)
		list_add(&l, sep, text_safe_buf(b->importers[i], INV_NAME_LEN, name, sizeof(name)));
	if (b->attachments_known && b->attachments > b->nimporters)
		l.cut += b->attachments - b->nimporters;
	return list_done(&l, "-");
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/**
 * hold_removed_note() - the note under a table whose rows name removed cgroups
 * @paths: the paths of its rows of cgroups removed while traced, in the
 *	   table's order, a cgroup's once per row it has
 * @n: how many
 * @out: where the note is written, @len bytes
 *
 * Their paths name no cgroup any more (JSON: cgroup_removed): "note: removed
 * while traced: /a, /b and N more", the first HOLD_REMOVED_NAMED cgroups in
 * the table's order named as they fit @len, made safe, the others counted.
 *
 * Return: @out; "" for none (or no memory to count them).
 */
const char *hold_removed_note(const char *const *paths, size_t n, char *out, size_t len)
{
	static const char lead[] = "note: removed while traced: ";
	const char **sorted = malloc((n ?: 1) * sizeof(*sorted));
	const char *named[HOLD_REMOVED_NAMED];
	size_t nnamed = 0, at = 0, distinct = 0;
	char safe[TEXT_MAX * 4 + 4], more[64];

	out[0] = '\0';
	if (!sorted)
		return out;
	memcpy(sorted, paths, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_path);
	for (size_t i = 0; i < n; i++)
		distinct += !i || strcmp(sorted[i - 1], sorted[i]);
	free(sorted);
	for (size_t i = 0; i < n && nnamed < HOLD_REMOVED_NAMED; i++) {
		const char *sep = nnamed ? ", " : lead;
		size_t k = 0, left = distinct - nnamed - 1, keep;

		while (k < nnamed && strcmp(named[k], paths[i]))
			k++;
		if (k < nnamed)
			continue;
		text_safe_buf(paths[i], SIZE_MAX, safe, sizeof(safe));
		/* room kept for " and N more" while others are left, and the NUL */
		keep = 1 + (left ? (size_t)snprintf(NULL, 0, " and %zu more", left) : 0);
		if (at + strlen(sep) + strlen(safe) + keep > len)
			break;
		at += snprintf(out + at, len - at, "%s%s", sep, safe);
		named[nnamed++] = paths[i];
	}
	snprintf(more, sizeof(more), "%s%zu more", nnamed ? " and " : lead, distinct - nnamed);
	if (distinct > nnamed && at + strlen(more) < len)
		memcpy(out + at, more, strlen(more) + 1);
	return out;
}
