// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat's BPF-LSM limits: per cgroup x dma-heap byte limits for heaps that
 * charge nobody (no dmem region, memcg accounting off). Hierarchical as dmem
 * is: an allocation is refused with EAGAIN when the caller's cgroup or any
 * ancestor would pass its limit.
 *
 * - lsm.s/file_ioctl (sleepable: it copies the request from user memory)
 *   sees DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/<heap> and refuses it when
 *   the page-aligned length would pass the limit of the task's cgroup or an
 *   ancestor's, as they are charged now; else it arms the thread's
 *   allocation (the levels from the task's cgroup up to level 1, the root
 *   having no limit, and their limits, kept in the thread's storage and read
 *   again only when the thread moved or a limit changed: limits_gen).
 * - fentry/dma_buf_export, in the same ioctl, *reserves* the buffer's real
 *   size (the length the kernel copied, which a racing writer can have
 *   changed since the hook read it) at every level: a compare-and-swap per
 *   limited level, taken back from the levels already reserved when one
 *   would pass its limit. Concurrent allocations never overshoot: each sees
 *   the others' reservations, and usage never reads past a limit (but for
 *   the programs the kernel skips, below). Refused,
 *   the buffer's file allocation that follows fails
 *   (fmod_ret/security_file_alloc): the export fails, the heap frees its
 *   pages, the ioctl returns EAGAIN.
 * - fexit/dma_buf_export turns the reservation into the buffer's charge,
 *   kept by inode with every level charged: in slot inode % LIMIT_SLOTS of
 *   an array (no hashing, nothing allocated), in a hash when a live buffer
 *   holds the slot; or gives it back when the export failed.
 *   lsm/inode_free_security (the buffer's end: its inode freed, the last
 *   reference to its dentry gone, an O_PATH file's too) uncharges them,
 *   wherever the buffer went. A reservation lives only between the entry
 *   and the exit of one dma_buf_export() (or, that exit skipped, to the
 *   thread's next allocation, or its end): nothing outlives an ioctl that
 *   failed or never reached the heap.
 * - fexit/cgroup_rmdir frees a removed cgroup's idle cells, so that cgroups
 *   made and removed by the thousand do not fill them.
 *
 * The programs come in that order; user space attaches them from the last
 * to the first (tools/lib/attach_order.h), the ioctl's check last: nothing
 * is armed, reserved or charged before the buffer's end is hooked (the
 * other way, buffers charged and freed while the limits first attached
 * stayed charged: 56 KiB amid a churn of 4 KiB buffers).
 *
 * Every refusal counts in its cgroup x heap's cell and is one ring-buffer
 * event, where it is enacted (the ioctl's hook, the file's allocation).
 * Kernel-version choices (user space picks before load, in
 * tools/lib/lsm_limit.c: pick_variants()): file_ioctl_compat exists since
 * 6.8 (compat tasks; not sleepable, so the length is read with
 * bpf_probe_read_user); the refusal at the file's allocation needs fmod_ret,
 * without it a size past a limit at the export is charged and counted as
 * overshoot.
 *
 * A tracing program (fentry, fexit, fmod_ret) preempted on a CPU still
 * counts as running there, and the kernel skips it for every other task on
 * that CPU meanwhile (its recursion_misses; a kernel with preemptible RCU,
 * as the distributions' are). An LSM program is never skipped: the
 * buffer's end is one. An allocation whose export entry is skipped, or
 * whose refusal at the file is (the buffer made), is charged by the export's
 * exit, unrefused (past a limit then, uncounted as overshoot, no hit); one
 * whose exit is skipped too is charged nowhere. What an export whose exit
 * was skipped had reserved (and a refusal it left armed), the thread's next
 * allocation ioctl gives back, or lsm/task_free as the thread goes: that
 * buffer is then charged nowhere. User space tells the skips of the
 * export's programs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "limit.h"
#include "dmabuf_iter.h"	/* DMA_BUF_MAGIC */
#include "core_fixes.bpf.h"

#define EAGAIN		11
#define ENOMEM		12
#define EFAULT		14
#define S_IFMT		00170000
#define S_IFCHR		0020000
#define MINORBITS	20
/* asm-generic ioctl encoding (x86, arm64) */
#define IOC_NR(cmd)	((cmd) & 0xff)
#define IOC_SIZE(cmd)	(((cmd) >> 16) & 0x3fff)
#define IOC_WRITE(cmd)	(((cmd) >> 30) & 1)
#define MAX_ERRNO	4095

/* filled in before load */
const volatile __u32 heap_major = 0;	/* "dma_heap" in /proc/devices */
const volatile __u64 page_size = 4096;
const volatile bool refuse_at_export = true;	/* fmod_ret/security_file_alloc is loaded */
const volatile __u32 cells_mask = LIMIT_CELLS - 1;	/* cells' slots less one */
const volatile __u32 slots_mask = LIMIT_SLOTS - 1;	/* charge_slots' entries less one */

/* written by user space only: cgroup x heap -> bytes (and the cgroup's path, hashed) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct limit_key);
	__type(value, struct limit_value);
} limits SEC(".maps");

/* written by user space only: bumped after every change of limits */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} limits_gen SEC(".maps");

#define NO_LIMIT	(~0ULL)

/*
 * The usage cells (limit.h): written by BPF (a slot taken by
 * compare-and-swap, counts by atomics); the idle cells of cgroups gone are
 * freed (their tag set to LIMIT_TAG_GONE) as the cgroup is removed, and by
 * user space, which finds those still charged then.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, LIMIT_CELLS);
	__type(key, __u32);
	__type(value, struct limit_cell);
} cells SEC(".maps");

/* live charged buffers: slot inode % LIMIT_SLOTS -> charge */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMIT_SLOTS);
	__type(key, __u32);
	__type(value, struct limit_slot);
} charge_slots SEC(".maps");

/*
 * and those whose slot another held: inode -> charge. Entries are made as
 * they come, but the buckets are not: 16 bytes each, made and zeroed at
 * load (1 << 20 of them were 16 MiB of kernel memory for as long as limits
 * are set, and 20 ms of guest time of the first limit set). With the slots,
 * 131,072 live buffers charged at once at least, up to 163,840 as their
 * inodes spread over the slots; a charge past that is kept nowhere: counted
 * as untracked and left charged, so that limits hold.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 17);
	__type(key, __u64);
	__type(value, struct limit_charge);
} charges SEC(".maps");

/*
 * The inodes of exports whose charge found no room either (slot ino %
 * UNKEPT_SLOTS, written only then): the seeding does not charge them
 * again. One overwritten by another before the seeding sees it is charged
 * twice: limits err on the side of refusing.
 */
#define UNKEPT_SLOTS	1024
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UNKEPT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} unkept SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} refusals SEC(".maps");

/*
 * The heaps' minors cells were made for, a bit each: where a removed
 * cgroup's cells can be. A map of its own, not in .bss, which user space
 * reads whole: a .bss of another size than a build's is no struct of it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMIT_HEAP_MINORS / 64);
	__type(key, __u32);
	__type(value, __u64);
} cell_minors SEC(".maps");

/* which level refused, and what it had */
struct refusal {
	__u64 cgroup_id;
	__u64 usage;
	__u64 limit;
	bool full;		/* no cell could be made for it: usage and limit unknown */
};

/* a thread's allocation between the ioctl hook and its export */
struct pending {
	struct limit_charge c;		/* the levels; c.bytes: what the export reserved */
	__u64 lim[LIMIT_MAX_DEPTH];	/* each level's limit of c.dev, NO_LIMIT: none */
	__u64 lim_gen;			/* limits_gen + 1 when lim was read, 0: never */
	__u64 heap;			/* struct dma_heap *, for an event's name */
	__u64 name;			/* its name: the exporter name of most heaps' buffers */
	__u64 cgroup_id;		/* the thread's cgroup when c's ids were walked */
	__u64 arg;			/* the armed ioctl's argument */
	__u32 cmd;			/* and command */
	__u32 armed;			/* an allocation is on its way to its export */
	__u32 refuse;			/* the next file allocation fails */
	struct refusal r;		/* and the level that refused it */
	__u64 refused;			/* the size it refused */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pending SEC(".maps");

__u64 dropped = 0;		/* events the ring had no room for */
__u64 untracked = 0;		/* charges kept with no buffer to release them */
__u64 stale = 0;		/* allocations armed that ended before their export */
__u64 full = 0;			/* allocations refused: no cell could be made */
__u64 overshoot_bytes = 0;	/* charged past a limit */
__u64 seeded = 0;		/* buffers from before, charged by seed() */
__u64 seeded_bytes = 0;
__u64 unread = 0;		/* lengths read as 0 (or wrapping): checked at the export only */
__u32 refusing = 0;		/* threads whose next file allocation fails */
__u64 cells_mult = 0;		/* limit_home()'s secret multiplier: odd, set before load */
__u64 spilled = 0;		/* charges in the hash now (counted before they go in) */
__u64 spills = 0;		/* charges ever kept in the hash */

#define NO_SLOT		(~0u)

/*
 * The slot of the cell tagged @tag (limit.h): in one of LIMIT_PROBES slots
 * from its home; @create: made in the first free one when there is none,
 * by compare-and-swap of its tag (two CPUs making it: one takes the slot,
 * the other looks again and finds it). NO_SLOT when none is free. A global
 * function: the verifier checks it once, not at every level of its callers'
 * loops.
 */
__noinline __u32 cell_slot(__u64 tag, int create)
{
	__u32 home = limit_home(tag, cells_mult, cells_mask);
	__u64 seen, free_tag = 0;

	for (int tries = 0; tries < 2; tries++) {
		struct limit_cell *c;
		__u32 i, free = NO_SLOT;

		for (__u32 k = 0; k < LIMIT_PROBES; k++) {
			i = (home + k) & cells_mask;
			c = bpf_map_lookup_elem(&cells, &i);
			if (!c)
				return NO_SLOT;
			seen = *(volatile __u64 *)&c->tag;
			if (seen == tag)
				return i;
			if (free == NO_SLOT && (seen == LIMIT_TAG_EMPTY || seen == LIMIT_TAG_GONE)) {
				free = i;
				free_tag = seen;
			}
		}
		if (!create || free == NO_SLOT)
			return NO_SLOT;
		c = bpf_map_lookup_elem(&cells, &free);
		if (!c)
			return NO_SLOT;
		if (__sync_val_compare_and_swap(&c->tag, free_tag, tag) == free_tag) {
			__u32 minor = limit_tag_minor(tag), w = minor / 64;
			__u64 *bits = bpf_map_lookup_elem(&cell_minors, &w);

			/* a freed cell held nothing; what it counted was another cgroup's */
			c->refusals = c->overshoot = c->hits = 0;
			if (bits && !(*bits & (1ULL << (minor % 64))))
				__sync_fetch_and_or(bits, 1ULL << (minor % 64));
			return free;
		}
	}
	return NO_SLOT;
}

/*
 * The cell of cgroup id x heap dev, made when @create and there is none;
 * NULL: no room. Looked for in its home slot first, where it mostly is:
 * the probing function is called only when it is not there.
 */
static __always_inline struct limit_cell *cell_of(__u64 id, __u32 dev, bool create)
{
	__u64 tag = limit_tag(id, dev);
	__u32 i = limit_home(tag, cells_mult, cells_mask);
	struct limit_cell *c = bpf_map_lookup_elem(&cells, &i);

	if (c && *(volatile __u64 *)&c->tag == tag)
		return c;
	i = cell_slot(tag, create);
	return i == NO_SLOT ? NULL : bpf_map_lookup_elem(&cells, &i);
}

/*
 * Add (or, negative, take) bytes at the first n levels of a charge. A level
 * whose cell cannot be made (the cells full) is not charged, and its id in c
 * is cleared, so that taking c back leaves it alone: a cell made there later
 * counts only others' charges, and taking this one's from it would wrap it.
 * true when one was.
 */
static __always_inline bool charge_levels(struct limit_charge *c, __u32 n, __s64 bytes)
{
	bool cleared = false;

	for (__u32 i = 0; i < LIMIT_MAX_DEPTH; i++) {
		struct limit_cell *cell;

		if (i >= n)
			break;
		if (!c->ids[i])
			continue;	/* never charged */
		cell = cell_of(c->ids[i], c->dev, bytes > 0);
		if (cell) {
			__sync_fetch_and_add(&cell->usage, bytes);
		} else if (bytes > 0) {
			c->ids[i] = 0;
			cleared = true;
		}
	}
	return cleared;
}

/*
 * charge_levels() where it is seldom taken (a refusal giving back what was
 * reserved, a failed export, a seed): a global function, which the verifier
 * checks once. Inlined at each level of the export's reservation that can
 * refuse, it was checked at each: about 120 ms of guest time when the limits
 * first load (docs/benchmarks.md, Limits). Not on the allocation's way,
 * where the call costs more than the loop. Its pointer may be NULL to older
 * kernels' verifiers. 0 always.
 */
__noinline int charge_levels_cold(struct limit_charge *c, __u32 n, __s64 bytes)
{
	if (c)
		charge_levels(c, n, bytes);
	return 0;
}

#define TAKE_TRIES	16

/*
 * Add bytes to *usage unless that passes lim: a compare-and-swap, so a
 * reader never sees usage past the limit, not even for a moment, and an
 * allocation is refused only when the others' charges leave no room. After
 * TAKE_TRIES lost races, an add checked afterwards (and taken back when
 * over), which can refuse one that a moment later would have fitted.
 * false, and in *was the usage seen, when refused.
 */
static __always_inline bool take(__u64 *usage, __u64 bytes, __u64 lim, __u64 *was)
{
	__u64 old = *usage, seen;

	for (int t = 0; t < TAKE_TRIES; t++) {
		*was = old;
		if (old > lim || bytes > lim - old)
			return false;
		seen = __sync_val_compare_and_swap(usage, old, old + bytes);
		if (seen == old)
			return true;
		old = seen;
	}
	old = __sync_fetch_and_add(usage, bytes);
	*was = old;
	if (old > lim || bytes > lim - old) {
		__sync_fetch_and_sub(usage, bytes);
		return false;
	}
	return true;
}

/*
 * Reserve bytes at every level of c (whose limits are lim), or at none:
 * false, and in r the level whose limit (or no room for its cell) refused.
 */
static __always_inline bool reserve(struct limit_charge *c, const __u64 *lim, __u64 bytes,
				    struct refusal *r)
{
	for (__u32 i = 0; i < LIMIT_MAX_DEPTH; i++) {
		struct limit_cell *cell;
		__u64 old;

		if (i >= c->levels)
			break;
		cell = cell_of(c->ids[i], c->dev, true);
		if (!cell) {
			r->cgroup_id = c->ids[i];
			r->usage = r->limit = 0;
			r->full = true;
			charge_levels_cold(c, i, -(__s64)bytes);
			return false;
		}
		if (lim[i] == NO_LIMIT) {
			__sync_fetch_and_add(&cell->usage, bytes);
			continue;
		}
		if (!take(&cell->usage, bytes, lim[i], &old)) {
			r->cgroup_id = c->ids[i];
			r->usage = old;
			r->limit = lim[i];
			r->full = false;
			charge_levels_cold(c, i, -(__s64)bytes);
			return false;
		}
	}
	return true;
}

/*
 * Would bytes more pass a limit of p's levels, as charged now? No
 * reservation: the export makes it. true, and in r the level, when it would.
 */
static __always_inline bool passes(struct pending *p, __u64 bytes, struct refusal *r)
{
	for (__u32 i = 0; i < LIMIT_MAX_DEPTH; i++) {
		struct limit_cell *cell;
		__u64 lim = p->lim[i], used;

		if (i >= p->c.levels)
			break;
		if (lim == NO_LIMIT)
			continue;
		cell = cell_of(p->c.ids[i], p->c.dev, false);
		used = cell ? cell->usage : 0;
		if (used <= lim && bytes <= lim - used)
			continue;
		r->cgroup_id = p->c.ids[i];
		r->usage = used;
		r->limit = lim;
		if (!cell)
			cell = cell_of(p->c.ids[i], p->c.dev, true);
		if (cell)
			__sync_fetch_and_add(&cell->refusals, 1);
		return true;
	}
	return false;
}

static __always_inline void refusal_event(const struct limit_charge *c, const struct refusal *r,
					  __u64 requested, __u64 heap, __u32 when)
{
	struct limit_event *e = bpf_ringbuf_reserve(&refusals, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid(), own = 0;
	struct limit_cell *leaf = NULL;
	const char *name;

	/*
	 * Counted for the task's own cgroup too, its allocations a limit
	 * refused: the one its ioctl began in, which the allocation charges.
	 * Moved since (refused at the export), the task is in another now.
	 */
	if (c->levels)
		own = c->ids[(c->levels - 1) & (LIMIT_MAX_DEPTH - 1)];
	if (own)
		leaf = cell_of(own, c->dev, true);
	if (leaf)
		__sync_fetch_and_add(&leaf->hits, 1);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = own ?: bpf_get_current_cgroup_id();
	e->bound_cgroup_id = r->cgroup_id;
	e->requested = requested;
	e->usage = r->usage;
	e->limit = r->limit;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->dev = c->dev;
	e->when = when;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	name = heap_name((const struct dma_heap *)heap);
	if (name)
		bpf_probe_read_kernel_str(e->heap, sizeof(e->heap), name);
	bpf_ringbuf_submit(e, 0);
}

/* a charge's fields and the ids of its levels, not the unused ones */
static __always_inline void charge_copy(struct limit_charge *to, const struct limit_charge *from)
{
	__u32 n = from->levels;

	to->bytes = from->bytes;
	to->dev = from->dev;
	to->levels = n;
	for (__u32 i = 0; i < LIMIT_MAX_DEPTH; i++) {
		if (i >= n)
			break;
		/* volatile: not a memcpy() of an unknown length, which BPF has not */
		*(volatile __u64 *)&to->ids[i] = from->ids[i];
	}
}

static __always_inline struct limit_slot *slot_of(__u64 ino)
{
	__u32 i = ino & slots_mask;

	return bpf_map_lookup_elem(&charge_slots, &i);
}

#define SLOT_BUSY	(~0ULL)	/* a slot taken, its charge being written */

/*
 * Keep a buffer's charge: in its slot when free (or already its own: a
 * seeded buffer's), else in the hash; @only_new: not over a charge kept.
 * KEPT, KEPT_BEFORE (only_new: a charge was kept already) or NO_ROOM. A
 * free slot is taken as busy, written, then given the inode: a take never
 * sees a charge half written. One kept in the hash (its slot was held when
 * it was exported) stays there.
 */
enum { KEPT, KEPT_BEFORE, NO_ROOM };

static __always_inline int charge_keep(__u64 ino, const struct limit_charge *c, bool only_new)
{
	struct limit_slot *s = slot_of(ino);
	bool in_hash = spilled && bpf_map_lookup_elem(&charges, &ino);
	__u64 was;

	if (s && !in_hash) {
		was = __sync_val_compare_and_swap(&s->key, 0, SLOT_BUSY);
		if (!was) {
			charge_copy(&s->c, c);
			__sync_val_compare_and_swap(&s->key, SLOT_BUSY, ino);
			return KEPT;
		}
		if (was == ino && !only_new) {	/* an export over a seed: no take races it */
			charge_copy(&s->c, c);
			return KEPT;
		}
		if (was == ino)
			return KEPT_BEFORE;
	}
	if (in_hash && only_new)
		return KEPT_BEFORE;
	/* counted first: a take that finds it also finds the count */
	if (!in_hash)
		__sync_fetch_and_add(&spilled, 1);
	if (!bpf_map_update_elem(&charges, &ino, c, only_new ? BPF_NOEXIST : BPF_ANY)) {
		__sync_fetch_and_add(&spills, 1);
		return KEPT;
	}
	if (!in_hash)
		__sync_fetch_and_sub(&spilled, 1);
	/* only_new: an export's charge made meanwhile is kept before */
	return only_new && bpf_map_lookup_elem(&charges, &ino) ? KEPT_BEFORE : NO_ROOM;
}

/*
 * Take a buffer's charge out and uncharge its levels, when of @bytes (0: any
 * size): true for the one caller that took it. A slot is taken busy by
 * compare-and-swap, uncharged from where it is, then freed: no export
 * writes a slot that is not free, nor over a charge but when it holds the
 * buffer's inode.
 */
static __always_inline bool charge_drop(__u64 ino, __u64 bytes)
{
	struct limit_slot *s = slot_of(ino);
	struct limit_charge *h, c;

	if (s && s->key == ino) {
		if (__sync_val_compare_and_swap(&s->key, ino, SLOT_BUSY) != ino)
			return false;
		if (bytes && s->c.bytes != bytes) {
			__sync_val_compare_and_swap(&s->key, SLOT_BUSY, ino);
			return false;
		}
		charge_levels(&s->c, s->c.levels, -(__s64)s->c.bytes);
		__sync_val_compare_and_swap(&s->key, SLOT_BUSY, 0);
		return true;
	}
	if (!spilled)
		return false;
	h = bpf_map_lookup_elem(&charges, &ino);
	if (!h || (bytes && h->bytes != bytes))
		return false;
	charge_copy(&c, h);
	if (bpf_map_delete_elem(&charges, &ino))
		return false;
	__sync_fetch_and_sub(&spilled, 1);
	charge_levels(&c, c.levels, -(__s64)c.bytes);
	return true;
}

/*
 * What an export whose exit the kernel skipped left in the thread's pending
 * allocation: its reservation given back (that buffer then charged nowhere),
 * a refusal it armed (else the thread's next file would be refused). Called
 * where the kernel never skips: the thread's next allocation ioctl, and the
 * thread's end (LSM hooks).
 */
/* a refusal armed for the thread's next file, disarmed */
static __always_inline void unrefuse(struct pending *p)
{
	p->refuse = 0;
	__sync_fetch_and_sub(&refusing, 1);
}

static __always_inline void settle(struct pending *p)
{
	if (p->c.bytes) {
		charge_levels_cold(&p->c, p->c.levels, -(__s64)p->c.bytes);
		p->c.bytes = 0;
	}
	if (p->refuse)
		unrefuse(p);
}

static __always_inline struct pending *pending_of(bool create)
{
	return bpf_task_storage_get(&pending, bpf_get_current_task_btf(), NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* limits_gen + 1: 0 is "never read" */
static __always_inline __u64 gen_now(void)
{
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&limits_gen, &zero);

	return g ? *g + 1 : 1;
}

/* the limits of p's levels on p->c.dev, read again when one changed */
static __always_inline void limits_fresh(struct pending *p)
{
	struct limit_value *lim;
	__u64 gen = gen_now();
	__u32 i;

	if (gen == p->lim_gen)
		return;
	for (i = 0; i < LIMIT_MAX_DEPTH; i++) {
		struct limit_key k = { .dev = p->c.dev };

		if (i >= p->c.levels)
			break;
		k.cgroup_id = p->c.ids[i];
		lim = bpf_map_lookup_elem(&limits, &k);
		p->lim[i] = lim ? lim->bytes : NO_LIMIT;
	}
	p->lim_gen = gen;
}

/*
 * DMA_HEAP_IOCTL_ALLOC as dma_heap_ioctl() takes it: any command numbered 0
 * on a dma-heap device (it looks at no type), the length in the first
 * _IOC_SIZE(cmd) bytes copied in (none without _IOC_WRITE: the kernel then
 * sees length 0 and refuses), zero-extended.
 */
static __always_inline int heap_ioctl(struct file *file, unsigned int cmd, unsigned long arg,
				      bool sleepable)
{
	struct inode *inode = file->f_inode;
	__u32 size = IOC_SIZE(cmd), dev;
	struct refusal r = {};
	struct pending *p;
	__u64 len = 0, bytes, id;
	long err = 0;
	__u32 i;

	if (IOC_NR(cmd) != 0 || !inode)
		return 0;
	dev = inode->i_rdev;
	if ((inode->i_mode & S_IFMT) != S_IFCHR || dev >> MINORBITS != heap_major)
		return 0;
	if (!IOC_WRITE(cmd) || !size)
		return 0;
	if (size > sizeof(len))
		size = sizeof(len);
	if (sleepable)
		err = bpf_copy_from_user(&len, size & 0xf, (void *)arg);
	else
		err = bpf_probe_read_user(&len, size & 0xf, (void *)arg);
	/*
	 * Refused, though the compat hook's read (no sleeping) fails on a page
	 * the kernel's own copy would fault in: left to the export instead, the
	 * heap would first allocate the whole size, a way past this check that a
	 * 32-bit task could take at will. A length just written is resident.
	 */
	if (err)
		return -EFAULT;
	/*
	 * 0, or a length that wraps: nothing to reserve, yet the allocation is
	 * armed all the same. The kernel reads the length again, and a length
	 * changed meanwhile (or read torn: bpf_copy_from_user() copies it byte
	 * by byte) is what the heap allocates: the export reserves all of it.
	 */
	bytes = (len + page_size - 1) & ~(page_size - 1);
	p = pending_of(true);
	if (!p)
		return -ENOMEM;
	if (p->armed)		/* the last one ended before its export */
		__sync_fetch_and_add(&stale, 1);
	/* what the last export left, its exit skipped (see the head of this file) */
	settle(p);
	p->armed = 0;
	/* the levels, walked again only when the thread moved */
	id = bpf_get_current_cgroup_id();
	if (id != p->cgroup_id) {
		for (i = 0; i < LIMIT_MAX_DEPTH; i++) {
			__u64 up = bpf_get_current_ancestor_cgroup_id(i + 1);

			if (!up)
				break;
			p->c.ids[i] = up;
		}
		p->c.levels = i;
		p->cgroup_id = id;
		p->lim_gen = 0;
	}
	if (!p->c.levels)	/* the root cgroup: nothing to charge */
		return 0;
	if (p->c.dev != dev)
		p->lim_gen = 0;
	p->c.dev = dev;
	p->c.bytes = 0;
	limits_fresh(p);
	/* the heap's name read again only for another heap (a read of kernel memory) */
	if ((__u64)file->private_data != p->heap) {
		p->heap = (__u64)file->private_data;
		p->name = (__u64)heap_name((const struct dma_heap *)p->heap);
	}
	if (bytes && passes(p, bytes, &r)) {
		refusal_event(&p->c, &r, bytes, p->heap, LIMIT_AT_IOCTL);
		return -EAGAIN;
	}
	p->armed = 1;
	p->arg = arg;
	p->cmd = cmd;
	if (!bytes)
		__sync_fetch_and_add(&unread, 1);
	return 0;
}

SEC("lsm.s/file_ioctl")
int BPF_PROG(file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	return ret ? ret : heap_ioctl(file, cmd, arg, true);
}

/* 6.8+: 32-bit tasks' ioctls (a hook that may not sleep) */
SEC("lsm/file_ioctl_compat")
int BPF_PROG(file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	return ret ? ret : heap_ioctl(file, cmd, arg, false);
}

/*
 * Is the thread still in the allocation ioctl it armed? An armed allocation
 * whose ioctl failed before its export stays armed until the thread's next
 * allocation or export, and another exporter's buffer (a DRM or V4L2
 * export of the same thread) is not the heap's. Most heaps' exports carry
 * the heap's name; one whose exporter name is another (upstream's TEE heap
 * exports "tee", its module's name) is the heap's when the syscall's
 * registers still hold the command and the argument the ioctl hook saw
 * (DMA_HEAP_IOCTL_ALLOC is no other device's command). Not the fd: another
 * thread may close or replace it while the heap allocates (the ioctl holds
 * the file), which would take the export out of its limit. x86's 32-bit
 * tasks have the command in cx, not si (arm64's compat tasks theirs where
 * its own tasks do): untested, the VM kernels have no IA32 emulation.
 */
static __always_inline bool armed_export(const struct pending *p,
					 const struct dma_buf_export_info *info)
{
	struct pt_regs *regs;
	__u32 cmd;

	if (!p->name || (__u64)info->exp_name == p->name)
		return true;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (PT_REGS_PARM3_CORE_SYSCALL(regs) != p->arg)
		return false;
	cmd = PT_REGS_PARM2_CORE_SYSCALL(regs);
#if defined(__TARGET_ARCH_x86)
	if (cmd != p->cmd)
		cmd = BPF_CORE_READ(regs, cx);
#endif
	return cmd == p->cmd;
}

/*
 * The real size, before the buffer's file is made (the kernel's own copy of
 * the length): reserved, or the file refused. Only the export of the heap
 * the thread's ioctl armed (armed_export()).
 */
SEC("fentry/dma_buf_export")
int BPF_PROG(dma_buf_export_entry, const struct dma_buf_export_info *info)
{
	struct pending *p = pending_of(false);
	struct refusal r = {};
	__u64 real, past;

	if (!p || !p->armed)
		return 0;
	p->armed = 0;
	if (!armed_export(p, info))
		return 0;
	limits_fresh(p);
	real = info->size;
	if (reserve(&p->c, p->lim, real, &r)) {
		p->c.bytes = real;
		return 0;
	}
	if (refuse_at_export) {
		p->refuse = 1;
		p->r = r;
		p->refused = real;
		__sync_fetch_and_add(&refusing, 1);
		return 0;
	}
	/*
	 * It cannot be refused: charged, and told as overshoot at the level it
	 * passed. A level left out is out of this charge alone: the thread's
	 * next ioctl walks its levels again.
	 */
	if (charge_levels(&p->c, p->c.levels, real))
		p->cgroup_id = 0;
	p->c.bytes = real;
	past = r.usage + real > r.limit ? r.usage + real - r.limit : 0;
	__sync_fetch_and_add(&overshoot_bytes, past);
	if (r.cgroup_id) {
		struct limit_cell *cell = cell_of(r.cgroup_id, p->c.dev, false);

		if (cell)
			__sync_fetch_and_add(&cell->overshoot, past);
	}
	return 0;
}

/*
 * The export's refusal, enacted: counted and told here, not where it was
 * armed, so that a refusal the kernel skipped (its buffer made) or an
 * export failing before its file (another errno) is no limit hit. The
 * level that refused counts it, as passes() does at the ioctl.
 */
static __always_inline void refused_at_export(struct pending *p)
{
	struct limit_cell *cell;

	if (p->r.full) {
		__sync_fetch_and_add(&full, 1);
	} else {
		cell = cell_of(p->r.cgroup_id, p->c.dev, true);
		if (cell)
			__sync_fetch_and_add(&cell->refusals, 1);
	}
	refusal_event(&p->c, &p->r, p->refused, p->heap,
		      p->r.full ? LIMIT_NO_CELL : LIMIT_AT_EXPORT);
}

SEC("fmod_ret/security_file_alloc")
int BPF_PROG(security_file_alloc, struct file *file, int ret)
{
	struct pending *p;

	if (ret || !refusing)
		return ret;
	p = pending_of(false);
	if (!p || !p->refuse)
		return 0;
	unrefuse(p);
	refused_at_export(p);
	return -EAGAIN;
}

/* the reservation kept as the buffer's charge, or given back when the export failed */
SEC("fexit/dma_buf_export")
int BPF_PROG(dma_buf_export_exit, const struct dma_buf_export_info *info, struct dma_buf *ret)
{
	struct pending *p = pending_of(false);
	bool made;

	if (!p)
		return 0;
	made = (unsigned long)ret < (unsigned long)-MAX_ERRNO;
	/*
	 * The kernel skipped the entry of the thread's armed export (armed
	 * still), or the refusal of its file (refused, yet made): charged here,
	 * where it can no longer be refused, so that usage is still what is held.
	 */
	if (made && !p->c.bytes && ((p->armed && armed_export(p, info)) || p->refuse)) {
		p->armed = 0;
		charge_levels_cold(&p->c, p->c.levels, info->size);
		p->c.bytes = info->size;
		p->cgroup_id = 0;	/* a level without a cell is walked again */
	}
	if (p->refuse)		/* refused, and the export failed before making its file */
		unrefuse(p);
	if (!p->c.bytes)
		return 0;
	if (!made) {
		charge_levels_cold(&p->c, p->c.levels, -(__s64)p->c.bytes);
	} else {
		__u64 ino = ret->file->f_inode->i_ino;
		__u32 i = ino & (UNKEPT_SLOTS - 1);
		__u64 *u;

		if (charge_keep(ino, &p->c, false) != KEPT) {
			__sync_fetch_and_add(&untracked, 1);	/* stays charged: limits hold */
			u = bpf_map_lookup_elem(&unkept, &i);
			if (u)
				*u = ino;
		}
	}
	p->c.bytes = 0;
	return 0;
}

/*
 * The buffer's end: uncharge every level it charged when its inode is
 * freed, as the last reference to its dentry goes, just before the kernel
 * frees its memory (dma_buf_release(), the dentry's d_release); or after it,
 * when something held the inode itself (an inotify watch): limits err on
 * the side of refusing. Not at its file's final release: an O_PATH open of /proc/self/fd/N (or a plain
 * re-open of it, a second file without the buffer) holds the dentry, and
 * the memory, past it; uncharged there, a process could keep any amount
 * past its limit. An LSM hook (6.1+), called for every inode freed: the
 * kernel never skips an LSM program, and it skips a tracing one for every
 * other task on a CPU while one is preempted inside it (preemptible RCU).
 */
SEC("lsm/inode_free_security")
int BPF_PROG(inode_free, struct inode *inode)
{
	/* i_ino 0: one never made a buffer (an LSM refused its inode), whose
	 * number would match a free slot's key */
	if (inode->i_ino && inode->i_sb->s_magic == DMA_BUF_MAGIC)
		charge_drop(inode->i_ino, 0);
	return 0;
}

/* a thread's end: what its last export left, that exit skipped (settle()) */
SEC("lsm/task_free")
int BPF_PROG(task_free, struct task_struct *task)
{
	struct pending *p = bpf_task_storage_get(&pending, task, NULL, 0);

	if (p)
		settle(p);
	return 0;
}

/*
 * A cgroup removed: its cells that hold and counted nothing freed, as user
 * space's collection at a limit's set or clear would (tools/lib/lsm_limit.c:
 * collect_cells()), whose walk of the tree is the only other way to learn
 * a cgroup went. One still charged (a buffer outlived its cgroup), or with
 * refusals or hits counted (a removed cgroup's row shows them, and the
 * exporter's counters must not go down before that collection), waits for
 * that. A removed cgroup has no task: nothing charges it meanwhile, but a
 * task moved out of it between its ioctl and the export, which the export
 * reserves where the ioctl walked: on a cell freed there, a new one.
 */
struct rmdir_walk {
	__u64 id;
	__u64 bits[LIMIT_HEAP_MINORS / 64];
};

/* minor m: the removed cgroup's cell of that heap freed, when it holds and counted nothing */
static long rmdir_minor(__u64 m, void *arg)
{
	struct rmdir_walk *w = arg;
	__u64 tag = limit_tag(w->id, m);
	struct limit_cell *c;
	__u32 i;

	if (!(w->bits[(m / 64) & (LIMIT_HEAP_MINORS / 64 - 1)] & (1ULL << (m % 64))))
		return 0;
	i = cell_slot(tag, 0);
	c = i == NO_SLOT ? NULL : bpf_map_lookup_elem(&cells, &i);
	if (c && !c->usage && !c->refusals && !c->hits && !c->overshoot)
		__sync_val_compare_and_swap(&c->tag, tag, LIMIT_TAG_GONE);
	return 0;
}

SEC("fexit/cgroup_rmdir")
int BPF_PROG(cgroup_rmdir, struct kernfs_node *kn, int ret)
{
	struct rmdir_walk w = { .id = kn->id };

	/* a cgroup v1 hierarchy's: its ids are its own, another than a v2 cgroup's */
	if (ret || cgroup_hierarchy((const struct cgroup *)kn->priv))
		return 0;
	for (__u32 k = 0; k < LIMIT_HEAP_MINORS / 64; k++) {
		__u32 key = k;	/* k itself stays a register: a bound the verifier knows */
		__u64 *bits = bpf_map_lookup_elem(&cell_minors, &key);

		if (bits)
			w.bits[k] = *bits;
	}
	bpf_loop(LIMIT_HEAP_MINORS, rmdir_minor, &w, 0);
	return 0;
}

/*
 * Seeding, run by user space (BPF_PROG_RUN) when it first loads: charge a
 * buffer that existed before, unless it is charged already, or take such a
 * charge back (the buffer was gone by then). Atomic with the hooks above,
 * which user space's map updates are not. One with no room to be kept is
 * charged all the same, as untracked, as an export's would be: limits
 * hold (and one an export charged so is not charged again). The charge
 * is copied off the context first: a context is no map value to 6.12's
 * and 6.1's verifiers, nor read at a variable offset.
 */
SEC("syscall")
int seed(struct limit_seed *s)
{
	struct limit_charge c = {};
	__u64 ino = s->ino;
	int kept;

	if (s->c.levels > LIMIT_MAX_DEPTH)
		return -22;
	__builtin_memcpy(&c, &s->c, sizeof(c));	/* fixed offsets: a context's */
	if (s->op == LIMIT_SEED_CHARGE) {
		__u32 i = ino & (UNKEPT_SLOTS - 1);
		__u64 *u = bpf_map_lookup_elem(&unkept, &i);

		if (u && *u == ino)
			return 0;	/* charged by its export, untracked */
		/* charged, then kept as charged (its levels without a cell cleared) */
		charge_levels_cold(&c, c.levels, c.bytes);
		kept = charge_keep(ino, &c, true);
		if (kept == KEPT_BEFORE) {
			charge_levels_cold(&c, c.levels, -(__s64)c.bytes);
			return 0;	/* charged by its export */
		}
		__builtin_memcpy(&s->c, &c, sizeof(c));	/* what user space takes back */
		__sync_fetch_and_add(&seeded, 1);
		__sync_fetch_and_add(&seeded_bytes, c.bytes);
		if (kept == NO_ROOM)
			__sync_fetch_and_add(&untracked, 1);
		/* user space takes it back if the buffer was gone */
		s->charged = kept == NO_ROOM ? 2 : 1;
		return 0;
	}
	if (s->op == LIMIT_SEED_UNDO_UNTRACKED) {
		charge_levels_cold(&c, c.levels, -(__s64)c.bytes);
		__sync_fetch_and_sub(&untracked, 1);
		s->charged = 0;
		__sync_fetch_and_sub(&seeded, 1);
		__sync_fetch_and_sub(&seeded_bytes, c.bytes);
		return 0;
	}
	/* the seed's own charge only (its size): not one an export made since */
	if (!s->c.bytes || !charge_drop(ino, s->c.bytes))
		return 0;
	s->charged = 0;
	__sync_fetch_and_sub(&seeded, 1);
	__sync_fetch_and_sub(&seeded_bytes, s->c.bytes);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
