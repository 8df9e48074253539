/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat record --stacks: the stacks the collector took of each
 * allocation, symbolized as the events arrive (the process may exit soon
 * after) and written once each as a stack record (docs/record-format.md).
 * User frames through /proc/PID/maps to the mapped ELF file, its symbols
 * (.symtab, else .dynsym) and GNU build id (libelf); kernel frames through
 * /proc/kallsyms.
 */
#ifndef HEAPSTAT_RECORD_STACKS_H
#define HEAPSTAT_RECORD_STACKS_H

#include <stdint.h>

#include "lib/collector.h"
#include "lib/record.h"

struct stacks;

int stacks_new(struct stacks **out, const char *proc);
/*
 * The id of the stack of allocation @e (0: it has none), handed first to
 * @emit as a stack record when it is new (the recording's writer, or the
 * flight recorder's ring). 0 or -errno (of @emit).
 */
int stacks_of(struct stacks *s, struct collector *c,
	      int (*emit)(const struct rec *x, void *ctx), void *ctx,
	      const struct coll_event *e, uint32_t *id);
void stacks_free(struct stacks *s);

#endif
