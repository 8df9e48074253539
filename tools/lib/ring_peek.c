// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only second reader of a BPF ring buffer (ring_peek.h). The layout
 * is the kernel's (kernel/bpf/ringbuf.c): a page with the consumer's
 * position, a page with the producer's, then the data pages mapped twice in
 * a row so that a record wrapping around reads in one piece. Each record
 * has an 8-byte header (its length, with a busy and a discard bit) and is
 * padded to 8 bytes.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ring_peek.h"

#define HDR_SZ		8

static unsigned long load_acquire(const void *p)
{
	return __atomic_load_n((const unsigned long *)p, __ATOMIC_ACQUIRE);
}

int ring_peek_open(struct ring_peek *p, int map_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *m;

	memset(p, 0, sizeof(*p));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	p->size = info.max_entries;
	p->map_len = 2 * page + 2 * p->size;
	m = mmap(NULL, p->map_len, PROT_READ, MAP_SHARED, map_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	p->map = m;
	p->pos = load_acquire(m);
	return 0;
}

int ring_peek_read(struct ring_peek *p, int (*cb)(const void *data, size_t len, void *ctx),
		   void *ctx)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const char *cons_pg = p->map, *prod_pg = cons_pg + page, *data = prod_pg + page;
	int n = 0;

	for (;;) {
		unsigned long prod = load_acquire(prod_pg);
		uint32_t hdr, rlen;
		char buf[512];
		size_t len;
		int err;

		/*
		 * The producer reserves no further than the consumer's position
		 * and a ring's size: a record at pos is whole while the
		 * producer is within a ring's size of it. Further on, the
		 * consumer moved on and what was there is gone: go to it.
		 */
		if (prod - p->pos > p->size) {
			p->overrun++;
			p->pos = load_acquire(cons_pg);
			continue;
		}
		if (p->pos >= prod)
			return n;
		hdr = __atomic_load_n((const uint32_t *)(data + (p->pos & (p->size - 1))),
				      __ATOMIC_ACQUIRE);
		if (hdr & BPF_RINGBUF_BUSY_BIT)
			return n;	/* still being written: the next call takes it */
		rlen = hdr & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		len = rlen < sizeof(buf) ? rlen : sizeof(buf);
		memcpy(buf, data + (p->pos & (p->size - 1)) + HDR_SZ, len);
		/* and the producer did not come round over it while it was read */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (load_acquire(prod_pg) - p->pos > p->size)
			continue;
		p->pos += (rlen + HDR_SZ + 7) & ~7ul;
		if (hdr & BPF_RINGBUF_DISCARD_BIT)
			continue;
		err = cb(buf, len, ctx);
		if (err < 0)
			return err;
		n++;
	}
}

void ring_peek_close(struct ring_peek *p)
{
	if (p->map)
		munmap(p->map, p->map_len);
	memset(p, 0, sizeof(*p));
}
