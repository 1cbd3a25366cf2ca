/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One interval of cachewatchd, end to end: flip the BPF double buffer,
 * drain it, learn cgroups from the ring buffer and a hierarchy walk, name
 * new files, and write everything in one SQLite transaction.
 */
#ifndef CACHEWATCH_RECORDER_H
#define CACHEWATCH_RECORDER_H

#include <stdint.h>
#include "cgroups.h"
#include "collector.h"
#include "execmaps.h"
#include "retention.h"
#include "filecache.h"
#include "loader.h"
#include "store.h"

/* Summary of the interval just written, for the log and sd_notify STATUS. */
struct interval_summary {
	uint32_t seq;
	int64_t ts;
	uint64_t evicted_pages, exec_evicted_pages, refaulted_pages, added_pages;
	uint64_t lost;
	uint64_t dropped_names;
	uint64_t rows;
	int rolled_up;          /* roll-up buckets done after the write, or -errno */
	int64_t duration_ms;
};

struct recorder;

struct recorder_opts {
	const char *pod_logs; /* kubelet's pod log directory */
	size_t max_cgroups;   /* bounds of the in-memory name tables */
	size_t max_files;
	uint64_t detail_pages;  /* smaller files of an interval are summed (0: never) */
	int64_t raw_seconds;    /* retention: raw rows kept this long, */
	int64_t rollup_seconds; /* then rolled up to rows this long, */
	int64_t keep_seconds;   /* and deleted after this long (0: never) */
};

int recorder_new(struct recorder **ret, const struct recorder_opts *o, struct loader *loader,
		 struct cgroups *cgroups, struct store *store, int64_t run_id);

/* The ring buffer of cgroup events, to poll between intervals. */
int recorder_events_fd(struct recorder *r);
void recorder_consume_events(struct recorder *r);
struct recorder *recorder_free(struct recorder *r);

/* Take the first memory.stat readings and seed the exec-inode set. */
int recorder_prime(struct recorder *r);

/*
 * Close the current interval and write it.  -errno if it could not be
 * stored; its rows are then kept and written with the next interval.
 */
int recorder_interval(struct recorder *r, struct interval_summary *sum);

/* The rows of the interval recorder_interval() just wrote (until the next call). */
const struct batch *recorder_last_batch(struct recorder *r);

/* Text of the last database error. */
const char *recorder_error(struct recorder *r);

#endif
