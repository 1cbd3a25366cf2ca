#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cachewatch top without root: a database built from tests/fixtures/top/*.sql
# (a Kubernetes pod, systemd units, an unnamed cgroup and file, lost events,
# rows outside the window, and a cgroup and a file whose names hold a
# terminal escape sequence, a newline and HTML characters) printed as a
# snapshot and compared with tests/fixtures/top/expected-*.txt exactly;
# then every sort key, filters, windows, bad option values (exit 2) and a
# missing database (exit 1).  Automake test protocol: 0 pass, 1 fail,
# 77 skip, 99 hard error.
set -u
CACHEWATCH=${CACHEWATCH:-$builddir/cachewatch}
MKDB=$builddir/tests/helpers/mkdb
FIXTURES=$srcdir/tests/fixtures/top
checks=0
failures=0

say() { printf 'top-once: %s\n' "$*" >&2; }
[ -x "$CACHEWATCH" ] || { say "ERROR: no cachewatch at $CACHEWATCH"; exit 99; }
[ -x "$MKDB" ] || { say "ERROR: no mkdb at $MKDB (make tests/helpers/mkdb)"; exit 99; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cw-top-once.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
# A relative --db keeps the header line the same wherever the test runs.
cd "$TMP" || exit 99
"$MKDB" top.db "$FIXTURES"/*.sql || { say "ERROR: mkdb failed"; exit 99; }

check() {
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		say "ok: $what"
	else
		failures=$((failures + 1))
		say "FAIL: $what"
	fi
}
eq() { [ "$1" = "$2" ] || { say "  got '$1', expected '$2'"; return 1; }; }
same_file() { diff -u "$2" "$1" >&2; }

top() { "$CACHEWATCH" top --db top.db "$@"; }

# The cgroup column of the snapshot's cgroup table, one name per line
# (files left out, names uncut), joined with '|'.  The names start where
# the heading says CGROUP; before it, the heading is ASCII.
cgroup_order() {
	local table skip
	table=$(top --once --files 0 --width 0 "$@" |
		awk '/^ EVICTED / { on = 1 } on && /^$/ { exit } on')
	skip=$(head -1 <<< "$table" | awk '{ print index($0, "CGROUP") - 1 }')
	tail -n +2 <<< "$table" | LC_ALL=C.UTF-8 sed "s/^.\{$skip\}//" | paste -sd '|'
}

# ---------------------------------------------------------------- snapshots
top --once > once.txt 2> once.err; rc=$?
check "--once exits 0 and writes nothing on stderr" eq "$rc:$(wc -c < once.err)" 0:0
check "--once prints the expected snapshot (80 columns)" same_file once.txt "$FIXTURES/expected-once.txt"
check "no line is wider than 80 columns" eq "$(LC_ALL=C.UTF-8 grep -c '^.\{81\}' once.txt)" 0
check "no raw ESC, BEL or other control byte in the output" eq \
	"$(tr -d '\n' < once.txt | LC_ALL=C tr -dc '\000-\037\177' | wc -c)" 0
top --once --filter weird --width 0 > weird.txt
check "uncut, the cgroup (table, pressure) and file names show control bytes as \\xNN" eq \
	"$(grep -c -e '  /weird\\x1b\[2J\\x0a<b>x&amp;y</b>\\\\$' \
		-e '  /opt/x\\x1b\]0;owned\\x07\\x0a<script>&amp;\.so$' weird.txt)" 3
check "uncut, no raw control byte either" eq \
	"$(tr -d '\n' < weird.txt | LC_ALL=C tr -dc '\000-\037\177' | wc -c)" 0

top > piped.txt 2>&1; rc=$?
check "without --once, a pipe gets the same snapshot" eq "$rc:$(cmp -s piped.txt once.txt && echo same)" 0:same

top --once --filter payments --sort exec --width 0 > filter.txt 2>&1; rc=$?
check "--filter payments --sort exec --width 0 exits 0" eq "$rc" 0
check "--filter payments --sort exec --width 0 prints the expected snapshot" same_file filter.txt \
	"$FIXTURES/expected-filter-payments.txt"

# ---------------------------------------------------------------- sorting
APP=payments/payments-api-7d9f/app
SHIPPER=payments/payments-api-7d9f/log-shipper
NGINX=/system.slice/nginx.service
WEIRD='/weird\x1b[2J\x0a<b>x&amp;y</b>\\'
UNNAMED='(cgroup 999)'
check "default sort: evicted" eq "$(cgroup_order)" "$APP|$WEIRD|$NGINX|$SHIPPER|$UNNAMED"
check "--sort evicted" eq "$(cgroup_order --sort evicted)" "$APP|$WEIRD|$NGINX|$SHIPPER|$UNNAMED"
check "--sort exec" eq "$(cgroup_order --sort exec)" "$APP|$WEIRD|$NGINX|$SHIPPER|$UNNAMED"
check "--sort refaulted" eq "$(cgroup_order --sort refaulted)" "$APP|$WEIRD|$NGINX|$SHIPPER|$UNNAMED"
check "--sort time: shortest median refault time first, none last" eq \
	"$(cgroup_order --sort time)" "$WEIRD|$APP|$NGINX|$SHIPPER|$UNNAMED"
check "--sort cgroup: by name" eq "$(cgroup_order --sort cgroup)" "$UNNAMED|$NGINX|$WEIRD|$APP|$SHIPPER"
check "--sort refault-time is --sort time" eq "$(cgroup_order --sort refault-time)" \
	"$(cgroup_order --sort time)"
check "--limit 2 shows two cgroups" eq "$(cgroup_order --limit 2)" "$APP|$WEIRD"

# ---------------------------------------------------------------- filtering
check "--filter matches a container name" eq "$(cgroup_order --filter log-ship)" "$SHIPPER"
check "--filter matches namespace/pod/container" eq "$(cgroup_order --filter "$APP")" "$APP"
check "--filter matches a path" eq "$(cgroup_order --filter nginx)" "$NGINX"
check "--filter matches a pod's cgroup path (its uid)" eq "$(cgroup_order --filter pod8a3b1c2d)" \
	"$APP|$SHIPPER"
check "--filter takes % and _ literally" eq \
	"$(top --once --filter 'pay%' | grep -c '^0 cgroups matching')$(top --once --filter 'payments_' | grep -c '^0 cgroups matching')" 11
top --once --filter nomatch > nomatch.txt; rc=$?
check "a filter that matches nothing says so and exits 0" eq \
	"$rc:$(grep -c -e '^0 cgroups matching "nomatch"' -e '^no cgroup matching the filter' nomatch.txt)" 0:2
check "--filter nginx leaves out reclaim roots that did not evict nginx" eq \
	"$(top --once --filter nginx | grep -c -e '^reclaimed' -e '^no cgroup limit reclaimed in the window$')" 1

# ---------------------------------------------------------------- windows
check "--window 2m reaches the pages old.service lost 80 s before the end" eq \
	"$(cgroup_order --window 2m | tr '|' '\n' | grep -c old.service)" 1
check "--window 2m counts the events lost at ts 120" eq \
	"$(top --once --window 2m | grep -c '^LOST 10 events in the window, 10 in run 2')" 1
check "--window 10 holds the newest interval only" eq "$(cgroup_order --window 10)" "$WEIRD|$NGINX"
check "the default window leaves the rows at ts 140 out" eq \
	"$(grep -c -e '^ 260 MiB .*  payments/payments-api-7d9f/app$' -e '^window 1 min .*(6 intervals)$' once.txt)" 2

# ---------------------------------------------------------------- bad usage
bad() {
	local what=$1 want=$2 out rc
	shift 2
	out=$("$CACHEWATCH" top --db top.db "$@" 2>&1 > /dev/null); rc=$?
	check "$what: exit 2, message names it" eq "$rc:$(grep -c -- "$want" <<< "$out")" 2:1
}
bad "--sort bogus" "--sort: unknown key 'bogus'" --once --sort bogus
bad "--limit 0" "--limit: '0' is not a number" --once --limit 0
bad "--limit abc" "--limit: 'abc' is not a number" --once --limit abc
bad "--window 0" "--window: '0' is not a span" --once --window 0
bad "--window 5x" "--window: '5x' is not a span" --once --window 5x
bad "--window 400d" "--window: '400d' is not a span" --once --window 400d
bad "--interval 0" "--interval: '0' is not a number of seconds" --once --interval 0
bad "--interval 1.5" "--interval: '1.5' is not a number of seconds" --once --interval=1.5
bad "--files -1" "--files: '-1' is not a number" --once --files -1
bad "--width 10" "--width: '10' is not 0 or a number of columns" --once --width 10
bad "an unknown option" "unknown option '--bogus'" --once --bogus
bad "an argument" "unexpected argument 'extra'" --once extra
bad "--limit without a value" "--limit needs a value" --once --limit
out=$("$CACHEWATCH" top --once --db 2>&1 > /dev/null); rc=$?
check "--db without a value: exit 2" eq "$rc:$(grep -c -- '--db needs a value' <<< "$out")" 2:1

"$CACHEWATCH" top --once --db nope.db > nope.out 2> nope.err; rc=$?
check "a missing database: exit 1, named, not created" eq \
	"$rc:$(grep -c 'nope.db does not exist' nope.err):$(wc -c < nope.out):$(ls nope.db* 2> /dev/null | wc -l)" 1:1:0:0
"$CACHEWATCH" top --help > help.txt; rc=$?
check "--help exits 0 with usage" eq "$rc:$(grep -c -e '^Usage: cachewatch top' -e '--window SPAN' help.txt)" 0:2

say "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
