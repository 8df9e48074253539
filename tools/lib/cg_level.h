/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CG_LEVEL_H
#define HEAPSTAT_CG_LEVEL_H

#include <linux/types.h>

#include "limit.h"		/* struct cg_level_rec */

int cg_levels_of(const char *path, struct cg_level_rec *out, int *missing);
int cg_level(const char *path);

#endif
