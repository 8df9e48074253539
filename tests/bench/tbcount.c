// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin for tests/bench/profile.sh: counts the guest kernel's
 * instructions executed per translation block, written at exit as
 * "ADDRESS INSNS RUNS" lines to the file named by out=FILE.
 *
 * Debian ships QEMU with plugin support but not qemu-plugin.h: the few
 * declarations below are from QEMU's plugin API, version 1 (QEMU 4.2-8.x).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *),
				    void *userdata);

#define KERNEL_START	0xffff800000000000ull
#define MAX_TBS		(4u << 20)

/* one per translation; counters are given to QEMU by address, so never moved */
static struct tb { uint64_t vaddr, insns, runs; } *tbs;
static size_t ntbs;
static int full;
static const char *out = "tbcount.txt";

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t va = qemu_plugin_tb_vaddr(tb);
	struct tb *t;

	if (va < KERNEL_START)
		return;
	if (ntbs == MAX_TBS) {
		full = 1;
		return;
	}
	t = &tbs[ntbs++];
	t->vaddr = va;
	t->insns = qemu_plugin_tb_n_insns(tb);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &t->runs, 1);
}

static void at_exit(qemu_plugin_id_t id, void *arg)
{
	FILE *f = fopen(out, "w");

	if (!f) {
		perror(out);
		return;
	}
	if (full)
		fprintf(stderr, "tbcount: more than %u translations; later ones not counted\n", MAX_TBS);
	for (size_t i = 0; i < ntbs; i++)
		if (tbs[i].runs)
			fprintf(f, "%llx %llu %llu\n", (unsigned long long)tbs[i].vaddr,
				(unsigned long long)tbs[i].insns, (unsigned long long)tbs[i].runs);
	fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
	tbs = calloc(MAX_TBS, sizeof(*tbs));
	if (!tbs)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
