#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inode numbers are reused: file A is cached, evicted and deleted, then a new
# file B gets A's inode number.  B's rows must carry B's path (its identity
# includes the inode generation), and A's rows A's path, never each other's.
. "$srcdir/tests/lib/integration.sh"
require_root

DB=$TEST_TMP/cachewatch.db
D=$TEST_TMP/files
mkdir -p "$D"
start_daemon "$DB" --interval 1

head -c $((4 << 20)) /dev/urandom > "$D/a.bin"
sync "$D/a.bin"
cat "$D/a.bin" > /dev/null
ino=$(stat -c %i "$D/a.bin")
dev=$(stat -c %d "$D/a.bin")
"$HELPERS/fadv" "$D/a.bin"    # evicted (invalidate) while A exists
sleep 2.5                      # an interval names it
rm "$D/a.bin"

# ext4 hands a freed inode number out again soon; create files until it does.
reused=no
for i in $(seq 1 2000); do
	: > "$D/b$i.bin"
	if [ "$(stat -c %i "$D/b$i.bin")" = "$ino" ]; then
		reused=$D/b$i.bin
		break
	fi
done
[ "$reused" != no ] || hard_error "inode $ino was not reused in 2000 creations"
head -c $((4 << 20)) /dev/urandom > "$reused"
sync "$reused"
cat "$reused" > /dev/null
"$HELPERS/fadv" "$reused"
sleep 2.5
stop_daemon

check "two files share the inode number, told apart by generation" \
	eq "$(sql "$DB" "SELECT COUNT(DISTINCT gen) FROM files WHERE dev = $dev AND ino = $ino")" 2
check "the new file's evictions carry its own path only" \
	eq "$(sql "$DB" "SELECT group_concat(DISTINCT COALESCE(file, 'NULL')) FROM v_evictions WHERE dev = $dev AND ino = $ino AND ts > (SELECT MIN(ts) FROM v_evictions WHERE dev = $dev AND ino = $ino AND file = '$reused') - 1 AND gen = (SELECT gen FROM files WHERE path = '$reused')")" \
	"$reused"
check "no row of the new file names the old one" \
	eq "$(sql "$DB" "SELECT COUNT(*) FROM files WHERE dev = $dev AND ino = $ino AND path = '$D/a.bin' AND gen = (SELECT gen FROM files WHERE path = '$reused')")" 0
check "the old file's rows keep the old path" \
	eq "$(sql "$DB" "SELECT DISTINCT file FROM v_evictions WHERE dev = $dev AND ino = $ino AND gen != (SELECT gen FROM files WHERE path = '$reused')")" "$D/a.bin"
pass_or_fail
