#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fallback for kernels whose BTF lacks struct scan_control: reclaim kind
# from the mm_vmscan_*_reclaim_begin/end brackets.  Forced here with
# --reclaim-context=brackets; the cause must still be the limit, and the
# reclaim root, inferred as the victim's nearest limited ancestor whose limit
# was hit, the parent (not the victim's own, generous limit), and refaults
# must be credited under that same root.
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root

APP_LIMIT=$((1 << 30)) run_exec_thrash sibling --reclaim-context=brackets

check "the run records the bracket mode" \
	eq "$(sql "$DB" 'SELECT reclaim_context FROM runs')" brackets
check "v_exec_thrash has the exec file with victim /$VICTIM" eq "$(exec_thrash_row 'count(*)')" 1
check "top_cause is limit" eq "$(exec_thrash_row top_cause)" limit
check "top_reclaim_root is inferred as the parent /$P" eq "$(exec_thrash_row top_reclaim_root)" "/$P"
check "more than 100000 exec pages evicted" gt "$(exec_thrash_row evicted_pages)" 100000
check "refaulted pages within 2% of memory.stat" \
	within "$(exec_thrash_row refaulted_pages)" "$REFAULTS" 2
pass_or_fail
