-- SPDX-License-Identifier: GPL-2.0-or-later
--
-- cachewatch schema, version 4: bounded growth.
--
-- A busy node writes thousands of rows per interval.  Raw rows are now kept
-- for a window (cachewatchd --raw-minutes), then rolled up in place into
-- coarser rows (--rollup-minutes): the same tables, the same views, with ts
-- the end of the coarser interval; rows older than --keep-days go.  The
-- rollups table records how far each step has gone, so a restarted daemon
-- continues where it stopped.
--
-- The refaults table is no longer written: every figure it held is in
-- evictions.refaulted_pages (credited to the eviction) and refault_hist
-- (when, by whom, how soon).  v_refaults reads refault_hist; its events
-- column (folios) is NULL from now on.
--
-- v_exec_thrash reads summary tables the daemon keeps up to date in each
-- interval's transaction (and rebuilds when old rows expire), so it answers
-- in milliseconds over days of history instead of scanning them.  Its
-- top_pressure is now taken per (victim, reclaim root) over the whole period
-- that root evicted the victim's executable pages, not per file.

CREATE TABLE rollups (
	step TEXT PRIMARY KEY,      -- 'rollup' or 'expire'
	upto INTEGER NOT NULL       -- rows with ts <= upto have been processed
) STRICT;

CREATE INDEX memstat_cgroup ON memstat (cgroup, ts);

-- Executable pages evicted per victim and file, whole history.
CREATE TABLE exec_summary (
	victim INTEGER NOT NULL,
	file INTEGER NOT NULL,
	evicted_pages INTEGER NOT NULL,
	refaulted_pages INTEGER NOT NULL,
	first_ts INTEGER NOT NULL,
	last_ts INTEGER NOT NULL,
	PRIMARY KEY (victim, file)
) STRICT, WITHOUT ROWID;

-- ... split by cause and by reclaim root (0 = none), and the refault-time
-- histogram of their refaults.
CREATE TABLE exec_causes (
	victim INTEGER NOT NULL, file INTEGER NOT NULL, cause INTEGER NOT NULL,
	pages INTEGER NOT NULL,
	PRIMARY KEY (victim, file, cause)
) STRICT, WITHOUT ROWID;

CREATE TABLE exec_roots (
	victim INTEGER NOT NULL, file INTEGER NOT NULL, root INTEGER NOT NULL,
	pages INTEGER NOT NULL,
	PRIMARY KEY (victim, file, root)
) STRICT, WITHOUT ROWID;

CREATE TABLE exec_hist (
	victim INTEGER NOT NULL, file INTEGER NOT NULL, bucket INTEGER NOT NULL,
	pages INTEGER NOT NULL,
	PRIMARY KEY (victim, file, bucket)
) STRICT, WITHOUT ROWID;

-- While a reclaim root evicts a victim's executable pages, what each
-- cgroup under the root held: before the first such interval (base) and at
-- its highest (peak).  peak - base is the growth that pressed.
CREATE TABLE pressure_peaks (
	victim INTEGER NOT NULL,
	root INTEGER NOT NULL,
	cgroup INTEGER NOT NULL,
	base INTEGER NOT NULL,
	peak INTEGER NOT NULL,
	PRIMARY KEY (victim, root, cgroup)
) STRICT, WITHOUT ROWID;

DROP VIEW v_refaults;
CREATE VIEW v_refaults AS
WITH r AS (
	SELECT ts, cgroup, file, cause, exec, SUM(pages) AS pages
	FROM refault_hist GROUP BY ts, cgroup, file, cause, exec
)
SELECT r.ts, cg.path AS cgroup, f.path AS file, f.dev, f.ino, r.exec, r.pages,
       c.name AS cause, b.mid_ms AS median_refault_ms,
       NULL AS events, r.cgroup AS cgroup_id, f.gen
FROM r
JOIN causes c ON c.id = r.cause
JOIN files f ON f.id = r.file
LEFT JOIN cgroups cg ON cg.id = r.cgroup
LEFT JOIN refault_median_by_interval m
	ON m.ts = r.ts AND m.cgroup = r.cgroup AND m.file = r.file AND m.cause = r.cause AND m.exec = r.exec
LEFT JOIN refault_buckets b ON b.bucket = m.bucket;

DROP VIEW v_exec_thrash;
CREATE VIEW v_exec_thrash AS
SELECT vc.path AS victim,
       f.path AS file,
       s.evicted_pages,
       s.refaulted_pages,
       b.mid_ms AS median_refault_ms,
       c.name AS top_cause,
       rc.path AS top_reclaim_root,
       pc.path AS top_pressure,
       s.first_ts,
       s.last_ts,
       s.victim AS victim_id, f.dev, f.ino, f.gen,
       vc.namespace AS victim_namespace, vc.pod AS victim_pod,
       vc.container AS victim_container, vc.removed IS NOT NULL AS victim_removed,
       f.container_path AS container_file,
       pc.namespace AS top_pressure_namespace, pc.pod AS top_pressure_pod,
       pc.container AS top_pressure_container
FROM (
	SELECT s.*,
	       (SELECT cause FROM exec_causes x WHERE x.victim = s.victim AND x.file = s.file
		ORDER BY pages DESC, cause LIMIT 1) AS top_cause,
	       (SELECT root FROM exec_roots x WHERE x.victim = s.victim AND x.file = s.file
		ORDER BY pages DESC, root LIMIT 1) AS top_root,
	       -- weighted median: the first bucket where the running total
	       -- of the histogram reaches half
	       (SELECT bucket FROM (
			SELECT bucket, SUM(pages) OVER (ORDER BY bucket) AS cum,
			       SUM(pages) OVER () AS total
			FROM exec_hist x WHERE x.victim = s.victim AND x.file = s.file)
		WHERE 2 * cum >= total ORDER BY bucket LIMIT 1) AS median_bucket
	FROM exec_summary s
) s
JOIN files f ON f.id = s.file
LEFT JOIN cgroups vc ON vc.id = s.victim
LEFT JOIN causes c ON c.id = s.top_cause
LEFT JOIN cgroups rc ON rc.id = s.top_root AND s.top_root != 0
LEFT JOIN cgroups pc ON pc.id = (SELECT cgroup FROM pressure_peaks p
				  WHERE p.victim = s.victim AND p.root = s.top_root
				  ORDER BY peak - base DESC, cgroup LIMIT 1)
LEFT JOIN refault_buckets b ON b.bucket = s.median_bucket
ORDER BY s.refaulted_pages DESC, s.evicted_pages DESC;
