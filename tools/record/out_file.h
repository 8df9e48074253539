/* SPDX-License-Identifier: GPL-2.0 */
/* The files heapstat analyze writes: --html, --junit, --perfetto. */
#ifndef HEAPSTAT_RECORD_OUT_FILE_H
#define HEAPSTAT_RECORD_OUT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct out_file {
	FILE *f;
	const char *path;
	char *tmp;		/* written here, renamed over path; NULL: path itself */
};

int out_file_open(struct out_file *o, const char *path, const char *recording, char *why,
		  size_t why_len);
int out_file_close(struct out_file *o, int err, char *why, size_t why_len);

#endif
