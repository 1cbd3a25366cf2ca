/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Printing a query's rows: an aligned text table (names escaped for the
 * terminal, numbers right-aligned), CSV (RFC 4180) or JSON (an array of
 * objects, one per row; integers and reals as numbers, NULL as null).
 */
#ifndef CACHEWATCH_TABLE_H
#define CACHEWATCH_TABLE_H

#include <stdbool.h>
#include <stdio.h>
#include <sqlite3.h>

enum table_format { TABLE_TEXT, TABLE_CSV, TABLE_JSON };

/*
 * Step st to the end, printing every row.  Returns SQLITE_DONE, or the
 * error code of the failing step (nothing printed in text mode then, as
 * the table is aligned only once all rows are in).
 */
int table_print(FILE *f, sqlite3_stmt *st, enum table_format fmt, bool headers);

#endif
