/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_JSON_H
#define HEAPSTAT_JSON_H

#include <stdio.h>

struct inv_proc;

void json_string(FILE *f, const char *s);
void json_process(FILE *f, const struct inv_proc *p);

#endif
