// SPDX-License-Identifier: GPL-2.0
/*
 * Terminal-safe text and RFC 4180 CSV. As ps and top do, controls are shown,
 * not obeyed: C0 controls and DEL in caret notation (ESC as ^[), C1 controls
 * (U+0080-U+009F, which some terminals take as CSI and OSC) and bytes that
 * are not UTF-8 as \xNN, the bidirectional controls (which make a name read
 * in another order than it is: U+202E "RIGHT-TO-LEFT OVERRIDE") as \uNNNN.
 * Other UTF-8 passes through.
 */
#define _GNU_SOURCE	/* fopencookie */
#include <errno.h>
#include <locale.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "text.h"
#include "util.h"

/**
 * utf8_char() - the length of the well-formed UTF-8 character at @p
 * @n: bytes available at @p
 * @cp: its code point
 *
 * Return: 1 to 4, or 0 for a byte that starts no well-formed character
 * (stray continuation, overlong form, surrogate, beyond U+10FFFF, cut short).
 */
size_t utf8_char(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len;

	if (!n)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* the bidirectional formatting characters: marks, embeddings, overrides, isolates */
bool text_bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* how a character is shown: written to out (at most 6 bytes), its length returned */
static size_t shown(const unsigned char *p, size_t n, char *out, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	size_t len = utf8_char(p, n, &cp);

	if (len && text_bidi_control(cp)) {	/* \u202e */
		out[0] = '\\';
		out[1] = 'u';
		for (int i = 0; i < 4; i++)
			out[2 + i] = hex[cp >> (12 - 4 * i) & 0xf];
		*used = len;
		return 6;
	}
	if (len && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f)) {
		memcpy(out, p, len);
		*used = len;
		return len;
	}
	if (len == 1) {		/* C0 or DEL: ^@ .. ^_, ^? */
		out[0] = '^';
		out[1] = cp == 0x7f ? '?' : (char)(cp + '@');
		*used = 1;
		return 2;
	}
	/* a C1 control (2 bytes, the first shown) or a byte that is not UTF-8 */
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[p[len ? 1 : 0] >> 4];
	out[3] = hex[p[len ? 1 : 0] & 0xf];
	*used = len ? len : 1;
	return 4;
}

/**
 * text_safe_buf() - @s, at most @max bytes of it, made safe for a terminal
 * @out: where it is written, @len bytes; a name that does not fit ends in "..."
 *
 * Return: @out.
 */
const char *text_safe_buf(const char *s, size_t max, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, max), o = 0;

	while (n) {
		char one[8];
		size_t used, w;

		/* printable ASCII, most of any name: as it is, without shown()'s copy */
		if (*p >= 0x20 && *p < 0x7f && o + 5 <= len) {
			out[o++] = *p++;
			n--;
			continue;
		}
		w = shown(p, n, one, &used);
		if (o + w + 4 > len) {	/* room for "..." and the NUL */
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, one, w);
		o += w;
		p += used;
		n -= used;
	}
	out[o] = '\0';
	return out;
}

/* text_safe_buf() into one of eight rotating buffers: for a printf's arguments */
const char *text_safe(const char *s)
{
	static char bufs[8][TEXT_MAX];
	static unsigned int next;

	return text_safe_buf(s, TEXT_MAX * 4, bufs[next++ % 8], TEXT_MAX);
}

/*
 * How many columns a code point takes: the C.UTF-8 locale's wcwidth() (wide
 * East Asian characters 2, combining marks 0), taken without changing the
 * program's locale; one a character where that locale is missing.
 */
static int char_columns(uint32_t cp)
{
	static locale_t utf8;
	static bool tried;
	locale_t was;
	int w;

	if (cp < 0x7f)
		return 1;
	if (!tried) {
		tried = true;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (!utf8)
		return 1;
	was = uselocale(utf8);
	w = wcwidth((wchar_t)cp);
	uselocale(was);
	return w < 0 ? 1 : w;
}

/* the columns a text_safe() string takes on a terminal */
size_t text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cols = 0;

	while (*p) {
		uint32_t cp;
		size_t len;

		if (*p < 0x80) {	/* most of any cell: heaptop pads a thousand rows a second */
			cols++, p++;
			continue;
		}
		len = utf8_char(p, strnlen((const char *)p, 4), &cp);
		cols += len ? char_columns(cp) : 1;
		p += len ? len : 1;
	}
	return cols;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * The bytes of what starts at @p in a text_safe() string, that a cut keeps
 * whole, and its columns in *@w: a character, or how shown() writes one
 * (^[, \x9b, \u202e; a name holding such text is cut the same way).
 */
static size_t piece(const unsigned char *p, int *w)
{
	uint32_t cp;
	size_t len, hex = 0;

	if (p[0] == '^' && ((p[1] >= '@' && p[1] <= '_') || p[1] == '?'))
		len = 2;
	else if (p[0] == '\\' && p[1] == 'x')
		len = 4, hex = 2;
	else if (p[0] == '\\' && p[1] == 'u')
		len = 6, hex = 4;
	else
		len = 0;
	for (size_t i = 0; i < hex && len; i++)	/* the NUL ends it: not hex */
		if (!is_hex(p[2 + i]))
			len = 0;
	if (len) {
		*w = (int)len;
		return len;
	}
	if (*p < 0x80) {
		*w = 1;
		return 1;
	}
	len = utf8_char(p, strnlen((const char *)p, 4), &cp);
	*w = len ? char_columns(cp) : 1;
	return len ?: 1;
}

/* where the end of @s that fits in @cols columns starts (a text_safe() string) */
const char *text_tail(const char *s, size_t cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = text_width(s);

	while (*p && left > cols) {
		int w;

		p += piece(p, &w);
		left -= (size_t)w < left ? (size_t)w : left;
	}
	return (const char *)p;
}

/* how many bytes of @s fit in @cols columns, a character never cut (a text_safe() string) */
size_t text_head(const char *s, size_t cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used = 0;

	while (*p) {
		int w;
		size_t len = piece(p, &w);

		if (used + w > cols)
			break;
		used += w;
		p += len;
	}
	return p - (const unsigned char *)s;
}

/*
 * @s with each character outside ASCII a '?' in each column it takes, for a
 * terminal whose locale is not UTF-8 (the columns a table counted kept):
 * into @out, @len bytes, cut where it is full.
 */
const char *text_ascii(const char *s, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	while (*p && o + 1 < len) {
		uint32_t cp;
		size_t n;
		int w;

		if (*p < 0x80) {
			out[o++] = *p++;
			continue;
		}
		n = utf8_char(p, strnlen((const char *)p, 4), &cp);
		w = n ? char_columns(cp) : 1;
		while (w-- > 0 && o + 1 < len)
			out[o++] = '?';
		p += n ?: 1;
	}
	out[o] = '\0';
	return out;
}

/*
 * text_safe() of @s in @cols columns, spaces after it (a table's cell,
 * left-aligned, as printf's "%-*s" would pad bytes): one of eight rotating
 * buffers, for a printf's arguments. A longer one is not cut.
 */
const char *text_cell(const char *s, size_t cols)
{
	static char bufs[8][2 * TEXT_MAX];	/* a column is at most TEXT_MAX wide */
	static unsigned int next;
	char *b = bufs[next++ % 8];
	size_t n, w;

	text_safe_buf(s, TEXT_MAX * 4, b, TEXT_MAX);
	n = strlen(b);
	for (w = text_width(b); w < cols && n < sizeof(bufs[0]) - 1; w++)
		b[n++] = ' ';
	b[n] = '\0';
	return b;
}

/* the columns text_cell() shows @s in, or @min when that is more: a table's column fit to its cells */
size_t text_cell_width(const char *s, size_t min)
{
	char b[TEXT_MAX];
	size_t w = text_width(text_safe_buf(s, TEXT_MAX * 4, b, sizeof(b)));

	return w > min ? w : min;
}

/*
 * One CSV field (RFC 4180): shown as text_safe() shows it but for line
 * breaks and tabs, which are kept; quoted when it holds a comma, a quote or
 * a line break, quotes doubled. A field a spreadsheet would take for a
 * formula (=, +, -, @, tab or CR first) gets a leading apostrophe.
 */
void csv_field(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		fputc('"', f);
	if (*s && strchr("=+-@\t\r", s[0]))
		fputc('\'', f);
	while (n) {
		char one[8];
		size_t used, w;

		if (*p == '\n' || *p == '\r' || *p == '\t') {
			fputc(*p, f);
			p++, n--;
			continue;
		}
		if (*p == '"')
			fputc('"', f);
		w = shown(p, n, one, &used);
		fwrite(one, 1, w, f);
		p += used;
		n -= used;
	}
	if (quote)
		fputc('"', f);
}

/* the length of the character that @p's @n bytes begin but do not finish, or 0 */
static size_t utf8_cut(const unsigned char *p, size_t n)
{
	size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 && p[0] <= 0xef ? 3 :
		     p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;

	if (n >= len)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* @p's @n bytes shown into @out (room for 6 per byte); the bytes taken in @used */
static size_t show_run(const unsigned char *p, size_t n, bool last, char *out, size_t *used)
{
	size_t o = 0, i = 0;

	while (i < n) {
		size_t u, w;

		if (p[i] == '\n' || p[i] == '\t' || (p[i] >= 0x20 && p[i] < 0x7f)) {
			out[o++] = (char)p[i++];
			continue;
		}
		if (!last && utf8_cut(p + i, n - i))
			break;
		w = shown(p + i, n - i, out + o, &u);
		o += w;
		i += u;
	}
	*used = i;
	return o;
}

/* the character held from the writes before, shown as it is */
static int write_held(struct safe_stream *s)
{
	char out[6 * 4];
	size_t used, o = show_run(s->held, s->nheld, true, out, &used);

	s->nheld = 0;
	return o ? write_all(s->fd, out, o) : 0;
}

static ssize_t safe_write(void *cookie, const char *buf, size_t size)
{
	struct safe_stream *s = cookie;
	const unsigned char *p = (const unsigned char *)buf;
	char out[6 * 256];
	size_t left = size;

	while (s->nheld && left) {	/* the end of a character cut before */
		if ((*p & 0xc0) != 0x80) {	/* it never ends */
			if (write_held(s))
				return -1;
			break;
		}
		s->held[s->nheld++] = *p++;
		left--;
		if (!utf8_cut(s->held, s->nheld) && write_held(s))
			return -1;
	}
	while (left) {
		size_t used, chunk = left < 256 ? left : 256;
		size_t o = show_run(p, chunk, false, out, &used);

		if (o && write_all(s->fd, out, o))
			return -1;
		p += used;
		left -= used;
		if (used < chunk && !(chunk < left + used)) {	/* cut by this write's end */
			memcpy(s->held, p, left);
			s->nheld = left;
			left = 0;
		}
	}
	return (ssize_t)size;
}

static int safe_close(void *cookie)
{
	return write_held(cookie);
}

/**
 * text_safe_stream() - an unbuffered stream that writes to @fd what it is given,
 * made safe for a terminal (line breaks and tabs kept)
 * @s: its state, the caller's, which outlives the stream (stderr's: static)
 *
 * It shows text as csv_field() does: every control but those two shown, not
 * obeyed. heapstat's stderr is one, so that a name reaching a message (a
 * file, an option, an argument), getopt's and argp's own messages included,
 * which print such names as they are, never reaches a terminal raw. A
 * character that one write cuts is held for the next.
 *
 * Return: the stream, or NULL with errno set.
 */
FILE *text_safe_stream(struct safe_stream *s, int fd)
{
	cookie_io_functions_t io = { .write = safe_write, .close = safe_close };
	FILE *f;

	*s = (struct safe_stream){ .fd = fd };
	f = fopencookie(s, "w", io);
	if (f)
		setvbuf(f, NULL, _IONBF, 0);
	return f;
}
