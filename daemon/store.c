// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The database writer.  Statements are prepared once and reused; values
 * are always bound, never formatted into SQL.  Counters of the same key
 * written twice in one interval (two intervals ending in the same second,
 * or a key drained twice) accumulate through ON CONFLICT ... DO UPDATE
 * rather than failing the whole transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "util.h"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_RUN_START,
	ST_RUN_STOP,
	ST_RUN_FLUSH,
	ST_INTERVAL,
	ST_CGROUP,
	ST_FILE,
	ST_EVICTION,
	ST_ADDITION,
	ST_REFAULT,
	ST_CREDIT,
	ST_HIST,
	ST_MEMSTAT,
	ST_MAX,
};

static const char *const sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_RUN_START] =
		"INSERT INTO runs (started, hostname, kernel, version, hooks, reclaim_context, "
		"interval_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_RUN_STOP] = "UPDATE runs SET stopped = ?2 WHERE id = ?1",
	[ST_RUN_FLUSH] = "UPDATE runs SET last_flush = ?2 WHERE id = ?1",
	[ST_INTERVAL] =
		"INSERT INTO intervals (run, seq, ts, duration_ms, lost_evict, lost_add, "
		"lost_refault, lost_shadow, lost_ringbuf, lost_exec, lost_user) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_CGROUP] =
		"INSERT INTO cgroups (id, path, first_seen, last_seen, removed) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
		"path = COALESCE(excluded.path, path), "
		"last_seen = MAX(last_seen, excluded.last_seen), removed = excluded.removed",
	[ST_FILE] =
		"INSERT INTO files (dev, ino, gen, kind, path, path_source, deleted, first_seen, "
		"last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
		"ON CONFLICT (dev, ino, gen) DO UPDATE SET last_seen = excluded.last_seen, "
		"path = COALESCE(excluded.path, path), "
		"path_source = COALESCE(excluded.path_source, path_source), "
		"deleted = MAX(deleted, excluded.deleted) RETURNING id",
	[ST_EVICTION] =
		"INSERT INTO evictions (ts, victim, root, reclaimer, cause, file, exec, events, "
		"pages) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
		"ON CONFLICT DO UPDATE SET events = events + excluded.events, "
		"pages = pages + excluded.pages",
	[ST_ADDITION] =
		"INSERT INTO additions (ts, cgroup, file, events, pages) VALUES (?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT DO UPDATE SET events = events + excluded.events, "
		"pages = pages + excluded.pages",
	[ST_REFAULT] =
		"INSERT INTO refaults (ts, cgroup, victim, root, reclaimer, cause, file, exec, "
		"evict_ts, events, pages) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		"ON CONFLICT DO UPDATE SET events = events + excluded.events, "
		"pages = pages + excluded.pages",
	[ST_CREDIT] =
		"UPDATE evictions SET refaulted_pages = refaulted_pages + ?8 WHERE ts = ?1 AND "
		"victim = ?2 AND root = ?3 AND reclaimer = ?4 AND cause = ?5 AND file = ?6 AND "
		"exec = ?7",
	[ST_HIST] =
		"INSERT INTO refault_hist (ts, cgroup, victim, file, cause, exec, bucket, pages) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		"ON CONFLICT DO UPDATE SET pages = pages + excluded.pages",
	[ST_MEMSTAT] =
		"INSERT OR REPLACE INTO memstat (ts, cgroup, anon_bytes, file_bytes, anon_delta, "
		"file_delta, total_anon_bytes, total_file_bytes, mapped_file_bytes, "
		"active_file_bytes, inactive_file_bytes, usage_bytes, limit_bytes, failcnt, "
		"workingset_refault_file, total_workingset_refault_file, pgmajfault) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_MAX];
};

int store_open(struct store **ret, sqlite3 *db)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->db = db;
	for (int i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			*ret = s; /* caller reads store_errmsg, then frees */
			return -EIO;
		}
	*ret = s;
	return 0;
}

struct store *store_free(struct store *s)
{
	if (!s)
		return NULL;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

const char *store_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

static void bind_i64(sqlite3_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(st, i, v);
}

/* -1 (or INT64_MIN for deltas) = unknown: bind NULL. */
static void bind_opt(sqlite3_stmt *st, int i, int64_t v, int64_t unknown)
{
	if (v == unknown)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Run a bound statement to completion and reset it. */
static int run(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return (rc & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
}

int store_begin(struct store *s)
{
	return run(s, ST_BEGIN);
}

int store_commit(struct store *s)
{
	return run(s, ST_COMMIT);
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run(s, ST_ROLLBACK);
}

int store_run_start(struct store *s, const struct run_info *ri, int64_t *ret_run)
{
	sqlite3_stmt *st = s->st[ST_RUN_START];
	int r;

	bind_i64(st, 1, ri->started);
	bind_text(st, 2, ri->hostname);
	bind_text(st, 3, ri->kernel);
	bind_text(st, 4, ri->version);
	bind_text(st, 5, ri->hooks);
	bind_text(st, 6, ri->reclaim_context);
	bind_i64(st, 7, ri->interval_s);
	r = run(s, ST_RUN_START);
	if (r == 0)
		*ret_run = sqlite3_last_insert_rowid(s->db);
	return r;
}

int store_run_stop(struct store *s, int64_t run_id, int64_t stopped)
{
	bind_i64(s->st[ST_RUN_STOP], 1, run_id);
	bind_i64(s->st[ST_RUN_STOP], 2, stopped);
	return run(s, ST_RUN_STOP);
}

int store_interval(struct store *s, const struct interval_info *ii)
{
	sqlite3_stmt *st = s->st[ST_INTERVAL];
	int r;

	bind_i64(st, 1, ii->run);
	bind_i64(st, 2, ii->seq);
	bind_i64(st, 3, ii->ts);
	bind_i64(st, 4, ii->duration_ms);
	bind_i64(st, 5, (int64_t)ii->lost_evict);
	bind_i64(st, 6, (int64_t)ii->lost_add);
	bind_i64(st, 7, (int64_t)ii->lost_refault);
	bind_i64(st, 8, (int64_t)ii->lost_shadow);
	bind_i64(st, 9, (int64_t)ii->lost_ringbuf);
	bind_i64(st, 10, (int64_t)ii->lost_exec);
	bind_i64(st, 11, (int64_t)ii->lost_user);
	r = run(s, ST_INTERVAL);
	if (r < 0)
		return r;
	bind_i64(s->st[ST_RUN_FLUSH], 1, ii->run);
	bind_i64(s->st[ST_RUN_FLUSH], 2, ii->ts);
	return run(s, ST_RUN_FLUSH);
}

int store_cgroup(struct store *s, uint64_t id, const char *path, int64_t first_seen,
		 int64_t last_seen, int64_t removed)
{
	sqlite3_stmt *st = s->st[ST_CGROUP];

	bind_i64(st, 1, (int64_t)id);
	bind_text(st, 2, path);
	bind_i64(st, 3, first_seen);
	bind_i64(st, 4, last_seen);
	bind_opt(st, 5, removed, 0);
	return run(s, ST_CGROUP);
}

int store_file(struct store *s, uint64_t dev, uint64_t ino, uint32_t gen, const char *kind,
	       const char *path, const char *path_source, bool deleted, int64_t now,
	       int64_t *ret_id)
{
	sqlite3_stmt *st = s->st[ST_FILE];
	int rc;

	bind_i64(st, 1, (int64_t)dev);
	bind_i64(st, 2, (int64_t)ino);
	bind_i64(st, 3, gen);
	bind_text(st, 4, kind);
	bind_text(st, 5, path);
	bind_text(st, 6, path_source);
	bind_i64(st, 7, deleted);
	bind_i64(st, 8, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(st, 0);
	/* RETURNING: step to completion before the statement is reset. */
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	return (rc & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
}

int store_eviction(struct store *s, int64_t ts, uint64_t victim, uint64_t root,
		   uint64_t reclaimer, int cause, int64_t file, bool exec, uint64_t events,
		   uint64_t pages)
{
	sqlite3_stmt *st = s->st[ST_EVICTION];

	bind_i64(st, 1, ts);
	bind_i64(st, 2, (int64_t)victim);
	bind_i64(st, 3, (int64_t)root);
	bind_i64(st, 4, (int64_t)reclaimer);
	bind_i64(st, 5, cause);
	bind_i64(st, 6, file);
	bind_i64(st, 7, exec);
	bind_i64(st, 8, (int64_t)events);
	bind_i64(st, 9, (int64_t)pages);
	return run(s, ST_EVICTION);
}

int store_addition(struct store *s, int64_t ts, uint64_t cgroup, int64_t file, uint64_t events,
		   uint64_t pages)
{
	sqlite3_stmt *st = s->st[ST_ADDITION];

	bind_i64(st, 1, ts);
	bind_i64(st, 2, (int64_t)cgroup);
	bind_i64(st, 3, file);
	bind_i64(st, 4, (int64_t)events);
	bind_i64(st, 5, (int64_t)pages);
	return run(s, ST_ADDITION);
}

int store_refault(struct store *s, int64_t ts, uint64_t cgroup, uint64_t victim, uint64_t root,
		  uint64_t reclaimer, int cause, int64_t file, bool exec, int64_t evict_ts,
		  uint64_t events, uint64_t pages)
{
	sqlite3_stmt *st = s->st[ST_REFAULT];

	bind_i64(st, 1, ts);
	bind_i64(st, 2, (int64_t)cgroup);
	bind_i64(st, 3, (int64_t)victim);
	bind_i64(st, 4, (int64_t)root);
	bind_i64(st, 5, (int64_t)reclaimer);
	bind_i64(st, 6, cause);
	bind_i64(st, 7, file);
	bind_i64(st, 8, exec);
	bind_i64(st, 9, evict_ts);
	bind_i64(st, 10, (int64_t)events);
	bind_i64(st, 11, (int64_t)pages);
	return run(s, ST_REFAULT);
}

int store_credit_refault(struct store *s, int64_t evict_ts, uint64_t victim, uint64_t root,
			 uint64_t reclaimer, int cause, int64_t file, bool exec, uint64_t pages)
{
	sqlite3_stmt *st = s->st[ST_CREDIT];

	bind_i64(st, 1, evict_ts);
	bind_i64(st, 2, (int64_t)victim);
	bind_i64(st, 3, (int64_t)root);
	bind_i64(st, 4, (int64_t)reclaimer);
	bind_i64(st, 5, cause);
	bind_i64(st, 6, file);
	bind_i64(st, 7, exec);
	bind_i64(st, 8, (int64_t)pages);
	return run(s, ST_CREDIT);
}

int store_refault_hist(struct store *s, int64_t ts, uint64_t cgroup, uint64_t victim,
		       int64_t file, int cause, bool exec, int bucket, uint64_t pages)
{
	sqlite3_stmt *st = s->st[ST_HIST];

	bind_i64(st, 1, ts);
	bind_i64(st, 2, (int64_t)cgroup);
	bind_i64(st, 3, (int64_t)victim);
	bind_i64(st, 4, file);
	bind_i64(st, 5, cause);
	bind_i64(st, 6, exec);
	bind_i64(st, 7, bucket);
	bind_i64(st, 8, (int64_t)pages);
	return run(s, ST_HIST);
}

int store_memstat(struct store *s, int64_t ts, uint64_t cgroup, const struct memstat *m,
		  int64_t anon_delta, int64_t file_delta)
{
	sqlite3_stmt *st = s->st[ST_MEMSTAT];

	bind_i64(st, 1, ts);
	bind_i64(st, 2, (int64_t)cgroup);
	bind_opt(st, 3, m->anon, -1);
	bind_opt(st, 4, m->file, -1);
	bind_opt(st, 5, anon_delta, INT64_MIN);
	bind_opt(st, 6, file_delta, INT64_MIN);
	bind_opt(st, 7, m->total_anon, -1);
	bind_opt(st, 8, m->total_file, -1);
	bind_opt(st, 9, m->mapped_file, -1);
	bind_opt(st, 10, m->active_file, -1);
	bind_opt(st, 11, m->inactive_file, -1);
	bind_opt(st, 12, m->usage, -1);
	bind_opt(st, 13, m->limit, -1);
	bind_opt(st, 14, m->failcnt, -1);
	bind_opt(st, 15, m->refault_file, -1);
	bind_opt(st, 16, m->total_refault_file, -1);
	bind_opt(st, 17, m->pgmajfault, -1);
	return run(s, ST_MEMSTAT);
}
