/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names that users control (a task's comm, a dma-buf's name, cgroup paths)
 * on their way to a terminal or a spreadsheet: nothing is written raw.
 */
#ifndef HEAPSTAT_TEXT_H
#define HEAPSTAT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TEXT_MAX	1024	/* text_safe()'s buffers; longer names end in "..." */

size_t utf8_char(const unsigned char *p, size_t n, uint32_t *cp);
/* a bidirectional formatting character (U+202E and its kind): shown as \u202e, never obeyed */
bool text_bidi_control(uint32_t cp);
const char *text_safe_buf(const char *s, size_t max, char *out, size_t len);
const char *text_safe(const char *s);
size_t text_width(const char *s);
const char *text_tail(const char *s, size_t cols);
size_t text_head(const char *s, size_t cols);
const char *text_ascii(const char *s, char *out, size_t len);
const char *text_cell(const char *s, size_t cols);
size_t text_cell_width(const char *s, size_t min);
void csv_field(FILE *f, const char *s);

/* text_safe_stream()'s state: a character cut between two writes */
struct safe_stream {
	int fd;
	unsigned char held[4];
	size_t nheld;
};

FILE *text_safe_stream(struct safe_stream *s, int fd);

#endif
