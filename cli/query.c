// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatch query: run SQL against a database read-only and print the
 * rows.  The connection is opened SQLITE_OPEN_READONLY with query_only on,
 * and every statement is checked with sqlite3_stmt_readonly() before it
 * runs, so a write is refused with a clear message rather than attempted.
 * In WAL mode a reader never blocks the daemon's writes.
 */
#include <string.h>
#include "cli.h"
#include "table.h"

static const struct {
	const char *name;
	const char *what;
} documented_views[] = {
	{ "v_evictions", "pages evicted per interval x (victim, reclaim root, reclaimer, cause, file, exec)" },
	{ "v_refaults", "pages refaulted per interval x (cgroup, file, cause of the eviction, exec), median time" },
	{ "v_exec_thrash", "executable file x victim over the whole history, worst first, with top cause, root and pressure" },
	{ "v_pressure", "what each cgroup under a reclaim root held and how it grew, per interval" },
	{ "v_cgroups", "every memory cgroup seen, with Kubernetes names" },
	{ "v_runs", "daemon runs: host, kernel, hooks, lost events" },
};

static void usage(FILE *f)
{
	/* sql-format-ok: usage text; its example query is not run */
	fprintf(f,
		"Usage: cachewatch query [OPTIONS] SQL\n"
		"       cachewatch query --views\n"
		"\n"
		"Run SQL against a cachewatch database, read-only, and print the rows.\n"
		"Several statements separated by ';' run in turn.  A statement that would\n"
		"write is refused.  The daemon keeps writing meanwhile (WAL mode).\n"
		"\n"
		"Options:\n"
		"  --db PATH      database (default $CACHEWATCH_DB, else %s)\n"
		"  --csv          comma-separated values (RFC 4180), header first\n"
		"  --json         a JSON array of objects, one per row\n"
		"  --no-header    leave out the header line (table and CSV)\n"
		"  --views        list the documented views, one line each\n"
		"  --help         show this help\n"
		"\n"
		"Names are printed escaped in table output: control bytes and invalid\n"
		"UTF-8 as \\xNN, a backslash as \\\\.  CSV and JSON carry them exactly\n"
		"(JSON with \\u escapes; bytes that are not UTF-8 as \\\\xNN).\n"
		"\n"
		"Exit status: 0 success, 1 database or SQL error (e.g. no such table, a\n"
		"syntax error, a refused write), 2 bad usage.\n"
		"\n"
		"Example: cachewatch query 'SELECT * FROM v_exec_thrash LIMIT 5'\n",
		cli_default_db());
}

static int list_views(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool present;

	for (size_t i = 0; i < ARRAY_SIZE(documented_views); i++) {
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'view' AND name = ?",
				       -1, &st, NULL) != SQLITE_OK) {
			cli_error("query", "%s", sqlite3_errmsg(db));
			return CLI_FAIL;
		}
		sqlite3_bind_text(st, 1, documented_views[i].name, -1, SQLITE_STATIC);
		present = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		printf("%-14s %s%s\n", documented_views[i].name, documented_views[i].what,
		       present ? "" : " (missing from this database)");
	}
	return CLI_OK;
}

static int run_sql(sqlite3 *db, const char *sql, enum table_format fmt, bool headers)
{
	const char *tail = sql;
	bool first = true;

	while (*tail) {
		sqlite3_stmt *st = NULL;
		const char *this = tail;
		int r;

		if (sqlite3_prepare_v2(db, this, -1, &st, &tail) != SQLITE_OK) {
			cli_error("query", "%s", sqlite3_errmsg(db));
			return CLI_FAIL;
		}
		if (!st) /* whitespace or a comment */
			continue;
		if (!sqlite3_stmt_readonly(st)) {
			cli_error("query", "refused: the statement would write (%.*s); cachewatch query is read-only",
				  (int)strcspn(this + strspn(this, " \t\r\n"), " \t\r\n"),
				  this + strspn(this, " \t\r\n"));
			sqlite3_finalize(st);
			return CLI_FAIL;
		}
		if (sqlite3_column_count(st) && !first && fmt == TABLE_TEXT)
			putchar('\n');
		if (sqlite3_column_count(st))
			first = false;
		r = table_print(stdout, st, fmt, headers);
		if (r != SQLITE_DONE) {
			cli_error("query", "%s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return CLI_FAIL;
		}
		sqlite3_finalize(st);
	}
	return CLI_OK;
}

int cmd_query(int argc, char **argv)
{
	enum table_format fmt = TABLE_TEXT;
	bool headers = true, views = false, bad = false;
	const char *dbs[CLI_MAX_DBS], *sql = NULL;
	size_t ndbs = 0;
	sqlite3 *db;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return CLI_OK;
		} else if (cli_take_db("query", argc, argv, &i, dbs, &ndbs, &bad)) {
			if (bad)
				return CLI_USAGE;
		} else if (!strcmp(a, "--csv")) {
			fmt = TABLE_CSV;
		} else if (!strcmp(a, "--json")) {
			fmt = TABLE_JSON;
		} else if (!strcmp(a, "--no-header")) {
			headers = false;
		} else if (!strcmp(a, "--views")) {
			views = true;
		} else if (!strcmp(a, "--")) {
			if (i + 1 < argc && !sql)
				sql = argv[++i];
			if (i + 1 < argc) {
				cli_error("query", "give the SQL as one argument (quote it)");
				return CLI_USAGE;
			}
		} else if (a[0] == '-' && a[1]) {
			cli_error("query", "unknown option '%s' (see cachewatch query --help)", a);
			return CLI_USAGE;
		} else if (sql) {
			cli_error("query", "give the SQL as one argument (quote it)");
			return CLI_USAGE;
		} else {
			sql = a;
		}
	}
	if (ndbs > 1) {
		cli_error("query", "one --db at a time (cachewatch report takes several)");
		return CLI_USAGE;
	}
	if (!views && (!sql || !sql[strspn(sql, " \t\r\n;")])) {
		cli_error("query", "no SQL given (see cachewatch query --help)");
		return CLI_USAGE;
	}
	if (views && sql) {
		cli_error("query", "--views takes no SQL");
		return CLI_USAGE;
	}
	db = cli_open_db("query", ndbs ? dbs[0] : cli_default_db());
	if (!db)
		return CLI_FAIL;
	rc = views ? list_views(db) : run_sql(db, sql, fmt, headers);
	sqlite3_close(db);
	if (fflush(stdout) != 0) {
		cli_error("query", "cannot write the output");
		return CLI_FAIL;
	}
	return rc;
}
