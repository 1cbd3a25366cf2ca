// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of database creation, recognition and migration
 * (daemon/migrate.c) with the embedded schema: a new file gets mode 0640
 * whatever the umask, cachewatch's application_id, the latest user_version,
 * WAL journaling and every view of the public contract with its documented
 * columns; reopening changes nothing; the causes table matches enum cw_cause
 * and the refault buckets are contiguous.  Files that are not ours (text,
 * another program's SQLite database, a newer cachewatch, a directory) are
 * refused with a clear message and left byte-for-byte as they were, without
 * -wal/-shm files appearing next to them.  All under a mkdtemp directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/types.h>
#include <sqlite3.h>

#include "cachewatch.h"
#include "migrate.h"
#include "test.h"
#include "util.h"

static char tmpdir[] = "/tmp/cw-test-migrate.XXXXXX";

static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool side_file_exists(const char *path, const char *suffix)
{
	char side[4200];

	snprintf(side, sizeof(side), "%s%s", path, suffix);
	return exists(side);
}

/* Whole content of a file (malloc'd, *len bytes); NULL on error. */
static unsigned char *slurp(const char *path, size_t *len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap ? 2 * cap : 65536);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap = cap ? 2 * cap : 65536;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	*len = n;
	return buf;
}

static bool write_text(const char *path, const char *text)
{
	_cleanup_fclose_ FILE *f = fopen(path, "we");

	if (!f)
		return TEST_FAIL_("cannot create %s: %m", path);
	fputs(text, f);
	return true;
}

static bool contains(const char *haystack, const char *needle, const char *name)
{
	test_checks++;
	if (strstr(haystack, needle))
		return true;
	return TEST_FAIL_("%s: message \"%s\" does not contain \"%s\"", name, haystack, needle);
}

/* First column of the first row as an integer; INT64_MIN on error. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = INT64_MIN;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "prepare \"%s\": %s\n", sql, sqlite3_errmsg(db));
		return v;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* First column of the first row as text (malloc'd); NULL on error. */
static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static bool exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		TEST_FAIL_("\"%s\": %s", sql, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return false;
	}
	return true;
}

/* A fresh cachewatch database at tmpdir/name, closed again. */
static bool make_cachewatch_db(const char *path)
{
	sqlite3 *db = NULL;
	bool created = false;
	char err[512] = "";
	int r;

	r = db_open_writer(path, &db, &created, err, sizeof(err));
	if (!ASSERT_OK(r, "db_open_writer for a fixture")) {
		fprintf(stderr, "  %s\n", err);
		return false;
	}
	sqlite3_close(db);
	return true;
}

/* An SQLite database of another program: one table, then the pragmas. */
static bool make_foreign_db(const char *path, const char *pragmas)
{
	sqlite3 *db = NULL;
	bool ok;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return TEST_FAIL_("sqlite3_open %s", path);
	}
	ok = exec(db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
		      "INSERT INTO notes (body) VALUES ('keep me');") &&
	     (!pragmas || exec(db, pragmas));
	sqlite3_close(db);
	return ok;
}

static void test_schema_version(void)
{
	ASSERT_TRUE(db_schema_version() >= 1, "schema version >= 1");
	ASSERT_TRUE(cw_migrations_count >= 1, "at least one migration");
	/* Migrations are numbered 1, 2, 3 ... in order. */
	for (size_t i = 0; i < cw_migrations_count; i++) {
		ASSERT_EQ(cw_migrations[i].version, (int)i + 1, cw_migrations[i].name);
		ASSERT_NOT_NULL(cw_migrations[i].sql, cw_migrations[i].name);
	}
	ASSERT_EQ(db_schema_version(), cw_migrations[cw_migrations_count - 1].version,
		  "schema version is the last migration");
}

/* Every documented column of a view is there. */
static void check_view(sqlite3 *db, const char *view, const char *const *cols, size_t ncols)
{
	_cleanup_free_ char *sql = NULL;
	sqlite3_stmt *st = NULL;
	int n, rc;

	if (asprintf(&sql, "SELECT * FROM %s", view) < 0)
		return;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (!ASSERT_EQ(rc, SQLITE_OK, view)) {
		fprintf(stderr, "  %s\n", sqlite3_errmsg(db));
		return;
	}
	/* Queryable on an empty database: no rows, no error. */
	rc = sqlite3_step(st);
	if (!ASSERT_EQ(rc, SQLITE_DONE, view))
		fprintf(stderr, "  %s: %s\n", view, sqlite3_errmsg(db));
	n = sqlite3_column_count(st);
	for (size_t i = 0; i < ncols; i++) {
		bool found = false;
		char name[128];

		for (int k = 0; k < n && !found; k++)
			found = strcmp(sqlite3_column_name(st, k), cols[i]) == 0;
		snprintf(name, sizeof(name), "%s has column %s", view, cols[i]);
		ASSERT_TRUE(found, name);
	}
	sqlite3_finalize(st);
}

static void check_views(sqlite3 *db)
{
	static const char *const v_evictions[] = {
		"ts", "victim", "reclaim_root", "reclaimer", "cause", "file",
		"dev", "ino", "exec", "pages", "refaulted_pages",
	};
	static const char *const v_refaults[] = {
		"ts", "cgroup", "file", "dev", "ino", "exec", "pages", "cause",
		"median_refault_ms",
	};
	static const char *const v_pressure[] = {
		"ts", "reclaim_root", "cgroup", "anon_bytes", "file_bytes", "anon_delta",
		"file_delta",
	};
	static const char *const v_exec_thrash[] = {
		"victim", "file", "evicted_pages", "refaulted_pages", "median_refault_ms",
		"top_cause", "top_reclaim_root", "top_pressure", "first_ts", "last_ts",
	};
	static const char *const v_cgroups[] = {
		"id", "path", "pod_uid", "namespace", "pod", "container", "container_id",
		"first_seen", "last_seen",
	};
	static const char *const v_runs[] = {
		"started", "stopped", "hostname", "kernel", "version", "lost_events", "hooks",
	};

	check_view(db, "v_evictions", v_evictions, ARRAY_SIZE(v_evictions));
	check_view(db, "v_refaults", v_refaults, ARRAY_SIZE(v_refaults));
	check_view(db, "v_pressure", v_pressure, ARRAY_SIZE(v_pressure));
	check_view(db, "v_exec_thrash", v_exec_thrash, ARRAY_SIZE(v_exec_thrash));
	check_view(db, "v_cgroups", v_cgroups, ARRAY_SIZE(v_cgroups));
	check_view(db, "v_runs", v_runs, ARRAY_SIZE(v_runs));
	ASSERT_EQ(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND "
				"name IN ('v_evictions', 'v_refaults', 'v_pressure', "
				"'v_exec_thrash', 'v_cgroups', 'v_runs')"),
		  6, "all six contract views");
}

/* causes matches enum cw_cause name by name. */
static void check_causes(sqlite3 *db)
{
	static const struct {
		int id;
		const char *name;
	} causes[] = {
		{ CW_CAUSE_OTHER, "other" },
		{ CW_CAUSE_LIMIT, "limit" },
		{ CW_CAUSE_LIMIT_SHRINK, "limit_shrink" },
		{ CW_CAUSE_HIGH, "high" },
		{ CW_CAUSE_PROACTIVE, "proactive" },
		{ CW_CAUSE_PAGEOUT, "pageout" },
		{ CW_CAUSE_KSWAPD, "kswapd" },
		{ CW_CAUSE_DIRECT, "direct" },
		{ CW_CAUSE_DROP_CACHES, "drop_caches" },
		{ CW_CAUSE_INVALIDATE, "invalidate" },
		{ CW_CAUSE_TRUNCATE, "truncate" },
	};
	_Static_assert(sizeof(causes) / sizeof(causes[0]) == CW_CAUSE_MAX,
		       "the test lists every enum cw_cause value");

	ASSERT_EQ(query_int(db, "SELECT count(*) FROM causes"), CW_CAUSE_MAX, "causes rows");
	ASSERT_EQ(query_int(db, "SELECT min(id) FROM causes"), 0, "causes first id");
	ASSERT_EQ(query_int(db, "SELECT max(id) FROM causes"), CW_CAUSE_MAX - 1,
		  "causes last id");
	ASSERT_EQ(query_int(db, "SELECT count(*) FROM causes WHERE description = ''"), 0,
		  "every cause described");
	for (size_t i = 0; i < ARRAY_SIZE(causes); i++) {
		char sql[96];
		_cleanup_free_ char *name = NULL;

		snprintf(sql, sizeof(sql), "SELECT name FROM causes WHERE id = %d", causes[i].id);
		name = query_text(db, sql);
		ASSERT_STREQ(name, causes[i].name, sql);
	}
}

/* No libm for one fabs(). */
static double absd(double x)
{
	return x < 0 ? -x : x;
}

/*
 * 64 buckets, two per power of two of microseconds, contiguous.  The BPF
 * side puts every distance below 2 us into bucket 0 and never fills bucket
 * 1, so (schema 2) bucket 0 is [0, 2) us and bucket 1 is empty at 2 us.
 */
static void check_buckets(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	double prev_upper = 0;
	int n = 0;

	ASSERT_EQ(query_int(db, "SELECT count(*) FROM refault_buckets"), CW_HIST_BUCKETS,
		  "refault_buckets rows");
	if (sqlite3_prepare_v2(db, "SELECT bucket, lower_ms, upper_ms, mid_ms FROM "
				   "refault_buckets ORDER BY bucket",
			       -1, &st, NULL) != SQLITE_OK) {
		TEST_FAIL_("select refault_buckets: %s", sqlite3_errmsg(db));
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int b = sqlite3_column_int(st, 0);
		double lo = sqlite3_column_double(st, 1), hi = sqlite3_column_double(st, 2);
		double mid = sqlite3_column_double(st, 3);
		/* lower bound in us: 2^k for b = 2k, 1.5 * 2^k for b = 2k + 1 */
		double expect_lo = b == 0 ? 0.0 : b == 1 ? 0.002
					 : (double)(1ULL << (b / 2)) * (b % 2 ? 1.5 : 1.0) / 1000.0;
		char name[64];

		snprintf(name, sizeof(name), "bucket %d", b);
		if (!ASSERT_EQ(b, n, "buckets numbered from 0 without gaps"))
			break;
		test_checks++;
		if (absd(lo - expect_lo) > expect_lo * 1e-12)
			TEST_FAIL_("%s: lower_ms %.9g, expected %.9g", name, lo, expect_lo);
		test_checks++;
		if (b > 0 && lo != prev_upper)
			TEST_FAIL_("%s: lower_ms %.12g != upper_ms %.12g of bucket %d", name, lo,
				   prev_upper, b - 1);
		test_checks++;
		if (!(hi > lo || (b == 1 && hi == lo)) || absd(mid - (lo + hi) / 2) > hi * 1e-12)
			TEST_FAIL_("%s: lower %.9g upper %.9g mid %.9g", name, lo, hi, mid);
		prev_upper = hi;
		n++;
	}
	sqlite3_finalize(st);
	ASSERT_EQ(n, CW_HIST_BUCKETS, "buckets read");
	ASSERT_EQ(query_int(db, "SELECT lower_ms = 0 AND upper_ms = 0.002 FROM refault_buckets "
				"WHERE bucket = 0"),
		  1, "bucket 0 holds everything below 2 us");
}

static void test_create(void)
{
	char path[512], err[512] = "";
	_cleanup_free_ char *journal = NULL;
	sqlite3 *db = NULL;
	bool created = false;
	struct stat st;
	mode_t old;
	int r;

	tmp_path(path, sizeof(path), "new.db");
	old = umask(0);
	r = db_open_writer(path, &db, &created, err, sizeof(err));
	umask(old);
	if (!ASSERT_OK(r, "db_open_writer on a new path")) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	ASSERT_TRUE(created, "new file reported as created");
	if (ASSERT_EQ(stat(path, &st), 0, "database file exists")) {
		ASSERT_EQ(st.st_mode & 07777, 0640, "mode 0640 with umask 0");
		ASSERT_TRUE(S_ISREG(st.st_mode), "database is a regular file");
	}
	ASSERT_EQ(query_int(db, "PRAGMA application_id"), CW_APPLICATION_ID, "application_id");
	ASSERT_EQ(query_int(db, "PRAGMA user_version"), db_schema_version(), "user_version");
	journal = query_text(db, "PRAGMA journal_mode");
	ASSERT_STREQ(journal, "wal", "journal_mode");
	ASSERT_EQ(query_int(db, "PRAGMA auto_vacuum"), 2, "auto_vacuum incremental");
	check_views(db);
	check_causes(db);
	check_buckets(db);
	/* The writer can write. */
	ASSERT_TRUE(exec(db, "INSERT INTO cgroups (id, path, first_seen, last_seen) "
			     "VALUES (1, '/', 10, 20)"),
		    "writer inserts");
	ASSERT_EQ(query_int(db, "SELECT count(*) FROM v_cgroups WHERE path = '/'"), 1,
		  "v_cgroups shows the row");
	sqlite3_close(db);
	ASSERT_FALSE(side_file_exists(path, "-wal"), "no -wal left after close");

	/* A restrictive umask does not make the file unreadable to the group. */
	tmp_path(path, sizeof(path), "umask077.db");
	old = umask(077);
	r = db_open_writer(path, &db, &created, err, sizeof(err));
	umask(old);
	if (ASSERT_OK(r, "db_open_writer with umask 077")) {
		sqlite3_close(db);
		if (ASSERT_EQ(stat(path, &st), 0, "umask 077 database exists"))
			ASSERT_EQ(st.st_mode & 07777, 0640, "mode 0640 with umask 077");
	}
}

/* Reopening migrates nothing and duplicates nothing. */
static void test_reopen(void)
{
	char path[512], err[512] = "";
	sqlite3 *db = NULL;
	bool created = true;
	int64_t objects;
	int version;
	int r;

	tmp_path(path, sizeof(path), "new.db");
	r = db_probe(path, &version, err, sizeof(err));
	ASSERT_EQ(r, 0, "db_probe of a cachewatch database");
	ASSERT_EQ(version, db_schema_version(), "db_probe version");

	for (int round = 0; round < 2; round++) {
		r = db_open_writer(path, &db, &created, err, sizeof(err));
		if (!ASSERT_OK(r, "reopen")) {
			fprintf(stderr, "  %s\n", err);
			return;
		}
		ASSERT_FALSE(created, "reopen does not create");
		ASSERT_EQ(query_int(db, "SELECT count(*) FROM causes"), CW_CAUSE_MAX,
			  "causes still 11 rows");
		ASSERT_EQ(query_int(db, "SELECT count(*) FROM refault_buckets"), CW_HIST_BUCKETS,
			  "buckets still 64 rows");
		ASSERT_EQ(query_int(db, "SELECT count(*) FROM cgroups"), 1, "data kept");
		ASSERT_EQ(query_int(db, "PRAGMA user_version"), db_schema_version(),
			  "user_version after reopen");
		ASSERT_EQ(query_int(db, "PRAGMA application_id"), CW_APPLICATION_ID,
			  "application_id after reopen");
		objects = query_int(db, "SELECT count(*) FROM sqlite_schema");
		/* db_migrate on an up-to-date database is a no-op. */
		ASSERT_EQ(db_migrate(db, err, sizeof(err)), 0, "db_migrate up to date");
		ASSERT_EQ(query_int(db, "SELECT count(*) FROM sqlite_schema"), objects,
			  "no schema object added");
		ASSERT_EQ(query_int(db, "SELECT count(*) FROM causes"), CW_CAUSE_MAX,
			  "causes after db_migrate");
		sqlite3_close(db);
		db = NULL;
	}
}

/*
 * db_open_writer and db_open_reader must refuse path with -expected, a
 * message containing needle (and the path), leave the content as it was
 * and create no -wal/-shm.
 */
static void check_refused(const char *path, int expected, const char *needle, const char *what)
{
	_cleanup_free_ unsigned char *before = NULL, *after = NULL;
	size_t len_before = 0, len_after = 0;
	bool had_wal = side_file_exists(path, "-wal"), had_shm = side_file_exists(path, "-shm");
	char err[1024], name[256];
	sqlite3 *db = NULL;
	bool created = true;
	int version = -1, r;
	struct stat st;

	before = slurp(path, &len_before);
	if (!ASSERT_NOT_NULL(before, what))
		return;

	snprintf(name, sizeof(name), "%s: db_probe", what);
	err[0] = 0;
	r = db_probe(path, &version, err, sizeof(err));
	ASSERT_ERR(r, expected, name);
	contains(err, needle, name);
	contains(err, path, name);

	snprintf(name, sizeof(name), "%s: db_open_writer", what);
	err[0] = 0;
	r = db_open_writer(path, &db, &created, err, sizeof(err));
	ASSERT_ERR(r, expected, name);
	contains(err, needle, name);
	contains(err, path, name);
	if (r == 0)
		sqlite3_close(db);
	db = NULL;

	snprintf(name, sizeof(name), "%s: db_open_reader", what);
	err[0] = 0;
	r = db_open_reader(path, &db, err, sizeof(err));
	ASSERT_ERR(r, expected, name);
	contains(err, needle, name);
	if (r == 0)
		sqlite3_close(db);

	after = slurp(path, &len_after);
	snprintf(name, sizeof(name), "%s: file unchanged", what);
	ASSERT_TRUE(after && len_after == len_before && memcmp(before, after, len_before) == 0,
		    name);
	snprintf(name, sizeof(name), "%s: still there", what);
	ASSERT_EQ(stat(path, &st), 0, name);
	snprintf(name, sizeof(name), "%s: no -wal created", what);
	ASSERT_TRUE(had_wal || !side_file_exists(path, "-wal"), name);
	snprintf(name, sizeof(name), "%s: no -shm created", what);
	ASSERT_TRUE(had_shm || !side_file_exists(path, "-shm"), name);
	snprintf(name, sizeof(name), "%s: no -journal created", what);
	ASSERT_FALSE(side_file_exists(path, "-journal"), name);
}

static void test_refusals(void)
{
	char path[512], err[512];
	_cleanup_free_ char *big = NULL;
	sqlite3 *db = NULL;

	/* Text, short and longer than the 100-byte header. */
	tmp_path(path, sizeof(path), "notes.txt");
	if (write_text(path, "hello, this is not a database\n"))
		check_refused(path, -EINVAL, "not an SQLite database", "short text file");
	tmp_path(path, sizeof(path), "long.txt");
	big = malloc(5000);
	if (big) {
		memset(big, 'x', 4999);
		big[4999] = 0;
		memcpy(big, "SQLite format 2", 15); /* close, but not the magic */
		if (write_text(path, big))
			check_refused(path, -EINVAL, "not an SQLite database", "long text file");
	}

	/* Another program's database, without and with an application_id. */
	tmp_path(path, sizeof(path), "foreign.db");
	if (make_foreign_db(path, NULL))
		check_refused(path, -EEXIST, "another program", "foreign SQLite database");
	tmp_path(path, sizeof(path), "foreign-appid.db");
	if (make_foreign_db(path, "PRAGMA application_id = 305419896;")) /* 0x12345678 */
		check_refused(path, -EEXIST, "0x12345678", "foreign application_id");
	tmp_path(path, sizeof(path), "foreign-version.db");
	if (make_foreign_db(path, "PRAGMA user_version = 1;"))
		check_refused(path, -EEXIST, "another program", "foreign with user_version 1");
	/* Only an application_id of its own, no tables. */
	tmp_path(path, sizeof(path), "foreign-empty.db");
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    exec(db, "PRAGMA application_id = 1179403647;")) { /* 0x464c457f */
		sqlite3_close(db);
		db = NULL;
		check_refused(path, -EEXIST, "another program", "foreign empty with app id");
	} else {
		sqlite3_close(db);
		db = NULL;
	}

	/* Written by a newer cachewatch. */
	tmp_path(path, sizeof(path), "newer.db");
	if (make_cachewatch_db(path)) {
		char sql[64];

		if (sqlite3_open(path, &db) == SQLITE_OK) {
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;",
				 db_schema_version() + 1);
			exec(db, sql);
		}
		sqlite3_close(db);
		db = NULL;
		ASSERT_FALSE(side_file_exists(path, "-wal"), "newer db checkpointed");
		check_refused(path, -EPROTO, "newer", "newer cachewatch database");
	}

	/* A directory. */
	tmp_path(path, sizeof(path), "a-directory");
	if (ASSERT_EQ(mkdir(path, 0755), 0, "mkdir")) {
		bool created = true;
		int version;

		err[0] = 0;
		ASSERT_ERR(db_probe(path, &version, err, sizeof(err)), -EINVAL, "directory probe");
		contains(err, path, "directory probe message");
		err[0] = 0;
		ASSERT_TRUE(db_open_writer(path, &db, &created, err, sizeof(err)) < 0,
			    "directory refused by the writer");
		contains(err, path, "directory writer message");
		ASSERT_TRUE(db_open_reader(path, &db, err, sizeof(err)) < 0,
			    "directory refused by the reader");
		ASSERT_EQ(rmdir(path), 0, "directory still empty and removable");
		ASSERT_FALSE(side_file_exists(path, "-wal"), "no -wal beside the directory");
		ASSERT_FALSE(side_file_exists(path, "-shm"), "no -shm beside the directory");
	}
}

/*
 * Another program's WAL database whose tables are still only in the WAL
 * (a connection holds it open): the header looks empty, the second check
 * through SQLite must refuse it.
 */
static void test_foreign_in_wal(void)
{
	_cleanup_free_ unsigned char *before = NULL, *after = NULL;
	size_t len_before = 0, len_after = 0;
	char path[512], err[512] = "";
	sqlite3 *holder = NULL, *db = NULL;
	bool created = true;
	int r;

	tmp_path(path, sizeof(path), "foreign-wal.db");
	if (sqlite3_open(path, &holder) != SQLITE_OK ||
	    !exec(holder, "PRAGMA journal_mode = WAL;"
			  "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")) {
		sqlite3_close(holder);
		return;
	}
	before = slurp(path, &len_before);
	r = db_open_writer(path, &db, &created, err, sizeof(err));
	ASSERT_ERR(r, -EEXIST, "foreign tables only in the WAL");
	contains(err, "another program", "foreign WAL message");
	if (r == 0)
		sqlite3_close(db);
	after = slurp(path, &len_after);
	ASSERT_TRUE(before && after && len_before == len_after &&
			    memcmp(before, after, len_before) == 0,
		    "foreign WAL database file unchanged");
	ASSERT_EQ(query_int(holder, "SELECT count(*) FROM t"), 1, "foreign data intact");
	ASSERT_EQ(query_int(holder, "PRAGMA application_id"), 0, "foreign application_id intact");
	sqlite3_close(holder);
}

/* The same for a newer schema version that is still only in the WAL. */
static void test_newer_in_wal(void)
{
	_cleanup_free_ unsigned char *before = NULL, *after = NULL;
	size_t len_before = 0, len_after = 0;
	char path[512], err[512] = "", sql[64];
	sqlite3 *holder = NULL, *db = NULL;
	bool created = true;
	int version = -1, r;

	tmp_path(path, sizeof(path), "newer-wal.db");
	if (!make_cachewatch_db(path))
		return;
	r = db_open_writer(path, &holder, &created, err, sizeof(err));
	if (!ASSERT_OK(r, "holder connection"))
		return;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;", db_schema_version() + 1);
	if (!exec(holder, sql))
		goto out;
	/* The header on disk still says the current version. */
	ASSERT_EQ(db_probe(path, &version, err, sizeof(err)), 0, "header still current");
	ASSERT_EQ(version, db_schema_version(), "header version");
	before = slurp(path, &len_before);
	err[0] = 0;
	r = db_open_writer(path, &db, &created, err, sizeof(err));
	ASSERT_ERR(r, -EPROTO, "newer version only in the WAL");
	contains(err, "newer", "newer WAL message");
	if (r == 0)
		sqlite3_close(db);
	db = NULL;
	err[0] = 0;
	r = db_open_reader(path, &db, err, sizeof(err));
	ASSERT_ERR(r, -EPROTO, "reader: newer version only in the WAL");
	if (r == 0)
		sqlite3_close(db);
	after = slurp(path, &len_after);
	ASSERT_TRUE(before && after && len_before == len_after &&
			    memcmp(before, after, len_before) == 0,
		    "newer WAL database file unchanged");
out:
	sqlite3_close(holder);
}

static void test_empty_file(void)
{
	char path[512], err[512] = "";
	sqlite3 *db = NULL;
	bool created = true;
	int version = -1, fd, r;

	tmp_path(path, sizeof(path), "empty.db");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (!ASSERT_TRUE(fd >= 0, "create empty file"))
		return;
	close(fd);
	ASSERT_EQ(db_probe(path, &version, err, sizeof(err)), 0, "db_probe of an empty file");
	ASSERT_EQ(version, 0, "empty file version 0");
	err[0] = 0;
	ASSERT_ERR(db_open_reader(path, &db, err, sizeof(err)), -ENODATA, "reader on empty file");
	contains(err, path, "reader on empty file message");
	r = db_open_writer(path, &db, &created, err, sizeof(err));
	if (!ASSERT_OK(r, "writer initialises an empty file")) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	ASSERT_FALSE(created, "existing empty file not reported as created");
	ASSERT_EQ(query_int(db, "PRAGMA application_id"), CW_APPLICATION_ID,
		  "empty file: application_id");
	ASSERT_EQ(query_int(db, "PRAGMA user_version"), db_schema_version(),
		  "empty file: user_version");
	ASSERT_EQ(query_int(db, "SELECT count(*) FROM causes"), CW_CAUSE_MAX, "empty file: causes");
	sqlite3_close(db);
}

static void test_missing(void)
{
	char path[600], dir[512], err[1024] = "";
	sqlite3 *db = NULL;
	bool created = true;
	int version = 42;

	tmp_path(path, sizeof(path), "missing.db");
	ASSERT_ERR(db_probe(path, &version, err, sizeof(err)), -ENOENT, "probe of a missing file");
	ASSERT_FALSE(exists(path), "probe creates nothing");

	/* Reader: never creates. */
	err[0] = 0;
	ASSERT_ERR(db_open_reader(path, &db, err, sizeof(err)), -ENOENT, "reader on missing file");
	contains(err, path, "reader on missing file message");
	ASSERT_FALSE(exists(path), "reader creates nothing");

	/* Writer into a directory that does not exist. */
	tmp_path(dir, sizeof(dir), "no-such-dir");
	snprintf(path, sizeof(path), "%s/x.db", dir);
	err[0] = 0;
	ASSERT_ERR(db_open_writer(path, &db, &created, err, sizeof(err)), -ENOENT,
		   "writer into a missing directory");
	contains(err, path, "writer into a missing directory message");
	ASSERT_FALSE(exists(dir), "missing directory not created");
}

static void test_reader(void)
{
	char path[512], err[512] = "";
	sqlite3 *db = NULL;
	int rc;

	tmp_path(path, sizeof(path), "reader.db");
	if (!make_cachewatch_db(path))
		return;
	if (!ASSERT_EQ(db_open_reader(path, &db, err, sizeof(err)), 0, "reader on a fresh db")) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	ASSERT_EQ(query_int(db, "SELECT count(*) FROM causes"), CW_CAUSE_MAX, "reader reads");
	ASSERT_EQ(query_int(db, "SELECT count(*) FROM v_runs"), 0, "reader queries a view");
	rc = sqlite3_exec(db, "INSERT INTO causes (id, name, description) VALUES (99, 'x', 'y')",
			  NULL, NULL, NULL);
	ASSERT_EQ(rc & 0xff, SQLITE_READONLY, "reader cannot insert");
	ASSERT_EQ(query_int(db, "SELECT count(*) FROM causes"), CW_CAUSE_MAX,
		  "nothing inserted by the reader");
	rc = sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	ASSERT_EQ(rc & 0xff, SQLITE_READONLY, "reader cannot set user_version");
	sqlite3_close(db);
}

/*
 * A FIFO is not a database: db_probe must say so rather than block in
 * open(2) waiting for a writer.  Run in a child with an alarm so a hang
 * cannot stall the suite.
 */
static void test_fifo(void)
{
	char path[512];
	int status = 0;
	pid_t pid;

	tmp_path(path, sizeof(path), "fifo.db");
	if (!ASSERT_EQ(mkfifo(path, 0600), 0, "mkfifo"))
		return;
	pid = fork();
	if (pid == 0) {
		char err[512] = "";
		int version, r;

		alarm(2);
		r = db_probe(path, &version, err, sizeof(err));
		_exit(r == -EINVAL && strstr(err, path) ? 0 : 1);
	}
	if (!ASSERT_TRUE(pid > 0, "fork"))
		return;
	ASSERT_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) != 0,
		     "db_probe of a FIFO returns -EINVAL naming the path");
	ASSERT_TRUE(!WIFSIGNALED(status),
		  "db_probe(\"<dir>/fifo.db\") on a FIFO blocks forever in open(O_RDONLY) "
		  "(killed by the 2 s alarm): cachewatchd --db FIFO hangs");
	ASSERT_EQ(unlink(path), 0, "remove the FIFO");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -errno : 0;
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return TEST_HARD_ERROR;
	}
	test_schema_version();
	test_create();
	test_reopen();
	test_refusals();
	test_foreign_in_wal();
	test_newer_in_wal();
	test_empty_file();
	test_missing();
	test_reader();
	test_fifo();
	if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "warning: could not remove %s\n", tmpdir);
	return test_exit();
}
