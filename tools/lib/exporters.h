/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_EXPORTERS_H
#define HEAPSTAT_EXPORTERS_H

#include <linux/types.h>
#include "bufcount.h"

struct bufcount;

struct exporter_row {
	char name[EXP_NAME_LEN];
	struct exporter_stats stats;	/* summed over CPUs */
};

int bufcount_open(struct bufcount **out);
int bufcount_read(struct bufcount *bc, struct exporter_row *rows, int max, __u64 *dropped);
void bufcount_close(struct bufcount *bc);

#endif
