/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rows of `cachewatch top` for one window of intervals, read from the
 * database in one short read transaction: the cgroups that lost the most
 * page cache with their causes, exec pages, refaults and median refault
 * time, the files behind each, and the reclaim roots with the cgroups
 * that grew under them.  Shared by the live view and --once.
 *
 * The window ends at the newest interval in the database, not at the wall
 * clock, so a database whose daemon stopped still shows its last minutes.
 */
#ifndef CACHEWATCH_TOP_DATA_H
#define CACHEWATCH_TOP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

enum top_sort {
	TOP_SORT_EVICTED,  /* pages evicted, most first */
	TOP_SORT_EXEC,     /* executable pages evicted, most first */
	TOP_SORT_REFAULTED, /* evicted pages that came back, most first */
	TOP_SORT_TIME,     /* median refault time, shortest (hottest) first */
	TOP_SORT_CGROUP,   /* name, alphabetical */
	TOP_SORT_COUNT,
};

/* "evicted", "exec", "refaulted", "time", "cgroup". */
const char *top_sort_name(enum top_sort sort);
/* 0 and *ret when s names a sort key (also "refault-time", "name"); -EINVAL otherwise. */
int top_sort_parse(const char *s, enum top_sort *ret);

/* What to gather. */
struct top_query {
	int64_t window_s;      /* intervals with ts in (newest - window_s, newest] */
	enum top_sort sort;
	const char *filter;    /* substring of path, namespace, pod or container; NULL: all */
	int limit;             /* cgroups */
	int files;             /* files per cgroup */
	int roots;             /* reclaim roots */
	int pressure;          /* cgroups shown under each reclaim root */
};

/* Page counts of one cgroup, or of one file in one cgroup, in the window. */
struct top_figures {
	int64_t evicted;
	int64_t exec;
	int64_t refaulted;
	double median_refault_ms; /* < 0: no refault measured */
	char *causes;             /* "limit" or "limit 98%, pageout 2%" */
};

struct top_file {
	char *name;               /* host path, else a description; untrusted */
	struct top_figures fig;
};

struct top_cgroup {
	int64_t id;
	char *name;               /* namespace/pod/container, else the path; untrusted */
	struct top_figures fig;
	struct top_file *files;
	size_t n_files;
};

/* A cgroup under a reclaim root: what it grew (peak over the window) and holds. */
struct top_pressure {
	char *name;
	int64_t grew;             /* bytes, anon + file */
	int64_t anon_grew;
	int64_t file_grew;
	int64_t anon;             /* bytes held at its last sample in the window */
	int64_t file;
};

struct top_root {
	int64_t id;
	char *name;
	int64_t reclaimed;        /* pages it evicted in the window */
	int64_t victims;          /* cgroups it evicted from */
	struct top_pressure *pressure;
	size_t n_pressure;
};

struct top_snapshot {
	bool have_intervals;
	int64_t newest_ts;        /* end of the window */
	int64_t window_intervals;
	bool have_run;            /* the newest run */
	int64_t run_id, run_started, run_stopped, run_last_flush; /* -1: NULL */
	int64_t run_interval_s;
	char *run_host;
	int64_t lost_run;         /* events lost by the newest run */
	int64_t lost_window;      /* events lost in the window, any run */
	int64_t matching_cgroups; /* cgroups that lost page cache and pass the filter */
	struct top_cgroup *cgroups;
	size_t n_cgroups;
	struct top_root *roots;
	size_t n_roots;
};

/*
 * Fill snap (zeroed first) from db.  0 on success; -1 with a one-line
 * reason in err otherwise (snap then holds nothing to free).  No
 * transaction stays open afterwards, whatever the outcome.
 */
int top_gather(sqlite3 *db, const struct top_query *q, struct top_snapshot *snap, char *err,
	       size_t errlen);

void top_snapshot_free(struct top_snapshot *snap);

#endif
