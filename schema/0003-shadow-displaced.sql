-- SPDX-License-Identifier: GPL-2.0-or-later
--
-- cachewatch schema, version 3.
--
-- The table of recent evictions became a direct-mapped array (no locks, no
-- allocation on the hot path): an eviction whose slot is reused before its
-- page comes back can no longer be matched to its refault.  Each interval
-- records how often that happened, so an undersized --shadow-entries shows.
-- lost_shadow (a failed update of the former LRU map) stays, always 0.
-- Runs record their refault sampling: with --refault-sample N, pages that
-- are not executable are remembered one in N (by page hash) and each
-- refault found counts N pages, so their refault figures are estimates.

ALTER TABLE intervals ADD COLUMN shadow_displaced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN refault_sample INTEGER NOT NULL DEFAULT 1;

DROP VIEW v_runs;
CREATE VIEW v_runs AS
SELECT r.started, r.stopped, r.hostname, r.kernel, r.version,
       COALESCE(SUM(i.lost_evict + i.lost_add + i.lost_refault + i.lost_shadow
		    + i.lost_ringbuf + i.lost_exec + i.lost_user), 0) AS lost_events,
       r.hooks, r.id AS run, r.last_flush, r.interval_s, r.reclaim_context,
       COUNT(i.seq) AS intervals, COALESCE(SUM(i.dropped_names), 0) AS dropped_names,
       COALESCE(SUM(i.shadow_displaced), 0) AS shadow_displaced, r.refault_sample
FROM runs r LEFT JOIN intervals i ON i.run = r.id
GROUP BY r.id;
