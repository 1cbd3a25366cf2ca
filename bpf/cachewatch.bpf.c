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

/* Recent reclaim evictions by page; sized by the daemon (--shadow-entries). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct cw_shadow_key);
	__type(value, struct cw_shadow);
} shadow SEC(".maps");

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

/* Cumulative loss counters, indexed by enum cw_lost. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_LOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Rare events (cgroup mkdir/rmdir), consumed as they come. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline void count_lost(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &why);

	if (n)
		(*n)++;
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
					 struct cw_inode_key *ik)
{
	__u64 now;

	if (!m->i_mmap.rb_root.rb_node)
		return bpf_map_lookup_elem(&exec_inodes, ik) != NULL;
	if (!immap_exec_covers(m, index))
		return false;
	if (!bpf_map_lookup_elem(&exec_inodes, ik)) {
		now = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&exec_inodes, ik, &now, BPF_ANY))
			count_lost(CW_LOST_EXEC_SET);
	}
	return true;
}

/* Remember that the file was truncated (at most once a millisecond). */
static __always_inline void note_truncation(struct cw_inode_key *ik)
{
	__u64 now = bpf_ktime_get_ns(), *last = bpf_map_lookup_elem(&truncated, ik);

	if (last && now - *last < 1000000)
		return;
	bpf_map_update_elem(&truncated, ik, &now, BPF_ANY);
}

SEC("tp_btf/mm_filemap_delete_from_page_cache")
int BPF_PROG(cw_page_cache_delete, struct folio *f)
{
	struct cw_evict_key k = {};
	struct cw_inode_key ik = {};
	struct cw_counts zero = {};
	__u32 seq = interval_seq;
	__u64 pages;
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
	if (!(k.flags & CW_FLAG_BDEV) && file_is_exec(f->mapping, f->index, &ik))
		k.flags |= CW_FLAG_EXEC;
	if (k.cause == CW_CAUSE_TRUNCATE)
		note_truncation(&ik);

	if (is_reclaim_cause(k.cause)) {
		struct cw_shadow_key sk = {
			.ino = k.ino, .index = f->index, .dev = k.dev, .gen = k.gen,
		};
		struct cw_shadow sv = {
			.evict_ns = bpf_ktime_get_ns(),
			.victim = k.victim,
			.root = k.root,
			.reclaimer = k.reclaimer,
			.seq = seq,
			.cause = k.cause,
			.flags = k.flags,
		};

		if (bpf_map_update_elem(&shadow, &sk, &sv, BPF_ANY))
			count_lost(CW_LOST_SHADOW_UPDATE);
	}

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

static __always_inline void record_refault(struct cw_shadow *s, __u64 memcg, __u64 ino,
					   __u32 dev, __u32 gen, __u64 pages, __u32 seq)
{
	struct cw_refault_key rk = {
		.memcg = memcg,
		.victim = s->victim,
		.root = s->root,
		.reclaimer = s->reclaimer,
		.ino = ino,
		.dev = dev,
		.gen = gen,
		.evict_seq = s->seq,
		.cause = s->cause,
		.flags = s->flags,
	};
	struct cw_refault_val zero = {};
	__u64 now = bpf_ktime_get_ns();
	struct cw_refault_val *v;
	__u32 b;

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

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(cw_page_cache_add, struct folio *f)
{
	struct cw_add_key k = {};
	struct cw_shadow_key sk = {};
	struct cw_counts zero = {};
	__u32 seq = interval_seq;
	struct cw_shadow *s;
	__u8 flags = 0;
	__u64 pages;

	if (!folio_file(f, &k.ino, &k.dev, &k.gen, &flags))
		return 0;
	pages = folio_pages(f);
	k.memcg = folio_memcg_id(f);

	sk.ino = k.ino;
	sk.index = f->index;
	sk.dev = k.dev;
	sk.gen = k.gen;
	s = bpf_map_lookup_elem(&shadow, &sk);
	if (s) {
		struct cw_inode_key ik = { .ino = k.ino, .dev = k.dev, .gen = k.gen };
		__u64 *trunc = bpf_map_lookup_elem(&truncated, &ik);

		/* Evicted before the file was truncated: the kernel forgot it too. */
		if (!trunc || *trunc < s->evict_ns)
			record_refault(s, k.memcg, k.ino, k.dev, k.gen, pages, seq);
		bpf_map_delete_elem(&shadow, &sk);
	}

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

/* Scratch space for one iterator record (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cw_exec_vma);
} exec_vma_scratch SEC(".maps");

/*
 * Exec-inode seeding: run by the daemon at start-up and every interval over
 * every task's VMAs.  Files already in the set are refreshed (an LRU lookup
 * marks them used); a file seen for the first time is added and reported
 * with one process mapping it, for its paths.  For overlayfs the VMA's
 * file is the backing file, so the inode is the one whose pages the
 * tracepoints see.
 */
SEC("iter/task_vma")
int cw_seed_exec_inodes(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct cw_inode_key k = {};
	struct cw_exec_vma *rec;
	struct inode *inode;
	struct file *file;
	__u32 zero = 0;
	__u64 now;

	if (!vma || !task || !(vma->vm_flags & VM_EXEC) || !vma->vm_file)
		return 0;
	file = vma->vm_file;
	inode = file->f_inode;
	k.ino = inode->i_ino;
	k.dev = inode->i_sb->s_dev;
	k.gen = inode->i_generation;
	if (bpf_map_lookup_elem(&exec_inodes, &k))
		return 0;
	now = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&exec_inodes, &k, &now, BPF_ANY))
		count_lost(CW_LOST_EXEC_SET);
	rec = bpf_map_lookup_elem(&exec_vma_scratch, &zero);
	if (!rec)
		return 0;
	rec->ino = k.ino;
	rec->dev = k.dev;
	rec->gen = k.gen;
	rec->start = vma->vm_start;
	rec->memcg = task_memcg_id(task);
	rec->tgid = task->tgid;
	rec->path_len = bpf_d_path((struct path *)&file->f_path, rec->path, sizeof(rec->path));
	bpf_seq_write(ctx->meta->seq, rec, sizeof(*rec));
	return 0;
}
