// SPDX-License-Identifier: GPL-2.0
/* The sources and attach methods a command used, in JSON and with -v */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "sources.h"

/*
 * "sources": {"buffers", "holders", "note"?, "charges", "attach",
 * "ioctl_variant", "export_variant", "without": [{"what", "program",
 * "error"}], "untraced": ["cma"]?}; @inv NULL: no
 * inventory was taken ("none"); @h NULL: no model (charges null); @c NULL:
 * nothing traced (null, [])
 */
void sources_json(struct json *j, const struct inventory *inv, const struct holdings *h,
		  struct collector *c)
{
	const char *charges = h ? holdings_charges_source(h) : NULL;

	json_key(j, "sources");
	json_object(j);
	json_kstr(j, "buffers", inv_source_name(inv ? inv->buffers_src : SRC_NONE));
	json_kstr(j, "holders", inv_source_name(inv ? inv->holders_src : SRC_NONE));
	if (inv && inv->note[0])
		json_kstr(j, "note", inv->note);
	json_kstr_or_null(j, "charges", charges);
	json_kstr_or_null(j, "attach", c ? coll_attach_name(collector_attach(c)) : NULL);
	json_kstr_or_null(j, "ioctl_variant", c ? collector_ioctl_variant(c) : NULL);
	json_kstr_or_null(j, "export_variant", c ? collector_export_variant(c) : NULL);
	json_key(j, "without");
	json_array(j);
	for (int f = 0; c && f < COLL_FEATURES; f++) {
		const char *prog;
		int err;

		if (!(prog = collector_refused(c, f, &err)))
			continue;
		json_object(j);
		json_kstr(j, "what", coll_feature_name(f));
		json_kstr(j, "program", prog);
		json_kstr(j, "error", strerror(-err));
		json_end(j);
	}
	json_end(j);
	/* what the kernel has no hook for: counts of it unknown, not 0 */
	json_key(j, "untraced");
	json_array(j);
	if (c && collector_cma_untraced(c))
		json_str(j, "cma");
	json_end(j);
	json_end(j);
}

/* that the kernel refused @f's program, if it did */
void sources_say_refused(const char *who, struct collector *c, enum coll_feature f)
{
	const char *prog;
	int err;

	if ((prog = collector_refused(c, f, &err)))
		fprintf(stderr, "%s: the kernel refused the collector's program %s (%s); "
			"going on without %s (-v shows libbpf's reasons)\n", who, prog,
			strerror(-err), coll_feature_what(f));
}

/*
 * What the collector goes without, always; with -v: "WHO: buffers from X,
 * holders from Y; traced by MODE (IOCTL-HOOKS, EXPORT-HOOK)" (no IOCTL-HOOKS
 * without dma-buf heaps), WHO the command as run: "heapstat report", "heaptop"
 */
void sources_say(const char *who, const struct inventory *inv, struct collector *c)
{
	for (int f = 0; c && f < COLL_FEATURES; f++)
		sources_say_refused(who, c, f);
	if (!heapstat_verbose)
		return;
	fprintf(stderr, "%s: buffers from %s, holders from %s; ", who,
		inv_source_name(inv ? inv->buffers_src : SRC_NONE),
		inv_source_name(inv ? inv->holders_src : SRC_NONE));
	if (c) {
		const char *ioctl = collector_ioctl_variant(c);

		fprintf(stderr, "traced by %s (%s%s%s)\n", coll_attach_name(collector_attach(c)),
			ioctl ? ioctl : "", ioctl ? ", " : "", collector_export_variant(c));
	} else {
		fprintf(stderr, "not traced\n");
	}
	/* a line of its own: the one above is alike whatever the command */
	if (inv && inv->cgroups_src)
		fprintf(stderr, "%s: cgroups named from %s\n", who, inv->cgroups_src);
	if (inv && inv->iters_loaded)
		fprintf(stderr, "%s: iterators loaded by %s\n", who, inv->iters_loaded);
	if (c)
		fprintf(stderr, "%s: collector loaded by %s\n", who, collector_loaded_by(c));
}
