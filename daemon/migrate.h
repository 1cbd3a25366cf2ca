/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a cachewatch database: recognising it (application_id), refusing
 * foreign or newer files without touching them, creating it with mode 0640
 * and bringing its schema up to date with the numbered migrations embedded
 * from schema/ (PRAGMA user_version, one transaction per migration).
 */
#ifndef CACHEWATCH_MIGRATE_H
#define CACHEWATCH_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sqlite3.h>

/* 'cwch': stamped into every database cachewatch creates. */
#define CW_APPLICATION_ID 0x63776368

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration cw_migrations[];
extern const size_t cw_migrations_count;

/* Highest schema version this build knows. */
int db_schema_version(void);

/*
 * Check an existing file without modifying it.  0: it is a cachewatch
 * database at *ret_version (0 = an empty SQLite file, safe to initialise);
 * -ENOENT: no such file; other -errno with a one-line reason in err:
 * not SQLite, another program's database, or written by a newer cachewatch.
 */
int db_probe(const char *path, int *ret_version, char *err, size_t errlen);

/*
 * Open for writing, creating the file (0640) if absent, and migrate.
 * *ret_created tells whether this call created the file, so a caller that
 * fails later can remove it again.
 */
int db_open_writer(const char *path, sqlite3 **ret, bool *ret_created, char *err, size_t errlen);

/* Apply every missing migration; used by db_open_writer and the tests. */
int db_migrate(sqlite3 *db, char *err, size_t errlen);

/*
 * PRAGMA quick_check over a read-only connection: 0 when the file is
 * intact, -EUCLEAN (or -EIO) with the reason in err otherwise.  The daemon
 * runs it before it writes to an existing database.
 */
int db_check_intact(const char *path, char *err, size_t errlen);

/* Open read-only (the CLI): never creates, never writes. */
int db_open_reader(const char *path, sqlite3 **ret, char *err, size_t errlen);

#endif
