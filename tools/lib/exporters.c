// SPDX-License-Identifier: GPL-2.0
/* Load, attach and read bpf/bufcount.bpf.c: dma-buf exports and final releases. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bufcount.skel.h"
#include "attach_order.h"
#include "exporters.h"
#include "errors.h"

struct bufcount {
	struct bufcount_bpf *skel;
	int ncpus;
};

/* Open, load and attach; a negative errno and a message on stderr on failure. */
int bufcount_open(struct bufcount **out)
{
	struct bufcount *bc;
	int err;

	err = heapstat_bpf_preflight();
	if (err)
		return err;
	bc = calloc(1, sizeof(*bc));
	if (!bc)
		return -ENOMEM;
	bc->ncpus = libbpf_num_possible_cpus();
	if (bc->ncpus < 0) {
		err = bc->ncpus;
		goto free_bc;
	}
	bc->skel = bufcount_bpf__open();
	if (!bc->skel) {
		err = -errno;
		heapstat_error(err, "open BPF object", NULL);
		goto free_bc;
	}
	err = bufcount_bpf__load(bc->skel);
	if (err) {
		heapstat_error(err, "load BPF programs", NULL);
		goto destroy;
	}
	err = skel_attach_ends_first(bc->skel->skeleton);	/* the release's hook first */
	if (err) {
		heapstat_error(err, "attach BPF programs", NULL);
		goto destroy;
	}
	*out = bc;
	return 0;

destroy:
	bufcount_bpf__destroy(bc->skel);
free_bc:
	free(bc);
	return err;
}

/* Fill up to max rows; returns how many, or a negative errno. */
int bufcount_read(struct bufcount *bc, struct exporter_row *rows, int max, __u64 *dropped)
{
	struct exporter_stats *percpu;
	struct exporter_key key, *prev = NULL;
	int fd = bpf_map__fd(bc->skel->maps.exporters);
	int n = 0, err = 0;

	percpu = calloc(bc->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	while (n < max && !bpf_map_get_next_key(fd, prev, &key)) {
		struct exporter_row *r = &rows[n];

		if (bpf_map_lookup_elem(fd, &key, percpu)) {
			if (errno == ENOENT)	/* cannot happen: entries are never deleted */
				goto next;
			err = -errno;
			break;
		}
		memset(r, 0, sizeof(*r));
		memcpy(r->name, key.name, sizeof(r->name));
		r->name[sizeof(r->name) - 1] = '\0';
		for (int cpu = 0; cpu < bc->ncpus; cpu++) {
			r->stats.exports += percpu[cpu].exports;
			r->stats.releases += percpu[cpu].releases;
			r->stats.bytes_exported += percpu[cpu].bytes_exported;
			r->stats.bytes_released += percpu[cpu].bytes_released;
		}
		n++;
next:
		prev = &key;
	}
	free(percpu);
	if (dropped)
		*dropped = bc->skel->bss->dropped;
	return err ? err : n;
}

void bufcount_close(struct bufcount *bc)
{
	if (!bc)
		return;
	bufcount_bpf__destroy(bc->skel);
	free(bc);
}
