/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text layout of cachewatch top, shared by the --once snapshot and the
 * live view.  Names are escaped for the terminal and cut to the width.
 * Each part is written whole to l->f: the live view renders them one by
 * one into memory and places them on the screen.
 */
#ifndef CACHEWATCH_TOP_LAYOUT_H
#define CACHEWATCH_TOP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "top-data.h"

/*
 * Marks at the start of a line for the live view: a heading (drawn
 * reversed) and an alert (bold).  Never part of a name, which is escaped.
 */
#define TOP_MARK_HEADING '\001'
#define TOP_MARK_ALERT '\002'

/* How a snapshot is laid out: in `width` columns (0: unlimited). */
struct top_layout {
	FILE *f;
	size_t width;
	const char *db_path;
	const struct top_query *q;
	int64_t now;     /* wall clock, for the daemon's state */
	bool live;       /* say how long ago; mark headings */
};

/* Where the data comes from, the daemon's state, the window, lost events, the filter and sort. */
void top_put_header(const struct top_layout *l, const struct top_snapshot *s);
/* After a blank line, once there is data: the cgroups that lost page cache, with their files. */
void top_put_table(const struct top_layout *l, const struct top_snapshot *s);
/* After a blank line, once there is data: the reclaim roots and who grew under each. */
void top_put_roots_table(const struct top_layout *l, const struct top_snapshot *s);

#endif
