-- SPDX-License-Identifier: GPL-2.0-or-later
--
-- cachewatch schema, version 1.
--
-- Base tables hold integer ids and raw per-interval counters, written once
-- per interval in one transaction by cachewatchd.  The v_* views are the
-- public contract (see README.md): they turn ids into cgroup paths, file
-- paths and cause names.  Applied by daemon/migrate.c inside one transaction
-- that also sets PRAGMA user_version = 1; never edit this file once
-- released, add 0002-*.sql instead.
--
-- Conventions: ts = Unix time in seconds at the end of an interval;
-- cgroup ids are kernfs ids (inode number of the cgroup directory), 0 means
-- "none" (e.g. no reclaim root: global reclaim or not reclaim at all);
-- pages are 4 KiB pages (a large folio counts 1 << order); dev is the
-- user-space device number (as `stat -c %d` prints it).

-- Eviction causes, numbered as enum cw_cause in bpf/cachewatch.h.
CREATE TABLE causes (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL
) STRICT;

INSERT INTO causes (id, name, description) VALUES
	(0, 'other', 'none of the causes below (e.g. inode reclaim by a kernel thread)'),
	(1, 'limit', 'a charge hit the memory cgroup limit (v1 memory.limit_in_bytes, v2 memory.max)'),
	(2, 'limit_shrink', 'a writer lowered the memory cgroup limit'),
	(3, 'high', 'v2 memory.high reclaim, in the task or its kworker'),
	(4, 'proactive', 'memory.reclaim, node reclaim or v1 memory.force_empty'),
	(5, 'pageout', 'DAMON pageout or madvise(MADV_PAGEOUT)'),
	(6, 'kswapd', 'background global reclaim by kswapd'),
	(7, 'direct', 'global direct reclaim by an allocating task'),
	(8, 'drop_caches', 'a write to /proc/sys/vm/drop_caches'),
	(9, 'invalidate', 'posix_fadvise(DONTNEED), O_DIRECT or other invalidation'),
	(10, 'truncate', 'truncate, O_TRUNC, unlink or rename over the file');

-- Refault-distance histogram buckets (bpf/cachewatch.h CW_HIST_BUCKETS):
-- two per power of two of microseconds, lower bounds 1, 1.5, 2, 3, 4, 6 ...
CREATE TABLE refault_buckets (
	bucket INTEGER PRIMARY KEY,
	lower_ms REAL NOT NULL,
	upper_ms REAL NOT NULL,
	mid_ms REAL NOT NULL -- middle of the bucket, the value a median reports
) STRICT;

INSERT INTO refault_buckets (bucket, lower_ms, upper_ms, mid_ms)
	WITH RECURSIVE b(n, lo, hi) AS (
		SELECT 0, 1.0, 1.5
		UNION ALL
		SELECT n + 1, hi, CASE WHEN n % 2 = 0 THEN hi * 4.0 / 3.0 ELSE hi * 1.5 END
		FROM b WHERE n < 63
	)
	SELECT n, lo / 1000.0, hi / 1000.0, (lo + hi) / 2000.0 FROM b;

-- One row per daemon run.
CREATE TABLE runs (
	id INTEGER PRIMARY KEY,
	started INTEGER NOT NULL,
	stopped INTEGER,            -- NULL while running, or after a crash
	last_flush INTEGER,         -- ts of the last interval written
	hostname TEXT NOT NULL,
	kernel TEXT NOT NULL,
	version TEXT NOT NULL,
	hooks TEXT NOT NULL,        -- hooks that were live, comma separated
	reclaim_context TEXT NOT NULL, -- 'scan_control' or 'brackets'
	interval_s INTEGER NOT NULL
) STRICT;

-- One row per interval written, with what the kernel side had to drop.
CREATE TABLE intervals (
	run INTEGER NOT NULL REFERENCES runs (id),
	seq INTEGER NOT NULL,       -- interval number within the run
	ts INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL,
	lost_evict INTEGER NOT NULL,   -- eviction aggregate map full
	lost_add INTEGER NOT NULL,     -- addition aggregate map full
	lost_refault INTEGER NOT NULL, -- refault aggregate map full
	lost_shadow INTEGER NOT NULL,  -- recent-eviction map update failed
	lost_ringbuf INTEGER NOT NULL, -- ring buffer full (cgroup events)
	lost_exec INTEGER NOT NULL,    -- exec-inode set update failed
	lost_user INTEGER NOT NULL,    -- dropped in user space (tables full)
	PRIMARY KEY (run, seq)
) STRICT;

CREATE INDEX intervals_ts ON intervals (ts);

-- Memory cgroups.  path is relative to the root of the memory hierarchy
-- ('/' for the root); rows outlive the cgroup (its page cache does).
CREATE TABLE cgroups (
	id INTEGER PRIMARY KEY,
	path TEXT,                  -- NULL when never resolved
	first_seen INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	removed INTEGER,            -- ts when its removal was seen
	pod_uid TEXT,
	namespace TEXT,
	pod TEXT,
	container TEXT,
	container_id TEXT
) STRICT;

-- Files, identified by device, inode number and generation, so a reused
-- inode number is a different file.
CREATE TABLE files (
	id INTEGER PRIMARY KEY,
	dev INTEGER NOT NULL,
	ino INTEGER NOT NULL,
	gen INTEGER NOT NULL,
	kind TEXT NOT NULL,         -- 'file' or 'bdev' (filesystem metadata)
	path TEXT,                  -- host path; NULL when unresolved
	path_source TEXT,           -- 'handle', 'maps', 'bdev' or NULL
	deleted INTEGER NOT NULL DEFAULT 0,
	first_seen INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	UNIQUE (dev, ino, gen)
) STRICT;

-- Pages removed from the page cache, per interval and key.
-- refaulted_pages: how many of them were added back later (credited by the
-- daemon to the interval of the eviction).
CREATE TABLE evictions (
	ts INTEGER NOT NULL,
	victim INTEGER NOT NULL,    -- memcg the pages were charged to
	root INTEGER NOT NULL,      -- memcg whose limit was enforced, 0 = none
	reclaimer INTEGER NOT NULL, -- memcg of the task that removed them
	cause INTEGER NOT NULL REFERENCES causes (id),
	file INTEGER NOT NULL REFERENCES files (id),
	exec INTEGER NOT NULL,      -- 1: executable pages
	events INTEGER NOT NULL,    -- folios
	pages INTEGER NOT NULL,
	refaulted_pages INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (ts, victim, root, reclaimer, cause, file, exec)
) STRICT, WITHOUT ROWID;

-- Pages added to the page cache, per interval, memcg and file.
CREATE TABLE additions (
	ts INTEGER NOT NULL,
	cgroup INTEGER NOT NULL,
	file INTEGER NOT NULL REFERENCES files (id),
	events INTEGER NOT NULL,
	pages INTEGER NOT NULL,
	PRIMARY KEY (ts, cgroup, file)
) STRICT, WITHOUT ROWID;

-- Additions that undo an eviction cachewatch saw, keyed by the eviction.
CREATE TABLE refaults (
	ts INTEGER NOT NULL,
	cgroup INTEGER NOT NULL,    -- memcg charged with the returning pages
	victim INTEGER NOT NULL,
	root INTEGER NOT NULL,
	reclaimer INTEGER NOT NULL,
	cause INTEGER NOT NULL REFERENCES causes (id),
	file INTEGER NOT NULL REFERENCES files (id),
	exec INTEGER NOT NULL,
	evict_ts INTEGER NOT NULL,  -- interval of the eviction (0: unknown)
	events INTEGER NOT NULL,
	pages INTEGER NOT NULL,
	PRIMARY KEY (ts, cgroup, victim, root, reclaimer, cause, file, exec, evict_ts)
) STRICT, WITHOUT ROWID;

-- Eviction -> refault time distribution (pages per bucket).
CREATE TABLE refault_hist (
	ts INTEGER NOT NULL,
	cgroup INTEGER NOT NULL,
	victim INTEGER NOT NULL,
	file INTEGER NOT NULL,
	cause INTEGER NOT NULL,
	exec INTEGER NOT NULL,
	bucket INTEGER NOT NULL REFERENCES refault_buckets (bucket),
	pages INTEGER NOT NULL,
	PRIMARY KEY (ts, cgroup, victim, file, cause, exec, bucket)
) STRICT, WITHOUT ROWID;

-- The kernel's own view of each memcg cachewatch saw in the interval (and
-- of every memcg under a reclaim root that reclaimed), from memory.stat and
-- the limit files.  anon_bytes and file_bytes are this cgroup's own memory,
-- not its descendants' (so summing a subtree counts nothing twice), and
-- their deltas are against the previous interval (NULL when unknown); every
-- other column includes the descendants, as the kernel reports it.
CREATE TABLE memstat (
	ts INTEGER NOT NULL,
	cgroup INTEGER NOT NULL,
	anon_bytes INTEGER,
	file_bytes INTEGER,
	anon_delta INTEGER,
	file_delta INTEGER,
	total_anon_bytes INTEGER,
	total_file_bytes INTEGER,
	mapped_file_bytes INTEGER,
	active_file_bytes INTEGER,
	inactive_file_bytes INTEGER,
	usage_bytes INTEGER,
	limit_bytes INTEGER,        -- NULL: unlimited
	failcnt INTEGER,            -- v1 memory.failcnt, v2 memory.events max
	workingset_refault_file INTEGER,       -- this cgroup's own (v1 only)
	total_workingset_refault_file INTEGER, -- hierarchical
	pgmajfault INTEGER,
	PRIMARY KEY (ts, cgroup)
) STRICT, WITHOUT ROWID;

-- ---------------------------------------------------------------- views

-- Every memory cgroup cachewatch has seen, with Kubernetes names where known.
CREATE VIEW v_cgroups AS
SELECT id, path, pod_uid, namespace, pod, container, container_id,
       first_seen, last_seen, removed
FROM cgroups;

-- Evictions, one row per interval and (victim, reclaim root, reclaimer,
-- cause, file, exec).  reclaim_root is NULL when no memcg limit was
-- involved; file is NULL while the path is unknown (dev, ino still say
-- which file).
CREATE VIEW v_evictions AS
SELECT e.ts,
       vc.path AS victim,
       rc.path AS reclaim_root,
       xc.path AS reclaimer,
       c.name AS cause,
       f.path AS file,
       f.dev, f.ino, e.exec, e.pages, e.refaulted_pages,
       e.events, e.victim AS victim_id, e.root AS reclaim_root_id,
       e.reclaimer AS reclaimer_id, f.gen, f.kind, f.deleted
FROM evictions e
JOIN causes c ON c.id = e.cause
JOIN files f ON f.id = e.file
LEFT JOIN cgroups vc ON vc.id = e.victim
LEFT JOIN cgroups rc ON rc.id = e.root AND e.root != 0
LEFT JOIN cgroups xc ON xc.id = e.reclaimer;

-- Weighted median of a refault-distance histogram, per group.
CREATE VIEW refault_median_by_interval AS
WITH h AS (
	SELECT ts, cgroup, file, cause, exec, bucket, SUM(pages) AS pages
	FROM refault_hist GROUP BY ts, cgroup, file, cause, exec, bucket
), c AS (
	SELECT *, SUM(pages) OVER (PARTITION BY ts, cgroup, file, cause, exec ORDER BY bucket) AS cum,
	       SUM(pages) OVER (PARTITION BY ts, cgroup, file, cause, exec) AS total
	FROM h
)
SELECT ts, cgroup, file, cause, exec, MIN(bucket) AS bucket
FROM c WHERE 2 * cum >= total GROUP BY ts, cgroup, file, cause, exec;

-- Refaults, one row per interval and (cgroup, file, cause of the eviction,
-- exec), with the median eviction -> refault time.
CREATE VIEW v_refaults AS
WITH r AS (
	SELECT ts, cgroup, file, cause, exec, SUM(pages) AS pages, SUM(events) AS events
	FROM refaults GROUP BY ts, cgroup, file, cause, exec
)
SELECT r.ts, cg.path AS cgroup, f.path AS file, f.dev, f.ino, r.exec, r.pages,
       c.name AS cause, b.mid_ms AS median_refault_ms,
       r.events, r.cgroup AS cgroup_id, f.gen
FROM r
JOIN causes c ON c.id = r.cause
JOIN files f ON f.id = r.file
LEFT JOIN cgroups cg ON cg.id = r.cgroup
LEFT JOIN refault_median_by_interval m
	ON m.ts = r.ts AND m.cgroup = r.cgroup AND m.file = r.file AND m.cause = r.cause AND m.exec = r.exec
LEFT JOIN refault_buckets b ON b.bucket = m.bucket;

-- What each cgroup under a reclaim root held and how it grew, for every
-- interval in which that root reclaimed.
CREATE VIEW v_pressure AS
WITH roots AS (SELECT DISTINCT ts, root FROM evictions WHERE root != 0)
SELECT m.ts, rc.path AS reclaim_root, c.path AS cgroup,
       m.anon_bytes, m.file_bytes, m.anon_delta, m.file_delta,
       r.root AS reclaim_root_id, m.cgroup AS cgroup_id
FROM roots r
JOIN cgroups rc ON rc.id = r.root
JOIN memstat m ON m.ts = r.ts
JOIN cgroups c ON c.id = m.cgroup
WHERE rc.path = '/' OR c.path = rc.path
   OR substr(c.path, 1, length(rc.path) + 1) = rc.path || '/';

-- Executable files losing page cache, whole history, worst first.
CREATE VIEW v_exec_thrash AS
WITH ev AS (
	SELECT victim, file, SUM(pages) AS evicted_pages,
	       SUM(refaulted_pages) AS refaulted_pages,
	       MIN(ts) AS first_ts, MAX(ts) AS last_ts
	FROM evictions WHERE exec = 1 GROUP BY victim, file
), by_cause AS (
	SELECT victim, file, cause,
	       ROW_NUMBER() OVER (PARTITION BY victim, file ORDER BY SUM(pages) DESC, cause) AS rn
	FROM evictions WHERE exec = 1 GROUP BY victim, file, cause
), by_root AS (
	SELECT victim, file, root,
	       ROW_NUMBER() OVER (PARTITION BY victim, file ORDER BY SUM(pages) DESC, root) AS rn
	FROM evictions WHERE exec = 1 GROUP BY victim, file, root
), hist AS (
	SELECT victim, file, bucket, SUM(pages) AS pages
	FROM refault_hist WHERE exec = 1 GROUP BY victim, file, bucket
), cum AS (
	SELECT victim, file, bucket,
	       SUM(pages) OVER (PARTITION BY victim, file ORDER BY bucket) AS cum,
	       SUM(pages) OVER (PARTITION BY victim, file) AS total
	FROM hist
), median AS (
	SELECT victim, file, MIN(bucket) AS bucket FROM cum WHERE 2 * cum >= total
	GROUP BY victim, file
), win AS (
	-- memory held by every cgroup under the top reclaim root in each
	-- interval in which the file was being evicted, and what it held just
	-- before the first of them (held minus that interval's growth)
	SELECT ev.victim, ev.file, m.cgroup,
	       COALESCE(m.anon_bytes, 0) + COALESCE(m.file_bytes, 0) AS held,
	       FIRST_VALUE(COALESCE(m.anon_bytes, 0) + COALESCE(m.file_bytes, 0)
			   - COALESCE(m.anon_delta, 0) - COALESCE(m.file_delta, 0))
		       OVER (PARTITION BY ev.victim, ev.file, m.cgroup ORDER BY m.ts) AS base
	FROM ev
	JOIN by_root br ON br.victim = ev.victim AND br.file = ev.file AND br.rn = 1 AND br.root != 0
	JOIN cgroups rc ON rc.id = br.root
	JOIN memstat m ON m.ts BETWEEN ev.first_ts AND ev.last_ts
	JOIN cgroups c ON c.id = m.cgroup
	WHERE rc.path = '/' OR c.path = rc.path
	   OR substr(c.path, 1, length(rc.path) + 1) = rc.path || '/'
), growth AS (
	-- peak growth over the window: a hog that grew and later exited
	-- still counts, a victim whose cache merely churned does not
	SELECT victim, file, cgroup, MAX(held - base) AS grew
	FROM win GROUP BY victim, file, cgroup
), top_growth AS (
	SELECT victim, file, cgroup,
	       ROW_NUMBER() OVER (PARTITION BY victim, file ORDER BY grew DESC, cgroup) AS rn
	FROM growth
)
SELECT vc.path AS victim,
       f.path AS file,
       ev.evicted_pages,
       ev.refaulted_pages,
       b.mid_ms AS median_refault_ms,
       c.name AS top_cause,
       rc.path AS top_reclaim_root,
       pc.path AS top_pressure,
       ev.first_ts,
       ev.last_ts,
       ev.victim AS victim_id, f.dev, f.ino, f.gen
FROM ev
JOIN files f ON f.id = ev.file
LEFT JOIN cgroups vc ON vc.id = ev.victim
LEFT JOIN by_cause bc ON bc.victim = ev.victim AND bc.file = ev.file AND bc.rn = 1
LEFT JOIN causes c ON c.id = bc.cause
LEFT JOIN by_root br ON br.victim = ev.victim AND br.file = ev.file AND br.rn = 1
LEFT JOIN cgroups rc ON rc.id = br.root AND br.root != 0
LEFT JOIN top_growth tg ON tg.victim = ev.victim AND tg.file = ev.file AND tg.rn = 1
LEFT JOIN cgroups pc ON pc.id = tg.cgroup
LEFT JOIN median md ON md.victim = ev.victim AND md.file = ev.file
LEFT JOIN refault_buckets b ON b.bucket = md.bucket
ORDER BY ev.refaulted_pages DESC, ev.evicted_pages DESC;

-- Daemon runs with their total lost events.
CREATE VIEW v_runs AS
SELECT r.started, r.stopped, r.hostname, r.kernel, r.version,
       COALESCE(SUM(i.lost_evict + i.lost_add + i.lost_refault + i.lost_shadow
		    + i.lost_ringbuf + i.lost_exec + i.lost_user), 0) AS lost_events,
       r.hooks, r.id AS run, r.last_flush, r.interval_s, r.reclaim_context,
       COUNT(i.seq) AS intervals
FROM runs r LEFT JOIN intervals i ON i.run = r.id
GROUP BY r.id;
