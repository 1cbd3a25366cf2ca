#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Disk full loses nothing: the database lives on a 4 MiB tmpfs that a
# filler file fills up to its last few hundred KiB while the daemon records
# (--interval 1) page-cache activity in a test memcg; the files whose pages
# are counted live outside the small filesystem.  Once the database is
# full, the daemon must keep running and keep every row in memory, log the
# failure once (not once per interval), and leave a file integrity_check
# accepts; no interval may be written while the filesystem is full (so the
# files read then are really held in memory).  Once the filler is deleted
# it must write everything it held: the additions of the test files to the
# test memcg sum to at least their page counts (files read before and
# while full), every interval of the run has its row, no event is lost,
# and SIGTERM ends it with status 0.  And it must go on writing for 40 s
# on the small filesystem (--file-detail-pages 0 and 100 small churn
# files: ~100 KiB of WAL per interval): with SQLite's default checkpoint
# every 1000 pages the WAL alone outgrew 4 MiB before its first
# checkpoint, which then had no room to copy into the database, and no
# write succeeded again (the daemon now checkpoints every 256 pages).
. "$srcdir/tests/lib/integration.sh"
require_root

SMALL=$TEST_TMP/small
mkdir "$SMALL"
mount -t tmpfs -o size=4m,mode=0755 cwt-disk-full "$SMALL" || skip "cannot mount a tmpfs"
cleanup_disk_full() {
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -z "$daemon_pid" ] || { kill -KILL "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; daemon_pid=; }
	umount "$SMALL" 2>/dev/null || umount -l "$SMALL"
	cleanup
}
trap cleanup_disk_full EXIT

DB=$SMALL/cachewatch.db
C=$CG_PREFIX
cg_make "$C"

# Counted files: A read before the disk fills, B while it is full.  Churn
# files keep every interval busy (their rows are what fill the database).
mkdir "$TEST_TMP/files"
for f in a1 a2 b1 b2 b3 b4; do head -c $((1 << 20)) /dev/urandom > "$TEST_TMP/files/$f"; done
for i in $(seq 1 24); do head -c $((256 << 10)) /dev/urandom > "$TEST_TMP/files/churn$i"; done
for i in $(seq 1 100); do head -c $((16 << 10)) /dev/urandom > "$TEST_TMP/files/churn-small$i"; done
"$HELPERS/fadv" "$TEST_TMP"/files/*
pages_of() { local f s n=0; for f in "$@"; do s=$(stat -c %s "$f"); n=$((n + (s + 4095) / 4096)); done; echo $n; }
read_in_cg() { cg_run "$C" cat "$@" > /dev/null; wait $!; }
failures_logged() { grep -c 'cannot write interval' "$TEST_TMP/daemon.log"; }
intervals() { sql "$DB" 'SELECT COUNT(*) FROM intervals'; }

start_daemon "$DB" --interval 1 --file-detail-pages 0
read_in_cg "$TEST_TMP"/files/a?
cg_run "$C" sh -c "while :; do '$HELPERS/fadv' '$TEST_TMP'/files/churn*; cat '$TEST_TMP'/files/churn* > /dev/null; sleep 0.3; done"
sleep 2

# Leave ~300 KiB.
avail=$(df --output=avail -B 4096 "$SMALL" | tail -1)
dd if=/dev/zero of="$SMALL/filler" bs=4096 count=$((avail - 75)) status=none 2> /dev/null
say "filesystem: $(df -h --output=size,used,avail "$SMALL" | tail -1); database $(du -k "$DB" | cut -f1) KiB, WAL $(du -k "$DB-wal" | cut -f1) KiB"
for i in $(seq 1 120); do
	[ "$(failures_logged)" -ge 1 ] && break
	sleep 0.5
done
check "the database filled up (the daemon reported a failed write)" ge "$(failures_logged)" 1
full_intervals=$(intervals)
say "full after $((i / 2)) s: $(df -h --output=avail "$SMALL" | tail -1) left; $full_intervals intervals written"

# Full: read B in the memcg, let several intervals fail.
read_in_cg "$TEST_TMP"/files/b?
sleep 6
check "the daemon keeps running while the disk is full" kill -0 "$daemon_pid"
check "it logged the failure once, not once per interval" eq "$(failures_logged)" 1
check "no interval could be written while full (B is held in memory)" eq "$(intervals)" "$full_intervals"
check "integrity_check is ok while the disk is full" \
	eq "$(sqlite3 -readonly -batch "$DB" ".timeout 5000" 'PRAGMA integrity_check')" ok

# Room again.
rm "$SMALL/filler"
for i in $(seq 1 40); do
	[ "$(intervals)" -gt "$full_intervals" ] && break
	sleep 0.5
done
check "the daemon writes again once there is room" gt "$(intervals)" "$full_intervals"
again=$(intervals)
sleep 40
say "40 s later: $(df -h --output=avail "$SMALL" | tail -1) left; database $(du -k "$DB" | cut -f1) KiB, WAL $(du -k "$DB-wal" | cut -f1) KiB"
check "it goes on writing on the small filesystem (>= 20 intervals in 40 s)" ge $(($(intervals) - again)) 20
check "with no new failure" eq "$(failures_logged)" 1
stop_daemon
grep -E 'cannot write|writing again' "$TEST_TMP/daemon.log" >&2
check "it logged that it is writing again" grep -q 'writing again after' "$TEST_TMP/daemon.log"
check "integrity_check is ok at the end" eq "$(sqlite3 -batch "$DB" 'PRAGMA integrity_check')" ok

counted() {
	local f ids=
	for f in "$@"; do ids="$ids${ids:+,}$(stat -c %i "$f")"; done
	sql "$DB" "SELECT COALESCE(SUM(a.pages), 0) FROM additions a JOIN files f ON f.id = a.file
		JOIN cgroups c ON c.id = a.cgroup WHERE c.path = '/$C' AND f.ino IN ($ids)
		AND f.dev = $(stat -c %d "$TEST_TMP/files")"
}
A=$(pages_of "$TEST_TMP"/files/a?)
B=$(pages_of "$TEST_TMP"/files/b?)
say "pages read: A (before) $A, B (while full) $B; recorded: A $(counted "$TEST_TMP"/files/a?), B $(counted "$TEST_TMP"/files/b?)"
check "the additions of A and B to the memcg are all in the database (>= $((A + B)) pages)" \
	ge "$(counted "$TEST_TMP"/files/a? "$TEST_TMP"/files/b?)" $((A + B))
check "the pages read while full are there (>= $B)" ge "$(counted "$TEST_TMP"/files/b?)" "$B"
check "every interval of the run has its row" eq "$(sql "$DB" 'SELECT MAX(seq) + 1 - COUNT(*) FROM intervals')" 0
check "no event was lost" eq "$(sql "$DB" 'SELECT lost_events FROM v_runs')" 0
pass_or_fail
