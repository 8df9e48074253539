// SPDX-License-Identifier: GPL-2.0
/*
 * Print a recording's records as JSON lines, for the tests' assertions on
 * what heapstat record wrote (heapstat analyze shows a model of it, this
 * the records themselves):
 *
 *   rec_dump FILE        {"type":"alloc","pid":...} one a line, every field
 *                        of the record kinds the tests look at, and a last
 *                        line {"type":"eof","truncated":false}
 *
 * Exits 0, or 2 when FILE is not a recording.
 */
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/record.h"

static void dump(struct json *j, const struct rec *x)
{
	json_kstr(j, "type", rec_type_name(x->type));
	switch (x->type) {
	case REC_PROCESS:
		json_ku64(j, "pid", x->process.pid);
		json_ku64(j, "tid", x->process.tid);
		json_kstr(j, "comm", x->process.comm);
		json_ku64(j, "cgroup_id", x->process.cgroup_id);
		json_kstr(j, "cgroup", x->process.cgroup);
		break;
	case REC_SNAP_BEGIN:
		json_ku64(j, "when", x->snap_begin.when);
		break;
	case REC_SNAP_END:
		json_ku64(j, "buffers", x->snap_end.buffers);
		json_ku64(j, "bytes", x->snap_end.bytes);
		break;
	case REC_ALLOC:
		json_ku64(j, "ts", x->alloc.ts);
		json_ku64(j, "pid", x->alloc.pid);
		json_kstr(j, "heap", x->alloc.heap);
		json_ku64(j, "cgroup_id", x->alloc.cgroup_id);
		json_ku64(j, "requested", x->alloc.requested);
		json_key(j, "err");
		json_i64(j, x->alloc.err);
		json_ku64(j, "fail_class", x->alloc.fail_class);
		json_ku64(j, "ino", x->alloc.ino);
		break;
	case REC_RELEASE:
		json_ku64(j, "ino", x->release.ino);
		break;
	case REC_FD:
		json_ku64(j, "pid", x->fd.pid);
		json_ku64(j, "kind", x->fd.kind);
		json_ku64(j, "ino", x->fd.ino);
		break;
	case REC_LIMIT:
		json_ku64(j, "ts", x->limit.ts);
		json_ku64(j, "pid", x->limit.pid);
		json_ku64(j, "cgroup_id", x->limit.cgroup_id);
		json_ku64(j, "bound_cgroup_id", x->limit.bound_cgroup_id);
		json_kstr(j, "bound_cgroup", x->limit.bound_cgroup);
		json_kstr(j, "heap", x->limit.heap);
		json_ku64(j, "requested", x->limit.requested);
		json_ku64(j, "usage", x->limit.usage);
		json_ku64(j, "limit", x->limit.limit);
		json_ku64(j, "tid", x->limit.tid);
		json_ku64(j, "when", x->limit.when);
		json_ku64(j, "backend", x->limit.backend);
		break;
	case REC_DROPS:
		json_ku64(j, "count", x->drops.count);
		json_ku64(j, "source", x->drops.source);
		break;
	case REC_END:
		json_ku64(j, "how", x->end.how);
		json_key(j, "code");
		json_i64(j, x->end.code);
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	struct rec_reader *r;
	struct json j;
	struct rec x;
	char why[512];
	uint64_t off;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: rec_dump FILE\n");
		return 2;
	}
	if (rec_reader_open(&r, argv[1], why, sizeof(why))) {
		fprintf(stderr, "rec_dump: %s\n", why);
		return 2;
	}
	while ((rc = rec_next(r, &x)) > 0) {
		json_init(&j, stdout);
		json_object(&j);
		dump(&j, &x);
		json_end(&j);
	}
	json_init(&j, stdout);
	json_object(&j);
	json_kstr(&j, "type", "eof");
	json_kbool(&j, "truncated", rc < 0 || rec_reader_truncated(r, &off));
	json_end(&j);
	rec_reader_close(r);
	return 0;
}
