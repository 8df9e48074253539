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

/*
 * flight_write()'s wall clock, which names its file: fixed while @fixed_rt is
 * set (linked with -Wl,--wrap=clock_gettime), so that another recorder's file
 * is made at the very millisecond this one's is named by, however slow the run
 */
static struct timespec fixed_rt;
int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (id == CLOCK_REALTIME && fixed_rt.tv_sec) {
		*ts = fixed_rt;
		return 0;
	}
	return __real_clock_gettime(id, ts);
}

/* another recorder's file named @nth, for the fixed clock's millisecond, in @dir */
static void others_file(const char *dir, const char *nth, char *out, size_t len)
{
	char when[32];
	struct tm tm;
	FILE *fp;

	gmtime_r(&fixed_rt.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snprintf(out, len, "%s/heapstat-%s.%03ldZ%s-test.hsrec", dir, when,
		 fixed_rt.tv_nsec / 1000000, nth);
	fp = fopen(out, "wxe");
	CHECK(fp && fputs("another's\n", fp) >= 0 && !fclose(fp), "%s", out);
}

/* @path holds another recorder's line, whole */
static bool others_whole(const char *path)
{
	char line[32] = "";
	FILE *fp = fopen(path, "re");
	bool whole = fp && fgets(line, sizeof(line), fp) && !strcmp(line, "another's\n");

	if (fp)
		fclose(fp);
	return whole;
}

/*
 * Another recorder's file of the same millisecond and reason is left whole,
 * this one's named -2; with a -2 there too, -3
 */
static void another_recorders_name(void)
{
	char dir[] = "/tmp/heapstat-flight-test-XXXXXX", path[600], other[600], other2[600];
	char got[16];
	struct flight f;
	uint64_t events;

	CHECK(mkdtemp(dir), "mkdtemp");
	fixed_rt = (struct timespec){ .tv_sec = 1796601600, .tv_nsec = 123456789 };
	others_file(dir, "", other, sizeof(other));
	CHECK_EQ(flight_init(&f, 10), 0);
	process(&f, 7, 100, "/a");
	alloc(&f, 7, 100, 1);
	CHECK_EQ(flight_write(&f, dir, "test", "app", NULL, NULL, path, sizeof(path), &events), 1);
	CHECK(!strcmp(strrchr(path, '/'), "/heapstat-20261207T000000.123Z-2-test.hsrec"), "%s", path);
	file_cgroups_of(path, 7, got, sizeof(got));
	CHECK(!strcmp(got, "/a;"), "%s: %s", path, got);
	CHECK(others_whole(other), "%s", other);
	unlink(path);
	flight_free(&f);

	others_file(dir, "-2", other2, sizeof(other2));
	CHECK_EQ(flight_init(&f, 10), 0);
	process(&f, 7, 100, "/a");
	alloc(&f, 7, 100, 1);
	CHECK_EQ(flight_write(&f, dir, "test", "app", NULL, NULL, path, sizeof(path), &events), 1);
	CHECK(strstr(path, "Z-3-test.hsrec"), "%s", path);
	CHECK(others_whole(other) && others_whole(other2), "%s, %s", other, other2);
	fixed_rt = (struct timespec){ 0 };
	unlink(path);
	unlink(other);
	unlink(other2);
	flight_free(&f);
	CHECK(!rmdir(dir), "rmdir %s: %m", dir);
}

int main(void)
{
	RUN(moved_task);
	RUN(another_recorders_name);
	RUN(old_descriptions_go);
	return tests_failed ? 1 : 0;
}
