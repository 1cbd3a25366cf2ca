// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Database recognition, creation and migration.
 *
 * A file is examined twice before cachewatch writes to it: first its
 * 100-byte SQLite header is read with plain read(2) (magic string,
 * application_id at offset 68, user_version at 60, page count at 28), which
 * refuses non-SQLite and foreign files without SQLite touching them; then,
 * once open, the same facts are read back through PRAGMAs, which also see
 * what is still only in the WAL.  Migrations run one per transaction
 * (BEGIN IMMEDIATE ... PRAGMA user_version = N; COMMIT), so a crash leaves
 * the file at a consistent version.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "migrate.h"
#include "util.h"

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int db_schema_version(void)
{
	return cw_migrations[cw_migrations_count - 1].version;
}

static int check_identity(const char *path, uint32_t app_id, uint32_t version, bool empty,
			  char *err, size_t errlen)
{
	if (app_id == CW_APPLICATION_ID) {
		if ((int)version > db_schema_version()) {
			snprintf(err, errlen,
				 "%s was written by a newer cachewatch (schema version %u; this "
				 "build knows up to %d): refusing to touch it",
				 path, version, db_schema_version());
			return -EPROTO;
		}
		return 0;
	}
	if (app_id == 0 && version == 0 && empty)
		return 0;
	snprintf(err, errlen,
		 "%s is an SQLite database of another program (application_id 0x%08x, "
		 "user_version %u): refusing to touch it",
		 path, app_id, version);
	return -EEXIST;
}

int db_probe(const char *path, int *ret_version, char *err, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	unsigned char h[100];
	struct stat st;
	ssize_t n;
	int r;

	/* O_NONBLOCK: a FIFO must not hang the probe; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (e != ENOENT)
			snprintf(err, errlen, "cannot open database %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "database %s is not a regular file", path);
		return -EINVAL;
	}
	n = read(fd, h, sizeof(h));
	if (n == 0) { /* empty file: content may still be in the WAL, checked on open */
		*ret_version = 0;
		return 0;
	}
	if (n != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0) {
		snprintf(err, errlen, "%s is not an SQLite database: refusing to touch it", path);
		return -EINVAL;
	}
	r = check_identity(path, be32(h + 68), be32(h + 60), be32(h + 28) <= 1, err, errlen);
	if (r < 0)
		return r;
	*ret_version = (int)be32(h + 60);
	return 0;
}

static int query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* Recheck identity through SQLite (sees the WAL too). */
static int db_check_open(sqlite3 *db, const char *path, int64_t *ret_version, char *err,
			 size_t errlen)
{
	int64_t app_id, version, objects;

	if (query_int(db, "PRAGMA application_id", &app_id) < 0 ||
	    query_int(db, "PRAGMA user_version", &version) < 0 ||
	    query_int(db, "SELECT count(*) FROM sqlite_schema", &objects) < 0) {
		snprintf(err, errlen, "cannot read database %s: %s", path, sqlite3_errmsg(db));
		return -EIO;
	}
	*ret_version = version;
	return check_identity(path, (uint32_t)app_id, (uint32_t)version, objects == 0, err,
			      errlen);
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int db_migrate(sqlite3 *db, char *err, size_t errlen)
{
	int64_t version;

	if (query_int(db, "PRAGMA user_version", &version) < 0) {
		snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	for (size_t i = 0; i < cw_migrations_count; i++) {
		const struct migration *m = &cw_migrations[i];
		char stamp[128];

		if (m->version <= version)
			continue;
		if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen, m->name) < 0)
			return -EIO;
		/* sql-format-ok: PRAGMAs take no parameters; both values are integer constants */
		snprintf(stamp, sizeof(stamp), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
			 CW_APPLICATION_ID, m->version);
		if (exec_sql(db, m->sql, err, errlen, m->name) < 0 ||
		    exec_sql(db, stamp, err, errlen, m->name) < 0 ||
		    exec_sql(db, "COMMIT", err, errlen, m->name) < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
	}
	return 0;
}

int db_open_writer(const char *path, sqlite3 **ret, bool *ret_created, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	bool created = false;
	int64_t version;
	int probed, r;

	r = db_probe(path, &probed, err, errlen);
	if (r == -ENOENT) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0640);

		if (fd < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot create database %s: %s", path, strerror(-r));
			return r;
		}
		/* The umask may have cleared bits; the mode is part of the contract. */
		(void)fchmod(fd, 0640);
		close(fd);
		created = true;
	} else if (r < 0) {
		return r;
	}

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		r = -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	r = db_check_open(db, path, &version, err, errlen);
	if (r < 0)
		goto fail;
	/* auto_vacuum only takes effect before the first table is created. */
	if (version == 0 &&
	    (r = exec_sql(db, "PRAGMA auto_vacuum = INCREMENTAL", err, errlen, path)) < 0)
		goto fail;
	/*
	 * The WAL is checkpointed every 256 pages (1 MiB) rather than 1000:
	 * it holds many copies of the same pages, and on a filesystem with
	 * less room than SQLite's default 4 MiB cycle it would fill the disk
	 * before its first checkpoint, which then has no room to copy into
	 * the file: no write would succeed again.  journal_size_limit: a
	 * reader holding a snapshot keeps the WAL from restarting and it
	 * grows; once the reader has gone, the next restart truncates the
	 * file back to 2 MiB instead of keeping its peak size for good.
	 */
	r = exec_sql(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
			 "PRAGMA wal_autocheckpoint = 256; PRAGMA journal_size_limit = 2097152;",
		     err, errlen, path);
	if (r < 0)
		goto fail;
	r = db_migrate(db, err, errlen);
	if (r < 0)
		goto fail;
	*ret = db;
	*ret_created = created;
	return 0;
fail:
	sqlite3_close(db);
	if (created) {
		unlink(path);
		/* SQLite may have created these next to it already. */
		char side[4096];

		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}
	return r;
}

int db_open_reader(const char *path, sqlite3 **ret, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int64_t version;
	int probed, r;

	r = db_probe(path, &probed, err, errlen);
	if (r == -ENOENT)
		snprintf(err, errlen, "database %s does not exist", path);
	if (r < 0)
		return r;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	r = db_check_open(db, path, &version, err, errlen);
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	if (version == 0) {
		snprintf(err, errlen, "%s holds no cachewatch data yet", path);
		sqlite3_close(db);
		return -ENODATA;
	}
	*ret = db;
	return 0;
}

/*
 * "file:PATH?immutable=1" with PATH percent-encoded: a database closed
 * cleanly (no -wal) can be read without creating a -shm next to it.
 */
static char *immutable_uri(const char *path)
{
	size_t n = strlen(path);
	char *uri = malloc(3 * n + 32), *o = uri;

	if (!uri)
		return NULL;
	o += sprintf(o, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._-", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	strcpy(o, "?immutable=1");
	return uri;
}

int db_check_intact(const char *path, char *err, size_t errlen)
{
	char wal[4096];
	_cleanup_free_ char *uri = NULL;
	const unsigned char *verdict;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	struct stat sb;
	int rc, r = 0, flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW;

	/* Read-only: a damaged file is reported, never repaired or rewritten.
	 * With a -wal (a writer is running, or crashed) the log must be read. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) < 0 && errno == ENOENT) {
		uri = immutable_uri(path);
		if (!uri)
			return -ENOMEM;
		flags |= SQLITE_OPEN_URI;
	}
	if (sqlite3_open_v2(uri ? uri : path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	verdict = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (!verdict || strcmp((const char *)verdict, "ok")) {
		snprintf(err, errlen,
			 "database %s is corrupt (%s): refusing to touch it; move it away to "
			 "start a new one",
			 path, verdict ? (const char *)verdict : sqlite3_errmsg(db));
		r = -EUCLEAN;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}
