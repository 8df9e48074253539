// SPDX-License-Identifier: GPL-2.0
/*
 * rep_count: what -icount makes of x86's string instructions. QEMU counts
 * each iteration of a rep-prefixed one as an instruction executed, so under
 * -icount (1 ns an instruction) `rep stosb`, with which the kernel zeroes a
 * page on CPUs with ERMS (the guest's -cpu max has it), costs a nanosecond a
 * byte: 4,096 for a page. Run on the host too, it says what a real CPU
 * takes for the same (scripts/bench.sh, BENCH=startup).
 * Zeroes 16 MiB three ways and prints each one's time in milliseconds:
 * "rep_stosb_ms=N rep_stosq_ms=N stores_ms=N" (8-byte stores in a loop).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define BYTES	(16u << 20)

int main(void)
{
#if defined(__x86_64__)
	uint64_t *p = malloc(BYTES);
	uint64_t t[4];
	void *d;
	size_t c;

	if (!p)
		return 1;
	memset(p, 1, BYTES);	/* every page faulted in first */
	t[0] = now_ns();
	d = p, c = BYTES;
	asm volatile("rep stosb" : "+D"(d), "+c"(c) : "a"(0) : "memory");
	t[1] = now_ns();
	d = p, c = BYTES / 8;
	asm volatile("rep stosq" : "+D"(d), "+c"(c) : "a"(0) : "memory");
	t[2] = now_ns();
	for (size_t i = 0; i < BYTES / 8; i++) {
		p[i] = 0;
		asm volatile("" ::: "memory");	/* one store an iteration, not a memset */
	}
	t[3] = now_ns();
	printf("rep_stosb_ms=%.2f rep_stosq_ms=%.2f stores_ms=%.2f\n", (t[1] - t[0]) / 1e6,
	       (t[2] - t[1]) / 1e6, (t[3] - t[2]) / 1e6);
	free(p);
	return 0;
#else
	fprintf(stderr, "rep_count: x86-64 only\n");
	return 2;
#endif
}
