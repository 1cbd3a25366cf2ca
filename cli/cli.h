/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every `cachewatch` subcommand shares: exit codes, opening databases
 * read-only, the common options (--db, --help), time arguments, and the
 * escaping of untrusted names (file and cgroup names come from the kernel
 * and can hold any byte but '/' and NUL) for terminals, HTML, Markdown,
 * JSON and CSV.
 */
#ifndef CACHEWATCH_CLI_H
#define CACHEWATCH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include "util.h"

/* Exit codes of every subcommand (documented in cachewatch(1)). */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,  /* runtime error: database missing, corrupt, SQL error */
	CLI_USAGE = 2, /* bad command line */
	CLI_STALE = 3, /* status: the daemon is not recording */
};

#define CLI_MAX_DBS 16

/* Report an error as "cachewatch SUBCOMMAND: message" on stderr. */
void cli_error(const char *sub, const char *fmt, ...) _printf_(2, 3);

/* The database used without --db: $CACHEWATCH_DB, else the build default. */
const char *cli_default_db(void);

/*
 * Open a cachewatch database read-only (never created, never written,
 * PRAGMA query_only on).  On failure prints "cachewatch SUB: reason" and
 * returns NULL.
 */
sqlite3 *cli_open_db(const char *sub, const char *path);

/*
 * A time argument: Unix seconds ("1763794448"), an ISO date and time in
 * UTC ("2026-11-22", "2026-11-22 06:54", "2026-11-22T06:54:08"), or a
 * span before now ("30s", "15m", "2h", "7d", also written "-2h").
 * 0 and *ret on success, -EINVAL otherwise.
 */
int cli_parse_time(const char *s, int64_t now, int64_t *ret);

/* "2026-11-22 06:54:08" (UTC). */
void cli_format_time(char *buf, size_t len, int64_t ts);

/* "123 B", "4.0 KiB", "12.3 MiB", "1.50 GiB". */
void cli_format_bytes(char *buf, size_t len, double bytes);

/* A duration in milliseconds: "850 us", "12.5 ms", "3.2 s", "4.1 min". */
void cli_format_ms(char *buf, size_t len, double ms);

/*
 * Escaping.  term: printable UTF-8 passes, backslash becomes "\\",
 * everything else (control bytes, escape sequences, invalid UTF-8) becomes
 * "\xNN", so a name can neither move the cursor nor forge a line.
 * cli_term_width is the number of columns that output takes.
 */
void cli_put_term(FILE *f, const char *s);
size_t cli_term_width(const char *s);
/* Write at most `width` columns of the escaped form, ending with "…" when cut. */
void cli_put_term_cut(FILE *f, const char *s, size_t width);

void cli_put_html(FILE *f, const char *s);
/* Markdown text or table cell: metacharacters backslash-escaped, HTML escaped, no line breaks. */
void cli_put_md(FILE *f, const char *s);
/* A JSON string, quotes included. */
void cli_put_json(FILE *f, const char *s);
/* A CSV field (RFC 4180), quoted when needed. */
void cli_put_csv(FILE *f, const char *s);

/*
 * Common option parsing.  Returns true when argv[*i] was --db PATH or
 * --db=PATH and consumed it (appending to dbs, at most CLI_MAX_DBS);
 * on a missing value prints the error and sets *bad.
 */
bool cli_take_db(const char *sub, int argc, char **argv, int *i, const char **dbs, size_t *ndbs,
		 bool *bad);

/* The value of "--name VALUE" or "--name=VALUE" at argv[*i], else NULL. */
const char *cli_take_value(const char *sub, const char *name, int argc, char **argv, int *i,
			   bool *bad);

/* Subcommands. */
int cmd_query(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
