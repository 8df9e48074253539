/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CG_LEVEL_H
#define HEAPSTAT_CG_LEVEL_H

#include <linux/types.h>

#include "limit.h"		/* struct cg_level_rec */

struct cg_levels;

int cg_levels_open(struct cg_levels **out);
int cg_levels_of(struct cg_levels *l, const char *path, struct cg_level_rec *out, int *missing);
void cg_levels_close(struct cg_levels *l);
int cg_level(const char *path);

#endif
