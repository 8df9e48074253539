/* SPDX-License-Identifier: GPL-2.0 */
/* heaptop's views of a frame: what the terminal, batch and JSON output share. */
#ifndef HEAPSTAT_TOP_H
#define HEAPSTAT_TOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/live.h"

enum top_view { TV_CGROUPS, TV_PROCESSES, TV_BUFFERS, TV_COUNT };

/* what the user chose: view, sort, filters */
struct top_state {
	enum top_view view;
	int sort[TV_COUNT];		/* a column of each view */
	bool ascending;
	char cgroup[CGROUP_PATH_MAX];	/* "" or a path: it and the cgroups below */
	char heap[64];			/* "" or a heap's name */
	uint64_t interval_ms;
	bool paused;
	int hscroll;			/* the table's columns scrolled out on the left */
};

/* one line of a frame: its text and how to show it; TA_TABLE: a line of the table, with one */
enum top_attr { TA_NORMAL, TA_HEADER, TA_TITLE, TA_DIM, TA_ALERT, TA_TABLE = 8 };

#define TOP_LINE_MAX	1024	/* a frame's line, at most */
/* the first frame, and the first after a resume, within this much of a longer interval */
#define TOP_FIRST_MS	1000

/* the wait for such a frame */
static inline uint64_t top_first_ms(uint64_t interval_ms)
{
	return interval_ms > TOP_FIRST_MS ? TOP_FIRST_MS : interval_ms;
}

typedef void (*top_emit_fn)(void *ctx, enum top_attr attr, const char *line);

extern const char * const top_view_names[TV_COUNT];

void top_state_init(struct top_state *st);
void top_clock(char *buf, size_t len);
int top_view_columns(enum top_view v, const char **names, int max);
void top_render(struct live *l, const struct live_frame *f, const struct top_state *st,
		const char *clock, int width, top_emit_fn emit, void *ctx);
void top_json(FILE *out, struct live *l, const struct live_frame *f,
	      const struct top_state *st, const char *clock);

/* ui.c: whether the terminal can show the full-screen view (0), or why not (1) */
int top_term_check(void);
/* ui.c: the full-screen view, until q, @count frames (0: no count) or *exiting */
int top_interactive(struct live *l, struct top_state *st, uint64_t count,
		    volatile sig_atomic_t *exiting);

#endif
