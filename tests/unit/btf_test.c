// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of the probes of the running kernel's BTF (tools/lib/btf.c),
 * which walk /sys/kernel/btf/vmlinux where it lies: every answer against
 * libbpf's own parse of the same BTF, for a sample of its functions and
 * typedefs, every tracepoint's parameters, the attach types' enumerators,
 * and names it does not have.
 */
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../test.h"
#include "lib/btf.h"

static struct btf *ref;

/* libbpf's count of a function-pointer typedef's parameters, -1 when not one */
static int ref_params(int id)
{
	const struct btf_type *t = btf__type_by_id(ref, id);

	t = t ? btf__type_by_id(ref, t->type) : NULL;
	t = t && btf_is_ptr(t) ? btf__type_by_id(ref, t->type) : NULL;
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

static void names_as_libbpf_finds_them(void)
{
	int n = btf__type_cnt(ref), funcs = 0, typedefs = 0, bad = 0;

	/* the walk answers, not the fallback to libbpf's parse */
	CHECK(kernel_btf_walked(), "the kernel's BTF was not walked in place");
	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(ref, id);
		const char *name = btf__name_by_offset(ref, t->name_off);
		int kind = btf_kind(t);

		if (!name || !name[0] || (kind != BTF_KIND_FUNC && kind != BTF_KIND_TYPEDEF))
			continue;
		/* every tracepoint, a sample of the rest (each look-up walks them all) */
		if (strncmp(name, "btf_trace_", 10) && id % 97)
			continue;
		funcs += kind == BTF_KIND_FUNC;
		typedefs += kind == BTF_KIND_TYPEDEF;
		bad += !kernel_has_btf(name, kind);
		/* of the other kind only when libbpf finds one too */
		bad += kernel_has_btf(name, kind == BTF_KIND_FUNC ? BTF_KIND_TYPEDEF : BTF_KIND_FUNC) !=
		       (btf__find_by_name_kind(ref, name, kind == BTF_KIND_FUNC ?
					       BTF_KIND_TYPEDEF : BTF_KIND_FUNC) > 0);
		if (kind == BTF_KIND_TYPEDEF)
			bad += kernel_btf_params(name) !=
			       ref_params(btf__find_by_name_kind(ref, name, BTF_KIND_TYPEDEF));
	}
	CHECK(funcs > 10 && typedefs > 10, "%d functions, %d typedefs sampled", funcs, typedefs);
	CHECK_EQ(bad, 0);
}

static void absent_names_are_absent(void)
{
	CHECK(!kernel_has_btf("heapstat_no_such_function", BTF_KIND_FUNC), "a made-up function");
	CHECK(!kernel_has_btf("btf_trace_heapstat_none", BTF_KIND_TYPEDEF), "a made-up typedef");
	CHECK(!kernel_has_btf("", BTF_KIND_FUNC), "no name");
	CHECK(!kernel_has_btf("task_struct", BTF_KIND_FUNC), "a struct asked as a function");
	CHECK(!kernel_has_btf("task_struct", BTF_KIND_STRUCT), "a kind the probes do not index");
	CHECK_EQ(kernel_btf_params("btf_trace_heapstat_none"), -1);
	CHECK_EQ(kernel_btf_params("u32"), -1);	/* a typedef, not of a function pointer */
}

/* every enumerator of the attach types, as libbpf's parse has it */
static void enumerators_as_libbpf_finds_them(void)
{
	int id = btf__find_by_name_kind(ref, "bpf_attach_type", BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(ref, id) : NULL;
	int n = t ? btf_vlen(t) : 0, bad = 0;

	CHECK(n > 40, "enum bpf_attach_type has %d enumerators", n);
	for (int i = 0; i < n; i++)
		bad += kernel_enumerator("bpf_attach_type",
					 btf__name_by_offset(ref, btf_enum(t)[i].name_off)) !=
		       btf_enum(t)[i].val;
	CHECK_EQ(bad, 0);
	CHECK_EQ(kernel_enumerator("bpf_attach_type", "BPF_TRACE_FENTRY"), BPF_TRACE_FENTRY);
	CHECK_EQ(kernel_enumerator("bpf_attach_type", "BPF_HEAPSTAT_NONE"), -1);
	CHECK_EQ(kernel_enumerator("heapstat_no_such_enum", "BPF_TRACE_FENTRY"), -1);
	CHECK_EQ(kernel_enumerator("bpf_iter_task", "BPF_TRACE_FENTRY"), -1);	/* a function */
}

/* released, then asked again: walked again */
static void release_then_again(void)
{
	bool before = kernel_has_btf("bpf_iter_task", BTF_KIND_FUNC);

	kernel_btf_release();
	CHECK_EQ(kernel_has_btf("bpf_iter_task", BTF_KIND_FUNC), before);
	CHECK_EQ(before, btf__find_by_name_kind(ref, "bpf_iter_task", BTF_KIND_FUNC) > 0);
}

int main(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		test_skip("btf_test", "this kernel has no /sys/kernel/btf/vmlinux");
		return 0;
	}
	ref = btf__load_vmlinux_btf();
	if (libbpf_get_error(ref)) {
		printf("FAIL: btf_test: libbpf cannot parse the kernel's BTF\n");
		return 1;
	}
	RUN(names_as_libbpf_finds_them);
	RUN(absent_names_are_absent);
	RUN(enumerators_as_libbpf_finds_them);
	RUN(release_then_again);
	btf__free(ref);
	return tests_failed ? 1 : 0;
}
