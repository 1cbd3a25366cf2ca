/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One memory cgroup's accounting as the kernel reports it: memory.stat plus
 * usage, limit and limit-hit counters, read from v1 or v2 file names into
 * one shape.  -1 means "not reported".  anon/file are the cgroup's own
 * memory; the total_* fields, mapped/active/inactive file and the refault
 * total include its descendants (v1 total_* keys; v2 memory.stat is
 * hierarchical already, and own values are derived by the caller, which
 * knows the children).
 */
#ifndef CACHEWATCH_MEMSTAT_H
#define CACHEWATCH_MEMSTAT_H

#include <stdbool.h>
#include <stdint.h>

struct memstat {
	int64_t anon, file;
	int64_t total_anon, total_file;
	int64_t mapped_file, active_file, inactive_file;
	int64_t refault_file, total_refault_file;
	int64_t pgmajfault;
	int64_t usage, limit, failcnt;
};

void memstat_init(struct memstat *m);

/* Take one "key value" pair of memory.stat (v2: cgroup v2 key names). */
void memstat_apply(struct memstat *m, bool v2, const char *key, int64_t value);

/* Parse the text of a memory.stat file. */
void memstat_parse(struct memstat *m, bool v2, const char *text);

/*
 * Read memory.stat and the usage/limit/failcnt files of the cgroup
 * directory open at dirfd.  -errno when memory.stat cannot be read (the
 * cgroup went away); the other files are optional.
 */
int memstat_read(struct memstat *m, int dirfd, bool v2);

#endif
