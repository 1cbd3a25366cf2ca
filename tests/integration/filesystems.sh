#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# File names on filesystems other than the root's ext4: xfs takes the same
# inode handles as ext4 and is named by handle; btrfs does not, so a file
# there is named from /proc/PID/maps when a process maps it, and otherwise
# its row says why it has no path.  Loop devices of a few hundred MiB.
. "$srcdir/tests/lib/integration.sh"
require_root
command -v mkfs.btrfs > /dev/null && command -v mkfs.xfs > /dev/null ||
	hard_error "needs btrfs-progs and xfsprogs (scripts/install-deps)"

DB=$TEST_TMP/cachewatch.db
mounts=()
loopfs() { # loopfs NAME MKFS...: a mounted loop filesystem at $TEST_TMP/NAME
	local img=$TEST_TMP/$1.img dir=$TEST_TMP/$1
	shift
	truncate -s 320M "$img"
	"$@" "$img" > /dev/null 2>&1 || hard_error "$* failed"
	mkdir -p "$dir"
	mount -o loop "$img" "$dir" || hard_error "cannot mount $img"
	mounts+=("$dir")
}
unmount_all() {
	local m
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
}
trap 'unmount_all; cleanup' EXIT

loopfs xfs mkfs.xfs -f
loopfs btrfs mkfs.btrfs -f
for f in xfs/data.bin btrfs/data.bin btrfs/lib.so; do
	head -c $((4 << 20)) /dev/urandom > "$TEST_TMP/$f"
done
sync
start_daemon "$DB" --interval 1
cat "$TEST_TMP/xfs/data.bin" "$TEST_TMP/btrfs/data.bin" > /dev/null
"$HELPERS/exectouch" "$TEST_TMP/btrfs/lib.so" 4 > /dev/null &
toucher=$!
sleep 2.5   # the exec-mapping iterator sees the mapping
wait "$toucher" # mapped pages cannot be dropped: the process must be gone
"$HELPERS/fadv" "$TEST_TMP/xfs/data.bin" "$TEST_TMP/btrfs/data.bin" "$TEST_TMP/btrfs/lib.so"
sleep 2
stop_daemon

# The page cache's device is the superblock's (what mountinfo and
# /proc/PID/maps show); on btrfs, stat's st_dev is a per-subvolume one.
sbdev() { findmnt -no MAJ:MIN -T "$1" | awk -F: '{ print $1 * 256 + $2 }'; }
file_col() { # file_col PATH COLUMN: a column of the files row of that file
	sql "$DB" "SELECT $2 FROM files WHERE dev = $(sbdev "$1") AND ino = $(stat -c %i "$1")"
}
check "xfs: named by handle" eq "$(file_col "$TEST_TMP/xfs/data.bin" "path || ',' || path_source")" \
	"$TEST_TMP/xfs/data.bin,handle"
check "btrfs, mapped by a process: named from its maps" \
	eq "$(file_col "$TEST_TMP/btrfs/lib.so" "path || ',' || path_source")" "$TEST_TMP/btrfs/lib.so,maps"
check "btrfs, not mapped: no path" eq "$(file_col "$TEST_TMP/btrfs/data.bin" "COALESCE(path, 'NULL')")" NULL
check "btrfs, not mapped: the row says why" \
	eq "$(file_col "$TEST_TMP/btrfs/data.bin" path_note)" \
	"btrfs takes no inode handles and no process maps the file"
check "the btrfs evictions were recorded" \
	gt "$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE dev = $(sbdev "$TEST_TMP/btrfs/data.bin") AND cause = 'invalidate'")" 1000
pass_or_fail
