// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The public views over known rows written through the store API: the
 * refault credit on eviction rows, the top cause / reclaim root / pressure
 * and median refault time of v_exec_thrash, the subtree filter of
 * v_pressure (a sibling whose name shares the root's prefix is not under
 * it), NULL reclaim roots for global causes, and lost events in v_runs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include "cachewatch.h"
#include "migrate.h"
#include "store.h"
#include "test.h"

#define ROOT 1
#define P 100
#define APP 101
#define HOG 102
#define P2 103 /* "/P2": shares the prefix "/P", is not under /P */
#define MB (1 << 20)

static sqlite3 *view_db;

/* First column of the first row of a query, as text ("" if none, "NULL" for NULL). */
static char query_buf[4096];

static const char *q(const char *sql)
{
	sqlite3_stmt *st;

	query_buf[0] = 0;
	if (sqlite3_prepare_v2(view_db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(query_buf, sizeof(query_buf), "SQL error: %s", sqlite3_errmsg(view_db));
		return query_buf;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(query_buf, sizeof(query_buf), "%s", t ? (const char *)t : "NULL");
	}
	sqlite3_finalize(st);
	return query_buf;
}

static void memstat_of(struct memstat *m, int64_t anon, int64_t file)
{
	memstat_init(m);
	m->anon = anon;
	m->file = file;
}

#define CG(id_, path_, removed_)                                                    \
	(struct cgroup_row){ .id = id_, .path = path_, .first_seen = 990, .last_seen = 1010,    \
			     .removed = removed_ }

static bool fill(struct store *s, int64_t *exec_file, int64_t *data_file)
{
	struct interval_info ii = { 0 };
	struct run_info ri = {
		.started = 990, .hostname = "node-a", .kernel = "6.18", .version = "test",
		.hooks = "filemap_delete,filemap_add", .reclaim_context = "scan_control",
		.interval_s = 10,
	};
	struct memstat m;
	int64_t run;
	bool ok = true;

	ok &= ASSERT_OK(store_begin(s), "begin");
	ok &= ASSERT_OK(store_run_start(s, &ri, &run), "run");
	ok &= ASSERT_OK(store_cgroup(s, &CG(ROOT, "/", 0)), "cgroup /");
	ok &= ASSERT_OK(store_cgroup(s, &CG(P, "/P", 0)), "cgroup P");
	ok &= ASSERT_OK(store_cgroup(s, &(struct cgroup_row){ .id = APP, .path = "/P/app",
			.first_seen = 990, .last_seen = 1010, .namespace = "payments",
			.pod = "api-7d9f", .container = "app", .pod_uid = "u-1" }), "cgroup app");
	ok &= ASSERT_OK(store_cgroup(s, &(struct cgroup_row){ .id = HOG, .path = "/P/hog",
			.first_seen = 990, .last_seen = 1010, .removed = 1011,
			.container = "log-shipper" }), "cgroup hog");
	ok &= ASSERT_OK(store_cgroup(s, &CG(P2, "/P2", 0)), "cgroup P2");
	/* Learned again without names (a restart): the names stay. */
	ok &= ASSERT_OK(store_cgroup(s, &CG(APP, NULL, 0)), "cgroup app again");
	ok &= ASSERT_OK(store_file(s, &(struct file_row){ .dev = 65024, .ino = 42, .gen = 7,
			.kind = "file", .path = "/opt/app/lib/libjvm.so", .path_source = "handle",
			.container_path = "/usr/lib/libjvm.so" }, 1000, exec_file), "exec file");
	ok &= ASSERT_OK(store_file(s, &(struct file_row){ .dev = 65024, .ino = 43, .gen = 9,
			.kind = "file", .path = "/var/log/app.log", .path_source = "handle" }, 1000,
			data_file), "data file");

	/* ts 1000: app's exec pages evicted under P's limit, two reclaimers. */
	ok &= ASSERT_OK(store_eviction(s, 1000, APP, P, APP, CW_CAUSE_LIMIT, *exec_file, true,
				       300, 300), "evict 1");
	ok &= ASSERT_OK(store_eviction(s, 1000, APP, P, HOG, CW_CAUSE_LIMIT, *exec_file, true,
				       100, 100), "evict 2");
	/* ts 1010: more limit evictions and a few by kswapd (no reclaim root). */
	ok &= ASSERT_OK(store_eviction(s, 1010, APP, P, APP, CW_CAUSE_LIMIT, *exec_file, true,
				       200, 200), "evict 3");
	ok &= ASSERT_OK(store_eviction(s, 1010, APP, 0, ROOT, CW_CAUSE_KSWAPD, *exec_file, true,
				       50, 50), "evict 4");
	ok &= ASSERT_OK(store_eviction(s, 1010, APP, P, APP, CW_CAUSE_LIMIT, *data_file, false,
				       1000, 1000), "evict data");
	/* Same key written twice accumulates. */
	ok &= ASSERT_OK(store_eviction(s, 1010, APP, P, APP, CW_CAUSE_LIMIT, *data_file, false,
				       24, 24), "evict data again");

	/* Refaults of ts-1000 evictions, seen at ts 1010, credited back. */
	ok &= ASSERT_OK(store_credit_refault(s, 1000, APP, P, APP, CW_CAUSE_LIMIT, *exec_file,
					     true, 250), "credit");
	/* A credit for a row that does not exist changes nothing. */
	ok &= ASSERT_OK(store_credit_refault(s, 990, APP, P, APP, CW_CAUSE_LIMIT, *exec_file,
					     true, 999), "credit nothing");
	/* 10 pages in bucket 20 (1.024-1.536 ms), 30 in bucket 24 (4.096-6.144 ms). */
	ok &= ASSERT_OK(store_refault_hist(s, 1010, APP, APP, *exec_file, CW_CAUSE_LIMIT, true, 20,
					   10), "hist 20");
	ok &= ASSERT_OK(store_refault_hist(s, 1010, APP, APP, *exec_file, CW_CAUSE_LIMIT, true, 24,
					   30), "hist 24");

	/* Memory: the hog grows 70 MiB then exits; the app's cache churns. */
	memstat_of(&m, 70 * MB, 0);
	ok &= ASSERT_OK(store_memstat(s, 1000, HOG, &m, 70 * MB, 0), "ms hog 1000");
	memstat_of(&m, 0, 0);
	ok &= ASSERT_OK(store_memstat(s, 1010, HOG, &m, -70 * MB, 0), "ms hog 1010");
	memstat_of(&m, MB, 40 * MB);
	ok &= ASSERT_OK(store_memstat(s, 1000, APP, &m, 0, -10 * MB), "ms app 1000");
	memstat_of(&m, MB, 60 * MB);
	ok &= ASSERT_OK(store_memstat(s, 1010, APP, &m, 0, 20 * MB), "ms app 1010");
	memstat_of(&m, 0, 0);
	ok &= ASSERT_OK(store_memstat(s, 1000, P, &m, 0, 0), "ms P");
	memstat_of(&m, 500 * MB, 0);
	ok &= ASSERT_OK(store_memstat(s, 1000, P2, &m, 500 * MB, 0), "ms P2 (not under P)");
	memstat_of(&m, 900 * MB, 0);
	ok &= ASSERT_OK(store_memstat(s, 1000, ROOT, &m, 900 * MB, 0), "ms root (above P)");

	/* What the recorder derives from memstat while /P evicts /P/app's exec pages. */
	ok &= ASSERT_OK(store_pressure_peak(s, APP, P, HOG, 70 * MB, 70 * MB), "peak hog 1000");
	ok &= ASSERT_OK(store_pressure_peak(s, APP, P, APP, 41 * MB, -10 * MB), "peak app 1000");
	ok &= ASSERT_OK(store_pressure_peak(s, APP, P, P, 0, 0), "peak P 1000");
	ok &= ASSERT_OK(store_pressure_peak(s, APP, P, HOG, 0, -70 * MB), "peak hog 1010");
	ok &= ASSERT_OK(store_pressure_peak(s, APP, P, APP, 61 * MB, 20 * MB), "peak app 1010");

	ii = (struct interval_info){ .run = run, .seq = 0, .ts = 1000, .lost_evict = 3,
				     .lost_shadow = 4 };
	ok &= ASSERT_OK(store_interval(s, &ii), "interval 0");
	ii = (struct interval_info){ .run = run, .seq = 1, .ts = 1010, .lost_user = 5 };
	ok &= ASSERT_OK(store_interval(s, &ii), "interval 1");
	ok &= ASSERT_OK(store_commit(s), "commit");
	return ok;
}

int main(void)
{
	char dir[] = "/tmp/cw-views-XXXXXX", path[256], err[512];
	struct store *s = NULL;
	int64_t exec_file = 0, data_file = 0;
	sqlite3 *db = NULL;
	bool created;

	if (!mkdtemp(dir))
		return TEST_HARD_ERROR;
	snprintf(path, sizeof(path), "%s/views.db", dir);
	if (!ASSERT_OK(db_open_writer(path, &db, &created, err, sizeof(err)), err))
		goto out;
	view_db = db;
	if (!ASSERT_OK(store_open(&s, db), "store_open"))
		goto out;
	if (!fill(s, &exec_file, &data_file))
		goto out;

	/* v_evictions */
	ASSERT_STREQ(q("SELECT refaulted_pages FROM v_evictions WHERE ts = 1000 AND reclaimer = '/P/app'"),
		     "250", "refaults credited to the exact eviction row");
	ASSERT_STREQ(q("SELECT refaulted_pages FROM v_evictions WHERE ts = 1000 AND reclaimer = '/P/hog'"),
		     "0", "not to its sibling row");
	ASSERT_STREQ(q("SELECT pages FROM v_evictions WHERE file = '/var/log/app.log'"), "1024",
		     "same key twice in an interval accumulates");
	ASSERT_STREQ(q("SELECT COALESCE(reclaim_root, 'NULL') || ',' || cause FROM v_evictions WHERE cause = 'kswapd'"),
		     "NULL,kswapd", "global reclaim has no reclaim root");
	ASSERT_STREQ(q("SELECT victim || ',' || reclaim_root || ',' || exec || ',' || dev || ',' || ino FROM v_evictions WHERE ts = 1000 AND reclaimer = '/P/app'"),
		     "/P/app,/P,1,65024,42", "names and identity of an eviction row");
	ASSERT_STREQ(q("SELECT count(*) FROM v_evictions"), "5", "one row per key");

	/* v_exec_thrash */
	ASSERT_STREQ(q("SELECT count(*) FROM v_exec_thrash"), "1", "only executable files");
	ASSERT_STREQ(q("SELECT victim || ',' || file FROM v_exec_thrash"),
		     "/P/app,/opt/app/lib/libjvm.so", "victim and file");
	ASSERT_STREQ(q("SELECT evicted_pages || ',' || refaulted_pages FROM v_exec_thrash"),
		     "650,250", "evicted and refaulted pages over the whole history");
	ASSERT_STREQ(q("SELECT top_cause || ',' || top_reclaim_root FROM v_exec_thrash"),
		     "limit,/P", "top cause and reclaim root by pages");
	ASSERT_STREQ(q("SELECT top_pressure FROM v_exec_thrash"), "/P/hog",
		     "top pressure: the hog's peak growth, though it later exited");
	ASSERT_STREQ(q("SELECT (peak - base) >> 20 FROM pressure_peaks WHERE cgroup = 101"), "10",
		     "the app's growth over its lowest level before the episode");
	ASSERT_TRUE(fabs(atof(q("SELECT median_refault_ms FROM v_exec_thrash")) - 5.12) < 1e-9,
		    "median refault time: middle of bucket 24");
	ASSERT_STREQ(q("SELECT first_ts || ',' || last_ts FROM v_exec_thrash"), "1000,1010",
		     "first and last eviction");

	/* v_refaults */
	ASSERT_STREQ(q("SELECT cgroup || ',' || file || ',' || exec || ',' || pages || ',' || cause FROM v_refaults"),
		     "/P/app,/opt/app/lib/libjvm.so,1,40,limit", "refault row: the histogram's pages");
	ASSERT_TRUE(fabs(atof(q("SELECT median_refault_ms FROM v_refaults")) - 5.12) < 1e-9,
		    "refault median");

	/* v_pressure: only cgroups in /P's subtree, only where /P reclaimed. */
	ASSERT_STREQ(q("SELECT group_concat(cgroup, ' ') FROM (SELECT cgroup FROM v_pressure WHERE ts = 1000 ORDER BY cgroup)"),
		     "/P /P/app /P/hog", "subtree of the reclaim root, not /P2 or /");
	ASSERT_STREQ(q("SELECT anon_delta FROM v_pressure WHERE ts = 1000 AND cgroup = '/P/hog'"),
		     "73400320", "growth of the hog");
	ASSERT_STREQ(q("SELECT DISTINCT reclaim_root FROM v_pressure"), "/P", "reclaim root named");

	/* v_runs and v_cgroups */
	ASSERT_STREQ(q("SELECT lost_events || ',' || hostname || ',' || hooks FROM v_runs"),
		     "12,node-a,filemap_delete,filemap_add", "lost events summed over intervals");
	ASSERT_STREQ(q("SELECT removed FROM v_cgroups WHERE path = '/P/hog'"), "1011",
		     "removed cgroups keep their path");
	ASSERT_STREQ(q("SELECT path || ',' || namespace || ',' || pod || ',' || container FROM v_cgroups WHERE id = 101"),
		     "/P/app,payments,api-7d9f,app", "names survive a nameless update");

	/* Names in the views (schema 2). */
	ASSERT_STREQ(q("SELECT victim_namespace || ',' || victim_pod || ',' || victim_container || ',' || container_file FROM v_exec_thrash"),
		     "payments,api-7d9f,app,/usr/lib/libjvm.so", "victim names and container path");
	ASSERT_STREQ(q("SELECT top_pressure_container FROM v_exec_thrash"), "log-shipper",
		     "top pressure's container name");
	ASSERT_STREQ(q("SELECT DISTINCT victim_namespace || '/' || victim_pod FROM v_evictions WHERE file = '/var/log/app.log'"),
		     "payments/api-7d9f", "v_evictions names the victim");
	ASSERT_STREQ(q("SELECT lower_ms || ',' || upper_ms FROM refault_buckets WHERE bucket = 0"),
		     "0.0,0.002", "bucket 0 covers everything below 2 us");
out:
	store_free(s);
	unlink(path);
	snprintf(err, sizeof(err), "%s-wal", path);
	unlink(err);
	snprintf(err, sizeof(err), "%s-shm", path);
	unlink(err);
	rmdir(dir);
	return test_exit();
}
