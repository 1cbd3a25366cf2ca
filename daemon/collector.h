/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Draining the kernel's aggregate maps into one interval's batch: batch
 * lookup-and-delete of the idle half of the double-buffered maps, per-CPU
 * values summed, and the cumulative loss counters turned into deltas.
 */
#ifndef CACHEWATCH_COLLECTOR_H
#define CACHEWATCH_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cachewatch.h"

struct evict_row {
	struct cw_evict_key key;
	struct cw_counts c;
};

struct add_row {
	struct cw_add_key key;
	struct cw_counts c;
};

struct refault_row {
	struct cw_refault_key key;
	struct cw_refault_val v;
};

struct batch {
	struct evict_row *ev;
	size_t n_ev, cap_ev;
	struct add_row *add;
	size_t n_add, cap_add;
	struct refault_row *rf;
	size_t n_rf, cap_rf;
	uint64_t lost[CW_COUNTER_MAX]; /* kernel counters' increase: losses below
					* CW_LOST_MAX, then measures */
	uint64_t lost_user;         /* rows dropped in user space (out of memory) */
};

void batch_reset(struct batch *b);
void batch_done(struct batch *b);

/* Sum ncpus per-CPU copies (each rounded up to 8 bytes) of struct cw_counts. */
void sum_percpu_counts(const void *values, int ncpus, struct cw_counts *out);

/* Drain the three maps of one buffer into b (appends). -errno on failure. */
int collect_maps(struct batch *b, int evict_fd, int add_fd, int refault_fd, int ncpus);

/*
 * Read the cumulative per-CPU counters (enum cw_counter); add the increase
 * since *prev (updated) to b->lost.
 */
int collect_lost(struct batch *b, int lost_fd, int ncpus, uint64_t prev[CW_COUNTER_MAX]);

#endif
