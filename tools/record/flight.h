/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat record --flight N: the last N events kept in memory (copies of
 * their records, strings included), written out as an ordinary recording
 * when something goes wrong: the process (and stack) records they need,
 * the events, then what the recorder adds (a snapshot of the live buffers
 * of the moment), and an end record.
 *
 * The records of one collector event (an allocation, its limit record) are
 * staged together and kept with flight_commit(), so that a file written for
 * a trigger holds the N events before it and all of the trigger's own. The
 * file is written once the rings are drained (flight_hold() until then: the
 * events after the trigger are staged behind its own), so that the releases
 * that came before its snapshot's walk ended can follow that snapshot.
 */
#ifndef HEAPSTAT_RECORD_FLIGHT_H
#define HEAPSTAT_RECORD_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hindex.h"
#include "lib/record.h"

/* a process or stack record the events kept may need, and when it was defined last */
struct flight_def {
	struct rec r;
	uint64_t seq;
};

struct flight {
	struct rec *ring;		/* cap events, the oldest at head once full */
	size_t cap, n, head;
	struct rec *staged;		/* the current event's records */
	size_t nstaged, stagedcap;
	size_t held;			/* flight_hold(): the first held records of staged are
					 * the trigger's, the rest came after it */
	bool holding;
	uint32_t untraced;		/* its files' header's: set by the caller */
	struct flight_def *defs;	/* process records (one per task and cgroup), stacks */
	size_t ndefs, defscap;
	struct hindex def_ix;		/* defs by what they define */
	uint64_t def_seq;		/* defined so far */
	size_t pruned_at;		/* ndefs after the last prune */
	uint64_t last_write_ns;		/* rate limit: one file (or failure) a second; 0: none */
	uint64_t suppressed;		/* triggers within that second */
	uint64_t files;
};

int flight_init(struct flight *f, size_t n);
/* keep a copy of x: an event is staged, a process or stack record kept as a definition */
int flight_add(struct flight *f, const struct rec *x);
/* the staged records go into the ring, the oldest out */
void flight_commit(struct flight *f);
/* a file may be written now: none was within the last second */
bool flight_due(const struct flight *f);
/* the staged records are a trigger's, for the next flight_write(); those staged after them
 * are not in its events, until flight_commit() */
void flight_hold(struct flight *f);
/* extra()'s: the releases staged after the held records, up to @until_ns, into w */
int flight_write_releases(const struct flight *f, struct rec_writer *w, uint64_t until_ns);
/*
 * Write dir/heapstat-<UTC time>-<reason>.hsrec (its name in path): header,
 * definitions, the ring's events, the staged ones (held ones, if held), then extra()'s records,
 * and the end. At most one a second: 0 and nothing written (counted in
 * suppressed) within a second of the end of the last. 1 when written,
 * *events the events in it, or a negative errno (why: what failed; a file
 * begun is removed).
 */
int flight_write(struct flight *f, const char *dir, const char *reason, const char *command,
		 int (*extra)(struct rec_writer *w, void *ctx), void *ctx, char *path,
		 size_t path_len, uint64_t *events);
void flight_free(struct flight *f);

#endif
