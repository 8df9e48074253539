// SPDX-License-Identifier: GPL-2.0
/* Error messages, and the checks made before any BPF object is loaded. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "errors.h"

bool heapstat_verbose;
char heapstat_cmd[32] = "heapstat";	/* main() names the command run */

/* "<command>: failed to <what>: <strerror>", then a hint if there is one. */
void heapstat_error(int err, const char *what, const char *hint)
{
	if (err < 0)
		err = -err;
	fprintf(stderr, "%s: failed to %s: %s\n", heapstat_cmd, what, strerror(err));
	if (!hint && (err == EPERM || err == EACCES))
		hint = "heapstat needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (run it as root)";
	if (hint)
		fprintf(stderr, "%s: hint: %s\n", heapstat_cmd, hint);
}

/* the effective capabilities, from /proc/self/status (no libcap) */
static int effective_caps(uint64_t *caps)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, caps) == 1)
			err = 0;
	fclose(f);
	return err;
}

/* the initial PID namespace's inode, fixed since 3.8 (include/linux/proc_ns.h) */
#define PROC_PID_INIT_INO	0xEFFFFFFCu

const char heapstat_pidns_why[] =
	"BPF's tracing shows the host's pids, which this /proc does not; run heapstat in the "
	"host's (docker run --pid=host, a pod's hostPID: true)";

/* in a PID namespace of its own (a container's): not the host's, or no /proc to tell */
bool heapstat_own_pidns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/pid", &st) && st.st_ino != PROC_PID_INIT_INO;
}

/*
 * BPF sees the host's pids (task->tgid), and heapstat looks some of them up
 * in /proc (a process holding only mappings, -p): in a PID namespace of its
 * own the two disagree, so a process would be shown under another's pid, or
 * not found. Said, and refused, rather than shown wrong, by what traces; a
 * snapshot takes its holders from /proc there (inventory.c), and top's and
 * export's frames are snapshots (live.c).
 */
int heapstat_pidns_preflight(void)
{
	if (!heapstat_own_pidns())
		return 0;
	fprintf(stderr, "%s: this process is in a PID namespace of its own (a container?): "
		"%s, or take snapshots (report without -d, top, export), whose holders come from "
		"this namespace's /proc\n", heapstat_cmd, heapstat_pidns_why);
	return -EOPNOTSUPP;
}

/*
 * The capabilities loading BPF needs, in one line when one is missing
 * (whoever the user is: root in a container may lack them, and a non-root
 * user may hold them).
 */
int heapstat_caps_preflight(void)
{
	static const struct { int cap; const char *name; } need[] = {
		{ 39, "CAP_BPF" }, { 38, "CAP_PERFMON" }, { 21, "CAP_SYS_ADMIN" },
	};
	char missing[64] = "";
	uint64_t caps;

	if (effective_caps(&caps)) {
		fprintf(stderr, "%s: cannot read the capabilities (/proc/self/status)\n", heapstat_cmd);
		return -EPERM;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(caps & (1ULL << need[i].cap)))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", need[i].name);
	if (missing[0]) {
		fprintf(stderr, "%s: loading BPF needs %s, which this process lacks%s\n",
			heapstat_cmd, missing, geteuid() ? ": try sudo heapstat" :
			" (root without them: a container or a capability bounding set?)");
		return -EPERM;
	}
	return 0;
}

/* why nothing can be traced here, NULL when the kernel has BTF */
const char *heapstat_no_btf(void)
{
	if (!access("/sys/kernel/btf/vmlinux", R_OK))
		return NULL;
	return "this kernel has no BTF (/sys/kernel/btf/vmlinux): build it with "
	       "CONFIG_DEBUG_INFO_BTF=y";
}

/*
 * The causes users hit most, each said in one line before libbpf's noise:
 * a capability missing, no BTF; for a snapshot, not the PID namespace (its
 * holders come from /proc there), for the rest that too.
 */
int heapstat_snapshot_preflight(void)
{
	int err = heapstat_caps_preflight();

	if (err)
		return err;
	if (heapstat_no_btf()) {
		fprintf(stderr, "%s: %s, or use --source procfs\n", heapstat_cmd, heapstat_no_btf());
		return -EOPNOTSUPP;
	}
	return 0;
}

int heapstat_bpf_preflight(void)
{
	return heapstat_snapshot_preflight() ?: heapstat_pidns_preflight();
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
