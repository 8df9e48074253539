// SPDX-License-Identifier: GPL-2.0
/* Error messages, and the checks made before any BPF object is loaded. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "errors.h"

bool heapstat_verbose;

/* "heapstat: failed to <what>: <strerror>", then a hint if there is one. */
void heapstat_error(int err, const char *what, const char *hint)
{
	if (err < 0)
		err = -err;
	fprintf(stderr, "heapstat: failed to %s: %s\n", what, strerror(err));
	if (!hint && (err == EPERM || err == EACCES))
		hint = "run as root (heapstat needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)";
	if (hint)
		fprintf(stderr, "heapstat: hint: %s\n", hint);
}

/* The causes users hit most, each said in one line before libbpf's noise. */
int heapstat_bpf_preflight(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "heapstat: must run as root to load BPF programs: try sudo heapstat\n");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "heapstat: this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			"build it with CONFIG_DEBUG_INFO_BTF=y\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* without -v, libbpf's warnings are left to our own one-line messages */
	if (!heapstat_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void heapstat_libbpf_setup(void)
{
	libbpf_set_print(libbpf_print);
}
