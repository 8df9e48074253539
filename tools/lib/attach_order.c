// SPDX-License-Identifier: GPL-2.0
/* The order heapstat attaches its BPF programs in: attach_order.h says why. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "attach_order.h"

void attach_test_pause(void)
{
	const char *ms = getenv("HEAPSTAT_TEST_ATTACH_PAUSE_MS");

	if (ms && *ms)
		usleep(atoi(ms) * 1000);
}

int skel_attach_ends_first(struct bpf_object_skeleton *s)
{
	for (int i = s->prog_cnt - 1; i >= 0; i--) {
		struct bpf_program *prog = *s->progs[i].prog;
		struct bpf_link **link = s->progs[i].link;

		if (!bpf_program__autoload(prog) || !bpf_program__autoattach(prog) || *link)
			continue;
		attach_test_pause();
		*link = bpf_program__attach(prog);
		if (!*link)
			return -errno;
	}
	return 0;
}
