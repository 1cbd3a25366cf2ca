#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A container's view of a file: a process in a private mount namespace maps
# a library through an overlay mount (as a container runtime would) and the
# library's pages are evicted by its memcg limit.  The page cache belongs to
# the lower layer's inode on the host filesystem; cachewatch must show the
# host path of that inode and, beside it, the path the process sees.
. "$srcdir/tests/lib/integration.sh"
require_root
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
	hard_error "no overlayfs on this kernel"

DB=$TEST_TMP/cachewatch.db
L=$TEST_TMP/layer
mkdir -p "$L/lower/usr/lib" "$L/upper" "$L/work" "$L/merged"
LIB=$L/lower/usr/lib/libcwtest.so.1
head -c $((16 << 20)) /dev/urandom > "$LIB"
"$HELPERS/fadv" "$LIB"
C=$CG_PREFIX
cg_make "$C"
start_daemon "$DB" --interval 1

# The overlay exists only in the process's own mount namespace.
cg_run "$C" unshare --mount --propagation private sh -c '
	mount -t overlay cwtest -o lowerdir="$1/lower",upperdir="$1/upper",workdir="$1/work" "$1/merged" &&
	exec "$2" "$1/merged/usr/lib/libcwtest.so.1" 8' sh "$L" "$HELPERS/exectouch" > /dev/null
toucher=$!
sleep 3   # the exec-mapping iterator runs every interval
echo $((1 << 20)) > "$CG_ROOT/$C/$CG_LIMIT_FILE"
echo -1 > "$CG_ROOT/$C/$CG_LIMIT_FILE" 2>/dev/null || echo max > "$CG_ROOT/$C/$CG_LIMIT_FILE"
wait "$toucher"
sleep 1.5
stop_daemon

ino=$(stat -c %i "$LIB")
dev=$(stat -c %d "$LIB")
check "the mount was private: the host sees no overlay" test ! -e "$L/merged/usr/lib/libcwtest.so.1"
check "the library's exec pages were evicted, charged to /$C" \
	gt "$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE dev = $dev AND ino = $ino AND exec = 1 AND victim = '/$C'")" 1000
check "file is the host path of the lower layer's inode" \
	eq "$(sql "$DB" "SELECT DISTINCT file FROM v_evictions WHERE dev = $dev AND ino = $ino")" "$LIB"
check "container_file is the path the process sees" \
	eq "$(sql "$DB" "SELECT DISTINCT container_file FROM v_evictions WHERE dev = $dev AND ino = $ino")" \
	"$L/merged/usr/lib/libcwtest.so.1"
pass_or_fail
