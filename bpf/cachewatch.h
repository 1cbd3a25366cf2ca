/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Types shared by the BPF programs (cachewatch.bpf.c) and the daemon: map
 * keys and values, event records, the cause and loss enumerations.  Plain
 * fixed-width integers only, no kernel or libbpf headers, every padding byte
 * spelled out: the daemon asserts the sizes, so the two sides cannot drift.
 */
#ifndef CACHEWATCH_H
#define CACHEWATCH_H

/*
 * Why a page left the page cache.  The numbers are stored in the database
 * (table `causes` maps them to names): append only, never renumber.
 */
enum cw_cause {
	CW_CAUSE_OTHER = 0,        /* none of the below (e.g. inode reclaim by a kthread) */
	CW_CAUSE_LIMIT = 1,        /* charge hit v1 limit_in_bytes / v2 memory.max */
	CW_CAUSE_LIMIT_SHRINK = 2, /* a writer lowered the limit */
	CW_CAUSE_HIGH = 3,         /* v2 memory.high, in the task or its kworker */
	CW_CAUSE_PROACTIVE = 4,    /* memory.reclaim, node reclaim, v1 force_empty */
	CW_CAUSE_PAGEOUT = 5,      /* DAMON pageout, MADV_PAGEOUT (reclaim_pages()) */
	CW_CAUSE_KSWAPD = 6,       /* background global reclaim */
	CW_CAUSE_DIRECT = 7,       /* global direct reclaim by an allocating task */
	CW_CAUSE_DROP_CACHES = 8,  /* write to /proc/sys/vm/drop_caches */
	CW_CAUSE_INVALIDATE = 9,   /* fadvise DONTNEED, O_DIRECT, invalidation */
	CW_CAUSE_TRUNCATE = 10,    /* truncate, O_TRUNC, unlink, rename over */
	CW_CAUSE_MAX,
};

/*
 * Device number (kernel encoding) the daemon gives the rows of small files
 * it sums into one "(other files)" row per key; no real device has it.
 */
#define CW_DEV_OTHER 0xffffffffU

/* Cause recorded for plain additions that were not refaults. */
#define CW_CAUSE_NONE 0xff

/*
 * Kernel-side counters, indices into the `counters` per-CPU array.  The
 * CW_LOST_* ones count records that were lost; the others measure.
 */
enum cw_counter {
	CW_LOST_EVICT_MAP_FULL = 0,   /* eviction aggregate map full */
	CW_LOST_ADD_MAP_FULL = 1,     /* addition aggregate map full */
	CW_LOST_REFAULT_MAP_FULL = 2, /* refault aggregate map full */
	CW_LOST_SHADOW_UPDATE = 3,    /* unused since the shadow table is an array */
	CW_LOST_RINGBUF = 4,          /* ring buffer reserve failed */
	CW_LOST_EXEC_SET = 5,         /* exec-inode set update failed */
	CW_COUNT_SHADOW_DISPLACED = 6, /* remembered eviction overwritten before its page
					* came back: a refault that may go unseen */
	CW_COUNTER_MAX,
};

#define CW_LOST_MAX CW_COUNT_SHADOW_DISPLACED /* counters below are losses */

/* Bits of cw_evict_key.flags and cw_refault_key.flags. */
#define CW_FLAG_EXEC 0x1 /* page covered by a VM_EXEC mapping, or file in exec set */
#define CW_FLAG_BDEV 0x2 /* block-device page (filesystem metadata): dev = the disk, ino = 0 */
#define CW_FLAG_SAMPLED 0x4 /* refault of a sampled page: counts for 1 << sample_shift pages */

/* How the delete program learns the reclaim context (rodata, set by the loader). */
enum cw_reclaim_ctx {
	CW_RECLAIM_SCAN_CONTROL = 0, /* current->reclaim_state -> struct scan_control */
	CW_RECLAIM_BRACKETS = 1,     /* mm_vmscan_*_reclaim_begin/end per-task flags */
};

/* Per-task bracket bits (fallback mode only). */
#define CW_BRACKET_MEMCG 0x1
#define CW_BRACKET_DIRECT 0x2
#define CW_BRACKET_NODE 0x4

/*
 * Eviction aggregate: one entry per (victim memcg, reclaim root, reclaimer,
 * file, cause, exec) per interval.  cgroup ids are kernfs ids (the inode
 * number of the cgroup directory); 0 = none (no reclaim root: global or not
 * reclaim).  dev is the kernel's s_dev encoding.
 */
struct cw_evict_key {
	__u64 victim;
	__u64 root;
	__u64 reclaimer;
	__u64 ino;
	__u32 dev;
	__u32 gen;
	__u8 cause;
	__u8 flags;
	__u16 pad1;
	__u32 pad2;
};

struct cw_counts {
	__u64 events; /* folios */
	__u64 pages;  /* 4 KiB pages: a folio counts 1 << order */
};

/* Addition aggregate: one entry per (memcg charged, file) per interval. */
struct cw_add_key {
	__u64 memcg;
	__u64 ino;
	__u32 dev;
	__u32 gen;
};

/*
 * Remembered evictions, in a two-way set-associative table (an array of
 * 64-byte sets, indexed by a hash of the folio's first page): an addition
 * of a folio starting at the same page of the same file is a refault.  A
 * full set gives its older entry to a newer eviction, so the table behaves
 * like a cache of recent evictions with no locks and no allocation on the
 * hot path.  The page is known by a 64-bit hash of (dev, ino, gen, index).
 * cgroup ids keep their low 32 bits: the high bits are kernfs's id
 * generation, the same for every cgroup of a hierarchy until 2^31 cgroups
 * have been created; the refault takes them from the cgroup it is charged to.
 */
struct cw_shadow {
	__u64 check;    /* page hash; 0 = empty or consumed */
	__u64 evict_ns; /* bpf_ktime_get_ns() at eviction */
	__u32 victim;
	__u32 root;
	__u32 reclaimer;
	__u32 seq_cause_flags; /* interval seq (low 24 bits) | cause << 24 | flags << 29 */
};

#define CW_SHADOW_WAYS 2

struct cw_shadow_set {
	struct cw_shadow way[CW_SHADOW_WAYS];
};

#define CW_SEQ_BITS 24
#define CW_SEQ_MASK ((1U << CW_SEQ_BITS) - 1)

/*
 * Refault aggregate: pages re-added after an eviction seen by cachewatch,
 * keyed by who got them back and by the eviction they undo (its victim,
 * root, reclaimer, cause, exec flag and interval), so the daemon can credit
 * them to exactly the eviction row they came from.
 */
struct cw_refault_key {
	__u64 memcg;
	__u64 victim;
	__u64 root;
	__u64 reclaimer;
	__u64 ino;
	__u32 dev;
	__u32 gen;
	__u32 evict_seq;
	__u8 cause;
	__u8 flags;
	__u16 pad;
};

/*
 * Eviction -> refault time histogram: bucket b counts refaults whose
 * distance d (in microseconds) satisfies CW_HIST_LOWER_US(b) <= d <
 * CW_HIST_LOWER_US(b + 1).  Two buckets per power of two from 1 us; the
 * first bucket also takes everything below 1 us, the last everything
 * above ~2^31 us (35 min).
 */
#define CW_HIST_BUCKETS 64

struct cw_refault_val {
	__u64 events;
	__u64 pages;
	__u32 hist[CW_HIST_BUCKETS]; /* pages per distance bucket */
};

/* Ring-buffer records: rare events only (cgroup creation and removal). */
enum cw_event_type {
	CW_EVENT_CGROUP_MKDIR = 1,
	CW_EVENT_CGROUP_RMDIR = 2,
};

#define CW_CGROUP_PATH_MAX 512

struct cw_cgroup_event {
	__u32 type;
	__u32 pad;
	__u64 id;
	__u64 ns; /* bpf_ktime_get_ns() */
	char path[CW_CGROUP_PATH_MAX];
};

/*
 * Record written by the iter/task_vma program for each executable file it
 * sees for the first time: the file and one process mapping it (to read the
 * path that process sees from /proc/PID/maps).
 */

struct cw_exec_vma {
	__u64 ino;
	__u32 dev;
	__u32 gen;
	__u64 start; /* vm_start of the mapping */
	__u64 memcg; /* the mapping task's memory cgroup */
	__u32 tgid;
	__u32 pad;
};

/*
 * A file: key of the exec-inode set (value: last time seen mapped
 * executable, ns) and of the truncation map (value: last truncation, ns).
 */
struct cw_inode_key {
	__u64 ino;
	__u32 dev;
	__u32 gen;
};

#endif
