#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Page cache outlives its cgroup: a file read inside a memcg that is then
# removed stays charged to the (now hidden) memcg.  When those pages are
# evicted later, the victim must still be named by the removed cgroup's
# path, and marked removed.
. "$srcdir/tests/lib/integration.sh"
require_root

DB=$TEST_TMP/cachewatch.db
F=$TEST_TMP/data.bin
C=$CG_PREFIX
head -c $((8 << 20)) /dev/urandom > "$F"
"$HELPERS/fadv" "$F"
start_daemon "$DB" --interval 1
cg_make "$C"
cg_run "$C" cat "$F" > /dev/null
wait $!
id=$(cg_id "$C")
rmdir "$CG_ROOT/$C"
sleep 2.5
"$HELPERS/fadv" "$F"    # evict the pages of the removed cgroup
sleep 2.5
stop_daemon

ino=$(stat -c %i "$F")
check "the pages were charged to the cgroup before its removal" \
	gt "$(sql "$DB" "SELECT SUM(pages) FROM additions WHERE cgroup = $id")" 1000
check "evictions after the removal name the removed cgroup" \
	gt "$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE ino = $ino AND victim = '/$C' AND cause = 'invalidate'")" 1000
check "and mark it removed" \
	eq "$(sql "$DB" "SELECT DISTINCT victim_removed FROM v_evictions WHERE ino = $ino AND victim = '/$C' AND cause = 'invalidate'")" 1
check "v_cgroups keeps the removed cgroup with its removal time" \
	eq "$(sql "$DB" "SELECT path, removed IS NOT NULL FROM v_cgroups WHERE id = $id")" "/$C|1"
pass_or_fail
