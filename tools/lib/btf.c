// SPDX-License-Identifier: GPL-2.0
/*
 * What the running kernel has, from its BTF: probes that pick attach
 * variants before load. They only look for names, so the vmlinux BTF is not
 * parsed into libbpf's struct btf here (libbpf parses it again to load the
 * collector, and a parse cost about 25 ms of guest time under -icount): its
 * types are walked once where they lie, mapped where the kernel lets
 * /sys/kernel/btf/vmlinux be mapped, else read, keeping where each starts
 * and which are functions and typedefs. A BTF this walk does not know (a
 * newer kind) is left to libbpf, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include "btf.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static struct kbtf {
	void *data;
	size_t size;
	bool mapped;
	const char *strs;
	uint32_t str_len;
	const struct btf_type **types;	/* by id; [0] unused */
	uint32_t ntypes;
	uint32_t *funcs, nfuncs;	/* ids of BTF_KIND_FUNC */
	uint32_t *typedefs, ntypedefs;	/* ids of BTF_KIND_TYPEDEF */
} kb;
static struct btf *vmlinux;	/* libbpf's parse, when the walk could not be made */
static bool tried, registered;

static void kbtf_free(void)
{
	if (kb.mapped)
		munmap(kb.data, kb.size);
	else
		free(kb.data);
	free(kb.types);
	free(kb.funcs);
	free(kb.typedefs);
	memset(&kb, 0, sizeof(kb));
	btf__free(vmlinux);
	vmlinux = NULL;
}

/* Done probing: give back the BTF (megabytes) for a long run. */
void kernel_btf_release(void)
{
	kbtf_free();
	tried = false;
}

/* the bytes a type's record takes after its struct btf_type; SIZE_MAX for an unknown kind */
static size_t extra_len(const struct btf_type *t)
{
	uint32_t vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_DATASEC:
	case BTF_KIND_ENUM64:
		return vlen * 12;
	case BTF_KIND_ENUM:
	case BTF_KIND_FUNC_PROTO:
		return vlen * 8;
	default:
		return SIZE_MAX;
	}
}

static int push_id(uint32_t **v, uint32_t *n, uint32_t id)
{
	if (!(*n & (*n + 1)) || !*v) {	/* 0, 1, 3, 7, ...: grow to twice */
		uint32_t *p = realloc(*v, (size_t)(*n + 1) * 2 * sizeof(**v));

		if (!p)
			return -ENOMEM;
		*v = p;
	}
	(*v)[(*n)++] = id;
	return 0;
}

/* map (or read) the vmlinux BTF and index its types; -errno when it cannot be walked */
static int kbtf_open(void)
{
	const struct btf_header *h;
	const char *p, *end;
	size_t cap = 1 << 16;
	struct stat st;
	int fd, err = 0;

	fd = open(VMLINUX_BTF, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*h)) {
		close(fd);
		return -EINVAL;
	}
	kb.size = st.st_size;
	kb.data = mmap(NULL, kb.size, PROT_READ, MAP_PRIVATE, fd, 0);
	kb.mapped = kb.data != MAP_FAILED;
	if (!kb.mapped) {	/* before 6.16: read it */
		ssize_t n;
		size_t got = 0;

		kb.data = malloc(kb.size);
		while (kb.data && got < kb.size && (n = read(fd, (char *)kb.data + got,
							     kb.size - got)) > 0)
			got += n;
		if (!kb.data || got != kb.size)
			err = kb.data ? -EIO : -ENOMEM;
	}
	close(fd);
	if (err)
		return err;
	h = kb.data;
	if (h->magic != BTF_MAGIC || h->version != BTF_VERSION || h->hdr_len < sizeof(*h) ||
	    (uint64_t)h->hdr_len + h->type_off + h->type_len > kb.size ||
	    (uint64_t)h->hdr_len + h->str_off + h->str_len > kb.size || !h->str_len)
		return -EINVAL;
	kb.strs = (const char *)kb.data + h->hdr_len + h->str_off;
	kb.str_len = h->str_len;
	if (kb.strs[kb.str_len - 1])
		return -EINVAL;
	kb.types = malloc(cap * sizeof(*kb.types));
	if (!kb.types)
		return -ENOMEM;
	kb.ntypes = 1;
	p = (const char *)kb.data + h->hdr_len + h->type_off;
	end = p + h->type_len;
	while (p < end) {
		const struct btf_type *t = (const void *)p;
		size_t extra;

		if ((size_t)(end - p) < sizeof(*t))
			return -EINVAL;
		extra = extra_len(t);
		if (extra == SIZE_MAX || (size_t)(end - p) - sizeof(*t) < extra ||
		    t->name_off >= kb.str_len)
			return -EINVAL;
		if (kb.ntypes == cap) {
			const struct btf_type **v = realloc(kb.types, cap * 2 * sizeof(*v));

			if (!v)
				return -ENOMEM;
			kb.types = v;
			cap *= 2;
		}
		if (BTF_INFO_KIND(t->info) == BTF_KIND_FUNC)
			err = push_id(&kb.funcs, &kb.nfuncs, kb.ntypes);
		else if (BTF_INFO_KIND(t->info) == BTF_KIND_TYPEDEF)
			err = push_id(&kb.typedefs, &kb.ntypedefs, kb.ntypes);
		if (err)
			return err;
		kb.types[kb.ntypes++] = t;
		p += sizeof(*t) + extra;
	}
	return 0;
}

/* the BTF, walked or else parsed by libbpf, on first use; false when there is none */
static bool kbtf_ready(void)
{
	if (!tried) {
		tried = true;
		if (kbtf_open()) {
			kbtf_free();
			vmlinux = btf__load_vmlinux_btf();
			if (libbpf_get_error(vmlinux))
				vmlinux = NULL;
		}
		if (!registered)
			atexit(kbtf_free);
		registered = true;
	}
	return kb.ntypes || vmlinux;
}

/* the id of the type of that name and kind (FUNC or TYPEDEF), 0 when none */
static uint32_t kbtf_find(const char *name, int kind)
{
	const uint32_t *ids = kind == BTF_KIND_FUNC ? kb.funcs : kb.typedefs;
	uint32_t n = kind == BTF_KIND_FUNC ? kb.nfuncs : kb.ntypedefs;

	if (kind != BTF_KIND_FUNC && kind != BTF_KIND_TYPEDEF)
		return 0;
	if (vmlinux) {
		int id = btf__find_by_name_kind(vmlinux, name, kind);

		return id > 0 ? id : 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const char *s = kb.strs + kb.types[ids[i]]->name_off;

		if (s[0] == name[0] && !strcmp(s, name))
			return ids[i];
	}
	return 0;
}

static const struct btf_type *kbtf_type(uint32_t id)
{
	if (vmlinux)
		return btf__type_by_id(vmlinux, id);
	return id && id < kb.ntypes ? kb.types[id] : NULL;
}

/* Whether the probes walk the BTF in place (not libbpf's parse): for tests. */
bool kernel_btf_walked(void)
{
	return kbtf_ready() && !vmlinux;
}

/* Whether the kernel's BTF has a type of that name and kind: BTF_KIND_FUNC
 * for a function or iterator target bpf_iter_<name>, BTF_KIND_TYPEDEF for a
 * tracepoint's btf_trace_<name> (no other kind is looked for). */
bool kernel_has_btf(const char *name, int kind)
{
	return kbtf_ready() && kbtf_find(name, kind);
}

/* The value of enumerator @name of the kernel's enum @type, -1 when it has
 * none: an ABI the kernel takes that no function or typedef tells (an attach
 * type, say). Only for values that are not negative. */
long long kernel_enumerator(const char *type, const char *name)
{
	const struct btf_type *t = NULL;
	const struct btf_enum *e;

	if (!kbtf_ready())
		return -1;
	if (vmlinux) {
		int id = btf__find_by_name_kind(vmlinux, type, BTF_KIND_ENUM);

		t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	}
	for (uint32_t id = 1; !vmlinux && !t && id < kb.ntypes; id++)
		if (BTF_INFO_KIND(kb.types[id]->info) == BTF_KIND_ENUM &&
		    !strcmp(kb.strs + kb.types[id]->name_off, type))
			t = kb.types[id];
	if (!t)
		return -1;
	e = (const struct btf_enum *)(t + 1);
	for (uint32_t i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		const char *s = vmlinux ? btf__name_by_offset(vmlinux, e[i].name_off) :
				e[i].name_off < kb.str_len ? kb.strs + e[i].name_off : NULL;

		if (s && !strcmp(s, name))
			return e[i].val;
	}
	return -1;
}

/*
 * The parameters of the function a pointer typedef names (a tracepoint's
 * btf_trace_<name>: its context, then the tracepoint's arguments); -1 when
 * the kernel has no such typedef.
 */
int kernel_btf_params(const char *typedef_name)
{
	const struct btf_type *t;

	if (!kbtf_ready())
		return -1;
	t = kbtf_type(kbtf_find(typedef_name, BTF_KIND_TYPEDEF));
	t = t ? kbtf_type(t->type) : NULL;
	t = t && BTF_INFO_KIND(t->info) == BTF_KIND_PTR ? kbtf_type(t->type) : NULL;
	return t && BTF_INFO_KIND(t->info) == BTF_KIND_FUNC_PROTO ? (int)BTF_INFO_VLEN(t->info) : -1;
}
