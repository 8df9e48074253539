// SPDX-License-Identifier: GPL-2.0
/*
 * tests/unit/light_load_test.c's object, loaded on the host by
 * tools/lib/light_load.c: read-only data set before load, .bss, a map
 * sized before load, and raw tracepoints every kernel has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid = 0;	/* set before load */
__u64 seen = 0;				/* the target's system calls */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* sized before load */
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* first, and not loaded (its autoload off), as the collector's variants a kernel does not
 * take: the loaded programs' fds are told apart from the object's */
SEC("raw_tp/sys_enter")
int light_test_unused(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int light_test_count(void *ctx)
{
	__u32 k = 0;
	__u64 *v;

	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	__sync_fetch_and_add(&seen, 1);
	v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
