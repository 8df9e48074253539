// SPDX-License-Identifier: GPL-2.0
/* The sources and attach methods a command used, in JSON and with -v */
#include <stdio.h>

#include "errors.h"
#include "sources.h"

/*
 * "sources": {"buffers", "holders", "note"?, "attach", "export_variant"};
 * @inv NULL: no inventory was taken ("none"); @c NULL: nothing traced (null)
 */
void sources_json(struct json *j, const struct inventory *inv, struct collector *c)
{
	json_key(j, "sources");
	json_object(j);
	json_kstr(j, "buffers", inv_source_name(inv ? inv->buffers_src : SRC_NONE));
	json_kstr(j, "holders", inv_source_name(inv ? inv->holders_src : SRC_NONE));
	if (inv && inv->buffers_note)
		json_kstr(j, "note", inv->buffers_note);
	json_key(j, "attach");
	if (c)
		json_str(j, coll_attach_name(collector_attach(c)));
	else
		json_null(j);
	json_key(j, "export_variant");
	if (c)
		json_str(j, collector_export_variant(c));
	else
		json_null(j);
	json_end(j);
}

/* with -v: "heapstat CMD: buffers from X, holders from Y; traced by MODE (HOOK)" */
void sources_say(const char *cmd, const struct inventory *inv, struct collector *c)
{
	if (!heapstat_verbose)
		return;
	fprintf(stderr, "heapstat %s: buffers from %s, holders from %s; ", cmd,
		inv_source_name(inv ? inv->buffers_src : SRC_NONE),
		inv_source_name(inv ? inv->holders_src : SRC_NONE));
	if (c)
		fprintf(stderr, "traced by %s (%s)\n", coll_attach_name(collector_attach(c)),
			collector_export_variant(c));
	else
		fprintf(stderr, "not traced\n");
}
