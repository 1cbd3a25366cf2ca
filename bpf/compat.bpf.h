/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CO-RE shims and small readers for kernel objects whose layout moves
 * between releases: folio flags and order, the memory cgroup of a folio or
 * a task, kernfs ids.  Everything here uses direct BTF loads (cheap PROBE_MEM
 * loads, ~3-5x cheaper than bpf_probe_read chains on this hot path) and
 * bpf_rdonly_cast() to turn masked or offset pointers back into typed ones.
 */
#ifndef CACHEWATCH_COMPAT_BPF_H
#define CACHEWATCH_COMPAT_BPF_H

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#define PF_IO_WORKER 0x00000010
#define PF_WQ_WORKER 0x00000020
#define PF_KTHREAD 0x00200000
#define PF_MEMALLOC 0x00000800
#define PF_KSWAPD 0x00020000
#define VM_EXEC 0x00000004
#define BDEVFS_MAGIC 0x62646576
#define TMPFS_MAGIC 0x01021994
#define RAMFS_MAGIC 0x858458f6
#define HUGETLBFS_MAGIC 0x958458f6
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define PROC_SUPER_MAGIC 0x9fa0

/* folio->memcg_data low bits: MEMCG_DATA_OBJEXTS (slab) and MEMCG_DATA_KMEM. */
#define MEMCG_DATA_OBJEXTS 0x1UL
#define MEMCG_DATA_FLAGS_MASK 0x3UL

/*
 * folio->flags became memdesc_flags_t { unsigned long f; } in 6.18 (commit
 * "mm: introduce memdesc_flags_t"); before it was a plain unsigned long.
 * Both flavours are declared locally so the program builds against either
 * vmlinux.h and the loader keeps only the branch that matches the kernel.
 */
struct memdesc_flags___cw {
	unsigned long f;
};

struct folio___memdesc {
	struct memdesc_flags___cw flags;
} __attribute__((preserve_access_index));

struct folio___ulong {
	unsigned long flags;
} __attribute__((preserve_access_index));

typedef struct memdesc_flags___cw memdesc_flags_t___cw;

static __always_inline unsigned long folio_flags_word(struct folio *f)
{
	if (bpf_core_type_exists(memdesc_flags_t___cw) &&
	    bpf_core_field_exists(((struct folio___memdesc *)f)->flags.f))
		return ((struct folio___memdesc *)f)->flags.f;
	return ((struct folio___ulong *)f)->flags;
}

/* 6.1-6.5 kept the order in its own byte; later kernels in _flags_1. */
struct folio___folio_order {
	unsigned char _folio_order;
} __attribute__((preserve_access_index));

/* Number of 4 KiB pages in the folio: a large folio counts 1 << order. */
static __always_inline __u64 folio_pages(struct folio *f)
{
	unsigned long head = 1UL << bpf_core_enum_value(enum pageflags, PG_head);

	if (!(folio_flags_word(f) & head))
		return 1;
	if (bpf_core_field_exists(((struct folio___folio_order *)f)->_folio_order))
		return 1UL << ((struct folio___folio_order *)f)->_folio_order;
	/* Since 6.6 (commit "mm: free up a word in the first tail page") the
	 * order lives in the low byte of _flags_1. */
	if (bpf_core_field_exists(f->_flags_1))
		return 1UL << (f->_flags_1 & 0xff);
	return 1;
}

static __always_inline __u64 memcg_id(struct mem_cgroup *m)
{
	return m ? m->css.cgroup->kn->id : 0;
}

/* kernfs id of the memory cgroup the folio is charged to; 0 if none. */
static __always_inline __u64 folio_memcg_id(struct folio *f)
{
	unsigned long d = f->memcg_data;

	if (!d || (d & MEMCG_DATA_OBJEXTS))
		return 0;
	return memcg_id(bpf_rdonly_cast((void *)(d & ~MEMCG_DATA_FLAGS_MASK),
					bpf_core_type_id_kernel(struct mem_cgroup)));
}

/*
 * kernfs id of the task's memory cgroup, v1 or v2.  Not
 * bpf_get_current_cgroup_id(): that is the cgroup2 id, meaningless when
 * the memory controller sits on a v1 hierarchy.
 */
static __always_inline __u64 task_memcg_id(struct task_struct *t)
{
	struct cgroup_subsys_state *css =
		t->cgroups->subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)];

	return css ? css->cgroup->kn->id : 0;
}

#endif
