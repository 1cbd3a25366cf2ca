#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Prometheus metrics during the sibling exec-thrash scenario: /metrics,
# scraped every two seconds, passes promtool's checks, and the victim's
# executable evictions by the limit rise between scrapes; self-metrics are
# there; "--metrics :PORT" binds loopback only; without --metrics nothing
# listens.  Also: the daemon's thrash warning names victim, cause and root.
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root
command -v curl > /dev/null || skip "curl not installed"
command -v promtool > /dev/null || skip "promtool not installed (Debian: prometheus)"

PORT=$((20000 + $$ % 20000))
SCRAPES=$TEST_TMP/scrapes
mkdir -p "$SCRAPES"
# Scrape in the background for as long as the daemon runs.
(
	n=0
	while sleep 2; do
		curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" > "$SCRAPES/$n.txt" || rm -f "$SCRAPES/$n.txt"
		n=$((n + 1))
	done
) &
bg_pids+=($!)

listening_check() {
	sleep 1
	LISTEN=$(ss -Hltn "sport = :$PORT" | awk '{ print $4 }' | sort -u | tr '\n' ' ')
}
# start_daemon returns once the daemon is recording; look at its socket then.
start_daemon_orig=$(declare -f start_daemon)
eval "${start_daemon_orig/start_daemon/start_daemon_plain}"
start_daemon() { start_daemon_plain "$@"; listening_check; }

run_exec_thrash sibling --metrics ":$PORT"

check "--metrics :PORT listens on 127.0.0.1 only" eq "$LISTEN" "127.0.0.1:$PORT "
series="cachewatch_evicted_bytes_total{cgroup=\"/$VICTIM\",cause=\"limit\",exec=\"true\"}"
values=()
for f in $(ls "$SCRAPES" | sort -n); do
	v=$(grep -F "$series " "$SCRAPES/$f" | awk '{ print $2 }')
	[ -n "$v" ] && values+=("$v")
done
say "victim's exec evictions by limit, scrape by scrape: ${values[*]}"
check "at least three scrapes show the victim's series" ge "${#values[@]}" 3
rising=0
for ((i = 1; i < ${#values[@]}; i++)); do
	[ "${values[$i]}" -gt "${values[$((i - 1))]}" ] && rising=$((rising + 1))
	[ "${values[$i]}" -lt "${values[$((i - 1))]}" ] && rising=-1000
done
check "the counter rises between scrapes and never falls" ge "$rising" 2
last=$(ls "$SCRAPES" | sort -n | tail -1)
promtool check metrics < "$SCRAPES/$last" > "$TEST_TMP/promtool.log" 2>&1
rc=$?
[ "$rc" = 0 ] || cat "$TEST_TMP/promtool.log" >&2
check "promtool check metrics accepts the last scrape" eq "$rc" 0
check "the final counter matches the database within 5 %" within \
	"$(( ${values[-1]} / 4096 ))" \
	"$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE victim = '/$VICTIM' AND cause = 'limit' AND exec = 1")" 5
for m in cachewatch_refaulted_bytes_total cachewatch_lost_events_total \
	cachewatch_map_capacity_entries cachewatch_bpf_runs_total \
	cachewatch_interval_flush_seconds_count cachewatch_database_size_bytes \
	cachewatch_database_wal_size_bytes; do
	check "self-metric $m present" ge "$(grep -c "^$m" "$SCRAPES/$last")" 1
done
check "no series is labelled per file" eq "$(grep -c 'file=' "$SCRAPES/$last")" 0
check "the journal/stderr warning names victim, cause and root" eq \
	"$(grep -c "/$VICTIM lost [0-9]* executable pages in one interval (cause limit, reclaim root /$P)" "$TEST_TMP/daemon.log")" 1

# Without --metrics nothing listens.
start_daemon_plain "$TEST_TMP/off.db" --interval 1
sleep 1
check "no listening socket without --metrics" eq \
	"$(ss -Hltnp | grep -c "pid=$daemon_pid,")" 0
stop_daemon
pass_or_fail
