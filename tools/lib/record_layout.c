// SPDX-License-Identifier: GPL-2.0
/*
 * The fields of each record type, in the order written (record_layout.h):
 * docs/record-format.md describes the same table. A field is only ever
 * appended to a type, in a new minor version; readers ignore what follows
 * the fields they know.
 */
#include "record_layout.h"

#define F(kind, type, field)		{ kind, offsetof(struct type, field), 0, 0 }
#define REL(kind, type, field, to)						\
	{ kind, offsetof(struct type, field), offsetof(struct type, to), 0 }
/* appended in minor @minor: a file of an earlier minor's record ends before it */
#define SINCE(minor, kind, type, field)	{ kind, offsetof(struct type, field), 0, minor }
#define SINCE_REL(minor, kind, type, field, to)					\
	{ kind, offsetof(struct type, field), offsetof(struct type, to), minor }

#define LAYOUT(n, ev, ...) {							\
	.name = n,								\
	.event = ev,								\
	.nfields = sizeof((struct rec_field[]){ __VA_ARGS__ }) / sizeof(struct rec_field), \
	.fields = { __VA_ARGS__ },						\
}

const struct rec_layout rec_layouts[REC_TYPES] = {
	[REC_HEADER] = LAYOUT("header", false,
		F(RF_ABSTIME, rec_header, mono_ns),
		F(RF_U64, rec_header, real_ns),
		F(RF_U32, rec_header, page_size),
		F(RF_INLINE_STR, rec_header, kernel),
		F(RF_INLINE_STR, rec_header, host),
		F(RF_INLINE_STR, rec_header, command),
		SINCE(4, RF_U32, rec_header, untraced)),
	[REC_STRING] = LAYOUT("string", false,
		F(RF_U32, rec_string, id),
		F(RF_INLINE_STR, rec_string, s)),
	[REC_PROCESS] = LAYOUT("process", false,
		F(RF_U32, rec_process, pid),
		REL(RF_REL_U32, rec_process, tid, pid),
		F(RF_STR, rec_process, comm),
		F(RF_U64, rec_process, cgroup_id),
		F(RF_STR, rec_process, cgroup)),
	[REC_SNAP_BEGIN] = LAYOUT("snapshot-begin", false,
		F(RF_TIME, rec_snap_begin, ts),
		F(RF_U32, rec_snap_begin, when),
		F(RF_U32, rec_snap_begin, source)),
	[REC_SNAP_BUF] = LAYOUT("snapshot-buffer", false,
		F(RF_U64, rec_snap_buf, ino),
		F(RF_U64, rec_snap_buf, size),
		F(RF_STR, rec_snap_buf, exporter),
		F(RF_STR, rec_snap_buf, name),
		REL(RF_PIDS, rec_snap_buf, holders, nholders)),
	[REC_SNAP_END] = LAYOUT("snapshot-end", false,
		F(RF_TIME, rec_snap_end, ts),
		F(RF_U64, rec_snap_end, buffers),
		F(RF_U64, rec_snap_end, bytes),
		SINCE_REL(3, RF_HEAPS, rec_snap_end, heaps, nheaps)),
	[REC_ALLOC] = LAYOUT("alloc", true,
		F(RF_TIME, rec_alloc, ts),
		F(RF_U32, rec_alloc, pid),
		REL(RF_REL_U32, rec_alloc, tid, pid),
		F(RF_STR, rec_alloc, comm),
		F(RF_U64, rec_alloc, cgroup_id),
		F(RF_STR, rec_alloc, heap),
		F(RF_U64, rec_alloc, requested),
		REL(RF_REL_U64, rec_alloc, allocated, requested),
		F(RF_U64, rec_alloc, latency_ns),
		F(RF_I32, rec_alloc, err),
		F(RF_U64, rec_alloc, ino),
		F(RF_U32, rec_alloc, fail_class),
		F(RF_U32, rec_alloc, stack_id)),
	[REC_EXPORT] = LAYOUT("export", true,
		F(RF_TIME, rec_export, ts),
		F(RF_U32, rec_export, pid),
		F(RF_U64, rec_export, cgroup_id),
		F(RF_STR, rec_export, exporter),
		F(RF_U64, rec_export, ino),
		F(RF_U64, rec_export, size)),
	[REC_RELEASE] = LAYOUT("release", true,
		F(RF_TIME, rec_release, ts),
		F(RF_U64, rec_release, ino),
		F(RF_U64, rec_release, lifetime_ns),
		F(RF_U64, rec_release, cgroup_id)),
	[REC_FD] = LAYOUT("fd", true,
		F(RF_TIME, rec_fd, ts),
		F(RF_U32, rec_fd, pid),
		F(RF_U32, rec_fd, kind),
		F(RF_U64, rec_fd, ino)),
	[REC_CMA] = LAYOUT("cma", true,
		F(RF_TIME, rec_cma, ts),
		F(RF_U32, rec_cma, kind),
		F(RF_STR, rec_cma, area),
		F(RF_U64, rec_cma, pfn),
		F(RF_U64, rec_cma, count),
		F(RF_U64, rec_cma, latency_ns),
		F(RF_I32, rec_cma, result)),
	[REC_LIMIT] = LAYOUT("limit", true,
		F(RF_TIME, rec_limit, ts),
		F(RF_U32, rec_limit, pid),
		F(RF_U64, rec_limit, cgroup_id),
		F(RF_U64, rec_limit, bound_cgroup_id),
		F(RF_STR, rec_limit, heap),
		F(RF_U64, rec_limit, requested),
		F(RF_U64, rec_limit, usage),
		F(RF_U64, rec_limit, limit),
		F(RF_U32, rec_limit, backend),
		SINCE(2, RF_STR, rec_limit, bound_cgroup),
		SINCE(5, RF_U32, rec_limit, tid),
		SINCE(5, RF_U32, rec_limit, when)),
	[REC_DROPS] = LAYOUT("drops", false,
		F(RF_TIME, rec_drops, first_ts),
		F(RF_TIME, rec_drops, last_ts),
		F(RF_U64, rec_drops, count),
		F(RF_U32, rec_drops, source)),
	[REC_STACK] = LAYOUT("stack", false,
		F(RF_U32, rec_stack, id),
		REL(RF_FRAMES, rec_stack, frames, nframes)),
	[REC_CHECKPOINT] = LAYOUT("checkpoint", false,
		F(RF_ABSTIME, rec_checkpoint, ts),
		F(RF_U64, rec_checkpoint, records),
		F(RF_U64, rec_checkpoint, events),
		REL(RF_HEAPS, rec_checkpoint, heaps, nheaps)),
	[REC_END] = LAYOUT("end", false,
		F(RF_TIME, rec_end, ts),
		F(RF_U32, rec_end, how),
		F(RF_I32, rec_end, code),
		F(RF_U64, rec_end, records)),
	[REC_CMA_STATE] = LAYOUT("cma-state", false,
		F(RF_TIME_KEEP, rec_cma_state, ts),
		F(RF_STR, rec_cma_state, area),
		F(RF_U64, rec_cma_state, total_bytes),
		F(RF_U64, rec_cma_state, used_bytes),
		F(RF_U64, rec_cma_state, largest_free_bytes),
		F(RF_U32, rec_cma_state, free_extents),
		F(RF_U32, rec_cma_state, flags)),
};

const char *rec_type_name(unsigned int type)
{
	return type < REC_TYPES && rec_layouts[type].name ? rec_layouts[type].name : "unknown";
}

bool rec_type_is_event(unsigned int type)
{
	return type < REC_TYPES && rec_layouts[type].event;
}
