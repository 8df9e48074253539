// SPDX-License-Identifier: GPL-2.0
/* The JSON writer (see json.h). */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "text.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->keyed = false;
}

/* before a value or a key: the comma that separates it from the one before */
static void sep(struct json *j)
{
	if (j->keyed) {
		j->keyed = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void open_with(struct json *j, char open, char close)
{
	sep(j);
	fputc(open, j->f);
	if (j->depth < JSON_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
	j->close[j->depth] = close;
}

void json_object(struct json *j)
{
	open_with(j, '{', '}');
}

void json_array(struct json *j)
{
	open_with(j, '[', ']');
}

void json_end(struct json *j)
{
	if (!j->depth)
		return;
	fputc(j->close[j->depth], j->f);
	j->depth--;
	if (!j->depth)		/* a document per line: heaptop -j's frames */
		fputc('\n', j->f);
}

/* @s, at most @max bytes, as the inside of a JSON string */
void json_escape(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, max);

	while (n) {
		uint32_t cp;
		size_t len = utf8_char(p, n, &cp);

		if (!len) {		/* not UTF-8: the byte's value, escaped */
			fprintf(f, "\\u%04x", *p);
			p++, n--;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (char)cp);
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || text_bidi_control(cp))
			fprintf(f, "\\u%04x", cp);	/* the same string, safe on a terminal */
		else
			fwrite(p, 1, len, f);
		p += len;
		n -= len;
	}
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	fputc('"', j->f);
	json_escape(j->f, key, SIZE_MAX);
	fputs("\":", j->f);
	j->keyed = true;
}

void json_strn(struct json *j, const char *s, size_t max)
{
	sep(j);
	fputc('"', j->f);
	json_escape(j->f, s, max);
	fputc('"', j->f);
}

void json_str(struct json *j, const char *s)
{
	json_strn(j, s, SIZE_MAX);
}

void json_u64(struct json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_double(struct json *j, double v)
{
	sep(j);
	if (isfinite(v))
		fprintf(j->f, "%.6f", v);
	else
		fputs("null", j->f);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	sep(j);
	fputs("null", j->f);
}

void json_kstr(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_ku64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kdouble(struct json *j, const char *key, double v)
{
	json_key(j, key);
	json_double(j, v);
}

void json_kbool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

/* "key": "s", or "key": null for no string */
void json_kstr_or_null(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s)
		json_str(j, s);
	else
		json_null(j);
}

void json_ku64_or_null(struct json *j, const char *key, bool known, uint64_t v)
{
	json_key(j, key);
	if (known)
		json_u64(j, v);
	else
		json_null(j);
}
