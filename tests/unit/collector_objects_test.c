// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of the collector's three objects (bpf/collector.bpf.c):
 * the BTF-typed mode's two (collector_tr, and collector_fs with the ioctl's
 * session) have every program of the whole object but the kprobe mode's,
 * which tools/lib/collector.c leaves out of their skeleton by name
 * (coll_kprobe_only()): a program named so in them would not load, one
 * not named so missing from them would fail to open. Their global data is
 * laid out as the whole object's, which the one skeleton reads; and each has
 * few enough functions for a loader (32, the subprograms with the programs).
 */
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
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

/* the functions in @obj's BTF: its programs, subprograms and the kfuncs it calls (never
 * fewer than a loader keeps a descriptor for) */
static int functions(struct bpf_object *obj)
{
	struct btf *btf = bpf_object__btf(obj);
	int n = 0;

	for (__u32 i = 1; btf && i < btf__type_cnt(btf); i++)
		n += btf_is_func(btf__type_by_id(btf, i));
	return n;
}

/* the variables of @obj's data section @sec, "name@offset+size" each, in @out */
static void layout(struct bpf_object *obj, const char *sec, char *out, size_t len)
{
	struct btf *btf = bpf_object__btf(obj);
	int id = btf ? btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC) : -1;
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_var_secinfo *v = t ? btf_var_secinfos(t) : NULL;
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; t && i < btf_vlen(t) && at < len; i++, v++)
		at += snprintf(out + at, len - at, "%s@%u+%u ",
			       btf__name_by_offset(btf, btf__type_by_id(btf, v->type)->name_off),
			       v->offset, v->size);
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
	CHECK(functions(fs) <= 32, "%d functions", functions(fs));
	for (int i = 0; i < 3; i++) {
		static const char *const secs[] = { ".rodata", ".bss", ".data" };
		static char w[4096], t[4096], f[4096];

		layout(whole, secs[i], w, sizeof(w));
		layout(tr, secs[i], t, sizeof(t));
		layout(fs, secs[i], f, sizeof(f));
		CHECK(!strcmp(w, t) && !strcmp(w, f), "%s: %s | %s | %s", secs[i], w, t, f);
		if (i < 2)
			CHECK(w[0], "%s: no variables", secs[i]);
	}
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
