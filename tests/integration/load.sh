#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon loads and attaches on this kernel, drops every capability it
# no longer needs, writes one row per interval,
# records page-cache additions of a file read inside a memcg, and stops
# cleanly on SIGTERM, on SIGINT and at the end of --duration.
. "$srcdir/tests/lib/integration.sh"
require_root

DB=$TEST_TMP/cachewatch.db
cg_make "$CG_PREFIX"
F=$TEST_TMP/data.bin
head -c $((8 << 20)) /dev/urandom > "$F"
"$HELPERS/fadv" "$F"

start_daemon "$DB" --interval 1
# Attached: only CAP_DAC_READ_SEARCH (2) and CAP_PERFMON (38) are left, in
# every set, the bounding set included.
check "after start-up the daemon holds only DAC_READ_SEARCH and PERFMON" eq \
	"$(awk '/^Cap(Prm|Eff|Bnd|Inh|Amb)/ { printf "%s ", $2 }' /proc/$daemon_pid/status)" \
	"0000000000000000 0000004000000004 0000004000000004 0000004000000004 0000000000000000 "
cg_run "$CG_PREFIX" cat "$F" > /dev/null
wait $!
sleep 2.5
stop_daemon

check "the run has the page-cache hooks live" \
	eq "$(sql "$DB" "SELECT hooks LIKE '%filemap_delete%' AND hooks LIKE '%filemap_add%' FROM runs")" 1
check "the run is marked stopped" eq "$(sql "$DB" 'SELECT stopped IS NOT NULL FROM runs')" 1
check "at least two intervals were written" ge "$(sql "$DB" 'SELECT count(*) FROM intervals')" 2
check "no events were lost" eq "$(sql "$DB" 'SELECT lost_events FROM v_runs')" 0
check "the file's 2048 pages were added to /$CG_PREFIX" \
	ge "$(sql "$DB" "SELECT SUM(a.pages) FROM additions a JOIN files f ON f.id = a.file
		JOIN cgroups c ON c.id = a.cgroup WHERE f.path = '$F' AND c.path = '/$CG_PREFIX'")" 2048
check "the memcg's id is its directory inode" \
	eq "$(sql "$DB" "SELECT id FROM v_cgroups WHERE path = '/$CG_PREFIX'")" "$(cg_id "$CG_PREFIX")"
check "the memcg's memory.stat was snapshotted" \
	ge "$(sql "$DB" "SELECT count(*) FROM memstat m JOIN cgroups c ON c.id = m.cgroup WHERE c.path = '/$CG_PREFIX'")" 1
check "the database is mode 0640" eq "$(stat -c %a "$DB")" 640

# SIGINT appends a second run to the same database.
start_daemon "$DB" --interval 1
sleep 1.2
kill -INT "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
check "cachewatchd exits 0 on SIGINT" eq "$rc" 0
check "a second run is appended" eq "$(sql "$DB" 'SELECT count(*) FROM runs WHERE stopped IS NOT NULL')" 2

# --duration stops by itself, writing the last interval.
rc=0
timeout 20 "$CACHEWATCHD" --db "$DB" --interval 1 --duration 2 2> /dev/null || rc=$?
check "--duration 2 exits 0 by itself" eq "$rc" 0
check "--duration run wrote its intervals" \
	ge "$(sql "$DB" 'SELECT count(*) FROM intervals WHERE run = (SELECT MAX(id) FROM runs)')" 2
pass_or_fail
