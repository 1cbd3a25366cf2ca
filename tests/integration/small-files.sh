#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Small files are summed, big ones kept: 500 files of 16 KiB and one of
# 8 MiB are read inside a memcg and dropped.  With the default
# --file-detail-pages the small ones, but for the 100 busiest, become one
# "(other files)" row per key (their pages all counted) while the big file
# keeps its own rows and the files table does not grow by 500; with
# --file-detail-pages 0 every file has its rows.
. "$srcdir/tests/lib/integration.sh"
require_root

C=$CG_PREFIX
D=$TEST_TMP/small
mkdir -p "$D"
cg_make "$C"
for i in $(seq 1 500); do head -c 16384 /dev/urandom > "$D/f$i"; done
head -c $((8 << 20)) /dev/urandom > "$TEST_TMP/big.bin"
sync

# run_once DB [ARGS]: read everything in the memcg, drop it, stop.
run_once() {
	local db=$1
	shift
	"$HELPERS/fadv" "$D"/f* "$TEST_TMP/big.bin"
	start_daemon "$db" --interval 1 "$@"
	cg_run "$C" sh -c "cat '$D'/f* '$TEST_TMP/big.bin' > /dev/null"
	wait $!
	"$HELPERS/fadv" "$D"/f* "$TEST_TMP/big.bin"
	sleep 2.5
	stop_daemon
}

run_once "$TEST_TMP/summed.db"
S=$TEST_TMP/summed.db
check "400 small files' pages are in one (other files) row" \
	ge "$(sql "$S" "SELECT SUM(pages) FROM v_evictions WHERE file = '(other files)' AND victim = '/$C' AND cause = 'invalidate'")" 1600
check "the big file keeps its own rows" \
	ge "$(sql "$S" "SELECT SUM(pages) FROM v_evictions WHERE file = '$TEST_TMP/big.bin' AND cause = 'invalidate'")" 2048
check "only the 100 busiest small files are in the files table" \
	ge 100 "$(sql "$S" "SELECT COUNT(*) FROM files WHERE path LIKE '$D/f%'")"
check "additions are summed the same way" \
	ge "$(sql "$S" "SELECT SUM(a.pages) FROM additions a JOIN files f ON f.id = a.file WHERE f.kind = 'other'")" 1600

run_once "$TEST_TMP/all.db" --file-detail-pages 0
check "--file-detail-pages 0 keeps every file" \
	ge "$(sql "$TEST_TMP/all.db" "SELECT COUNT(DISTINCT file) FROM v_evictions WHERE file LIKE '$D/f%'")" 490
pass_or_fail
