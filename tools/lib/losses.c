// SPDX-License-Identifier: GPL-2.0
/* What the collector lost, by cause, in JSON and in words */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "losses.h"

/* "losses": {"ring", "aggregates", "cma_areas", "buffers", "threads", "histograms", "stacks",
 * "skipped"} */
void losses_json(struct json *j, const struct coll_losses *l)
{
	json_key(j, "losses");
	json_object(j);
	json_ku64(j, "ring", l->ring);
	json_ku64(j, "aggregates", l->aggregates);
	json_ku64(j, "cma_areas", l->cma_areas);
	json_ku64(j, "buffers", l->buffers);
	json_ku64(j, "threads", l->threads);
	json_ku64(j, "histograms", l->histograms);
	json_ku64(j, "stacks", l->stacks);
	json_ku64(j, "skipped", l->skipped);
	json_end(j);
}

/*
 * "12 events (ring buffer full: latencies and lifetimes are of the rest);
 * 3 counts not kept (aggregate map full: a cgroup x heap past its first
 * 16384)" and so on, the causes that lost anything; false when none did.
 */
bool losses_text(const struct coll_losses *l, char *buf, size_t len)
{
	static const struct {
		size_t off;
		const char *what;
	} causes[] = {
		{ offsetof(struct coll_losses, ring), "events (ring buffer full: latencies and "
		  "lifetimes are of the rest; counts stay exact)" },
		{ offsetof(struct coll_losses, aggregates), "counts not kept (aggregate map full: "
		  "the cgroup x heap pairs past its entries are not counted)" },
		{ offsetof(struct coll_losses, cma_areas), "CMA counts not kept (CMA area map full)" },
		{ offsetof(struct coll_losses, buffers), "buffers not followed (buffer spill map "
		  "full: their release counts as of a buffer exported before tracing)" },
		{ offsetof(struct coll_losses, threads), "calls not timed (no thread storage)" },
		{ offsetof(struct coll_losses, histograms), "latencies and lifetimes not kept "
		  "(histogram map full)" },
		{ offsetof(struct coll_losses, stacks), "stacks not kept (stack map full)" },
		{ offsetof(struct coll_losses, skipped), "hook calls skipped by the kernel (a "
		  "program preempted on that CPU still running: those allocations and releases "
		  "are not counted)" },
	};
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		unsigned long long v = *(const uint64_t *)((const char *)l + causes[i].off);

		if (v && n < len)
			n += snprintf(buf + n, len - n, "%s%llu %s", n ? "; " : "", v, causes[i].what);
	}
	return n > 0;
}
