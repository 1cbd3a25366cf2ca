/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live view of cachewatch top, and the options it runs with: parsed
 * by top.c, changed by the view's keys (sort, filter, files).
 */
#ifndef CACHEWATCH_TOP_LIVE_H
#define CACHEWATCH_TOP_LIVE_H

#include <stdbool.h>
#include <sqlite3.h>
#include "top-data.h"

#define TOP_DEFAULT_REFRESH_S 10
#define TOP_DEFAULT_FILES 3

struct top_options {
	const char *db;
	bool once;
	long refresh_s; /* 0: the recording's interval */
	long width;     /* -1: the default */
	char filter[256];
	struct top_query q;
};

/* Until 'q', SIGINT or SIGTERM: CLI_OK, or CLI_FAIL after a message. */
int top_run_live(sqlite3 *db, struct top_options *o);

#endif
