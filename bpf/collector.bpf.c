// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat's collector: every DMA_HEAP_IOCTL_ALLOC attempt (heap, length,
 * result, latency, and for failures the CMA facts that classify them), every
 * dma-buf export and final release (exporter, size, inode, task, cgroup),
 * and every CMA allocation and release. Events go through a ring buffer,
 * without waking the reader (it drains the ring on its own schedule, which
 * saves a wakeup per event); what does not fit is counted in `dropped`.
 *
 * Two modes. A recorder's (want_events) puts every one in the ring buffer.
 * Aggregate mode, everyone else's, puts only the failures there: the rest
 * is counted in maps, latencies and lifetimes as histograms, so that a
 * successful allocation and its release cost no ring event, no clock read
 * beyond the call's two and the release's one, no read of user memory and
 * no task name but the first of each process image.
 *
 * Counts go to in-kernel aggregates per (cgroup, heap) in both, exact even
 * when the ring buffer drops events; live buffers exported while tracing
 * are kept per buffer. Both are arrays found without hashing on the paths
 * every allocation and release take (see collector_events.h). So do each
 * CMA area's counts and its allocation bitmap, the free-extent map.
 *
 * Attach variants, side by side: BTF-typed programs (tp_btf, fentry/fexit)
 * where the kernel takes them, else kprobes and raw tracepoints; the heap
 * ioctl as one fsession program (7.0+) or fentry and fexit; and
 * dma_buf_export through its tracepoint (7.0+) or fexit (older). User space
 * disables the ones it does not use before load.
 *
 * The programs come in the order of what they trace: the allocation's ioctl,
 * the export, the final release, then the rest. User space attaches them
 * from the last to the first (tools/lib/attach_order.h): a buffer allocated
 * while they attach has its release traced (the other way, one allocated
 * before the release's hook was attached and released meanwhile was
 * recorded as a leak, and counted live).
 *
 * Built three times: whole (the skeleton, and the kprobe mode), and for the
 * BTF-typed mode alone with and without the fsession program
 * (COLL_TRACING_ONLY; COLL_FSESSION), whose loaders user space makes at run
 * time and runs itself: a loader keeps 32 programs at most, so those
 * objects leave out the kprobe mode's programs, whose names end in "probe"
 * (tools/lib/collector.c leaves those out of their skeleton).
 *
 * Which buffers live and who holds them is not traced here (the inventory
 * walks them), but a live view (want_log) gets every event that can change
 * them in the `changes` log: exports, final releases and attachments, new
 * dma-buf fds, imports and mmaps, and the forks, execs, exits and cgroup
 * moves of the processes in `holder_tgids` (listed by user space, and here
 * at a process's first dma-buf fd and a holder's fork; gone at its exit). It applies them to
 * its inventory and walks again only the processes they name.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "collector_events.h"
#include "core_fixes.bpf.h"

#define DMA_HEAP_IOCTL_ALLOC_NR	0	/* _IOC_NR(DMA_HEAP_IOCTL_ALLOC) */
#define IOC_NR(cmd)		((cmd) & 0xff)
#define MAX_SPILL		16384
#define MAX_AGGS		16384
#define MAX_HOLDERS		8192

/*
 * An atomic add that orders the stores before and after it, for the marks
 * user space reads with acquire loads (a slot's sequence count, an entry's
 * ready): its fetch form, which arm64's JIT makes LDADDAL. The plain form,
 * what clang emits when the old value goes unused, is a relaxed STADD there
 * (x86's lock prefix orders both).
 */
#define ordered_add(p, v)						\
	({								\
		__typeof__(*(p)) __old = __sync_fetch_and_add(p, v);	\
		barrier_var(__old);					\
	})

/* filled in before load */
const volatile __u64 page_size = 4096;
const volatile struct coll_cma_map cma_maps[COLL_CMA_MAPS] = {};
const volatile __u32 ncma_maps = 0;
/* take allocations' stacks; off, the verifier drops that code and `stacks` has 1 entry */
const volatile bool want_stacks = false;
const volatile bool want_fds = false;	/* a recorder: EV_BUF_FD events (else counts only) */
const volatile bool want_events = false;	/* a recorder: every event (else failures only) */
const volatile bool want_log = false;	/* a live view: the `changes` log */
const volatile bool cma_start_tells_free = true;	/* cma_alloc_start's available_count (after 6.12) */
const volatile __u32 test_refuse = 0;	/* tests: coll_feature bits whose programs the verifier refuses */

/*
 * In tests, a read past the stack the verifier refuses; otherwise a branch
 * it knows is never taken (test_refuse is read-only), and drops.
 */
#define REFUSED_IN_TESTS(feat)							\
	do {									\
		if (test_refuse & (1u << (feat)))				\
			asm volatile("r0 = *(u64 *)(r10 + 8)" ::: "r0");	\
	} while (0)

/*
 * Sized by user space: 4 MiB for a recorder, 256 KiB in aggregate mode
 * (failures only). Every map is zeroed when made, which is much of what
 * starting costs: the hashes are not preallocated (entries are made where
 * no allocation or release waits on them).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/*
 * An ioctl or a CMA allocation in progress, in the thread's own storage:
 * kept between calls (cleared, not deleted), so a call costs no map update;
 * the heap's name is read again only when the thread uses another heap.
 */
struct inflight {
	__u64 start_ns;
	__u64 arg;		/* the ioctl's struct dma_heap_allocation_data */
	__u64 cma_start_ns;
	__u64 cma_request;
	__u64 cma_available;
	__u32 cma_busy;
	__u32 in_heap_alloc;
	__u32 cma_pending;	/* a cma_alloc() started: its finish is timed */
	__u32 cma_failed;	/* the last cma_alloc() of the call failed */
	__u64 buf_ino;		/* the buffer exported by this ioctl, 0: none */
	__u64 buf_bytes;	/* its size, when folded */
	__u32 folded;		/* exported under the heap's name: told at the exit */
	__u32 agg;		/* of (agg_cgroup, heap): the thread's last */
	__u32 fail_class;	/* the exit's, kept so the verifier forgets how it was found */
	__u32 pad;
	__u64 agg_cgroup;
	__u64 heap_ptr;		/* struct dma_heap of heap[] */
	__u64 heap_name_ptr;	/* its name: heaps export under it */
	char heap[COLL_NAME_LEN];
	__u64 comm_mm;		/* the process image comm[] was read in */
	char comm[COLL_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* live buffers seen exported: slot inode % COLL_SLOTS -> who and when */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, COLL_SLOTS);
	__type(key, __u32);
	__type(value, struct coll_buf);
} buffers SEC(".maps");

/* the ones whose slot a live buffer held: inode -> who and when */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MAX_SPILL);
	__type(key, __u64);
	__type(value, struct coll_buf);
} buffers_spill SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, MAX_AGGS);
	__type(key, __u32);
	__type(value, struct coll_agg_entry);
} aggs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MAX_AGGS);
	__type(key, struct coll_agg_key);
	__type(value, __u32);
} agg_index SEC(".maps");

/*
 * aggs' entries given back by user space: a removed cgroup's, whose counts
 * it keeps (collector.c, recycle_aggs()), zeroed, out of agg_index
 */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, MAX_AGGS);
	__type(value, __u32);
} agg_free SEC(".maps");

/* per CMA area: counts, found by the address of its name */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COLL_CMA_AREAS);
	__type(key, __u32);
	__type(value, struct coll_cma_entry);
} cma_aggs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, COLL_CMA_AREAS);
	__type(key, __u64);
	__type(value, __u32);
} cma_index SEC(".maps");

/* the areas' allocation bitmaps, cma_maps[] says where (sized before load) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cma_bits SEC(".maps");

/* aggregate mode: latencies and lifetimes of aggs[i], i < COLL_HISTS */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COLL_HISTS);
	__type(key, __u32);
	__type(value, struct coll_hist);
} hists SEC(".maps");

/* the stacks of allocations, when want_stacks (sized by user space: 1 entry without) */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, COLL_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, COLL_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* a live view's log of what changed its inventory (1 entry unless want_log) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, COLL_LOG_ENTRIES);
	__type(key, __u32);
	__type(value, struct coll_log);
} changes SEC(".maps");

/* processes holding a dma-buf at the last inventory, written by user space */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MAX_HOLDERS);
	__type(key, __u32);
	__type(value, __u8);
} holder_tgids SEC(".maps");

__u64 dropped = 0;		/* events the ring buffer had no room for */
__u64 lost[COLL_LOST_KINDS] = {};	/* what a full map could not hold, by map */
__u64 changes_head = 0;		/* entries ever taken in `changes` */
__u32 naggs = 0;		/* aggs' entries taken (may pass MAX_AGGS by racing CPUs) */
__u32 ncma_aggs = 0;		/* cma_aggs' entries taken (may pass COLL_CMA_AREAS so) */
__u32 spilled = 0;		/* buffers ever put in buffers_spill */
__u64 stacks_lost = 0;		/* stacks `stacks` had no room for (or not walkable) */
__u64 hists_lost = 0;		/* latencies and lifetimes of aggregates past COLL_HISTS */
__u64 slots_used[COLL_SLOT_MARKS] = {};	/* runs of slots ever written */
bool holders_all = false;	/* holder_tgids is full: every process counts */
__u64 cgroup_changes = 0;	/* cgroups made and removed (a live view's) */

#ifndef E2BIG
#define E2BIG	7	/* a full hash map's (uapi asm-generic/errno-base.h) */
#endif

/*
 * Process @tgid holds buffers now, listed here before user space lists it.
 * The list full: every process counts, as when user space has more holders
 * than it holds, until user space lists them again (collector_set_holders())
 */
static __always_inline void holder_add(__u32 tgid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&holder_tgids, &tgid, &one, BPF_NOEXIST) == -E2BIG)
		holders_all = true;
}

/* entry n of the log: the fields, then its number, fully ordered (collector_events.h) */
static __always_inline void log_change(__u32 kind, __u64 ino, __u64 bytes, __u32 agg)
{
	struct coll_log *e;
	__u64 n;
	__u32 i;

	if (!want_log)
		return;
	n = __sync_fetch_and_add(&changes_head, 1);
	i = n & (COLL_LOG_ENTRIES - 1);
	e = bpf_map_lookup_elem(&changes, &i);
	if (!e)
		return;
	e->ino = ino;
	e->bytes = bytes;
	e->agg = agg;
	e->kind = kind;
	__sync_lock_test_and_set(&e->seq, n + 1);
}

/* process tgid's fds or mappings may have changed */
static __always_inline void holders_changed(__u32 tgid)
{
	log_change(LOG_HOLDER, tgid, 0, 0);
}

/* a fork (@tgid the child), exec, exit or move of a process: counts when
 * process @holder held a buffer */
static __always_inline void holder_changed(__u32 holder, __u32 tgid)
{
	if (holders_all || bpf_map_lookup_elem(&holder_tgids, &holder))
		holders_changed(tgid);
}

/*
 * The current task's name, read once per process image and thread: again
 * after an exec (a new mm), not after a prctl(PR_SET_NAME), which is rare
 * where buffers are allocated.
 */
static __always_inline void task_comm(struct inflight *f, char *comm)
{
	__u64 mm;

	if (!f) {
		bpf_get_current_comm(comm, COLL_COMM_LEN);
		return;
	}
	mm = (__u64)bpf_get_current_task_btf()->mm;	/* a load, not a helper call */
	if (mm != f->comm_mm || !f->comm[0]) {	/* a kernel thread's mm is NULL */
		bpf_get_current_comm(f->comm, sizeof(f->comm));
		f->comm_mm = mm;
	}
	/* words, not bytes: both are 8-aligned (a slot's, a spill's on the stack) */
	__builtin_memcpy(__builtin_assume_aligned(comm, 8), f->comm, COLL_COMM_LEN);
}

static __always_inline struct coll_hist *hist_of(__u32 agg)
{
	struct coll_hist *h = agg < COLL_HISTS ? bpf_map_lookup_elem(&hists, &agg) : NULL;

	if (!h && agg != COLL_NO_AGG)
		__sync_fetch_and_add(&hists_lost, 1);
	return h;
}

static __always_inline void hist_lat(__u32 *lat, __u64 ns)
{
	__u32 b = coll_hist_bucket(ns, COLL_LAT_MIN_SHIFT, COLL_LAT_MAX_SHIFT, COLL_LAT_SUB_BITS);

	if (b < COLL_LAT_BUCKETS)
		__sync_fetch_and_add(&lat[b], 1);
}

static __always_inline void hist_life(__u32 agg, __u64 ns)
{
	struct coll_hist *h = hist_of(agg);
	__u32 b = coll_hist_bucket(ns, COLL_LIFE_MIN_SHIFT, COLL_LIFE_MAX_SHIFT, COLL_LIFE_SUB_BITS);

	if (h && b < COLL_LIFE_BUCKETS)
		__sync_fetch_and_add(&h->life[b], 1);
}

/* a new event of the current task; @self: a buffer it just exported, which has its cgroup and comm */
static __always_inline struct coll_event *event_new(__u32 type, const struct coll_buf *self)
{
	struct coll_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->ts_ns = bpf_ktime_get_ns();
	if (self) {
		e->cgroup_id = self->cgroup_id;
		__builtin_memcpy(e->comm, self->comm, sizeof(e->comm));
	} else {
		e->cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	return e;
}

/*
 * The index of the aggregate of (cgroup, the name at name_ptr), made on first
 * use; COLL_NO_AGG when full. @name: the name already read, or NULL to read
 * it (once), 8-aligned (a thread's inflight has it). Two CPUs making the
 * same one each take an entry: the one whose index is not kept stays empty.
 */
static __always_inline __u32 agg_of(__u64 cgroup_id, __u64 name_ptr, const char *name)
{
	struct coll_agg_key key = { .cgroup_id = cgroup_id, .name_ptr = name_ptr };
	struct coll_agg_entry *a;
	__u32 *idx, i;

	idx = bpf_map_lookup_elem(&agg_index, &key);
	if (idx)
		return *idx;
	/* one given back, else a new one; full: not taken again, which past
	 * 2^32 misses would wrap to taken entries */
	if (bpf_map_pop_elem(&agg_free, &i)) {
		if (naggs >= MAX_AGGS)
			goto full;
		i = __sync_fetch_and_add(&naggs, 1);
	}
	a = bpf_map_lookup_elem(&aggs, &i);
	if (!a)
		goto full;
	a->key = key;
	if (name)	/* words, not 32 byte loads and stores: 56 instructions less to verify */
		__builtin_memcpy(a->name, __builtin_assume_aligned(name, 8), sizeof(a->name));
	else if (name_ptr)
		bpf_probe_read_kernel_str(a->name, sizeof(a->name), (void *)name_ptr);
	ordered_add(&a->ready, 1);	/* after the rest: user space reads it first */
	if (!bpf_map_update_elem(&agg_index, &key, &i, BPF_NOEXIST))
		return i;
	idx = bpf_map_lookup_elem(&agg_index, &key);
	if (idx)
		return *idx;
full:
	__sync_fetch_and_add(&lost[LOST_AGGS], 1);
	return COLL_NO_AGG;
}

static __always_inline struct coll_agg *agg_at(__u32 i)
{
	struct coll_agg_entry *a = bpf_map_lookup_elem(&aggs, &i);	/* NULL for COLL_NO_AGG */

	return a ? &a->agg : NULL;
}

static __always_inline struct coll_buf *slot_of(__u64 ino)
{
	__u32 i = ino & (COLL_SLOTS - 1);

	return bpf_map_lookup_elem(&buffers, &i);
}

/*
 * A live buffer kept since its export: its slot (*in_slot: written under the
 * slot's seq), else its spill entry; NULL when it was not kept.
 */
static __always_inline struct coll_buf *buffer_find(__u64 ino, bool *in_slot)
{
	struct coll_buf *b = slot_of(ino);

	*in_slot = b && b->key == ino;
	if (*in_slot)
		return b;
	return spilled ? bpf_map_lookup_elem(&buffers_spill, &ino) : NULL;
}

/* as dma_heap_ioctl() takes it: any command numbered 0, whatever its type */
static __always_inline bool is_heap_alloc(unsigned int cmd)
{
	return IOC_NR(cmd) == DMA_HEAP_IOCTL_ALLOC_NR;
}

/* the calling thread's call in progress; NULL when none was made (or, creating, no memory) */
static __always_inline struct inflight *inflight_of(bool create)
{
	struct inflight *f;

	f = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), NULL,
				 create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (!f && create)
		__sync_fetch_and_add(&lost[LOST_THREADS], 1);
	return f;
}

/*
 * @btf: the program is BTF-typed (fentry, fexit, tp_btf), so kernel pointers
 * it was given are read directly; kprobes read them through bpf_probe_read.
 * A constant in every caller: the other branch is compiled out.
 */
static __always_inline int heap_ioctl_enter(struct file *file, unsigned int cmd,
					    unsigned long arg, bool btf)
{
	struct inflight *f;
	__u64 heap;

	if (!is_heap_alloc(cmd))
		return 0;
	f = inflight_of(true);
	if (!f)
		return 0;
	f->start_ns = bpf_ktime_get_ns();
	f->arg = arg;
	f->in_heap_alloc = 1;
	f->folded = 0;
	/* the CMA facts of this call: read only when cma_start_ns says it asked CMA */
	f->cma_start_ns = 0;
	f->cma_failed = 0;
	f->buf_ino = 0;
	heap = btf ? (__u64)file->private_data : (__u64)BPF_CORE_READ(file, private_data);
	if (heap != f->heap_ptr) {
		f->heap_ptr = heap;
		f->agg = COLL_NO_AGG;
		f->heap_name_ptr = (__u64)heap_name((const struct dma_heap *)heap);
		f->heap[0] = '\0';
		if (f->heap_name_ptr)
			bpf_probe_read_kernel_str(f->heap, sizeof(f->heap), (void *)f->heap_name_ptr);
	}
	return 0;
}

static __always_inline __u32 classify(const struct inflight *f, long ret)
{
	if (ret == -11)			/* -EAGAIN: dmem.max */
		return FAIL_LIMIT;
	if (ret != -12)			/* not -ENOMEM: bad input, or -EFAULT after the buffer was made */
		return FAIL_OTHER;
	/* the heap refused before asking CMA, or memory other than CMA's ran out */
	if (!f->cma_start_ns || !f->cma_failed)
		return FAIL_CAPACITY;
	if (f->cma_request > f->cma_available)
		return FAIL_CAPACITY;
	if (f->cma_busy)
		return FAIL_BUSY;
	return FAIL_FRAGMENTATION;
}

/* the aggregate of (cgroup, the thread's heap): the one of its last call, mostly */
static __always_inline __u32 heap_agg(struct inflight *f, __u64 cgroup_id)
{
	if (f->agg == COLL_NO_AGG || f->agg_cgroup != cgroup_id) {
		f->agg = agg_of(cgroup_id, f->heap_name_ptr, f->heap);
		f->agg_cgroup = cgroup_id;
	}
	return f->agg;
}

/*
 * The stack in the `stacks` map, as id + 1; 0 when it could not be kept. A
 * user stack is walked by frame pointers only: the frames of code built
 * without them are missed. A thread with no user stack (a kernel thread) has
 * none: not lost.
 */
static __always_inline __u32 stack_of(void *ctx, __u64 flags)
{
	long id = bpf_get_stackid(ctx, &stacks, flags);

	if (id >= 0)
		return id + 1;
	if (id != -14)		/* -EFAULT: no stack there */
		__sync_fetch_and_add(&stacks_lost, 1);
	return 0;
}

/*
 * The end of an ioctl: an allocation's when its start was recorded. The
 * buffer it exported under the heap's name is told here too (folded), in
 * the same event and the same aggregate update. In aggregate mode a
 * successful one has no event and its bytes are its buffer's: the
 * requested length is read from user memory only for a recorder, a
 * failure, or a heap that exported under another name.
 */
static __always_inline int heap_ioctl_exit(void *ctx, long ret)
{
	struct inflight *f = inflight_of(false);
	struct coll_event *e = NULL;
	struct coll_hist *h;
	struct coll_agg *a;
	bool in_slot;
	__u32 class, agg;
	__u64 len = 0, now;

	if (!f || !f->in_heap_alloc)
		return 0;
	/* f stays for the thread's next call: what marks this one is cleared */
	f->in_heap_alloc = 0;
	/* the len as asked for: struct dma_heap_allocation_data starts with it */
	if (want_events || ret || !f->folded)
		bpf_probe_read_user(&len, sizeof(len), (void *)f->arg);
	/*
	 * Through memory: each way classify() takes is an exact class for the
	 * verifier, which the counter's index makes it keep apart down the rest
	 * of the program; read back, the class is one unknown value.
	 */
	f->fail_class = ret ? classify(f, ret) : FAIL_NONE;
	class = *(volatile __u32 *)&f->fail_class;
	if (want_events || ret)
		e = event_new(EV_HEAP_ALLOC, f->folded ? buffer_find(f->buf_ino, &in_slot) : NULL);
	now = e ? e->ts_ns : bpf_ktime_get_ns();
	/* a folded export took the aggregate of this thread's cgroup and heap */
	agg = f->folded ? f->agg : heap_agg(f, e ? e->cgroup_id : bpf_get_current_cgroup_id());
	/* the histogram before the counts: user space reads it when they moved */
	if (!want_events) {
		h = hist_of(agg);
		if (h)
			hist_lat(h->lat, now - f->start_ns);
	}
	a = agg_at(agg);
	if (a) {
		if (ret && class < COLL_FAIL_CLASSES) {
			__u64 i = class;

			/* bounded in the register that indexes: the check's is
			 * another load of the spilled class, whose bounds 6.1's
			 * verifier does not carry over */
			asm volatile("%0 &= 7" : "+r"(i));
			__sync_fetch_and_add(&a->failures[i], 1);
		} else if (!ret) {
			__sync_fetch_and_add(&a->allocs, 1);
			__sync_fetch_and_add(&a->alloc_bytes, want_events || !f->folded ?
					     (len + page_size - 1) & ~(page_size - 1) : f->buf_bytes);
		}
		if (f->folded) {
			__sync_fetch_and_add(&a->exports, 1);
			__sync_fetch_and_add(&a->export_bytes, f->buf_bytes);
		}
	}
	if (!e)
		return 0;
	e->err = ret;
	/* an EINTR is a memcg limit's when the OOM killer chose this process
	 * (mark_oom_victim() keeps its mm in the signal struct), not a user's kill */
	if (ret) {
		struct task_struct *task = bpf_get_current_task_btf();

		e->oom_victim = !!task->signal->oom_mm;
		/* a memcg limit's failure (-ENOMEM, -EINTR) is judged by the limits as they are now */
		if (ret == -12 || ret == -4)
			e->memcg_read = memcg_tightest(task, page_size, &e->memcg_id,
						       &e->memcg_usage, &e->memcg_max);
	}
	e->bytes = len;
	e->latency_ns = e->ts_ns - f->start_ns;
	e->fail_class = class;
	if (f->cma_start_ns) {
		e->cma_busy = f->cma_busy;
		e->cma_request = f->cma_request;
		e->cma_available = f->cma_available;
	}
	if (f->folded) {
		e->ino = f->buf_ino;
		e->buf_bytes = f->buf_bytes;
	}
	__builtin_memcpy(e->name, f->heap, sizeof(e->name));
	if (want_stacks) {
		e->kstack = stack_of(ctx, 0);
		e->ustack = stack_of(ctx, BPF_F_USER_STACK);
		/* woken now, user space reads the process's mappings before it exits */
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
		return 0;
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("fentry/dma_heap_ioctl")
int BPF_PROG(dma_heap_ioctl_entry, struct file *file, unsigned int cmd, unsigned long arg)
{
	return heap_ioctl_enter(file, cmd, arg, true);
}

SEC("fexit/dma_heap_ioctl")
int BPF_PROG(dma_heap_ioctl_exit, struct file *file, unsigned int cmd, unsigned long arg, long ret)
{
	return is_heap_alloc(cmd) ? heap_ioctl_exit(ctx, ret) : 0;
}

/*
 * 7.0+: the ioctl's entry and exit as one program, a session (user space
 * makes it BPF_TRACE_FSESSION before load: libbpf may not know the section).
 * One trampoline link where fentry and fexit take two: each link's ftrace
 * update walks every traceable function's record, to attach and to detach,
 * and the exit's link walks them twice (a modify). The return value is the
 * argument after the last, 0 at the entry.
 *
 * Only in the object built with COLL_FSESSION, which user space loads where
 * the kernel takes sessions: older kernels' bpf_session_is_return() is
 * kprobe sessions' (6.10+), without the context, and libbpf refuses an
 * object whose kfunc's prototype is not the kernel's, weak or not.
 */
#ifdef COLL_FSESSION
extern bool bpf_session_is_return(void *ctx) __ksym __weak;

SEC("fentry/dma_heap_ioctl")
int dma_heap_ioctl_session(__u64 *ctx)
{
	/* not BPF_PROG(): its arguments, read before the kfunc's call, were kept
	 * across it on the stack, at both ends of every call */
	REFUSED_IN_TESTS(COLL_REFUSE_SESSION);
	if (!bpf_session_is_return(ctx))
		return heap_ioctl_enter((struct file *)ctx[0], ctx[1], ctx[2], true);
	return is_heap_alloc(ctx[1]) ? heap_ioctl_exit(ctx, ctx[3]) : 0;
}
#endif /* COLL_FSESSION */

#ifndef COLL_TRACING_ONLY
SEC("kprobe/dma_heap_ioctl")
int BPF_KPROBE(dma_heap_ioctl_kprobe, struct file *file, unsigned int cmd, unsigned long arg)
{
	return heap_ioctl_enter(file, cmd, arg, false);
}

SEC("kretprobe/dma_heap_ioctl")
int BPF_KRETPROBE(dma_heap_ioctl_kretprobe, long ret)
{
	return heap_ioctl_exit(ctx, ret);
}
#endif

/*
 * Keep a buffer exported while tracing: in its slot when free, else in the
 * spill map. @agg: its aggregate; @born_ns: when (the start of the ioctl
 * that made it, in aggregate mode: its clock read); @f: the task's call in
 * progress, if any (its name is kept there); the rest is the current task's.
 */
static __always_inline void buffer_add(__u64 ino, __u64 bytes, __u64 cgroup_id, __u32 agg,
				       __u64 born_ns, struct inflight *f)
{
	struct coll_buf *b = slot_of(ino), spill;

	if (b && !__sync_val_compare_and_swap(&b->key, 0, ino)) {
		__u32 run = (ino & (COLL_SLOTS - 1)) / COLL_SLOTS_PER_MARK;
		__u64 *used = &slots_used[run / 64], bit = 1ULL << (run % 64);

		if (!(*used & bit))
			__sync_fetch_and_or(used, bit);
		ordered_add(&b->seq, 1);
	} else {
		/* zeroed here only: a slot's every field is written below */
		__builtin_memset(&spill, 0, sizeof(spill));
		b = &spill;
		b->key = ino;
	}
	b->agg = agg;
	b->born_ns = born_ns ? born_ns : bpf_ktime_get_ns();
	b->cgroup_id = cgroup_id;
	b->charged_cgroup_id = 0;
	b->bytes = bytes;
	b->tgid = bpf_get_current_task_btf()->tgid;	/* a load, not a helper call */
	task_comm(f, b->comm);
	b->ino = ino;
	if (b != &spill) {
		ordered_add(&b->seq, 1);
	} else if (bpf_map_update_elem(&buffers_spill, &ino, &spill, BPF_ANY)) {
		__sync_fetch_and_add(&lost[LOST_BUFFERS], 1);
	} else {
		__sync_fetch_and_add(&spilled, 1);
	}
}

/* what a release tells of its buffer */
struct released {
	__u64 born_ns;
	__u64 bytes;
	__u64 cgroup_id;
	__u32 agg;
};

/* take a released buffer out of its slot or the spill map; false when not kept */
static __always_inline bool buffer_take(__u64 ino, struct released *r)
{
	bool in_slot;
	struct coll_buf *b = buffer_find(ino, &in_slot);

	if (!b)
		return false;
	if (in_slot)
		ordered_add(&b->seq, 1);
	r->born_ns = b->born_ns;
	r->bytes = b->bytes;
	r->cgroup_id = b->cgroup_id;
	r->agg = b->agg;
	if (in_slot) {
		b->ino = 0;
		ordered_add(&b->seq, 1);
		b->key = 0;	/* free for the next buffer */
	} else {
		bpf_map_delete_elem(&buffers_spill, &ino);
	}
	return true;
}

/* the exporter's name, from its aggregate, else from the buffer */
static __always_inline void event_name(struct coll_event *e, const struct coll_agg_entry *a,
				       __u64 name_ptr)
{
	if (a && a->ready)
		__builtin_memcpy(e->name, a->name, sizeof(e->name));
	else if (name_ptr)
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), (void *)name_ptr);
}

static __always_inline void on_export(struct dma_buf *dmabuf, bool btf)
{
	struct inflight *f = inflight_of(false);
	struct coll_agg_entry *a;
	__u64 bytes, ino, name_ptr, cgroup_id = bpf_get_current_cgroup_id();
	struct coll_event *e;
	__u64 born_ns = 0;
	bool folded;
	__u32 agg;

	if (btf) {
		bytes = dmabuf->size;
		ino = dmabuf->file->f_inode->i_ino;
		name_ptr = (__u64)dmabuf->exp_name;
	} else {
		bytes = BPF_CORE_READ(dmabuf, size);
		ino = BPF_CORE_READ(dmabuf, file, f_inode, i_ino);
		name_ptr = (__u64)BPF_CORE_READ(dmabuf, exp_name);
	}
	/* a heapstat heap's tracepoint, later in this ioctl, names the charge */
	if (f && f->in_heap_alloc)
		f->buf_ino = ino;
	/* a heap exports under its own name: the ioctl's exit tells it */
	folded = f && f->in_heap_alloc && name_ptr && name_ptr == f->heap_name_ptr;
	if (folded) {
		f->folded = 1;
		f->buf_bytes = bytes;
		agg = heap_agg(f, cgroup_id);
		born_ns = want_events ? 0 : f->start_ns;
	} else {
		agg = agg_of(cgroup_id, name_ptr, NULL);
	}
	/* one call of each whichever way: the verifier walks every inlined copy */
	buffer_add(ino, bytes, cgroup_id, agg, born_ns, f);
	log_change(LOG_EXPORT, ino, bytes, agg);
	if (folded)
		return;
	a = bpf_map_lookup_elem(&aggs, &agg);
	if (a) {
		__sync_fetch_and_add(&a->agg.exports, 1);
		__sync_fetch_and_add(&a->agg.export_bytes, bytes);
	}
	if (!want_events)
		return;
	e = event_new(EV_BUF_EXPORT, NULL);
	if (!e)
		return;
	e->bytes = e->buf_bytes = bytes;
	e->ino = ino;
	event_name(e, a, name_ptr);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* 7.0+: the dma_buf_export tracepoint */
SEC("tp_btf/dma_buf_export")
int BPF_PROG(dma_buf_export_tp, struct dma_buf *dmabuf)
{
	on_export(dmabuf, true);
	return 0;
}

/* older kernels */
SEC("fexit/dma_buf_export")
int BPF_PROG(dma_buf_export_fexit, const struct dma_buf_export_info *info, struct dma_buf *ret)
{
	if ((unsigned long)ret < (unsigned long)-4095)	/* !IS_ERR */
		on_export(ret, true);
	return 0;
}

/* kernels without BPF trampolines */
#ifndef COLL_TRACING_ONLY
SEC("kretprobe/dma_buf_export")
int BPF_KRETPROBE(dma_buf_export_kretprobe, struct dma_buf *ret)
{
	if ((unsigned long)ret < (unsigned long)-4095)
		on_export(ret, false);
	return 0;
}
#endif

/*
 * A final release: the dma-buf's file is released once, when its last
 * reference goes (a dma-buf's references are its file's). What the export
 * kept, else what the buffer says.
 */
static __always_inline int on_release(struct inode *inode, struct file *file, bool btf)
{
	__u64 dmabuf = btf ? (__u64)file->private_data : (__u64)BPF_CORE_READ(file, private_data);
	__u64 ino = btf ? inode->i_ino : BPF_CORE_READ(inode, i_ino);
	struct coll_agg_entry *a;
	struct released buf;
	struct coll_event *e;
	__u64 name_ptr = 0;

	if (!dmabuf)	/* the export failed after making the file */
		return 0;
	if (!buffer_take(ino, &buf)) {	/* exported before tracing: cgroup 0, lifetime 0 */
		buf.born_ns = 0;
		buf.bytes = BPF_CORE_READ((struct dma_buf *)dmabuf, size);
		name_ptr = (__u64)BPF_CORE_READ((struct dma_buf *)dmabuf, exp_name);
		buf.agg = agg_of(0, name_ptr, NULL);
	}
	log_change(LOG_RELEASE, ino, 0, 0);
	/* the histogram before the counts: user space reads it when they moved */
	if (!want_events && buf.born_ns)
		hist_life(buf.agg, bpf_ktime_get_ns() - buf.born_ns);
	a = bpf_map_lookup_elem(&aggs, &buf.agg);
	if (a) {
		__sync_fetch_and_add(&a->agg.frees, 1);
		__sync_fetch_and_add(&a->agg.free_bytes, buf.bytes);
	}
	if (!want_events)
		return 0;
	e = event_new(EV_BUF_RELEASE, NULL);
	if (e) {
		e->latency_ns = buf.born_ns ? e->ts_ns - buf.born_ns : 0;
		e->cgroup_id = buf.born_ns ? buf.cgroup_id : 0;	/* the exporter's, as its aggregate */
		e->bytes = e->buf_bytes = buf.bytes;
		e->ino = ino;
		if (!a && !name_ptr)	/* kept with no aggregate (they were full): its own */
			name_ptr = (__u64)BPF_CORE_READ((struct dma_buf *)dmabuf, exp_name);
		event_name(e, a, name_ptr);
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	return 0;
}

SEC("fentry/dma_buf_file_release")
int BPF_PROG(dma_buf_release, struct inode *inode, struct file *file)
{
	return on_release(inode, file, true);
}

#ifndef COLL_TRACING_ONLY
SEC("kprobe/dma_buf_file_release")
int BPF_KPROBE(dma_buf_release_kprobe, struct inode *inode, struct file *file)
{
	return on_release(inode, file, false);
}
#endif

/*
 * Holder changes (7.0+, where the dma_buf tracepoints are): raw tracepoints
 * in either attach mode, the arguments unread; exit_files() returns once an
 * exiting task's fds are closed and its mappings gone.
 */
#define ATTACH_TP(tp)						\
SEC("raw_tp/" #tp)						\
int tp##_raw(void *ctx)						\
{								\
	REFUSED_IN_TESTS(COLL_FEAT_HOLDERS);			\
	log_change(LOG_ATTACH, 0, 0, 0);			\
	return 0;						\
}
ATTACH_TP(dma_buf_dynamic_attach)
ATTACH_TP(dma_buf_detach)

/*
 * The fd and mapping tracepoints: holders changed, and for a recorder
 * (want_fds, off: the verifier drops the rest) an event. ctx holds the
 * tracepoint's arguments: the dma_buf, and the fd for the first two (a
 * program reading past them would not attach).
 */
static __always_inline int fd_event(struct dma_buf *dmabuf, __u32 kind, int fd)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct coll_event *e;

	REFUSED_IN_TESTS(COLL_FEAT_FDS);
	holders_changed(tgid);
	/* a holder now: its forks, execs, moves and exit count from here on,
	 * not from when user space lists it (a fork before would be missed) */
	if (want_log && !holders_all && !bpf_map_lookup_elem(&holder_tgids, &tgid))
		holder_add(tgid);
	if (!want_fds)
		return 0;
	e = event_new(EV_BUF_FD, NULL);
	if (!e)
		return 0;
	e->ino = BPF_CORE_READ(dmabuf, file, f_inode, i_ino);
	e->buf_bytes = BPF_CORE_READ(dmabuf, size);
	e->fd_kind = kind;
	e->fd = fd;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/dma_buf_fd")
int dma_buf_fd_raw(__u64 *ctx)
{
	return fd_event((struct dma_buf *)ctx[0], FD_MADE, (int)ctx[1]);
}

SEC("raw_tp/dma_buf_get")
int dma_buf_get_raw(__u64 *ctx)
{
	return fd_event((struct dma_buf *)ctx[0], FD_TAKEN, (int)ctx[1]);
}

SEC("raw_tp/dma_buf_mmap_internal")
int dma_buf_mmap_internal_raw(__u64 *ctx)
{
	return fd_event((struct dma_buf *)ctx[0], FD_MMAP, -1);
}

SEC("raw_tp/dma_buf_mmap")
int dma_buf_mmap_raw(__u64 *ctx)
{
	return fd_event((struct dma_buf *)ctx[0], FD_MMAP, -1);
}

/*
 * The child inherits the parent's fds and mappings: the child changed, and
 * is a holder from here on, so that a fork of its own before user space
 * lists it counts too.
 */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(sched_process_fork_raw, struct task_struct *parent, struct task_struct *child)
{
	__u32 holder = bpf_get_current_pid_tgid() >> 32;
	__u32 tgid = BPF_CORE_READ(child, tgid);

	REFUSED_IN_TESTS(COLL_FEAT_HOLDERS);
	if (!holders_all && !bpf_map_lookup_elem(&holder_tgids, &holder))
		return 0;
	holders_changed(tgid);
	if (want_log && !holders_all && tgid != holder)
		holder_add(tgid);
	return 0;
}

/* current is the task that execs */
SEC("raw_tp/sched_process_exec")
int sched_process_exec_raw(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	REFUSED_IN_TESTS(COLL_FEAT_HOLDERS);
	holder_changed(tgid, tgid);
	return 0;
}

SEC("raw_tp/cgroup_attach_task")
int BPF_PROG(cgroup_attach_task_raw, struct cgroup *dst, const char *path, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	REFUSED_IN_TESTS(COLL_FEAT_HOLDERS);
	holder_changed(tgid, tgid);
	return 0;
}

/*
 * The cgroup tree changed: a live view names cgroups from its last walk of
 * the tree, and walks it again only when this count moved (cgroup2 has no
 * rename). The paths of those removed: cgroup_names.bpf.c.
 */
static __always_inline int cgroup_changed(void)
{
	REFUSED_IN_TESTS(COLL_FEAT_HOLDERS);
	__sync_fetch_and_add(&cgroup_changes, 1);
	return 0;
}

SEC("raw_tp/cgroup_mkdir")
int cgroup_mkdir_raw(void *ctx)
{
	return cgroup_changed();
}

SEC("raw_tp/cgroup_rmdir")
int cgroup_rmdir_raw(void *ctx)
{
	return cgroup_changed();
}

/* a task's fds closed as it exits: its process is gone with the last one
 * (signal->live fell to 0 before), and leaves the holders */
static __always_inline void on_exit_files(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;

	REFUSED_IN_TESTS(COLL_FEAT_HOLDERS);
	holder_changed(tgid, tgid);
	if (want_log && !BPF_CORE_READ(task, signal, live.counter))
		bpf_map_delete_elem(&holder_tgids, &tgid);
}

SEC("fexit/exit_files")
int BPF_PROG(exit_files_fexit, struct task_struct *tsk)
{
	on_exit_files();
	return 0;
}

#ifndef COLL_TRACING_ONLY
SEC("kretprobe/exit_files")
int BPF_KRETPROBE(exit_files_kretprobe)
{
	on_exit_files();
	return 0;
}
#endif

/*
 * heapstat heaps (when loaded): the cgroup their accounting charged, raw
 * tracepoints of a module, attached only when heapstat_core is loaded.
 */
SEC("raw_tp/heap_alloc")
int BPF_PROG(heapstat_heap_alloc, const char *heap, unsigned long len, unsigned long alloc_len,
	     __u32 fd_flags, __u64 heap_flags, __u64 duration_ns, int err, __u64 cgroup_id,
	     unsigned long ino)
{
	struct inflight *f;
	struct coll_buf *b;
	struct coll_agg *a;
	bool in_slot;

	REFUSED_IN_TESTS(COLL_FEAT_HEAP_TP);
	if (err || !cgroup_id)
		return 0;
	a = agg_at(agg_of(cgroup_id, (__u64)heap, NULL));
	if (a)
		__sync_fetch_and_add(&a->charged_bytes, alloc_len);
	f = inflight_of(false);
	if (!f || !f->in_heap_alloc || !f->buf_ino)
		return 0;
	b = buffer_find(f->buf_ino, &in_slot);
	if (!b)
		return 0;
	if (in_slot)
		ordered_add(&b->seq, 1);
	b->charged_cgroup_id = cgroup_id;
	if (in_slot)
		ordered_add(&b->seq, 1);
	return 0;
}

SEC("raw_tp/heap_free")
int BPF_PROG(heapstat_heap_free, const char *heap, unsigned long len, unsigned long ino,
	     __u64 lifetime_ns, __u64 cgroup_id)
{
	struct coll_agg *a;

	REFUSED_IN_TESTS(COLL_FEAT_HEAP_TP);
	if (!cgroup_id)
		return 0;
	a = agg_at(agg_of(cgroup_id, (__u64)heap, NULL));
	if (a)
		__sync_fetch_and_sub(&a->charged_bytes, len);
	return 0;
}

/*
 * The counts of the CMA area whose name is at name_ptr, made on first use;
 * COLL_NO_AGG when full. Two CPUs making the same one each take an entry:
 * the one whose index is not kept stays at zero.
 */
static __always_inline __u32 cma_area_of(__u64 name_ptr)
{
	struct coll_cma_entry *a;
	__u32 *idx, i;

	idx = bpf_map_lookup_elem(&cma_index, &name_ptr);
	if (idx)
		return *idx;
	if (ncma_aggs >= COLL_CMA_AREAS)	/* as agg_of() */
		goto full;
	i = __sync_fetch_and_add(&ncma_aggs, 1);
	a = bpf_map_lookup_elem(&cma_aggs, &i);
	if (!a)
		goto full;
	a->name_ptr = name_ptr;
	bpf_probe_read_kernel_str(a->name, sizeof(a->name), (void *)name_ptr);
	ordered_add(&a->ready, 1);	/* after the name: user space reads it first */
	if (!bpf_map_update_elem(&cma_index, &name_ptr, &i, BPF_NOEXIST))
		return i;
	idx = bpf_map_lookup_elem(&cma_index, &name_ptr);
	if (idx)
		return *idx;
full:
	__sync_fetch_and_add(&lost[LOST_CMA_AREAS], 1);
	return COLL_NO_AGG;
}

static __always_inline struct coll_cma_entry *cma_agg(const char *name)
{
	__u32 i = cma_area_of((__u64)name);

	return bpf_map_lookup_elem(&cma_aggs, &i);	/* NULL for COLL_NO_AGG */
}

/* bits first..last (inclusive) of one area's map, from its word base on */
struct cma_bits_op {
	__u64 first, last;
	__u32 base;
	__u32 used;
};

/* one word of the range: the bits in it marked written, then set or cleared */
static long cma_bits_word(__u32 i, void *ctx)
{
	struct cma_bits_op *op = ctx;
	__u64 w = op->first / COLL_CMA_WORD_BITS + i, mask;
	__u32 lo = w == op->first / COLL_CMA_WORD_BITS ? op->first % COLL_CMA_WORD_BITS : 0;
	__u32 hi = w == op->last / COLL_CMA_WORD_BITS ? op->last % COLL_CMA_WORD_BITS : 31;
	__u32 key = op->base + w;
	__u64 *word = bpf_map_lookup_elem(&cma_bits, &key);

	if (!word)
		return 1;
	mask = ((2ULL << (hi & 31)) - 1) & ~((1ULL << (lo & 31)) - 1);
	if (op->used) {
		__sync_fetch_and_or(word, mask | mask << 32);
	} else {
		/* marked before cleared: a seed in between keeps the bit as it is */
		__sync_fetch_and_or(word, mask << 32);
		__sync_fetch_and_and(word, ~mask);
	}
	return 0;
}

/*
 * Pages [pfn, pfn + count) allocated (used) or free again, in the map of the
 * area holding them, as cma_range_alloc() and cma_clear_bitmap() mark them.
 * One loop turn per 32 bits of the range (128 KiB of pages a bit per page).
 */
static __always_inline void cma_mark(__u64 pfn, __u64 count, bool used)
{
	struct cma_bits_op op = { .used = used };

	if (!count)
		return;
	for (__u32 i = 0; i < COLL_CMA_MAPS && i < ncma_maps; i++) {
		__u64 base = cma_maps[i].base_pfn, nbits = cma_maps[i].nbits;
		__u32 order = cma_maps[i].order_per_bit & 31;

		if (pfn < base || (pfn - base) >> order >= nbits)
			continue;
		op.first = (pfn - base) >> order;
		op.last = (pfn - base + count - 1) >> order;
		if (op.last >= nbits)
			op.last = nbits - 1;
		op.base = cma_maps[i].first_word;
		bpf_loop(op.last / COLL_CMA_WORD_BITS - op.first / COLL_CMA_WORD_BITS + 1,
			 cma_bits_word, &op, 0);
		return;
	}
}

static __always_inline int on_cma_alloc_start(unsigned long count, unsigned long available)
{
	struct inflight *f = inflight_of(true);

	if (!f)
		return 0;
	f->cma_start_ns = bpf_ktime_get_ns();
	f->cma_request = count;
	f->cma_available = cma_start_tells_free ? available : 0;
	f->cma_busy = 0;
	f->cma_pending = 1;
	return 0;
}

/* the range cma_range_alloc() had marked is clear again: it tries another */
static __always_inline int on_cma_busy_retry(const char *name, unsigned long pfn,
					     unsigned long count)
{
	struct inflight *f = inflight_of(false);
	struct coll_cma_entry *a = cma_agg(name);

	if (f)
		f->cma_busy++;
	if (a)
		__sync_fetch_and_add(&a->agg.busy_retries, 1);
	cma_mark(pfn, count, false);
	return 0;
}

static __always_inline int on_cma_alloc_finish(const char *name, unsigned long pfn,
					       unsigned long count, int err)
{
	struct inflight *f = inflight_of(false);
	struct coll_cma_entry *a = cma_agg(name);
	struct coll_event *e = want_events || err ? event_new(EV_CMA_ALLOC, NULL) : NULL;
	__u64 now = e ? e->ts_ns : bpf_ktime_get_ns(), lat = 0;

	if (f && f->cma_pending) {
		lat = now - f->cma_start_ns;
		f->cma_pending = 0;
	}
	if (f)
		f->cma_failed = err != 0;
	if (f && err && !cma_start_tells_free) {
		bool known;

		f->cma_available = cma_free_pages(name, &known);
		if (!known)	/* classed capacity: it cannot be told apart */
			f->cma_available = 0;
	}
	if (a) {
		if (err) {
			__sync_fetch_and_add(&a->agg.failures, 1);
			__sync_fetch_and_add(&a->agg.fail_pages, count);
		} else {
			__sync_fetch_and_add(&a->agg.allocs, 1);
			__sync_fetch_and_add(&a->agg.alloc_pages, count);
		}
		if (lat && !want_events)
			hist_lat(a->lat, lat);
	}
	if (!err)
		cma_mark(pfn, count, true);
	if (e) {
		e->err = err;
		e->pfn = pfn;
		e->bytes = count * page_size;
		e->latency_ns = lat;
		if (f) {
			e->cma_busy = f->cma_busy;
			e->cma_request = f->cma_request;
			e->cma_available = f->cma_available;
		}
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	return 0;
}

static __always_inline int on_cma_release(const char *name, unsigned long pfn, unsigned long count)
{
	struct coll_cma_entry *a = cma_agg(name);
	struct coll_event *e;

	if (a) {
		__sync_fetch_and_add(&a->agg.releases, 1);
		__sync_fetch_and_add(&a->agg.release_pages, count);
	}
	cma_mark(pfn, count, false);
	if (!want_events)
		return 0;
	e = event_new(EV_CMA_RELEASE, NULL);
	if (!e)
		return 0;
	e->pfn = pfn;
	e->bytes = count * page_size;
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* the CMA tracepoints, through BTF (tp_btf) or not (raw_tp) */
#define CMA_PROGS(kind, sfx)									\
SEC(#kind "/cma_alloc_start")									\
int BPF_PROG(cma_alloc_start##sfx, const char *name, unsigned long count,			\
	     unsigned long available, unsigned long total, unsigned int align)			\
{												\
	REFUSED_IN_TESTS(COLL_FEAT_CMA);							\
	return on_cma_alloc_start(count, available);						\
}												\
SEC(#kind "/cma_alloc_busy_retry")								\
int BPF_PROG(cma_alloc_busy_retry##sfx, const char *name, unsigned long pfn,			\
	     const struct page *page, unsigned long count, unsigned int align)			\
{												\
	REFUSED_IN_TESTS(COLL_FEAT_CMA_BUSY);							\
	return on_cma_busy_retry(name, pfn, count);						\
}												\
SEC(#kind "/cma_alloc_finish")									\
int BPF_PROG(cma_alloc_finish##sfx, const char *name, unsigned long pfn,			\
	     const struct page *page, unsigned long count, unsigned int align, int err)		\
{												\
	REFUSED_IN_TESTS(COLL_FEAT_CMA);							\
	return on_cma_alloc_finish(name, pfn, count, err);					\
}												\
SEC(#kind "/cma_release")									\
int BPF_PROG(cma_release##sfx, const char *name, unsigned long pfn,				\
	     const struct page *page, unsigned long count)					\
{												\
	REFUSED_IN_TESTS(COLL_FEAT_CMA);							\
	return on_cma_release(name, pfn, count);						\
}

CMA_PROGS(tp_btf, )
CMA_PROGS(raw_tp, _raw)

char LICENSE[] SEC("license") = "GPL";
