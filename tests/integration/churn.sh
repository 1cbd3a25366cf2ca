#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cgroups come and go by the thousand on a Kubernetes node: 10 000 memory
# cgroups are created and removed (some reading files) during a run.  The
# daemon must survive, name them, lose no cgroup event, keep its in-memory
# tables within --max-cgroups (forgetting is counted in dropped_names) and
# its memory bounded: the stated bound is RSS <= 64 MiB with the default
# map sizes (measured ~10-20 MiB, see the log).
. "$srcdir/tests/lib/integration.sh"
require_root

DB=$TEST_TMP/cachewatch.db
MAX=2000
start_daemon "$DB" --interval 1 --max-cgroups $MAX
F=$TEST_TMP/data.bin
head -c $((1 << 20)) /dev/urandom > "$F"
P=$CG_PREFIX
cg_make "$P"
for i in $(seq 1 10000); do
	mkdir "$CG_ROOT/$P/c$i"
	if [ $((i % 500)) = 0 ]; then   # some of them cache a file, then go
		sh -c 'echo $$ > "$0/cgroup.procs" && exec cat "$1"' "$CG_ROOT/$P/c$i" "$F" > /dev/null
		"$HELPERS/fadv" "$F"
	fi
	rmdir "$CG_ROOT/$P/c$i"
done
sleep 3
rss_kb=$(awk '/^VmRSS/ { print $2 }' /proc/$daemon_pid/status)
hwm_kb=$(awk '/^VmHWM/ { print $2 }' /proc/$daemon_pid/status)
say "daemon VmRSS ${rss_kb} kB, peak ${hwm_kb} kB"
stop_daemon

check "all 10000 cgroups were named, removed ones kept" \
	eq "$(sql "$DB" "SELECT COUNT(*) FROM v_cgroups WHERE path LIKE '/$P/c%' AND removed IS NOT NULL")" 10000
check "no cgroup event was lost" eq "$(sql "$DB" 'SELECT SUM(lost_ringbuf) FROM intervals')" 0
check "the in-memory table forgot entries to stay within --max-cgroups" \
	gt "$(sql "$DB" 'SELECT dropped_names FROM v_runs')" 0
check "peak RSS stayed within 64 MiB" ge $((64 << 10)) "${hwm_kb:-999999999}"
pass_or_fail
