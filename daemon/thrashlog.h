/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One journal warning per victim when its executable page cache is being
 * evicted and read back (the incident cachewatch exists for), with
 * structured fields an operator can filter on (journalctl
 * CACHEWATCH_CGROUP=...), at most once per victim every few minutes.
 */
#ifndef CACHEWATCH_THRASHLOG_H
#define CACHEWATCH_THRASHLOG_H

#include <stdint.h>
#include "collector.h"
#include "hashtab.h"

struct cgroups;

struct thrashlog {
	struct hashtab last_logged; /* victim id -> int64_t ts */
	uint64_t min_pages;         /* exec pages evicted in one interval to speak */
	int64_t quiet_seconds;      /* per victim, between two warnings */
};

void thrashlog_init(struct thrashlog *t);
void thrashlog_done(struct thrashlog *t);

/* Look at an interval just written (b holds exactly its rows). */
void thrashlog_interval(struct thrashlog *t, const struct batch *b, struct cgroups *cg, int64_t ts);

#endif
