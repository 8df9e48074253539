/* SPDX-License-Identifier: GPL-2.0 */
/* heapstat limit: the commands (limit.c) and its events (events.c) */
#ifndef HEAPSTAT_LIMIT_CMD_H
#define HEAPSTAT_LIMIT_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/inventory.h"

struct limit_events_opts {
	bool json;			/* JSON lines */
	bool follow;			/* -f: until interrupted or duration_ms */
	uint64_t duration_ms;		/* 0: no end */
	char cgroup[CGROUP_PATH_MAX];	/* "": all; else events in or bound by it */
};

int limit_events(const struct limit_events_opts *o);

#endif
