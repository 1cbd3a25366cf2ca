#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input never damages anything: every refusal exits non-zero with one
# line naming the problem, creates no database, and leaves an existing file
# byte for byte as it was (no -wal/-shm appear next to it either).
. "$srcdir/tests/lib/integration.sh"
require_root

# refuse STATUS PATTERN ARGS...: run the daemon, expect exit STATUS and one
# stderr line matching PATTERN.
refuse() {
	local want=$1 pattern=$2 rc=0 out
	shift 2
	out=$(timeout 20 "$@" 2>&1 >/dev/null) || rc=$?
	check "$* -> exit $want" eq "$rc" "$want"
	check "$* -> one line" eq "$(printf '%s\n' "$out" | wc -l)" 1
	check "$* -> message names the problem" grep -q -- "$pattern" <<< "$out"
	say "  message: $out"
}

D=$TEST_TMP
db=$D/new.db

refuse 2 'unknown option "--frobnicate"' "$CACHEWATCHD" --db "$db" --frobnicate
refuse 2 '--interval' "$CACHEWATCHD" --db "$db" --interval 0
refuse 2 '--interval' "$CACHEWATCHD" --db "$db" --interval abc
refuse 2 '--shadow-entries' "$CACHEWATCHD" --db "$db" --shadow-entries 99999999999
refuse 2 'needs a value' "$CACHEWATCHD" --db
refuse 2 '--reclaim-context' "$CACHEWATCHD" --db "$db" --reclaim-context sometimes
refuse 1 'BTF' "$CACHEWATCHD" --db "$db" --btf /nonexistent/vmlinux
refuse 1 'does not exist' "$CACHEWATCHD" --db "$D/no/such/dir/x.db"
printf 'interval = 5\nfrobnicate = 1\n' > "$D/bad.conf"
refuse 2 'bad.conf:2' "$CACHEWATCHD" --db "$db" --config "$D/bad.conf"
refuse 2 'cannot read config file' "$CACHEWATCHD" --db "$db" --config "$D/missing.conf"

# Every numeric option just outside its range, on the command line and in
# a config file (the ranges are cachewatchd --help's).
out_of_range=(
	interval:0 interval:3601 duration:-1 duration:4294967296
	shadow-entries:1023 shadow-entries:16777217 refault-sample:0 refault-sample:257
	evict-entries:15 evict-entries:4194305 add-entries:15 add-entries:4194305
	refault-entries:15 refault-entries:4194305 exec-entries:15 exec-entries:4194305
	max-cgroups:63 max-cgroups:4194305 max-files:255 max-files:16777217
	file-detail-pages:1073741825 raw-minutes:0 raw-minutes:10081
	rollup-minutes:0 rollup-minutes:1441 keep-days:3651
)
for nv in "${out_of_range[@]}"; do
	refuse 2 "--${nv%%:*}" "$CACHEWATCHD" --db "$db" "--${nv%%:*}" "${nv#*:}"
done
printf 'keep-days = 3651\n' > "$D/range.conf"
refuse 2 'range.conf:1' "$CACHEWATCHD" --db "$db" --config "$D/range.conf"
refuse 2 'not a power of two' "$CACHEWATCHD" --db "$db" --refault-sample 3
for m in 0 65536 1.2.3:80 '[::1' 'host.example:80' ''; do
	refuse 2 '--metrics' "$CACHEWATCHD" --db "$db" --metrics "$m"
done

# BTF that is not BTF, or cut short.
refuse 1 'cannot read kernel BTF /etc/passwd' "$CACHEWATCHD" --db "$db" --btf /etc/passwd
head -c 100 /sys/kernel/btf/vmlinux > "$D/short.btf"
refuse 1 'cannot read kernel BTF' "$CACHEWATCHD" --db "$db" --btf "$D/short.btf"
chmod 000 "$D/short.btf"
refuse 1 'BTF' setpriv --inh-caps=-dac_override,-dac_read_search --bounding-set=-dac_override,-dac_read_search \
	"$CACHEWATCHD" --db "$db" --btf "$D/short.btf"

# No memory cgroup hierarchy mounted (a private mount namespace without it).
if [ "$CG_ROOT" = /sys/fs/cgroup/memory ]; then
	refuse 1 'memory cgroup controller is not mounted' \
		unshare -m sh -c 'umount -l /sys/fs/cgroup/memory && exec "$0" --db "$1"' "$CACHEWATCHD" "$db"
fi

# A read-only filesystem.
mkdir "$D/ro"
if mount -t tmpfs -o ro,size=1m cw-ro "$D/ro"; then
	refuse 1 'not writable' "$CACHEWATCHD" --db "$D/ro/x.db"
	umount "$D/ro"
fi

# Not root: setpriv to nobody drops every capability.
refuse 1 'CAP_BPF' setpriv --reuid=nobody --regid=nogroup --clear-groups "$CACHEWATCHD" --db "$db"
check "no database was created by any refusal" test ! -e "$db"

# Files that are not ours are left exactly as they were.
unchanged() { # unchanged FILE SUM
	[ "$(sha256sum < "$1")" = "$2" ] && [ ! -e "$1-wal" ] && [ ! -e "$1-shm" ]
}
printf 'hello, not a database\n' > "$D/text.db"
sum=$(sha256sum < "$D/text.db")
refuse 1 'not an SQLite database' "$CACHEWATCHD" --db "$D/text.db"
check "text file unchanged" unchanged "$D/text.db" "$sum"

sqlite3 "$D/foreign.db" 'CREATE TABLE t (x); INSERT INTO t VALUES (42);'
sum=$(sha256sum < "$D/foreign.db")
refuse 1 'another program' "$CACHEWATCHD" --db "$D/foreign.db"
check "foreign SQLite database unchanged" unchanged "$D/foreign.db" "$sum"

timeout 20 "$CACHEWATCHD" --db "$D/future.db" --interval 1 --duration 1 2> /dev/null
sqlite3 "$D/future.db" 'PRAGMA user_version = 9999'
sum=$(sha256sum < "$D/future.db")
refuse 1 'newer cachewatch' "$CACHEWATCHD" --db "$D/future.db"
check "database from the future unchanged" unchanged "$D/future.db" "$sum"

# A cachewatch database whose pages were damaged: refused, not touched.
timeout 20 "$CACHEWATCHD" --db "$D/corrupt.db" --interval 1 --duration 2 2> /dev/null
size=$(stat -c %s "$D/corrupt.db")
check "a recording to damage exists" gt "$size" 16384
dd if=/dev/urandom of="$D/corrupt.db" bs=4096 seek=2 count=$(((size / 4096) - 2)) conv=notrunc 2> /dev/null
sum=$(sha256sum < "$D/corrupt.db")
refuse 1 'corrupt' "$CACHEWATCHD" --db "$D/corrupt.db"
check "damaged database unchanged" unchanged "$D/corrupt.db" "$sum"
pass_or_fail
