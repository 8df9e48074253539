// SPDX-License-Identifier: GPL-2.0
/*
 * heaptop on a terminal, with ncurses: a frame every interval, keys read
 * in between (every INPUT_POLL_MS), redrawn at once on a key or a resize.
 * The terminal is given back on every way out: q, a signal, an error, or a
 * crash signal (then the default action follows); after -n's last frame,
 * that frame is left on it as text, as top -n leaves it.
 *
 * Names are UTF-8, shown in the locale's terminal: wide ncurses, each line
 * cut by the columns its characters take. Outside a UTF-8 locale, a
 * character beyond ASCII is a '?' per column (the table's columns kept).
 */
#define NCURSES_WIDECHAR 1	/* get_wch(): what is typed at a prompt, beyond ASCII */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>
#include <wchar.h>

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
static bool utf8_term;			/* the locale's characters are UTF-8 */
static const char *waiting = "heaptop: waiting for the first frame...";	/* no frame yet */
static bool ascii_term;			/* or ASCII alone (C, POSIX): a byte beyond it
					 * typed is no character */

/* what the screen shows, drawn again when a prompt sees a resize */
static struct {
	const struct live_frame *f;
	const struct top_state *st;
	const char *clock;
	bool help;
} on_screen;

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
	int hscroll;		/* top_state's */
};

/* @line as this terminal shows it (@ascii: room for it outside UTF-8); *@n its bytes in @cols */
static const char *line_fit(const char *line, int cols, char ascii[TOP_LINE_MAX], int *n)
{
	if (!utf8_term)
		line = text_ascii(line, ascii, TOP_LINE_MAX);
	*n = (int)text_head(line, cols > 0 ? cols : 0);
	return line;
}

/* @line at row @y from column 0, within the screen's columns */
static void put_line(int y, const char *line)
{
	char ascii[TOP_LINE_MAX];
	int n;

	line = line_fit(line, COLS, ascii, &n);
	mvaddnstr(y, 0, line, n);
}

static void emit_curses(void *ctx, enum top_attr attr, const char *line)
{
	struct draw *d = ctx;
	static const int attrs[] = {
		[TA_NORMAL] = A_NORMAL, [TA_HEADER] = A_REVERSE, [TA_TITLE] = A_BOLD,
		[TA_DIM] = A_DIM, [TA_ALERT] = A_BOLD | A_UNDERLINE,
	};

	if (d->y >= LINES - 1)	/* the last line is for the keys */
		return;
	if (attr & TA_TABLE)	/* scrolled: its first columns out on the left */
		line += text_head(line, d->hscroll);
	attrset(attrs[attr & ~TA_TABLE]);
	put_line(d->y++, line);
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
"  <- ->    scroll the table left / right (its columns past the screen)\n"
"  ?        this help (any key returns)\n"
"\n"
"Rows that vanished stay one refresh, dimmed; rows of cgroups removed while\n"
"traced are dimmed too, and named above the table; rows within a tenth of\n"
"their limit are underlined. LIMIT is dmem.max (memory.max for the system heap\n"
"when dma_heap.mem_accounting is on) of the cgroup or the ancestor whose\n"
"limit leaves the least HEADROOM: that limit less that cgroup's charge.\n"
"HITS counts the row's allocations a limit refused: dmem's EAGAIN and\n"
"memcg's refusals while traced; bpf-lsm's own count, read every 5 s (while\n"
"traced, since heaptop started, and in FAIL too). The title names the last.\n";

/* lines of @text from the top, each within the screen's columns (none wraps) */
static void draw_text(const char *text)
{
	char line[TOP_LINE_MAX];

	for (int y = 0; *text && y < LINES - 1; y++) {
		size_t n = strcspn(text, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		put_line(y, line);
		text += n + (text[n] == '\n');
	}
}

static void draw(struct live *l, const struct live_frame *f, const struct top_state *st,
		 const char *clock, bool help)
{
	struct draw d = { .hscroll = st->hscroll };

	on_screen.f = f, on_screen.st = st, on_screen.clock = clock, on_screen.help = help;
	erase();
	if (help) {
		draw_text(help_text);
	} else if (f) {
		top_render(l, f, st, clock, COLS, emit_curses, &d);
	} else {
		draw_text(waiting);
	}
	attrset(message[0] ? A_BOLD : A_REVERSE);
	put_line(LINES - 1, message[0] ? message :
		 "q quit  v view  < > s sort  c cgroup  h heap  p pause  + - interval  ? help");
	attrset(A_NORMAL);
	refresh();
}

/* a character typed at a prompt that is taken: printable, shown as typed */
static bool typed_ok(wint_t c)
{
	return c >= ' ' && c != 0x7f && (c < 0x80 || !ascii_term) && !(c >= 0x80 && c <= 0x9f) &&
	       c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff) && !text_bidi_control(c);
}

/* @c in UTF-8 at @out (4 bytes at most); its length */
static size_t utf8_put(uint32_t c, char *out)
{
	if (c < 0x80)
		return out[0] = c, 1;
	if (c < 0x800)
		return out[0] = 0xc0 | c >> 6, out[1] = 0x80 | (c & 0x3f), 2;
	if (c < 0x10000)
		return out[0] = 0xe0 | c >> 12, out[1] = 0x80 | (c >> 6 & 0x3f),
		       out[2] = 0x80 | (c & 0x3f), 3;
	return out[0] = 0xf0 | c >> 18, out[1] = 0x80 | (c >> 12 & 0x3f),
	       out[2] = 0x80 | (c >> 6 & 0x3f), out[3] = 0x80 | (c & 0x3f), 4;
}

/* read a line at the bottom, UTF-8; false when cancelled (Esc) */
static bool prompt(const char *what, char *buf, size_t len)
{
	bool cancel = false;
	size_t n = 0;

	buf[0] = '\0';
	curs_set(1);
	timeout(LIVE_DRAIN_MS);
	for (;;) {
		/* within the line: the end of what was typed when it is longer, in half
		 * the line at least (the label cut for it on a narrow terminal) */
		int label = (int)strlen(what) < COLS / 2 ? (int)strlen(what) : COLS / 2;
		int room = COLS - (label > 0 ? label : 0) - 2;
		char ascii[CGROUP_PATH_MAX * 4];
		const char *typed = utf8_term ? buf : text_ascii(buf, ascii, sizeof(ascii));
		wint_t ch;
		int r;

		move(LINES - 1, 0);
		clrtoeol();
		attrset(A_BOLD);
		mvaddnstr(LINES - 1, 0, what, label > 0 ? label : 0);
		if (room > 0) {
			addstr(": ");
			addstr(text_tail(typed, room - 1));
		}
		attrset(A_NORMAL);
		refresh();
		r = get_wch(&ch);
		if (r == ERR && !*exiting) {
			/* no key yet: the collector's ring is read meanwhile (its own
			 * errors come back at the next sample) */
			live_drain(live);
			continue;
		}
		if (*exiting || (r == OK && ch == 27)) {
			cancel = true;
			break;
		}
		if ((r == OK && (ch == '\n' || ch == '\r')) || (r == KEY_CODE_YES && ch == KEY_ENTER))
			break;
		if (r == KEY_CODE_YES && ch == KEY_RESIZE) {	/* the frame behind, to the new size */
			draw(live, on_screen.f, on_screen.st, on_screen.clock, on_screen.help);
		} else if ((r == KEY_CODE_YES && ch == KEY_BACKSPACE) ||
			   (r == OK && (ch == 127 || ch == 8))) {
			while (n && (buf[n - 1] & 0xc0) == 0x80)	/* a character's tail */
				n--;
			if (n)
				n--;
			buf[n] = '\0';
		} else if (r == OK && typed_ok(ch) && n + 5 < len) {
			n += utf8_put(ch, buf + n);
			buf[n] = '\0';
		}
	}
	curs_set(0);
	timeout(INPUT_POLL_MS);
	if (cancel)
		buf[0] = '\0';
	return !cancel;
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
	case KEY_LEFT:		/* the table's columns, 8 at a time */
		st->hscroll = st->hscroll > 8 ? st->hscroll - 8 : 0;
		return true;
	case KEY_RIGHT:
		if (st->hscroll + 8 < TOP_LINE_MAX)
			st->hscroll += 8;
		return true;
	case KEY_RESIZE:
		return true;
	}
	return false;
}

/* a line of the frame left on the terminal: within its columns */
static void emit_text(void *ctx, enum top_attr attr, const char *line)
{
	char ascii[TOP_LINE_MAX];
	int n;

	(void)attr;
	line = line_fit(line, *(int *)ctx, ascii, &n);
	printf("%.*s\n", n, line);
}

/*
 * A terminal the screen can be drawn on, or why not (then 1), before
 * anything loads: not after the collector's programs are attached.
 */
int top_term_check(void)
{
	const char *term = text_safe(getenv("TERM") ?: "");
	char *cup;
	int err;

	/* not initscr(), which exits on a terminal it does not know */
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK) {
		fprintf(stderr, "%s: cannot set up the terminal (%s%s): heaptop -b prints "
			"frames one after another\n", heapstat_cmd,
			!getenv("TERM") ? "TERM is not set" : *term ? "TERM=" : "TERM is empty",
			term);
		return 1;
	}
	/* TERM=dumb and its kind: known, but no cursor to draw a screen with */
	cup = tigetstr("cup");
	err = !cup || cup == (char *)-1;
	del_curterm(cur_term);
	if (err) {
		fprintf(stderr, "%s: TERM=%s cannot move the cursor: heaptop -b prints "
			"frames one after another\n", heapstat_cmd, term);
		return 1;
	}
	return 0;
}

int top_interactive(struct live *l, struct top_state *st, uint64_t count,
		    volatile sig_atomic_t *exit_flag)
{
	const struct live_frame *f = NULL, *last = NULL;
	uint64_t shown = 0;
	uint64_t next = now_ns() + top_first_ms(st->interval_ms) * 1000000ull, drained = now_ns();
	bool help = false;
	char clock[16] = "";
	int ret = 0, err, cols;

	exiting = exit_flag;
	live = l;
	/* the terminal's characters (LC_CTYPE only: numbers are printed as in C) */
	setlocale(LC_CTYPE, "");
	utf8_term = !strcmp(nl_langinfo(CODESET), "UTF-8");
	ascii_term = !strcmp(nl_langinfo(CODESET), "ANSI_X3.4-1968");
	/* the terminal as top_term_check() found it */
	if (!newterm(NULL, stdout, stdin)) {
		fprintf(stderr, "%s: cannot set up the terminal (TERM=%s)\n", heapstat_cmd,
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
			if (count && shown >= count) {
				last = f;	/* -n frames shown */
				break;
			}
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
			bool paused = st->paused;

			if (on_key(ch, st, &help) && !*exiting)
				draw(l, f, st, clock, help);
			if (st->interval_ms != was)	/* + and -: from now on (a first frame soon) */
				next = now_ns() + (f ? st->interval_ms :
						   top_first_ms(st->interval_ms)) * 1000000ull;
			if (paused && !st->paused && !*exiting) {
				/*
				 * resumed: the next frame's rates and latencies over
				 * an interval from now, not over the pause; its rows
				 * compared with the frame before the pause (one that
				 * vanished meanwhile shown, dimmed)
				 */
				err = live_rebase(l);
				if (err) {
					screen_off();
					heapstat_error(err, "sample", NULL);
					return 1;
				}
				f = NULL;
				waiting = "heaptop: resumed, the next frame in a moment...";
				draw(l, f, st, clock, help);
				next = now_ns() + top_first_ms(st->interval_ms) * 1000000ull;
			}
		}
	}
	cols = COLS;
	screen_off();
	if (last) {	/* left on the terminal, as top -n leaves its last frame */
		top_render(l, last, st, clock, cols, emit_text, &cols);
		fflush(stdout);
	}
	return ret;
}
