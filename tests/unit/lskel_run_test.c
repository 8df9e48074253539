// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of the light skeletons' loader run in user space
 * (tools/lib/lskel_run.c): each of heapstat's light skeletons loaded that
 * way and by the kernel's run of its loader gives the same programs (tag,
 * instructions as the kernel has them, maps, BTF), its .bss mapped, and no
 * fd left behind once destroyed; and a loader stopped half way here (after
 * its BTF and maps were made) is run by the kernel, nothing of the first
 * attempt left open.
 */
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "../test.h"
#include "dmabuf_iter.h"
#include "lib/lskel_run.h"
#include "dmabuf_iter.lskel.h"
#include "dmabuf_iter_tasks.lskel.h"
#include "cgroup_iter.lskel.h"

struct prog_seen {
	unsigned char tag[BPF_TAG_SIZE];
	__u32 type, xlated, nr_maps, btf;
};

static void seen(int fd, struct prog_seen *s)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	memset(s, 0, sizeof(*s));
	CHECK_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	memcpy(s->tag, info.tag, sizeof(s->tag));
	s->type = info.type;
	s->xlated = info.xlated_prog_len;
	s->nr_maps = info.nr_map_ids;
	s->btf = !!info.btf_id;
}

#define MAX_PROGS 3

/* a light skeleton, whichever: loaded, its programs' fds, its .bss, destroyed */
struct skel_ops {
	const char *name;
	void *(*load)(void);
	int (*progs)(void *skel, int *fds);
	bool (*bss)(void *skel);
	void (*destroy)(void *skel);
};

static void *all_load(void) { return dmabuf_iter_lskel__open_and_load(); }
static void all_destroy(void *s) { dmabuf_iter_lskel__destroy(s); }
static bool all_bss(void *s) { return ((struct dmabuf_iter_lskel *)s)->bss; }

static int all_progs(void *p, int *fds)
{
	struct dmabuf_iter_lskel *s = p;

	fds[0] = s->progs.dmabuf.prog_fd;
	fds[1] = s->progs.task_file.prog_fd;
	fds[2] = s->progs.task_vma.prog_fd;
	return 3;
}

static void *tasks_load(void) { return dmabuf_iter_tasks_lskel__open_and_load(); }
static void tasks_destroy(void *s) { dmabuf_iter_tasks_lskel__destroy(s); }
static bool tasks_bss(void *s) { return ((struct dmabuf_iter_tasks_lskel *)s)->bss; }

static int tasks_progs(void *p, int *fds)
{
	struct dmabuf_iter_tasks_lskel *s = p;

	fds[0] = s->progs.task_file.prog_fd;
	fds[1] = s->progs.task_vma.prog_fd;
	return 2;
}

static void *cg_load(void) { return cgroup_iter_lskel__open_and_load(); }
static void cg_destroy(void *s) { cgroup_iter_lskel__destroy(s); }
static bool cg_bss(void *s) { return ((struct cgroup_iter_lskel *)s)->bss; }

static int cg_progs(void *p, int *fds)
{
	fds[0] = ((struct cgroup_iter_lskel *)p)->progs.cgroup_tree.prog_fd;
	return 1;
}

static const struct skel_ops skels[] = {
	{ "dmabuf_iter", all_load, all_progs, all_bss, all_destroy },
	{ "dmabuf_iter_tasks", tasks_load, tasks_progs, tasks_bss, tasks_destroy },
	{ "cgroup_iter", cg_load, cg_progs, cg_bss, cg_destroy },
};

/* each skeleton loaded here and by the kernel: the same programs, nothing left open */
static void the_kernels_programs(void)
{
	for (size_t i = 0; i < sizeof(skels) / sizeof(skels[0]); i++) {
		const struct skel_ops *o = &skels[i];
		struct prog_seen seen_as[3][MAX_PROGS];
		int fds[MAX_PROGS], n[3] = {}, before = test_open_fds();

		for (int way = 0; way < 3; way++) {
			void *s;

			/* here; by the kernel; here, stopped half way, then by the kernel */
			lskel_by_kernel = way == 1;
			lskel_max_steps = way == 2 ? 120 : 1 << 20;
			s = o->load();
			CHECK(s != NULL, "%s loaded (way %d)", o->name, way);
			if (!s)
				continue;
			CHECK(lskel_ran_here() == !way, "%s: its loader ran %s (way %d)", o->name,
			      lskel_ran_here() ? "here" : "in the kernel", way);
			CHECK(o->bss(s), "%s: .bss mapped", o->name);
			n[way] = o->progs(s, fds);
			for (int k = 0; k < n[way]; k++) {
				CHECK(fds[k] > 0, "%s: program %d", o->name, k);
				seen(fds[k], &seen_as[way][k]);
			}
			o->destroy(s);
		}
		lskel_by_kernel = false;
		lskel_max_steps = 1 << 20;
		for (int way = 1; way < 3; way++) {
			CHECK_EQ(n[0], n[way]);
			for (int k = 0; k < n[0] && n[0] == n[way]; k++)
				CHECK(!memcmp(&seen_as[0][k], &seen_as[way][k], sizeof(seen_as[0][k])),
				      "%s: program %d differs (way %d: %u/%u instructions, %u/%u maps)",
				      o->name, k, way, seen_as[0][k].xlated / 8,
				      seen_as[way][k].xlated / 8, seen_as[0][k].nr_maps,
				      seen_as[way][k].nr_maps);
		}
		CHECK_EQ(test_open_fds(), before);
	}
}

int main(void)
{
	if (geteuid()) {
		test_skip("the_kernels_programs", "not root: nothing loads");
		return 0;
	}
	RUN(the_kernels_programs);
	return tests_failed ? 1 : 0;
}
