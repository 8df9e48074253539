/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal test reporting for heapstat's C tests, host and VM alike: one line
 * per test case, "PASS: name", "FAIL: name: why" or "SKIP: name: why", which
 * scripts/check.sh tallies.
 */
#ifndef HEAPSTAT_TEST_H
#define HEAPSTAT_TEST_H

#include <dirent.h>
#include <stdio.h>

static int test_failed;	/* checks failed in the current case */
static int tests_failed;	/* cases failed in this program */

#define CHECK(cond, fmt, ...)							\
	do {									\
		if (!(cond)) {							\
			printf("  %s:%d: check failed: %s: " fmt "\n",	\
			       __FILE__, __LINE__, #cond, ##__VA_ARGS__);	\
			test_failed++;						\
		}								\
	} while (0)

/* each side evaluated once: they may have side effects */
#define CHECK_EQ(a, b)								\
	do {									\
		long long _a = (long long)(a), _b = (long long)(b);		\
		CHECK(_a == _b, "%lld != %lld", _a, _b);			\
	} while (0)

/* write TEXT to DIR/FILE: fixtures for host unit tests */
static inline void test_put_file(const char *dir, const char *file, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f) {
		printf("  cannot write %s\n", path);
		test_failed++;
		return;
	}
	fputs(text, f);
	fclose(f);
}

/* this process's open fds (and the listing's own): a test's leak check */
static inline int test_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static inline void test_begin(void)
{
	test_failed = 0;
}

static inline void test_end(const char *name)
{
	if (test_failed) {
		printf("FAIL: %s: %d check(s) failed\n", name, test_failed);
		tests_failed++;
	} else {
		printf("PASS: %s\n", name);
	}
	fflush(stdout);
}

static inline void test_skip(const char *name, const char *why)
{
	printf("SKIP: %s: %s\n", name, why);
	fflush(stdout);
}

#define RUN(fn) do { test_begin(); fn(); test_end(#fn); } while (0)

#endif
