/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by limit.bpf.c and user space: fixed-width fields only. */
#ifndef HEAPSTAT_LIMIT_H
#define HEAPSTAT_LIMIT_H

#define LIMIT_NAME_LEN		32	/* an event's heap name: lsm_limit_event_heap() */
#define LIMIT_COMM_LEN		16
/* cgroup levels below the root that are charged (and can have a limit) */
#define LIMIT_MAX_DEPTH		16

/*
 * A cgroup x heap. The heap is its device number as the kernel keeps it
 * (major << 20 | minor), the i_rdev of /dev/dma_heap/<heap>.
 */
struct limit_key {
	__u64 cgroup_id;
	__u32 dev;
	__u32 pad;
};

/*
 * A limit: its bytes, and its cgroup's path from the cgroup2 root, hashed by
 * user space (FNV-1a), so that a clear of that path once the cgroup is
 * removed finds the limits that went with it. The programs read bytes alone.
 */
struct limit_value {
	__u64 bytes;
	__u64 path_hash;
};

/*
 * What one cgroup x heap holds (hierarchical: its descendants' too), in the
 * `cells` array: in one of LIMIT_PROBES slots from its home slot, found by
 * its tag, taken by compare-and-swap on a free one (empty, or freed by user
 * space when its cgroup was gone and it held nothing). No hashing a key, no
 * allocation: an array slot found where it was put.
 */
#define LIMIT_CELLS		(1 << 16)	/* slots: a power of two */
#define LIMIT_PROBES		8
#define LIMIT_TAG_EMPTY		0ULL
#define LIMIT_TAG_GONE		(~0ULL)
#define LIMIT_MINOR_BITS	20		/* the kernel's dev_t: major << 20 | minor */
#define LIMIT_HEAP_MINORS	128		/* dma-heap's NUM_HEAP_MINORS */

/* a cgroup x heap as one word: cgroup ids are never reused, and stay below 2^44 */
static inline __u64 limit_tag(__u64 cgroup_id, __u32 dev)
{
	return cgroup_id << LIMIT_MINOR_BITS | (dev & ((1u << LIMIT_MINOR_BITS) - 1));
}

/* and back: the cgroup's id, the heap's minor */
static inline __u64 limit_tag_cgroup(__u64 tag)
{
	return tag >> LIMIT_MINOR_BITS;
}

static inline __u32 limit_tag_minor(__u64 tag)
{
	return tag & ((1u << LIMIT_MINOR_BITS) - 1);
}

/*
 * its home slot, with @mask the slots less one: the tag times @mult, an odd
 * multiplier drawn at random as the programs load (the .bss's cells_mult),
 * so that no cgroup can pick ids whose cells crowd another's probe window
 * (a delegated subtree's cgroups, made and removed until their ids fit, would
 * otherwise fill a cgroup's slots before its first allocation: refused, full)
 */
static inline __u32 limit_home(__u64 tag, __u64 mult, __u32 mask)
{
	return (__u32)((tag * mult) >> 40) & mask;
}

struct limit_cell {
	__u64 tag;		/* limit_tag(), LIMIT_TAG_EMPTY or LIMIT_TAG_GONE */
	__u64 usage;		/* bytes charged and reserved */
	__u64 refusals;		/* allocations its limit refused */
	__u64 overshoot;	/* bytes charged past its limit (a length changed after the check) */
	__u64 hits;		/* allocations of its own tasks a limit refused (any level's) */
};

/*
 * The charge of one buffer, from its export to its final release: every
 * level charged, however the buffer or its exporter moves.
 */
struct limit_charge {
	__u64 bytes;
	__u64 ids[LIMIT_MAX_DEPTH];	/* ids[0]: level 1 ... ids[levels - 1]: the leaf */
	__u32 dev;
	__u32 levels;
};

/*
 * A cgroup's level in its hierarchy and its ancestors' ids, as the kernel
 * counts them (bpf/cgroup_level.bpf.c), for user space to charge and limit
 * by the levels the programs take, whatever a path in a cgroup namespace says.
 */
struct cg_level_rec {
	__u32 level;			/* the root's: 0 */
	__u32 pad;
	__u64 ids[LIMIT_MAX_DEPTH];	/* ids[0]: level 1 ... down to it, at most 16; else 0 */
};

/* a live buffer's charge, in slot inode % LIMIT_SLOTS (key: its inode, 0: free) */
#define LIMIT_SLOTS		(1 << 15)	/* a power of two */

struct limit_slot {
	__u64 key;
	struct limit_charge c;
};

enum limit_refusal {
	LIMIT_AT_IOCTL,		/* the length read by the ioctl hook */
	LIMIT_AT_EXPORT,	/* the buffer's real size, at its export (a length changed since
				 * the ioctl hook read it, or others took the room meanwhile) */
	LIMIT_NO_CELL,		/* no free slot for a level's usage cell: fails closed */
};

struct limit_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 cgroup_id;	/* the task's, as its allocation began */
	__u64 bound_cgroup_id;	/* whose limit refused */
	__u64 requested;	/* page-aligned bytes asked for */
	__u64 usage;		/* of bound_cgroup_id, before the request */
	__u64 limit;		/* of bound_cgroup_id */
	__u32 pid;
	__u32 tgid;
	__u32 dev;
	__u32 when;		/* enum limit_refusal */
	char comm[LIMIT_COMM_LEN];
	char heap[LIMIT_NAME_LEN];
};

/*
 * The seed program's context. UNDO takes back a charge kept (charged 1)
 * unless a release did; UNDO_UNTRACKED one kept nowhere (charged 2), which
 * no release can: c's levels are those it charged.
 */
enum { LIMIT_SEED_CHARGE = 1, LIMIT_SEED_UNDO, LIMIT_SEED_UNDO_UNTRACKED };
struct limit_seed {
	struct limit_charge c;
	__u64 ino;
	__u32 op;
	__u32 charged;		/* out: 1 kept by this seed, 2 charged untracked */
};

#endif /* HEAPSTAT_LIMIT_H */
