// SPDX-License-Identifier: GPL-2.0
/*
 * refloop: a fixed reference loop, timed, run on the host and in the VM in
 * the same benchmark run: the ratio of the two times is the emulation's
 * slowdown, which turns a guest's CPU share into a native-equivalent one.
 * Its mix is a monitoring tool's: arithmetic, scattered memory reads, and
 * small file reads through system calls. Prints "refloop_ms=N".
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/util.h"

#define ROUNDS		20000000ull
#define TABLE		(8u << 20)	/* bytes of scattered reads */
#define FILE_READS	20000

int main(void)
{
	uint64_t x = 88172645463325252ull, sum = 0, t0;
	uint32_t *table = calloc(TABLE / 4, 4);
	char buf[512];

	if (!table)
		return 1;
	t0 = now_ns();
	for (uint64_t i = 0; i < ROUNDS; i++) {	/* xorshift64, and a read it picks */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += table[x % (TABLE / 4)];
	}
	for (int i = 0; i < FILE_READS; i++) {
		int fd = open("/proc/self/stat", O_RDONLY);

		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
			return 1;
		close(fd);
	}
	printf("refloop_ms=%.1f\n", (now_ns() - t0) / 1e6 + (sum & 0 ? 1 : 0) + (x & 0));
	free(table);
	return 0;
}
