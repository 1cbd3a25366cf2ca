// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkdb DB [SQL-FILE...]: create a cachewatch database with the current
 * schema (as cachewatchd would) and run each SQL file in it, so the CLI
 * tests can read known rows without root or BPF.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "migrate.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, 0, f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	char err[512], *errmsg = NULL;
	bool created;
	sqlite3 *db;

	if (argc < 2) {
		fprintf(stderr, "usage: mkdb DB [SQL-FILE...]\n");
		return 2;
	}
	if (db_open_writer(argv[1], &db, &created, err, sizeof(err)) < 0) {
		fprintf(stderr, "mkdb: %s\n", err);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		char *sql = slurp(argv[i]);

		if (!sql) {
			perror(argv[i]);
			return 1;
		}
		if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
			fprintf(stderr, "mkdb: %s: %s\n", argv[i], errmsg);
			return 1;
		}
		free(sql);
	}
	return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
