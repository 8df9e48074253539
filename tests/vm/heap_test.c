// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat's heaps against the real kernel: data path, zeroing, import into
 * vgem, the bad-input matrix with exact errno values, and cgroup accounting
 * checked against dmem.current / dmem.max, including charges that must come
 * back to zero after exit, kill -9, a move between cgroups, an exhausted heap
 * and injected slab failures.
 *
 * usage: heap_test HEAP[:GRANULE][:nomap][:bounced][:noncoherent]...
 *   HEAP in /dev/dma_heap, with accounting on; GRANULE, the unit the heap
 *   rounds lengths up to (64K for the chunk heap), defaults to the page size;
 *   nomap, a heap the CPU must not map (carveout no-map ranges); bounced, a
 *   carveout outside System RAM booted with swiotlb=force: the importer's
 *   mapping is refused (ENOMEM), as the DMA API refuses to bounce it;
 *   noncoherent, a carveout the CPU maps outside its direct map, where the
 *   importers are not DMA-coherent (arm64's platform and faux devices): their
 *   attach is refused (EINVAL).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <drm/drm.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "../test.h"
#include "cgroup/dmem.h"

#define CG_ROOT	"/sys/fs/cgroup"
#define CG_A	CG_ROOT "/hs_a"
#define CG_B	CG_A "/hs_b"	/* nested: charges show in hs_a too */
#define CG_C	CG_A "/hs_c"
#define MiB	(1ul << 20)

static const char *heap;	/* heap under test */
static char region[128];	/* its dmem region, "dma-heap/<heap>" */
static int heap_fd = -1;
static uint64_t capacity;	/* from dmem.capacity */
static uint64_t granule;	/* lengths are rounded up to this */
static bool nomap;		/* CPU mappings are refused */
static bool noncoherent;	/* attaches are refused */
static bool bounced;		/* DMA mappings are refused (swiotlb=force, not System RAM) */

/* what the heap takes, and charges, for len bytes */
static uint64_t taken(uint64_t len)
{
	return (len + granule - 1) / granule * granule;
}

/* ---- small helpers ---- */

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The value of our region in a dmem file: bytes, INT64_MAX for "max", or -1. */
static int64_t dmem_value(const char *cg, const char *file)
{
	uint64_t v;

	if (cg_dmem_read(cg, file, region, &v))
		return -1;
	return v == CG_DMEM_MAX ? INT64_MAX : (int64_t)v;
}

#define CURRENT(cg) dmem_value(cg, "dmem.current")
#define set_max(cg, value) cg_dmem_set(cg, "dmem.max", region, value)
#define join(cg) cg_enter(cg, getpid())

static int alloc_full(int fd, uint64_t len, uint32_t fd_flags, uint64_t heap_flags, uint32_t in_fd)
{
	struct dma_heap_allocation_data data = {
		.len = len, .fd = in_fd, .fd_flags = fd_flags, .heap_flags = heap_flags,
	};

	if (ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

static int alloc_buf(uint64_t len)
{
	return alloc_full(heap_fd, len, O_RDWR | O_CLOEXEC, 0, 0);
}

static int sync_buf(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0 ? -errno : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int send_fd(int sock, int fd)
{
	char byte = 0, cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* ---- data path ---- */

static void mmap_write_read_sync(void)
{
	uint64_t len = MiB + 4096;
	char path[64], info[512], want[64];
	int fd = alloc_buf(len);
	uint32_t *p;

	CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	if (fd < 0)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p != MAP_FAILED) {
		CHECK_EQ(sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW), 0);
		for (uint64_t i = 0; i < len / 4; i++)
			p[i] = (uint32_t)(i * 2654435761u);
		CHECK_EQ(sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), 0);
		CHECK_EQ(sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
		uint64_t bad = 0;

		for (uint64_t i = 0; i < len / 4; i++)
			bad += p[i] != (uint32_t)(i * 2654435761u);
		CHECK_EQ(bad, 0);
		CHECK_EQ(sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
		munmap(p, len);
	}
	/* the kernel's own view of the buffer */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	CHECK_EQ(read_file(path, info, sizeof(info)), 0);
	snprintf(want, sizeof(want), "size:\t%llu\n", (unsigned long long)taken(len));
	CHECK(strstr(info, want), "fdinfo has no '%s': %s", want, info);
	snprintf(want, sizeof(want), "exp_name:\t%s\n", heap);
	CHECK(strstr(info, want), "fdinfo has no '%s': %s", want, info);
	/* a private mapping is refused, as upstream's heaps refuse it */
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p == MAP_FAILED && errno == EINVAL, "MAP_PRIVATE: %s", strerror(errno));
	close(fd);
}

static void memory_is_zeroed_on_reuse(void)
{
	uint64_t len = 4 * MiB, nonzero = 0;
	int fd = alloc_buf(len);
	unsigned char *p;

	CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	if (fd < 0)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p != MAP_FAILED) {
		memset(p, 0xa5, len);
		munmap(p, len);
	}
	close(fd);
	/* the same memory comes back first from CMA, chunks and genalloc alike */
	fd = alloc_buf(len);
	CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	if (fd < 0)
		return;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p != MAP_FAILED) {
		for (uint64_t i = 0; i < len; i++)
			nonzero += p[i] != 0;
		munmap(p, len);
	}
	CHECK_EQ(nonzero, 0);
	close(fd);
}

/* Devices attached to the buffer with inode ino, per debugfs bufinfo. */
static int attached_devices(unsigned long ino, char *out, size_t len)
{
	static char info[65536];
	char key[32], *p, *end;

	out[0] = '\0';
	if (read_file("/sys/kernel/debug/dma_buf/bufinfo", info, sizeof(info)))
		return -1;
	snprintf(key, sizeof(key), "\t%08lu\t", ino);
	p = strstr(info, key);
	if (!p)
		return -1;
	p = strstr(p, "Attached Devices:\n");
	end = p ? strstr(p, "Total ") : NULL;
	if (!p || !end)
		return -1;
	p += strlen("Attached Devices:\n");
	snprintf(out, len, "%.*s", (int)(end - p), p);
	return 0;
}

/* vgem, a real importer, attaches to the buffer (vgem imports without
 * mapping and refuses to mmap imports; tests/kmod maps it) */
static void vgem_import_attaches(void)
{
	int fd, drm = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	struct drm_prime_handle prime = {};
	struct drm_gem_close gclose = {};
	char devs[256];
	struct stat st;

	CHECK(drm >= 0, "/dev/dri/card0 (vgem): %s", strerror(errno));
	if (drm < 0)
		return;
	fd = alloc_buf(256 * 1024);
	CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	if (fd < 0 || fstat(fd, &st))
		goto out;
	CHECK_EQ(attached_devices(st.st_ino, devs, sizeof(devs)), 0);
	CHECK(!strcmp(devs, ""), "attached before import: '%s'", devs);
	prime.fd = fd;
	if (noncoherent) {
		CHECK(ioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) && errno == EINVAL,
		      "import: %s", strerror(errno));
		CHECK_EQ(attached_devices(st.st_ino, devs, sizeof(devs)), 0);
		CHECK(!strcmp(devs, ""), "attached after a refused import: '%s'", devs);
		goto out;
	}
	CHECK(ioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) == 0, "import: %s", strerror(errno));
	CHECK_EQ(attached_devices(st.st_ino, devs, sizeof(devs)), 0);
	CHECK(!strcmp(devs, "\tvgem\n"), "attached after import: '%s'", devs);
	gclose.handle = prime.handle;
	CHECK(ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gclose) == 0, "gem close: %s", strerror(errno));
	CHECK_EQ(attached_devices(st.st_ino, devs, sizeof(devs)), 0);
	CHECK(!strcmp(devs, ""), "attached after close: '%s'", devs);
out:
	if (fd >= 0)
		close(fd);
	close(drm);
}

static void nomap_refuses_cpu_mapping(void)
{
	int fd = alloc_buf(MiB);
	void *p;

	CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	if (fd < 0)
		return;
	p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p == MAP_FAILED && errno == EPERM, "mmap: %s", p == MAP_FAILED ? strerror(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, MiB);
	close(fd);
}

/* tests/kmod/heapstat_importer attaches, maps for DMA and reads via vmap */
#define IMPORTER "/sys/kernel/debug/heapstat_importer"

static void importer_check(uint64_t len)
{
	uint64_t size = taken(len);
	unsigned long long nents, bytes, seg_min, seg_max;
	unsigned int sum = 0, ksum;
	char num[16], res[160];
	int fd, vret;
	uint32_t *p;

	fd = alloc_buf(len);
	CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	if (fd < 0)
		return;
	if (!nomap) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
		if (p != MAP_FAILED) {
			for (uint64_t i = 0; i < size / 4; i++) {
				p[i] = (uint32_t)(i * 40503u + 7);
				sum += p[i];
			}
			munmap(p, size);
		}
	}
	snprintf(num, sizeof(num), "%d", fd);
	if (bounced || noncoherent) {
		CHECK_EQ(cg_write_file(IMPORTER, num), bounced ? -ENOMEM : -EINVAL);
		close(fd);
		return;
	}
	CHECK_EQ(cg_write_file(IMPORTER, num), 0);
	CHECK_EQ(read_file(IMPORTER, res, sizeof(res)), 0);
	CHECK(sscanf(res, "nents=%llu bytes=%llu seg_min=%llu seg_max=%llu vmap=%d sum=%u",
		     &nents, &bytes, &seg_min, &seg_max, &vret, &ksum) == 6, "result: '%s'", res);
	CHECK_EQ(bytes, size);
	if (granule > (uint64_t)sysconf(_SC_PAGESIZE)) {	/* chunks: one entry each */
		CHECK_EQ(nents, size / granule);
		CHECK_EQ(seg_min, granule);
		CHECK_EQ(seg_max, granule);
	}
	if (nomap) {
		CHECK_EQ(vret, -EINVAL);	/* the core's answer: no vmap op */
	} else {
		CHECK_EQ(vret, 0);
		CHECK_EQ(ksum, sum);
	}
	close(fd);
}

/* a buffer of several MiB, and one small enough for swiotlb to bounce (swiotlb=force) */
static void importer_maps_and_vmaps(void)
{
	importer_check(3 * MiB + 64 * 1024);
	importer_check(64 * 1024);
}

/* ---- bad input: the errno upstream's heaps return, nothing charged ---- */

static void bad_input(void)
{
	int64_t before = CURRENT(CG_ROOT);
	uint64_t page = sysconf(_SC_PAGESIZE);

	CHECK_EQ(alloc_buf(0), -EINVAL);
	CHECK_EQ(alloc_buf(ULLONG_MAX), -EINVAL);		/* page-aligns to 0 */
	CHECK_EQ(alloc_buf(ULLONG_MAX - page + 1), -ENOMEM);	/* aligned, huge */
	CHECK_EQ(alloc_buf(capacity + page), -ENOMEM);
	CHECK_EQ(alloc_full(heap_fd, 4096, 0x40000000, 0, 0), -EINVAL);	/* fd_flags */
	CHECK_EQ(alloc_full(heap_fd, 4096, O_RDWR, 1, 0), -EINVAL);		/* heap_flags */
	CHECK_EQ(alloc_full(heap_fd, 4096, O_RDWR, 0, 5), -EINVAL);		/* fd set */
	CHECK_EQ(CURRENT(CG_ROOT), before);
}

static void exhausted_heap_returns_enomem(void)
{
	uint64_t chunk = capacity / 8;
	int64_t before = CURRENT(CG_ROOT);
	int fds[9], n = 0, err = 0;

	for (n = 0; n < 9; n++) {
		fds[n] = alloc_buf(chunk);
		if (fds[n] < 0) {
			err = fds[n];
			break;
		}
	}
	CHECK_EQ(n, 8);
	CHECK_EQ(err, -ENOMEM);
	CHECK_EQ(CURRENT(CG_ROOT) - before, n * chunk);
	while (n-- > 0)
		close(fds[n]);
	CHECK_EQ(CURRENT(CG_ROOT), before);
}

/* ---- accounting ---- */

static void charges_nested_cgroups_exactly(void)
{
	static const uint64_t sizes[] = { MiB, MiB, MiB, 100 * 1024 };
	uint64_t total = 0;
	int fds[4];

	CHECK_EQ(join(CG_B), 0);
	for (int i = 0; i < 4; i++) {
		fds[i] = alloc_buf(sizes[i]);
		CHECK(fds[i] >= 0, "alloc: %s", strerror(-fds[i]));
		total += taken(sizes[i]);
	}
	CHECK_EQ(CURRENT(CG_B), total);
	CHECK_EQ(CURRENT(CG_A), total);
	CHECK_EQ(CURRENT(CG_C), 0);
	close(fds[0]);
	CHECK_EQ(CURRENT(CG_B), total - taken(sizes[0]));
	for (int i = 1; i < 4; i++)
		close(fds[i]);
	CHECK_EQ(CURRENT(CG_B), 0);
	CHECK_EQ(CURRENT(CG_A), 0);
	CHECK_EQ(join(CG_ROOT), 0);
}

static void max_refuses_with_eagain(void)
{
	int a, b, c;

	CHECK_EQ(set_max(CG_B, "2097152"), 0);
	CHECK_EQ(dmem_value(CG_B, "dmem.max"), 2097152);
	CHECK_EQ(join(CG_B), 0);
	a = alloc_buf(MiB);
	b = alloc_buf(MiB);
	c = alloc_buf(4096);
	CHECK(a >= 0 && b >= 0, "allocs under the limit: %d %d", a, b);
	CHECK_EQ(c, -EAGAIN);
	CHECK_EQ(CURRENT(CG_B), 2 * MiB);
	/* the limit of a parent applies too */
	CHECK_EQ(set_max(CG_B, "max"), 0);
	CHECK_EQ(set_max(CG_A, "2097152"), 0);
	c = alloc_buf(4096);
	CHECK_EQ(c, -EAGAIN);
	CHECK_EQ(CURRENT(CG_A), 2 * MiB);
	CHECK_EQ(set_max(CG_A, "max"), 0);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	CHECK_EQ(CURRENT(CG_B), 0);
	CHECK_EQ(join(CG_ROOT), 0);
}

static void charge_follows_buffer_after_exit(void)
{
	int sv[2], status, fd;
	pid_t pid;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	if (pid == 0) {
		int b;

		if (join(CG_B))
			_exit(2);
		b = alloc_buf(MiB);
		_exit(b < 0 || send_fd(sv[1], b) ? 3 : 0);
	}
	fd = recv_fd(sv[0]);
	CHECK(fd >= 0, "receiving the buffer: %s", strerror(-fd));
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	CHECK_EQ(CURRENT(CG_B), MiB);		/* the allocator is gone, the charge stays */
	if (fd >= 0)
		close(fd);
	CHECK_EQ(CURRENT(CG_B), 0);
	close(sv[0]);
	close(sv[1]);
}

static void charge_follows_buffer_after_move(void)
{
	int fd;

	CHECK_EQ(join(CG_B), 0);
	fd = alloc_buf(MiB);
	CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	CHECK_EQ(join(CG_C), 0);
	CHECK_EQ(CURRENT(CG_B), MiB);
	CHECK_EQ(CURRENT(CG_C), 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ(CURRENT(CG_B), 0);
	CHECK_EQ(CURRENT(CG_C), 0);
	CHECK_EQ(join(CG_ROOT), 0);
}

static void kill9_mid_loop_uncharges_all(void)
{
	int go[2], status;
	pid_t pid;
	char c;

	CHECK_EQ(pipe(go), 0);
	pid = fork();
	if (pid == 0) {
		int fds[64] = {}, i = 0;

		if (join(CG_B))
			_exit(2);
		(void)!write(go[1], "x", 1);
		for (;;) {	/* allocate and free forever, 64 live at most */
			if (fds[i % 64] > 0)
				close(fds[i % 64]);
			fds[i % 64] = alloc_buf(256 * 1024);
			i++;
		}
	}
	CHECK_EQ(read(go[0], &c, 1), 1);
	sleep_ms(500);
	CHECK(CURRENT(CG_B) > 0, "the loop allocated nothing");
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
	CHECK_EQ(CURRENT(CG_B), 0);
	close(go[0]);
	close(go[1]);
}

/* killed while the kernel takes and zeroes a buffer of half the heap: the
 * charge and the memory both come back */
static void kill9_during_large_allocation(void)
{
	uint64_t half = capacity / 2 / granule * granule;
	int go[2], status, a, b;
	pid_t pid;
	char c;

	CHECK_EQ(pipe(go), 0);
	pid = fork();
	if (pid == 0) {
		if (join(CG_B))
			_exit(2);
		for (;;) {
			int fd;

			(void)!write(go[1], "x", 1);	/* about to allocate */
			fd = alloc_buf(half);
			if (fd >= 0)
				close(fd);
		}
	}
	CHECK_EQ(read(go[0], &c, 1), 1);
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
	CHECK_EQ(CURRENT(CG_B), 0);
	a = alloc_buf(half);
	b = alloc_buf(half);
	CHECK(a >= 0 && b >= 0, "the heap lost memory: %d %d", a, b);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	close(go[0]);
	close(go[1]);
}

#define FAILSLAB "/sys/kernel/debug/failslab/"

static void slab_failures_leave_no_charge(void)
{
	int fds[100], ok = 0, failed = 0, other = 0;
	int64_t before = CURRENT(CG_ROOT);

	CHECK_EQ(join(CG_B), 0);
	CHECK_EQ(cg_write_file(FAILSLAB "verbose", "0"), 0);	/* no stack dumps */
	CHECK_EQ(cg_write_file(FAILSLAB "ignore-gfp-wait", "N"), 0);
	CHECK_EQ(cg_write_file(FAILSLAB "task-filter", "Y"), 0);
	CHECK_EQ(cg_write_file(FAILSLAB "probability", "20"), 0);
	CHECK_EQ(cg_write_file(FAILSLAB "interval", "1"), 0);
	CHECK_EQ(cg_write_file(FAILSLAB "times", "-1"), 0);
	CHECK_EQ(cg_write_file("/proc/self/make-it-fail", "1"), 0);
	for (int i = 0; i < 100; i++) {
		fds[i] = alloc_buf(64 * 1024);
		if (fds[i] >= 0)
			ok++;
		else if (fds[i] == -ENOMEM)
			failed++;
		else
			other++;
	}
	/* these writes allocate too, so they may fail until the first lands */
	for (int i = 0; i < 1000 && cg_write_file(FAILSLAB "probability", "0"); i++)
		;
	CHECK_EQ(cg_write_file("/proc/self/make-it-fail", "0"), 0);
	CHECK(failed > 0, "no allocation failed: fault injection did not work");
	CHECK(ok > 0, "every allocation failed");
	CHECK_EQ(other, 0);
	CHECK_EQ(CURRENT(CG_B), ok * 64 * 1024);
	for (int i = 0; i < 100; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	CHECK_EQ(CURRENT(CG_B), 0);
	CHECK_EQ(CURRENT(CG_ROOT), before);
	CHECK_EQ(join(CG_ROOT), 0);
}

/* ---- tracepoints: the stable hooks, field by field ---- */

#define TRACE_DIR "/sys/kernel/tracing/instances/heap_test"

static void tracepoints_carry_every_field(void)
{
	static char trace[65536];
	char want[512], limit[32], cgpath[] = CG_B;
	struct stat cg, st;
	uint64_t len = 100 * 1024;
	int fd, refused;

	mkdir(TRACE_DIR, 0755);
	CHECK_EQ(cg_write_file(TRACE_DIR "/events/heapstat_heap/enable", "1"), 0);
	CHECK_EQ(cg_write_file(TRACE_DIR "/trace", ""), 0);
	CHECK_EQ(stat(cgpath, &cg), 0);		/* a cgroup's id is its inode */
	CHECK_EQ(join(CG_B), 0);
	fd = alloc_buf(len);
	CHECK(fd >= 0 && !fstat(fd, &st), "alloc: %s", strerror(-fd));
	/* a max below the usage is not taken: hold it at the usage */
	snprintf(limit, sizeof(limit), "%llu", (unsigned long long)taken(len));
	CHECK_EQ(set_max(CG_B, limit), 0);
	CHECK_EQ(dmem_value(CG_B, "dmem.max"), taken(len));
	refused = alloc_buf(len);
	CHECK_EQ(refused, -EAGAIN);
	CHECK_EQ(set_max(CG_B, "max"), 0);
	if (fd >= 0)
		close(fd);
	if (refused >= 0)
		close(refused);
	CHECK_EQ(join(CG_ROOT), 0);
	CHECK_EQ(cg_write_file(TRACE_DIR "/events/heapstat_heap/enable", "0"), 0);
	CHECK_EQ(read_file(TRACE_DIR "/trace", trace, sizeof(trace)), 0);

	snprintf(want, sizeof(want), "heap_alloc: heap=%s len=%llu alloc_len=%llu "
		 "fd_flags=0x%x heap_flags=0x0 duration_ns=", heap, (unsigned long long)len,
		 (unsigned long long)taken(len), O_RDWR | O_CLOEXEC);
	CHECK(strstr(trace, want), "no '%s' in:\n%s", want, trace);
	snprintf(want, sizeof(want), " err=0 cgroup_id=%llu ino=%llu\n",
		 (unsigned long long)cg.st_ino, (unsigned long long)st.st_ino);
	CHECK(strstr(trace, want), "no '%s' in:\n%s", want, trace);
	snprintf(want, sizeof(want), "heap_free: heap=%s len=%llu ino=%llu lifetime_ns=", heap,
		 (unsigned long long)taken(len), (unsigned long long)st.st_ino);
	CHECK(strstr(trace, want), "no '%s' in:\n%s", want, trace);
	snprintf(want, sizeof(want), " cgroup_id=%llu\n", (unsigned long long)cg.st_ino);
	CHECK(strstr(trace, want), "no '%s' in:\n%s", want, trace);
	snprintf(want, sizeof(want), "alloc_len=0 fd_flags=0x%x heap_flags=0x0", O_RDWR | O_CLOEXEC);
	CHECK(strstr(trace, want), "no '%s' in:\n%s", want, trace);
	CHECK(strstr(trace, " err=-11 cgroup_id=0 ino=0\n"), "no refused alloc in:\n%s", trace);
	rmdir(TRACE_DIR);
}

/* ---- driver ---- */

static void run(const char *name, void (*fn)(void))
{
	char full[128];

	snprintf(full, sizeof(full), "heap[%s]: %s", heap, name);
	test_begin();
	fn();
	test_end(full);
}
#define RUN_HEAP(fn) run(#fn, fn)

static int setup_cgroups(void)
{
	mkdir(CG_A, 0755);
	mkdir(CG_B, 0755);
	mkdir(CG_C, 0755);
	return cg_write_file(CG_A "/cgroup.subtree_control", "+dmem");
}

static int test_heap(char *arg)
{
	char path[256], buf[4096], *name = strsep(&arg, ":");
	int64_t cap;

	heap = name;
	granule = sysconf(_SC_PAGESIZE);
	nomap = bounced = noncoherent = false;
	for (char *opt; (opt = strsep(&arg, ":"));) {
		if (!strcmp(opt, "nomap"))
			nomap = true;
		else if (!strcmp(opt, "noncoherent"))
			noncoherent = true;
		else if (!strcmp(opt, "bounced"))
			bounced = true;
		else
			granule = strtoull(opt, NULL, 0);
	}
	snprintf(region, sizeof(region), "dma-heap/%s", name);
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	heap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0) {
		snprintf(buf, sizeof(buf), "heap[%s]", name);
		printf("FAIL: %s: %s: %s\n", buf, path, strerror(errno));
		return 1;
	}
	cap = dmem_value(CG_ROOT, "dmem.capacity");
	if (cap <= 0) {
		printf("FAIL: heap[%s]: no %s in dmem.capacity (accounting off?)\n", name, region);
		close(heap_fd);
		return 1;
	}
	capacity = cap;

	if (nomap) {
		RUN_HEAP(nomap_refuses_cpu_mapping);
	} else {
		RUN_HEAP(mmap_write_read_sync);
		RUN_HEAP(memory_is_zeroed_on_reuse);
	}
	RUN_HEAP(vgem_import_attaches);
	RUN_HEAP(importer_maps_and_vmaps);
	RUN_HEAP(bad_input);
	RUN_HEAP(charges_nested_cgroups_exactly);
	RUN_HEAP(max_refuses_with_eagain);
	RUN_HEAP(charge_follows_buffer_after_exit);
	RUN_HEAP(charge_follows_buffer_after_move);
	RUN_HEAP(kill9_mid_loop_uncharges_all);
	RUN_HEAP(kill9_during_large_allocation);
	RUN_HEAP(slab_failures_leave_no_charge);
	RUN_HEAP(tracepoints_carry_every_field);
	RUN_HEAP(exhausted_heap_returns_enomem);	/* last: finds leaks of the others */
	close(heap_fd);
	return 0;
}

int main(int argc, char **argv)
{
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: heap_test HEAP...\n");
		return 2;
	}
	err = setup_cgroups();
	if (err) {
		printf("FAIL: heap_test: enabling dmem in %s: %s\n", CG_A, strerror(-err));
		return 1;
	}
	for (int i = 1; i < argc; i++)
		err |= test_heap(argv[i]);
	return err || tests_failed ? 1 : 0;
}
