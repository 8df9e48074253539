/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The model's objects as every command shows them: one JSON shape for a
 * heap, a cgroup x heap row, a process and a buffer, whichever command
 * writes it, and the lists a table cell holds (holders, importers).
 */
#ifndef HEAPSTAT_HOLD_VIEW_H
#define HEAPSTAT_HOLD_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "holdings.h"
#include "json.h"

#define HOLD_LIST_MAX	256	/* a table's list of holders or importers; longer ones say "+N" */
#define HOLD_REMOVED_NAMED 8	/* cgroups a note of removed ones names; the rest are counted */

const char *charger_name(enum hold_charger c);

void hold_json_heap(struct json *j, const struct hold_heap *hp);
void hold_json_agg_fields(struct json *j, const struct coll_agg *a);
void hold_json_row_fields(struct json *j, const char *cgroup, bool cgroup_removed,
			  const char *heap, enum hold_charger charger, const struct hold_cell *c,
			  const char *limit_cgroup);
void hold_json_cell(struct json *j, const struct holdings *h, size_t cell);
void hold_json_process(struct json *j, const struct inv_proc *p);
void hold_json_buffer(struct json *j, const struct holdings *h, size_t buf,
		      struct collector *coll, uint64_t now_ns);

const char *hold_holders(const struct holdings *h, const struct inv_buf *b, char sep,
			 char *out, size_t len);
const char *hold_importers(const struct inv_buf *b, char sep, char *out, size_t len);
const char *hold_removed_note(const char *const *paths, size_t n, char *out, size_t len);

#endif
