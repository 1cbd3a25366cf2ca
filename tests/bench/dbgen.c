// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dbgen: write a synthetic database the way cachewatchd would on a busy
 * node, through the daemon's own store and retention code, so its size and
 * the speed of queries over it can be measured without waiting a day.
 *
 * The busy node (all per 10 s interval unless said otherwise): 60 pods of
 * a pod cgroup and 3 containers, plus 10 systemd units (250 memory
 * cgroups).  Each container uses 12 executable files (8 of 200 shared
 * libraries, 4 of its own) and 20 data files of its own: ~4 500 files.
 * Page-cache trouble moves around: every hour a new set of 600 eviction
 * keys (victim, reclaim root, reclaimer, cause, file, exec; a fifth
 * executable) and 800 addition keys is active, each appearing in 90 % of
 * the intervals, with 10 % one-off keys on top; 300 refault keys (2
 * refault-time buckets each) credit their evictions; every cgroup has a
 * memory.stat row.  That is ~2 550 rows an interval, 22 million a day
 * before roll-ups.  Each interval is one transaction, and the daemon's
 * default retention (raw 60 min, then 5 min rows) runs after it.
 *
 * usage: dbgen --db PATH [--hours H] [--interval S] [--raw-minutes M]
 *              [--rollup-minutes M] [--seed N]
 * prints: rows=N bytes=N seconds=S
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include "cachewatch.h"
#include "migrate.h"
#include "retention.h"
#include "store.h"

#define PODS 60
#define CONTAINERS 3
#define UNITS 10
#define SHARED_LIBS 200
#define LIBS_PER_CONTAINER 8
#define OWN_EXEC 4
#define OWN_DATA 20
#define CONTAINER_FILES (LIBS_PER_CONTAINER + OWN_EXEC + OWN_DATA)
#define FILES (SHARED_LIBS + PODS * CONTAINERS * (OWN_EXEC + OWN_DATA))
#define EVICT_KEYS 600
#define ADD_KEYS 800
#define REFAULT_KEYS 300
#define FIRST_ID 1000

/* One eviction key of the active set. */
struct evict_key {
	int pod, container, reclaimer, cause, file;
	bool exec;
};

struct add_key {
	int pod, container, file;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

/* cgroup ids: pod p is FIRST_ID + p * 4, its containers the next three. */
static uint64_t pod_id(int p)
{
	return FIRST_ID + (uint64_t)p * (CONTAINERS + 1);
}

static uint64_t container_id(int p, int c)
{
	return pod_id(p) + 1 + (uint64_t)c;
}

/* The k-th file a container uses (k < CONTAINER_FILES); exec for k < 12. */
static int container_file(int p, int c, int k)
{
	int own = SHARED_LIBS + (p * CONTAINERS + c) * (OWN_EXEC + OWN_DATA);

	if (k < LIBS_PER_CONTAINER)
		return (p * 7 + c * 13 + k * 29) % SHARED_LIBS;
	return own + k - LIBS_PER_CONTAINER;
}

static struct evict_key random_evict_key(void)
{
	static const int causes[] = { CW_CAUSE_LIMIT, CW_CAUSE_LIMIT, CW_CAUSE_LIMIT,
				      CW_CAUSE_KSWAPD, CW_CAUSE_PAGEOUT, CW_CAUSE_TRUNCATE };
	struct evict_key k;
	int f;

	k.pod = (int)below(PODS);
	k.container = (int)below(CONTAINERS);
	k.reclaimer = below(4) ? k.container : (int)below(CONTAINERS);
	k.cause = causes[below(sizeof(causes) / sizeof(causes[0]))];
	k.exec = below(5) == 0;
	f = k.exec ? (int)below(LIBS_PER_CONTAINER + OWN_EXEC)
		   : LIBS_PER_CONTAINER + OWN_EXEC + (int)below(OWN_DATA);
	k.file = container_file(k.pod, k.container, f);
	return k;
}

static struct add_key random_add_key(void)
{
	struct add_key k = { (int)below(PODS), (int)below(CONTAINERS), 0 };

	k.file = container_file(k.pod, k.container, (int)below(CONTAINER_FILES));
	return k;
}

static int write_names(struct store *s, int64_t now, int64_t file_ids[FILES])
{
	char path[320], uid[64];
	int err = 0;

	for (int p = 0; p < PODS && !err; p++) {
		snprintf(uid, sizeof(uid), "%08x-0000-4000-8000-%012d", p, p);
		snprintf(path, sizeof(path), "/kubepods/burstable/pod%s", uid);
		err = store_cgroup(s, &(struct cgroup_row){ .id = pod_id(p), .path = path,
			.first_seen = now, .last_seen = now, .pod_uid = uid, .qos = "burstable" });
		for (int c = 0; c < CONTAINERS && !err; c++) {
			char cpath[400], name[32];

			snprintf(cpath, sizeof(cpath), "%s/%064d", path, p * 10 + c);
			snprintf(name, sizeof(name), "container-%d", c);
			err = store_cgroup(s, &(struct cgroup_row){ .id = container_id(p, c),
				.path = cpath, .first_seen = now, .last_seen = now, .pod_uid = uid,
				.namespace = "default", .pod = uid, .container = name });
		}
	}
	for (int u = 0; u < UNITS && !err; u++) {
		snprintf(path, sizeof(path), "/system.slice/unit%d.service", u);
		err = store_cgroup(s, &(struct cgroup_row){ .id = FIRST_ID + 10000 + (uint64_t)u,
			.path = path, .first_seen = now, .last_seen = now });
	}
	for (int f = 0; f < FILES && !err; f++) {
		if (f < SHARED_LIBS)
			snprintf(path, sizeof(path), "/usr/lib/x86_64-linux-gnu/libshared%d.so", f);
		else
			snprintf(path, sizeof(path), "/var/lib/containerd/snapshots/%d/fs/app/f%d",
				 (f - SHARED_LIBS) / (OWN_EXEC + OWN_DATA), f);
		err = store_file(s, &(struct file_row){ .dev = 65024, .ino = 100000 + (uint64_t)f,
			.gen = (uint32_t)f, .kind = "file", .path = path, .path_source = "handle" },
			now, &file_ids[f]);
	}
	return err;
}

/* The active keys of the current hour. */
static struct evict_key active_ev[EVICT_KEYS];
static struct add_key active_add[ADD_KEYS];

static void new_active_sets(void)
{
	for (int i = 0; i < EVICT_KEYS; i++)
		active_ev[i] = random_evict_key();
	for (int i = 0; i < ADD_KEYS; i++)
		active_add[i] = random_add_key();
}

static int write_eviction(struct store *s, int64_t ts, const struct evict_key *k,
			  const int64_t file_ids[FILES])
{
	uint64_t pages = 1 + below(2000);

	return store_eviction(s, ts, container_id(k->pod, k->container),
			      k->cause == CW_CAUSE_LIMIT ? pod_id(k->pod) : 0,
			      container_id(k->pod, k->reclaimer), k->cause, file_ids[k->file],
			      k->exec, pages, pages);
}

static int write_interval(struct store *s, int64_t run, uint32_t seq, int64_t ts, int interval,
			  const int64_t file_ids[FILES], uint64_t *rows)
{
	int err = store_begin(s);

	/* Active keys appear in 90 % of the intervals; one-offs fill up to the count. */
	for (int i = 0; !err && i < EVICT_KEYS; i++) {
		struct evict_key k = below(10) ? active_ev[i] : random_evict_key();

		err = write_eviction(s, ts, &k, file_ids);
		(*rows)++;
	}
	for (int i = 0; !err && i < ADD_KEYS; i++) {
		struct add_key k = below(10) ? active_add[i] : random_add_key();
		uint64_t pages = 1 + below(4000);

		err = store_addition(s, ts, container_id(k.pod, k.container), file_ids[k.file],
				     pages, pages);
		(*rows)++;
	}
	for (int i = 0; !err && i < REFAULT_KEYS; i++) {
		const struct evict_key *k = &active_ev[below(EVICT_KEYS)];
		uint64_t victim = container_id(k->pod, k->container), pages = 1 + below(500);
		/* A thrash has its own pace: the refault time depends on the key. */
		int bucket = 30 + (k->file + k->container) % 20;

		/* Credit an eviction a few intervals back (a no-op if it is not there). */
		err = store_credit_refault(s, ts - interval * (int64_t)below(6), victim,
					   k->cause == CW_CAUSE_LIMIT ? pod_id(k->pod) : 0,
					   container_id(k->pod, k->reclaimer), k->cause,
					   file_ids[k->file], k->exec, pages);
		for (int b = 0; !err && b < 2; b++) {
			err = store_refault_hist(s, ts, victim, victim, file_ids[k->file], k->cause,
						 k->exec, bucket + b, pages / 2);
			(*rows)++;
		}
	}
	for (int p = 0; !err && p < PODS; p++)
		for (int c = -1; !err && c < CONTAINERS; c++) {
			struct memstat m;
			int64_t grew = (int64_t)below(8 << 20) - (4 << 20);

			memstat_init(&m);
			m.anon = (int64_t)(64 << 20) + (int64_t)below(64 << 20);
			m.file = (int64_t)below(256 << 20);
			m.total_anon = m.anon;
			m.total_file = m.file;
			m.usage = m.anon + m.file;
			m.limit = c < 0 ? (512LL << 20) : -1;
			m.failcnt = (int64_t)seq;
			err = store_memstat(s, ts, c < 0 ? pod_id(p) : container_id(p, c), &m, grew,
					    -grew / 2);
			(*rows)++;
		}
	for (int u = 0; !err && u < UNITS; u++) {
		struct memstat m;

		memstat_init(&m);
		m.anon = m.total_anon = 32 << 20;
		m.file = m.total_file = 16 << 20;
		err = store_memstat(s, ts, FIRST_ID + 10000 + (uint64_t)u, &m, 0, 0);
		(*rows)++;
	}
	if (!err)
		err = store_interval(s, &(struct interval_info){ .run = run, .seq = seq, .ts = ts,
								 .duration_ms = 40 });
	if (!err)
		err = store_commit(s);
	if (err)
		store_rollback(s);
	return err;
}

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

int main(int argc, char **argv)
{
	const char *db_path = NULL;
	double hours = 24;
	int interval = 10, raw_minutes = 60, rollup_minutes = 5;
	struct retention ret = {};
	int64_t file_ids[FILES], run, start, ts;
	struct timespec t0, t1;
	char err[512], side[4200];
	struct store *s = NULL;
	uint64_t rows = 0;
	sqlite3 *db = NULL;
	bool created;
	uint32_t seq, n;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--db") && v)
			db_path = argv[++i];
		else if (!strcmp(argv[i], "--hours") && v)
			hours = atof(argv[++i]);
		else if (!strcmp(argv[i], "--interval") && v)
			interval = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--raw-minutes") && v)
			raw_minutes = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rollup-minutes") && v)
			rollup_minutes = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && v)
			rng_state = strtoull(argv[++i], NULL, 0) | 1;
		else {
			fprintf(stderr, "usage: dbgen --db PATH [--hours H] [--interval S] "
					"[--raw-minutes M] [--rollup-minutes M] [--seed N]\n");
			return 2;
		}
	}
	if (!db_path || interval <= 0 || hours <= 0) {
		fprintf(stderr, "dbgen: --db is required; --hours and --interval must be > 0\n");
		return 2;
	}
	unlink(db_path);
	snprintf(side, sizeof(side), "%s-wal", db_path);
	unlink(side);
	if (db_open_writer(db_path, &db, &created, err, sizeof(err)) < 0) {
		fprintf(stderr, "dbgen: %s\n", err);
		return 1;
	}
	/* Only the size and the query speed are measured: skip the fsyncs. */
	sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
	if (store_open(&s, db) < 0) {
		fprintf(stderr, "dbgen: %s\n", store_errmsg(s));
		return 1;
	}
	ret.raw_seconds = (int64_t)raw_minutes * 60;
	ret.bucket_seconds = (int64_t)rollup_minutes * 60;
	start = (int64_t)time(NULL) - (int64_t)(hours * 3600);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_begin(s) < 0 ||
	    store_run_start(s, &(struct run_info){ .started = start, .hostname = "busy-node",
		.kernel = "synthetic", .version = "dbgen", .hooks = "filemap_delete,filemap_add",
		.reclaim_context = "scan_control", .interval_s = (uint32_t)interval,
		.refault_sample = 1 }, &run) < 0 ||
	    write_names(s, start, file_ids) < 0 || store_commit(s) < 0) {
		fprintf(stderr, "dbgen: %s\n", store_errmsg(s));
		return 1;
	}
	n = (uint32_t)(hours * 3600 / interval);
	for (seq = 0; seq < n; seq++) {
		ts = start + (int64_t)(seq + 1) * interval;
		if (seq % (3600 / interval) == 0)
			new_active_sets();
		if (write_interval(s, run, seq, ts, interval, file_ids, &rows) < 0 ||
		    retention_run(&ret, db, ts, 4) < 0) {
			fprintf(stderr, "dbgen: interval %u: %s\n", seq, store_errmsg(s));
			return 1;
		}
	}
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	store_free(s);
	printf("rows=%llu bytes=%lld seconds=%.1f\n", (unsigned long long)rows,
	       (long long)(file_size(db_path) + file_size(side)),
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
