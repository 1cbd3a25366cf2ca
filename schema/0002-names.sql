-- SPDX-License-Identifier: GPL-2.0-or-later
--
-- cachewatch schema, version 2: names.
--
-- cgroups learn the Kubernetes QoS class, container runtime and systemd
-- unit parsed from their paths (pod_uid, namespace, pod, container and
-- container_id existed already); files learn the path a process in another
-- mount namespace (a container) sees and, when no path is known, why.
-- Views gain the victim's Kubernetes names; every column of version 1
-- keeps its name and meaning.  Also fixes the label of refault-distance
-- bucket 0, which the BPF side fills with every distance below 2 us.

ALTER TABLE cgroups ADD COLUMN qos TEXT;      -- guaranteed, burstable, besteffort
ALTER TABLE cgroups ADD COLUMN runtime TEXT;  -- containerd, cri-o, docker
ALTER TABLE cgroups ADD COLUMN unit TEXT;     -- deepest systemd unit in the path

ALTER TABLE files ADD COLUMN container_path TEXT; -- as a containerised process maps it
ALTER TABLE files ADD COLUMN path_note TEXT;      -- why path is NULL

-- In-memory name tables that had to forget entries to stay within bounds.
ALTER TABLE intervals ADD COLUMN dropped_names INTEGER NOT NULL DEFAULT 0;

UPDATE refault_buckets SET lower_ms = 0, upper_ms = 0.002, mid_ms = 0.001 WHERE bucket = 0;
UPDATE refault_buckets SET lower_ms = 0.002, upper_ms = 0.002, mid_ms = 0.002 WHERE bucket = 1;

DROP VIEW v_cgroups;
CREATE VIEW v_cgroups AS
SELECT id, path, pod_uid, namespace, pod, container, container_id,
       first_seen, last_seen, removed, qos, runtime, unit
FROM cgroups;

DROP VIEW v_evictions;
CREATE VIEW v_evictions AS
SELECT e.ts,
       vc.path AS victim,
       rc.path AS reclaim_root,
       xc.path AS reclaimer,
       c.name AS cause,
       f.path AS file,
       f.dev, f.ino, e.exec, e.pages, e.refaulted_pages,
       e.events, e.victim AS victim_id, e.root AS reclaim_root_id,
       e.reclaimer AS reclaimer_id, f.gen, f.kind, f.deleted,
       vc.namespace AS victim_namespace, vc.pod AS victim_pod,
       vc.container AS victim_container, vc.removed IS NOT NULL AS victim_removed,
       f.container_path AS container_file
FROM evictions e
JOIN causes c ON c.id = e.cause
JOIN files f ON f.id = e.file
LEFT JOIN cgroups vc ON vc.id = e.victim
LEFT JOIN cgroups rc ON rc.id = e.root AND e.root != 0
LEFT JOIN cgroups xc ON xc.id = e.reclaimer;

DROP VIEW v_exec_thrash;
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
       ev.victim AS victim_id, f.dev, f.ino, f.gen,
       vc.namespace AS victim_namespace, vc.pod AS victim_pod,
       vc.container AS victim_container, vc.removed IS NOT NULL AS victim_removed,
       f.container_path AS container_file,
       pc.namespace AS top_pressure_namespace, pc.pod AS top_pressure_pod,
       pc.container AS top_pressure_container
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

DROP VIEW v_runs;
CREATE VIEW v_runs AS
SELECT r.started, r.stopped, r.hostname, r.kernel, r.version,
       COALESCE(SUM(i.lost_evict + i.lost_add + i.lost_refault + i.lost_shadow
		    + i.lost_ringbuf + i.lost_exec + i.lost_user), 0) AS lost_events,
       r.hooks, r.id AS run, r.last_flush, r.interval_s, r.reclaim_context,
       COUNT(i.seq) AS intervals, COALESCE(SUM(i.dropped_names), 0) AS dropped_names
FROM runs r LEFT JOIN intervals i ON i.run = r.id
GROUP BY r.id;
