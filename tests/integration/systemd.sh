#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd integration: systemd-analyze accepts the unit; with NOTIFY_SOCKET
# pointing at a test listener the daemon sends READY=1 only once its run
# row exists (hooks attached, database open), STATUS= lines, WATCHDOG=1
# about every WATCHDOG_USEC/2 while intervals are written, none while a
# test holds an exclusive lock on the database (the writer is stalled),
# pings again once the lock is gone, and STOPPING=1 on SIGTERM.
. "$srcdir/tests/lib/integration.sh"
require_root
command -v systemd-analyze > /dev/null || skip "systemd-analyze not installed"

# The unit as installed, pointed at this build's daemon.
sed "s|@sbindir@/cachewatchd|$CACHEWATCHD|" "$srcdir/systemd/cachewatchd.service.in" \
	> "$TEST_TMP/cachewatchd.service"
systemd-analyze verify --man=no "$TEST_TMP/cachewatchd.service" > "$TEST_TMP/verify.log" 2>&1
rc=$?
[ "$rc" = 0 ] || cat "$TEST_TMP/verify.log" >&2
check "systemd-analyze verify accepts the unit" eq "$rc" 0
check "the unit is Type=notify with a watchdog and a state directory" eq \
	"$(grep -c -e '^Type=notify$' -e '^WatchdogSec=' -e '^StateDirectory=cachewatch$' \
		-e '^Restart=on-failure$' "$TEST_TMP/cachewatchd.service")" 4
check "the unit does not set ProtectProc=" eq "$(grep -c '^ProtectProc=' "$TEST_TMP/cachewatchd.service")" 0

NOTES=$TEST_TMP/notify.log
python3 "$srcdir/tests/helpers/notify-listen.py" "$TEST_TMP/notify.sock" "$NOTES" > "$TEST_TMP/listen.out" &
bg_pids+=($!)
for i in $(seq 50); do [ -S "$TEST_TMP/notify.sock" ] && break; sleep 0.1; done
DB=$TEST_TMP/cachewatch.db
# Watchdog of 2 s: a ping is due every second; intervals of 1 s.
NOTIFY_SOCKET=$TEST_TMP/notify.sock WATCHDOG_USEC=2000000 start_daemon "$DB" --interval 1
# READY must come after the run row (start_daemon waited for that row);
# read the listener's record of when READY arrived versus now.
sleep 4
check "READY=1 was sent" eq "$(grep -c 'READY=1' "$NOTES")" 1
check "READY=1 came before any WATCHDOG=1" eq "$(grep -m1 -o -e 'READY=1' -e 'WATCHDOG=1' "$NOTES")" READY=1
check "STATUS= says what was written" ge "$(grep -c 'STATUS=interval [0-9]*: .*pages evicted' "$NOTES")" 2

# Largest gap (ms) between consecutive WATCHDOG=1 after time $1 and before $2.
max_gap() {
	awk -v from="$1" -v to="$2" '/WATCHDOG=1/ && $1 >= from && $1 <= to {
		if (prev) { g = $1 - prev; if (g > max) max = g } prev = $1; n++ }
		END { print (n < 2 ? 999999 : max + 0) }' "$NOTES"
}
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }

t0=$(now_ms)
sleep 3
t1=$(now_ms)
check "WATCHDOG=1 about every second while recording" within "$(max_gap "$t0" "$t1")" 1000 60
pings_before=$(grep -c 'WATCHDOG=1' "$NOTES")

# Stall the writer: an exclusive lock for 9 s.
python3 - "$DB" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
con.execute("BEGIN EXCLUSIVE")
time.sleep(9)
con.execute("ROLLBACK")
PY
locker=$!
sleep 1
t2=$(now_ms)
wait "$locker"
t3=$(now_ms)
# Up to the release (t3 is taken just after it, the daemon may already have written).
stalled_pings=$(awk -v from="$((t2 + 3500))" -v to="$((t3 - 500))" '/WATCHDOG=1/ && $1 >= from && $1 <= to' "$NOTES" | wc -l)
say "pings while stalled (after the 3 s allowance): $stalled_pings; status: $(grep -o 'STATUS=cannot write[^|]*' "$NOTES" | tail -1)"
check "no WATCHDOG=1 while the database writer is stalled" eq "$stalled_pings" 0
check "STATUS= says the database cannot be written" ge "$(grep -c 'STATUS=cannot write to the database' "$NOTES")" 1
sleep 4
t4=$(now_ms)
check "WATCHDOG=1 again once the writer recovers" ge \
	"$(awk -v from="$t3" -v to="$t4" '/WATCHDOG=1/ && $1 >= from && $1 <= to' "$NOTES" | wc -l)" 2
check "the intervals held during the stall were written" eq \
	"$(sql "$DB" "SELECT count(*) >= 10 FROM intervals")" 1
stop_daemon
sleep 0.3
check "STOPPING=1 on SIGTERM" eq "$(grep -c 'STOPPING=1' "$NOTES")" 1
pass_or_fail
