// SPDX-License-Identifier: GPL-2.0
/* Host unit tests: number parsing, size formatting, JSON strings. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "lib/json.h"
#include "lib/text.h"
#include "lib/util.h"

static void parse_u64_accepts_range(void)
{
	uint64_t v = 0;

	CHECK_EQ(parse_u64("0", 0, 10, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse_u64("10", 0, 10, &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	CHECK(v == UINT64_MAX, "%llu", (unsigned long long)v);
}

static void parse_u64_rejects_bad_input(void)
{
	uint64_t v = 42;

	CHECK_EQ(parse_u64("11", 0, 10, &v), -ERANGE);
	CHECK_EQ(parse_u64("0", 1, 10, &v), -ERANGE);
	CHECK_EQ(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	CHECK_EQ(parse_u64("-1", 0, UINT64_MAX, &v), -EINVAL);
	CHECK_EQ(parse_u64("", 0, 10, &v), -EINVAL);
	CHECK_EQ(parse_u64("5x", 0, 10, &v), -EINVAL);
	CHECK_EQ(parse_u64(" 5", 0, 10, &v), -EINVAL);
	CHECK_EQ(parse_u64("\t5", 0, 10, &v), -EINVAL);
	CHECK_EQ(parse_u64("\n-1", 0, UINT64_MAX, &v), -EINVAL);
	CHECK_EQ(parse_u64(NULL, 0, 10, &v), -EINVAL);
	CHECK_EQ(v, 42);	/* untouched on error */
}

static void parse_size_suffixes(void)
{
	uint64_t v;

	CHECK_EQ(parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(parse_size("4K", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(parse_size("4KiB", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(parse_size("32M", &v), 0);
	CHECK_EQ(v, 32ull << 20);
	CHECK_EQ(parse_size("2g", &v), 0);
	CHECK_EQ(v, 2ull << 30);
	CHECK_EQ(parse_size("17179869183G", &v), 0);
	CHECK_EQ(parse_size("17179869184G", &v), -ERANGE);
	CHECK_EQ(parse_size("4X", &v), -EINVAL);
	CHECK_EQ(parse_size("K", &v), -EINVAL);
	CHECK_EQ(parse_size("4B", &v), -EINVAL);
	CHECK_EQ(parse_size("64Mi", &v), 0);
	CHECK_EQ(v, 64ull << 20);
	CHECK_EQ(parse_size("8kiB", &v), 0);	/* in either case, as documented */
	CHECK_EQ(v, 8192);
	CHECK_EQ(parse_size("8KIB", &v), 0);
	CHECK_EQ(v, 8192);
	CHECK_EQ(parse_size("2gIB", &v), 0);
	CHECK_EQ(v, 2ull << 30);
	CHECK_EQ(parse_size("1kib", &v), -EINVAL);	/* a b is a bit */
	CHECK_EQ(parse_size("1kb", &v), -EINVAL);
	CHECK_EQ(parse_size("1KiBB", &v), -EINVAL);
	CHECK_EQ(parse_size("1MB", &v), -EINVAL);	/* 10^6 to some: said, not guessed */
	CHECK_EQ(parse_size("1kB", &v), -EINVAL);
	CHECK_EQ(parse_size("1GiBs", &v), -EINVAL);
	CHECK_EQ(parse_size("-4K", &v), -EINVAL);
	CHECK_EQ(parse_size("\t-2", &v), -EINVAL);	/* strtoull() would take both */
	CHECK_EQ(parse_size("\n4K", &v), -EINVAL);
}

static void parse_interval(void)
{
	uint64_t ms;

	CHECK_EQ(parse_interval_ms("1", &ms), 0);
	CHECK_EQ(ms, 1000);
	CHECK_EQ(parse_interval_ms("0.5", &ms), 0);
	CHECK_EQ(ms, 500);
	CHECK_EQ(parse_interval_ms(".25", &ms), 0);
	CHECK_EQ(ms, 250);
	CHECK_EQ(parse_interval_ms("0.001", &ms), 0);
	CHECK_EQ(ms, 1);
	CHECK_EQ(parse_interval_ms("86400", &ms), 0);
	CHECK_EQ(ms, 86400000);
	CHECK_EQ(parse_interval_ms("86401", &ms), -ERANGE);
	CHECK_EQ(parse_interval_ms("86400.001", &ms), -ERANGE);
	CHECK_EQ(parse_interval_ms("0", &ms), -ERANGE);
	CHECK_EQ(parse_interval_ms("0.0001", &ms), -EINVAL);
	CHECK_EQ(parse_interval_ms("1.0000", &ms), 0);		/* a millisecond's zeros */
	CHECK_EQ(ms, 1000);
	CHECK_EQ(parse_interval_ms("0.1000", &ms), 0);
	CHECK_EQ(ms, 100);
	CHECK_EQ(parse_interval_ms("0.0010", &ms), 0);
	CHECK_EQ(ms, 1);
	CHECK_EQ(parse_interval_ms("0.00101", &ms), -EINVAL);
	CHECK_EQ(parse_interval_ms("1s", &ms), -EINVAL);
	CHECK_EQ(parse_interval_ms(".", &ms), -EINVAL);
	CHECK_EQ(parse_interval_ms("", &ms), -EINVAL);
	CHECK_EQ(parse_interval_ms("-1", &ms), -EINVAL);
	CHECK_EQ(parse_interval_ms("99999999999999999999999", &ms), -ERANGE);

	/* and a period of none */
	ms = 1;
	CHECK_EQ(parse_interval_or_zero_ms("0", &ms), 0);
	CHECK_EQ(ms, 0);
	ms = 1;
	CHECK_EQ(parse_interval_or_zero_ms("00.000", &ms), 0);
	CHECK_EQ(ms, 0);
	CHECK_EQ(parse_interval_or_zero_ms("2.5", &ms), 0);
	CHECK_EQ(ms, 2500);
	CHECK_EQ(parse_interval_or_zero_ms(".", &ms), -EINVAL);
	CHECK_EQ(parse_interval_or_zero_ms("", &ms), -EINVAL);
	CHECK_EQ(parse_interval_or_zero_ms("0.0.0", &ms), -EINVAL);
	CHECK_EQ(parse_interval_or_zero_ms("0.0001", &ms), -EINVAL);
	CHECK_EQ(parse_interval_or_zero_ms("86401", &ms), -ERANGE);
}

static void format_sizes(void)
{
	char b[16];

	CHECK(!strcmp(format_size(0, b, sizeof(b)), "0"), "%s", b);
	CHECK(!strcmp(format_size(1023, b, sizeof(b)), "1023"), "%s", b);
	CHECK(!strcmp(format_size(1024, b, sizeof(b)), "1.0K"), "%s", b);
	CHECK(!strcmp(format_size(3 << 19, b, sizeof(b)), "1.5M"), "%s", b);
	CHECK(!strcmp(format_size(UINT64_MAX, b, sizeof(b)), "16.0E"), "%s", b);
	CHECK(!strcmp(format_size(1280, b, sizeof(b)), "1.2K"), "%s", b);	/* 1.25: half to even */
	CHECK(!strcmp(format_size(1382, b, sizeof(b)), "1.3K"), "%s", b);	/* 1.3496 */
	/* rounded up to 1024.0 of a unit: 1.0 of the next */
	CHECK(!strcmp(format_size(1048575, b, sizeof(b)), "1.0M"), "%s", b);
	CHECK(!strcmp(format_size(1048524, b, sizeof(b)), "1023.9K"), "%s", b);
	CHECK(!strcmp(format_size(1073741823, b, sizeof(b)), "1.0G"), "%s", b);
	CHECK(!strcmp(format_size((1ull << 60) - 1, b, sizeof(b)), "1.0E"), "%s", b);
}

/* durations: a unit's 1000.0 (60.0 of minutes and hours) is 1.0 of the next */
static void format_durations(void)
{
	static const struct { uint64_t ns; const char *want; } t[] = {
		{ 0, "0ns" }, { 999, "999ns" }, { 1000, "1.0us" }, { 19500, "19.5us" },
		{ 999949, "999.9us" }, { 999950, "1.0ms" }, { 999999, "1.0ms" },
		{ 2100000, "2.1ms" }, { 999999999, "1.0s" }, { 59949999999ull, "59.9s" },
		{ 59999999999ull, "1.0m" }, { 3599999999999ull, "1.0h" },
		{ 7200000000000ull, "2.0h" }, { UINT64_MAX, "5124095.6h" },
	};
	char b[32];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		format_ns(t[i].ns, b, sizeof(b));
		CHECK(!strcmp(b, t[i].want), "%llu: %s, not %s", (unsigned long long)t[i].ns, b,
		      t[i].want);
	}
}

/* decimal as printf's %llu writes it, cut to the room given */
static void format_u64s(void)
{
	uint64_t v[] = { 0, 7, 10, 999, 1000, 4294967296ull, UINT64_MAX };
	char b[24], want[24];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v[i]);
		CHECK_EQ(format_u64(v[i], b, sizeof(b)), strlen(want));
		CHECK(!strcmp(b, want), "%s != %s", b, want);
	}
	CHECK_EQ(format_u64(12345, b, 4), 3);
	CHECK(!strcmp(b, "123"), "%s", b);
	CHECK_EQ(format_u64(5, b, 0), 0);
}

/* a number wider than heaptop's column: fewer digits, the same value */
static void fit_numbers(void)
{
	static const struct { const char *num; size_t width; const char *want; } t[] = {
		{ "99999", 5, "99999" },		/* fits */
		{ "1000000.0", 8, "1000000" },		/* age past 11.6 days: the tenth dropped */
		{ "9999999.9", 7, "10000k" },		/* rounds past the width */
		{ "123456", 5, "123k" },		/* 123.5k is 6 */
		{ "1234567", 5, "1235k" },
		{ "12345678", 5, "12.3M" },
		{ ">12345678", 8, ">12346k" },		/* the '>' kept */
		{ "18446744073709551615", 5, "18.4E" },
		{ "18446744073709551615", 4, "18E" },
		{ "999950", 5, "1000k" },
		{ "gone", 2, "gone" },			/* no number: as it is */
		{ "1e10", 3, "1e10" },
		{ "12.3.4", 3, "12.3.4" },
		{ "-", 0, "-" },
		{ ">", 0, ">" },
	};
	char b[32];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		const char *got = fit_number(t[i].num, t[i].width, b, sizeof(b));

		CHECK(!strcmp(got, t[i].want), "%s in %zu: %s, not %s", t[i].num, t[i].width, got,
		      t[i].want);
	}
}

/* the integer rounding agrees with printf's %.1f of the exact quotient */
static void format_sizes_match_printf(void)
{
	uint64_t x = 88172645463325252ull;
	char a[32], b[32];

	for (int i = 0; i < 200000; i++) {
		uint64_t bytes;
		double v;
		int u = -1;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		bytes = x >> (x % 53 + 11);	/* below 2^53: exact as a double */
		if (i < 4096)
			bytes = 1024 + i * 5;	/* small ones, ties among them */
		for (v = bytes; v >= 1024 && u < 5; v /= 1024)
			u++;
		if (bytes < 1024)
			snprintf(a, sizeof(a), "%llu", (unsigned long long)bytes);
		else if (snprintf(a, sizeof(a), "%.1f%c", v, "KMGTPE"[u]) && u < 5 && v >= 1023.95)
			snprintf(a, sizeof(a), "%.1f%c", v / 1024, "KMGTPE"[u + 1]);	/* 1024.0 */
		format_size(bytes, b, sizeof(b));
		CHECK(!strcmp(a, b), "%llu: %s, printf %s", (unsigned long long)bytes, b, a);
		if (strcmp(a, b))
			break;
	}
}

/* what a function wrote to a FILE, as a string to free() */
static char *written(void (*fn)(FILE *f, const void *arg), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void write_json_string(FILE *f, const void *s)
{
	struct json j;

	json_init(&j, f);
	json_str(&j, s);
}

static void json_strings(void)
{
	char *s = written(write_json_string, "a\"b\\c\n\x01\x7f\xc3\xa9");

	CHECK(!strcmp(s, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\xc3\xa9\""), "%s", s);
	free(s);
	/* not UTF-8: a stray continuation byte, an overlong '/', a surrogate, a cut
	 * sequence; a C1 control (U+009B, CSI); four-byte UTF-8 passes */
	s = written(write_json_string, "\x80x\xc0\xaf\xed\xa0\x80\xc2\x9b\xf0\x9f\x98\x80\xe2\x82");
	CHECK(!strcmp(s, "\"\\u0080x\\u00c0\\u00af\\u00ed\\u00a0\\u0080\\u009b\xf0\x9f\x98\x80"
		      "\\u00e2\\u0082\""), "%s", s);
	free(s);
	/* a bidirectional control (U+202E RIGHT-TO-LEFT OVERRIDE), which would make
	 * a terminal show what follows reversed: escaped, the same string */
	s = written(write_json_string, "a\xe2\x80\xae" "b");
	CHECK(!strcmp(s, "\"a\\u202eb\""), "%s", s);
	free(s);
}

static void write_json_doc(FILE *f, const void *arg)
{
	struct json j;

	(void)arg;
	json_init(&j, f);
	json_object(&j);
	json_kstr(&j, "a", "x");
	json_key(&j, "b");
	json_array(&j);
	json_u64(&j, 1);
	json_object(&j);
	json_end(&j);
	json_null(&j);
	json_double(&j, 0.0 / 0.0);
	json_end(&j);
	json_ku64_or_null(&j, "c", false, 5);
	json_kbool(&j, "d", true);
	json_end(&j);
}

/* commas where they belong, one document per line, NaN as null */
static void json_documents(void)
{
	char *s = written(write_json_doc, NULL);

	CHECK(!strcmp(s, "{\"a\":\"x\",\"b\":[1,{},null,null],\"c\":null,\"d\":true}\n"), "%s", s);
	free(s);
}

static void text_is_terminal_safe(void)
{
	char out[64];

	/* an OSC title sequence, a BEL, DEL, a C1 CSI, a byte that is not UTF-8 */
	CHECK(!strcmp(text_safe("\x1b]0;pwned\x07"), "^[]0;pwned^G"), "%s", text_safe("\x1b]0;x"));
	CHECK(!strcmp(text_safe("a\x7f" "b\xc2\x9b" "c\xff"), "a^?b\\x9bc\\xff"), "%s",
	      text_safe("a\x7f"));
	CHECK(!strcmp(text_safe("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac"), "utf-8");
	/* bidirectional overrides and isolates: shown, not obeyed */
	CHECK(!strcmp(text_safe("evil\xe2\x80\xaegpj.exe \xe2\x81\xa6x\xe2\x81\xa9 \xd8\x9c"),
		      "evil\\u202egpj.exe \\u2066x\\u2069 \\u061c"), "%s",
	      text_safe("evil\xe2\x80\xaegpj.exe \xe2\x81\xa6x\xe2\x81\xa9 \xd8\x9c"));
	/* cut to the buffer, never inside an escape */
	text_safe_buf("\x1b\x1b\x1b\x1b\x1b\x1b", SIZE_MAX, out, 10);
	CHECK(!strcmp(out, "^[^[^[..."), "%s", out);
	text_safe_buf("abcdef", 3, out, sizeof(out));
	CHECK(!strcmp(out, "abc"), "%s", out);
	text_safe_buf("abcdefghij", SIZE_MAX, out, 8);
	CHECK(!strcmp(out, "abcd..."), "%s", out);
	text_safe_buf("ab\x1b" "cdefghij", SIZE_MAX, out, 10);
	CHECK(!strcmp(out, "ab^[cd..."), "%s", out);
}

/* what text_safe_stream() passes on of @s written in two writes, cut at @cut */
static char *streamed(const char *s, size_t cut)
{
	struct safe_stream st;
	FILE *back = tmpfile();
	FILE *f = text_safe_stream(&st, fileno(back));
	static char out[256];
	size_t n;

	fwrite(s, 1, cut, f);
	fwrite(s + cut, 1, strlen(s) - cut, f);
	fclose(f);
	rewind(back);
	n = fread(out, 1, sizeof(out) - 1, back);
	out[n] = '\0';
	fclose(back);
	return out;
}

#define CHECK_STR(got, want) CHECK(!strcmp((got), (want)), "got '%s', want '%s'", (got), (want))

/*
 * Screen columns: wide characters 2, combining marks 0, a shown control its
 * notation (the widths are the C.UTF-8 locale's: Debian's libc-bin has it)
 */
static void text_columns(void)
{
	CHECK_EQ(text_width("/camera"), 7);
	CHECK_EQ(text_width("/\xd0\xba\xd0\xb0\xd0\xbc"), 4);		/* /кам */
	CHECK_EQ(text_width("/\xe4\xb8\xad\xe6\x96\x87"), 5);		/* /中文 */
	CHECK_EQ(text_width("e\xcc\x81"), 1);				/* e, U+0301 */
	CHECK_EQ(text_width(text_safe("\033x\xff")), 7);		/* ^[x\xff */
	CHECK_STR(text_tail("/\xe4\xb8\xad\xe6\x96\x87", 3), "\xe6\x96\x87");	/* 文: 2 fit */
	CHECK_STR(text_tail("/\xe4\xb8\xad\xe6\x96\x87", 5), "/\xe4\xb8\xad\xe6\x96\x87");
	CHECK_STR(text_tail("ab", 0), "");
	CHECK_EQ(text_head("/\xe4\xb8\xad\xe6\x96\x87", 4), 4);		/* /中: 文 cut whole */
	CHECK_EQ(text_head("/\xe4\xb8\xad\xe6\x96\x87", 5), 7);
	CHECK_EQ(text_head("e\xcc\x81x", 1), 3);			/* the mark with its e */
	CHECK_EQ(text_head("abc", 0), 0);
	/* a control as shown is cut whole, never its ^ or \ alone */
	CHECK_EQ(text_head("ab^[c", 3), 2);
	CHECK_EQ(text_head("ab^[c", 4), 4);
	CHECK_EQ(text_head("\\u202ex", 5), 0);
	CHECK_EQ(text_head("a\\x9b", 4), 1);
	CHECK_EQ(text_head("\\x", 1), 1);				/* no escape: cut anywhere */
	CHECK_EQ(text_head("\\x9", 2), 2);
	CHECK_EQ(text_head("^ab", 1), 1);
	CHECK_STR(text_tail("a^[b", 2), "b");
	CHECK_STR(text_tail("a^[b", 3), "^[b");
	CHECK_STR(text_tail("\\x9bab", 5), "ab");
	CHECK_STR(text_tail("/a\\u202e", 6), "\\u202e");
	CHECK_STR(text_tail("/a\\u202e", 5), "");
	{
		char a[16];

		CHECK_STR(text_ascii("/\xe4\xb8\xad\xd0\xba.", a, sizeof(a)), "/???.");
		CHECK_STR(text_ascii("\xe4\xb8\xad\xe4\xb8\xad", a, 4), "???");	/* cut: full */
	}
	CHECK_STR(text_cell("/\xe4\xb8\xad", 6), "/\xe4\xb8\xad   ");	/* 3 columns + 3 */
	CHECK_STR(text_cell("\033", 4), "^[  ");
	CHECK_STR(text_cell("longer", 2), "longer");
}

/* stderr's stream: controls shown, lines and tabs kept, a character cut between writes whole */
static void text_stream_is_terminal_safe(void)
{
	static const char in[] = "a\x1b[2J\tcaf\xc3\xa9 \xe2\x80\xae\xf0\x9f\x98\x80\n\xc3";
	static const char want[] = "a^[[2J\tcaf\xc3\xa9 \\u202e\xf0\x9f\x98\x80\n\\xc3";

	for (size_t cut = 0; cut <= strlen(in); cut++) {
		char *got = streamed(in, cut);

		CHECK(!strcmp(got, want), "cut at %zu: %s", cut, text_safe(got));
	}
	/* a character that never ends, then one that does */
	CHECK(!strcmp(streamed("\xe2\x80" "\xc3\xa9x", 2), "\\xe2\\x80\xc3\xa9x"), "%s",
	      text_safe(streamed("\xe2\x80" "\xc3\xa9x", 2)));
}

static void write_csv(FILE *f, const void *s)
{
	csv_field(f, s);
}

/* RFC 4180 quoting; no field a spreadsheet takes for a formula */
static void csv_fields(void)
{
	static const char * const cases[][2] = {
		{ "plain", "plain" },
		{ "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "two\nlines", "\"two\nlines\"" },
		{ "=1+1", "'=1+1" },
		{ "+cmd", "'+cmd" },
		{ "-2", "'-2" },
		{ "@SUM(A1)", "'@SUM(A1)" },
		{ "=a,b", "\"'=a,b\"" },
		{ "\x1b[31m", "^[[31m" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = written(write_csv, cases[i][0]);

		CHECK(!strcmp(s, cases[i][1]), "case %zu: %s", i, s);
		free(s);
	}
}

static void grow_array_doubles(void)
{
	int *v = NULL;
	size_t cap = 0;

	for (size_t n = 0; n < 1000; n++) {
		CHECK_EQ(grow_array((void **)&v, &cap, n, sizeof(*v)), 0);
		CHECK(cap > n, "cap %zu for element %zu", cap, n);
		v[n] = n;
	}
	CHECK_EQ(cap, 1024);
	CHECK_EQ(v[999], 999);
	free(v);
}

struct rec {
	uint32_t key;
	char pad[13];		/* an odd size, as the iterators' records are not */
};

static int cmp_rec(const void *a, const void *b)
{
	uint32_t x = ((const struct rec *)a)->key, y = ((const struct rec *)b)->key;

	return (x > y) - (x < y);
}

/* in order, reversed, shuffled, equal keys, 0 to 3 and 1000 elements: all end ascending */
static void sort_ordered_sorts(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 1000 };
	struct rec v[1000];

	for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++)
		for (int order = 0; order < 4; order++) {
			size_t n = sizes[s];

			for (size_t i = 0; i < n; i++) {
				uint32_t k = order == 0 ? i : order == 1 ? n - i : order == 2 ?
					     (uint32_t)(i * 7919 % 1009) : 5;

				v[i] = (struct rec){ .key = k };
				memset(v[i].pad, (int)k, sizeof(v[i].pad));
			}
			sort_ordered(v, n, sizeof(*v), cmp_rec);
			for (size_t i = 0; i < n; i++) {
				CHECK(!i || v[i - 1].key <= v[i].key, "order %d n %zu at %zu: %u > %u",
				      order, n, i, v[i - 1].key, v[i].key);
				CHECK(v[i].pad[12] == (char)v[i].key, "order %d n %zu: record torn", order, n);
			}
		}
}

/*
 * sort_by_u64: ascending, stable (equal keys keep their order), no record
 * torn or lost, keys in one 16-bit digit or spread over all four, ascending
 * or descending already (with and without equal keys), almost so (with
 * and without equal keys, a run far out of place, and keys far out of
 * place often enough to stop their insertion partway), with n from 0 to
 * past a digit's 65536 values.
 */
struct urec {
	uint32_t seq;
	uint64_t key;
	uint64_t check;		/* key ^ seq: the record moved whole */
};

static void sort_by_u64_sorts(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 1000, 100000 };
	static struct urec v[100000];

	for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++)
		for (int order = 0; order < 11; order++) {
			size_t n = sizes[s];
			uint64_t sum = 0, sum_after = 0;

			for (size_t i = 0; i < n; i++) {
				uint64_t k = order == 0 ? i : order == 1 ? n - i :
					     order == 2 ? i * 7919 % 1009 : order == 3 ? 5 :
					     /* all four digits, and duplicates */
					     order == 4 ? ((uint64_t)(i % 3) << 62) |
							  (i * 2654435761u % 65537) << 16 | i % 7 :
					     /* descending, each key twice: not reversed, sorted */
					     order == 5 ? (n - i) / 2 :
					     /* almost descending, almost ascending: a pair swapped in
					      * every 100, sorted by insertion; then keys repeated */
					     order == 6 ? n - i + (i % 100 == 1 ? 2 : 0) :
					     order == 7 ? i + (i % 100 == 1 ? 2 : 0) :
					     order == 8 ? (n - i) / 3 + (i % 100 == 7) :
					     /* almost ascending, but each step down goes to the
					      * front: the insertion runs out of moves partway,
					      * the radix sort finishes (equal keys, too) */
					     order == 10 ? (i % 100 == 50 ? 0 : i) :
					     /* one step down, far: too many moves, sorted by radix */
					     (i + n / 128) % n;

				v[i] = (struct urec){ .seq = i, .key = k, .check = k ^ i };
				sum += k;
			}
			sort_by_u64(v, n, sizeof(*v), offsetof(struct urec, key));
			for (size_t i = 0; i < n; i++) {
				sum_after += v[i].key;
				CHECK(v[i].check == (v[i].key ^ v[i].seq), "order %d n %zu: record torn", order, n);
				if (!i)
					continue;
				CHECK(v[i - 1].key < v[i].key ||
				      (v[i - 1].key == v[i].key && v[i - 1].seq < v[i].seq),
				      "order %d n %zu at %zu: (%llu, %u) before (%llu, %u)", order, n, i,
				      (unsigned long long)v[i - 1].key, v[i - 1].seq,
				      (unsigned long long)v[i].key, v[i].seq);
			}
			CHECK(sum == sum_after, "order %d n %zu: keys lost", order, n);
		}
}

int main(void)
{
	RUN(parse_u64_accepts_range);
	RUN(fit_numbers);
	RUN(parse_u64_rejects_bad_input);
	RUN(parse_size_suffixes);
	RUN(parse_interval);
	RUN(format_sizes);
	RUN(format_durations);
	RUN(format_u64s);
	RUN(format_sizes_match_printf);
	RUN(json_strings);
	RUN(json_documents);
	RUN(text_is_terminal_safe);
	RUN(text_columns);
	RUN(text_stream_is_terminal_safe);
	RUN(csv_fields);
	RUN(grow_array_doubles);
	RUN(sort_ordered_sorts);
	RUN(sort_by_u64_sorts);
	return tests_failed ? 1 : 0;
}
