// SPDX-License-Identifier: GPL-2.0
/*
 * Workload helper: allocate a described set of dma-heap buffers, so tests
 * know the exact numbers to expect and the demo has something to show.
 *
 *   dmabuf_alloc -H system -s 1M -n 4 -r 1 -w 2
 *       four 1 MiB buffers, close one, hold the rest 2 s, exit
 *   dmabuf_alloc -H system,default_cma_region -s 4K -n 2000 -w 60
 *       buffers from the two heaps in turn, 1000 of each
 *   dmabuf_alloc -H system -s 4M -n 8 --churn 60 -p 100
 *       for 60 s, every 100 ms allocate up to 4 MiB, keep at most 8 live
 *   dmabuf_alloc -H system -s 1M -n 2 -M --share 2 --ready /tmp/r -w 30
 *       two buffers held by fd and mapping in this process and two
 *       children; /tmp/r appears once all is set up
 *   dmabuf_alloc -H system -s 1M -n 2 --signals --ready /tmp/r -w 60
 *       then SIGUSR1 forks a child holding the buffers (its pid goes to
 *       /tmp/r.children), SIGUSR2 maps them all or unmaps them, SIGALRM
 *       closes their fds here, SIGHUP execs sleep (the buffers' fds close
 *       on exec); each of SIGUSR2's and SIGALRM's is told done by a line
 *       in /tmp/r.done ("map", "unmap", "close"); SIGALRM once they are
 *       closed allocates them anew ("alloc")
 *   dmabuf_alloc -H system -s 1M --dup --signals --ready /tmp/r -w 60
 *       one buffer held by a dup of its fd, the original closed; SIGALRM
 *       closes the dup
 *   dmabuf_alloc -H system -s 512K -n 3 --path-hold -w 60
 *       each buffer held by an O_PATH file of it alone: the buffer's own
 *       file is released, its memory kept while the O_PATH file is open
 *   dmabuf_alloc -H system -s 8K --skip 131071 -w 60
 *       first allocate and close 131071 buffers, which moves the dma-buf
 *       inode numbers on by as many: the one kept is 131072 after the last
 *   dmabuf_alloc -H system -s 4K --map-file /dmabuf:x -w 60
 *       beside the buffer, a mapping of the regular file /dmabuf:x (made,
 *       4 KiB): a path as a dma-buf's in maps, on another filesystem
 *   dmabuf_alloc -H system -s 4K --drop-admin
 *       open the heap, drop CAP_SYS_ADMIN, stop (SIGSTOP) and allocate once
 *       continued: as a user without it allocates, whose files the kernel
 *       refuses past fs.file-max (which the caller may lower meanwhile)
 *   dmabuf_alloc -H camera -s 4M -n 2 --background -w 600
 *       exit once the buffers are held, a child holding them on 600 s: for
 *       a caller with no shell to put it in the background (tests/dt/init)
 */
#define _GNU_SOURCE	/* ppoll */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <drm/drm.h>

#include "lib/util.h"

static struct {
	const char *heap;
	uint64_t size;
	uint64_t count;
	uint64_t release;
	uint64_t wait_s;
	uint64_t churn_s;
	uint64_t period_ms;
	uint64_t skip;
	uint64_t fail;
	uint64_t attachments;
	uint64_t share;
	const char *ready;
	const char *kernel_hold;
	const char *kernel_attach;
	bool mmap;
	bool keep_mapped;
	bool holes;
	bool signals;
	bool vgem_export;
	const char *name;
	const char *comm;
	const char *map_file;
	bool dup;
	bool path_hold;
	bool background;
	bool drop_admin;
} opts = { .heap = "system", .size = 4096, .count = 1, .period_ms = 100 };

static volatile sig_atomic_t exiting, fork_asked, map_asked, close_asked, exec_asked;

/* what --signals acts on */
static struct {
	int *fds;
	void **maps;
	pid_t children[64];	/* --share and SIGUSR1: at most 64, in READY.children */
	int nchildren;
	int heap_fd;
} held;

static const struct argp_option options[] = {
	{ "heap", 'H', "NAME[,NAME]", 0,
	  "Heap in /dev/dma_heap (default system); with two, buffers alternate between them", 0 },
	{ "size", 's', "SIZE", 0, "Buffer size, K/M/G suffixes (default 4K)", 0 },
	{ "count", 'n', "N", 0, "Buffers to allocate (default 1)", 0 },
	{ "release", 'r', "N", 0, "Close the first N of them after allocating", 0 },
	{ "mmap", 'm', NULL, 0, "Map each buffer and write to every page", 0 },
	{ "map", 'M', NULL, 0, "Keep each buffer mapped (and written) until exit", 0 },
	{ "dup", 'D', NULL, 0, "Hold each buffer by a dup of its fd, the original closed", 0 },
	{ "share", 'S', "N", 0, "Fork N children that hold the buffers too", 0 },
	{ "ready", 'R', "FILE", 0, "Create FILE once everything is set up", 0 },
	{ "holes", 'O', NULL, 0, "Close every other buffer (the 1st, 3rd, ...): fragments a CMA area", 0 },
	{ "kernel-hold", 'K', "FILE", 0, "Write 'hold FD' for each buffer to FILE (tests/kmod's importer)", 0 },
	{ "kernel-attach", 'A', "FILE", 0, "Write 'attach FD' for each buffer to FILE (a device imports it)", 0 },
	{ "attachments", 0x103, "N", 0, "With -A: write it N times a buffer (default 1)", 0 },
	{ "wait", 'w', "SECS", 0, "Hold the buffers SECS seconds before exiting", 0 },
	{ "background", 'B', NULL, 0, "Exit once set up, a child holding the buffers on", 0 },
	{ "churn", 'c', "SECS", 0, "Allocate and free for SECS seconds (sizes up to SIZE, at most N live)", 0 },
	{ "skip", 'k', "N", 0, "First allocate and close N buffers of SIZE", 0 },
	{ "period", 'p', "MS", 0, "Churn: one allocation every MS milliseconds, paced (default 100)", 0 },
	{ "vgem-export", 'V', NULL, 0, "Then export a 64 KiB vgem buffer from the same thread "
	  "(/dev/dri/card0) and close it", 0 },
	{ "name", 0x100, "NAME", 0, "Name each buffer NAME (DMA_BUF_SET_NAME), bytes as given", 0 },
	{ "comm", 0x101, "COMM", 0, "Set the process's name to COMM (PR_SET_NAME), bytes as given", 0 },
	{ "fail", 0x102, "N", 0, "First make N allocations the heap refuses (heap_flags it does not "
	  "know: EINVAL)", 0 },
	{ "map-file", 0x104, "PATH", 0, "Also map PATH, a regular file made 4 KiB long, until exit", 0 },
	{ "path-hold", 0x105, NULL, 0, "Hold each buffer by an O_PATH open of /proc/self/fd/N alone, "
	  "its fd closed: no file of the buffer's stays, its memory does", 0 },
	{ "drop-admin", 0x106, NULL, 0, "Once the heap is open, drop CAP_SYS_ADMIN and stop "
	  "(SIGSTOP): allocate when continued", 0 },
	{ "signals", 'g', NULL, 0, "While holding: SIGUSR1 forks a holding child, SIGUSR2 maps or "
	  "unmaps the buffers, SIGALRM closes their fds (once closed: allocates them anew), "
	  "SIGHUP execs sleep", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'H': opts.heap = arg; break;
	case 's':
		if (parse_size(arg, &opts.size))
			argp_error(state, "invalid size '%s'", arg);
		break;
	case 'n':
		if (parse_u64(arg, 0, 1 << 20, &opts.count))
			argp_error(state, "invalid count '%s'", arg);
		break;
	case 'r':
		if (parse_u64(arg, 0, 1 << 20, &opts.release))
			argp_error(state, "invalid release count '%s'", arg);
		break;
	case 'm': opts.mmap = true; break;
	case 'M': opts.keep_mapped = true; break;
	case 0x104: opts.map_file = arg; break;
	case 0x105: opts.path_hold = true; break;
	case 0x106: opts.drop_admin = true; break;
	case 'D': opts.dup = true; break;
	case 'B': opts.background = true; break;
	case 'S':
		if (parse_u64(arg, 0, 64, &opts.share))
			argp_error(state, "invalid share count '%s'", arg);
		break;
	case 'R': opts.ready = arg; break;
	case 'K': opts.kernel_hold = arg; break;
	case 'A': opts.kernel_attach = arg; break;
	case 'O': opts.holes = true; break;
	case 'g': opts.signals = true; break;
	case 'V': opts.vgem_export = true; break;
	case 0x100: opts.name = arg; break;
	case 0x101: opts.comm = arg; break;
	case 0x103:
		if (parse_u64(arg, 1, 16, &opts.attachments))
			argp_error(state, "invalid attachments '%s'", arg);
		break;
	case 0x102:
		if (parse_u64(arg, 0, 1 << 24, &opts.fail))
			argp_error(state, "invalid fail count '%s'", arg);
		break;
	case 'w':
		if (parse_u64(arg, 0, 86400, &opts.wait_s))
			argp_error(state, "invalid wait '%s'", arg);
		break;
	case 'c':
		if (parse_u64(arg, 1, 86400, &opts.churn_s))
			argp_error(state, "invalid churn time '%s'", arg);
		break;
	case 'k':
		if (parse_u64(arg, 0, 1 << 24, &opts.skip))
			argp_error(state, "invalid skip count '%s'", arg);
		break;
	case 'p':
		if (parse_u64(arg, 1, 60000, &opts.period_ms))
			argp_error(state, "invalid period '%s'", arg);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		fork_asked = 1;
	else if (sig == SIGUSR2)
		map_asked = 1;
	else if (sig == SIGALRM)
		close_asked = 1;
	else if (sig == SIGHUP)
		exec_asked = 1;
	else
		exiting = 1;
}

/* A new dma-buf fd, or a negative errno. */
static int heap_alloc(int heap_fd, uint64_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

/* map and write every page; *keep gets the mapping, else it is unmapped */
static int touch(int fd, uint64_t len, void **keep)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	for (uint64_t off = 0; off < len; off += page)
		p[off] = 1;
	if (keep)
		*keep = p;
	else
		munmap(p, len);
	return 0;
}

/* "hold FD" or "attach FD" to the test importer's file */
static int kernel_hold(const char *file, const char *verb, int fd)
{
	char cmd[32];
	int f = open(file, O_WRONLY | O_CLOEXEC), ret = 0;

	if (f < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s %d", verb, fd);
	if (write(f, cmd, strlen(cmd)) < 0)
		ret = -1;
	close(f);
	return ret;
}

/* CLOCK_MONOTONIC's ns, as now_ns() reads it */
static void sleep_until(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ull, ns % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !exiting)
		;
}

static void hold_for(uint64_t secs);

/* a line added to READY.SUFFIX, for the test waiting on it */
static void ready_note(const char *suffix, const char *line)
{
	char path[256];
	FILE *f;

	if (!opts.ready)
		return;
	snprintf(path, sizeof(path), "%s.%s", opts.ready, suffix);
	f = fopen(path, "a");
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
}

/* a child that holds the buffers (and mappings) until SIGTERM, or -1 */
static pid_t fork_holder(void)
{
	char line[16];
	pid_t pid;

	if (held.nchildren == 64)
		return -1;
	pid = fork();
	if (pid == 0) {
		held.nchildren = 0;
		fork_asked = map_asked = close_asked = exec_asked = 0;	/* the parent's */
		hold_for(opts.wait_s);
		_exit(0);
	}
	if (pid < 0)
		return -1;
	held.children[held.nchildren++] = pid;
	snprintf(line, sizeof(line), "%d", pid);
	ready_note("children", line);
	return pid;
}

/* --signals: map every buffer still open, or unmap them all */
static void toggle_maps(void)
{
	bool unmap = false;

	for (uint64_t i = 0; i < opts.count; i++)
		unmap |= held.maps[i] != NULL;
	for (uint64_t i = 0; i < opts.count; i++) {
		if (unmap && held.maps[i]) {
			munmap(held.maps[i], opts.size);
			held.maps[i] = NULL;
		} else if (!unmap && held.fds[i] >= 0) {
			void *p = mmap(NULL, opts.size, PROT_READ | PROT_WRITE, MAP_SHARED,
				       held.fds[i], 0);

			held.maps[i] = p == MAP_FAILED ? NULL : p;
		}
	}
	ready_note("done", unmap ? "unmap" : "map");
}

/* --signals: close the buffers' fds here (mappings and children keep
 * theirs), or once all are closed, allocate them anew */
static void close_fds(void)
{
	bool open = false;

	for (uint64_t i = 0; i < opts.count; i++)
		open |= held.fds[i] >= 0;
	for (uint64_t i = 0; i < opts.count; i++) {
		if (held.fds[i] >= 0)
			close(held.fds[i]);
		held.fds[i] = open ? -1 : heap_alloc(held.heap_fd, opts.size);
		if (held.fds[i] < 0)
			held.fds[i] = -1;
	}
	ready_note("done", open ? "close" : "alloc");
}

/*
 * sleep SECS, or until a signal ends it: without waking meanwhile (a
 * thousand of these run in a benchmark); --signals acts on the rest. The
 * signals are taken only inside ppoll(): one sent while another is acted
 * on (a test sends the next once the last is told done) wakes the next
 * sleep, where between a check of the flags and nanosleep() it was lost.
 */
static void hold_for(uint64_t secs)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGHUP };
	uint64_t end = now_ns() + secs * 1000000000ull, now;
	sigset_t block, awake;

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &awake);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&awake, sigs[i]);	/* a child's: blocked since its fork */
	for (;;) {
		struct timespec ts;

		/* first what a signal asked before the sleep: since the ready
		 * file, or before the fork of a child */
		if (fork_asked)
			fork_asked = 0, fork_holder();
		if (map_asked)
			map_asked = 0, toggle_maps();
		if (close_asked)
			close_asked = 0, close_fds();
		if (exec_asked) {
			exec_asked = 0;
			sigprocmask(SIG_SETMASK, &awake, NULL);
			execlp("sleep", "sleep", "3600", (char *)NULL);
			sigprocmask(SIG_BLOCK, &block, NULL);	/* no sleep(1): held on */
		}
		if (exiting || (now = now_ns()) >= end)
			break;
		ts = (struct timespec){ (end - now) / 1000000000ull, (end - now) % 1000000000ull };
		if (ppoll(NULL, 0, &ts, &awake) == 0)
			break;
	}
	sigprocmask(SIG_SETMASK, &awake, NULL);
}

static int churn(int heap_fd, int *fds)
{
	uint64_t end = now_ns() + opts.churn_s * 1000000000ull, next = 0;
	uint64_t period = opts.period_ms * 1000000ull, due = now_ns();
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pages = opts.size / page ? opts.size / page : 1;

	srand(getpid());
	while (!exiting && now_ns() < end) {
		uint64_t len = (1 + rand() % pages) * page;
		int fd;

		if (fds[next] >= 0)
			close(fds[next]);
		fd = heap_alloc(heap_fd, len);
		if (fd < 0 && fd != -ENOMEM && fd != -EAGAIN) {
			fprintf(stderr, "dmabuf_alloc: %s: %s\n", opts.heap, strerror(-fd));
			return 1;
		}
		fds[next] = fd;	/* a refused allocation leaves the slot empty */
		next = (next + 1) % opts.count;
		/*
		 * One every period, whatever an allocation takes: the rate
		 * asked. Late, the count starts again from now (no burst).
		 */
		due += period;
		if (due > now_ns())
			sleep_until(due);
		else
			due = now_ns();
	}
	return 0;
}

/* a dma-buf exported by a driver, not a heap: 128x128 at 32 bpp, 64 KiB */
static int vgem_export(void)
{
	struct drm_mode_create_dumb dumb = { .width = 128, .height = 128, .bpp = 32 };
	struct drm_prime_handle prime = { .flags = O_CLOEXEC };
	struct drm_gem_close gclose = {};
	int drm = open("/dev/dri/card0", O_RDWR | O_CLOEXEC), ret = 0;

	if (drm < 0 || ioctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &dumb)) {
		fprintf(stderr, "dmabuf_alloc: vgem dumb buffer: %s\n", strerror(errno));
		if (drm >= 0)
			close(drm);
		return 1;
	}
	prime.handle = dumb.handle;
	if (ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime)) {
		fprintf(stderr, "dmabuf_alloc: vgem export: %s\n", strerror(errno));
		ret = 1;
	} else {
		close(prime.fd);
	}
	gclose.handle = dumb.handle;
	ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gclose);
	close(drm);
	return ret;
}

/* --drop-admin: CAP_SYS_ADMIN out of the effective set, then stopped until continued */
static int drop_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &h, d))
		return -1;
	return raise(SIGSTOP) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { options, parse_arg, NULL,
		"Allocate dma-heap buffers as described.", NULL, NULL, NULL };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	char path[256], *second;
	int heap_fd, heap_fd2 = -1, *fds, ret = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 1;
	if (opts.churn_s && !opts.count) {
		fprintf(stderr, "dmabuf_alloc: --churn needs -n of at least 1\n");
		return 1;
	}
	if (opts.comm && prctl(PR_SET_NAME, opts.comm) < 0) {
		fprintf(stderr, "dmabuf_alloc: PR_SET_NAME: %s\n", strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (opts.signals) {
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGUSR2, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	second = strchr(opts.heap, ',');
	snprintf(path, sizeof(path), "/dev/dma_heap/%.*s",
		 second ? (int)(second - opts.heap) : (int)strlen(opts.heap), opts.heap);
	heap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0) {
		fprintf(stderr, "dmabuf_alloc: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (second) {
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", second + 1);
		heap_fd2 = open(path, O_RDONLY | O_CLOEXEC);
		if (heap_fd2 < 0) {
			fprintf(stderr, "dmabuf_alloc: %s: %s\n", path, strerror(errno));
			close(heap_fd);
			return 1;
		}
	}
	if (opts.drop_admin && drop_admin()) {
		fprintf(stderr, "dmabuf_alloc: dropping CAP_SYS_ADMIN: %s\n", strerror(errno));
		close(heap_fd);
		return 1;
	}
	fds = malloc((opts.count + 1) * sizeof(*fds));
	held.maps = calloc(opts.count + 1, sizeof(*held.maps));
	if (!fds || !held.maps) {
		free(fds);
		free(held.maps);
		close(heap_fd);
		if (heap_fd2 >= 0)
			close(heap_fd2);
		return 1;
	}
	held.fds = fds;
	held.heap_fd = heap_fd;
	for (uint64_t i = 0; i <= opts.count; i++)
		fds[i] = -1;

	if (opts.churn_s) {
		ret = churn(heap_fd, fds);
		goto out;
	}
	for (uint64_t i = 0; i < opts.fail; i++) {
		struct dma_heap_allocation_data d = {
			.len = opts.size, .fd_flags = O_RDWR | O_CLOEXEC, .heap_flags = ~0ull,
		};

		if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &d) == 0 || errno != EINVAL) {
			fprintf(stderr, "dmabuf_alloc: unknown heap_flags: not refused with EINVAL\n");
			ret = 1;
			goto out;
		}
	}
	for (uint64_t i = 0; i < opts.skip; i++) {
		int fd = heap_alloc(heap_fd, opts.size);

		if (fd < 0) {
			fprintf(stderr, "dmabuf_alloc: allocating %llu bytes from %s: %s\n",
				(unsigned long long)opts.size, opts.heap, strerror(-fd));
			ret = 1;
			goto out;
		}
		close(fd);
	}
	for (uint64_t i = 0; i < opts.count; i++) {
		fds[i] = heap_alloc(heap_fd2 >= 0 && i % 2 ? heap_fd2 : heap_fd, opts.size);
		if (fds[i] < 0) {
			fprintf(stderr, "dmabuf_alloc: allocating %llu bytes from %s: %s\n",
				(unsigned long long)opts.size, opts.heap, strerror(-fds[i]));
			ret = 1;
			goto out;
		}
		if (opts.name && ioctl(fds[i], DMA_BUF_SET_NAME_B, opts.name) < 0) {
			fprintf(stderr, "dmabuf_alloc: DMA_BUF_SET_NAME: %s\n", strerror(errno));
			ret = 1;
			goto out;
		}
		if (opts.dup) {
			int dup_fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);

			close(fds[i]);
			fds[i] = dup_fd;
			if (dup_fd < 0) {
				fprintf(stderr, "dmabuf_alloc: dup: %s\n", strerror(errno));
				ret = 1;
				goto out;
			}
		}
		if (opts.path_hold) {
			char link[32];
			int path_fd;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[i]);
			path_fd = open(link, O_PATH | O_CLOEXEC);
			close(fds[i]);
			fds[i] = path_fd;
			if (path_fd < 0) {
				fprintf(stderr, "dmabuf_alloc: O_PATH open of %s: %s\n", link,
					strerror(errno));
				ret = 1;
				goto out;
			}
		}
		if (opts.kernel_hold && kernel_hold(opts.kernel_hold, "hold", fds[i])) {
			fprintf(stderr, "dmabuf_alloc: %s: %s\n", opts.kernel_hold, strerror(errno));
			ret = 1;
			goto out;
		}
		for (uint64_t k = 0; opts.kernel_attach && k < (opts.attachments ?: 1); k++) {
			if (!kernel_hold(opts.kernel_attach, "attach", fds[i]))
				continue;
			fprintf(stderr, "dmabuf_alloc: %s: %s\n", opts.kernel_attach, strerror(errno));
			ret = 1;
			goto out;
		}
		if ((opts.mmap || opts.keep_mapped) &&
		    touch(fds[i], opts.size, opts.keep_mapped ? &held.maps[i] : NULL)) {
			fprintf(stderr, "dmabuf_alloc: mmap: %s\n", strerror(errno));
			ret = 1;
			goto out;
		}
	}
	if (opts.map_file) {
		int f = open(opts.map_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (f < 0 || ftruncate(f, 4096) ||
		    mmap(NULL, 4096, PROT_READ, MAP_SHARED, f, 0) == MAP_FAILED) {
			fprintf(stderr, "dmabuf_alloc: %s: %s\n", opts.map_file, strerror(errno));
			ret = 1;
			goto out;
		}
		close(f);
	}
	if (opts.vgem_export && vgem_export()) {
		ret = 1;
		goto out;
	}
	for (uint64_t i = 0; i < opts.count; i++) {
		if (i >= opts.release && !(opts.holes && i % 2 == 0))
			continue;
		close(fds[i]);
		fds[i] = -1;
	}
	for (uint64_t c = 0; c < opts.share; c++) {
		if (fork_holder() < 0) {
			ret = 1;
			goto out;
		}
	}
	if (opts.ready)
		close(open(opts.ready, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	if (opts.background) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "dmabuf_alloc: fork: %s\n", strerror(errno));
			ret = 1;
		}
		if (pid)	/* the child took the fds and mappings as they are */
			goto out;
	}
	hold_for(opts.wait_s);
	/* ended by a signal: the children go too */
	for (int c = 0; exiting && c < held.nchildren; c++)
		kill(held.children[c], SIGTERM);
	while (held.nchildren && wait(NULL) > 0)
		;
out:
	for (uint64_t i = 0; i < opts.count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (uint64_t i = 0; i < opts.count; i++)
		if (held.maps[i])
			munmap(held.maps[i], opts.size);
	free(fds);
	free(held.maps);
	close(heap_fd);
	if (heap_fd2 >= 0)
		close(heap_fd2);
	return ret;
}
