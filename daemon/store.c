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
	ST_CREDIT,
	ST_HIST,
	ST_MEMSTAT,
	ST_EXEC_SUMMARY,
	ST_EXEC_CAUSE,
	ST_EXEC_ROOT,
	ST_EXEC_REFAULT,
	ST_EXEC_HIST,
	ST_PRESSURE,
	ST_MAX,
};

static const char *const sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_RUN_START] =
		"INSERT INTO runs (started, hostname, kernel, version, hooks, reclaim_context, "
		"interval_s, refault_sample) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_RUN_STOP] = "UPDATE runs SET stopped = ?2 WHERE id = ?1",
	[ST_RUN_FLUSH] = "UPDATE runs SET last_flush = ?2 WHERE id = ?1",
	[ST_INTERVAL] =
		"INSERT INTO intervals (run, seq, ts, duration_ms, lost_evict, lost_add, "
		"lost_refault, lost_shadow, lost_ringbuf, lost_exec, lost_user, dropped_names, "
		"shadow_displaced) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	/* Known names are never replaced by unknown ones (a restarted daemon
	 * or a forgotten entry learns a cgroup again without its path). */
	[ST_CGROUP] =
		"INSERT INTO cgroups (id, path, first_seen, last_seen, removed, pod_uid, "
		"namespace, pod, container, container_id, qos, runtime, unit) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		"ON CONFLICT (id) DO UPDATE SET "
		"path = COALESCE(excluded.path, path), "
		"last_seen = MAX(last_seen, excluded.last_seen), "
		"removed = COALESCE(excluded.removed, removed), "
		"pod_uid = COALESCE(excluded.pod_uid, pod_uid), "
		"namespace = COALESCE(excluded.namespace, namespace), "
		"pod = COALESCE(excluded.pod, pod), "
		"container = COALESCE(excluded.container, container), "
		"container_id = COALESCE(excluded.container_id, container_id), "
		"qos = COALESCE(excluded.qos, qos), runtime = COALESCE(excluded.runtime, runtime), "
		"unit = COALESCE(excluded.unit, unit)",
	[ST_FILE] =
		"INSERT INTO files (dev, ino, gen, kind, path, path_source, deleted, first_seen, "
		"last_seen, container_path, path_note) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10) "
		"ON CONFLICT (dev, ino, gen) DO UPDATE SET last_seen = excluded.last_seen, "
		"path = COALESCE(excluded.path, path), "
		"path_source = COALESCE(excluded.path_source, path_source), "
		"container_path = COALESCE(excluded.container_path, container_path), "
		"path_note = CASE WHEN COALESCE(excluded.path, path) IS NULL "
		"THEN COALESCE(excluded.path_note, path_note) END, "
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
	[ST_CREDIT] =
		"UPDATE evictions SET refaulted_pages = refaulted_pages + ?8 WHERE ts = ?1 AND "
		"victim = ?2 AND root = ?3 AND reclaimer = ?4 AND cause = ?5 AND file = ?6 AND "
		"exec = ?7",
	[ST_HIST] =
		"INSERT INTO refault_hist (ts, cgroup, victim, file, cause, exec, bucket, pages) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		"ON CONFLICT DO UPDATE SET pages = pages + excluded.pages",
	/* Two intervals ending in the same second: latest values, summed growth. */
	[ST_MEMSTAT] =
		"INSERT INTO memstat (ts, cgroup, anon_bytes, file_bytes, anon_delta, "
		"file_delta, total_anon_bytes, total_file_bytes, mapped_file_bytes, "
		"active_file_bytes, inactive_file_bytes, usage_bytes, limit_bytes, failcnt, "
		"workingset_refault_file, total_workingset_refault_file, pgmajfault) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
		"ON CONFLICT DO UPDATE SET anon_bytes = excluded.anon_bytes, "
		"file_bytes = excluded.file_bytes, "
		"anon_delta = CASE WHEN anon_delta IS NULL OR excluded.anon_delta IS NULL "
		"THEN COALESCE(excluded.anon_delta, anon_delta) "
		"ELSE anon_delta + excluded.anon_delta END, "
		"file_delta = CASE WHEN file_delta IS NULL OR excluded.file_delta IS NULL "
		"THEN COALESCE(excluded.file_delta, file_delta) "
		"ELSE file_delta + excluded.file_delta END, "
		"total_anon_bytes = excluded.total_anon_bytes, "
		"total_file_bytes = excluded.total_file_bytes, "
		"mapped_file_bytes = excluded.mapped_file_bytes, "
		"active_file_bytes = excluded.active_file_bytes, "
		"inactive_file_bytes = excluded.inactive_file_bytes, "
		"usage_bytes = excluded.usage_bytes, limit_bytes = excluded.limit_bytes, "
		"failcnt = excluded.failcnt, "
		"workingset_refault_file = excluded.workingset_refault_file, "
		"total_workingset_refault_file = excluded.total_workingset_refault_file, "
		"pgmajfault = excluded.pgmajfault",
	/* Summaries behind v_exec_thrash, kept in step with the rows above. */
	[ST_EXEC_SUMMARY] =
		"INSERT INTO exec_summary (victim, file, evicted_pages, refaulted_pages, first_ts, "
		"last_ts) VALUES (?1, ?2, ?3, 0, ?4, ?4) ON CONFLICT DO UPDATE SET "
		"evicted_pages = evicted_pages + excluded.evicted_pages, "
		"first_ts = MIN(first_ts, excluded.first_ts), "
		"last_ts = MAX(last_ts, excluded.last_ts)",
	[ST_EXEC_CAUSE] =
		"INSERT INTO exec_causes (victim, file, cause, pages) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT DO UPDATE SET pages = pages + excluded.pages",
	[ST_EXEC_ROOT] =
		"INSERT INTO exec_roots (victim, file, root, pages) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT DO UPDATE SET pages = pages + excluded.pages",
	[ST_EXEC_REFAULT] =
		"UPDATE exec_summary SET refaulted_pages = refaulted_pages + ?3 "
		"WHERE victim = ?1 AND file = ?2",
	[ST_EXEC_HIST] =
		"INSERT INTO exec_hist (victim, file, bucket, pages) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT DO UPDATE SET pages = pages + excluded.pages",
	[ST_PRESSURE] =
		"INSERT INTO pressure_peaks (victim, root, cgroup, base, peak) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
		"peak = MAX(peak, excluded.peak)",
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

/* Bind v[0..n) to ?1..?n and run; INT64_MIN binds NULL. */
static int run_with(struct store *s, enum stmt_id id, const int64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		bind_opt(s->st[id], i + 1, v[i], INT64_MIN);
	return run(s, id);
}

#define RUN_WITH(s, id, ...)                                                   \
	run_with(s, id, (const int64_t[]){ __VA_ARGS__ },                      \
		 sizeof((const int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t))

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
	bind_i64(st, 8, ri->refault_sample ? ri->refault_sample : 1);
	r = run(s, ST_RUN_START);
	if (r == 0)
		*ret_run = sqlite3_last_insert_rowid(s->db);
	return r;
}

int store_run_stop(struct store *s, int64_t run_id, int64_t stopped)
{
	return RUN_WITH(s, ST_RUN_STOP, run_id, stopped);
}

int store_interval(struct store *s, const struct interval_info *ii)
{
	int r = RUN_WITH(s, ST_INTERVAL, ii->run, ii->seq, ii->ts, ii->duration_ms,
			 (int64_t)ii->lost_evict, (int64_t)ii->lost_add, (int64_t)ii->lost_refault,
			 (int64_t)ii->lost_shadow, (int64_t)ii->lost_ringbuf, (int64_t)ii->lost_exec,
			 (int64_t)ii->lost_user, (int64_t)ii->dropped_names,
			 (int64_t)ii->shadow_displaced);

	return r < 0 ? r : RUN_WITH(s, ST_RUN_FLUSH, ii->run, ii->ts);
}

int store_cgroup(struct store *s, const struct cgroup_row *c)
{
	sqlite3_stmt *st = s->st[ST_CGROUP];
	const char *text[] = { c->pod_uid, c->namespace, c->pod, c->container, c->container_id,
			       c->qos, c->runtime, c->unit };

	bind_i64(st, 1, (int64_t)c->id);
	bind_text(st, 2, c->path);
	bind_i64(st, 3, c->first_seen);
	bind_i64(st, 4, c->last_seen);
	bind_opt(st, 5, c->removed, 0);
	for (int i = 0; i < (int)ARRAY_SIZE(text); i++)
		bind_text(st, 6 + i, text[i]);
	return run(s, ST_CGROUP);
}

int store_file(struct store *s, const struct file_row *f, int64_t now, int64_t *ret_id)
{
	sqlite3_stmt *st = s->st[ST_FILE];
	int rc;

	bind_i64(st, 1, (int64_t)f->dev);
	bind_i64(st, 2, (int64_t)f->ino);
	bind_i64(st, 3, f->gen);
	bind_text(st, 4, f->kind);
	bind_text(st, 5, f->path);
	bind_text(st, 6, f->path_source);
	bind_i64(st, 7, f->deleted);
	bind_i64(st, 8, now);
	bind_text(st, 9, f->container_path);
	bind_text(st, 10, f->path_note);
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
	int r = RUN_WITH(s, ST_EVICTION, ts, (int64_t)victim, (int64_t)root, (int64_t)reclaimer,
			 cause, file, exec, (int64_t)events, (int64_t)pages);

	if (r < 0 || !exec)
		return r;
	r = RUN_WITH(s, ST_EXEC_SUMMARY, (int64_t)victim, file, (int64_t)pages, ts);
	if (r == 0)
		r = RUN_WITH(s, ST_EXEC_CAUSE, (int64_t)victim, file, cause, (int64_t)pages);
	if (r == 0)
		r = RUN_WITH(s, ST_EXEC_ROOT, (int64_t)victim, file, (int64_t)root, (int64_t)pages);
	return r;
}

int store_addition(struct store *s, int64_t ts, uint64_t cgroup, int64_t file, uint64_t events,
		   uint64_t pages)
{
	return RUN_WITH(s, ST_ADDITION, ts, (int64_t)cgroup, file, (int64_t)events,
			(int64_t)pages);
}

int store_credit_refault(struct store *s, int64_t evict_ts, uint64_t victim, uint64_t root,
			 uint64_t reclaimer, int cause, int64_t file, bool exec, uint64_t pages)
{
	int r = RUN_WITH(s, ST_CREDIT, evict_ts, (int64_t)victim, (int64_t)root,
			 (int64_t)reclaimer, cause, file, exec, (int64_t)pages);

	/* Only what reached an eviction row counts in its summary too. */
	if (r < 0 || !exec || sqlite3_changes(s->db) == 0)
		return r;
	return RUN_WITH(s, ST_EXEC_REFAULT, (int64_t)victim, file, (int64_t)pages);
}

int store_refault_hist(struct store *s, int64_t ts, uint64_t cgroup, uint64_t victim,
		       int64_t file, int cause, bool exec, int bucket, uint64_t pages)
{
	int r = RUN_WITH(s, ST_HIST, ts, (int64_t)cgroup, (int64_t)victim, file, cause, exec,
			 bucket, (int64_t)pages);

	if (r < 0 || !exec)
		return r;
	return RUN_WITH(s, ST_EXEC_HIST, (int64_t)victim, file, bucket, (int64_t)pages);
}

int store_pressure_peak(struct store *s, uint64_t victim, uint64_t root, uint64_t cgroup,
			int64_t held, int64_t grew)
{
	return RUN_WITH(s, ST_PRESSURE, (int64_t)victim, (int64_t)root, (int64_t)cgroup,
			held - grew, held);
}

/* struct memstat uses -1 for "not reported": NULL in the database. */
static int64_t opt(int64_t v)
{
	return v == -1 ? INT64_MIN : v;
}

int store_memstat(struct store *s, int64_t ts, uint64_t cgroup, const struct memstat *m,
		  int64_t anon_delta, int64_t file_delta)
{
	return RUN_WITH(s, ST_MEMSTAT, ts, (int64_t)cgroup, opt(m->anon), opt(m->file),
			anon_delta, file_delta, opt(m->total_anon), opt(m->total_file),
			opt(m->mapped_file), opt(m->active_file), opt(m->inactive_file),
			opt(m->usage), opt(m->limit), opt(m->failcnt), opt(m->refault_file),
			opt(m->total_refault_file), opt(m->pgmajfault));
}
