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
pass_or_fail
