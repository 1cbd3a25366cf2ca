// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Roll-ups and expiry keep the views right.  Two hours of known 10 s rows
 * (evictions with their refault credits, refault histograms, additions,
 * memory.stat) are written through the store; after rolling everything
 * older than the raw window into 5 minute rows, every total, v_exec_thrash
 * row, median and pressure answer must be unchanged while the row counts
 * fall; memory.stat keeps each bucket's last level and its summed growth;
 * rows of the same key written later add to the rolled-up ones; a second
 * run does nothing twice; and expiry removes old rows and recomputes the
 * v_exec_thrash summaries from what is left.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include "cachewatch.h"
#include "migrate.h"
#include "retention.h"
#include "store.h"
#include "test.h"

#define T0 1800000000LL /* a multiple of 300 */
#define MB (1 << 20)
#define POD 10
#define APP 11
#define HOG 12

static sqlite3 *rdb;
static char text[4096];

static const char *q(const char *sql)
{
	sqlite3_stmt *st;

	text[0] = 0;
	if (sqlite3_prepare_v2(rdb, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(text, sizeof(text), "SQL error: %s", sqlite3_errmsg(rdb));
		return text;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(text, sizeof(text), "%s", t ? (const char *)t : "NULL");
	}
	sqlite3_finalize(st);
	return text;
}

static long long qi(const char *sql)
{
	return atoll(q(sql));
}

/* 720 intervals: the app's exec file evicted under the pod's limit, every
 * interval; half of it refaulted later; the hog grows in the first hour. */
static bool fill(struct store *s, int64_t *lib, int64_t *data)
{
	struct run_info ri = { .started = T0, .hostname = "h", .kernel = "k", .version = "v",
			       .hooks = "x", .reclaim_context = "scan_control", .interval_s = 10 };
	bool ok = true;
	int64_t run;

	ok &= ASSERT_OK(store_begin(s), "begin");
	ok &= ASSERT_OK(store_run_start(s, &ri, &run), "run");
	ok &= ASSERT_OK(store_cgroup(s, &(struct cgroup_row){ .id = POD, .path = "/pod",
			.first_seen = T0, .last_seen = T0 }), "pod");
	ok &= ASSERT_OK(store_cgroup(s, &(struct cgroup_row){ .id = APP, .path = "/pod/app",
			.first_seen = T0, .last_seen = T0 }), "app");
	ok &= ASSERT_OK(store_cgroup(s, &(struct cgroup_row){ .id = HOG, .path = "/pod/hog",
			.first_seen = T0, .last_seen = T0 }), "hog");
	ok &= ASSERT_OK(store_file(s, &(struct file_row){ .dev = 1, .ino = 2, .gen = 3,
			.kind = "file", .path = "/lib/libapp.so" }, T0, lib), "lib");
	ok &= ASSERT_OK(store_file(s, &(struct file_row){ .dev = 1, .ino = 4, .gen = 5,
			.kind = "file", .path = "/data" }, T0, data), "data");
	ok &= ASSERT_OK(store_commit(s), "commit");
	for (int i = 1; ok && i <= 720; i++) {
		int64_t ts = T0 + 10 * i;
		struct memstat m;

		ok &= ASSERT_OK(store_begin(s), "begin");
		ok &= ASSERT_OK(store_eviction(s, ts, APP, POD, APP, CW_CAUSE_LIMIT, *lib, true, 10,
					       100), "eviction");
		ok &= ASSERT_OK(store_eviction(s, ts, APP, 0, 1, CW_CAUSE_KSWAPD, *data, false, 1, 7),
				"data eviction");
		if (i > 1) /* half of the previous interval's pages came back */
			ok &= ASSERT_OK(store_credit_refault(s, ts - 10, APP, POD, APP,
							     CW_CAUSE_LIMIT, *lib, true, 50),
					"credit");
		ok &= ASSERT_OK(store_refault_hist(s, ts, APP, APP, *lib, CW_CAUSE_LIMIT, true,
						   i % 3 ? 40 : 42, 50), "hist");
		ok &= ASSERT_OK(store_addition(s, ts, APP, *lib, 10, 100), "addition");
		memstat_init(&m);
		m.anon = (i <= 360 ? i : 360) * 100000LL; /* the hog grows, then holds */
		m.file = 0;
		ok &= ASSERT_OK(store_memstat(s, ts, HOG, &m, i <= 360 ? 100000 : 0, 0), "ms hog");
		ok &= ASSERT_OK(store_pressure_peak(s, APP, POD, HOG, m.anon, i <= 360 ? 100000 : 0),
				"peak");
		ok &= ASSERT_OK(store_interval(s, &(struct interval_info){ .run = run,
				.seq = (uint32_t)i, .ts = ts }), "interval");
		ok &= ASSERT_OK(store_commit(s), "commit");
	}
	return ok;
}

int main(void)
{
	char dir[] = "/tmp/cw-retention-XXXXXX", path[256], err[512], before[2048];
	struct retention r = { .raw_seconds = 3600, .bucket_seconds = 300 };
	struct store *s = NULL;
	int64_t lib = 0, data = 0, now = T0 + 7200;
	sqlite3 *db = NULL;
	bool created;
	int done;

	if (!mkdtemp(dir))
		return TEST_HARD_ERROR;
	snprintf(path, sizeof(path), "%s/r.db", dir);
	if (!ASSERT_OK(db_open_writer(path, &db, &created, err, sizeof(err)), err) ||
	    !ASSERT_OK(store_open(&s, db), "store_open"))
		goto out;
	rdb = db;
	if (!fill(s, &lib, &data))
		goto out;

	snprintf(before, sizeof(before), "%s", q("SELECT victim || '|' || file || '|' || "
		"evicted_pages || '|' || refaulted_pages || '|' || median_refault_ms || '|' || "
		"top_cause || '|' || top_reclaim_root || '|' || top_pressure FROM v_exec_thrash"));
	ASSERT_STREQ(before, "/pod/app|/lib/libapp.so|72000|35950|1310.72|limit|/pod|/pod/hog",
		     "v_exec_thrash before");
	ASSERT_EQ(qi("SELECT COUNT(*) FROM evictions"), 1440, "raw eviction rows");

	ASSERT_OK(retention_load(&r, db), "load");
	done = retention_run(&r, db, now, 1000);
	ASSERT_EQ(done, 12, "the first hour's twelve 5-minute buckets rolled up");
	ASSERT_EQ(r.rolled_upto, T0 + 3600, "rolled up to the raw window");
	ASSERT_EQ(qi("SELECT COUNT(*) FROM evictions"), 720 + 24, "an hour raw, 12 buckets x 2 keys");
	ASSERT_EQ(qi("SELECT SUM(pages) FROM evictions"), 720 * 107, "no page lost or doubled");
	ASSERT_EQ(qi("SELECT SUM(refaulted_pages) FROM evictions"), 719 * 50,
		  "refault credits kept");
	ASSERT_EQ(qi("SELECT SUM(pages) FROM refault_hist"), 720 * 50, "histogram kept");
	ASSERT_EQ(qi("SELECT SUM(pages) FROM additions"), 720 * 100, "additions kept");
	ASSERT_EQ(qi("SELECT pages FROM evictions WHERE ts = 1800000300 AND exec = 1"), 3000,
		  "a rolled-up row: 30 intervals of 100 pages, at the bucket's end");
	ASSERT_STREQ(q("SELECT victim || '|' || file || '|' || evicted_pages || '|' || "
		       "refaulted_pages || '|' || median_refault_ms || '|' || top_cause || '|' || "
		       "top_reclaim_root || '|' || top_pressure FROM v_exec_thrash"),
		     before, "v_exec_thrash unchanged by the roll-up");
	ASSERT_STREQ(q("SELECT anon_bytes || ',' || anon_delta FROM memstat "
		       "WHERE cgroup = 12 AND ts = 1800000300"),
		     "3000000,3000000", "memstat: last level of the bucket, its growth summed");
	ASSERT_EQ(qi("SELECT COUNT(*) FROM memstat WHERE ts <= 1800003600"), 12,
		  "one memstat row per cgroup and bucket");
	ASSERT_EQ(qi("SELECT COUNT(*) FROM v_pressure WHERE ts = 1800000300"), 1,
		  "v_pressure reads the rolled-up interval");
	ASSERT_EQ(retention_run(&r, db, now, 1000), 0, "nothing is rolled up twice");

	/* A late credit to an eviction now in a roll-up row finds it there. */
	store_begin(s);
	ASSERT_OK(store_credit_refault(s, retention_ts_of(&r, T0 + 10), APP, POD, APP,
				       CW_CAUSE_LIMIT, lib, true, 50), "late credit");
	store_commit(s);
	ASSERT_EQ(qi("SELECT SUM(refaulted_pages) FROM evictions"), 720 * 50,
		  "late credit landed in the roll-up row");
	ASSERT_EQ(qi("SELECT refaulted_pages FROM v_exec_thrash"), 720 * 50,
		  "and in the summary");

	/* Expiry: keep 30 minutes; the summaries follow what is left. */
	r.keep_seconds = 1800;
	ASSERT_OK(retention_run(&r, db, now + 6 * 3600 + 1, 0), "expire");
	ASSERT_EQ(qi("SELECT COUNT(*) FROM evictions"), 0, "everything is older than 30 min");
	ASSERT_EQ(qi("SELECT COUNT(*) FROM v_exec_thrash"), 0, "summaries recomputed");
	ASSERT_EQ(qi("SELECT COUNT(*) FROM pressure_peaks"), 0, "pressure recomputed");
out:
	store_free(s);
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	if (system(err) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_exit();
}
