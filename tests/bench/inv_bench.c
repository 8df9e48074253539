// SPDX-License-Identifier: GPL-2.0
/*
 * inv_bench [ROUNDS]: time heapstat's inventory in its two parts, as make
 * bench reports them: loading the iterator programs (once per run of
 * heapstat: kernel BTF, CO-RE relocation, verifier) and taking a snapshot
 * with them loaded (what each of heaptop's refreshes costs, and what grows
 * with the number of buffers). Prints "load_ms=N snapshot_ms=N buffers=N",
 * the snapshot the median of ROUNDS (default 5).
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/inventory.h"
#include "lib/util.h"

int main(int argc, char **argv)
{
	uint64_t t0, load, snap[15], rounds = 5;
	struct inventory inv;
	struct inv_iters *it;
	size_t nbufs = 0;

	if (argc > 2 || (argc == 2 && parse_u64(argv[1], 1, 15, &rounds))) {
		fprintf(stderr, "usage: inv_bench [ROUNDS (1-15)]\n");
		return 2;
	}
	t0 = now_ns();
	if (inventory_open(&it, false, false)) {
		fprintf(stderr, "inv_bench: no memory\n");
		return 1;
	}
	load = now_ns() - t0;
	for (uint64_t r = 0; r < rounds; r++) {
		int err;

		t0 = now_ns();
		err = inventory_take(it, &inv, "/proc");
		snap[r] = now_ns() - t0;
		if (err) {
			fprintf(stderr, "inv_bench: inventory: error %d\n", err);
			inventory_close(it);
			return 1;
		}
		if (inv.buffers_src != SRC_ITER_DMABUF || inv.holders_src != SRC_ITER_TASK) {
			fprintf(stderr, "inv_bench: the BPF iterators did not load\n");
			inventory_free(&inv);
			inventory_close(it);
			return 1;
		}
		nbufs = inv.nbufs;
		inventory_free(&inv);
	}
	inventory_close(it);
	qsort(snap, rounds, sizeof(*snap), cmp_u64);
	printf("load_ms=%.1f snapshot_ms=%.1f buffers=%zu\n", load / 1e6, snap[rounds / 2] / 1e6, nbufs);
	return 0;
}
