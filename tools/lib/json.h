/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat's one JSON writer: streams to a FILE, places the commas, escapes
 * every string. Bytes that are not UTF-8 are written as \u00XX escapes of
 * their values, so the output is valid JSON whatever the kernel or a user
 * put in a name; controls (C0, DEL, C1) are escaped too, so JSON on a
 * terminal cannot move its cursor or set its title.
 */
#ifndef HEAPSTAT_JSON_H
#define HEAPSTAT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH	16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_DEPTH];		/* nothing written yet at this depth */
	char close[JSON_DEPTH];		/* '}' or ']' */
	bool keyed;			/* a key was written, its value comes next */
};

void json_init(struct json *j, FILE *f);
void json_object(struct json *j);
void json_array(struct json *j);
void json_end(struct json *j);		/* closes the innermost object or array */
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t max);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v);	/* NaN and infinities as null */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* a key and its value */
void json_kstr(struct json *j, const char *key, const char *s);
void json_ku64(struct json *j, const char *key, uint64_t v);
void json_kdouble(struct json *j, const char *key, double v);
void json_kbool(struct json *j, const char *key, bool v);
void json_ku64_or_null(struct json *j, const char *key, bool known, uint64_t v);
void json_kstr_or_null(struct json *j, const char *key, const char *s);

void json_escape(FILE *f, const char *s, size_t max);

#endif
