#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Readers never block the writer (WAL), and a long reader does not leave a
# big WAL behind.  While the daemon records page-cache churn in a test
# memcg (--interval 1, every file kept: --file-detail-pages 0, so every
# interval writes hundreds of rows), a python3 sqlite3 reader opens a read
# transaction (BEGIN; SELECT) and holds it for at least 20 s, and until
# the WAL has grown past the bound below (at most 120 s).  Meanwhile:
# intervals keep being written (at least one per two seconds of the hold),
# the reader's snapshot does not move, the WAL grows (no checkpoint can
# restart it while the reader uses it), and `cachewatch status` reports
# the WAL's size.  Once the reader leaves, the next automatic checkpoint
# (every 256 pages) backfills the whole WAL and the commit after it
# starts the WAL over and truncates the file to journal_size_limit: within
# a few intervals the -wal file is back under BOUND (the daemon's 2 MiB
# journal_size_limit + 512 KiB for the frames of one commit), where
# without a limit it would keep its peak size for good.
. "$srcdir/tests/lib/integration.sh"
require_root
command -v python3 > /dev/null || skip "python3 not installed"
python3 -c 'import sqlite3' 2> /dev/null || skip "python3 has no sqlite3 module"

DB=$TEST_TMP/cachewatch.db
C=$CG_PREFIX
BOUND=$(((2 << 20) + (512 << 10)))
cg_make "$C"
mkdir "$TEST_TMP/files"
for i in $(seq 1 150); do head -c $((16 << 10)) /dev/urandom > "$TEST_TMP/files/f$i"; done
le() { [ "${1:-0}" -le "$2" ] 2>/dev/null || { say "  got '${1:-}', expected <= $2"; return 1; }; }
wal_size() { stat -c %s "$DB-wal" 2> /dev/null || echo 0; }
intervals() { sql "$DB" 'SELECT COUNT(*) FROM intervals'; }

start_daemon "$DB" --interval 1 --file-detail-pages 0
cg_run "$C" sh -c "while :; do '$HELPERS/fadv' '$TEST_TMP'/files/*; cat '$TEST_TMP'/files/* > /dev/null; sleep 0.2; done"
sleep 3

# The reader: prints the snapshot's interval count at BEGIN and again when
# $TEST_TMP/release appears, then ends its transaction and says "done".
python3 - "$DB" "$TEST_TMP/release" > "$TEST_TMP/reader.out" 2> "$TEST_TMP/reader.err" <<'EOF' &
import os, sqlite3, sys, time
con = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, isolation_level=None, timeout=5)
con.execute("BEGIN")
print(con.execute("SELECT COUNT(*) FROM intervals").fetchone()[0], flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
print(con.execute("SELECT COUNT(*) FROM intervals").fetchone()[0], flush=True)
con.execute("COMMIT")
con.close()
print("done", flush=True)
EOF
reader=$!
bg_pids+=($reader)
for i in $(seq 1 50); do [ -s "$TEST_TMP/reader.out" ] && break; sleep 0.1; done
t0=$SECONDS
n0=$(intervals)
w0=$(wal_size)
status_ok=0 samples=0
while [ $((SECONDS - t0)) -lt 20 ] || { [ "$(wal_size)" -le $((BOUND + (256 << 10))) ] && [ $((SECONDS - t0)) -lt 120 ]; }; do
	sleep 2
	# cachewatch status: "database PATH (SIZE, WAL SIZE)" against stat
	# just before and just after it (the daemon writes every second).
	wa=$(wal_size)
	line=$("$builddir/cachewatch" status --db "$DB" 2> /dev/null | grep '^database')
	wb=$(wal_size)
	shown=$(sed -n 's/.*, WAL \([0-9.]*\) \([KMG]i\)\{0,1\}B)$/\1 \2/p' <<< "$line")
	if awk -v s="$shown" -v lo="$wa" -v hi="$wb" 'BEGIN { split(s, a, " "); m = a[2] == "Ki" ? 1024 : a[2] == "Mi" ? 1048576 : a[2] == "Gi" ? 1073741824 : 1;
		v = a[1] * m; exit !(lo > 0 && v >= 0.98 * lo - 1024 && v <= 1.02 * hi + 1024) }'; then
		status_ok=$((status_ok + 1))
	else
		say "status says '$line', the WAL was $wa bytes before and $wb after"
	fi
	samples=$((samples + 1))
done
held=$((SECONDS - t0))
n1=$(intervals)
w1=$(wal_size)
touch "$TEST_TMP/release"
for i in $(seq 1 50); do grep -q done "$TEST_TMP/reader.out" && break; sleep 0.1; done
say "reader held its snapshot for $held s: intervals $n0 -> $n1, WAL $w0 -> $w1 bytes; reader saw $(head -2 "$TEST_TMP/reader.out" | tr '\n' ' ')"
check "the reader held its read transaction" eq "$(sed -n 3p "$TEST_TMP/reader.out")" done
check "the reader's snapshot did not move" eq "$(sed -n 1p "$TEST_TMP/reader.out")" "$(sed -n 2p "$TEST_TMP/reader.out")"
check "intervals kept being written during the read (>= one per 2 s)" ge $((n1 - n0)) $((held / 2))
check "the WAL grew while the reader held it" gt "$w1" "$w0"
check "the WAL grew past $BOUND bytes while the reader held it" gt "$w1" "$BOUND"
check "cachewatch status reported the WAL's size every time" eq "$status_ok" "$samples"

# Reader gone: checkpoint, restart, truncate.
for i in $(seq 1 30); do
	[ "$(wal_size)" -le "$BOUND" ] && break
	sleep 1
done
say "WAL $(wal_size) bytes $i s after the reader left"
check "once the reader left, the WAL fell back under $BOUND bytes" le "$(wal_size)" "$BOUND"
sleep 3
check "and stays there" le "$(wal_size)" "$BOUND"
stop_daemon
check "integrity_check is ok" eq "$(sqlite3 -batch "$DB" 'PRAGMA integrity_check')" ok
pass_or_fail
