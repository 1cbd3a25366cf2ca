#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A write that fails loses nothing: while another connection holds the
# database's write lock (longer than the daemon's busy timeout), a memcg
# limit shrink evicts a file.  The interval cannot be written then; its rows
# must be written with a later interval, every interval must be accounted
# for, and the refaults of those evictions still credited.
. "$srcdir/tests/lib/integration.sh"
require_root

DB=$TEST_TMP/cachewatch.db
C=${CG_PREFIX}
F=$TEST_TMP/data.bin
cg_make "$C"
start_daemon "$DB" --interval 1
cg_run "$C" sh -c "head -c $((16 << 20)) /dev/urandom > '$F' && sync '$F'"
wait $!

# Hold the write lock for 8 s (the daemon waits 5 s, then gives up).
( echo 'BEGIN IMMEDIATE;'; echo 'UPDATE runs SET hooks = hooks;'; sleep 8; echo 'ROLLBACK;' ) |
	sqlite3 "$DB" &
locker=$!
sleep 1
echo $((1 << 20)) > "$CG_ROOT/$C/$CG_LIMIT_FILE"   # evicts ~15 MiB: limit_shrink
echo -1 > "$CG_ROOT/$C/$CG_LIMIT_FILE" 2>/dev/null || echo max > "$CG_ROOT/$C/$CG_LIMIT_FILE"
cg_run "$C" cat "$F" > /dev/null                    # and they come back: refaults
wait $!
wait "$locker"
sleep 3
stop_daemon

ino=$(stat -c %i "$F")
check "the daemon reported the failed write" grep -q 'cannot write interval' "$TEST_TMP/daemon.log"
check "the evictions made while the database was locked were written later" \
	gt "$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE ino = $ino AND cause = 'limit_shrink'")" 3000
check "their refaults were credited to them" \
	gt "$(sql "$DB" "SELECT SUM(refaulted_pages) FROM v_evictions WHERE ino = $ino AND cause = 'limit_shrink'")" 3000
check "no interval is missing from the run" \
	eq "$(sql "$DB" 'SELECT MAX(seq) + 1 - COUNT(*) FROM intervals')" 0
check "no refault lost its eviction" \
	eq "$(sql "$DB" "SELECT COUNT(*) FROM refaults r JOIN files f ON f.id = r.file WHERE f.ino = $ino AND r.evict_ts = 0")" 0
pass_or_fail
