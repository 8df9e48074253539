// SPDX-License-Identifier: GPL-2.0
/*
 * What the running kernel has, from its BTF: probes that pick attach
 * variants before load. The vmlinux BTF is parsed once per run.
 */
#include <stdlib.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btf.h"

static struct btf *vmlinux;
static bool registered;

static void free_vmlinux(void)
{
	btf__free(vmlinux);
	vmlinux = NULL;
}

/* Done probing: give back the parsed BTF (megabytes) for a long run. */
void kernel_btf_release(void)
{
	free_vmlinux();
}

/* Whether the kernel's BTF has a type of that name and kind (BTF_KIND_FUNC for
 * a function or iterator target bpf_iter_<name>, BTF_KIND_TYPEDEF for a
 * tracepoint's btf_trace_<name>). */
bool kernel_has_btf(const char *name, int kind)
{
	if (!vmlinux) {
		vmlinux = btf__load_vmlinux_btf();
		if (libbpf_get_error(vmlinux)) {
			vmlinux = NULL;
			return false;
		}
		if (!registered)
			atexit(free_vmlinux);
		registered = true;
	}
	return btf__find_by_name_kind(vmlinux, name, kind) > 0;
}

/*
 * The parameters of the function a pointer typedef names (a tracepoint's
 * btf_trace_<name>: its context, then the tracepoint's arguments); -1 when
 * the kernel has no such typedef.
 */
int kernel_btf_params(const char *typedef_name)
{
	const struct btf_type *t;
	int id;

	if (!kernel_has_btf(typedef_name, BTF_KIND_TYPEDEF))
		return -1;
	id = btf__find_by_name_kind(vmlinux, typedef_name, BTF_KIND_TYPEDEF);
	t = btf__type_by_id(vmlinux, id);
	t = t ? btf__type_by_id(vmlinux, t->type) : NULL;
	t = t && btf_is_ptr(t) ? btf__type_by_id(vmlinux, t->type) : NULL;
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}
