// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of the collector's three objects (bpf/collector.bpf.c):
 * the BTF-typed mode's two (collector_tr, and collector_fs with the ioctl's
 * session) have every program of the whole object but the kprobe mode's,
 * which tools/lib/collector.c leaves out of their skeleton by name
 * (coll_kprobe_only()): a program named so in them would not load, one
 * not named so missing from them would fail to open. And each has few
 * enough programs for a loader (32, with the subprograms).
 */
#include <string.h>
#include <bpf/libbpf.h>

#include "../test.h"
#include "lib/collector.h"
#include "collector.skel.h"
#include "collector_fs.skel.h"
#include "collector_tr.skel.h"

static struct bpf_object *open_bytes(const void *data, size_t size, const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *obj = bpf_object__open_mem(data, size, &opts);

	CHECK(obj, "%s: %s", name, "did not open");
	return obj;
}

static int programs(struct bpf_object *obj)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, obj)
		n++;
	return n;
}

static void btf_typed_objects(void)
{
	size_t sz;
	const void *whole_data = collector_bpf__elf_bytes(&sz);
	struct bpf_object *whole = open_bytes(whole_data, sz, "collector");
	struct bpf_object *tr, *fs;
	const void *data;
	struct bpf_program *p;
	int kprobes = 0;

	data = collector_tr_bpf__elf_bytes(&sz);
	tr = open_bytes(data, sz, "collector_tr");
	data = collector_fs_bpf__elf_bytes(&sz);
	fs = open_bytes(data, sz, "collector_fs");
	if (!whole || !tr || !fs)
		goto out;
	bpf_object__for_each_program(p, whole) {
		const char *name = bpf_program__name(p);
		bool kprobe = !strncmp(bpf_program__section_name(p), "kprobe/", 7) ||
			      !strncmp(bpf_program__section_name(p), "kretprobe/", 10);

		kprobes += kprobe;
		CHECK(coll_kprobe_only(name) == kprobe, "%s: named as a kprobe mode's: %d", name,
		      coll_kprobe_only(name));
		CHECK(!bpf_object__find_program_by_name(tr, name) == kprobe, "%s in collector_tr", name);
		CHECK(!bpf_object__find_program_by_name(fs, name) == kprobe, "%s in collector_fs", name);
	}
	CHECK(kprobes >= 4, "%d kprobe programs", kprobes);
	bpf_object__for_each_program(p, fs)
		CHECK(bpf_object__find_program_by_name(whole, bpf_program__name(p)) ||
		      !strcmp(bpf_program__name(p), "dma_heap_ioctl_session"),
		      "%s: only in collector_fs", bpf_program__name(p));
	CHECK_EQ(programs(fs), programs(tr) + 1);
	/* a loader's 32, less the subprograms (one: cma_bits_word) */
	CHECK(programs(fs) <= 31, "%d programs", programs(fs));
out:
	bpf_object__close(whole);
	bpf_object__close(tr);
	bpf_object__close(fs);
}

int main(void)
{
	RUN(btf_typed_objects);
	return tests_failed ? 1 : 0;
}
