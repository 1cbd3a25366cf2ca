#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Control: the same toucher in a limited memcg, but the hog in an unrelated,
# unlimited one.  Nothing squeezes the exec file, so no limit evictions of it
# may be recorded (DAMON pageout or the test's own fadvise may still drop a
# few pages: only the limit cause is asserted).
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root

run_exec_thrash control

check "no limit evictions of the exec file" \
	eq "$(sql "$DB" "SELECT COALESCE(SUM(pages), 0) FROM v_evictions WHERE file = '$EXEC' AND cause = 'limit'")" 0
# (DAMON may page out and bring back a stray page: "almost none".)
check "the kernel saw (almost) no refaults in /$P either" ge 100 "${REFAULTS:-0}"
check "the toucher's page cache was recorded (additions to /$VICTIM)" \
	gt "$(sql "$DB" "SELECT SUM(a.pages) FROM additions a JOIN files f ON f.id = a.file JOIN cgroups c ON c.id = a.cgroup WHERE f.path = '$EXEC' AND c.path = '/$VICTIM'")" 10000
pass_or_fail
