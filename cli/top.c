// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatch top: which memory cgroups are losing the most page cache
 * right now, for what cause, how much of it executable, how much came back
 * and how soon, the files behind it, and who grew under each reclaim root.
 * A live ncurses view re-queried every interval, or one plain-text
 * snapshot (--once, or when stdout is not a terminal).  This file holds
 * the options, the entry and the snapshot; the rows come from top-data.c,
 * their layout from top-layout.c, the live view from top-live.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include "cli.h"
#include "top-data.h"
#include "top-layout.h"
#include "top-live.h"

#define DEFAULT_WINDOW_S 60
#define DEFAULT_LIMIT 10
#define MAX_ROOTS 5
#define MAX_PRESSURE 3
#define TEXT_WIDTH 80

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cachewatch top [OPTIONS]\n"
		"\n"
		"Show the memory cgroups losing the most page cache in the recent window:\n"
		"pages evicted, executable pages among them, pages that came back (refaulted)\n"
		"and the median time until they did, the causes, the files behind them, and\n"
		"for each reclaim root (the cgroup whose limit was enforced) the cgroups\n"
		"under it that grew the most.  The window ends at the newest interval in the\n"
		"database, not at the current time, so a stopped recording still shows.\n"
		"\n"
		"On a terminal the view is live and re-read every refresh; with --once, or\n"
		"when stdout is not a terminal, one plain-text snapshot is printed.\n"
		"\n"
		"Options:\n"
		"  --db PATH           database (default $CACHEWATCH_DB, else\n"
		"                      %s)\n"
		"  --once              print one snapshot and exit\n"
		"  --interval SECONDS  refresh period, 1 to 3600 (default: the recording's\n"
		"                      interval, else %d)\n"
		"  --window SPAN       how far back from the newest interval: 90s, 5m, 2h, 1d or\n"
		"                      plain seconds, up to 366d (default %ds)\n"
		"  --sort KEY          evicted (default), exec, refaulted, time (median refault\n"
		"                      time, shortest first) or cgroup (name)\n"
		"  --filter TEXT       only cgroups whose path, namespace, pod or container\n"
		"                      (or namespace/pod/container) contains TEXT\n"
		"  --limit N           cgroups shown, 1 to 1000 (default %d)\n"
		"  --files N           files shown under each cgroup, 0 to 100 (default %d)\n"
		"  --width N           columns of the snapshot when stdout is not a terminal\n"
		"                      (default %d; 0: never cut)\n"
		"  --help              show this help\n"
		"\n"
		"Keys: q quit; e x r t c sort by evicted, exec, refaulted, time, cgroup;\n"
		"s next sort; / filter (empty clears); f files on/off; arrows, PgUp, PgDn\n"
		"scroll; space refresh now.\n"
		"\n"
		"Sizes are in bytes of 4 KiB pages.  Names are escaped: control bytes and\n"
		"invalid UTF-8 as \\xNN, a backslash as \\\\; a name too long for its column\n"
		"keeps its end, after an ellipsis.\n"
		"\n"
		"Exit status: 0 success, 1 database error (e.g. no such database),\n"
		"2 bad usage.  See cachewatch-top(1).\n",
		cli_default_db(), TOP_DEFAULT_REFRESH_S, DEFAULT_WINDOW_S, DEFAULT_LIMIT,
		TOP_DEFAULT_FILES, TEXT_WIDTH);
}

/* ---------------------------------------------------------------- options */

static bool parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* "90s", "5m", "2h", "1d" or plain seconds. */
static bool parse_window(const char *s, int64_t *ret)
{
	static const struct {
		char suffix;
		long seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char digits[32];
	size_t n = strlen(s);
	long unit = 1, v;

	if (n == 0 || n >= sizeof(digits))
		return false;
	memcpy(digits, s, n + 1);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (digits[n - 1] == units[i].suffix) {
			unit = units[i].seconds;
			digits[n - 1] = '\0';
		}
	if (!parse_long(digits, 1, 366L * 86400 / unit, &v))
		return false;
	*ret = (int64_t)v * unit;
	return true;
}

#define PROCEED (-1)

/* PROCEED when parsed; else the exit code: CLI_OK after --help, CLI_USAGE on a bad argument (reported). */
static int parse_options(int argc, char **argv, struct top_options *o)
{
	const char *dbs[CLI_MAX_DBS];
	size_t ndbs = 0;
	bool bad = false;
	long v;

	*o = (struct top_options){
		.width = -1,
		.q = { .window_s = DEFAULT_WINDOW_S, .sort = TOP_SORT_EVICTED, .limit = DEFAULT_LIMIT,
		       .files = TOP_DEFAULT_FILES, .roots = MAX_ROOTS, .pressure = MAX_PRESSURE },
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return CLI_OK;
		} else if (cli_take_db("top", argc, argv, &i, dbs, &ndbs, &bad)) {
			if (bad)
				return CLI_USAGE;
		} else if (!strcmp(a, "--once")) {
			o->once = true;
		} else if ((val = cli_take_value("top", "--interval", argc, argv, &i, &bad))) {
			if (!parse_long(val, 1, 3600, &o->refresh_s)) {
				cli_error("top", "--interval: '%s' is not a number of seconds from 1 to 3600", val);
				return CLI_USAGE;
			}
		} else if ((val = cli_take_value("top", "--window", argc, argv, &i, &bad))) {
			if (!parse_window(val, &o->q.window_s)) {
				cli_error("top", "--window: '%s' is not a span such as 90s, 5m, 2h or 1d (at most 366d)", val);
				return CLI_USAGE;
			}
		} else if ((val = cli_take_value("top", "--sort", argc, argv, &i, &bad))) {
			if (top_sort_parse(val, &o->q.sort) < 0) {
				cli_error("top", "--sort: unknown key '%s' (evicted, exec, refaulted, time or cgroup)", val);
				return CLI_USAGE;
			}
		} else if ((val = cli_take_value("top", "--filter", argc, argv, &i, &bad))) {
			if (strlen(val) >= sizeof(o->filter)) {
				cli_error("top", "--filter: longer than %zu bytes", sizeof(o->filter) - 1);
				return CLI_USAGE;
			}
			strcpy(o->filter, val);
		} else if ((val = cli_take_value("top", "--limit", argc, argv, &i, &bad))) {
			if (!parse_long(val, 1, 1000, &v)) {
				cli_error("top", "--limit: '%s' is not a number from 1 to 1000", val);
				return CLI_USAGE;
			}
			o->q.limit = (int)v;
		} else if ((val = cli_take_value("top", "--files", argc, argv, &i, &bad))) {
			if (!parse_long(val, 0, 100, &v)) {
				cli_error("top", "--files: '%s' is not a number from 0 to 100", val);
				return CLI_USAGE;
			}
			o->q.files = (int)v;
		} else if ((val = cli_take_value("top", "--width", argc, argv, &i, &bad))) {
			if (!parse_long(val, 0, 10000, &o->width) || (o->width > 0 && o->width < 40)) {
				cli_error("top", "--width: '%s' is not 0 or a number of columns from 40 to 10000", val);
				return CLI_USAGE;
			}
		} else if (bad) {
			return CLI_USAGE;
		} else if (a[0] == '-') {
			cli_error("top", "unknown option '%s' (see cachewatch top --help)", a);
			return CLI_USAGE;
		} else {
			cli_error("top", "unexpected argument '%s' (see cachewatch top --help)", a);
			return CLI_USAGE;
		}
	}
	if (ndbs > 1) {
		cli_error("top", "one --db at a time");
		return CLI_USAGE;
	}
	o->db = ndbs ? dbs[0] : cli_default_db();
	o->q.filter = o->filter[0] ? o->filter : NULL;
	return PROCEED;
}

/* ---------------------------------------------------------------- --once */

static size_t snapshot_width(long width_option)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return width_option >= 0 ? (size_t)width_option : TEXT_WIDTH;
}

static int run_once(sqlite3 *db, const struct top_options *o)
{
	struct top_layout l = { .f = stdout, .width = snapshot_width(o->width), .db_path = o->db,
			    .q = &o->q, .now = time(NULL) };
	struct top_snapshot snap;
	char err[512];

	if (top_gather(db, &o->q, &snap, err, sizeof(err)) < 0) {
		cli_error("top", "%s", err);
		return CLI_FAIL;
	}
	top_put_header(&l, &snap);
	top_put_table(&l, &snap);
	top_put_roots_table(&l, &snap);
	top_snapshot_free(&snap);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("top", "cannot write the output");
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* ---------------------------------------------------------------- main */

int cmd_top(int argc, char **argv)
{
	struct top_options o;
	sqlite3 *db;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc != PROCEED)
		return rc;
	db = cli_open_db("top", o.db);
	if (!db)
		return CLI_FAIL;
	if (o.once || !isatty(STDOUT_FILENO))
		rc = run_once(db, &o);
	else
		rc = top_run_live(db, &o);
	sqlite3_close(db);
	return rc;
}
