#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every non-thrash cause, each on its own file whose page cache is charged
# to its own memcg: truncate, unlink, posix_fadvise(DONTNEED), drop_caches,
# lowering the memcg limit and v1 memory.force_empty.  Each must show up
# with its cause and the right victim (and reclaim root where there is one).
. "$srcdir/tests/lib/integration.sh"
require_root

DB=$TEST_TMP/cachewatch.db
D=$TEST_TMP/files
mkdir -p "$D"
start_daemon "$DB" --interval 1

# make_cached NAME: a cgroup C_NAME and a 4 MiB file written from inside it.
make_cached() {
	cg_make "${CG_PREFIX}_$1"
	cg_run "${CG_PREFIX}_$1" sh -c "head -c 4194304 /dev/urandom > '$D/$1' && sync '$D/$1'"
	wait $!
}

# cause_pages NAME CAUSE [ROOT]: pages of file NAME evicted from its cgroup
# with that cause (and that reclaim root, if given).
declare -A dev ino
cause_pages() {
	local root_cond="1"
	[ -z "${3:-}" ] || root_cond="reclaim_root = '/${CG_PREFIX}_$3'"
	sql "$DB" "SELECT COALESCE(SUM(pages), 0) FROM v_evictions WHERE dev = ${dev[$1]} AND ino = ${ino[$1]}
		AND victim = '/${CG_PREFIX}_$1' AND cause = '$2' AND $root_cond"
}

for f in truncate unlink fadvise dropcaches shrink forceempty; do
	make_cached "$f"
	dev[$f]=$(stat -c %d "$D/$f")
	ino[$f]=$(stat -c %i "$D/$f")
done

truncate -s 0 "$D/truncate"
rm "$D/unlink"
"$HELPERS/fadv" "$D/fadvise"
echo 1 > /proc/sys/vm/drop_caches
# Re-read the files drop_caches emptied, for the limit and force_empty cases.
for f in shrink forceempty; do
	cg_run "${CG_PREFIX}_$f" cat "$D/$f" > /dev/null
	wait $!
done
echo $((1 << 20)) > "$CG_ROOT/${CG_PREFIX}_shrink/$CG_LIMIT_FILE"
have_force_empty=no
if [ -e "$CG_ROOT/${CG_PREFIX}_forceempty/memory.force_empty" ]; then
	echo 0 > "$CG_ROOT/${CG_PREFIX}_forceempty/memory.force_empty"
	have_force_empty=yes
fi
sleep 2
stop_daemon

check "truncate: truncate -s 0 evicts with cause truncate" gt "$(cause_pages truncate truncate)" 500
check "unlink: rm evicts with cause truncate" gt "$(cause_pages unlink truncate)" 500
check "unlinked file is marked deleted" \
	eq "$(sql "$DB" "SELECT deleted FROM files WHERE dev = ${dev[unlink]} AND ino = ${ino[unlink]} ORDER BY id DESC LIMIT 1")" 1
check "fadvise: DONTNEED evicts with cause invalidate" gt "$(cause_pages fadvise invalidate)" 500
check "drop_caches: evicts with cause drop_caches" gt "$(cause_pages dropcaches drop_caches)" 500
check "limit shrink: evicts with cause limit_shrink, root = the cgroup" \
	gt "$(cause_pages shrink limit_shrink shrink)" 500
if [ "$have_force_empty" = yes ]; then
	check "force_empty: evicts with cause proactive, root = the cgroup" \
		gt "$(cause_pages forceempty proactive forceempty)" 500
fi
check "the truncated file keeps its path" \
	eq "$(sql "$DB" "SELECT path FROM files WHERE dev = ${dev[truncate]} AND ino = ${ino[truncate]}")" "$D/truncate"
pass_or_fail
