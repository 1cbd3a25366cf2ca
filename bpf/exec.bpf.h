/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Is a page-cache page executable?  At the delete tracepoint the PTEs are
 * gone (folio_mapped() is always false there) but the file's VMAs are still
 * in mapping->i_mmap, so a bounded walk of that interval tree tells whether
 * a VM_EXEC mapping covers the page.  Files seen mapped executable are also
 * remembered in the exec-inode set (fed by the iter/task_vma pass), so pages
 * evicted after the process exited still count as executable.
 */
#ifndef CACHEWATCH_EXEC_BPF_H
#define CACHEWATCH_EXEC_BPF_H

/* Depth bound of the interval-tree descent; 32 levels hold > 2^16 VMAs. */
#define CW_IMMAP_WALK_MAX 32

static __always_inline struct vm_area_struct *vma_of(struct rb_node *node)
{
	unsigned long off = bpf_core_field_offset(struct vm_area_struct, shared);

	return bpf_rdonly_cast((void *)((unsigned long)node - off),
			       bpf_core_type_id_kernel(struct vm_area_struct));
}

/*
 * vma_interval_tree_iter_first() for the single index idx: find the
 * leftmost VMA whose page range covers idx and report its VM_EXEC bit.
 * The tree can change under us (no i_mmap lock): the loads are PROBE_MEM
 * and the walk bounded, so the worst case is a wrong answer, never a fault.
 */
static __always_inline bool immap_exec_covers(struct address_space *m, unsigned long idx)
{
	struct rb_node *node = m->i_mmap.rb_root.rb_node;

	for (int i = 0; i < CW_IMMAP_WALK_MAX && node; i++) {
		struct rb_node *left = node->rb_left;
		struct vm_area_struct *v;
		unsigned long start;

		if (left && idx <= vma_of(left)->shared.rb_subtree_last) {
			node = left;
			continue;
		}
		v = vma_of(node);
		start = v->vm_pgoff;
		if (start > idx)
			return false;
		if (idx < start + ((v->vm_end - v->vm_start) >> 12))
			return v->vm_flags & VM_EXEC;
		node = node->rb_right;
		if (node && idx > vma_of(node)->shared.rb_subtree_last)
			return false;
	}
	return false;
}

#endif
