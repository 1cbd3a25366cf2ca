#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Exec thrash, toucher and hog in the same limited memcg: the exec file's
# pages are evicted by the memcg limit, the victim and the reclaim root are
# that memcg, and every refault the kernel counted is in the database.
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root

run_exec_thrash same

check "v_exec_thrash has the exec file with victim /$VICTIM" \
	eq "$(exec_thrash_row 'count(*)')" 1
check "top_cause is limit" eq "$(exec_thrash_row top_cause)" limit
check "top_reclaim_root is /$P" eq "$(exec_thrash_row top_reclaim_root)" "/$P"
check "more than 100000 exec pages evicted" gt "$(exec_thrash_row evicted_pages)" 100000
check "refaulted pages within 2% of memory.stat" \
	within "$(exec_thrash_row refaulted_pages)" "$REFAULTS" 2
check "median refault time is known" gt "$(exec_thrash_row 'CAST(median_refault_ms * 1000 AS INTEGER)')" 0
check "the file's pages were flagged executable in v_evictions" \
	gt "$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE file = '$EXEC' AND exec = 1 AND cause = 'limit'")" 100000
pass_or_fail
