#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Exec thrash across siblings: the toucher in P/app, the hog in P/hog and the
# limit on their parent P.  The victim is P/app, the reclaim root P (not the
# cgroup of the task that ran the reclaim), and the pressure came from P/hog.
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root

run_exec_thrash sibling

check "v_exec_thrash has the exec file with victim /$P/app" eq "$(exec_thrash_row 'count(*)')" 1
check "top_cause is limit" eq "$(exec_thrash_row top_cause)" limit
check "top_reclaim_root is the parent /$P" eq "$(exec_thrash_row top_reclaim_root)" "/$P"
check "more than 100000 exec pages evicted" gt "$(exec_thrash_row evicted_pages)" 100000
check "refaulted pages within 2% of memory.stat" \
	within "$(exec_thrash_row refaulted_pages)" "$REFAULTS" 2
check "top_pressure is the hog /$P/hog" eq "$(exec_thrash_row top_pressure)" "/$P/hog"
check "v_pressure shows the hog's anon growth under /$P" \
	gt "$(sql "$DB" "SELECT MAX(anon_delta) FROM v_pressure WHERE reclaim_root = '/$P' AND cgroup = '/$P/hog'")" $((60 << 20))
pass_or_fail
