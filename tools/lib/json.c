// SPDX-License-Identifier: GPL-2.0
/* JSON output helpers. */
#include "json.h"

/* A quoted JSON string; control characters escaped, UTF-8 passed through. */
void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}
