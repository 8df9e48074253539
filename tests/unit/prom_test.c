// SPDX-License-Identifier: GPL-2.0
/* Host unit tests: the Prometheus exposition encoder (tools/lib/prom.c). */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "lib/prom.h"
#include "lib/text.h"

/* what fn writes, as a string (the caller frees it) */
static char *written(void (*fn)(struct prom *p), enum prom_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct prom p;

	prom_init(&p, f, fmt);
	fn(&p);
	fclose(f);
	return buf;
}

#define CHECK_STR(got, want) \
	CHECK(!strcmp((got), (want)), "got:\n%s\nwant:\n%s", (got), (want))

static void hostile_label(struct prom *p)
{
	struct prom_label l[] = {
		{ "cgroup", "/a\\b\"c\nd" },
		{ "heap", "x\xff" "y\xc3\xa9z" },	/* a stray byte, then é */
	};

	prom_family(p, "t_held_bytes", PROM_GAUGE, "held");
	prom_u64(p, l, 2, 7);
}

static void label_values_escaped(void)
{
	char *s = written(hostile_label, PROM_TEXT);

	CHECK_STR(s, "# HELP t_held_bytes held\n# TYPE t_held_bytes gauge\n"
		  "t_held_bytes{cgroup=\"/a\\\\b\\\"c\\nd\",heap=\"x\\\\xffy\xc3\xa9z\"} 7\n");
	free(s);
}

static void label_value_alone(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	prom_label_value(f, "\"\\\n\"");
	prom_label_value(f, "\xe2\x80");	/* a character cut short */
	prom_label_value(f, "\xed\xa0\x80");	/* a surrogate */
	fclose(f);
	CHECK_STR(buf, "\\\"\\\\\\n\\\"\\\\xe2\\\\x80\\\\xed\\\\xa0\\\\x80");
	free(buf);
}

/* a value as Prometheus reads it (\\, \", \n), then as a name (prom_label_value()) */
static size_t read_back(const char *w, unsigned char *out)
{
	const char *hex = "0123456789abcdef";
	char v[256];
	size_t n = 0, k = 0;

	for (size_t i = 0; w[i]; i++) {
		if (w[i] == '\\')
			i++, v[n++] = w[i] == 'n' ? '\n' : w[i];
		else
			v[n++] = w[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n && v[i + 1] == '\\') {
			out[k++] = '\\';
			i++;
		} else if (v[i] == '\\' && i + 3 < n && v[i + 1] == 'x' && v[i + 2] &&
			   strchr("89abcdef", v[i + 2]) && v[i + 3] && strchr(hex, v[i + 3])) {
			out[k++] = (unsigned char)((strchr(hex, v[i + 2]) - hex) << 4 |
						   (strchr(hex, v[i + 3]) - hex));
			i += 3;
		} else {
			out[k++] = (unsigned char)v[i];
		}
	}
	return k;
}

/*
 * Names of backslashes, x, hex digits, stray bytes, é, quotes and newlines:
 * each reads back from its value as it was (no two names one value), and the
 * value is UTF-8
 */
static void label_values_read_back(void)
{
	static const unsigned char alphabet[] = { '\\', 'x', '8', 'f', '0', 'a', 0xff, 0x80,
						  0xc3, 0xa9, '\n', '"', 'n' };
	unsigned int seed = 1;

	for (int t = 0; t < 200000; t++) {
		unsigned char name[16], back[64];
		size_t len = rand_r(&seed) % 10, n;
		char *buf = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&buf, &blen);

		for (size_t i = 0; i < len; i++)
			name[i] = alphabet[rand_r(&seed) % sizeof(alphabet)];
		name[len] = '\0';
		prom_label_value(f, (const char *)name);
		fclose(f);
		n = read_back(buf, back);
		CHECK(n == len && !memcmp(back, name, len), "'%s' read back as %zu bytes", buf, n);
		for (size_t i = 0; buf[i]; ) {
			uint32_t cp;
			size_t c = utf8_char((const unsigned char *)buf + i, strlen(buf + i), &cp);

			CHECK(c > 0, "'%s' is not UTF-8 at %zu", buf, i);
			i += c ? c : 1;
		}
		free(buf);
		if (tests_failed)
			return;
	}
}

static void counters(struct prom *p)
{
	struct prom_label l = { "heap", "system" };

	prom_family(p, "t_allocations", PROM_COUNTER, "a \\ b\nc \"d\"");
	prom_u64(p, &l, 1, 3);
	prom_family(p, "t_build", PROM_INFO, "version");
	prom_u64(p, &(struct prom_label){ "version", "1.2" }, 1, 1);
	prom_family(p, "t_ratio", PROM_GAUGE, "r");
	prom_double(p, NULL, 0, 0.1);
	prom_double(p, NULL, 0, 1.0 / 0.0);
	prom_end(p);
}

static void text_counter_names(void)
{
	char *s = written(counters, PROM_TEXT);

	CHECK_STR(s, "# HELP t_allocations_total a \\\\ b\\nc \"d\"\n"
		  "# TYPE t_allocations_total counter\n"
		  "t_allocations_total{heap=\"system\"} 3\n"
		  "# HELP t_build_info version\n# TYPE t_build_info gauge\n"
		  "t_build_info{version=\"1.2\"} 1\n"
		  "# HELP t_ratio r\n# TYPE t_ratio gauge\nt_ratio 0.1\nt_ratio +Inf\n");
	free(s);
}

static void openmetrics_differences(void)
{
	char *s = written(counters, PROM_OPENMETRICS);

	CHECK_STR(s, "# HELP t_allocations a \\\\ b\\nc \\\"d\\\"\n"
		  "# TYPE t_allocations counter\n"
		  "t_allocations_total{heap=\"system\"} 3\n"
		  "# HELP t_build version\n# TYPE t_build info\n"
		  "t_build_info{version=\"1.2\"} 1\n"
		  "# HELP t_ratio r\n# TYPE t_ratio gauge\nt_ratio 0.1\nt_ratio +Inf\n# EOF\n");
	free(s);
}

static void histogram(struct prom *p)
{
	static const double bounds[] = { 0.001, 0.25 };
	static const uint64_t counts[] = { 2, 0, 1 };
	struct prom_label l = { "heap", "system" };

	prom_family(p, "t_latency_seconds", PROM_HISTOGRAM, "lat");
	prom_histogram(p, &l, 1, bounds, counts, 2, 1.5);
}

static void histogram_cumulative(void)
{
	char *s = written(histogram, PROM_TEXT);

	CHECK_STR(s, "# HELP t_latency_seconds lat\n# TYPE t_latency_seconds histogram\n"
		  "t_latency_seconds_bucket{heap=\"system\",le=\"0.001\"} 2\n"
		  "t_latency_seconds_bucket{heap=\"system\",le=\"0.25\"} 2\n"
		  "t_latency_seconds_bucket{heap=\"system\",le=\"+Inf\"} 3\n"
		  "t_latency_seconds_sum{heap=\"system\"} 1.5\n"
		  "t_latency_seconds_count{heap=\"system\"} 3\n");
	free(s);
}

static void accept_negotiated(void)
{
	/* what Prometheus 2.42 sends */
	CHECK_EQ(prom_negotiate("application/openmetrics-text;version=1.0.0,application/"
				"openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
				"q=0.5,*/*;q=0.1"), PROM_OPENMETRICS);
	CHECK_EQ(prom_negotiate(NULL), PROM_TEXT);
	CHECK_EQ(prom_negotiate("*/*"), PROM_TEXT);
	CHECK_EQ(prom_negotiate("text/plain;version=0.0.4"), PROM_TEXT);
	CHECK_EQ(prom_negotiate("text/plain, application/openmetrics-text; q=0.2"), PROM_TEXT);
	CHECK_EQ(prom_negotiate("Application/OpenMetrics-Text; version=1.0.0"), PROM_OPENMETRICS);
	CHECK_EQ(prom_negotiate("application/openmetrics-text;q=0"), PROM_TEXT);
	CHECK_EQ(prom_negotiate("application/openmetrics-textual"), PROM_TEXT);
	CHECK(strstr(prom_content_type(PROM_OPENMETRICS), "application/openmetrics-text; "
		     "version=1.0.0") != NULL, "%s", prom_content_type(PROM_OPENMETRICS));
	CHECK(strstr(prom_content_type(PROM_TEXT), "text/plain; version=0.0.4") != NULL, "%s",
	      prom_content_type(PROM_TEXT));
}

int main(void)
{
	RUN(label_values_escaped);
	RUN(label_value_alone);
	RUN(label_values_read_back);
	RUN(text_counter_names);
	RUN(openmetrics_differences);
	RUN(histogram_cumulative);
	RUN(accept_negotiated);
	return tests_failed ? 1 : 0;
}
