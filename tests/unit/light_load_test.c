// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of tools/lib/light_load.c on bpf/light_test.bpf.c: an
 * object loaded by a loader libbpf makes at run time and lskel_run() runs
 * is the object as set up: its read-only data as set before load (the
 * program counts only this process's system calls), its .bss mapped where
 * the skeleton reads it, a map sized before load; a program whose autoload
 * is off is not loaded, one loaded is attached only when asked
 * (light_attach_prog()); and nothing is left open once closed.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "../test.h"
#include "lib/light_load.h"
#include "lib/lskel_run.h"
#include "light_test.skel.h"

static void loaded_as_set_up(void)
{
	int before = test_open_fds(), err, fd;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct light_test_bpf *s = light_test_bpf__open();
	struct light l = {};
	__u64 seen, counted = 0;
	__u32 zero = 0;

	CHECK(s, "did not open");
	if (!s)
		return;
	s->rodata->target_tgid = getpid();
	CHECK_EQ(bpf_map__set_max_entries(s->maps.counts, 4), 0);
	bpf_program__set_autoload(s->progs.light_test_unused, false);
	err = light_load(&l, s->obj);
	CHECK_EQ(err, 0);
	if (err)
		goto out;
	CHECK(lskel_ran_here(), "the kernel ran the loader");
	CHECK(bpf_object__next_program(s->obj, NULL) == s->progs.light_test_unused,
	      "the program not loaded is not the object's first");
	fd = light_prog_fd(&l, s->obj, s->progs.light_test_count);
	CHECK(fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	      !strncmp(info.name, "light_test_count", sizeof(info.name) - 1),
	      "fd %d is not light_test_count's: '%s'", fd, info.name);
	CHECK_EQ(light_prog_fd(&l, s->obj, s->progs.light_test_unused), -1);
	CHECK_EQ(light_attach_prog(&l, s->obj, s->progs.light_test_unused), -ENOENT);
	CHECK_EQ(bpf_map__max_entries(s->maps.counts), 4);
	/* not attached: it counts nothing */
	getppid();
	CHECK_EQ(s->bss->seen, 0);
	CHECK_EQ(light_attach_prog(&l, s->obj, s->progs.light_test_count), 0);
	getppid();
	getppid();
	seen = __atomic_load_n(&s->bss->seen, __ATOMIC_RELAXED);
	CHECK(seen >= 2, "%llu system calls seen", (unsigned long long)seen);
	CHECK_EQ(bpf_map_lookup_elem(bpf_map__fd(s->maps.counts), &zero, &counted), 0);
	CHECK(counted >= seen, "%llu counted, %llu seen", (unsigned long long)counted,
	      (unsigned long long)seen);
out:
	light_close(&l);
	light_test_bpf__destroy(s);
	CHECK_EQ(test_open_fds(), before);
}

int main(void)
{
	if (geteuid()) {
		test_skip("loaded_as_set_up", "not root: nothing loads");
		return 0;
	}
	RUN(loaded_as_set_up);
	return tests_failed ? 1 : 0;
}
