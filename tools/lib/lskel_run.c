// SPDX-License-Identifier: GPL-2.0
/*
 * A light skeleton's loader program, run here. A light skeleton loads its
 * objects through a syscall program that libbpf wrote (gen_loader): it
 * makes the bpf() calls (the object's BTF, its maps and their data, its
 * programs, whose CO-RE relocations the kernel applies), and the kernel
 * verifies it before it runs: 8.9 ms of guest time of the inventory's
 * 27.8 ms load on 7.2 (docs/benchmarks.md, inventory). Its code is plain:
 * loads and stores in its data (a copy of the skeleton's blob), its stack
 * and the skeleton's context, jumps, and helper calls. Run here, each of its
 * bpf() calls is made from user space with the same attributes: their
 * pointers are to the blob's copy, user memory, where the kernel's were to
 * its own map of it. The one call user space has no syscall for, the
 * kernel's BTF lookup by name, is made by a program of a few instructions.
 *
 * Anything else it does (an instruction or helper not handled here, memory
 * outside those three places) stops it: the fds its calls made are closed,
 * and the kernel runs the loader as before (bpf_load_and_run()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "lskel_run.h"

#undef bpf_load_and_run		/* here, libbpf's own: the kernel runs the loader */

#define STACK_SIZE	512
#define MAX_FDS		64
#define NAME_LEN	32		/* of a name looked up: bpf_iter_<target>'s fit */

struct run {
	uint64_t r[11];
	uint64_t stack[STACK_SIZE / 8];
	char *blob;
	size_t blob_sz;
	char *ctx;
	size_t ctx_sz;
	int fds[MAX_FDS];		/* made by its bpf() calls: closed if it stops */
	int nfds;
	int find_fd;			/* the BTF lookup's program, -1 until needed */
};

static bool ran_here;
bool lskel_by_kernel;
long lskel_max_steps = 1 << 20;	/* a loader runs each instruction about once */

bool lskel_ran_here(void)
{
	return ran_here;
}

static bool within(uint64_t a, size_t len, const void *base, size_t size)
{
	uint64_t b = (uintptr_t)base;

	return a >= b && len <= size && a - b <= size - len;
}

/* @len bytes at @a, in the blob, the stack or the context; NULL elsewhere */
static void *mem(struct run *x, uint64_t a, size_t len)
{
	if (within(a, len, x->blob, x->blob_sz) || within(a, len, x->stack, sizeof(x->stack)) ||
	    within(a, len, x->ctx, x->ctx_sz))
		return (void *)(uintptr_t)a;
	return NULL;
}

/*
 * Whether [@a, @a + @len) is mapped in this process: the skeleton's data,
 * which it mapped itself, given by its context. (process_vm_readv(), which
 * would say it of any read, is not in every kernel: CROSS_MEMORY_ATTACH.)
 */
static bool mapped(uint64_t a, size_t len)
{
	uint64_t page = sysconf(_SC_PAGESIZE), at = a & ~(page - 1);
	unsigned char in[64];

	if (a + len < a)
		return false;
	for (; at < a + len; at += sizeof(in) * page)
		if (mincore((void *)(uintptr_t)at, (a + len - at < sizeof(in) * page ?
						    a + len - at : sizeof(in) * page), in))
			return false;
	return true;
}

/*
 * bpf_btf_find_by_name_kind(), which only BPF programs can call: one that
 * copies the name from its context to its stack (the helper reads no
 * context), and writes the answer back there.
 */
struct find_ctx {
	char name[NAME_LEN];
	uint32_t kind;
	uint32_t pad;
	int64_t ret;
};

static int find_prog(void)
{
	struct bpf_insn insns[1 + 2 * NAME_LEN / 8 + 9] = {
		{ BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0 },			/* r6 = ctx */
	};
	union bpf_attr attr = {
		.prog_type = BPF_PROG_TYPE_SYSCALL,
		.insns = (uintptr_t)insns,
		.license = (uintptr_t)"Dual BSD/GPL",
		.prog_flags = BPF_F_SLEEPABLE,
	};
	unsigned int n = 1;

	for (int off = 0; off < NAME_LEN; off += 8) {			/* the name */
		insns[n++] = (struct bpf_insn){ BPF_LDX | BPF_MEM | BPF_DW, 0, 6, off, 0 };
		insns[n++] = (struct bpf_insn){ BPF_STX | BPF_MEM | BPF_DW, 10, 0, off - NAME_LEN, 0 };
	}
	insns[n++] = (struct bpf_insn){ BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0 };
	insns[n++] = (struct bpf_insn){ BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -NAME_LEN };
	insns[n++] = (struct bpf_insn){ BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, NAME_LEN };
	insns[n++] = (struct bpf_insn){ BPF_LDX | BPF_MEM | BPF_W, 3, 6,
					offsetof(struct find_ctx, kind), 0 };
	insns[n++] = (struct bpf_insn){ BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0 };	/* flags */
	insns[n++] = (struct bpf_insn){ BPF_JMP | BPF_CALL, 0, 0, 0,
					BPF_FUNC_btf_find_by_name_kind };
	insns[n++] = (struct bpf_insn){ BPF_STX | BPF_MEM | BPF_DW, 6, 0,
					offsetof(struct find_ctx, ret), 0 };
	insns[n++] = (struct bpf_insn){ BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0 };
	insns[n++] = (struct bpf_insn){ BPF_JMP | BPF_EXIT, 0, 0, 0, 0 };
	attr.insn_cnt = n;
	memcpy(attr.prog_name, "hs_btf_find", sizeof("hs_btf_find"));
	/* skeletons' own bpf(): libbpf's bpf_prog_load() would probe the kernel first */
	return skel_sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
}

static int64_t btf_find(struct run *x, const char *name, uint32_t name_sz, uint32_t kind,
			uint64_t flags, bool *stop)
{
	struct find_ctx c = { .kind = kind };
	union bpf_attr attr = {};

	/* the helper takes a name ending at name_sz; in a larger buffer, the same */
	if (flags || name_sz < 2 || name_sz > NAME_LEN || name[name_sz - 1]) {
		*stop = true;
		return -EINVAL;
	}
	if (x->find_fd < 0)
		x->find_fd = find_prog();
	if (x->find_fd < 0) {
		*stop = true;
		return -errno;
	}
	memcpy(c.name, name, name_sz);
	attr.test.prog_fd = x->find_fd;
	attr.test.ctx_in = (uintptr_t)&c;
	attr.test.ctx_size_in = sizeof(c);
	if (skel_sys_bpf(BPF_PROG_RUN, &attr, sizeof(attr))) {
		*stop = true;
		return -errno;
	}
	if (c.ret > 0 && c.ret >> 32) {
		*stop = true;	/* a module's BTF: its fd, ours now, is not followed here */
		close(c.ret >> 32);
	}
	return c.ret;
}

/* the helpers a loader calls; *stop for any other, or memory not its own */
static uint64_t call(struct run *x, int32_t fn, bool *stop)
{
	uint64_t *r = x->r;
	void *p, *q;
	long ret;

	switch (fn) {
	case BPF_FUNC_probe_read_kernel:	/* (dst, size, src): a loader zeroes with it */
		p = mem(x, r[1], (uint32_t)r[2]);
		q = mem(x, r[3], (uint32_t)r[2]);
		if (!p)
			break;
		if (q)
			memmove(p, q, (uint32_t)r[2]);
		else
			memset(p, 0, (uint32_t)r[2]);
		return q ? 0 : (uint64_t)-EFAULT;
	case BPF_FUNC_copy_from_user:		/* (dst, size, user): the maps' initial data */
		p = mem(x, r[1], (uint32_t)r[2]);
		if (!p)
			break;
		/* as the kernel reads it: an address not mapped is an error, not a fault */
		if (!mapped(r[3], (uint32_t)r[2])) {
			memset(p, 0, (uint32_t)r[2]);
			return (uint64_t)-EFAULT;
		}
		memmove(p, (const void *)(uintptr_t)r[3], (uint32_t)r[2]);
		return 0;
	case BPF_FUNC_sys_bpf:			/* (cmd, attr, size) */
		p = mem(x, r[2], (uint32_t)r[3]);
		if (!p)
			break;
		ret = skel_sys_bpf((int)r[1], p, (uint32_t)r[3]);
		if (ret < 0)
			return (uint64_t)-errno;
		if (r[1] == BPF_MAP_CREATE || r[1] == BPF_PROG_LOAD || r[1] == BPF_BTF_LOAD ||
		    r[1] == BPF_LINK_CREATE || r[1] == BPF_RAW_TRACEPOINT_OPEN) {
			if (x->nfds == MAX_FDS) {	/* more than it could close if it stopped */
				close(ret);
				break;
			}
			x->fds[x->nfds++] = ret;
		}
		return ret;
	case BPF_FUNC_sys_close:
		for (int i = 0; i < x->nfds; i++)
			if (x->fds[i] == (int)r[1])
				x->fds[i] = x->fds[--x->nfds];
		return close((int)r[1]) ? (uint64_t)-errno : 0;
	case BPF_FUNC_btf_find_by_name_kind:	/* (name, size, kind, flags) */
		p = mem(x, r[1], (uint32_t)r[2]);
		if (!p)
			break;
		return btf_find(x, p, (uint32_t)r[2], (uint32_t)r[3], r[4], stop);
	}
	*stop = true;
	return 0;
}

static uint64_t alu(uint8_t op, uint64_t d, uint64_t s, bool wide, bool *stop)
{
	unsigned int bits = wide ? 64 : 32;

	if (!wide) {
		d = (uint32_t)d;
		s = (uint32_t)s;
	}
	switch (op) {
	case BPF_ADD: d += s; break;
	case BPF_SUB: d -= s; break;
	case BPF_MUL: d *= s; break;
	case BPF_DIV: d = s ? d / s : 0; break;
	case BPF_MOD: d = s ? d % s : d; break;
	case BPF_OR: d |= s; break;
	case BPF_AND: d &= s; break;
	case BPF_XOR: d ^= s; break;
	case BPF_LSH: d <<= s & (bits - 1); break;
	case BPF_RSH: d >>= s & (bits - 1); break;
	case BPF_ARSH:
		d = wide ? (uint64_t)((int64_t)d >> (s & 63)) : (uint32_t)((int32_t)d >> (s & 31));
		break;
	case BPF_NEG: d = -d; break;
	case BPF_MOV: d = s; break;
	default:
		*stop = true;
	}
	return wide ? d : (uint32_t)d;
}

static bool taken(uint8_t op, uint64_t d, uint64_t s, bool wide, bool *stop)
{
	int64_t sd = wide ? (int64_t)d : (int32_t)d, ss = wide ? (int64_t)s : (int32_t)s;

	if (!wide) {
		d = (uint32_t)d;
		s = (uint32_t)s;
	}
	switch (op) {
	case BPF_JEQ: return d == s;
	case BPF_JNE: return d != s;
	case BPF_JGT: return d > s;
	case BPF_JGE: return d >= s;
	case BPF_JLT: return d < s;
	case BPF_JLE: return d <= s;
	case BPF_JSET: return d & s;
	case BPF_JSGT: return sd > ss;
	case BPF_JSGE: return sd >= ss;
	case BPF_JSLT: return sd < ss;
	case BPF_JSLE: return sd <= ss;
	}
	*stop = true;
	return false;
}

static const size_t sizes[] = { [BPF_W >> 3] = 4, [BPF_H >> 3] = 2, [BPF_B >> 3] = 1,
				[BPF_DW >> 3] = 8 };

static uint64_t load(const void *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);	/* little-endian, as both targets heapstat builds for */
	return v;
}

/* run the loader; its r0, or *stop when it did what is not handled here */
static int64_t run(struct run *x, const struct bpf_insn *insn, size_t n, bool *stop)
{
	uint64_t *r = x->r;
	size_t pc = 0;

	r[1] = (uintptr_t)x->ctx;
	r[10] = (uintptr_t)x->stack + sizeof(x->stack);
	for (long steps = 0; !*stop && pc < n && steps < lskel_max_steps; steps++) {
		const struct bpf_insn *i = &insn[pc++];
		uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
		uint64_t src = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
		size_t size = sizes[BPF_SIZE(i->code) >> 3];
		void *p;

		if (i->dst_reg > 10 || i->src_reg > 10)
			break;
		switch (cls) {
		case BPF_ALU64:
		case BPF_ALU:
			if (i->dst_reg == 10 || i->off || op == BPF_END)
				return *stop = true, 0;	/* r10 written; signed forms; swaps */
			r[i->dst_reg] = alu(op, r[i->dst_reg], src, cls == BPF_ALU64, stop);
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (cls == BPF_JMP && op == BPF_EXIT)
				return (int64_t)r[0];
			if (cls == BPF_JMP && op == BPF_CALL && i->src_reg == 0) {
				r[0] = call(x, i->imm, stop);
				/* r1-r5 are the helper's: nothing may read them after */
				memset(&r[1], 0, 5 * sizeof(r[1]));
				break;
			}
			if (cls == BPF_JMP && op == BPF_JA) {
				pc += i->off;
				break;
			}
			if (op == BPF_CALL || op == BPF_EXIT || op == BPF_JA)
				return *stop = true, 0;
			if (taken(op, r[i->dst_reg], src, cls == BPF_JMP, stop))
				pc += i->off;
			break;
		case BPF_LD:	/* only the 64-bit immediate, and the blob's address */
			if (i->code != (BPF_LD | BPF_IMM | BPF_DW) || pc >= n || i->dst_reg == 10)
				return *stop = true, 0;
			if (i->src_reg == 0)
				r[i->dst_reg] = (uint32_t)i->imm | (uint64_t)insn[pc].imm << 32;
			else if (i->src_reg == BPF_PSEUDO_MAP_IDX_VALUE && i->imm == 0)
				r[i->dst_reg] = (uintptr_t)x->blob + (uint32_t)insn[pc].imm;
			else
				return *stop = true, 0;
			pc++;
			break;
		case BPF_LDX:
			p = mem(x, r[i->src_reg] + i->off, size);
			if (BPF_MODE(i->code) != BPF_MEM || !p || i->dst_reg == 10)
				return *stop = true, 0;
			r[i->dst_reg] = load(p, size);
			break;
		case BPF_ST:
		case BPF_STX:
			p = mem(x, r[i->dst_reg] + i->off, size);
			if (BPF_MODE(i->code) != BPF_MEM || !p)
				return *stop = true, 0;
			src = cls == BPF_STX ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
			memcpy(p, &src, size);
			break;
		}
	}
	*stop = true;	/* out of its code, or running too long */
	return 0;
}

/**
 * lskel_run() - load a light skeleton: its loader run here, else by the kernel
 * @opts: as bpf_load_and_run() takes them
 *
 * Return: 0, or a negative errno with @opts->errstr set.
 */
int lskel_run(struct bpf_load_and_run_opts *opts)
{
	struct run x = { .blob_sz = opts->data_sz, .ctx = (char *)opts->ctx,
			 .ctx_sz = opts->ctx->sz, .find_fd = -1 };
	char *ctx = lskel_by_kernel ? NULL : malloc(x.ctx_sz);	/* as it was, if it stops */
	bool stop = false;
	int64_t ret = -ENOMEM;

	x.blob = ctx ? malloc(opts->data_sz ? opts->data_sz : 1) : NULL;
	if (x.blob) {
		memcpy(ctx, x.ctx, x.ctx_sz);
		memcpy(x.blob, opts->data, opts->data_sz);
		ret = run(&x, opts->insns, opts->insns_sz / sizeof(struct bpf_insn), &stop);
		if (stop)
			memcpy(x.ctx, ctx, x.ctx_sz);
	}
	free(ctx);
	free(x.blob);
	if (x.find_fd >= 0)
		close(x.find_fd);
	ran_here = x.blob && !stop;
	if (ran_here && ret >= 0)
		return 0;
	if (ran_here) {		/* it failed, and cleaned up after itself as it does */
		opts->errstr = "failed to execute loader prog";
		errno = -ret;
		return ret;
	}
	while (x.nfds)
		close(x.fds[--x.nfds]);
	return bpf_load_and_run(opts);
}
