/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_JSON_H
#define HEAPSTAT_JSON_H

#include <stdio.h>

void json_string(FILE *f, const char *s);

#endif
