/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why is this folio leaving the page cache, and which memory cgroup's limit
 * is being enforced?  Decided at the delete tracepoint from `current` alone,
 * with no begin/end hooks on this fast path:
 *
 *   PF_KSWAPD                          -> kswapd
 *   current->reclaim_state set         -> inside reclaim; it points into the
 *     reclaimer's on-stack struct scan_control, whose target_mem_cgroup is
 *     the reclaim root (NULL for global reclaim) and `proactive` marks
 *     memory.reclaim / node reclaim.  A memcg target is then told apart by
 *     who runs it: a kworker (memory.high work), a write to a memcg control
 *     file (limit shrink, force_empty, memory.high), a charge below max
 *     (memory.high on return to user) or else the limit itself.
 *   PF_MEMALLOC without reclaim_state  -> reclaim_pages(): DAMON, MADV_PAGEOUT
 *   otherwise                          -> by the system call being served.
 *
 * struct scan_control is private to mm/vmscan.c: when the kernel's BTF does
 * not have it the loader selects CW_RECLAIM_BRACKETS, where per-task bits set
 * by the mm_vmscan_*_reclaim_begin/end tracepoints stand in for it (they give
 * the kind of reclaim but not its root).
 */
#ifndef CACHEWATCH_CAUSE_BPF_H
#define CACHEWATCH_CAUSE_BPF_H

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((long)(regs)->orig_ax)
#define SYSCALL_ARG0(regs) ((regs)->di)
enum {
	NR_read = 0, NR_write = 1, NR_open = 2, NR_close = 3, NR_pread64 = 17,
	NR_pwrite64 = 18, NR_readv = 19, NR_writev = 20, NR_madvise = 28,
	NR_exit = 60, NR_truncate = 76, NR_ftruncate = 77, NR_rename = 82,
	NR_creat = 85, NR_unlink = 87, NR_fadvise64 = 221, NR_exit_group = 231,
	NR_openat = 257, NR_unlinkat = 263, NR_renameat = 264,
	NR_fallocate = 285, NR_preadv = 295, NR_pwritev = 296,
	NR_renameat2 = 316, NR_preadv2 = 327, NR_pwritev2 = 328,
	NR_openat2 = 437,
};
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((long)(regs)->syscallno)
#define SYSCALL_ARG0(regs) ((regs)->regs[0])
enum {
	NR_read = 63, NR_write = 64, NR_open = -2, NR_close = 57, NR_pread64 = 67,
	NR_pwrite64 = 68, NR_readv = 65, NR_writev = 66, NR_madvise = 233,
	NR_exit = 93, NR_truncate = 45, NR_ftruncate = 46, NR_rename = -2,
	NR_creat = -2, NR_unlink = -2, NR_fadvise64 = 223, NR_exit_group = 94,
	NR_openat = 56, NR_unlinkat = 35, NR_renameat = 38, NR_fallocate = 47,
	NR_preadv = 69, NR_pwritev = 70, NR_renameat2 = 276, NR_preadv2 = 286,
	NR_pwritev2 = 287, NR_openat2 = 437,
};
#else
#error "cachewatch: add this architecture's system call numbers to cause.bpf.h"
#endif

const volatile __u32 reclaim_ctx = CW_RECLAIM_SCAN_CONTROL;

/* Per-task reclaim brackets, used only in CW_RECLAIM_BRACKETS mode. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} reclaim_brackets SEC(".maps");

static __always_inline bool is_write_syscall(long nr)
{
	return nr == NR_write || nr == NR_pwrite64 || nr == NR_writev ||
	       nr == NR_pwritev || nr == NR_pwritev2;
}

static __always_inline bool is_read_syscall(long nr)
{
	return nr == NR_read || nr == NR_pread64 || nr == NR_readv ||
	       nr == NR_preadv || nr == NR_preadv2;
}

static __always_inline bool is_truncate_syscall(long nr)
{
	return nr == NR_truncate || nr == NR_ftruncate || nr == NR_open ||
	       nr == NR_openat || nr == NR_openat2 || nr == NR_creat ||
	       nr == NR_unlink || nr == NR_unlinkat || nr == NR_rename ||
	       nr == NR_renameat || nr == NR_renameat2 || nr == NR_fallocate ||
	       nr == NR_close || nr == NR_exit || nr == NR_exit_group ||
	       nr == NR_madvise;
}

/*
 * The file behind one of the task's fds, or NULL.  Only reached for
 * deletions inside a write system call; the callers check the file's
 * filesystem (cgroup, proc) before paying for its name.
 */
#define CW_FD_NAME_LEN 24

static __always_inline struct file *fd_file(struct task_struct *t, unsigned long fd)
{
	struct fdtable *fdt = t->files->fdt;
	struct file *file = NULL;
	struct file **slot;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	slot = fdt->fd;
	if (bpf_probe_read_kernel(&file, sizeof(file), &slot[fd]) || !file)
		return NULL;
	return bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
}

static __always_inline unsigned long file_fs_magic(struct file *file)
{
	return file->f_inode->i_sb->s_magic;
}

static __always_inline int file_name(struct file *file, char *buf)
{
	return bpf_probe_read_kernel_str(buf, CW_FD_NAME_LEN, file->f_path.dentry->d_name.name);
}

static __always_inline bool name_is(const char *buf, const char *lit, int n)
{
	for (int i = 0; i < n; i++)
		if (buf[i] != lit[i])
			return false;
	return true;
}

/* Cause of a memcg-targeted reclaim run by a write to a memcg file, or -1. */
static __always_inline int memcg_write_cause(struct task_struct *t, struct pt_regs *regs)
{
	char name[CW_FD_NAME_LEN] = {};
	unsigned long magic;
	struct file *file;

	if (!is_write_syscall(SYSCALL_NR(regs)))
		return -1;
	file = fd_file(t, SYSCALL_ARG0(regs));
	if (!file)
		return -1;
	magic = file_fs_magic(file);
	if ((magic != CGROUP_SUPER_MAGIC && magic != CGROUP2_SUPER_MAGIC) ||
	    file_name(file, name) <= 0 || !name_is(name, "memory.", 7))
		return -1;
	switch (name[7]) {
	case 'f': /* memory.force_empty */
	case 'r': /* memory.reclaim */
		return CW_CAUSE_PROACTIVE;
	case 'h': /* memory.high */
		return CW_CAUSE_HIGH;
	default: /* memory.max, memory.limit_in_bytes, memory.memsw.* */
		return CW_CAUSE_LIMIT_SHRINK;
	}
}

/*
 * A memcg reclaim that is neither a limit hit nor a control-file write:
 * reclaim_high() on return to user space runs while usage is below max.
 * The slack (a 2 MiB folio plus a charge batch) keeps a charge that is
 * about to hit max from being called a memory.high reclaim.  Never true on
 * v1, where memory.high is unset (PAGE_COUNTER_MAX).
 */
static __always_inline bool below_max_over_high(struct mem_cgroup *target)
{
	unsigned long usage = target->memory.usage.counter;
	unsigned long high = target->memory.high;
	unsigned long max = target->memory.max;

	return high < max && usage > high && usage + 512 + 64 < max;
}

static __always_inline __u8 memcg_reclaim_cause(struct task_struct *t, unsigned int tf,
						struct mem_cgroup *target)
{
	int c;

	/* memory.high work (high_work_func) runs in a kworker; a kworker
	 * reclaiming a memcg that has no memory.high enforces its limit. */
	if (tf & PF_WQ_WORKER)
		return !target || target->memory.high < target->memory.max ? CW_CAUSE_HIGH
									   : CW_CAUSE_LIMIT;
	c = memcg_write_cause(t, (struct pt_regs *)bpf_task_pt_regs(t));
	if (c >= 0)
		return c;
	if (target && below_max_over_high(target))
		return CW_CAUSE_HIGH;
	return CW_CAUSE_LIMIT;
}

/* Outside reclaim: the system call being served decides. */
static __always_inline __u8 syscall_cause(struct task_struct *t, unsigned int tf)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
	long nr = SYSCALL_NR(regs);

	/* Kernel threads, and io_uring workers whose registers say nothing. */
	if (tf & (PF_KTHREAD | PF_IO_WORKER))
		return CW_CAUSE_OTHER;
	if (nr == NR_fadvise64)
		return CW_CAUSE_INVALIDATE;
	if (is_write_syscall(nr)) {
		struct file *file = fd_file(t, SYSCALL_ARG0(regs));
		char name[CW_FD_NAME_LEN] = {};

		if (file && file_fs_magic(file) == PROC_SUPER_MAGIC && file_name(file, name) > 0 &&
		    name_is(name, "drop_caches", 12))
			return CW_CAUSE_DROP_CACHES;
		return CW_CAUSE_INVALIDATE; /* O_DIRECT write */
	}
	if (is_read_syscall(nr))
		return CW_CAUSE_INVALIDATE; /* O_DIRECT read */
	if (is_truncate_syscall(nr))
		return CW_CAUSE_TRUNCATE;
	return CW_CAUSE_OTHER;
}

static __always_inline void classify_scan_control(struct task_struct *t, unsigned int tf,
						  struct reclaim_state *rs,
						  struct cw_evict_key *k)
{
	struct scan_control *sc;
	struct mem_cgroup *target;
	bool proactive = false;

	sc = bpf_rdonly_cast((void *)((unsigned long)rs -
				      bpf_core_field_offset(struct scan_control, reclaim_state)),
			     bpf_core_type_id_kernel(struct scan_control));
	target = sc->target_mem_cgroup;
	/* A bitfield whose bit position moved between releases: relocated read. */
	if (bpf_core_field_exists(sc->proactive))
		proactive = BPF_CORE_READ_BITFIELD(sc, proactive);
	if (target) {
		k->root = memcg_id(target);
		k->cause = proactive ? CW_CAUSE_PROACTIVE : memcg_reclaim_cause(t, tf, target);
	} else {
		k->cause = proactive ? CW_CAUSE_PROACTIVE : CW_CAUSE_DIRECT;
	}
}

/* Fallback: the kind of reclaim from the brackets; the root stays 0. */
static __always_inline bool classify_brackets(struct task_struct *t, unsigned int tf,
					      struct cw_evict_key *k)
{
	__u32 *bits = bpf_task_storage_get(&reclaim_brackets, t, 0, 0);

	if (!bits || !*bits)
		return false;
	if (*bits & CW_BRACKET_MEMCG)
		k->cause = memcg_reclaim_cause(t, tf, NULL);
	else if ((*bits & CW_BRACKET_NODE) &&
		 is_write_syscall(SYSCALL_NR((struct pt_regs *)bpf_task_pt_regs(t))))
		k->cause = CW_CAUSE_PROACTIVE; /* a write to .../nodeN/reclaim */
	else
		k->cause = CW_CAUSE_DIRECT;
	return true;
}

static __always_inline void classify_eviction(struct cw_evict_key *k)
{
	struct task_struct *t = bpf_get_current_task_btf();
	unsigned int tf = t->flags;

	if (tf & PF_KSWAPD) {
		k->cause = CW_CAUSE_KSWAPD;
		return;
	}
	if (reclaim_ctx == CW_RECLAIM_SCAN_CONTROL) {
		if (bpf_core_type_exists(struct scan_control)) {
			struct reclaim_state *rs = t->reclaim_state;

			if (rs) {
				classify_scan_control(t, tf, rs, k);
				return;
			}
		}
	} else if (classify_brackets(t, tf, k)) {
		return;
	}
	if (tf & PF_MEMALLOC) {
		k->cause = CW_CAUSE_PAGEOUT;
		return;
	}
	k->cause = syscall_cause(t, tf);
}

/* Evictions that leave a shadow entry, i.e. whose return counts as a refault. */
static __always_inline bool is_reclaim_cause(__u8 cause)
{
	switch (cause) {
	case CW_CAUSE_LIMIT:
	case CW_CAUSE_LIMIT_SHRINK:
	case CW_CAUSE_HIGH:
	case CW_CAUSE_PROACTIVE:
	case CW_CAUSE_PAGEOUT:
	case CW_CAUSE_KSWAPD:
	case CW_CAUSE_DIRECT:
		return true;
	default:
		return false;
	}
}

static __always_inline void bracket_set(__u32 bit, bool on)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 *bits = bpf_task_storage_get(&reclaim_brackets, t, 0,
					   on ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);

	if (!bits)
		return;
	if (on)
		*bits |= bit;
	else
		*bits &= ~bit;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(cw_memcg_reclaim_begin)
{
	bracket_set(CW_BRACKET_MEMCG, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(cw_memcg_reclaim_end)
{
	bracket_set(CW_BRACKET_MEMCG, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(cw_direct_reclaim_begin)
{
	bracket_set(CW_BRACKET_DIRECT, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(cw_direct_reclaim_end)
{
	bracket_set(CW_BRACKET_DIRECT, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_node_reclaim_begin")
int BPF_PROG(cw_node_reclaim_begin)
{
	bracket_set(CW_BRACKET_NODE, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_node_reclaim_end")
int BPF_PROG(cw_node_reclaim_end)
{
	bracket_set(CW_BRACKET_NODE, false);
	return 0;
}

#endif
