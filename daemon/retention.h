/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded database growth: raw interval rows older than a window are
 * rolled up in place into coarser rows (same tables, same views, ts = the
 * end of the coarser interval), and rows older than the retention are
 * deleted.  Progress lives in the rollups table, so the work resumes after
 * a restart and is never done twice.
 */
#ifndef CACHEWATCH_RETENTION_H
#define CACHEWATCH_RETENTION_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

struct retention {
	int64_t raw_seconds;    /* raw rows younger than this stay as written */
	int64_t bucket_seconds; /* rolled-up row length, a multiple of the interval */
	int64_t keep_seconds;   /* everything older goes; 0 = keep forever */
	int64_t rolled_upto;    /* rows with ts <= this are rolled up */
	int64_t expired_upto;   /* rows with ts <= this are deleted */
	bool summaries_built;   /* the v_exec_thrash summaries match the rows */
};

/* Read the progress recorded in the database (0 when none). */
int retention_load(struct retention *r, sqlite3 *db);

/*
 * Do the work that has become due at now: roll up every complete bucket
 * older than the raw window, one transaction per bucket, then expire.
 * At most max_buckets buckets per call, so a long-stopped daemon catches
 * up gradually.  Returns the number of buckets rolled up or -errno.
 */
int retention_run(struct retention *r, sqlite3 *db, int64_t now, int max_buckets);

/* The ts a row written at ts carries after roll-up (ts itself if raw). */
int64_t retention_ts_of(const struct retention *r, int64_t ts);

#endif
