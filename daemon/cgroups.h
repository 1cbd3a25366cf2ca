/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The memory cgroups cachewatch knows: kernfs id -> path, learned by walking
 * the memory hierarchy (libcgroup) and from the cgroup_mkdir/rmdir events,
 * kept after removal (page cache outlives its cgroup), and each one's
 * memory.stat of the current and previous walk.
 */
#ifndef CACHEWATCH_CGROUPS_H
#define CACHEWATCH_CGROUPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "cgpath.h"
#include "hashtab.h"
#include "memstat.h"
#include "podlogs.h"

struct cgroup_info {
	uint64_t id;       /* kernfs id: inode number of the cgroup directory */
	uint64_t parent;   /* id of the parent, 0 for the root or unknown */
	char *path;        /* relative to the hierarchy root, "/" = root; NULL unknown */
	int64_t first_seen;
	int64_t last_seen;
	int64_t removed;   /* 0 while alive */
	int64_t written_seen; /* last_seen value last written to the database */
	uint32_t walk_gen; /* last walk that found it */
	bool dirty;        /* needs writing: new, renamed, removed, or last_seen
			    * a minute ahead of the database */
	bool have_stat;    /* stat is from the last walk */
	bool have_prev;    /* prev is from the walk before */
	struct memstat stat, prev;
	bool is_pod;       /* the path is a Kubernetes pod or container cgroup */
	struct cgroup_owner owner; /* parsed from the path */
	struct pod_names names;    /* from kubelet's log directories */
	bool names_known;
	uint8_t name_tries;
};

struct cgroups {
	char *mount;         /* mount point of the memory hierarchy */
	bool v2;             /* memory controller on cgroup2 */
	int hierarchy_id;    /* 0 on cgroup2 */
	uint32_t walk_gen;
	struct hashtab by_id; /* id -> struct cgroup_info * */
};

/* Find the memory hierarchy (libcgroup) and its id; clear message on error. */
int cgroups_open(struct cgroups **ret, char *err, size_t errlen);
struct cgroups *cgroups_free(struct cgroups *c);

/* Table operations, usable without a mounted hierarchy (tests). */
struct cgroups *cgroups_new_table(const char *mount, bool v2, int hierarchy_id);
struct cgroup_info *cgroups_get(struct cgroups *c, uint64_t id);
struct cgroup_info *cgroups_learn(struct cgroups *c, uint64_t id, const char *path, int64_t now);
void cgroups_mark_removed(struct cgroups *c, uint64_t id, const char *path, int64_t now);

/*
 * Walk the whole hierarchy: learn every cgroup, read each memory.stat (the
 * previous reading moves to prev), derive v2 own anon/file, and mark
 * cgroups that vanished without an rmdir event as removed.
 */
int cgroups_walk(struct cgroups *c, int64_t now);

/*
 * Forget entries to stay within max: removed cgroups already written and
 * gone for 10 minutes first, then the least recently seen written ones
 * (a live one is learned again by the next walk, and the database keeps
 * every name).  Returns how many were dropped.
 */
size_t cgroups_prune(struct cgroups *c, int64_t now, size_t max);

/* True when cgroup id is ancestor_id or below it. */
bool cgroups_is_under(struct cgroups *c, uint64_t id, uint64_t ancestor_id);

/* Pure helpers, exported for the unit tests. */
int cgroups_parse_hierarchy_id(const char *proc_cgroups_text, const char *controller);
char *cgroups_relative_path(const char *mount, const char *full_path);
void cgroups_derive_own(struct cgroups *c);

#endif
