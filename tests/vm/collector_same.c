// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: the collector loaded as a light skeleton (tools/lib/light_load.c)
 * and by libbpf (HEAPSTAT_TEST_LIBBPF=1), with the holder hooks: the same
 * programs (each one's instructions as the kernel keeps them, the maps they
 * use told by their index in the list below, not their ids) and the same
 * maps (type, sizes, flags, name). Prints what differs and exits 1; 0 and
 * the counts when nothing does.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "lib/collector.h"

#define MAX_OBJS	64
#define MAX_INSNS	8192

struct map {
	char desc[128];		/* its name first: sorted by it */
	__u32 id;
};

struct load {
	char prog[MAX_OBJS][128];	/* "name insns=N hash=H" */
	struct map map[MAX_OBJS];
	int nprogs, nmaps;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* this process's bpf objects of @kind ("bpf-prog", "bpf-map"): their fds */
static int fds_of(const char *kind, int *fds, int max)
{
	char path[300], link[64];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	while (dir && (d = readdir(dir)) && n < max) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (!strcmp(link + (strncmp(link, "anon_inode:", 11) ? 0 : 11), kind))
			fds[n++] = atoi(d->d_name);
	}
	if (dir)
		closedir(dir);
	return n;
}

static int map_index(const struct load *l, __u32 id)
{
	for (int i = 0; i < l->nmaps; i++)
		if (l->map[i].id == id)
			return i;
	return -1;
}

static void take(struct load *l)
{
	static struct bpf_insn insns[MAX_INSNS];
	int fds[MAX_OBJS], n;

	n = fds_of("bpf-map", fds, MAX_OBJS);
	for (int i = 0; i < n; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			continue;
		snprintf(l->map[l->nmaps].desc, sizeof(l->map[0].desc),
			 "%s type=%u key=%u value=%u max=%u flags=%#x", info.name, info.type,
			 info.key_size, info.value_size, info.max_entries, info.map_flags);
		l->map[l->nmaps++].id = info.id;
	}
	/* the programs name a map by its place in this order */
	qsort(l->map, l->nmaps, sizeof(l->map[0]), by_name);
	n = fds_of("bpf-prog", fds, MAX_OBJS);
	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info = { .xlated_prog_len = sizeof(insns),
					      .xlated_prog_insns = (__u64)(unsigned long)insns };
		__u32 len = sizeof(info), cnt;
		unsigned long long h = 1469598103934665603ULL;

		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			continue;
		cnt = info.xlated_prog_len / sizeof(insns[0]);
		for (__u32 k = 0; k < cnt && k < MAX_INSNS; k++) {
			struct bpf_insn x = insns[k];

			/* a map's id, as the kernel shows it, is told by its place in the list */
			if (x.code == (BPF_LD | BPF_IMM | BPF_DW) &&
			    (x.src_reg == BPF_PSEUDO_MAP_FD || x.src_reg == BPF_PSEUDO_MAP_VALUE))
				x.imm = map_index(l, x.imm);
			for (size_t b = 0; b < sizeof(x); b++)
				h = (h ^ ((unsigned char *)&x)[b]) * 1099511628211ULL;
			if (x.code == (BPF_LD | BPF_IMM | BPF_DW))
				k++, h = (h ^ (unsigned int)insns[k].imm) * 1099511628211ULL;
		}
		snprintf(l->prog[l->nprogs++], sizeof(l->prog[0]), "%s insns=%u hash=%016llx",
			 info.name, cnt, h);
	}
}

/* loaded by @how (collector_loaded_by()) */
static int load(struct load *l, const char *how)
{
	struct collector *c;
	char why[256];
	int err = collector_open(&c, COLL_ATTACH_TRACING, 0, true, why, sizeof(why));

	if (err) {
		fprintf(stderr, "collector_same: %s: %s\n", how, why);
		return 1;
	}
	if (strcmp(collector_loaded_by(c), how)) {
		fprintf(stderr, "collector_same: loaded by %s, not %s\n", collector_loaded_by(c), how);
		collector_close(c);
		return 1;
	}
	take(l);
	collector_close(c);
	qsort(l->prog, l->nprogs, sizeof(l->prog[0]), by_name);
	return 0;
}

int main(void)
{
	static struct load a, b;
	int differ = 0;

	if (load(&a, "its loader run in user space") || setenv("HEAPSTAT_TEST_LIBBPF", "1", 1) ||
	    load(&b, "libbpf"))
		return 2;
	differ = !a.nprogs || !a.nmaps || a.nprogs != b.nprogs || a.nmaps != b.nmaps;
	for (int i = 0; i < a.nprogs && i < b.nprogs; i++)
		if (strcmp(a.prog[i], b.prog[i])) {
			printf("program: %s | %s\n", a.prog[i], b.prog[i]);
			differ = 1;
		}
	for (int i = 0; i < a.nmaps && i < b.nmaps; i++)
		if (strcmp(a.map[i].desc, b.map[i].desc)) {
			printf("map: %s | %s\n", a.map[i].desc, b.map[i].desc);
			differ = 1;
		}
	printf("%d programs, %d maps: %s\n", a.nprogs, a.nmaps, differ ? "they differ" : "the same");
	return differ;
}
