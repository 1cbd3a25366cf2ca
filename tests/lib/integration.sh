# SPDX-License-Identifier: GPL-2.0-or-later
# Shared code of the integration tests: real BPF, real memory cgroups, a
# real database.  Every test starts failed and passes only when all of its
# checks ran and held (pass_or_fail at the end).  Sourced, not executed.
#
# Environment (set by make check): CACHEWATCHD, builddir, srcdir.

set -u
CACHEWATCHD=${CACHEWATCHD:-$builddir/cachewatchd}
HELPERS=${HELPERS:-$builddir/tests/helpers}
TEST_NAME=$(basename "$0" .sh)
WORK=${CW_TEST_WORK:-/var/tmp/cachewatch-tests}
CG_PREFIX=cwt_${TEST_NAME//-/_}_$$
checks=0
failures=0
daemon_pid=
cgroups_made=()
bg_pids=()

say() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

skip() { say "SKIP: $*"; exit 77; }
hard_error() { say "ERROR: $*"; exit 99; }

# check DESCRIPTION COMMAND...: one assertion.
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

# Numeric comparisons usable with check.
eq() { [ "$1" = "$2" ] || { say "  got '$1', expected '$2'"; return 1; }; }
gt() { [ "${1:-0}" -gt "$2" ] 2>/dev/null || { say "  got '${1:-}', expected > $2"; return 1; }; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null || { say "  got '${1:-}', expected >= $2"; return 1; }; }
# within A B PERCENT: |A - B| <= PERCENT% of B
within() {
	awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d * 100 <= p * b) }' ||
		{ say "  $1 is not within $3% of $2"; return 1; }
}

pass_or_fail() {
	if [ "$checks" -eq 0 ]; then
		say "FAIL: no check ran"
		exit 1
	fi
	say "$checks checks, $failures failed"
	[ "$failures" -eq 0 ] || exit 1
	exit 0
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -r /sys/kernel/btf/vmlinux ] || hard_error "no /sys/kernel/btf/vmlinux"
	[ -x "$CACHEWATCHD" ] || hard_error "no daemon at $CACHEWATCHD"
}

# ---------------------------------------------------------------- cgroups
# Memory cgroup v1 (limit_in_bytes) or v2 (memory.max) hierarchy.
if [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	CG_ROOT=/sys/fs/cgroup/memory
	CG_LIMIT_FILE=memory.limit_in_bytes
	CG_REFAULT_KEY=total_workingset_refault_file
else
	CG_ROOT=/sys/fs/cgroup
	CG_LIMIT_FILE=memory.max
	CG_REFAULT_KEY=workingset_refault_file
fi

# cg_make REL...: create cgroups (relative to CG_ROOT), removed at exit.
cg_make() {
	local c
	for c in "$@"; do
		mkdir "$CG_ROOT/$c" || hard_error "cannot create cgroup $c"
		cgroups_made+=("$c")
		if [ "$CG_ROOT" = /sys/fs/cgroup ]; then
			echo +memory > "$CG_ROOT/$(dirname "$c")/cgroup.subtree_control" 2>/dev/null || true
		fi
	done
}

cg_limit() { echo "$2" > "$CG_ROOT/$1/$CG_LIMIT_FILE"; }
cg_id() { stat -c %i "$CG_ROOT/$1"; }
cg_stat() { awk -v k="$2" '$1 == k { print $2 }' "$CG_ROOT/$1/memory.stat"; }

# cg_run REL CMD...: run CMD in the cgroup, in the background; pid in $!.
cg_run() {
	local c=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG_ROOT/$c" "$@" &
	bg_pids+=($!)
}

cleanup() {
	local p c i t
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	wait "${bg_pids[@]}" 2>/dev/null
	[ -z "$daemon_pid" ] || { kill -TERM "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; }
	for ((i = ${#cgroups_made[@]} - 1; i >= 0; i--)); do
		c=${cgroups_made[$i]}
		[ -d "$CG_ROOT/$c" ] || continue
		for t in $(cat "$CG_ROOT/$c/cgroup.procs" 2>/dev/null); do
			echo "$t" > "$CG_ROOT/cgroup.procs" 2>/dev/null
		done
		rmdir "$CG_ROOT/$c" 2>/dev/null || say "warning: could not remove cgroup $c"
	done
	[ -z "${TEST_TMP:-}" ] || [ -n "${CW_KEEP_TMP:-}" ] || rm -rf "$TEST_TMP"
}
trap cleanup EXIT

TEST_TMP=$(mktemp -d /var/tmp/cw-"$TEST_NAME".XXXXXX)

# ---------------------------------------------------------------- daemon
# start_daemon DB [ARGS...]: start cachewatchd and wait until it has
# attached and opened the database (its run row exists).
start_daemon() {
	local db=$1 i
	shift
	"$CACHEWATCHD" --db "$db" "$@" 2> "$TEST_TMP/daemon.log" &
	daemon_pid=$!
	for i in $(seq 1 100); do
		if [ -s "$db" ] && [ "$(sql "$db" 'SELECT count(*) FROM runs WHERE stopped IS NULL' 2>/dev/null)" = 1 ]; then
			return 0
		fi
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TEST_TMP/daemon.log" >&2
	hard_error "cachewatchd did not start"
}

# stop_daemon: SIGTERM, and the exit status must be 0.
stop_daemon() {
	local rc=0
	kill -TERM "$daemon_pid"
	wait "$daemon_pid" || rc=$?
	daemon_pid=
	check "cachewatchd exits 0 on SIGTERM" eq "$rc" 0
	[ "$rc" = 0 ] || cat "$TEST_TMP/daemon.log" >&2
}

# sql DB QUERY: read-only query, '|'-separated rows.
sql() { sqlite3 -readonly -batch -noheader "$1" ".timeout 5000" "$2"; }

# ---------------------------------------------------------------- files
# exec_file: a 48 MiB file of random bytes (mapped PROT_EXEC by exectouch),
# its page cache dropped so the next reader is charged for it.
exec_file() {
	local f=$WORK/exec.bin
	mkdir -p "$WORK"
	[ "$(stat -c %s "$f" 2>/dev/null)" = $((48 << 20)) ] ||
		head -c $((48 << 20)) /dev/urandom > "$f"
	"$HELPERS/fadv" "$f"
	echo "$f"
}
