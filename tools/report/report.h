/* SPDX-License-Identifier: GPL-2.0 */
/* heapstat report: its options, and the model the two outputs print. */
#ifndef HEAPSTAT_REPORT_H
#define HEAPSTAT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/cma.h"
#include "lib/collector.h"
#include "lib/holdings.h"
#include "lib/inventory.h"
#include "lib/refusal.h"

enum report_view { V_SUMMARY, V_HEAPS, V_CGROUPS, V_PROCESSES, V_BUFFERS, V_CMA, V_ACTIVITY };

struct report_opts {
	enum report_view view;
	bool json, csv;
	struct hold_filter flt;
	uint64_t duration_ms;
	bool procfs_only;
	enum coll_attach attach;
	bool attach_given;		/* --attach: it goes with --duration */
};

struct report {
	const struct report_opts *opts;
	struct inventory inv;
	struct holdings h;
	struct cma_area *cma;
	size_t ncma;
	bool cma_unread;		/* none read, though CMA memory is reserved */
	struct collector *coll;		/* with --duration, when the kernel let it trace */
	struct refusal_counter refusals;	/* its memcg refusals, counted */
	struct lsm_since lsm_since;	/* the BPF-LSM's refusals since it began */
	char no_tracing[256];		/* else why not, with --duration */
	double seconds;			/* how long it traced */
	uint64_t now_ns;		/* when the snapshot was taken */
};

void report_text(FILE *out, struct report *rep);
void report_json(FILE *out, struct report *rep);

#endif
