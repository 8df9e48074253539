// SPDX-License-Identifier: GPL-2.0
/*
 * Drive the BPF-LSM limit backend (tools/lib/lsm_limit.c) for
 * tests/vm/lsm/backend.sh. CGROUP is a path under the cgroup2 root.
 *
 *   lsm_limit set CGROUP HEAP BYTES      "created" when this loaded the programs
 *   lsm_limit clear CGROUP HEAP          "unpinned" when it was the last limit
 *   lsm_limit get CGROUP HEAP            usage=N limit=N refusals=N overshoot=N
 *   lsm_limit events                     the refusal events waiting, one a line
 *   lsm_limit stats                      the backend's counters
 *   lsm_limit race HEAP SIZE THREADS SECS CGROUP
 *       THREADS threads allocate and free SIZE buffers for SECS seconds, each
 *       holding at most 4; prints the bytes they held at most at once
 *       (max_held; with LSM_LIMIT_SHARED=FILE, counted in FILE with the other
 *       processes given it) and the peak usage of CGROUP a sampler saw (peak);
 *       with LSM_LIMIT_DMEM=1 the usage is CGROUP's dmem.current of the heap's
 *       region, and no pins are opened (the dmem backend's race)
 *   lsm_limit fake-pin NAME BYTES        a map of BYTES-long values pinned as NAME
 *                                        in place of the limits' (another build's)
 *   lsm_limit misses PROG                the pinned program PROG's recursion_misses
 *   lsm_limit home CGROUP HEAP MULT SLOTS
 *       the home slot of CGROUP x HEAP's usage cell (limit.h: limit_home())
 *       among SLOTS with the multiplier MULT; no pins opened
 * LSM_LIMIT_UID=N runs the command as user N, with no group.
 *
 *   lsm_limit try HEAP SIZE N
 *       N allocations of SIZE, each freed at once; prints how many were made
 *       and how many a limit refused (ok=N refused=N)
 *
 *   lsm_limit toctou HEAP SMALL BIG SECS CGROUP
 *       one thread allocates with a length another flips between SMALL and
 *       BIG; prints how many buffers of each size it got, the refusals,
 *       the bytes held at most at once and the peak usage seen
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <grp.h>
#include <linux/dma-heap.h>
#include <bpf/bpf.h>

#include "lib/heap_dev.h"
#include "lib/lsm_limit.h"
#include "lib/util.h"
#include "cgroup/dmem.h"
#include "cgroup/path.h"

static char why[512];
static struct lsm_limit *lim;
static uint64_t cg_id;
static const char *heap_name;
static volatile int stop;
static uint64_t held[2], peak;	/* now, most: in shared memory with LSM_LIMIT_SHARED */
static uint64_t *held_now = &held[0], *held_max = &held[1];

static int die(int err)
{
	fprintf(stderr, "lsm_limit: %s (%s)\n", why[0] ? why : strerror(-err), strerror(-err));
	return 1;
}

static int cgroup_id(const char *path, uint64_t *id)
{
	char full[4096];
	struct stat st;

	snprintf(full, sizeof(full), "%s/%s", cg_root(), path[0] == '/' ? path + 1 : path);
	if (stat(full, &st)) {
		int err = -errno;

		snprintf(why, sizeof(why), "cgroup %.256s: %s", path, strerror(-err));
		return err;
	}
	*id = st.st_ino;
	return 0;
}

static int print_event(const struct limit_event *e, void *ctx)
{
	(void)ctx;
	printf("event pid=%u tgid=%u comm=%.16s cgroup=%llu bound=%llu heap=%.32s requested=%llu "
	       "usage=%llu limit=%llu when=%s\n", e->pid, e->tgid, e->comm,
	       (unsigned long long)e->cgroup_id, (unsigned long long)e->bound_cgroup_id, e->heap,
	       (unsigned long long)e->requested, (unsigned long long)e->usage,
	       (unsigned long long)e->limit, e->when == LIMIT_AT_EXPORT ? "export" :
	       e->when == LIMIT_NO_CELL ? "full" : "ioctl");
	return 0;
}

static void held_add(int64_t bytes)
{
	uint64_t now = __atomic_add_fetch(held_now, bytes, __ATOMIC_SEQ_CST), m;

	while ((m = __atomic_load_n(held_max, __ATOMIC_RELAXED)) < now &&
	       !__atomic_compare_exchange_n(held_max, &m, now, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED))
		;
}

static char dmem_dir[4096];	/* LSM_LIMIT_DMEM: the cgroup's directory */

static int on_dmem(const char *region, uint64_t value, void *arg)
{
	(void)arg;
	if (!strncmp(region, "dma-heap/", 9) && !strcmp(region + 9, heap_name) && value > peak)
		peak = value;
	return 0;
}

static void *sampler(void *arg)
{
	(void)arg;
	while (!stop) {
		struct lsm_limit_row r;

		if (dmem_dir[0])
			cg_dmem_each(dmem_dir, "dmem.current", on_dmem, NULL);
		else if (!lsm_limit_get(lim, cg_id, heap_name, &r, why, sizeof(why)) && r.usage > peak)
			peak = r.usage;
		usleep(200);
	}
	return NULL;
}

static int heap_fd;
static uint64_t size;

static void *racer(void *arg)
{
	int fds[4] = { -1, -1, -1, -1 };
	unsigned int seed = (uintptr_t)arg;
	uint64_t refused = 0;

	while (!stop) {
		int i = rand_r(&seed) % 4;

		if (fds[i] >= 0) {
			held_add(-(int64_t)size);	/* before the free: never counted low */
			close(fds[i]);
			fds[i] = -1;
		} else {
			struct dma_heap_allocation_data d = { .len = size, .fd_flags = O_RDWR | O_CLOEXEC };

			if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &d) == 0) {
				fds[i] = d.fd;
				held_add(size);
			} else if (errno == EAGAIN) {
				refused++;
			}
		}
	}
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0) {
			held_add(-(int64_t)size);
			close(fds[i]);
		}
	return (void *)(uintptr_t)refused;
}

static int open_heap(const char *heap)
{
	char path[256];

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap);
	heap_fd = open(path, O_RDONLY | O_CLOEXEC);
	return heap_fd < 0 ? -errno : 0;
}

static int race(int threads, uint64_t secs)
{
	const char *shared_file = getenv("LSM_LIMIT_SHARED");
	pthread_t t[64], s;
	uint64_t refused = 0;

	/* the bytes held by several processes, counted together */
	if (shared_file) {
		int fd = open(shared_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		uint64_t *m;

		if (fd < 0 || ftruncate(fd, sizeof(held)))
			return -errno;
		m = mmap(NULL, sizeof(held), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (m == MAP_FAILED)
			return -errno;
		held_now = &m[0];
		held_max = &m[1];
	}

	pthread_create(&s, NULL, sampler, NULL);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, racer, (void *)(uintptr_t)(getpid() * 64 + i));
	sleep(secs);
	stop = 1;
	for (int i = 0; i < threads; i++) {
		void *r;

		pthread_join(t[i], &r);
		refused += (uintptr_t)r;
	}
	pthread_join(s, NULL);
	printf("max_held=%llu peak=%llu refused=%llu\n", (unsigned long long)*held_max,
	       (unsigned long long)peak, (unsigned long long)refused);
	return 0;
}

static struct dma_heap_allocation_data shared;
static uint64_t small_len, big_len;

static void *flipper(void *arg)
{
	(void)arg;
	while (!stop) {
		__atomic_store_n(&shared.len, big_len, __ATOMIC_RELAXED);
		__atomic_store_n(&shared.len, small_len, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int toctou(uint64_t secs)
{
	uint64_t end = now_ns() + secs * 1000000000ull, got_small = 0, got_big = 0, refused = 0;
	int fds[64], n = 0;
	pthread_t f, s;

	pthread_create(&s, NULL, sampler, NULL);
	pthread_create(&f, NULL, flipper, NULL);
	while (now_ns() < end) {
		int fd;
		off_t sz;

		shared.fd = 0;
		shared.fd_flags = O_RDWR | O_CLOEXEC;
		shared.heap_flags = 0;
		if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &shared)) {
			refused += errno == EAGAIN;
			continue;
		}
		fd = shared.fd;
		sz = lseek(fd, 0, SEEK_END);
		if ((uint64_t)sz >= big_len) {
			struct lsm_limit_row r = {};

			lsm_limit_get(lim, cg_id, heap_name, &r, why, sizeof(why));
			/* what the test then fails on, said while it can be seen */
			fprintf(stderr, "lsm_limit: toctou: got a buffer of %lld bytes (usage %llu)\n",
				(long long)sz, (unsigned long long)r.usage);
			got_big++;
		}
		else
			got_small++;
		held_add(sz);
		if (n == 64) {		/* keep up to 64, the oldest go */
			off_t osz = lseek(fds[0], 0, SEEK_END);

			held_add(-(int64_t)osz);
			close(fds[0]);
			memmove(fds, fds + 1, 63 * sizeof(*fds));
			n--;
		}
		fds[n++] = fd;
	}
	stop = 1;
	pthread_join(f, NULL);
	pthread_join(s, NULL);
	for (int i = 0; i < n; i++) {
		held_add(-(int64_t)lseek(fds[i], 0, SEEK_END));
		close(fds[i]);
	}
	printf("small=%llu big=%llu refused=%llu max_held=%llu peak=%llu\n",
	       (unsigned long long)got_small, (unsigned long long)got_big,
	       (unsigned long long)refused, (unsigned long long)*held_max, (unsigned long long)peak);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	bool create = !strcmp(cmd, "set");
	uint64_t bytes = 0, n = 0, secs = 0;
	int err = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: lsm_limit set|clear|get|events|stats|race|try|toctou|"
			"fake-pin|misses|home ...\n");
		return 2;
	}
	if (!strcmp(cmd, "fake-pin")) {
		char path[512];
		int fd = argc == 4 ? bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, atoi(argv[3]), 1,
						    NULL) : -EINVAL;

		snprintf(path, sizeof(path), "%s/limit/%s",
			 getenv("LSM_LIMIT_PIN_DIR") ?: "/sys/fs/bpf/heapstat", argc > 2 ? argv[2] : "");
		if (fd < 0 || (unlink(path) && errno != ENOENT) || bpf_obj_pin(fd, path)) {
			perror("lsm_limit: fake-pin");
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "home")) {
		uint64_t mult, slots;
		uint32_t dev;

		if (argc != 6 || cgroup_id(argv[2], &cg_id) ||
		    heap_dev_of("/dev/dma_heap", argv[3], &dev) ||
		    parse_u64(argv[4], 1, UINT64_MAX, &mult) ||
		    parse_u64(argv[5], 1, LIMIT_CELLS, &slots) || slots & (slots - 1)) {
			fprintf(stderr, "lsm_limit: home CGROUP HEAP MULT SLOTS\n");
			return 2;
		}
		printf("%u\n", limit_home(limit_tag(cg_id, dev), mult, slots - 1));
		return 0;
	}
	if ((!strcmp(cmd, "set") && argc != 5) || (!strcmp(cmd, "clear") && argc != 4) ||
	    (!strcmp(cmd, "get") && argc != 4) || (!strcmp(cmd, "race") && argc != 7) ||
	    (!strcmp(cmd, "toctou") && argc != 7) || (!strcmp(cmd, "try") && argc != 5) ||
	    (!strcmp(cmd, "misses") && argc != 3)) {
		fprintf(stderr, "lsm_limit: wrong arguments for %s\n", cmd);
		return 2;
	}
	/* LSM_LIMIT_UID=N: try it all as that user, with no groups */
	if (getenv("LSM_LIMIT_UID")) {
		uid_t uid = atoi(getenv("LSM_LIMIT_UID"));

		if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
			perror("lsm_limit: setuid");
			return 1;
		}
	}
	if (!strcmp(cmd, "race") && getenv("LSM_LIMIT_DMEM"))
		snprintf(dmem_dir, sizeof(dmem_dir), "%s/%s", cg_root(),
			 argv[6][0] == '/' ? argv[6] + 1 : argv[6]);
	else
		err = lsm_limit_open(&lim, getenv("LSM_LIMIT_PIN_DIR"),
				     create ? LSM_LIMIT_CREATE : 0, why, sizeof(why));
	if (err)
		return die(err);
	if (!strcmp(cmd, "set")) {
		err = cgroup_id(argv[2], &cg_id);
		if (!err)
			err = parse_size(argv[4], &bytes) ? -EINVAL : 0;
		if (!err)
			err = lsm_limit_set(lim, cg_id, argv[3], bytes, why, sizeof(why));
		if (!err && lsm_limit_created(lim))
			printf("created\n");
	} else if (!strcmp(cmd, "clear")) {
		bool unpinned;

		err = cgroup_id(argv[2], &cg_id);
		if (!err)
			err = lsm_limit_clear(lim, cg_id, argv[3], &unpinned, why, sizeof(why));
		if (!err && unpinned)
			printf("unpinned\n");
	} else if (!strcmp(cmd, "get")) {
		struct lsm_limit_row r;

		err = cgroup_id(argv[2], &cg_id);
		if (!err)
			err = lsm_limit_get(lim, cg_id, argv[3], &r, why, sizeof(why));
		if (!err)
			printf("usage=%llu limit=%lld refusals=%llu overshoot=%llu\n",
			       (unsigned long long)r.usage,
			       r.limit == LSM_LIMIT_NONE ? -1LL : (long long)r.limit,
			       (unsigned long long)r.refusals, (unsigned long long)r.overshoot);
	} else if (!strcmp(cmd, "events")) {
		err = lsm_limit_events(lim, 0, print_event, NULL, why, sizeof(why));
		err = err < 0 ? err : 0;
	} else if (!strcmp(cmd, "stats")) {
		struct lsm_limit_stats s;
		uint64_t skipped = lsm_limit_skips(getenv("LSM_LIMIT_PIN_DIR"));

		err = lsm_limit_stats(lim, &s, why, sizeof(why));
		if (!err)
			printf("dropped=%llu untracked=%llu stale=%llu full=%llu overshoot=%llu "
			       "seeded=%llu seeded_bytes=%llu unread=%llu spills=%llu skipped=%llu\n",
			       (unsigned long long)s.dropped,
			       (unsigned long long)s.untracked, (unsigned long long)s.stale,
			       (unsigned long long)s.full, (unsigned long long)s.overshoot_bytes,
			       (unsigned long long)s.seeded, (unsigned long long)s.seeded_bytes,
			       (unsigned long long)s.unread, (unsigned long long)s.spills,
			       (unsigned long long)skipped);
	} else if (!strcmp(cmd, "misses")) {
		printf("%llu\n", (unsigned long long)lsm_limit_misses(getenv("LSM_LIMIT_PIN_DIR"), argv[2]));
	} else if (!strcmp(cmd, "race") || !strcmp(cmd, "toctou")) {
		heap_name = argv[2];
		err = open_heap(heap_name);
		if (!err)
			err = cgroup_id(argv[6], &cg_id);
		if (!err && !strcmp(cmd, "race")) {
			if (parse_size(argv[3], &size) || parse_u64(argv[4], 1, 64, &n) ||
			    parse_u64(argv[5], 1, 3600, &secs))
				err = -EINVAL;
			else
				err = race(n, secs);
		} else if (!err) {
			if (parse_size(argv[3], &small_len) || parse_size(argv[4], &big_len) ||
			    parse_u64(argv[5], 1, 3600, &secs))
				err = -EINVAL;
			else
				err = toctou(secs);
		}
	} else if (!strcmp(cmd, "try")) {
		uint64_t ok = 0, refused = 0;

		err = open_heap(argv[2]);
		if (!err && (parse_size(argv[3], &size) || parse_u64(argv[4], 1, 1000000, &n)))
			err = -EINVAL;
		for (uint64_t i = 0; !err && i < n; i++) {
			struct dma_heap_allocation_data d = { .len = size,
							      .fd_flags = O_RDWR | O_CLOEXEC };

			if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &d) == 0) {
				close(d.fd);
				ok++;
			} else if (errno == EAGAIN) {
				refused++;
			} else {
				err = -errno;
			}
		}
		if (!err)
			printf("ok=%llu refused=%llu\n", (unsigned long long)ok,
			       (unsigned long long)refused);
	} else {
		fprintf(stderr, "lsm_limit: unknown command %s\n", cmd);
		err = -EINVAL;
	}
	lsm_limit_close(lim);
	return err ? die(err) : 0;
}
