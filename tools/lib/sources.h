/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a command read its numbers from (the inventory's sources) and how it
 * traced (the collector's attach mode and export hook), said the same way by
 * every command: a "sources" object in JSON, a line on stderr with -v.
 */
#ifndef HEAPSTAT_SOURCES_LIB_H
#define HEAPSTAT_SOURCES_LIB_H

#include "collector.h"
#include "holdings.h"
#include "inventory.h"
#include "json.h"

void sources_json(struct json *j, const struct inventory *inv, const struct holdings *h,
		  struct collector *c);
void sources_say(const char *who, const struct inventory *inv, struct collector *c);
void sources_say_refused(const char *who, struct collector *c, enum coll_feature f);

#endif
