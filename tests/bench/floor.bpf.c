// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The benchmark's "floor": the least a page-cache monitor can do on the
 * same two tp_btf hooks as cachewatchd.  Each program bumps one per-CPU
 * array slot (events, and pages weighted by folio order) and returns, so
 * its cost is the raw-tracepoint dispatch plus one array update.
 * cachewatchd's per-event cost is judged against it (bench.py).
 *
 * The "keyed" pair (floor --keyed) adds the least work that can say which
 * cgroup lost pages of which file: one per-CPU hash update keyed by
 * (memcg id, device, inode).  It is not the target; it shows how much of
 * cachewatchd's cost any tool answering that question must pay.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "compat.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Slot per hook; floor.c reads the same layout. */
enum floor_hook {
	FLOOR_ADD = 0,
	FLOOR_DELETE = 1,
	FLOOR_NR_HOOKS = 2,
};

struct floor_count {
	__u64 events;
	__u64 pages;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOOR_NR_HOOKS);
	__type(key, __u32);
	__type(value, struct floor_count);
} counts SEC(".maps");

struct floor_key {
	__u64 memcg;
	__u64 ino;
	__u32 dev;
	__u32 hook;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct floor_key);
	__type(value, __u64);
} keyed SEC(".maps");

static __always_inline void bump(__u32 hook, struct folio *f)
{
	struct floor_count *c = bpf_map_lookup_elem(&counts, &hook);

	if (!c)
		return;
	c->events++;
	c->pages += folio_pages(f);
}

/* Names stay within the kernel's 15 characters so bpftool shows them whole. */
SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(cwb_floor_add, struct folio *f)
{
	bump(FLOOR_ADD, f);
	return 0;
}

SEC("tp_btf/mm_filemap_delete_from_page_cache")
int BPF_PROG(cwb_floor_del, struct folio *f)
{
	bump(FLOOR_DELETE, f);
	return 0;
}

static __always_inline void bump_keyed(__u32 hook, struct folio *f)
{
	struct inode *host = f->mapping->host;
	struct floor_key k = {
		.memcg = folio_memcg_id(f),
		.ino = host->i_ino,
		.dev = host->i_sb->s_dev,
		.hook = hook,
	};
	__u64 one = folio_pages(f), *v;

	bump(hook, f);
	v = bpf_map_lookup_elem(&keyed, &k);
	if (v)
		*v += one;
	else
		bpf_map_update_elem(&keyed, &k, &one, BPF_NOEXIST);
}

/* "?": not loaded unless floor --keyed asks for them. */
SEC("?tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(cwb_key_add, struct folio *f)
{
	bump_keyed(FLOOR_ADD, f);
	return 0;
}

SEC("?tp_btf/mm_filemap_delete_from_page_cache")
int BPF_PROG(cwb_key_del, struct folio *f)
{
	bump_keyed(FLOOR_DELETE, f);
	return 0;
}
