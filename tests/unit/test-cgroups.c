// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of the memory cgroup table (daemon/cgroups.c) without a mounted
 * hierarchy: the memory line of /proc/cgroups, paths relative to the mount,
 * learning ids and paths (first/last seen, dirty), removal, ancestry through
 * the parent links, and the cgroup v2 derivation of a cgroup's own anon and
 * file memory from hierarchical totals on a hand-built tree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups.h"
#include "test.h"
#include "util.h"

/* /proc/cgroups of a v1 host (memory enabled at hierarchy 4). */
static const char proc_cgroups_v1[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpuset\t3\t1\t1\n"
	"cpu\t1\t1\t1\n"
	"cpuacct\t2\t1\t1\n"
	"blkio\t7\t1\t1\n"
	"memory\t4\t11\t1\n"
	"devices\t5\t1\t1\n"
	"freezer\t6\t1\t1\n"
	"net_cls\t0\t1\t1\n"
	"perf_event\t0\t1\t1\n"
	"net_prio\t0\t1\t1\n"
	"hugetlb\t0\t1\t1\n"
	"pids\t8\t1\t1\n";

static void test_parse_hierarchy_id(void)
{
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "memory"), 4, "memory enabled");
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "cpu"), 1, "cpu, not cpuset");
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "cpuset"), 3, "cpuset");
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "pids"), 8, "last line");
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "mem"), -ENOENT,
		  "prefix of a name");
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "rdma"), -ENOENT,
		  "controller absent");
	/* The header line's first word is never a controller. */
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "#subsys_name"), -ENOENT,
		  "header line");
	ASSERT_EQ(cgroups_parse_hierarchy_id(proc_cgroups_v1, "subsys_name"), -ENOENT,
		  "header line without #");

	/* Disabled (cgroup_disable=memory). */
	ASSERT_EQ(cgroups_parse_hierarchy_id("#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
					     "cpu\t1\t1\t1\n"
					     "memory\t4\t1\t0\n",
					     "memory"),
		  -ENOENT, "memory disabled");
	/* Last line without a newline, spaces instead of tabs. */
	ASSERT_EQ(cgroups_parse_hierarchy_id("#subsys_name hierarchy num_cgroups enabled\n"
					     "memory 9 120 1",
					     "memory"),
		  9, "no trailing newline");
	/* Only the header, or nothing. */
	ASSERT_EQ(cgroups_parse_hierarchy_id("#subsys_name\thierarchy\tnum_cgroups\tenabled\n",
					     "memory"),
		  -ENOENT, "header only");
	ASSERT_EQ(cgroups_parse_hierarchy_id("", "memory"), -ENOENT, "empty text");
	/* A malformed line is skipped, the right one still found. */
	ASSERT_EQ(cgroups_parse_hierarchy_id("memory\tx\t1\t1\nmemory\t6\t2\t1\n", "memory"), 6,
		  "malformed line skipped");
}

static void check_rel(const char *mount, const char *full, const char *expected)
{
	char *rel = cgroups_relative_path(mount, full);
	char name[512];

	snprintf(name, sizeof(name), "relative_path(\"%s\", \"%s\")", mount, full);
	if (expected)
		ASSERT_STREQ(rel, expected, name);
	else if (!ASSERT_NULL(rel, name))
		fprintf(stderr, "  got \"%s\"\n", rel);
	free(rel);
}

static void test_relative_path(void)
{
	/* The mount itself is the root, with or without trailing slashes. */
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", "/");
	check_rel("/sys/fs/cgroup/memory/", "/sys/fs/cgroup/memory", "/");
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/", "/");
	check_rel("/sys/fs/cgroup/memory/", "/sys/fs/cgroup/memory/", "/");
	check_rel("/sys/fs/cgroup/memory//", "/sys/fs/cgroup/memory//", "/");
	/* Children. */
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/a", "/a");
	check_rel("/sys/fs/cgroup/memory/", "/sys/fs/cgroup/memory/a", "/a");
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/a/", "/a");
	check_rel("/sys/fs/cgroup/memory/", "/sys/fs/cgroup/memory/kubepods/burstable/pod1/c0/",
		  "/kubepods/burstable/pod1/c0");
	check_rel("/sys/fs/cgroup", "/sys/fs/cgroup/system.slice/cron.service",
		  "/system.slice/cron.service");
	/* Outside the mount. */
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu/a", NULL);
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup", NULL);
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memor", NULL);
	check_rel("/sys/fs/cgroup/memory", "", NULL);
	/* A sibling sharing the mount as a prefix is not under it. */
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memoryX/a", NULL);
	check_rel("/sys/fs/cgroup/memory/", "/sys/fs/cgroup/memoryX/a", NULL);
	check_rel("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memoryX", NULL);
}

static void test_learn(void)
{
	struct cgroups *c = cgroups_new_table("/sys/fs/cgroup/memory", false, 4);
	struct cgroup_info *cg, *again;
	const int64_t *stat;
	bool all_unset = true;

	if (!ASSERT_NOT_NULL(c, "cgroups_new_table"))
		return;
	ASSERT_STREQ(c->mount, "/sys/fs/cgroup/memory", "table mount");
	ASSERT_FALSE(c->v2, "table v1");
	ASSERT_EQ(c->hierarchy_id, 4, "table hierarchy id");
	ASSERT_NULL(cgroups_get(c, 100), "unknown id");

	cg = cgroups_learn(c, 100, "/a", 1000);
	if (!ASSERT_NOT_NULL(cg, "learn new"))
		goto out;
	ASSERT_EQ(cg->id, 100, "new id");
	ASSERT_STREQ(cg->path, "/a", "new path");
	ASSERT_EQ(cg->first_seen, 1000, "new first_seen");
	ASSERT_EQ(cg->last_seen, 1000, "new last_seen");
	ASSERT_EQ(cg->removed, 0, "new not removed");
	ASSERT_EQ(cg->parent, 0, "new parent unknown");
	ASSERT_TRUE(cg->dirty, "new is dirty");
	ASSERT_FALSE(cg->have_stat, "new has no stat");
	ASSERT_FALSE(cg->have_prev, "new has no prev");
	stat = (const int64_t *)&cg->stat;
	for (size_t i = 0; i < 2 * sizeof(struct memstat) / sizeof(int64_t); i++)
		all_unset = all_unset && stat[i] == -1;
	ASSERT_TRUE(all_unset, "new stat and prev are all -1");
	ASSERT_TRUE(cgroups_get(c, 100) == cg, "get returns the learned entry");

	/* NULL path keeps the path; a later time moves last_seen and dirties. */
	cg->dirty = false;
	again = cgroups_learn(c, 100, NULL, 1005);
	ASSERT_TRUE(again == cg, "same entry on relearn");
	ASSERT_STREQ(cg->path, "/a", "NULL path keeps the path");
	ASSERT_EQ(cg->first_seen, 1000, "first_seen kept");
	ASSERT_EQ(cg->last_seen, 1005, "last_seen moves forward");
	ASSERT_TRUE(cg->dirty, "last_seen change dirties");

	/* Nothing new: not dirty. */
	cg->dirty = false;
	cgroups_learn(c, 100, NULL, 1005);
	cgroups_learn(c, 100, "/a", 1005);
	ASSERT_FALSE(cg->dirty, "relearning the same facts does not dirty");

	/* last_seen never goes back. */
	cgroups_learn(c, 100, "/a", 1001);
	ASSERT_EQ(cg->last_seen, 1005, "last_seen only grows");
	ASSERT_EQ(cg->first_seen, 1000, "first_seen unchanged by an older time");
	ASSERT_FALSE(cg->dirty, "an older time does not dirty");

	/* A new path replaces the old one (rename, or id reuse). */
	cgroups_learn(c, 100, "/b/c", 1003);
	ASSERT_STREQ(cg->path, "/b/c", "new path replaces");
	ASSERT_EQ(cg->last_seen, 1005, "last_seen kept with a new path at an older time");
	ASSERT_TRUE(cg->dirty, "path change dirties");

	/* Unknown path at first. */
	cg = cgroups_learn(c, 200, NULL, 2000);
	if (ASSERT_NOT_NULL(cg, "learn without path")) {
		ASSERT_NULL(cg->path, "path unknown");
		ASSERT_EQ(cg->first_seen, 2000, "first_seen without path");
		cgroups_learn(c, 200, "/late", 2001);
		ASSERT_STREQ(cg->path, "/late", "path learned later");
	}

	/* Entries stay put while the table grows. */
	cg = cgroups_get(c, 100);
	for (uint64_t id = 1000; id < 3000; id++) {
		char path[32];

		snprintf(path, sizeof(path), "/many/%" PRIu64, id);
		if (!cgroups_learn(c, id, path, (int64_t)id)) {
			TEST_FAIL_("learn %" PRIu64, id);
			break;
		}
	}
	ASSERT_TRUE(cgroups_get(c, 100) == cg, "entry pointer stable across growth");
	ASSERT_STREQ(cg->path, "/b/c", "entry intact across growth");
	ASSERT_EQ(c->by_id.count, 2002, "table count");
	cg = cgroups_get(c, 2999);
	if (ASSERT_NOT_NULL(cg, "last of many"))
		ASSERT_STREQ(cg->path, "/many/2999", "last of many path");
out:
	cgroups_free(c);
}

static void test_mark_removed(void)
{
	struct cgroups *c = cgroups_new_table("/sys/fs/cgroup", true, 0);
	struct cgroup_info *cg;

	if (!ASSERT_NOT_NULL(c, "cgroups_new_table"))
		return;
	cg = cgroups_learn(c, 10, "/x", 100);
	if (!ASSERT_NOT_NULL(cg, "learn"))
		goto out;
	cg->have_stat = cg->have_prev = true;
	cg->dirty = false;

	cgroups_mark_removed(c, 10, NULL, 150);
	ASSERT_EQ(cg->removed, 150, "removed time");
	ASSERT_STREQ(cg->path, "/x", "path kept after removal");
	ASSERT_FALSE(cg->have_stat, "stat dropped on removal");
	ASSERT_FALSE(cg->have_prev, "prev dropped on removal");
	ASSERT_TRUE(cg->dirty, "removal dirties");
	ASSERT_EQ(cg->last_seen, 150, "removal is a sighting");
	ASSERT_EQ(cg->first_seen, 100, "first_seen kept on removal");

	/* A second removal event does not move the time. */
	cgroups_mark_removed(c, 10, "/x", 170);
	ASSERT_EQ(cg->removed, 150, "removed set once");
	ASSERT_STREQ(cg->path, "/x", "path kept after second removal");

	/* Removal of a cgroup never seen alive: learned with its path. */
	cgroups_mark_removed(c, 11, "/gone", 200);
	cg = cgroups_get(c, 11);
	if (ASSERT_NOT_NULL(cg, "unknown id learned by removal")) {
		ASSERT_STREQ(cg->path, "/gone", "path of the unknown removed id");
		ASSERT_EQ(cg->first_seen, 200, "first_seen of the unknown removed id");
		ASSERT_EQ(cg->removed, 200, "removed of the unknown id");
		ASSERT_TRUE(cg->dirty, "unknown removed id dirty");
	}
	cgroups_mark_removed(c, 12, NULL, 300);
	cg = cgroups_get(c, 12);
	if (ASSERT_NOT_NULL(cg, "unknown id without path learned by removal")) {
		ASSERT_NULL(cg->path, "no path for the unknown removed id");
		ASSERT_EQ(cg->removed, 300, "removed of the unknown id without path");
	}
out:
	cgroups_free(c);
}

static struct cgroup_info *node(struct cgroups *c, uint64_t id, uint64_t parent)
{
	struct cgroup_info *cg = cgroups_learn(c, id, NULL, 1);

	if (cg)
		cg->parent = parent;
	return cg;
}

static void test_is_under(void)
{
	struct cgroups *c = cgroups_new_table("/sys/fs/cgroup", true, 0);
	uint64_t chain[80];

	if (!ASSERT_NOT_NULL(c, "cgroups_new_table"))
		return;
	/*   1 ─┬─ 2 ── 3 ── 4
	 *      └─ 5 ── 6
	 *   7 (parent unknown: 0)    8 -> 9 (9 not in the table)
	 *   20 <-> 21 (a corrupt cycle)
	 */
	if (!node(c, 1, 0) || !node(c, 2, 1) || !node(c, 3, 2) || !node(c, 4, 3) ||
	    !node(c, 5, 1) || !node(c, 6, 5) || !node(c, 7, 0) || !node(c, 8, 9) ||
	    !node(c, 20, 21) || !node(c, 21, 20)) {
		TEST_FAIL_("building the tree");
		goto out;
	}
	ASSERT_TRUE(cgroups_is_under(c, 4, 1), "4 under root 1");
	ASSERT_TRUE(cgroups_is_under(c, 4, 2), "4 under 2");
	ASSERT_TRUE(cgroups_is_under(c, 4, 3), "4 under its parent 3");
	ASSERT_TRUE(cgroups_is_under(c, 4, 4), "4 under itself");
	ASSERT_TRUE(cgroups_is_under(c, 6, 5), "6 under 5");
	ASSERT_TRUE(cgroups_is_under(c, 1, 1), "root under itself");
	ASSERT_FALSE(cgroups_is_under(c, 4, 5), "4 not under sibling branch 5");
	ASSERT_FALSE(cgroups_is_under(c, 6, 2), "6 not under 2");
	ASSERT_FALSE(cgroups_is_under(c, 2, 4), "ancestor not under descendant");
	ASSERT_FALSE(cgroups_is_under(c, 1, 2), "root not under a child");
	ASSERT_FALSE(cgroups_is_under(c, 7, 1), "unlinked 7 not under 1");
	ASSERT_FALSE(cgroups_is_under(c, 8, 1), "8 with an unknown parent not under 1");
	ASSERT_TRUE(cgroups_is_under(c, 8, 9), "8 under its unknown parent 9");
	ASSERT_FALSE(cgroups_is_under(c, 99, 1), "unknown id not under 1");
	ASSERT_TRUE(cgroups_is_under(c, 99, 99), "unknown id under itself");
	ASSERT_FALSE(cgroups_is_under(c, 4, 0), "nothing is under id 0");
	ASSERT_FALSE(cgroups_is_under(c, 20, 1), "a parent cycle terminates");
	ASSERT_TRUE(cgroups_is_under(c, 20, 21), "cycle member under its parent");

	/* A deep but legal chain within the walk's depth limit (64). */
	for (size_t i = 0; i < 60; i++) {
		chain[i] = 1000 + i;
		if (!node(c, chain[i], i ? chain[i - 1] : 1)) {
			TEST_FAIL_("building the chain");
			goto out;
		}
	}
	ASSERT_TRUE(cgroups_is_under(c, chain[59], 1), "depth 61 under the root");
	ASSERT_TRUE(cgroups_is_under(c, chain[59], chain[0]), "deep chain under its top");
	ASSERT_FALSE(cgroups_is_under(c, chain[59], 2), "deep chain not under 2");
out:
	cgroups_free(c);
}

/* A cgroup with a fresh reading of its hierarchical totals. */
static struct cgroup_info *with_stat(struct cgroups *c, uint64_t id, uint64_t parent,
				     int64_t total_anon, int64_t total_file)
{
	struct cgroup_info *cg = cgroups_learn(c, id, NULL, 1);

	if (!cg)
		return NULL;
	cg->parent = parent;
	cg->walk_gen = c->walk_gen;
	cg->have_stat = true;
	cg->stat.total_anon = total_anon;
	cg->stat.total_file = total_file;
	return cg;
}

static void check_own(struct cgroups *c, uint64_t id, int64_t anon, int64_t file,
		      int64_t total_anon, int64_t total_file)
{
	struct cgroup_info *cg = cgroups_get(c, id);
	char name[64];

	snprintf(name, sizeof(name), "cgroup %" PRIu64, id);
	if (!ASSERT_NOT_NULL(cg, name))
		return;
	snprintf(name, sizeof(name), "own anon of %" PRIu64, id);
	ASSERT_EQ(cg->stat.anon, anon, name);
	snprintf(name, sizeof(name), "own file of %" PRIu64, id);
	ASSERT_EQ(cg->stat.file, file, name);
	snprintf(name, sizeof(name), "total anon of %" PRIu64 " unchanged", id);
	ASSERT_EQ(cg->stat.total_anon, total_anon, name);
	snprintf(name, sizeof(name), "total file of %" PRIu64 " unchanged", id);
	ASSERT_EQ(cg->stat.total_file, total_file, name);
}

static void test_derive_own_v2(void)
{
	struct cgroups *c = cgroups_new_table("/sys/fs/cgroup", true, 0);
	struct cgroup_info *stale, *gone, *cg;

	if (!ASSERT_NOT_NULL(c, "cgroups_new_table"))
		return;
	c->walk_gen = 5;
	/*
	 * 1 (root)  anon 10000 file 50000
	 * ├─ 2      anon  3000 file 20000
	 * │  ├─ 4   anon  1000 file  5000
	 * │  └─ 5   anon   500 file  2500
	 * ├─ 3      anon  2000 file 10000
	 * │  └─ 6   anon     0 file     0   (empty child)
	 * ├─ 7      stale: found by an older walk only, must not count
	 * ├─ 8      removed (no stat), must not count
	 * └─ 9      totals not reported (-1), must not count
	 */
	if (!with_stat(c, 1, 0, 10000, 50000) || !with_stat(c, 2, 1, 3000, 20000) ||
	    !with_stat(c, 4, 2, 1000, 5000) || !with_stat(c, 5, 2, 500, 2500) ||
	    !with_stat(c, 3, 1, 2000, 10000) || !with_stat(c, 6, 3, 0, 0) ||
	    !(stale = with_stat(c, 7, 1, 700, 700)) || !(gone = with_stat(c, 8, 1, 800, 800)) ||
	    !with_stat(c, 9, 1, -1, -1)) {
		TEST_FAIL_("building the tree");
		goto out;
	}
	stale->walk_gen = 4;
	cgroups_mark_removed(c, 8, NULL, 2);
	ASSERT_FALSE(gone->have_stat, "removed cgroup has no stat");

	cgroups_derive_own(c);
	check_own(c, 1, 10000 - 3000 - 2000, 50000 - 20000 - 10000, 10000, 50000);
	check_own(c, 2, 3000 - 1000 - 500, 20000 - 5000 - 2500, 3000, 20000);
	check_own(c, 3, 2000, 10000, 2000, 10000);
	check_own(c, 4, 1000, 5000, 1000, 5000);
	check_own(c, 5, 500, 2500, 500, 2500);
	check_own(c, 6, 0, 0, 0, 0);
	check_own(c, 7, 700, 700, 700, 700);
	check_own(c, 9, -1, -1, -1, -1);
	cg = cgroups_get(c, 8);
	if (ASSERT_NOT_NULL(cg, "removed cgroup")) {
		ASSERT_EQ(cg->stat.anon, -1, "removed cgroup has no own anon");
		ASSERT_EQ(cg->stat.file, -1, "removed cgroup has no own file");
	}

	/* Deriving again (next walk, same readings) gives the same result. */
	cgroups_derive_own(c);
	check_own(c, 1, 5000, 20000, 10000, 50000);
	check_own(c, 2, 1500, 12500, 3000, 20000);

	/* A parent without a reading: own stays unknown, children unaffected. */
	cg = cgroups_get(c, 2);
	if (cg) {
		cg->have_stat = false;
		cg->stat.anon = cg->stat.file = -1;
	}
	cgroups_derive_own(c);
	check_own(c, 2, -1, -1, 3000, 20000);
	check_own(c, 4, 1000, 5000, 1000, 5000);
	/* and the root no longer subtracts the child it has no fresh reading of */
	check_own(c, 1, 10000 - 2000, 50000 - 10000, 10000, 50000);
out:
	cgroups_free(c);
}

/*
 * Parent and children are read one after the other, so the children's
 * totals can exceed the parent's: the parent's own memory is then 0, never
 * negative, and never -1 ("not reported").
 */
static void test_derive_own_races(void)
{
	struct cgroups *c = cgroups_new_table("/sys/fs/cgroup", true, 0);
	struct cgroup_info *p;

	if (!ASSERT_NOT_NULL(c, "cgroups_new_table"))
		return;
	c->walk_gen = 1;
	/* 10: children sum to far more than the parent. */
	if (!with_stat(c, 10, 0, 100, 1000) || !with_stat(c, 11, 10, 150, 600) ||
	    !with_stat(c, 12, 10, 60, 600)) {
		TEST_FAIL_("building the tree");
		goto out;
	}
	cgroups_derive_own(c);
	check_own(c, 10, 0, 0, 100, 1000);
	check_own(c, 11, 150, 600, 150, 600);

	/* 20: the child exceeds the parent by exactly one byte. */
	if (!with_stat(c, 20, 0, 100, 4096) || !with_stat(c, 21, 20, 101, 4097)) {
		TEST_FAIL_("building the tree");
		goto out;
	}
	cgroups_derive_own(c);
	p = cgroups_get(c, 20);
	if (p) {
		ASSERT_TRUE(p->stat.anon >= -1 && p->stat.file >= -1,
			    "own memory not below -1 after a race");
		ASSERT_TRUE(p->stat.anon == 0,
			  "cgroups_derive_own: parent total_anon 100, one child total_anon 101: "
			  "own anon must be 0, is -1 (\"not reported\")");
		ASSERT_TRUE(p->stat.file == 0,
			  "cgroups_derive_own: parent total_file 4096, one child total_file 4097: "
			  "own file must be 0, is -1 (\"not reported\")");
	}
out:
	cgroups_free(c);
}

/* v1 reports own and total separately: derive_own must not touch anything. */
static void test_derive_own_v1(void)
{
	struct cgroups *c = cgroups_new_table("/sys/fs/cgroup/memory", false, 4);
	struct cgroup_info *a, *b;
	struct memstat sa, sb;

	if (!ASSERT_NOT_NULL(c, "cgroups_new_table"))
		return;
	c->walk_gen = 3;
	a = with_stat(c, 1, 0, 10000, 50000);
	b = with_stat(c, 2, 1, 3000, 20000);
	if (!a || !b) {
		TEST_FAIL_("building the tree");
		goto out;
	}
	a->stat.anon = 7000;
	a->stat.file = 30000;
	b->stat.anon = 3000;
	b->stat.file = -1;
	sa = a->stat;
	sb = b->stat;
	cgroups_derive_own(c);
	ASSERT_TRUE(memcmp(&a->stat, &sa, sizeof(sa)) == 0, "v1 parent stat untouched");
	ASSERT_TRUE(memcmp(&b->stat, &sb, sizeof(sb)) == 0, "v1 child stat untouched");
	ASSERT_EQ(a->stat.anon, 7000, "v1 own anon kept");
	ASSERT_EQ(b->stat.file, -1, "v1 unknown own file kept");
out:
	cgroups_free(c);
}

int main(void)
{
	test_parse_hierarchy_id();
	test_relative_path();
	test_learn();
	test_mark_removed();
	test_is_under();
	test_derive_own_v2();
	test_derive_own_races();
	test_derive_own_v1();
	cgroups_free(NULL);
	return test_exit();
}
