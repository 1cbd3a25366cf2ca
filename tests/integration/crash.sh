#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash safety: cachewatchd is killed with SIGKILL 50 times while it records
# (--interval 1, page-cache activity in a test memcg so every interval has
# rows), and restarted on the same database each time.  SQLite's promise
# (WAL, synchronous=NORMAL: an application crash never corrupts the file
# and never loses a committed transaction) must hold for our use of it, and
# a crash may lose at most the interval in flight.
#
# At least half of the kills land *inside a flush*, deterministically: a
# database write does not sleep, so /proc/PID/syscall (like wchan and
# /proc/PID/stack) only ever shows the daemon in poll(2) (measured here: no
# write seen in 550 000 polls over 15 s).  So strace attaches for that kill
# and holds the daemon at the entry (or, every other time, at the exit) of
# its Nth pwrite64 on the database or its WAL (N random in 1..60, about one
# interval's commit is 40-60 writes: any frame of a commit, its commit
# frame, or the next commit) and of every fdatasync/fsync (checkpoints);
# /proc/PID/syscall is polled until it shows the daemon in pwrite64,
# fdatasync or fsync on an fd that /proc/PID/fd resolves to the .db or
# -wal file, and SIGKILL follows at once.  Killed at syscall entry, the
# frames before it are in the WAL and this one is not (a torn transaction
# SQLite must roll back); at exit it is written but SQLite never learnt so.
# The other kills land at random moments (0.2-3 s after start-up).
#
# After every kill: PRAGMA integrity_check is ok, the intervals every
# earlier run committed are all still there, and a restart appends a new
# run.  At the end: 51 runs, the 50 killed ones with stopped NULL, the last
# one stopped; for each killed run its newest interval is no older than
# the kill time minus 2 intervals (ts is whole seconds:
# ts >= floor(kill) - 2), or, if it wrote none, it started no earlier than
# that.  CW_SEED=N replays a sequence of kill points.
. "$srcdir/tests/lib/integration.sh"
require_root
command -v strace > /dev/null || skip "strace not installed (needed to stop the daemon inside a write)"

DB=$TEST_TMP/cachewatch.db
C=$CG_PREFIX
KILLS=${CW_KILLS:-50}
SEED=${CW_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
say "seed $SEED (CW_SEED=$SEED replays the kill points)"

cg_make "$C"
# Page-cache activity: 8 files of 512 KiB read, dropped (fadvise: evictions
# of cause invalidate) and read again in the memcg, all the time.
for i in 1 2 3 4 5 6 7 8; do head -c $((512 << 10)) /dev/urandom > "$TEST_TMP/f$i"; done
cg_run "$C" sh -c "while :; do '$HELPERS/fadv' '$TEST_TMP'/f?; cat '$TEST_TMP'/f? > /dev/null; sleep 0.2; done"

exec {nap}<> <(:) # read -t on a pipe nobody writes: a sleep without a fork

# start_run N: start the daemon and wait until it has added run N.
start_run() {
	local n=$1 i
	echo "=== run $n" >> "$TEST_TMP/daemon.log"
	"$CACHEWATCHD" --db "$DB" --interval 1 2>> "$TEST_TMP/daemon.log" &
	daemon_pid=$!
	for i in $(seq 1 300); do
		[ "$(sql "$DB" 'SELECT COUNT(*) FROM runs' 2>/dev/null)" = "$n" ] && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$TEST_TMP/daemon.log" >&2
	hard_error "cachewatchd did not start run $n"
}

# in_flush SYSCALLS: poll until the daemon is in one of SYSCALLS (x86-64
# numbers: 18 pwrite64, 74 fsync, 75 fdatasync) on the database or its WAL
# (strace holds it there); 0 found, 1 timed out.
in_flush() {
	local want=" $1 " deadline=$((SECONDS + 10)) nr fd rest target
	while [ $SECONDS -lt $deadline ]; do
		read -r nr fd rest < "/proc/$daemon_pid/syscall" || return 1
		if [[ $want == *" $nr "* ]]; then
			target=$(readlink "/proc/$daemon_pid/fd/$((fd))")
			if [ "$target" = "$DB" ] || [ "$target" = "$DB-wal" ]; then
				HIT="$nr on ${target##*/}"
				return 0
			fi
		fi
		read -t 0.005 -u "$nap"
	done
	return 1
}

# ms T0 T1: milliseconds between two $EPOCHREALTIME values.
ms() { echo $(((${2/./} - ${1/./}) / 1000)); }

# kill_now K: SIGKILL the daemon and note the wall-clock time.
kill_now() {
	kill -KILL "$daemon_pid"
	kill_at[$1]=$EPOCHREALTIME
}

[ "$(uname -m)" = x86_64 ] || skip "the syscall numbers polled for are x86-64's"
declare -a kill_at committed stopped_expected
flush_kills=0 integrity_ok=0 kept=0
t_start=$SECONDS
for ((k = 1; k <= KILLS; k++)); do
	t0=$EPOCHREALTIME
	start_run "$k"
	t1=$EPOCHREALTIME
	kind=random
	stopped_expected[$k]=0
	case $((k % 10)) in
	0 | 1 | 2 | 5 | 6 | 7) # in a write of an interval's commit
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
		when=$((RANDOM % 60 + 1))
		stop=delay_enter
		[ $((k % 2)) = 0 ] && stop=delay_exit
		strace -qq -p "$daemon_pid" -P "$DB" -P "$DB-wal" -e trace=pwrite64,fdatasync,fsync \
			-e inject=pwrite64:$stop=5000000:when=$when \
			-e inject=fdatasync,fsync:$stop=5000000 -o /dev/null 2>> "$TEST_TMP/strace.log" &
		tracer=$!
		if in_flush "18 74 75"; then
			kill_now "$k"
			kind="in $HIT (write $when, $stop)"
			flush_kills=$((flush_kills + 1))
		else
			kill_now "$k"
			kind="random (no write seen)"
		fi
		kill -KILL "$tracer" 2>/dev/null # it would sit out its delay first
		wait "$tracer" 2>/dev/null
		;;
	4) # in the checkpoint of a clean stop: after its run is marked stopped,
	   # closing the database copies the WAL back into the file: fdatasync
	   # of the WAL (when=1), then pwrite64s into the .db, fdatasync of the
	   # .db (when=2).  The stop was committed, so it must survive.
		sleep 1.$((RANDOM % 10))
		when=$((k % 20 == 4 ? 1 : 2))
		strace -qq -p "$daemon_pid" -P "$DB" -P "$DB-wal" -e trace=fdatasync,fsync \
			-e inject=fdatasync,fsync:delay_enter=5000000:when=$when \
			-o /dev/null 2>> "$TEST_TMP/strace.log" &
		tracer=$!
		sleep 0.3 # attached (a stop before would only be a clean one)
		kill -TERM "$daemon_pid"
		if in_flush "74 75"; then
			kill_now "$k"
			kind="in the closing checkpoint: $HIT (sync $when)"
			flush_kills=$((flush_kills + 1))
			stopped_expected[$k]=1
		else
			kill_now "$k"
			kind="after SIGTERM, no checkpoint sync seen"
			stopped_expected[$k]=-1 # either
		fi
		kill -KILL "$tracer" 2>/dev/null
		wait "$tracer" 2>/dev/null
		;;
	*) # at a random moment
		sleep "$((RANDOM % 3)).$((RANDOM % 10))"
		sleep 0.2
		kill_now "$k"
		;;
	esac
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	t2=$EPOCHREALTIME
	# Read-write, like the restart that follows: opening it replays (recovers)
	# the WAL the dead writer left, then every page and index is checked.
	ic=$(sqlite3 -batch "$DB" ".timeout 5000" 'PRAGMA integrity_check' 2>&1)
	[ "$ic" = ok ] && integrity_ok=$((integrity_ok + 1)) || say "kill $k: integrity_check: $ic"
	# Nothing an earlier run committed went missing.
	committed[$k]=$(sql "$DB" "SELECT COUNT(*) FROM intervals WHERE run = $k")
	now=$(sql "$DB" "SELECT GROUP_CONCAT(n, ' ') FROM (SELECT COUNT(i.seq) AS n FROM runs r
		LEFT JOIN intervals i ON i.run = r.id WHERE r.id <= $k GROUP BY r.id ORDER BY r.id)")
	if [ "$now" = "${committed[*]}" ]; then
		kept=$((kept + 1))
	else
		say "kill $k: intervals per run were ${committed[*]}, now $now"
	fi
	say "kill $k: $kind; run $k committed ${committed[$k]} intervals" \
		"(start $(ms "$t0" "$t1") ms, kill after $(ms "$t1" "$t2") ms, checks $(ms "$t2" "$EPOCHREALTIME") ms)"
done
start_run $((KILLS + 1))
sleep 2.5
stop_daemon
say "$KILLS kills in $((SECONDS - t_start)) s"

check "at least half of the kills landed inside a database write or sync" ge "$flush_kills" $(((KILLS + 1) / 2))
check "integrity_check is ok after every kill" eq "$integrity_ok" "$KILLS"
check "no kill lost an interval an earlier run had committed" eq "$kept" "$KILLS"
check "integrity_check is ok at the end" eq "$(sqlite3 -batch "$DB" 'PRAGMA integrity_check')" ok
check "every start appended a run: $((KILLS + 1)) runs in v_runs" \
	eq "$(sql "$DB" 'SELECT COUNT(*) FROM v_runs')" $((KILLS + 1))
stops_ok=0
for ((k = 1; k <= KILLS; k++)); do
	s=$(sql "$DB" "SELECT stopped IS NOT NULL FROM runs WHERE id = $k")
	if [ "${stopped_expected[$k]}" = -1 ] || [ "$s" = "${stopped_expected[$k]}" ]; then
		stops_ok=$((stops_ok + 1))
	else
		say "run $k: stopped is $s, expected ${stopped_expected[$k]}"
	fi
done
check "the killed runs have stopped NULL (but a stop committed before a kill in the checkpoint stays)" \
	eq "$stops_ok" "$KILLS"
check "the last run is marked stopped" \
	eq "$(sql "$DB" "SELECT stopped IS NOT NULL FROM v_runs WHERE run = $((KILLS + 1))")" 1
recent=0
for ((k = 1; k <= KILLS; k++)); do
	IFS='|' read -r newest flush maxts <<< "$(sql "$DB" "SELECT
		COALESCE((SELECT MAX(ts) FROM intervals WHERE run = $k), started), COALESCE(last_flush, -1),
		(SELECT MAX(ts) FROM intervals WHERE run = $k) FROM runs WHERE id = $k")"
	if [ "$newest" -ge $((${kill_at[$k]%.*} - 2)) ] && [ "$flush" = "${maxts:--1}" ]; then
		recent=$((recent + 1))
	else
		say "run $k: newest interval (or start) $newest, last_flush $flush, max ts $maxts; killed at ${kill_at[$k]}"
	fi
done
check "every killed run lost at most the interval in flight (newest ts >= floor(kill) - 2; last_flush = its max ts)" \
	eq "$recent" "$KILLS"
check "most killed runs had written intervals (the kills were during recording)" \
	ge "$(sql "$DB" "SELECT COUNT(*) FROM v_runs WHERE run <= $KILLS AND intervals > 0")" $((KILLS / 2))
check "the test memcg's page-cache additions were recorded" \
	gt "$(sql "$DB" "SELECT COALESCE(SUM(a.pages), 0) FROM additions a JOIN cgroups c ON c.id = a.cgroup
		WHERE c.path = '/$C'")" 1024
pass_or_fail
