/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * BPF skeleton lifecycle: open, size the maps and pick the reclaim-context
 * mode, load, attach hook by hook (the page-cache hooks are required, the
 * others degrade with a message), and run the exec-inode iterator.
 */
#ifndef CACHEWATCH_LOADER_H
#define CACHEWATCH_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "config.h"

struct cachewatch_bpf;

struct loader_opts {
	const char *btf_path;
	enum reclaim_ctx_mode reclaim_ctx;
	uint32_t shadow_entries;
	uint32_t refault_sample; /* power of two */
	uint32_t evict_entries;
	uint32_t add_entries;
	uint32_t refault_entries;
	uint32_t exec_entries;
	int memcg_hierarchy_id;
};

struct loader {
	struct cachewatch_bpf *skel;
	bool brackets;        /* reclaim context from begin/end brackets */
	bool exec_iter;       /* iter/task_vma attached */
	int ncpus;            /* possible CPUs: per-CPU value stride */
	char hooks[512];      /* live hooks, comma separated */
	char missing[512];    /* optional hooks that failed, with reasons */
};

int loader_open(struct loader **ret, const struct loader_opts *o, char *err, size_t errlen);
struct loader *loader_free(struct loader *l);

/*
 * Start a pass of the iter/task_vma program: reading the returned fd runs
 * it over every task's VMAs, adding exec-mapped files to the set and
 * yielding a struct cw_exec_vma for each file it sees first.  -errno if the
 * iterator is not attached.
 */
int loader_exec_iter_fd(struct loader *l);

/* The interval sequence number shared with the programs. */
volatile uint32_t *loader_interval_seq(struct loader *l);

/* Map fds the collector drains: index 0/1 = the double-buffered pair. */
int loader_evict_fd(struct loader *l, int which);
int loader_add_fd(struct loader *l, int which);
int loader_refault_fd(struct loader *l, int which);
int loader_lost_fd(struct loader *l);
int loader_events_fd(struct loader *l);

/* Recursion misses of the page-cache programs (events the kernel skipped). */
uint64_t loader_recursion_misses(struct loader *l);

/* Name, run time and runs (bpf_stats) and recursion misses of the add and delete programs. */
void loader_prog_stats(struct loader *l, const char *name[2], uint64_t run_time_ns[2],
		       uint64_t run_cnt[2], uint64_t recursion_misses[2]);

#endif
