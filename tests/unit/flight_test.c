// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the flight recorder's ring (tools/record/flight.c): the
 * process records a file gets, a task's description before and after it
 * moved, the old ones given up once no event kept needs them, and a file
 * of its own beside another recorder's of the same name.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "lib/record.h"
#include "record/flight.h"

static void add(struct flight *f, struct rec r)
{
	CHECK_EQ(flight_add(f, &r), 0);
	flight_commit(f);
}

static void process(struct flight *f, uint32_t pid, uint64_t cg, const char *path)
{
	add(f, (struct rec){ .type = REC_PROCESS, .process = { .pid = pid, .tid = pid,
		.comm = "app", .cgroup_id = cg, .cgroup = path } });
}

static void alloc(struct flight *f, uint32_t pid, uint64_t cg, uint64_t ino)
{
	add(f, (struct rec){ .type = REC_ALLOC, .alloc = { .ts = 1000 + ino, .pid = pid, .tid = pid,
		.comm = "app", .cgroup_id = cg, .heap = "system", .requested = 4096,
		.allocated = 4096, .latency_ns = 1, .ino = ino } });
}

/* the cgroups of the process records of @pid in the recording @path, in order */
static void file_cgroups_of(const char *path, uint32_t pid, char *out, size_t len)
{
	struct rec_reader *r;
	char why[128];
	struct rec x;

	*out = '\0';
	if (rec_reader_open(&r, path, why, sizeof(why)))
		return;
	while (rec_next(r, &x) > 0)
		if (x.type == REC_PROCESS && x.process.pid == pid)
			snprintf(out + strlen(out), len - strlen(out), "%s;", x.process.cgroup);
	rec_reader_close(r);
}

/* the same, of the file written to @dir, then removed */
static void file_cgroups(const char *dir, uint32_t pid, char *out, size_t len)
{
	struct dirent *e;
	char path[512] = "";
	DIR *d = opendir(dir);

	*out = '\0';
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	if (d)
		closedir(d);
	if (!*path)
		return;
	file_cgroups_of(path, pid, out, len);
	unlink(path);
}

/* a task moved from /a to /b with events of both kept: both records, /b last */
static void moved_task(void)
{
	char dir[] = "/tmp/heapstat-flight-test-XXXXXX", got[256], path[600];
	struct flight f;
	uint64_t events;

	CHECK(mkdtemp(dir), "mkdtemp");
	CHECK_EQ(flight_init(&f, 10), 0);
	process(&f, 7, 100, "/a");
	alloc(&f, 7, 100, 1);
	process(&f, 7, 200, "/b");
	alloc(&f, 7, 200, 2);
	process(&f, 8, 300, "/c");	/* no event kept: not in the file */
	CHECK_EQ(flight_write(&f, dir, "test", "app", NULL, NULL, path, sizeof(path), &events), 1);
	CHECK_EQ(events, 2);
	file_cgroups(dir, 7, got, sizeof(got));
	CHECK(!strcmp(got, "/a;/b;"), "%s", got);
	file_cgroups(dir, 8, got, sizeof(got));
	CHECK(!strcmp(got, ""), "%s", got);
	flight_free(&f);
	rmdir(dir);
}

/*
 * Once the ring has no event of a task's older description, it goes when
 * the definitions next grow; its last description and a stack stay.
 */
static void old_descriptions_go(void)
{
	struct flight f;
	bool a = false, b = false;

	CHECK_EQ(flight_init(&f, 10), 0);
	add(&f, (struct rec){ .type = REC_STACK, .stack = { .id = 5 } });
	process(&f, 7, 100, "/a");
	alloc(&f, 7, 100, 1);
	process(&f, 7, 200, "/b");
	for (uint32_t i = 0; i < 10; i++)	/* pid 7's event leaves the ring */
		alloc(&f, 9, 100, 10 + i);
	for (uint32_t pid = 1000; pid < 1200; pid++)	/* many tasks: prunes */
		process(&f, pid, 100, "/a");
	for (size_t i = 0; i < f.ndefs; i++) {
		const struct rec *d = &f.defs[i].r;

		if (d->type == REC_PROCESS && d->process.pid == 7) {
			a |= d->process.cgroup_id == 100;
			b |= d->process.cgroup_id == 200;
		}
	}
	CHECK(!a && b, "/a kept %d, /b kept %d", a, b);
	CHECK_EQ(f.ndefs, 1 + 1 + 200);
	CHECK_EQ(f.defs[0].r.type, REC_STACK);
	flight_free(&f);
}

#define OTHERS_SECS	5

/* the name a file written at second @t + ms milliseconds has */
static void name_at(char *out, size_t len, const char *dir, time_t t, int ms, const char *nth)
{
	char when[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snprintf(out, len, "%s/heapstat-%s.%03dZ%s-test.hsrec", dir, when, ms, nth);
}

/*
 * Another recorder's file of the same millisecond and reason (made for each
 * of the next OTHERS_SECS seconds): left whole, this one's named -2
 */
static void another_recorders_name(void)
{
	char dir[] = "/tmp/heapstat-flight-test-XXXXXX", path[600], other[600], got[16];
	time_t t0 = time(NULL);
	size_t whole = 0, nfiles = 0;
	struct flight f;
	uint64_t events;
	FILE *fp;

	CHECK(mkdtemp(dir), "mkdtemp");
	for (time_t t = t0; t < t0 + OTHERS_SECS; t++)
		for (int ms = 0; ms < 1000; ms++) {
			name_at(other, sizeof(other), dir, t, ms, "");
			fp = fopen(other, "we");
			nfiles += fp && fputs("another's\n", fp) >= 0;
			if (fp)
				fclose(fp);
		}
	CHECK_EQ(nfiles, OTHERS_SECS * 1000);
	CHECK_EQ(flight_init(&f, 10), 0);
	process(&f, 7, 100, "/a");
	alloc(&f, 7, 100, 1);
	CHECK_EQ(flight_write(&f, dir, "test", "app", NULL, NULL, path, sizeof(path), &events), 1);
	CHECK(strstr(path, "Z-2-test.hsrec"), "%s", path);
	file_cgroups_of(path, 7, got, sizeof(got));
	CHECK(!strcmp(got, "/a;"), "%s: %s", path, got);
	for (time_t t = t0; t < t0 + OTHERS_SECS; t++)
		for (int ms = 0; ms < 1000; ms++) {
			char line[32] = "";

			name_at(other, sizeof(other), dir, t, ms, "");
			fp = fopen(other, "re");
			whole += fp && fgets(line, sizeof(line), fp) && !strcmp(line, "another's\n");
			if (fp)
				fclose(fp);
			unlink(other);
			name_at(other, sizeof(other), dir, t, ms, "-2");
			unlink(other);
		}
	CHECK_EQ(whole, OTHERS_SECS * 1000);
	flight_free(&f);
	CHECK(!rmdir(dir), "rmdir %s", dir);
}

int main(void)
{
	RUN(moved_task);
	RUN(another_recorders_name);
	RUN(old_descriptions_go);
	return tests_failed ? 1 : 0;
}
