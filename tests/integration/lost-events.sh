#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lost events are never silent, and what is kept stays right.  Every map is
# shrunk to its minimum (--evict-entries 16 --add-entries 16
# --refault-entries 16 --exec-entries 16 --shadow-entries 1024
# --max-cgroups 64 --max-files 256) and the sibling exec-thrash scenario
# runs (toucher in P/app = the victim V, hog in P/hog, limit on P) while
# three other cgroups read and drop 12 files each every ~1.5 s: bursts of
# ~36 addition and ~36 eviction keys against 16 slots per interval.
#
# Visible: the eviction- and addition-map losses are counted in the
# intervals columns, v_runs.lost_events is their sum, `cachewatch status`
# prints the run's total and the reasons, and every scrape of
# cachewatch_lost_events_total (summed over reasons) equals the losses of
# the intervals written so far: a prefix sum of the run's intervals in seq
# order.
#
# Right for what it covers (kernel figures: V's own memory.stat, cgroup v1
# or v2, from V's creation on; V only ever holds exectouch's pages):
# - Eviction *events* are folios, and so is the kernel's pgpgout (one per
#   folio uncharged; under V an uncharge is an exec-file folio evicted or
#   exectouch's anonymous memory freed at exit).  So V's recorded eviction
#   events <= pgpgout: a kept count never exceeds the kernel's.
# - Completeness: every folio evicted from V is either in a row or was
#   counted lost.  The map loss counter is not per cgroup, so the check is
#   V's recorded events + all lost eviction events >= pgpgout - 1024 (4 MiB,
#   far more than exectouch's anonymous memory: ~120 folios measured).
# - V's continuous evictions take one of the first slots of nearly every
#   interval (the map starts each interval empty and the bursts are
#   short), so most of V's evictions are kept: > 50 % of pgpgout.  (In
#   practice V's two keys, reclaimer V and reclaimer P/hog, nearly always
#   fit and the losses are the other cgroups'; the inequality above is
#   what still holds in the intervals where they do not.)
# - Refaults: V's refaulted pages in the database (the shadow table is
#   tiny, so only refaults within a fraction of a second are recognised)
#   never exceed the kernel's workingset_refault_file of V.
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root
command -v curl > /dev/null || skip "curl not installed"

PORT=$((20000 + ($$ + 7919) % 20000))
SCRAPES=$TEST_TMP/scrapes
mkdir -p "$SCRAPES" "$TEST_TMP/files"
(
	n=0
	while sleep 1; do
		curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" > "$SCRAPES/$n.txt" || rm -f "$SCRAPES/$n.txt"
		n=$((n + 1))
	done
) &
bg_pids+=($!)

# Other cgroups' file activity, in bursts.
for x in 1 2 3; do
	cg_make "${CG_PREFIX}_x$x"
	for i in $(seq 1 12); do head -c $((256 << 10)) /dev/urandom > "$TEST_TMP/files/x$x-$i"; done
	cg_run "${CG_PREFIX}_x$x" sh -c "while :; do '$HELPERS/fadv' '$TEST_TMP'/files/x$x-*;
		cat '$TEST_TMP'/files/x$x-* > /dev/null; sleep 1.$x; done"
done

# V's kernel counters start at 0: V is created by run_exec_thrash.
run_exec_thrash sibling --metrics "127.0.0.1:$PORT" --evict-entries 16 --add-entries 16 \
	--refault-entries 16 --exec-entries 16 --shadow-entries 1024 --max-cgroups 64 --max-files 256
PGPGOUT=$(cg_stat "$VICTIM" pgpgout) # cgroup v1 only: v2's memory.stat has no uncharge count
V_REFAULTS=$(cg_stat "$VICTIM" workingset_refault_file)
RUN=$(sql "$DB" 'SELECT MAX(id) FROM runs')

lost() { sql "$DB" "SELECT COALESCE(SUM($1), 0) FROM intervals WHERE run = $RUN"; }
LOST_EVICT=$(lost lost_evict)
LOST_ALL=$(lost 'lost_evict + lost_add + lost_refault + lost_shadow + lost_ringbuf + lost_exec + lost_user')
say "lost: evict $LOST_EVICT, add $(lost lost_add), refault $(lost lost_refault), exec $(lost lost_exec)," \
	"user $(lost lost_user), all $LOST_ALL; shadow displaced $(lost shadow_displaced), names dropped $(lost dropped_names)"
check "eviction-map losses are counted in intervals.lost_evict" gt "$LOST_EVICT" 0
check "addition-map losses are counted in intervals.lost_add" gt "$(lost lost_add)" 0
check "v_runs.lost_events is the sum of the run's interval losses" \
	eq "$(sql "$DB" "SELECT lost_events FROM v_runs WHERE run = $RUN")" "$LOST_ALL"
check "intervals with losses: more than one" \
	gt "$(sql "$DB" "SELECT COUNT(*) FROM intervals WHERE run = $RUN AND lost_evict + lost_add > 0")" 1

status=$("$builddir/cachewatch" status --db "$DB" 2> /dev/null)
lostline=$(grep '^lost ' <<< "$status")
say "status: $lostline"
check "cachewatch status prints the run's lost events" \
	eq "$(sed -n 's/^lost *\([0-9]*\) events this run.*/\1/p' <<< "$lostline")" "$LOST_ALL"
check "and names the eviction map as a reason" \
	eq "$(grep -o "; $LOST_EVICT eviction map full" <<< "$lostline")" "; $LOST_EVICT eviction map full"

# Each scrape's total must be the losses of the first k intervals, some k.
prefix=" 0 $(sql "$DB" "SELECT SUM(lost_evict + lost_add + lost_refault + lost_shadow + lost_ringbuf
	+ lost_exec + lost_user) OVER (ORDER BY seq) FROM intervals WHERE run = $RUN" | tr '\n' ' ')"
scraped=0 matched=0 last=0 rising=1
for f in $(ls "$SCRAPES" | sort -n); do
	v=$(awk '/^cachewatch_lost_events_total\{/ { s += $2; n++ } END { if (n) printf "%d", s }' "$SCRAPES/$f")
	[ -n "$v" ] || continue
	scraped=$((scraped + 1))
	[[ $prefix == *" $v "* ]] && matched=$((matched + 1)) || say "scrape $f: $v lost is no prefix sum of the database's"
	[ "$v" -ge "$last" ] || rising=0
	last=$v
done
say "metrics: $scraped scrapes, last total $last"
check "the metrics endpoint was scraped during the run" ge "$scraped" 5
check "every scrape's cachewatch_lost_events_total is the database's losses so far" eq "$matched" "$scraped"
check "cachewatch_lost_events_total rose during the run and never fell" \
	eq "$rising $([ "$last" -gt 0 ] && echo up)" "1 up"

# What was kept is right for what it covers.
V_EVENTS=$(sql "$DB" "SELECT COALESCE(SUM(events), 0) FROM v_evictions WHERE victim = '/$VICTIM'")
V_PAGES=$(sql "$DB" "SELECT COALESCE(SUM(pages), 0) FROM v_evictions WHERE victim = '/$VICTIM'")
V_RF=$(sql "$DB" "SELECT COALESCE(SUM(pages), 0) FROM v_refaults WHERE cgroup = '/$VICTIM'")
say "victim /$VICTIM: kernel pgpgout $PGPGOUT folios, workingset_refault_file $V_REFAULTS pages;" \
	"recorded $V_EVENTS eviction events ($V_PAGES pages), $V_RF refaulted pages"
if [ -n "$PGPGOUT" ]; then
	check "V's recorded eviction events never exceed the kernel's pgpgout" ge "$PGPGOUT" "$V_EVENTS"
	check "V's recorded + all lost eviction events cover the kernel's pgpgout (- 1024)" \
		ge $((V_EVENTS + LOST_EVICT)) $((PGPGOUT - 1024))
	check "most of V's evictions were kept (> 50 % of pgpgout)" gt $((V_EVENTS * 2)) "$PGPGOUT"
else
	say "no pgpgout in memory.stat (cgroup v2): eviction counts not compared with the kernel's"
fi
check "V's recorded refaulted pages never exceed the kernel's workingset_refault_file" \
	ge "$V_REFAULTS" "$V_RF"
check "the exec file's evictions are still attributed: victim, cause limit, root /$P" \
	gt "$(sql "$DB" "SELECT COALESCE(SUM(pages), 0) FROM v_evictions WHERE victim = '/$VICTIM'
		AND file = '$EXEC' AND exec = 1 AND cause = 'limit' AND reclaim_root = '/$P'")" $((V_PAGES / 2))
check "integrity_check is ok" eq "$(sqlite3 -batch "$DB" 'PRAGMA integrity_check')" ok
pass_or_fail
