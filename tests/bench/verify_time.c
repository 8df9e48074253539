// SPDX-License-Identifier: GPL-2.0
/*
 * verify_time OBJ [PROG...]: what the kernel's verifier takes for each
 * program of a BPF object, loaded alone (the object's other programs not
 * loaded; its maps made once a program). Prints "PROG verify_us=N insns=N"
 * from the verifier's own statistics (BPF_LOG_STATS), or "PROG refused"
 * when this kernel does not load it (a variant for another kernel). With no
 * PROG, every program of OBJ. PROG=fsession loads PROG as a session (as the
 * collector loads its fentry/dma_heap_ioctl session program on 7.0+). make
 * bench's start-up (tests/bench/startup.sh) runs it on the iterators' and
 * the collector's objects: where a load's time goes, program by program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "lib/btf.h"

static char log_buf[1 << 16];

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* load @arg's program alone from @path: 0, or -1 when the kernel refused it */
static int verify_one(const char *path, const char *arg)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog, *it = NULL;
	const char *s, *as = strchr(arg, '=');
	char name[128];
	long us = -1, insns = -1;
	int err;

	snprintf(name, sizeof(name), "%.*s", as ? (int)(as - arg) : (int)strlen(arg), arg);

	if (!obj) {
		fprintf(stderr, "verify_time: cannot open %s\n", path);
		return -2;
	}
	bpf_object__for_each_program(prog, obj) {
		bool on = !strcmp(bpf_program__name(prog), name);

		bpf_program__set_autoload(prog, on);
		if (on)
			it = prog;
	}
	if (!it) {
		fprintf(stderr, "verify_time: no program %s in %s\n", name, path);
		bpf_object__close(obj);
		return -2;
	}
	if (as && strcmp(as, "=fsession")) {
		fprintf(stderr, "verify_time: %s: only =fsession is known\n", arg);
		bpf_object__close(obj);
		return -2;
	}
	/* a kernel without sessions refuses it, as another kernel's variant */
	if (as)
		bpf_program__set_expected_attach_type(it, (enum bpf_attach_type)
			kernel_enumerator("bpf_attach_type", "BPF_TRACE_FSESSION"));
	log_buf[0] = '\0';
	bpf_program__set_log_level(it, 4);	/* BPF_LOG_STATS */
	bpf_program__set_log_buf(it, log_buf, sizeof(log_buf));
	err = bpf_object__load(obj);
	s = strstr(log_buf, "verification time ");
	if (s)
		us = strtol(s + strlen("verification time "), NULL, 10);
	s = strstr(log_buf, "processed ");
	if (s)
		insns = strtol(s + strlen("processed "), NULL, 10);
	if (err)
		printf("%-32s refused\n", name);
	else
		printf("%-32s verify_us=%ld insns=%ld\n", name, us, insns);
	bpf_object__close(obj);
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int bad = 0;

	if (argc < 2 || !strcmp(argv[1], "-h")) {
		fprintf(stderr, "usage: verify_time OBJ [PROG...]\n");
		return 2;
	}
	libbpf_set_print(silent);
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			bad |= verify_one(argv[1], argv[i]) == -2;
		return bad ? 1 : 0;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "verify_time: cannot open %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		bad |= verify_one(argv[1], bpf_program__name(prog)) == -2;
	bpf_object__close(obj);
	return bad ? 1 : 0;
}
