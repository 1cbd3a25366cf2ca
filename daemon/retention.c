// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Roll-ups and expiry.
 *
 * A bucket is (b - bucket_seconds, b] with b a multiple of bucket_seconds.
 * Rolling it up replaces its raw rows in each fact table by one row per
 * key with the counters summed and ts = b: evictions, additions and
 * refault_hist sum; memstat keeps the last reading of each cgroup in the
 * bucket with its growth summed, so "held" and "grew" keep their meaning.
 * Each bucket is one transaction that also advances rollups.upto: a crash
 * leaves either the raw rows or the rolled-up ones, never both.
 *
 * Every statement's values are bound; the table names are constants.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "retention.h"

/* Roll-up of one bucket: ?1 = bucket start (exclusive), ?2 = bucket end. */
static const char *const rollup_sql[] = {
	"CREATE TEMP TABLE IF NOT EXISTS r_ev AS SELECT * FROM evictions WHERE 0",
	"DELETE FROM temp.r_ev",
	"INSERT INTO temp.r_ev SELECT ?2, victim, root, reclaimer, cause, file, exec, "
	"SUM(events), SUM(pages), SUM(refaulted_pages) FROM evictions "
	"WHERE ts > ?1 AND ts <= ?2 GROUP BY victim, root, reclaimer, cause, file, exec",
	"DELETE FROM evictions WHERE ts > ?1 AND ts <= ?2",
	"INSERT INTO evictions SELECT * FROM temp.r_ev",

	"CREATE TEMP TABLE IF NOT EXISTS r_add AS SELECT * FROM additions WHERE 0",
	"DELETE FROM temp.r_add",
	"INSERT INTO temp.r_add SELECT ?2, cgroup, file, SUM(events), SUM(pages) FROM additions "
	"WHERE ts > ?1 AND ts <= ?2 GROUP BY cgroup, file",
	"DELETE FROM additions WHERE ts > ?1 AND ts <= ?2",
	"INSERT INTO additions SELECT * FROM temp.r_add",

	"CREATE TEMP TABLE IF NOT EXISTS r_hist AS SELECT * FROM refault_hist WHERE 0",
	"DELETE FROM temp.r_hist",
	"INSERT INTO temp.r_hist SELECT ?2, cgroup, victim, file, cause, exec, bucket, SUM(pages) "
	"FROM refault_hist WHERE ts > ?1 AND ts <= ?2 "
	"GROUP BY cgroup, victim, file, cause, exec, bucket",
	"DELETE FROM refault_hist WHERE ts > ?1 AND ts <= ?2",
	"INSERT INTO refault_hist SELECT * FROM temp.r_hist",

	/* memstat: the last row of each cgroup carries the bucket's growth. */
	"CREATE TEMP TABLE IF NOT EXISTS r_ms (cgroup INTEGER PRIMARY KEY, last INTEGER, "
	"ad INTEGER, fd INTEGER)",
	"DELETE FROM temp.r_ms",
	"INSERT INTO temp.r_ms SELECT cgroup, MAX(ts), SUM(anon_delta), SUM(file_delta) "
	"FROM memstat WHERE ts > ?1 AND ts <= ?2 GROUP BY cgroup",
	"DELETE FROM memstat WHERE ts > ?1 AND ts <= ?2 AND ts < "
	"(SELECT last FROM temp.r_ms WHERE r_ms.cgroup = memstat.cgroup)",
	"UPDATE memstat SET ts = ?2, anon_delta = r.ad, file_delta = r.fd FROM temp.r_ms AS r "
	"WHERE memstat.cgroup = r.cgroup AND memstat.ts = r.last AND memstat.ts > ?1",

	"INSERT INTO rollups (step, upto) VALUES ('rollup', ?2) "
	"ON CONFLICT (step) DO UPDATE SET upto = excluded.upto",
};

/* Expiry: ?1 = delete rows with ts <= ?1. */
static const char *const expire_sql[] = {
	"DELETE FROM evictions WHERE ts <= ?1",
	"DELETE FROM additions WHERE ts <= ?1",
	"DELETE FROM refault_hist WHERE ts <= ?1",
	"DELETE FROM refaults WHERE ts <= ?1",
	"DELETE FROM memstat WHERE ts <= ?1",
	"DELETE FROM intervals WHERE ts <= ?1",
	"INSERT INTO rollups (step, upto) VALUES ('expire', ?1) "
	"ON CONFLICT (step) DO UPDATE SET upto = excluded.upto",
};

/*
 * The summaries behind v_exec_thrash, recomputed from the rows that are
 * left: after old rows expire, and once in a database that has rows from
 * before the summaries existed.
 */
static const char *const rebuild_sql[] = {
	"DELETE FROM exec_summary",
	"INSERT INTO exec_summary SELECT victim, file, SUM(pages), SUM(refaulted_pages), "
	"MIN(ts), MAX(ts) FROM evictions WHERE exec = 1 GROUP BY victim, file",
	"DELETE FROM exec_causes",
	"INSERT INTO exec_causes SELECT victim, file, cause, SUM(pages) FROM evictions "
	"WHERE exec = 1 GROUP BY victim, file, cause",
	"DELETE FROM exec_roots",
	"INSERT INTO exec_roots SELECT victim, file, root, SUM(pages) FROM evictions "
	"WHERE exec = 1 GROUP BY victim, file, root",
	"DELETE FROM exec_hist",
	"INSERT INTO exec_hist SELECT victim, file, bucket, SUM(pages) FROM refault_hist "
	"WHERE exec = 1 GROUP BY victim, file, bucket",
	"DELETE FROM pressure_peaks",
	/* Per (victim, root) episode: each cgroup under the root, its level
	 * before the episode (held minus the first interval's growth) and its
	 * peak.  CROSS JOIN keeps the cheap join order. */
	"INSERT INTO pressure_peaks SELECT victim, root, cgroup, base, MAX(held) FROM ("
	" SELECT e.victim, e.root, m.cgroup,"
	"  COALESCE(m.anon_bytes, 0) + COALESCE(m.file_bytes, 0) AS held,"
	"  FIRST_VALUE(COALESCE(m.anon_bytes, 0) + COALESCE(m.file_bytes, 0)"
	"   - COALESCE(m.anon_delta, 0) - COALESCE(m.file_delta, 0))"
	"   OVER (PARTITION BY e.victim, e.root, m.cgroup ORDER BY m.ts) AS base"
	" FROM (SELECT victim, root, MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM evictions"
	"       WHERE exec = 1 AND root != 0 GROUP BY victim, root) e"
	" CROSS JOIN cgroups rc ON rc.id = e.root"
	" CROSS JOIN cgroups c ON c.path = rc.path OR rc.path = '/'"
	"  OR substr(c.path, 1, length(rc.path) + 1) = rc.path || '/'"
	" CROSS JOIN memstat m INDEXED BY memstat_cgroup"
	"  ON m.cgroup = c.id AND m.ts BETWEEN e.first_ts AND e.last_ts)"
	" GROUP BY victim, root, cgroup",
	"INSERT INTO rollups (step, upto) VALUES ('summary', 1) "
	"ON CONFLICT (step) DO UPDATE SET upto = excluded.upto",
};

static int exec_bound(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	/* Statements without parameters ignore the bindings. */
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return (rc & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
}

static int run_all(sqlite3 *db, const char *const *sql, size_t n, int64_t a, int64_t b)
{
	int r = exec_bound(db, "BEGIN IMMEDIATE", 0, 0);

	for (size_t i = 0; r == 0 && i < n; i++)
		r = exec_bound(db, sql[i], a, b);
	if (r == 0)
		r = exec_bound(db, "COMMIT", 0, 0);
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int retention_load(struct retention *r, sqlite3 *db)
{
	sqlite3_stmt *st;

	r->rolled_upto = r->expired_upto = 0;
	r->summaries_built = false;
	if (sqlite3_prepare_v2(db, "SELECT step, upto FROM rollups", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *step = (const char *)sqlite3_column_text(st, 0);

		if (step && strcmp(step, "rollup") == 0)
			r->rolled_upto = sqlite3_column_int64(st, 1);
		else if (step && strcmp(step, "expire") == 0)
			r->expired_upto = sqlite3_column_int64(st, 1);
		else if (step && strcmp(step, "summary") == 0)
			r->summaries_built = true;
	}
	sqlite3_finalize(st);
	return 0;
}

int64_t retention_ts_of(const struct retention *r, int64_t ts)
{
	int64_t b = r->bucket_seconds;

	if (b <= 0 || ts > r->rolled_upto)
		return ts;
	return (ts + b - 1) / b * b;
}

int retention_run(struct retention *r, sqlite3 *db, int64_t now, int max_buckets)
{
	int64_t b = r->bucket_seconds, due, next;
	int done = 0, err;

	if (!r->summaries_built) {
		err = run_all(db, rebuild_sql, sizeof(rebuild_sql) / sizeof(rebuild_sql[0]), 0, 0);
		if (err < 0)
			return err;
		r->summaries_built = true;
	}
	if (b > 0 && r->raw_seconds > 0) {
		due = (now - r->raw_seconds) / b * b; /* last bucket end old enough */
		next = r->rolled_upto ? r->rolled_upto + b : 0;
		if (!next) {
			/* First roll-up ever: start at the oldest raw row's bucket. */
			sqlite3_stmt *st;

			if (sqlite3_prepare_v2(db, "SELECT MIN(ts) FROM intervals", -1, &st, NULL) ==
			    SQLITE_OK) {
				if (sqlite3_step(st) == SQLITE_ROW &&
				    sqlite3_column_type(st, 0) != SQLITE_NULL)
					next = (sqlite3_column_int64(st, 0) + b - 1) / b * b;
				sqlite3_finalize(st);
			}
			if (!next)
				next = due;
		}
		for (; next <= due && done < max_buckets; next += b, done++) {
			err = run_all(db, rollup_sql, sizeof(rollup_sql) / sizeof(rollup_sql[0]),
				      next - b, next);
			if (err < 0)
				return err;
			r->rolled_upto = next;
		}
	}
	/* Expire every 6 hours: each time the summaries are recomputed. */
	if (r->keep_seconds > 0 && now - r->keep_seconds > r->expired_upto + 6 * 3600) {
		err = run_all(db, expire_sql, sizeof(expire_sql) / sizeof(expire_sql[0]),
			      now - r->keep_seconds, 0);
		if (err == 0)
			err = run_all(db, rebuild_sql, sizeof(rebuild_sql) / sizeof(rebuild_sql[0]),
				      0, 0);
		if (err < 0)
			return err;
		r->expired_upto = now - r->keep_seconds;
		/* Give the freed pages back to the file system, a bounded amount. */
		sqlite3_exec(db, "PRAGMA incremental_vacuum(20000)", NULL, NULL, NULL);
	}
	return done;
}
