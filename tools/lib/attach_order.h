/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_ATTACH_ORDER_H
#define HEAPSTAT_ATTACH_ORDER_H

#include <bpf/libbpf.h>

/*
 * heapstat's BPF objects keep their programs in the order of what they trace
 * (an allocation's start, its export, the buffer's end); they are attached
 * from the last to the first, so that what begins while they attach has its
 * end traced: attached the other way, a buffer made before its end's hook
 * was attached and gone before it was stays counted (a leak that is none, a
 * charge no release takes back).
 */

/*
 * the skeleton's programs attached from the last to the first, each link
 * where the skeleton keeps it (its destroy detaches it); 0 or a negative
 * errno. Unlike the skeleton's own attach, every program loaded with
 * autoattach on must have an attach of its own: turn it off for those that
 * have none (SEC("syscall"), a bare SEC("kprobe")), which
 * bpf_program__attach() refuses.
 */
int skel_attach_ends_first(struct bpf_object_skeleton *s);
/* HEAPSTAT_TEST_ATTACH_PAUSE_MS, a test's knob: a pause before each attach */
void attach_test_pause(void);

#endif
