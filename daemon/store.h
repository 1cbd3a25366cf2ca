/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing cachewatch rows into SQLite: one prepared statement per kind of
 * row, all with bound parameters, used between store_begin() and
 * store_commit() so that each interval is one transaction.
 */
#ifndef CACHEWATCH_STORE_H
#define CACHEWATCH_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "memstat.h"

struct store;

struct run_info {
	int64_t started;
	const char *hostname;
	const char *kernel;
	const char *version;
	const char *hooks;
	const char *reclaim_context;
	uint32_t interval_s;
	uint32_t refault_sample;
};

struct interval_info {
	int64_t run;
	uint32_t seq;
	int64_t ts;
	int64_t duration_ms;
	uint64_t lost_evict, lost_add, lost_refault, lost_shadow, lost_ringbuf, lost_exec;
	uint64_t lost_user;
	uint64_t dropped_names; /* in-memory name entries forgotten to stay bounded */
	uint64_t shadow_displaced; /* remembered evictions overwritten unmatched */
};

struct file_row {
	uint64_t dev, ino;
	uint32_t gen;
	const char *kind;           /* "file" or "bdev" */
	const char *path;           /* host path or NULL */
	const char *path_source;
	const char *container_path; /* NULL unless a containerised process maps it */
	const char *path_note;      /* why path is NULL */
	bool deleted;
};

struct cgroup_row {
	uint64_t id;
	const char *path;
	int64_t first_seen, last_seen, removed;
	/* NULL when unknown */
	const char *pod_uid, *namespace, *pod, *container, *container_id;
	const char *qos, *runtime, *unit;
};

/* Takes ownership of db (closed by store_free). */
int store_open(struct store **ret, sqlite3 *db);
struct store *store_free(struct store *s);
const char *store_errmsg(struct store *s);
sqlite3 *store_db(struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

int store_run_start(struct store *s, const struct run_info *ri, int64_t *ret_run);
int store_run_stop(struct store *s, int64_t run, int64_t stopped);
int store_interval(struct store *s, const struct interval_info *ii);

int store_cgroup(struct store *s, const struct cgroup_row *c);
int store_file(struct store *s, const struct file_row *f, int64_t now, int64_t *ret_id);
int store_eviction(struct store *s, int64_t ts, uint64_t victim, uint64_t root,
		   uint64_t reclaimer, int cause, int64_t file, bool exec, uint64_t events,
		   uint64_t pages);
int store_addition(struct store *s, int64_t ts, uint64_t cgroup, int64_t file, uint64_t events,
		   uint64_t pages);
/* Add pages to refaulted_pages of the eviction row they undo (if present). */
int store_credit_refault(struct store *s, int64_t evict_ts, uint64_t victim, uint64_t root,
			 uint64_t reclaimer, int cause, int64_t file, bool exec, uint64_t pages);
int store_refault_hist(struct store *s, int64_t ts, uint64_t cgroup, uint64_t victim,
		       int64_t file, int cause, bool exec, int bucket, uint64_t pages);
/*
 * While root evicts victim's executable pages: cgroup under root holds
 * held bytes after growing by grew this interval.  The first call fixes
 * the base (held - grew), later ones raise the peak.
 */
int store_pressure_peak(struct store *s, uint64_t victim, uint64_t root, uint64_t cgroup,
			int64_t held, int64_t grew);

/* Deltas: INT64_MIN stores NULL. */
int store_memstat(struct store *s, int64_t ts, uint64_t cgroup, const struct memstat *m,
		  int64_t anon_delta, int64_t file_delta);

#endif
