/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_CG_LEVEL_H
#define HEAPSTAT_CG_LEVEL_H

int cg_level(const char *path);

#endif
