#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Refaults are what the kernel calls refaults.  A file's pages are evicted
# (limit shrink), then the file is truncated and written again: the kernel
# forgot those evictions at the truncation, so the new pages are no
# refaults, and cachewatch must not count them either.  A genuine re-read
# of an evicted file, by contrast, must be counted.
. "$srcdir/tests/lib/integration.sh"
require_root

DB=$TEST_TMP/cachewatch.db
C=${CG_PREFIX}
F=$TEST_TMP/rewritten.bin
G=$TEST_TMP/reread.bin
cg_make "$C"
start_daemon "$DB" --interval 1
cg_run "$C" sh -c "head -c $((40 << 20)) /dev/urandom > '$F' && head -c $((8 << 20)) /dev/urandom > '$G' && sync"
wait $!
rf0=$(cg_stat "$C" "$CG_REFAULT_KEY")
echo $((4 << 20)) > "$CG_ROOT/$C/$CG_LIMIT_FILE"     # evict most of both files
echo -1 > "$CG_ROOT/$C/$CG_LIMIT_FILE" 2>/dev/null || echo max > "$CG_ROOT/$C/$CG_LIMIT_FILE"
cg_run "$C" sh -c "truncate -s 0 '$F' && head -c $((40 << 20)) /dev/urandom > '$F' && sync '$F'"
wait $!
cg_run "$C" cat "$G" > /dev/null
wait $!
rf1=$(cg_stat "$C" "$CG_REFAULT_KEY")
sleep 2
stop_daemon

fino=$(stat -c %i "$F")
gino=$(stat -c %i "$G")
tool_f=$(sql "$DB" "SELECT COALESCE(SUM(pages), 0) FROM v_refaults WHERE ino = $fino")
tool_g=$(sql "$DB" "SELECT COALESCE(SUM(pages), 0) FROM v_refaults WHERE ino = $gino")
say "kernel refaults in $C: $((rf1 - rf0)); cachewatch: rewritten file $tool_f, re-read file $tool_g"
check "the file's pages were evicted by the limit shrink" \
	gt "$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE ino = $fino AND cause = 'limit_shrink'")" 1000
check "the rewrite after truncation counts (almost) no refaults" \
	ge $(( (rf1 - rf0) + 64 )) "$tool_f"
check "the re-read of the other evicted file counts its refaults" gt "$tool_g" 1000
check "cachewatch's refaults do not exceed the kernel's" ge $(( (rf1 - rf0) + 64 )) $((tool_f + tool_g))
pass_or_fail
