#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Under systemd the daemon logs to the journal with structured fields.  No
# systemd runs here, so the test builds the part that matters: a private
# mount namespace with its own /run/systemd/journal and /run/log/journal,
# a systemd-journald of its own, and the daemon started with stderr
# connected to the journal (systemd-cat) and JOURNAL_STREAM naming that
# stream, as systemd sets it.  During the sibling exec-thrash scenario the
# thrash warning must be in the journal with CACHEWATCH_CGROUP (the
# victim), CACHEWATCH_CAUSE=limit, CACHEWATCH_RECLAIM_ROOT (the parent) and
# page counts, at priority warning, under SYSLOG_IDENTIFIER=cachewatchd.
if [ -z "${CW_JOURNAL_NS:-}" ]; then
	# Re-run inside a private mount namespace (the journal paths are global).
	CW_JOURNAL_NS=1 exec unshare -m --propagation private "$BASH" "$0" "$@"
fi
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root
JOURNALD=/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || skip "systemd-journald not installed"
command -v systemd-cat > /dev/null && command -v journalctl > /dev/null || skip "needs systemd-cat, journalctl"

mkdir -p /run/systemd/journal /run/log/journal
mount -t tmpfs cw-journal /run/systemd/journal || hard_error "cannot mount a private /run/systemd/journal"
mount -t tmpfs cw-journal-log /run/log/journal || hard_error "cannot mount a private /run/log/journal"
"$JOURNALD" > "$TEST_TMP/journald.log" 2>&1 &
bg_pids+=($!)
for i in $(seq 50); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.1; done
[ -S /run/systemd/journal/stdout ] || hard_error "journald did not start: $(cat "$TEST_TMP/journald.log")"

# The daemon as systemd would start it: stderr a journal stream, and
# JOURNAL_STREAM=<dev>:<ino> of that stream.
cat > "$TEST_TMP/under-journal" <<WRAP
#!/bin/sh
exec systemd-cat -t cachewatchd sh -c 'JOURNAL_STREAM=\$(stat -L -c %d:%i /proc/self/fd/2) exec "\$0" "\$@"' "$CACHEWATCHD" "\$@"
WRAP
chmod +x "$TEST_TMP/under-journal"
CACHEWATCHD=$TEST_TMP/under-journal run_exec_thrash sibling

journalctl --no-pager -o json SYSLOG_IDENTIFIER=cachewatchd > "$TEST_TMP/journal.json" 2> "$TEST_TMP/journalctl.err"
fields=$(python3 - "$TEST_TMP/journal.json" "/$VICTIM" "/$P" <<'PY'
import json, sys
path, victim, root = sys.argv[1:]
found = "none"
for line in open(path):
    e = json.loads(line)
    if e.get("CACHEWATCH_CGROUP") == victim:
        ok = (e.get("CACHEWATCH_CAUSE") == "limit" and e.get("CACHEWATCH_RECLAIM_ROOT") == root
              and int(e.get("CACHEWATCH_EXEC_PAGES", 0)) > 0
              and int(e.get("CACHEWATCH_REFAULTED_PAGES", 0)) > 0
              and e.get("PRIORITY") == "4" and "executable pages" in e.get("MESSAGE", ""))
        found = "ok" if ok else "wrong fields: %r" % {k: v for k, v in e.items() if k.startswith(("CACHEWATCH", "PRIORITY", "MESSAGE"))}
        break
print(found)
PY
)
check "the thrash warning is in the journal with CACHEWATCH_* fields" eq "$fields" ok
check "the start-up messages went to the journal, not to the stream" ge \
	"$(grep -c '"MESSAGE":"recording into' "$TEST_TMP/journal.json")" 1
check "nothing of the daemon's was written as plain stream text" eq \
	"$(grep -c '"_TRANSPORT":"stdout"' "$TEST_TMP/journal.json")" 0
check "journalctl can filter on a field" ge \
	"$(journalctl --no-pager -o cat CACHEWATCH_CAUSE=limit | grep -c "/$VICTIM lost")" 1
pass_or_fail
