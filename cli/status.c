// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatch status: is the daemon recording into this database (its
 * newest run has no stop time and wrote an interval recently), which hooks
 * are live, what was lost and why, and how big and how old the data is.
 */
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli.h"

/* A run is recording while its last interval is younger than this many intervals. */
#define STALE_INTERVALS 3

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cachewatch status [OPTIONS]\n"
		"\n"
		"Tell whether cachewatchd is recording into the database: its newest run,\n"
		"the time of the last interval written, the hooks attached, the events\n"
		"lost (by reason) and the database's size and time span.\n"
		"\n"
		"Options:\n"
		"  --db PATH   database (default $CACHEWATCH_DB, else %s)\n"
		"  --help      show this help\n"
		"\n"
		"Exit status: 0 the daemon is recording (its last interval is less than\n"
		"%d intervals old), 1 error (no such database, not a cachewatch database),\n"
		"2 bad usage, 3 the daemon is not recording (stopped, or silent: crashed\n"
		"or stalled).\n",
		cli_default_db(), STALE_INTERVALS);
}

static int64_t file_size(const char *path, const char *suffix)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* One row of a query into the columns given, as int64 (NULL as -1). */
static bool row_ints(sqlite3 *db, const char *sql, int64_t *out, int n)
{
	sqlite3_stmt *st;
	bool ok;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW;
	for (int i = 0; ok && i < n; i++)
		out[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
	sqlite3_finalize(st);
	return ok;
}

static void print_ago(int64_t now, int64_t ts)
{
	char when[32], ago[32];
	int64_t s = now > ts ? now - ts : 0;

	cli_format_time(when, sizeof(when), ts);
	if (s < 120)
		snprintf(ago, sizeof(ago), "%lld s", (long long)s);
	else
		cli_format_ms(ago, sizeof(ago), (double)s * 1000);
	printf("%s UTC (%s ago)", when, ago);
}

static const char *const lost_names[] = {
	"eviction map full", "addition map full", "refault map full", "shadow update failed",
	"ring buffer full", "exec set full", "user-space tables full",
};

static int show(sqlite3 *db, const char *path)
{
	int64_t now = time(NULL), span[3] = { -1, -1, 0 }, run[7], lost[7] = { 0 }, extra[2] = { 0 };
	char size[32], wal[32], when[32], until[32];
	const unsigned char *host, *hooks, *kernel, *ctx;
	bool recording = false;
	sqlite3_stmt *st;
	int rc = CLI_STALE;

	cli_format_bytes(size, sizeof(size), (double)file_size(path, ""));
	cli_format_bytes(wal, sizeof(wal), (double)file_size(path, "-wal"));
	printf("database   ");
	cli_put_term(stdout, path);
	printf(" (%s, WAL %s)\n", size, wal);

	if (!row_ints(db, "SELECT MIN(ts), MAX(ts), COUNT(*) FROM intervals", span, 3) || span[2] == 0) {
		printf("span       no interval written yet\n");
	} else {
		cli_format_time(when, sizeof(when), span[0]);
		cli_format_time(until, sizeof(until), span[1]);
		printf("span       %s .. %s UTC, %lld intervals\n", when, until, (long long)span[2]);
	}

	if (sqlite3_prepare_v2(db,
			       "SELECT id, started, stopped, last_flush, interval_s, refault_sample, "
			       "(SELECT COUNT(*) FROM runs), hostname, hooks, kernel, reclaim_context "
			       "FROM runs ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		cli_error("status", "%s", sqlite3_errmsg(db));
		return CLI_FAIL;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		printf("daemon     never ran on this database\n");
		sqlite3_finalize(st);
		return CLI_STALE;
	}
	for (int i = 0; i < 7; i++)
		run[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
	host = sqlite3_column_text(st, 7);
	hooks = sqlite3_column_text(st, 8);
	kernel = sqlite3_column_text(st, 9);
	ctx = sqlite3_column_text(st, 10);

	printf("daemon     ");
	if (run[2] >= 0) {
		printf("stopped at ");
		print_ago(now, run[2]);
		putchar('\n');
	} else if (run[3] >= 0 && now - run[3] <= STALE_INTERVALS * run[4]) {
		recording = true;
		rc = CLI_OK;
		printf("recording, last interval ");
		print_ago(now, run[3]);
		printf(", every %lld s\n", (long long)run[4]);
	} else {
		printf("NOT RECORDING: run %lld never stopped but wrote nothing since ",
		       (long long)run[0]);
		print_ago(now, run[3] >= 0 ? run[3] : run[1]);
		printf(" (crashed or stalled)\n");
	}
	printf("run        %lld of %lld, on ", (long long)run[0], (long long)run[6]);
	cli_put_term(stdout, (const char *)host);
	printf(", kernel ");
	cli_put_term(stdout, (const char *)kernel);
	printf(", started ");
	print_ago(now, run[1]);
	putchar('\n');
	printf("hooks      ");
	cli_put_term(stdout, (const char *)hooks);
	printf("\n           reclaim context from ");
	cli_put_term(stdout, (const char *)ctx);
	if (run[5] > 1)
		printf("; refaults of non-exec pages sampled 1 in %lld", (long long)run[5]);
	putchar('\n');
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db,
			       "SELECT COALESCE(SUM(lost_evict), 0), COALESCE(SUM(lost_add), 0), "
			       "COALESCE(SUM(lost_refault), 0), COALESCE(SUM(lost_shadow), 0), "
			       "COALESCE(SUM(lost_ringbuf), 0), COALESCE(SUM(lost_exec), 0), "
			       "COALESCE(SUM(lost_user), 0), COALESCE(SUM(shadow_displaced), 0), "
			       "COALESCE(SUM(dropped_names), 0) FROM intervals WHERE run = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		cli_error("status", "%s", sqlite3_errmsg(db));
		return CLI_FAIL;
	}
	sqlite3_bind_int64(st, 1, run[0]);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t total = 0;

		for (int i = 0; i < 7; i++)
			total += lost[i] = sqlite3_column_int64(st, i);
		extra[0] = sqlite3_column_int64(st, 7);
		extra[1] = sqlite3_column_int64(st, 8);
		printf("lost       %lld events this run", (long long)total);
		for (int i = 0; i < 7; i++)
			if (lost[i])
				printf("; %lld %s", (long long)lost[i], lost_names[i]);
		putchar('\n');
		printf("           %lld evictions forgotten before their refault (shadow slots reused), "
		       "%lld names dropped\n",
		       (long long)extra[0], (long long)extra[1]);
	}
	sqlite3_finalize(st);
	if (!recording)
		fprintf(stderr, "cachewatch status: the daemon is not recording into this database\n");
	return rc;
}

int cmd_status(int argc, char **argv)
{
	const char *dbs[CLI_MAX_DBS];
	size_t ndbs = 0;
	bool bad = false;
	sqlite3 *db;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return CLI_OK;
		} else if (cli_take_db("status", argc, argv, &i, dbs, &ndbs, &bad)) {
			if (bad)
				return CLI_USAGE;
		} else {
			cli_error("status", "unknown argument '%s' (see cachewatch status --help)",
				  argv[i]);
			return CLI_USAGE;
		}
	}
	if (ndbs > 1) {
		cli_error("status", "one --db at a time");
		return CLI_USAGE;
	}
	db = cli_open_db("status", ndbs ? dbs[0] : cli_default_db());
	if (!db)
		return CLI_FAIL;
	rc = show(db, ndbs ? dbs[0] : cli_default_db());
	sqlite3_close(db);
	return rc;
}
