// SPDX-License-Identifier: GPL-2.0
/*
 * Run bpf/limit.bpf.c: load, attach and pin it under <pin dir>/limit/ (both
 * directories 0700: only root reaches the maps), or reuse what is pinned;
 * set and clear limits; read usage, limits, refusals and refusal events.
 *
 * Pinned: every map (limits and limits_gen, cells, charge_slots and
 * charges, refusals, pending, bss), every program and every link. The last limit cleared
 * unpins them all: the programs detach and the state goes. Opens, sets and clears of several
 * processes are serialized by an flock on the pin directory; a set, clear or collection checks
 * under it that the maps it opened are still the pinned ones (another may have unpinned them
 * since, and pinned anew), else opens those pinned now.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "limit.skel.h"
#include "attach_order.h"
#include "btf.h"
#include "cg_level.h"
#include "heap_dev.h"
#include "inventory.h"
#include "lsm_limit.h"
#include "map_window.h"
#include "ring_peek.h"
#include "util.h"
#include "cgroup/path.h"

/* <linux/lsm.h> since 6.8, newer than Debian 12's headers; x86-64's and arm64's number */
#define SYS_LSM_LIST_MODULES	461
#define LSM_ID_BPF		109

enum { M_LIMITS, M_LIMITS_GEN, M_CELLS, M_CHARGES, M_CHARGE_SLOTS, M_REFUSALS, M_PENDING, M_BSS,
       NMAPS };
static const char * const map_pins[NMAPS] = {
	"limits", "limits_gen", "cells", "charges", "charge_slots", "refusals", "pending", "bss",
};

/* the key and value sizes of the pinned maps user space reads, as this build has them */
static const struct {
	__u32 key, value;
} map_sizes[NMAPS] = {
	[M_LIMITS] = { sizeof(struct limit_key), sizeof(struct limit_value) },
	[M_LIMITS_GEN] = { sizeof(__u32), sizeof(__u64) },
	[M_CELLS] = { sizeof(__u32), sizeof(struct limit_cell) },
	[M_CHARGES] = { sizeof(__u64), sizeof(struct limit_charge) },
	[M_CHARGE_SLOTS] = { sizeof(__u32), sizeof(struct limit_slot) },
	[M_BSS] = { sizeof(__u32), sizeof(struct limit_bpf__bss) },
};

struct lsm_limit {
	char dir[256];		/* <pin dir>/limit */
	int pin_dir_fd;		/* locked with flock while changing pins */
	int fds[NMAPS];
	struct ring_buffer *rb;
	struct ring_peek peek;	/* lsm_limit_watch(): a reader that consumes nothing */
	bool peeking;
	int (*cb)(const struct limit_event *e, void *ctx);
	void *cb_ctx;
	unsigned int flags;	/* lsm_limit_open()'s */
	bool created;		/* this open loaded and pinned */
	bool unpinned;		/* the last limit went: nothing is left */
	uint64_t unread_unpinned;	/* then, the refusal events no reader had taken */
	struct map_window cells;	/* the usage cells, read through mappings */
	bool cells_mapped;
	uint32_t cells_mask;	/* their slots less one */
	uint64_t cells_mult;	/* and their homes' multiplier (limit_home()) */
	uint32_t major;		/* the dma_heap devices', read with the cells */
};

/* "failed to <what>: <strerror>" in why; err */
static int __attribute__((format(printf, 4, 5)))
fail(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (len < 16)
		return err;
	snprintf(why, len, "failed to ");
	va_start(ap, fmt);
	vsnprintf(why + 10, len - 10, fmt, ap);
	va_end(ap);
	n = strlen(why);
	snprintf(why + n, len - n, ": %s", strerror(-err));
	return err;
}

/* the dma_heap character devices' major, from /proc/devices */
static int heap_major(uint32_t *major)
{
	char line[128], name[64];
	bool chr = false;
	unsigned int m;
	FILE *f = fopen("/proc/devices", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Character", 9))
			chr = true;
		else if (!strncmp(line, "Block", 5))
			chr = false;
		else if (chr && sscanf(line, "%u %63s", &m, name) == 2 && !strcmp(name, "dma_heap")) {
			fclose(f);
			*major = m;
			return 0;
		}
	}
	fclose(f);
	return -ENODEV;
}

/* the heaps in /dev/dma_heap, read once for many rows (none when unreadable) */
struct heap_names {
	struct heap_dev *v;
	size_t n;
};

/* the name in /dev/dma_heap of the heap with this dev_t, "" when none */
static void heap_name_of(const struct heap_names *hn, uint32_t dev, char *name, size_t len)
{
	name[0] = '\0';
	for (size_t i = 0; dev && i < hn->n; i++)
		if (hn->v[i].dev == dev) {
			snprintf(name, len, "%s", hn->v[i].name);
			return;
		}
}

/*
 * The kernel differences, decided here before load: file_ioctl_compat
 * (6.8+) is an LSM hook only where it exists. Loaded also where no 32-bit
 * task can make that call (a kernel without CONFIG_COMPAT, as the reference
 * one): told only by what the BTF lacks, a wrong guess would let such tasks
 * allocate unarmed, which the export does not charge. fmod_ret on
 * security_* needs BPF trampolines the LSM programs need anyway.
 */
static void pick_variants(struct limit_bpf *s)
{
	bool compat = kernel_has_btf("bpf_lsm_file_ioctl_compat", BTF_KIND_FUNC);

	bpf_program__set_autoload(s->progs.file_ioctl_compat, compat);
	s->rodata->refuse_at_export = kernel_has_btf("security_file_alloc", BTF_KIND_FUNC);
	bpf_program__set_autoload(s->progs.security_file_alloc, s->rodata->refuse_at_export);
	bpf_program__set_autoattach(s->progs.seed, false);	/* run, not attached */
}

static void unpin_all(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];
	int fd;

	/* links first: enforcement stops before its maps go */
	for (int pass = 0; d && pass < 3; pass++) {
		static const char * const prefix[] = { "link_", "prog_", "" };

		rewinddir(d);
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || strncmp(de->d_name, prefix[pass], strlen(prefix[pass])))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			/*
			 * A link is detached before this returns: the pin's
			 * reference is dropped by a worker, later (6.2+: a
			 * moment in which allocations are still refused); the
			 * last one, an fd's, at its close.
			 */
			fd = pass ? -1 : bpf_obj_get(path);
			unlink(path);
			if (fd >= 0)
				close(fd);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int seed_run(int prog, struct limit_seed *s)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = s, .ctx_size_in = sizeof(*s));
	int err = bpf_prog_test_run_opts(prog, &opts);

	return err ? err : (int)opts.retval;
}

/*
 * For a test of buffers exported between the attach and the seeding, and
 * gone between its two inventories: FILE made, then waited for until it is
 * removed (30 s at most), before each inventory.
 */
static void test_pause(void)
{
	const char *path = getenv("HEAPSTAT_TEST_SEED_PAUSE");
	int fd;

	if (!path)
		return;
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 300 && !access(path, F_OK); i++)
		usleep(100000);
}

/*
 * The seeding rule: a heap buffer that lives when the programs are first
 * attached is charged to the cgroup of its first holder (the lowest pid
 * holding it by fd or mapping) and its ancestors; one only the kernel holds
 * is charged to nobody, and so is one only O_PATH files hold (the kernel's
 * list of buffers, which the inventory walks, lost it at its file's release).
 * A buffer is a heap's by its exporter name: one whose exporter name is not
 * its heap's (upstream's TEE heap exports "tee") is not seeded, as the
 * inventory cannot tell its heap. Attached first, so an export meanwhile is charged by
 * its hook (and not again here); a buffer released between the inventory
 * and its charge is found gone by a second inventory and its charge taken
 * back (a release after the charge uncharges it in the kernel). One with no
 * room to keep its charge is charged untracked: no release uncharges it, so
 * it is taken back whenever the second inventory finds it gone. One an
 * export charged untracked is not charged again (bpf/limit.bpf.c: unkept).
 */
static int seed(struct limit_bpf *s, char *why, size_t why_len)
{
	struct inventory inv = {}, again = {};
	int prog = bpf_program__fd(s->progs.seed), err;
	struct limit_seed *lost = NULL;	/* charged untracked: no room to keep them */
	size_t nmine = 0, nlost = 0, lost_cap = 0;
	/* the holder's cgroup's levels, the last one's kept (a process's path is one string) */
	const char *last_cg = NULL;
	struct cg_level_rec cg = {};
	int cg_err = 0;
	uint64_t *mine = NULL;

	test_pause();
	err = inventory_collect(&inv, "/proc", false);
	if (err)
		return fail(why, why_len, err, "%s", "take the inventory of buffers to seed");
	mine = calloc(inv.nbufs + 1, sizeof(*mine));
	if (!mine) {
		inventory_free(&inv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < inv.nholds; i++) {
		const struct inv_hold *h = &inv.holds[i];
		const struct inv_buf *b = &inv.bufs[h->buf];
		const struct inv_proc *pr = &inv.procs[h->proc];
		struct limit_seed sd = { .op = LIMIT_SEED_CHARGE, .ino = b->ino };

		/* holds are sorted by buffer, then process: the first is the lowest pid */
		if (i && inv.holds[i - 1].buf == h->buf)
			continue;
		if (!b->exp_name || heap_dev_of(HEAP_DEV_DIR, b->exp_name, &sd.c.dev) || !pr->cgroup)
			continue;	/* not a heap's, or no holder's cgroup */
		/*
		 * its ids from level 1 of the hierarchy down, as the programs take a
		 * thread's (deeper levels are not charged): the kernel's, not the
		 * path's (in a cgroup namespace a path names none of the cgroups
		 * above the namespace's root, which are charged too)
		 */
		if (pr->cgroup != last_cg) {
			last_cg = pr->cgroup;
			cg_err = cg_levels_of(pr->cgroup, &cg, NULL);
		}
		sd.c.levels = cg.level < LIMIT_MAX_DEPTH ? cg.level : LIMIT_MAX_DEPTH;
		if (cg_err || !sd.c.levels)
			continue;	/* gone, or the root: nobody to charge */
		memcpy(sd.c.ids, cg.ids, sd.c.levels * sizeof(*sd.c.ids));
		sd.c.bytes = b->size;
		err = seed_run(prog, &sd);
		if (err) {
			fail(why, why_len, err, "%s", "charge the buffers from before");
			goto out;
		}
		if (sd.charged == 1)
			mine[nmine++] = b->ino;
		if (sd.charged == 2 && !grow_array((void **)&lost, &lost_cap, nlost + 1, sizeof(*lost)))
			lost[nlost++] = sd;
	}
	if (!nmine && !nlost)
		goto out;
	test_pause();
	err = inventory_collect(&again, "/proc", false);
	if (err) {
		fail(why, why_len, err, "%s", "take the inventory again");
		goto out;
	}
	sort_ordered(mine, nmine, sizeof(*mine), cmp_u64);
	for (size_t i = 0; i < nmine; i++) {
		struct limit_seed sd = { .op = LIMIT_SEED_UNDO, .ino = mine[i] };
		struct inv_buf *b = inventory_find(&again, mine[i]);
		const struct inv_buf *was = inventory_find(&inv, mine[i]);

		if (b)
			continue;
		sd.c.bytes = was ? was->size : 0;
		seed_run(prog, &sd);
	}
	/* kept nowhere, so no release took them back: whichever buffer is gone */
	for (size_t i = 0; i < nlost; i++) {
		if (inventory_find(&again, lost[i].ino))
			continue;
		lost[i].op = LIMIT_SEED_UNDO_UNTRACKED;
		seed_run(prog, &lost[i]);
	}
out:
	free(lost);
	free(mine);
	inventory_free(&inv);
	inventory_free(&again);
	return err;
}

/* a test's size for a map: N made a power of two, 1 to @max */
static uint32_t test_size(const char *env, uint32_t max)
{
	long want = atol(getenv(env));
	uint32_t n = 1;

	while (n * 2 <= want && n * 2 <= max)
		n *= 2;
	return n;
}

/*
 * bpf among the active LSMs: 1, 0, or -1 when the kernel does not say.
 * lsm_list_modules(2) since 6.8, else securityfs's list. Not active, the
 * hooks' programs load and attach all the same and never run.
 */
static int bpf_lsm_active(void)
{
	uint64_t ids[64];
	uint32_t size = sizeof(ids);
	long n = syscall(SYS_LSM_LIST_MODULES, ids, &size, 0);
	char buf[512], *tok, *save;
	FILE *f;
	int on = 0;

	for (long i = 0; i < n; i++)
		if (ids[i] == LSM_ID_BPF)
			return 1;
	if (n >= 0)
		return 0;
	f = fopen("/sys/kernel/security/lsm", "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		for (tok = strtok_r(buf, ",\n", &save); tok && !on; tok = strtok_r(NULL, ",\n", &save))
			on = !strcmp(tok, "bpf");
	fclose(f);
	return on;
}

#define LSM_OFF	"the BPF LSM is not active: its programs would attach and never run (boot " \
		"with bpf in lsm=, or CONFIG_LSM)"

/**
 * lsm_limit_usable() - refuse early where the BPF LSM is known not active
 *
 * Before anything is made for a limit (exec --create's cgroup, a controller
 * enabled at the root), what lsm_limit_open() would refuse it for, where
 * the kernel says; where it does not, lsm_limit_open() finds out.
 * Return: 0, or -EOPNOTSUPP with @why said.
 */
int lsm_limit_usable(char *why, size_t why_len)
{
	if (bpf_lsm_active())
		return 0;
	snprintf(why, why_len, "%s", LSM_OFF);
	return -EOPNOTSUPP;
}

/*
 * Where the kernel does not say (before 6.8, without securityfs): the
 * file_ioctl program, attached, runs at an ioctl of ours, or it never will
 * (any ioctl: the LSM hook comes before the file's own). Counted by the
 * kernel's BPF statistics, on for this probe only. 1, 0, or a -errno.
 */
static int lsm_runs(int prog_fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	int stats = bpf_enable_stats(BPF_STATS_RUN_TIME), fd, n, err;

	if (stats < 0)
		return -errno;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	if (!err) {
		ioctl(fd, FIONREAD, &n);	/* ENOTTY: the hook ran first */
		close(fd);
		err = bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? -errno : 0;
	}
	close(stats);
	return err ? err : info.run_cnt > 0;
}

/* load, attach, pin under dir, seed; the skeleton goes, the pins stay */
static int create(const char *dir, char *why, size_t why_len)
{
	struct limit_bpf *s;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct bpf_map *maps[NMAPS];
	char path[PATH_MAX];
	uint32_t major = 0;
	int err, lsm_on;

	err = heap_major(&major);
	if (err)
		return fail(why, why_len, err, "%s", "find the dma_heap devices (/proc/devices)");
	lsm_on = bpf_lsm_active();
	if (!lsm_on) {
		snprintf(why, why_len, "%s", LSM_OFF);
		return -EOPNOTSUPP;
	}
	s = limit_bpf__open();
	if (!s)
		return fail(why, why_len, -errno, "%s", "open the limit programs");
	s->rodata->heap_major = major;
	s->rodata->page_size = sysconf(_SC_PAGESIZE);
	/* the cells' secret multiplier (limit.h: limit_home()): waits for the kernel's pool */
	if (getrandom(&s->bss->cells_mult, sizeof(s->bss->cells_mult), 0) !=
	    sizeof(s->bss->cells_mult)) {
		err = fail(why, why_len, -errno, "%s", "draw the usage cells' multiplier");
		goto out;
	}
	s->bss->cells_mult |= 1;
	pick_variants(s);
	/* for tests of full usage cells: no one makes 65536 cgroups to see them */
	if (getenv("HEAPSTAT_TEST_LIMIT_CELLS")) {
		uint32_t n = test_size("HEAPSTAT_TEST_LIMIT_CELLS", LIMIT_CELLS);

		s->rodata->cells_mask = n - 1;
		if (bpf_map__set_max_entries(s->maps.cells, n)) {
			err = fail(why, why_len, -EINVAL, "%s", "size the usage cells");
			goto out;
		}
	}
	/* the same for the charges' slots and hash, to see them full */
	if (getenv("HEAPSTAT_TEST_LIMIT_SLOTS"))
		s->rodata->slots_mask = test_size("HEAPSTAT_TEST_LIMIT_SLOTS", LIMIT_SLOTS) - 1;
	if (bpf_map__set_max_entries(s->maps.charge_slots, s->rodata->slots_mask + 1) ||
	    (getenv("HEAPSTAT_TEST_LIMIT_SPILL") &&
	     bpf_map__set_max_entries(s->maps.charges,
				      test_size("HEAPSTAT_TEST_LIMIT_SPILL",
						bpf_map__max_entries(s->maps.charges))))) {
		err = fail(why, why_len, -EINVAL, "%s", "size the charges");
		goto out;
	}
	/* and the limits, to see their table full */
	if (getenv("HEAPSTAT_TEST_LIMIT_LIMITS") &&
	    bpf_map__set_max_entries(s->maps.limits,
				     test_size("HEAPSTAT_TEST_LIMIT_LIMITS",
					       bpf_map__max_entries(s->maps.limits)))) {
		err = fail(why, why_len, -EINVAL, "%s", "size the limits");
		goto out;
	}
	err = limit_bpf__load(s);
	if (err) {
		snprintf(why, why_len, "failed to load the limit programs: %s (%s; heapstat -v "
			 "shows libbpf's reasons)", strerror(-err), lsm_on > 0 ?
			 "the kernel's verifier refused them" :
			 "the kernel's verifier refused them, or the kernel has no BPF LSM: "
			 "CONFIG_BPF_LSM=y and bpf in CONFIG_LSM or lsm=");
		goto out;
	}
	/* the buffer's end first, the ioctl's check (which arms the rest) last */
	err = skel_attach_ends_first(s->skeleton);
	if (err) {
		snprintf(why, why_len, "failed to attach the limit programs: %s%s", strerror(-err),
			 lsm_on > 0 ? "" : " (is bpf in /sys/kernel/security/lsm?)");
		goto out;
	}
	if (lsm_on < 0)	/* unknown, it is seen to run or nothing is set: limits fail closed */
		lsm_on = lsm_runs(bpf_program__fd(s->progs.file_ioctl));
	if (lsm_on <= 0) {
		err = lsm_on ?: -EOPNOTSUPP;
		if (lsm_on)
			fail(why, why_len, err, "%s", "see whether the BPF LSM is active");
		else
			snprintf(why, why_len, "%s", LSM_OFF);
		goto out;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = fail(why, why_len, -errno, "create %s", dir);
		goto out;
	}
	maps[M_LIMITS] = s->maps.limits;
	maps[M_LIMITS_GEN] = s->maps.limits_gen;
	maps[M_CELLS] = s->maps.cells;
	maps[M_CHARGES] = s->maps.charges;
	maps[M_CHARGE_SLOTS] = s->maps.charge_slots;
	maps[M_REFUSALS] = s->maps.refusals;
	maps[M_PENDING] = s->maps.pending;
	maps[M_BSS] = s->maps.bss;
	for (int i = 0; i < NMAPS && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_pins[i]);
		err = bpf_map__pin(maps[i], path);
	}
	bpf_object__for_each_program(prog, s->obj) {
		if (err || !bpf_program__autoload(prog) || prog == s->progs.seed)
			continue;
		snprintf(path, sizeof(path), "%s/prog_%s", dir, bpf_program__name(prog));
		err = bpf_program__pin(prog, path);
	}
	/* the links, in the skeleton's order of programs */
	for (int i = 0; !err && i < s->skeleton->prog_cnt; i++) {
		link = *s->skeleton->progs[i].link;
		if (!link)
			continue;
		snprintf(path, sizeof(path), "%s/link_%s", dir, s->skeleton->progs[i].name);
		err = bpf_link__pin(link, path);
	}
	if (err) {
		fail(why, why_len, err, "pin the limit programs in %s", dir);
		goto out;
	}
	err = seed(s, why, why_len);
out:
	if (err)
		unpin_all(dir);
	limit_bpf__destroy(s);	/* what is pinned stays */
	return err;
}

/* dir holds some pin (of any build) */
static bool pinned_any(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool any = false;

	while (d && !any && (de = readdir(d)))
		any = de->d_name[0] != '.';
	if (d)
		closedir(d);
	return any;
}

/* dir/<prefix><name> exists */
static bool pin_exists(const char *dir, const char *prefix, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s%s", dir, prefix, name);
	return !access(path, F_OK);
}

/*
 * Pins without one of this build's maps or links: a pin removed by hand, or
 * another heapstat's (an older one had no charge_slots). Not "nothing
 * pinned" (-ENOENT), which would let a clear succeed and leave a limit in
 * force, nor pins to use: a map gone leaves limits this build can neither
 * read nor change, a link gone its program detached (a set would exit 0 and
 * bind nothing). @link: a link's pin is gone, @by_hand: its program's is not.
 */
static int stale(const char *dir, bool link, const char *name, bool by_hand,
		 char *why, size_t why_len)
{
	const char *how = by_hand ? "removed by hand" :
			  "removed by hand, or pinned by another heapstat build";

	if (link)
		snprintf(why, why_len, "the limits pinned in %s are not in force as set: no link "
			 "%s (%s%s): remove them with 'rm -r %s' (their limits go with them), "
			 "then set them again", dir, name, how,
			 by_hand ? ": its program is detached" : "", dir);
	else
		snprintf(why, why_len, "the limits pinned in %s cannot be read or changed: no map "
			 "%s (%s), and what programs are left may still enforce them: remove them "
			 "with 'rm -r %s' (their limits go with them), then set them again",
			 dir, name, how, dir);
	return -ESTALE;
}

/*
 * The programs create() attaches on every kernel (pick_variants() picks the
 * others). The buffer's end among them: an earlier build's pins, which
 * uncharged at the file's release (an O_PATH file keeps the buffer past
 * it), are refused as stale.
 */
static const char * const links_always[] = {
	"file_ioctl", "dma_buf_export_entry", "dma_buf_export_exit", "inode_free",
};

/*
 * Every link create() pinned is still pinned: one unpinned detaches its
 * program (file_ioctl's: nothing refused; inode_free's: no usage ever
 * drops). The variants' links are those of their programs pinned.
 */
static int links_whole(const char *dir, char *why, size_t why_len)
{
	DIR *d;
	struct dirent *de;
	int err = 0;

	/* an earlier build's release, still attached: its limits hold as pinned */
	if (pin_exists(dir, "link_", "file_release") ||
	    pin_exists(dir, "link_", "dma_buf_file_release")) {
		snprintf(why, why_len, "the limits pinned in %s are an earlier heapstat build's: they "
			 "hold as pinned, but uncharge a buffer at its file's release, which an O_PATH "
			 "open of it outlives: note them (that build's limit show), remove them with "
			 "'rm -r %s', then set them again", dir, dir);
		return -ESTALE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(links_always); i++)
		if (!pin_exists(dir, "link_", links_always[i]))
			return stale(dir, true, links_always[i],
				     pin_exists(dir, "prog_", links_always[i]), why, why_len);
	d = opendir(dir);
	if (!d)
		return fail(why, why_len, -errno, "open %s", dir);
	while (!err && (de = readdir(d)))
		if (!strncmp(de->d_name, "prog_", 5) && !pin_exists(dir, "link_", de->d_name + 5))
			err = stale(dir, true, de->d_name + 5, true, why, why_len);
	closedir(d);
	return err;
}

/*
 * A pinned map read as this build lays it out: another build's of other
 * sizes would be read wrong (a .bss larger than this build's struct of it
 * written past it), so it is refused, saying what to do, as a missing one.
 */
static int map_layout(const struct lsm_limit *l, int i, char *why, size_t why_len)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (!map_sizes[i].value)
		return 0;
	if (bpf_obj_get_info_by_fd(l->fds[i], &info, &len))
		return fail(why, why_len, -errno, "read the map %s/%s", l->dir, map_pins[i]);
	if (info.key_size == map_sizes[i].key && info.value_size == map_sizes[i].value)
		return 0;
	snprintf(why, why_len, "the limits pinned in %s cannot be read or changed: their map %s "
		 "has %u-byte keys and %u-byte values, this build's %u and %u (pinned by another "
		 "heapstat build): remove them with 'rm -r %s' (their limits go with them), then "
		 "set them again", l->dir, map_pins[i], info.key_size, info.value_size,
		 map_sizes[i].key, map_sizes[i].value, l->dir);
	return -ESTALE;
}

/*
 * With the pin directory locked: open the maps pinned in l->dir; with
 * LSM_LIMIT_CREATE in l->flags, load, attach, pin and seed first when
 * nothing is pinned.
 */
static int pins_open(struct lsm_limit *l, char *why, size_t why_len)
{
	char path[PATH_MAX];
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", l->dir, map_pins[M_CELLS]);
	if (access(path, F_OK)) {
		if (errno == ENOENT && pinned_any(l->dir))
			return stale(l->dir, false, map_pins[M_CELLS], false, why, why_len);
		if (errno != ENOENT || !(l->flags & LSM_LIMIT_CREATE))
			return fail(why, why_len, -errno, "find the limits pinned in %s", l->dir);
		err = create(l->dir, why, why_len);
		if (err)
			return err;
		l->created = true;
	}
	for (int i = 0; i < NMAPS && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", l->dir, map_pins[i]);
		l->fds[i] = bpf_obj_get(path);
		if (l->fds[i] < 0 && errno == ENOENT)
			err = stale(l->dir, false, map_pins[i], false, why, why_len);
		else if (l->fds[i] < 0)
			err = fail(why, why_len, -errno, "open %s", path);
		else
			err = map_layout(l, i, why, why_len);
	}
	return err ?: links_whole(l->dir, why, why_len);
}

/* what pins_open() opened, and what was read through it, let go */
static void pins_close(struct lsm_limit *l)
{
	ring_buffer__free(l->rb);
	l->rb = NULL;
	if (l->peeking)
		ring_peek_close(&l->peek);
	l->peeking = false;
	if (l->cells_mapped)
		map_window_close(&l->cells);
	l->cells_mapped = false;
	for (int i = 0; i < NMAPS; i++) {
		if (l->fds[i] >= 0)
			close(l->fds[i]);
		l->fds[i] = -1;
	}
	l->created = false;
	l->unpinned = false;
}

/* what the kernel says of map @fd; all 0 when it cannot */
static struct bpf_map_info map_info(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		memset(&info, 0, sizeof(info));
	return info;
}

static uint32_t map_id(int fd)
{
	return map_info(fd).id;
}

/*
 * The limits map this handle holds is the one pinned: not unpinned by the
 * clear of the last limit (or the collection of a removed cgroup's) since
 * it was opened, and not pinned anew after. A limit written to an unpinned
 * map binds nothing.
 */
static bool pins_live(struct lsm_limit *l)
{
	char path[PATH_MAX];
	uint32_t id;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", l->dir, map_pins[M_LIMITS]);
	fd = bpf_obj_get(path);
	id = map_id(fd);
	if (fd >= 0)
		close(fd);
	return id && id == map_id(l->fds[M_LIMITS]);
}

/*
 * With the pin directory locked, before a change: the pins this handle
 * holds, or those pinned now when another heapstat unpinned them since
 * (opened, or created, as by lsm_limit_open() with its flags; -ENOENT:
 * nothing is pinned now). On failure the handle only closes.
 */
static int pins_renew(struct lsm_limit *l, char *why, size_t why_len)
{
	int err;

	if (pins_live(l))
		return 0;
	pins_close(l);
	err = pins_open(l, why, why_len);
	if (err)
		l->unpinned = true;
	return err;
}

/*
 * Open the limit backend pinned under pin_dir (NULL: LSM_LIMIT_PIN_DIR);
 * with LSM_LIMIT_CREATE, load, attach, pin and seed it when nothing is
 * pinned (-ENOENT without). Needs root: the pins are 0700. -ESTALE: what is
 * pinned is not whole, a pin removed by hand or another build's (why says
 * what to do). *@out is NULL on failure.
 */
int lsm_limit_open(struct lsm_limit **out, const char *pin_dir, unsigned int flags,
		   char *why, size_t why_len)
{
	struct lsm_limit *l;
	int err = 0;

	*out = NULL;
	if (!pin_dir)
		pin_dir = LSM_LIMIT_PIN_DIR;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (int i = 0; i < NMAPS; i++)
		l->fds[i] = -1;
	l->flags = flags;
	snprintf(l->dir, sizeof(l->dir), "%s/limit", pin_dir);
	if ((flags & LSM_LIMIT_CREATE) && mkdir(pin_dir, 0700) && errno != EEXIST) {
		err = fail(why, why_len, -errno, "create %s", pin_dir);
		goto fail;
	}
	l->pin_dir_fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->pin_dir_fd < 0) {
		err = fail(why, why_len, -errno, "open %s", pin_dir);
		goto fail;
	}
	/* a reader shares the lock: it waits only for a load, a set or a clear */
	if (flock(l->pin_dir_fd, (flags & LSM_LIMIT_CREATE ? LOCK_EX : LOCK_SH) |
		  (flags & LSM_LIMIT_NOWAIT ? LOCK_NB : 0))) {
		err = errno == EWOULDBLOCK ? -EAGAIN : fail(why, why_len, -errno, "lock %s", pin_dir);
		goto fail;
	}
	err = pins_open(l, why, why_len);
	flock(l->pin_dir_fd, LOCK_UN);
	if (err)
		goto fail;
	*out = l;
	return 0;
fail:
	lsm_limit_close(l);
	return err;
}

/*
 * The maps this handle reads are still the pinned ones: false once the last
 * limit was cleared, by this handle or another heapstat (their programs
 * detached: nothing more comes to their ring), and when pinned anew since.
 */
bool lsm_limit_current(struct lsm_limit *l)
{
	return !l->unpinned && pins_live(l);
}

/* the id of the cells map this handle reads: another once pinned anew; 0 unknown */
uint32_t lsm_limit_cells_id(const struct lsm_limit *l)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (l->unpinned || bpf_obj_get_info_by_fd(l->fds[M_CELLS], &info, &len))
		return 0;
	return info.id;
}

/* the refusal events no reader had taken when this handle unpinned the last limit */
uint64_t lsm_limit_unread_unpinned(const struct lsm_limit *l)
{
	return l->unread_unpinned;
}

bool lsm_limit_created(const struct lsm_limit *l)
{
	return l->created;
}

static int key_of(struct lsm_limit *l, uint64_t cgroup_id, const char *heap, struct limit_key *k,
		  char *why, size_t why_len)
{
	int err;

	if (l->unpinned)
		return fail(why, why_len, -ENOENT, "%s", "use limits that were all cleared");
	memset(k, 0, sizeof(*k));
	k->cgroup_id = cgroup_id;
	err = heap_dev_of(HEAP_DEV_DIR, heap, &k->dev);
	if (err)
		return fail(why, why_len, err, "find the heap " HEAP_DEV_DIR "/%s", heap);
	return 0;
}

/*
 * the usage cells mapped (read-only), their number of slots and their homes'
 * multiplier; 0 or a negative errno
 */
static int cells_map(struct lsm_limit *l)
{
	struct bpf_map_info info = {};
	struct limit_bpf__bss bss;
	__u32 len = sizeof(info), zero = 0;
	int err;

	if (l->cells_mapped)
		return 0;
	if (bpf_obj_get_info_by_fd(l->fds[M_CELLS], &info, &len) ||
	    bpf_map_lookup_elem(l->fds[M_BSS], &zero, &bss))
		return -errno;
	if (!info.max_entries || info.max_entries & (info.max_entries - 1))
		return -EINVAL;
	err = map_window_open(&l->cells, l->fds[M_CELLS], sizeof(struct limit_cell),
			      info.max_entries);
	if (err)
		return err;
	l->cells_mask = info.max_entries - 1;
	l->cells_mult = bss.cells_mult;
	l->cells_mapped = true;
	/* a cell's tag has its heap's minor: the rows' device numbers need the major */
	if (heap_major(&l->major))
		l->major = 0;
	return 0;
}

static const struct limit_cell *cell_at(struct lsm_limit *l, uint32_t i)
{
	return l->cells_mapped ? map_window_at(&l->cells, i) : NULL;
}

/* the cell of a cgroup x heap, as the programs find it; NULL when it has none */
static const struct limit_cell *cell_find(struct lsm_limit *l, uint64_t cgroup_id, uint32_t dev)
{
	uint64_t tag = limit_tag(cgroup_id, dev);
	uint32_t home;

	if (cells_map(l))
		return NULL;
	home = limit_home(tag, l->cells_mult, l->cells_mask);
	for (uint32_t k = 0; k < LIMIT_PROBES; k++) {
		const struct limit_cell *c = cell_at(l, (home + k) & l->cells_mask);

		if (c && c->tag == tag)
			return c;
	}
	return NULL;
}

static bool cell_live(const struct limit_cell *c)
{
	return c && c->tag != LIMIT_TAG_EMPTY && c->tag != LIMIT_TAG_GONE;
}

/*
 * The cgroups below the cgroup2 root heapstat sees (@ix, built) are every
 * cgroup there is: its root is the hierarchy's (id 1), not a cgroup
 * namespace's or a bind mount's, which hide cgroups that still exist, and
 * the walk missed no subtree (out of fds, too deep). -EXDEV when not.
 */
static int index_whole(struct cg_index *ix)
{
	int err = cg_index_build(ix, cg_root());

	if (!err && (!cg_index_find(ix, 1) || ix->partial))
		err = -EXDEV;
	if (err)
		cg_index_free(ix);
	return err;
}

/*
 * Free the idle cells of cgroups gone: nothing charges them again (cgroup
 * ids are never reused), so no program writes them while this does. One
 * not in @ix may be a cgroup made since its walk, whose first allocation
 * has taken the cell and not yet added to it: asked by its id, kept when
 * there (a kernel without CONFIG_FHANDLE cannot say: gone, as the walk has
 * it).
 */
static void collect_cells(struct lsm_limit *l, const struct cg_index *ix)
{
	if (cells_map(l))
		return;
	for (uint32_t i = 0; i <= l->cells_mask; i++) {
		const struct limit_cell *c = cell_at(l, i);
		struct limit_cell gone = { .tag = LIMIT_TAG_GONE };

		if (cell_live(c) && !c->usage && !cg_index_find(ix, limit_tag_cgroup(c->tag)) &&
		    cg_id_alive(cg_root(), limit_tag_cgroup(c->tag)) != 1)
			bpf_map_update_elem(l->fds[M_CELLS], &i, &gone, BPF_ANY);
	}
}

/* a cgroup's path from the cgroup2 root, as a limit keeps it */
static uint64_t path_hash(const char *path)
{
	return fnv1a(FNV1A_SEED, path, strlen(path));
}

/*
 * With the pin directory locked: the limits of cgroups gone deleted (a
 * limit goes with its cgroup, as dmem.max does, and no cgroup takes a gone
 * one's id again); with @path, none unless one of them was set on that
 * path (its cgroup's, removed), how many in *@of_path. How many, or a
 * negative errno.
 */
static int drop_gone(struct lsm_limit *l, const struct cg_index *ix, const char *path,
		     size_t *of_path)
{
	struct limit_key key, next, *prev = NULL, *gone = NULL, *v;
	size_t n = 0, cap = 0;
	struct limit_value val;
	int dropped = 0;

	*of_path = 0;
	while (!bpf_map_get_next_key(l->fds[M_LIMITS], prev, &next)) {
		key = next;
		prev = &key;
		if (cg_index_find(ix, key.cgroup_id))
			continue;
		if (path && !bpf_map_lookup_elem(l->fds[M_LIMITS], &key, &val) &&
		    val.path_hash == path_hash(path))
			++*of_path;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(gone, cap * sizeof(*v));
			if (!v) {
				free(gone);
				return -ENOMEM;
			}
			gone = v;
		}
		gone[n++] = key;
	}
	if (errno != ENOENT) {
		dropped = -errno;
		free(gone);
		return dropped;
	}
	if (path && !*of_path)
		n = 0;
	for (size_t i = 0; i < n; i++)
		if (!bpf_map_delete_elem(l->fds[M_LIMITS], &gone[i]))
			dropped++;
	free(gone);
	return dropped;
}

static int count_record(const void *data, size_t len, void *ctx)
{
	(void)data;
	(void)len;
	++*(uint64_t *)ctx;
	return 0;
}

/* the refusal events in the ring that no reader has taken (from its consumer's position) */
static uint64_t ring_unread(struct lsm_limit *l)
{
	struct ring_peek p;
	uint64_t n = 0;

	if (ring_peek_open(&p, l->fds[M_REFUSALS]))
		return 0;
	ring_peek_read(&p, count_record, &n);
	ring_peek_close(&p);
	return n;
}

/*
 * With the pin directory locked: no limit left, so nothing stays pinned
 * (unless what is pinned is no longer what this handle holds: another's).
 * The refusal events not read yet go with the ring: counted first.
 */
static bool unpin_if_none(struct lsm_limit *l)
{
	struct limit_key next;

	if (!pins_live(l) || !bpf_map_get_next_key(l->fds[M_LIMITS], NULL, &next) || errno != ENOENT)
		return false;
	l->unread_unpinned = ring_unread(l);
	unpin_all(l->dir);
	l->unpinned = true;
	return true;
}

/*
 * With the pin directory locked, after a change of limits: the programs
 * keep each thread's limits and read them again when this moved.
 */
static int limits_changed(struct lsm_limit *l)
{
	__u32 zero = 0;
	__u64 gen = 0;

	if (bpf_map_lookup_elem(l->fds[M_LIMITS_GEN], &zero, &gen))
		return -errno;
	gen++;
	return bpf_map_update_elem(l->fds[M_LIMITS_GEN], &zero, &gen, BPF_ANY) ? -errno : 0;
}

/**
 * lsm_limit_depth() - whether the programs follow a cgroup's limit
 * @path: the cgroup's, normalized; parts at its end not made yet count
 *
 * They take a thread's ancestors down to LIMIT_MAX_DEPTH levels of the
 * hierarchy (bpf/limit.bpf.c), counted from its root, which a path in a
 * cgroup namespace does not start at: the kernel says the level (cg_level()).
 *
 * Return: 0, or (said in @why) -EINVAL for a cgroup deeper than that, the
 * errno of a level the kernel could not say.
 */
int lsm_limit_depth(const char *path, char *why, size_t why_len)
{
	int depth = cg_path_depth(path), level = depth > LIMIT_MAX_DEPTH ? depth : cg_level(path);

	/* not as a path's depth: wrong in a namespace, a limit kept and never enforced */
	if (level < 0)
		return fail(why, why_len, level, "tell cgroup %s's level in the hierarchy "
			    "(iter/cgroup)", path);
	if (level <= LIMIT_MAX_DEPTH)
		return 0;
	if (level == depth)
		snprintf(why, why_len, "cgroup %s is deeper than %d levels: limit an ancestor",
			 path, LIMIT_MAX_DEPTH);
	else
		snprintf(why, why_len, "cgroup %s is deeper than %d levels (level %d of the "
			 "hierarchy, whose root is above the one seen here): limit an ancestor",
			 path, LIMIT_MAX_DEPTH, level);
	return -EINVAL;
}

/*
 * Limit a cgroup (not the root, at most LIMIT_MAX_DEPTH levels down) and
 * its descendants to bytes of a heap. Below its usage, it refuses every
 * allocation until buffers are freed.
 */
int lsm_limit_set(struct lsm_limit *l, uint64_t cgroup_id, const char *heap, uint64_t bytes,
		  char *why, size_t why_len)
{
	struct limit_key k;
	struct limit_value v = { .bytes = bytes };
	struct cg_index ix = {};
	const char *path;
	int err = key_of(l, cgroup_id, heap, &k, why, why_len);

	if (err)
		return err;
	err = cg_index_build(&ix, cg_root());
	if (err)
		return fail(why, why_len, err, "%s", "walk the cgroup tree");
	path = cg_index_path(&ix, cgroup_id);
	if (!path)
		err = fail(why, why_len, -ENOENT, "%s", "find the cgroup");
	else if (!cg_path_depth(path))
		snprintf(why, why_len, "the root cgroup cannot be limited"), err = -EINVAL;
	else
		err = lsm_limit_depth(path, why, why_len);
	if (path)
		v.path_hash = path_hash(path);
	if (flock(l->pin_dir_fd, LOCK_EX)) {
		cg_index_free(&ix);
		return fail(why, why_len, -errno, "%s", "lock the pins");
	}
	if (!err)
		err = pins_renew(l, why, why_len);
	if (!err && bpf_map_update_elem(l->fds[M_LIMITS], &k, &v, BPF_ANY)) {
		err = -errno;
		if (err == -E2BIG)	/* a new one, the table full */
			snprintf(why, why_len, "failed to set the limit: every one of the %u bpf-lsm "
				 "limits the programs keep is set (a cgroup x heap each; "
				 "heapstat limit show lists them)",
				 map_info(l->fds[M_LIMITS]).max_entries ?: 4096);
		else
			fail(why, why_len, err, "%s", "set the limit");
	}
	if (!err && (err = limits_changed(l)))
		fail(why, why_len, err, "%s", "tell the programs the limit changed");
	if (err && l->created)		/* loaded for this limit only */
		unpin_if_none(l);
	flock(l->pin_dir_fd, LOCK_UN);
	cg_index_free(&ix);
	/* walked again: a cgroup made since the walk above is no gone one's */
	if (!err && !index_whole(&ix)) {
		collect_cells(l, &ix);
		cg_index_free(&ix);
	}
	return err;
}

/**
 * lsm_limit_collect() - drop the limits of cgroups removed since they were set
 * @path: NULL, or drop none unless one was set on this path (from the
 *	cgroup2 root), its cgroup removed
 * @out: how many were dropped, how many of them @path's; whether none was
 *	left: everything is then unpinned, this handle only closes
 *
 * A limit goes with its cgroup, as dmem.max does; their idle usage cells
 * are freed too. Only where heapstat sees every cgroup: in a cgroup
 * namespace, or under a bind mount of part of the tree, none is gone.
 */
int lsm_limit_collect(struct lsm_limit *l, const char *path, struct lsm_collected *out,
		      char *why, size_t why_len)
{
	struct cg_index ix = {};
	int n, err;

	memset(out, 0, sizeof(*out));
	if (l->unpinned)
		return 0;
	if (flock(l->pin_dir_fd, LOCK_EX))
		return fail(why, why_len, -errno, "%s", "lock the pins");
	err = pins_renew(l, why, why_len);
	if (err) {
		flock(l->pin_dir_fd, LOCK_UN);
		return err == -ENOENT ? 0 : err;	/* nothing pinned now: no limit to drop */
	}
	/* walked locked: a cgroup made and limited meanwhile is in it */
	err = index_whole(&ix);
	if (err == -EXDEV) {
		err = 0;
	} else if (err) {
		fail(why, why_len, err, "%s", "walk the cgroup tree");
	} else if ((n = drop_gone(l, &ix, path, &out->of_path)) < 0) {
		err = fail(why, why_len, n, "%s", "drop the limits of removed cgroups");
	} else {
		out->dropped = n;
		if (n && !(out->unpinned = unpin_if_none(l)) && (err = limits_changed(l)))
			fail(why, why_len, err, "%s", "tell the programs the limits changed");
		if (!out->unpinned)
			collect_cells(l, &ix);
	}
	cg_index_free(&ix);
	flock(l->pin_dir_fd, LOCK_UN);
	return err;
}

/*
 * Remove a limit; the last one unpins everything (*unpinned), after which
 * this handle only closes.
 */
int lsm_limit_clear(struct lsm_limit *l, uint64_t cgroup_id, const char *heap, bool *unpinned,
		    char *why, size_t why_len)
{
	struct limit_key k;
	int err = key_of(l, cgroup_id, heap, &k, why, why_len);

	*unpinned = false;
	if (err)
		return err;
	if (flock(l->pin_dir_fd, LOCK_EX))
		return fail(why, why_len, -errno, "%s", "lock the pins");
	err = pins_renew(l, why, why_len);
	if (err) {
		if (err == -ENOENT)	/* all cleared since the open */
			snprintf(why, why_len, "no limit is set on this cgroup and heap");
	} else if (bpf_map_delete_elem(l->fds[M_LIMITS], &k)) {
		err = -errno;
		snprintf(why, why_len, err == -ENOENT ? "no limit is set on this cgroup and heap" :
			 "failed to clear the limit: %s", strerror(-err));
	} else if (!(*unpinned = unpin_if_none(l)) && (err = limits_changed(l))) {
		fail(why, why_len, err, "%s", "tell the programs the limit changed");
	}
	flock(l->pin_dir_fd, LOCK_UN);
	return err;
}

static void row_fill(struct lsm_limit *l, const struct heap_names *hn, const struct limit_key *k,
		     struct lsm_limit_row *r)
{
	const struct limit_cell *cell = cell_find(l, k->cgroup_id, k->dev);
	struct limit_value v;

	memset(r, 0, sizeof(*r));
	r->cgroup_id = k->cgroup_id;
	r->dev = k->dev;
	heap_name_of(hn, k->dev, r->heap, sizeof(r->heap));
	r->limit = bpf_map_lookup_elem(l->fds[M_LIMITS], k, &v) ? LSM_LIMIT_NONE : v.bytes;
	if (cell) {
		r->usage = cell->usage;
		r->refusals = cell->refusals;
		r->overshoot = cell->overshoot;
		r->hits = cell->hits;
	}
}

/* one cgroup x heap: its usage, limit, refusals (all 0 and no limit when never seen) */
int lsm_limit_get(struct lsm_limit *l, uint64_t cgroup_id, const char *heap,
		  struct lsm_limit_row *out, char *why, size_t why_len)
{
	struct heap_names hn = {};
	struct limit_key k;
	int err = key_of(l, cgroup_id, heap, &k, why, why_len);

	if (!err) {
		heap_devs_read(HEAP_DEV_DIR, &hn.v, &hn.n);
		row_fill(l, &hn, &k, out);
		heap_devs_free(hn.v, hn.n);
	}
	return err;
}

/* a row for @key unless there is one */
static int row_add(struct lsm_limit *l, const struct heap_names *hn, const struct limit_key *k,
		   struct lsm_limit_row **rows, size_t *n, size_t *cap)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*rows)[i].cgroup_id == k->cgroup_id && (*rows)[i].dev == k->dev)
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct lsm_limit_row *v = realloc(*rows, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*rows = v;
		*cap = c;
	}
	row_fill(l, hn, k, &(*rows)[(*n)++]);
	return 0;
}

/* a row for each limit set */
static int limit_rows(struct lsm_limit *l, const struct heap_names *hn,
		      struct lsm_limit_row **rows, size_t *n, size_t *cap)
{
	struct limit_key key, next, *prev = NULL;
	int err = 0;

	while (!err && !bpf_map_get_next_key(l->fds[M_LIMITS], prev, &next)) {
		key = next;
		prev = &key;
		err = row_add(l, hn, &key, rows, n, cap);
	}
	return err;
}

/* every cgroup x heap with a limit or a usage cell; *rows is the caller's to free */
int lsm_limit_rows(struct lsm_limit *l, struct lsm_limit_row **rows, size_t *n,
		   char *why, size_t why_len)
{
	struct heap_names hn = {};
	size_t cap = 0;
	int err;

	*rows = NULL;
	*n = 0;
	if (l->unpinned)
		return fail(why, why_len, -ENOENT, "%s", "use limits that were all cleared");
	heap_devs_read(HEAP_DEV_DIR, &hn.v, &hn.n);
	err = limit_rows(l, &hn, rows, n, &cap);
	if (!err)
		err = cells_map(l);
	for (uint32_t i = 0; !err && i <= l->cells_mask; i++) {
		const struct limit_cell *c = cell_at(l, i);
		struct limit_key k = {};

		if (!cell_live(c))
			continue;
		k.cgroup_id = limit_tag_cgroup(c->tag);
		k.dev = l->major << LIMIT_MINOR_BITS | limit_tag_minor(c->tag);
		err = row_add(l, &hn, &k, rows, n, &cap);
	}
	heap_devs_free(hn.v, hn.n);
	if (err) {
		free(*rows);
		*rows = NULL;
		*n = 0;
		return fail(why, why_len, err, "%s", "read the limits");
	}
	return 0;
}

/**
 * lsm_limit_look() - a reader's one look at the pinned limits: open, read every row, close
 * @flags: lsm_limit_open()'s (LSM_LIMIT_NOWAIT: -EAGAIN rather than wait)
 * @cells_id: the id of the cells map read (lsm_limit_cells_id())
 *
 * Return: 0; -ENOENT, none pinned (*@rows NULL, *@n and *@cells_id 0); or
 * another -errno with @why set.
 */
int lsm_limit_look(const char *pin_dir, unsigned int flags, struct lsm_limit_row **rows,
		   size_t *n, uint32_t *cells_id, char *why, size_t why_len)
{
	struct lsm_limit *l;
	int err = lsm_limit_open(&l, pin_dir, flags, why, why_len);

	*rows = NULL;
	*n = 0;
	*cells_id = 0;
	if (err)
		return err;
	err = lsm_limit_rows(l, rows, n, why, why_len);
	if (!err)
		*cells_id = lsm_limit_cells_id(l);
	lsm_limit_close(l);
	return err;
}

/*
 * The name of an event's heap, in @out of HEAP_NAME_LEN bytes: the event
 * keeps LIMIT_NAME_LEN - 1 bytes of it (a wider event would not be read
 * right by programs pinned by an older build, nor theirs by this one); one
 * that long may be cut, and is named whole by its device in /dev/dma_heap.
 */
void lsm_limit_event_heap(const struct limit_event *e, char *out)
{
	struct heap_names hn = {};
	size_t len = strnlen(e->heap, LIMIT_NAME_LEN);

	out[0] = '\0';
	if (len >= LIMIT_NAME_LEN - 1 && !heap_devs_read(HEAP_DEV_DIR, &hn.v, &hn.n)) {
		heap_name_of(&hn, e->dev, out, HEAP_NAME_LEN);
		heap_devs_free(hn.v, hn.n);
	}
	if (!out[0])
		snprintf(out, HEAP_NAME_LEN, "%.*s", (int)len, e->heap);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct lsm_limit *l = ctx;

	if (size < sizeof(struct limit_event))
		return 0;
	return l->cb(data, l->cb_ctx);
}

/*
 * Call cb for each refusal event waiting, after up to timeout_ms for one;
 * the number of events, or a negative errno (or cb's). Events are consumed:
 * one reader sees each.
 */
int lsm_limit_events(struct lsm_limit *l, int timeout_ms,
		     int (*cb)(const struct limit_event *e, void *ctx), void *ctx,
		     char *why, size_t why_len)
{
	int n;

	if (l->unpinned)
		return fail(why, why_len, -ENOENT, "%s", "use limits that were all cleared");
	l->cb = cb;
	l->cb_ctx = ctx;
	if (!l->rb) {
		l->rb = ring_buffer__new(l->fds[M_REFUSALS], on_event, l, NULL);
		if (!l->rb)
			return fail(why, why_len, -errno, "%s", "open the refusal events");
	}
	n = ring_buffer__poll(l->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return fail(why, why_len, n, "%s", "read the refusal events");
	return n < 0 ? 0 : n;
}

struct peek_ctx {
	int (*cb)(const struct limit_event *e, void *ctx);
	void *ctx;
};

static int on_peek(const void *data, size_t size, void *ctx)
{
	struct peek_ctx *pc = ctx;
	struct limit_event e;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	return pc->cb(&e, pc->ctx);
}

/*
 * Call cb for each refusal event still kept in the ring at the first call
 * or written since, without consuming it: the ring keeps it for the reader
 * that does (heapstat limit events).
 * *overrun: events written over before they were seen (the consumer moved
 * on and the ring wrapped), as times it happened. The number of events, or
 * a negative errno (or cb's).
 */
int lsm_limit_watch(struct lsm_limit *l, int (*cb)(const struct limit_event *e, void *ctx),
		    void *ctx, uint64_t *overrun, char *why, size_t why_len)
{
	struct peek_ctx pc = { cb, ctx };
	int n, err;

	if (l->unpinned)
		return fail(why, why_len, -ENOENT, "%s", "use limits that were all cleared");
	if (!l->peeking) {
		err = ring_peek_open(&l->peek, l->fds[M_REFUSALS]);
		if (err)
			return fail(why, why_len, err, "%s", "map the refusal events");
		l->peeking = true;
	}
	n = ring_peek_read(&l->peek, on_peek, &pc);
	*overrun = l->peek.overrun;
	return n;
}

/* the pinned program @prog's recursion_misses; 0 when it is not pinned or not readable */
uint64_t lsm_limit_misses(const char *pin_dir, const char *prog)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/limit/prog_%s", pin_dir ?: LSM_LIMIT_PIN_DIR, prog);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.recursion_misses = 0;
	close(fd);
	return info.recursion_misses;
}

/*
 * Calls of the buffers' hooks the kernel ran no program for: the export's
 * programs' recursion_misses (bpf/limit.bpf.c tells what a skip costs; the
 * LSM ones, the buffer's end among them, are never skipped). Not the file
 * allocation's (every file of the system: skipped there, it costs only a
 * refusal, which the export's exit charges) nor cgroup_rmdir's (the cells
 * are collected later). Read by limit show alone: the programs' info, not
 * for every frame of a model; from their pins (@pin_dir as lsm_limit_open()'s),
 * without opening the maps.
 */
uint64_t lsm_limit_skips(const char *pin_dir)
{
	return lsm_limit_misses(pin_dir, "dma_buf_export_entry") +
	       lsm_limit_misses(pin_dir, "dma_buf_export_exit");
}

int lsm_limit_stats(struct lsm_limit *l, struct lsm_limit_stats *out, char *why, size_t why_len)
{
	struct limit_bpf__bss bss;
	__u32 zero = 0;

	if (l->unpinned)
		return fail(why, why_len, -ENOENT, "%s", "use limits that were all cleared");
	if (bpf_map_lookup_elem(l->fds[M_BSS], &zero, &bss))
		return fail(why, why_len, -errno, "%s", "read the limit programs' counters");
	out->dropped = bss.dropped;
	out->untracked = bss.untracked;
	out->stale = bss.stale;
	out->full = bss.full;
	out->overshoot_bytes = bss.overshoot_bytes;
	out->seeded = bss.seeded;
	out->seeded_bytes = bss.seeded_bytes;
	out->spills = bss.spills;
	out->unread = bss.unread;
	return 0;
}

/* close the handle; what is pinned stays (lsm_limit_clear() of the last limit unpins) */
void lsm_limit_close(struct lsm_limit *l)
{
	if (!l)
		return;
	pins_close(l);
	if (l->pin_dir_fd > 0)
		close(l->pin_dir_fd);
	free(l);
}
