// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatch's BPF programs.  Every folio that enters or leaves the page
 * cache passes through mm_filemap_add_to_page_cache / _delete_from_page_cache
 * (tp_btf: typed struct folio *, no tracefs needed).  Each event is folded
 * into per-interval aggregate maps in the kernel; user space drains them once
 * an interval.  Nothing on the hot path wakes user space.
 *
 * Aggregates are double-buffered: bit 0 of interval_seq (written by the
 * daemon) selects the maps that are being filled, and the daemon drains the
 * other pair after flipping it, so no update can race with a delete.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cachewatch.h"
#include "compat.bpf.h"
#include "exec.bpf.h"
#include "cause.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Hierarchy id of the memory controller (0 = the cgroup2 hierarchy). */
const volatile __u32 memcg_hierarchy_id = 0;
/* log2 of the kernel's page size, set by the loader (folio->index counts pages). */
const volatile __u32 page_shift = 12;
/* Set only by the degraded-load test: makes the verifier refuse the iterator. */
const volatile bool iter_refused_for_test = false;

/* Interval sequence number; bit 0 selects the active aggregate maps. */
__u32 interval_seq = 0;

#define DEFINE_AGG_MAP(name, type_, key_t, val_t)                              \
	struct {                                                               \
		__uint(type, type_);                                           \
		__uint(max_entries, 16384);                                    \
		__type(key, key_t);                                            \
		__type(value, val_t);                                          \
	} name SEC(".maps")

DEFINE_AGG_MAP(evict_0, BPF_MAP_TYPE_PERCPU_HASH, struct cw_evict_key, struct cw_counts);
DEFINE_AGG_MAP(evict_1, BPF_MAP_TYPE_PERCPU_HASH, struct cw_evict_key, struct cw_counts);
DEFINE_AGG_MAP(add_0, BPF_MAP_TYPE_PERCPU_HASH, struct cw_add_key, struct cw_counts);
DEFINE_AGG_MAP(add_1, BPF_MAP_TYPE_PERCPU_HASH, struct cw_add_key, struct cw_counts);
/* Refaults are fewer and carry a histogram: shared values, atomic adds. */
DEFINE_AGG_MAP(refault_0, BPF_MAP_TYPE_HASH, struct cw_refault_key, struct cw_refault_val);
DEFINE_AGG_MAP(refault_1, BPF_MAP_TYPE_HASH, struct cw_refault_key, struct cw_refault_val);

/* Recent reclaim evictions; sized by the daemon (a power of two of sets). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 131072);
	__type(key, __u32);
	__type(value, struct cw_shadow_set);
} shadow SEC(".maps");

/* Set mask of the shadow table: its size minus one (rodata, set by the loader). */
const volatile __u32 shadow_mask = 131072 - 1;

/*
 * Refault sampling (--refault-sample): executable pages are always
 * remembered; other pages only when the low sample_shift bits of their
 * hash are zero, and each refault found then stands for 1 << sample_shift.
 * Sampling by page hash keeps eviction and addition of a page consistent.
 */
const volatile __u32 sample_shift = 0;

static __always_inline bool sampled_out(__u64 page_h)
{
	return sample_shift && (page_h & ((1ULL << sample_shift) - 1));
}

/*
 * One-sided filters in front of the exec set and the truncation map: a bit
 * per hash of (dev, ino, gen), set when a file enters either, never
 * cleared.  A clear bit answers "no" with one array load, so the common
 * case (a file never mapped executable, never truncated) costs no hash
 * lookup; a set bit is checked in the map itself.
 */
#define CW_BLOOM_BITS (1 << 16)
#define CW_EVICTED_BLOOM_BITS (1 << 20)

enum cw_bloom { CW_BLOOM_EXEC, CW_BLOOM_TRUNCATED, CW_BLOOM_EVICTED };

/*
 * evicted: files with evictions in the shadow table.  Only their additions
 * can be refaults and only their truncations matter, so a new file (most
 * additions of a reader, every file of a create-write-delete churn) costs
 * one array load instead of a shadow-table miss and a truncation update.
 */
struct cw_blooms {
	__u64 exec[CW_BLOOM_BITS / 64];
	__u64 truncated[CW_BLOOM_BITS / 64];
	__u64 evicted[CW_EVICTED_BLOOM_BITS / 64];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cw_blooms);
} blooms SEC(".maps");

/* Files seen mapped executable (value: last time seen, ns). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cw_inode_key);
	__type(value, __u64);
} exec_inodes SEC(".maps");

/*
 * Files recently truncated (value: time, ns).  Truncation drops the
 * kernel's shadow entries of the file; an eviction remembered from before
 * it is no refault when the page comes back.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cw_inode_key);
	__type(value, __u64);
} truncated SEC(".maps");

/* Cumulative counters, indexed by enum cw_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Rare events (cgroup mkdir/rmdir), consumed as they come. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline void count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &what);

	if (n)
		(*n)++;
}

#define count_lost count

static __always_inline __u64 mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static __always_inline __u64 file_hash(__u64 ino, __u32 dev, __u32 gen)
{
	return mix64(ino ^ ((__u64)dev << 32) ^ ((__u64)gen * 0x9e3779b97f4a7c15ULL));
}

static __always_inline __u64 page_hash(__u64 file, __u64 index)
{
	return mix64(file + index * 0xc2b2ae3d27d4eb4fULL);
}

/* Bloom bit of a file in one of the filters; NULL word if unavailable. */
static __always_inline __u64 *bloom_word(enum cw_bloom which, __u64 fh, __u64 *bit)
{
	struct cw_blooms *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&blooms, &zero);
	if (!b)
		return NULL;
	*bit = 1ULL << (fh & 63);
	switch (which) {
	case CW_BLOOM_EXEC:
		return &b->exec[(fh >> 6) & (CW_BLOOM_BITS / 64 - 1)];
	case CW_BLOOM_TRUNCATED:
		return &b->truncated[(fh >> 6) & (CW_BLOOM_BITS / 64 - 1)];
	default:
		return &b->evicted[(fh >> 6) & (CW_EVICTED_BLOOM_BITS / 64 - 1)];
	}
}

static __always_inline void bloom_set(enum cw_bloom which, __u64 fh)
{
	__u64 bit, *w = bloom_word(which, fh, &bit);

	if (w && !(*w & bit))
		__sync_fetch_and_or(w, bit);
}

static __always_inline bool bloom_test(enum cw_bloom which, __u64 fh)
{
	__u64 bit, *w = bloom_word(which, fh, &bit);

	return !w || (*w & bit);
}

/* Find the key's value, inserting a zeroed one if absent; NULL if full. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero,
					    __u32 why)
{
	void *v = bpf_map_lookup_elem(map, key);
	long err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU inserted it */) {
		count_lost(why);
		return NULL;
	}
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		count_lost(why);
	return v;
}

static __always_inline void add_counts(struct cw_counts *c, __u64 pages)
{
	if (c) { /* per-CPU value: no atomics needed */
		c->events++;
		c->pages += pages;
	}
}

/*
 * Identify the file behind the folio.  Returns false for pages cachewatch
 * does not account: shmem/tmpfs (not reclaimable page cache in the sense of
 * this tool) and folios without an inode.  Block-device pages (filesystem
 * metadata) are kept, labelled, and keyed by the disk's device number.
 */
static __always_inline bool folio_file(struct folio *f, __u64 *ino, __u32 *dev, __u32 *gen,
				       __u8 *flags)
{
	struct inode *host = f->mapping->host;
	struct super_block *sb;

	if (!host)
		return false;
	sb = host->i_sb;
	/* Memory-backed filesystems: nothing to reclaim to disk, not page cache here. */
	if (sb->s_magic == TMPFS_MAGIC || sb->s_magic == RAMFS_MAGIC ||
	    sb->s_magic == HUGETLBFS_MAGIC)
		return false;
	if (sb->s_magic == BDEVFS_MAGIC) {
		*flags |= CW_FLAG_BDEV;
		*dev = host->i_rdev;
		*ino = 0;
		*gen = 0;
		return true;
	}
	*dev = sb->s_dev;
	*ino = host->i_ino;
	*gen = host->i_generation;
	return true;
}

/*
 * A page is executable when a VM_EXEC mapping covers it now; a file nobody
 * maps any more counts as executable when it was seen mapped so (the exec
 * set, which live positives also feed, so short-lived processes count).
 */
static __always_inline bool file_is_exec(struct address_space *m, unsigned long index,
					 struct cw_inode_key *ik, __u64 fh)
{
	__u64 now;

	if (!m->i_mmap.rb_root.rb_node)
		return bloom_test(CW_BLOOM_EXEC, fh) && bpf_map_lookup_elem(&exec_inodes, ik);
	if (!immap_exec_covers(m, index))
		return false;
	if (!bloom_test(CW_BLOOM_EXEC, fh) || !bpf_map_lookup_elem(&exec_inodes, ik)) {
		now = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&exec_inodes, ik, &now, BPF_ANY))
			count_lost(CW_LOST_EXEC_SET);
		bloom_set(CW_BLOOM_EXEC, fh);
	}
	return true;
}

/*
 * Remember that the file was truncated (at most once a millisecond), if it
 * has evictions remembered that the truncation makes void.
 */
static __always_inline void note_truncation(struct cw_inode_key *ik, __u64 fh)
{
	__u64 now, *last = NULL;

	if (!bloom_test(CW_BLOOM_EVICTED, fh))
		return;
	now = bpf_ktime_get_ns();

	if (bloom_test(CW_BLOOM_TRUNCATED, fh))
		last = bpf_map_lookup_elem(&truncated, ik);
	if (last && now - *last < 1000000)
		return;
	bpf_map_update_elem(&truncated, ik, &now, BPF_ANY);
	bloom_set(CW_BLOOM_TRUNCATED, fh);
}

/* Page hash as stored in the shadow table (0 means empty). */
static __always_inline __u64 shadow_check(__u64 h)
{
	return h ? h : 1;
}

/* Remember a reclaim eviction, giving the older entry of a full set away. */
static __always_inline void remember_eviction(struct cw_evict_key *k, __u64 fh,
					      unsigned long index, __u32 seq)
{
	__u64 h = page_hash(fh, index), check = shadow_check(h);
	__u32 set = h & shadow_mask, flags = k->flags;
	struct cw_shadow_set *ss;
	struct cw_shadow *e;

	if (!(flags & CW_FLAG_EXEC)) {
		if (sampled_out(h))
			return;
		if (sample_shift)
			flags |= CW_FLAG_SAMPLED;
	}
	ss = bpf_map_lookup_elem(&shadow, &set);
	if (!ss)
		return;
	bloom_set(CW_BLOOM_EVICTED, fh);
	if (ss->way[0].check == check || !ss->way[0].check)
		e = &ss->way[0];
	else if (ss->way[1].check == check || !ss->way[1].check)
		e = &ss->way[1];
	else {
		e = ss->way[0].evict_ns <= ss->way[1].evict_ns ? &ss->way[0] : &ss->way[1];
		count(CW_COUNT_SHADOW_DISPLACED);
	}
	e->check = 0; /* a reader never matches a half-written entry */
	e->evict_ns = bpf_ktime_get_ns();
	e->victim = (__u32)k->victim;
	e->root = (__u32)k->root;
	e->reclaimer = (__u32)k->reclaimer;
	e->seq_cause_flags = (seq & CW_SEQ_MASK) | (__u32)k->cause << 24 | flags << 29;
	e->check = check;
}

SEC("tp_btf/mm_filemap_delete_from_page_cache")
int BPF_PROG(cw_page_cache_delete, struct folio *f)
{
	struct cw_evict_key k = {};
	struct cw_inode_key ik = {};
	struct cw_counts zero = {};
	__u32 seq = interval_seq;
	__u64 pages, fh;
	void *map;

	if (!folio_file(f, &k.ino, &k.dev, &k.gen, &k.flags))
		return 0;
	pages = folio_pages(f);
	k.victim = folio_memcg_id(f);
	k.reclaimer = task_memcg_id(bpf_get_current_task_btf());
	classify_eviction(&k);
	ik.ino = k.ino;
	ik.dev = k.dev;
	ik.gen = k.gen;
	fh = file_hash(k.ino, k.dev, k.gen);
	if (!(k.flags & CW_FLAG_BDEV) && file_is_exec(f->mapping, f->index, &ik, fh))
		k.flags |= CW_FLAG_EXEC;
	if (k.cause == CW_CAUSE_TRUNCATE)
		note_truncation(&ik, fh);
	if (is_reclaim_cause(k.cause))
		remember_eviction(&k, fh, f->index, seq);

	map = (seq & 1) ? (void *)&evict_1 : (void *)&evict_0;
	add_counts(lookup_or_init(map, &k, &zero, CW_LOST_EVICT_MAP_FULL), pages);
	return 0;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

/* Histogram bucket of a refault distance: two per power of two of us. */
static __always_inline __u32 hist_bucket(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 k, b;

	if (us < 2)
		return 0;
	k = log2_u64(us);
	b = 2 * k + ((us >> (k - 1)) & 1);
	return b < CW_HIST_BUCKETS ? b : CW_HIST_BUCKETS - 1;
}

/* A 32-bit cgroup id back to 64 bits, with the high bits of one we know. */
static __always_inline __u64 full_id(__u32 low, __u64 like)
{
	return low ? (like & ~0xffffffffULL) | low : 0;
}

static __always_inline void record_refault(const struct cw_shadow *s, struct cw_add_key *k,
					   __u64 pages, __u32 seq)
{
	__u32 scf = s->seq_cause_flags;
	struct cw_refault_key rk = {
		.memcg = k->memcg,
		.victim = full_id(s->victim, k->memcg),
		.root = full_id(s->root, k->memcg),
		.reclaimer = full_id(s->reclaimer, k->memcg),
		.ino = k->ino,
		.dev = k->dev,
		.gen = k->gen,
		.evict_seq = scf & CW_SEQ_MASK, /* the daemon restores the high bits */
		.cause = (scf >> 24) & 0x1f,
		.flags = scf >> 29,
	};
	struct cw_refault_val zero = {};
	__u64 now = bpf_ktime_get_ns();
	struct cw_refault_val *v;
	__u32 b;

	if (rk.flags & CW_FLAG_SAMPLED)
		pages <<= sample_shift;
	b = hist_bucket(now > s->evict_ns ? now - s->evict_ns : 0);
	v = lookup_or_init((seq & 1) ? (void *)&refault_1 : (void *)&refault_0, &rk, &zero,
			   CW_LOST_REFAULT_MAP_FULL);
	if (!v)
		return;
	__sync_fetch_and_add(&v->events, 1);
	__sync_fetch_and_add(&v->pages, pages);
	if (b < CW_HIST_BUCKETS)
		__sync_fetch_and_add(&v->hist[b], (__u32)pages);
}

/*
 * Is this addition the return of a remembered eviction?  The entry is
 * taken (copied, then marked consumed) when the page hash matches.  An
 * eviction from before the file was last truncated does not count:
 * truncation drops the kernel's shadow entries too.
 */
static __always_inline bool take_eviction(struct cw_add_key *k, __u64 fh, unsigned long index,
					  struct cw_shadow *out)
{
	__u64 h = page_hash(fh, index), check = shadow_check(h);
	__u32 set = h & shadow_mask;
	struct cw_shadow_set *ss;
	struct cw_shadow *e;

	/* A file never evicted by reclaim, or a page that was not sampled and
	 * is not executable: nothing can be remembered. */
	if (!bloom_test(CW_BLOOM_EVICTED, fh) ||
	    (sampled_out(h) && !bloom_test(CW_BLOOM_EXEC, fh)))
		return false;
	ss = bpf_map_lookup_elem(&shadow, &set);
	if (!ss)
		return false;
	if (ss->way[0].check == check)
		e = &ss->way[0];
	else if (ss->way[1].check == check)
		e = &ss->way[1];
	else
		return false;
	*out = *e;
	e->check = 0;
	if (out->check != check) /* overwritten while we copied */
		return false;
	if (bloom_test(CW_BLOOM_TRUNCATED, fh)) {
		struct cw_inode_key ik = { .ino = k->ino, .dev = k->dev, .gen = k->gen };
		__u64 *trunc = bpf_map_lookup_elem(&truncated, &ik);

		if (trunc && *trunc >= out->evict_ns)
			return false;
	}
	return true;
}

/*
 * A folio starting at or beyond the end of the file is being added by a
 * write that extends it: the kernel keeps no shadow entries past EOF (a
 * shrinking truncation drops them), so this cannot be a refault, even when
 * the truncation found none of the file's pages cached to tell us about.
 */
static __always_inline bool beyond_eof(struct folio *f)
{
	struct inode *host = f->mapping->host;

	return (__s64)((__u64)f->index << page_shift) >= host->i_size;
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(cw_page_cache_add, struct folio *f)
{
	struct cw_add_key k = {};
	struct cw_counts zero = {};
	__u32 seq = interval_seq;
	struct cw_shadow ev;
	__u8 flags = 0;
	__u64 pages;

	if (!folio_file(f, &k.ino, &k.dev, &k.gen, &flags))
		return 0;
	pages = folio_pages(f);
	k.memcg = folio_memcg_id(f);
	if (!beyond_eof(f) && take_eviction(&k, file_hash(k.ino, k.dev, k.gen), f->index, &ev))
		record_refault(&ev, &k, pages, seq);
	add_counts(lookup_or_init((seq & 1) ? (void *)&add_1 : (void *)&add_0, &k, &zero,
				  CW_LOST_ADD_MAP_FULL),
		   pages);
	return 0;
}

/* cgroup creation and removal in the memory hierarchy: id -> path history. */
static __always_inline int cgroup_event(struct cgroup *cgrp, const char *path, __u32 type)
{
	struct cw_cgroup_event *e;

	if (cgrp->root->hierarchy_id != memcg_hierarchy_id)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(CW_LOST_RINGBUF);
		return 0;
	}
	e->type = type;
	e->pad = 0;
	e->id = cgrp->kn->id;
	e->ns = bpf_ktime_get_ns();
	if (bpf_probe_read_kernel_str(e->path, sizeof(e->path), path) < 0)
		e->path[0] = 0;
	/* Rare (cgroup creation): wake the daemon, which drains the ring
	 * between intervals, so a burst of thousands cannot overflow it. */
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cw_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(cgrp, path, CW_EVENT_CGROUP_MKDIR);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cw_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(cgrp, path, CW_EVENT_CGROUP_RMDIR);
}

/*
 * Exec-inode seeding: run by the daemon at start-up and every interval over
 * every task's VMAs.  Files already in the set are refreshed (an LRU lookup
 * marks them used); a file seen for the first time is added and reported
 * with one process mapping it, whose /proc/PID/maps names it.  For overlayfs
 * the VMA's file is the backing file, so the inode is the one whose pages
 * the tracepoints see.  No bpf_d_path() here: kernels that treat vm_file as
 * untrusted refuse it, and the process is read within milliseconds anyway.
 */
SEC("iter/task_vma")
int cw_seed_exec_inodes(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct cw_inode_key k = {};
	struct cw_exec_vma rec = {};
	struct inode *inode;
	__u64 now;

	if (iter_refused_for_test)
		return 2; /* iterators must return 0 or 1: the verifier says no */
	if (!vma || !task || !(vma->vm_flags & VM_EXEC) || !vma->vm_file)
		return 0;
	inode = vma->vm_file->f_inode;
	k.ino = inode->i_ino;
	k.dev = inode->i_sb->s_dev;
	k.gen = inode->i_generation;
	if (bpf_map_lookup_elem(&exec_inodes, &k))
		return 0;
	now = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&exec_inodes, &k, &now, BPF_ANY))
		count_lost(CW_LOST_EXEC_SET);
	bloom_set(CW_BLOOM_EXEC, file_hash(k.ino, k.dev, k.gen));
	rec.ino = k.ino;
	rec.dev = k.dev;
	rec.gen = k.gen;
	rec.start = vma->vm_start;
	rec.memcg = task_memcg_id(task);
	rec.tgid = task->tgid;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
