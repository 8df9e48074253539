// SPDX-License-Identifier: GPL-2.0
/*
 * heaptop on a terminal, with ncurses: a frame every interval, keys read
 * in between (every INPUT_POLL_MS), redrawn at once on a key or a resize.
 * The terminal is given back on every way out: q, a signal, an error, or a
 * crash signal (then the default action follows).
 */
#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/path.h"
#include "lib/errors.h"
#include "lib/text.h"
#include "lib/util.h"
#include "top.h"

#define INPUT_POLL_MS	50
#define MIN_INTERVAL_MS	100
#define MAX_INTERVAL_MS	3600000

static bool screen_on;
static volatile sig_atomic_t *exiting;	/* set by a signal, or by q */
static char message[256];	/* in place of the keys' line until the next key: a refusal */
static struct live *live;		/* drained while a prompt waits for keys */

static void screen_off(void)
{
	if (screen_on) {
		endwin();
		screen_on = false;
	}
}

static void on_crash(int sig)
{
	screen_off();
	signal(sig, SIG_DFL);
	raise(sig);
}

struct draw {
	int y;
};

static void emit_curses(void *ctx, enum top_attr attr, const char *line)
{
	struct draw *d = ctx;
	static const int attrs[] = {
		[TA_NORMAL] = A_NORMAL, [TA_HEADER] = A_REVERSE, [TA_TITLE] = A_BOLD,
		[TA_DIM] = A_DIM, [TA_ALERT] = A_BOLD | A_UNDERLINE,
	};

	if (d->y >= LINES - 1)	/* the last line is for the keys */
		return;
	attrset(attrs[attr]);
	mvaddnstr(d->y++, 0, line, COLS);
	attrset(A_NORMAL);
}

static const char help_text[] =
"heaptop keys\n"
"\n"
"  q        quit\n"
"  v        next view: cgroups, processes, buffers\n"
"  < >      sort by the column to the left / right\n"
"  s        reverse the sort\n"
"  c        filter by cgroup (a path: it and the cgroups below; empty: all)\n"
"  h        filter by heap (a name; empty: all)\n"
"  p        pause / resume\n"
"  + -      refresh interval twice as long / half as long\n"
"  ?        this help (any key returns)\n"
"\n"
"Rows that vanished stay one refresh, dimmed; rows of cgroups removed while\n"
"traced are dimmed too, and named above the table; rows within a tenth of\n"
"their limit are underlined. LIMIT is dmem.max (memory.max for the system heap\n"
"when dma_heap.mem_accounting is on) of the cgroup or the ancestor whose\n"
"limit leaves the least HEADROOM: that limit less that cgroup's charge.\n"
"HITS counts the row's allocations a limit refused (dmem's EAGAIN and\n"
"memcg's refusals while traced; bpf-lsm's own count, read every 5 s); the\n"
"title names the last.\n";

static void draw(struct live *l, const struct live_frame *f, const struct top_state *st,
		 const char *clock, bool help)
{
	struct draw d = { 0 };

	erase();
	if (help) {
		mvaddstr(0, 0, help_text);
	} else if (f) {
		top_render(l, f, st, clock, COLS, emit_curses, &d);
	} else {
		mvaddstr(0, 0, "heaptop: waiting for the first interval...");
	}
	attrset(message[0] ? A_BOLD : A_REVERSE);
	mvaddnstr(LINES - 1, 0, message[0] ? message :
		  "q quit  v view  < > s sort  c cgroup  h heap  p pause  + - interval  ? help", COLS);
	attrset(A_NORMAL);
	refresh();
}

/* read a line at the bottom; false when cancelled (Esc) */
static bool prompt(const char *what, char *buf, size_t len)
{
	size_t n = 0;
	int ch;

	buf[0] = '\0';
	curs_set(1);
	timeout(LIVE_DRAIN_MS);
	for (;;) {
		/* within the line: the end of what was typed when it is longer */
		int room = COLS - (int)strlen(what) - 2;
		size_t skip = room > 0 && n > (size_t)room - 1 ? n - (room - 1) : 0;

		move(LINES - 1, 0);
		clrtoeol();
		attrset(A_BOLD);
		mvaddnstr(LINES - 1, 0, what, COLS);
		if (room > 0) {
			addstr(": ");
			addnstr(buf + skip, room - 1);
		}
		attrset(A_NORMAL);
		refresh();
		ch = getch();
		if (ch == ERR && !*exiting) {
			/* no key yet: the collector's ring is read meanwhile (its own
			 * errors come back at the next sample) */
			live_drain(live);
			continue;
		}
		if (*exiting || ch == 27) {
			n = 0;
			break;
		}
		if (ch == '\n' || ch == KEY_ENTER || ch == '\r')
			break;
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n)
			buf[--n] = '\0';
		else if (ch >= ' ' && ch < 127 && n + 1 < len)
			buf[n++] = ch, buf[n] = '\0';
	}
	curs_set(0);
	timeout(INPUT_POLL_MS);
	return ch != 27 && !*exiting;
}

/* one key; true when the screen needs drawing again */
static bool on_key(int ch, struct top_state *st, bool *help)
{
	const char *cols[32];
	int ncols = top_view_columns(st->view, cols, ARRAY_SIZE(cols));
	char buf[CGROUP_PATH_MAX], norm[CGROUP_PATH_MAX];
	int err;

	if (ch != ERR && ch != KEY_RESIZE)
		message[0] = '\0';
	if (*help && ch != ERR && ch != KEY_RESIZE) {	/* a key; a resize is none */
		*help = false;
		return true;
	}
	switch (ch) {
	case 'q': case 'Q':
		*exiting = 1;
		return false;
	case 'v':
		st->view = (st->view + 1) % TV_COUNT;
		return true;
	case '<':
		st->sort[st->view] = (st->sort[st->view] + ncols - 1) % ncols;
		return true;
	case '>':
		st->sort[st->view] = (st->sort[st->view] + 1) % ncols;
		return true;
	case 's':
		st->ascending = !st->ascending;
		return true;
	case 'c':
		if (!prompt("cgroup (e.g. /camera, empty: all)", buf, sizeof(st->cgroup)))
			return true;
		if (!buf[0])
			st->cgroup[0] = '\0';
		else if (!(err = cg_path_normalize(buf, norm, sizeof(norm))))
			snprintf(st->cgroup, sizeof(st->cgroup), "%s", norm);
		else	/* the filter as it was; typed: printable ASCII */
			snprintf(message, sizeof(message), "cgroup '%s%s': %s",
				 text_tail(buf, 40) != buf ? "..." : "", text_tail(buf, 40),
				 cg_path_refused(err));
		return true;
	case 'h':
		if (prompt("heap (empty: all)", buf, sizeof(st->heap)))
			snprintf(st->heap, sizeof(st->heap), "%.*s", (int)sizeof(st->heap) - 1, buf);
		return true;
	case 'p':
		st->paused = !st->paused;
		return true;
	case '+':
		if (st->interval_ms * 2 <= MAX_INTERVAL_MS)
			st->interval_ms *= 2;
		return true;
	case '-':
		if (st->interval_ms / 2 >= MIN_INTERVAL_MS)
			st->interval_ms /= 2;
		return true;
	case '?':
		*help = true;
		return true;
	case KEY_RESIZE:
		return true;
	}
	return false;
}

int top_interactive(struct live *l, struct top_state *st, uint64_t count,
		    volatile sig_atomic_t *exit_flag)
{
	const struct live_frame *f = NULL;
	uint64_t shown = 0;
	uint64_t next = now_ns() + st->interval_ms * 1000000ull, drained = now_ns();
	bool help = false;
	char clock[16] = "";
	int ret = 0, err;

	exiting = exit_flag;
	live = l;
	/* not initscr(), which exits on a terminal it does not know */
	if (!newterm(NULL, stdout, stdin)) {
		fprintf(stderr, "heapstat: cannot set up the terminal (TERM=%s)\n",
			text_safe(getenv("TERM") ?: ""));
		return 1;
	}
	screen_on = true;
	atexit(screen_off);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGABRT, on_crash);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(INPUT_POLL_MS);
	draw(l, f, st, clock, help);
	live_name_removals(l);	/* inside the first interval, not before its frame */
	while (!*exiting) {
		int ch;

		if (now_ns() >= next) {
			next = now_ns() + st->interval_ms * 1000000ull;
			if (!st->paused) {
				err = live_sample(l, &f);
				if (err) {
					screen_off();
					heapstat_error(err, "sample", NULL);
					return 1;
				}
				top_clock(clock, sizeof(clock));
				shown++;
			}
			draw(l, f, st, clock, help);
			if (count && shown >= count)
				break;		/* -n frames shown */
		}
		if (now_ns() - drained >= LIVE_DRAIN_MS * 1000000ull) {
			drained = now_ns();
			err = live_drain(l);
			if (err) {
				screen_off();
				heapstat_error(err, "read events", NULL);
				return 1;
			}
		}
		ch = getch();
		if (ch != ERR) {
			uint64_t was = st->interval_ms;

			if (on_key(ch, st, &help) && !*exiting)
				draw(l, f, st, clock, help);
			if (st->interval_ms != was)	/* + and -: from now on */
				next = now_ns() + st->interval_ms * 1000000ull;
		}
	}
	screen_off();
	return ret;
}
