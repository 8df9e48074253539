/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat analyze --perfetto: the analysis (analysis.h) as a Perfetto trace
 * (protobuf, perfetto_trace.proto), for ui.perfetto.dev and trace_processor.
 */
#ifndef HEAPSTAT_PERFETTO_H
#define HEAPSTAT_PERFETTO_H

#include <stddef.h>

#include "analysis.h"

/*
 * Write @a's trace to @path (created or truncated). 0, or -errno with why in
 * @why; a file left half-written is removed.
 */
int perfetto_write(const struct analysis *a, const char *path, char *why, size_t why_len);

#endif
