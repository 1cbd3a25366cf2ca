#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""cachewatchd soak test (make soak).

Runs the benchmark's CPU-bound workload (b) -- fio 4 KiB random buffered
reads, psync, 1 job, of a 2 GiB sparse file in a 256 MiB memory cgroup --
for --seconds (default 600) under one cachewatchd started with its default
options (only --db, in a temporary directory, and --metrics, on a free
loopback port, are given).  Every SAMPLE_S seconds it records the daemon's
VmRSS (and RssAnon), a /metrics scrape (map entries against capacity, lost
events by reason, shadow displacements, last interval timestamp, flush
time, database and WAL size) and the daemon's CPU.  After fio ends the
daemon gets SIGTERM (it must exit 0) and its database is read: the gaps
between interval timestamps and v_runs.lost_events.

Verdicts (see LIMITS and verdicts()): RSS flat, maps never at or above
capacity, no lost events, intervals on time, clean exit.  Results go to
OUT/soak.md and OUT/soak.json; the Markdown is also printed.  The exit
status is 0 when every verdict passes, 1 when one fails or the run could
not be made, 130 when interrupted.  Needs root; the memory cgroup, the
processes and the files it creates are removed on exit, also on Ctrl-C
and SIGTERM.  Shares its building blocks with bench.py.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the benchmark's helpers; bench.py only runs as a script)
from bench import (BenchError, CG_ROOT, MIB, SPARSE_BYTES, WORKLOADS,  # noqa: E402
                   cg_events, cg_remove, fadvise_drop, fio_argv, fmt, log, md_table,
                   process_cpu_ns, proc_stat_cpu, rusage_ns, spawn, status_kib)

SAMPLE_S = 10
SETTLE_S = 1.0
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60
SCRAPE_TIMEOUT_S = 5
MAPS = ["evict", "add", "refault"]
# cachewatchd's default --interval; the daemon is started without it.
DEFAULT_INTERVAL_S = 10

# Pass/fail limits, explained in the report (limits_notes()).
LIMITS = {
    # Median VmRSS of the last third of the samples against the first
    # third (see limits_notes() for why it is absolute only).
    "rss_growth_mib": 4.0,
    # Consecutive interval timestamps differ by the interval +- this.
    "interval_slack_s": 2,
}


def limits_notes():
    """Why the limits are what they are (goes into the report)."""
    return [
        "- RSS flat: median VmRSS of the last third of the samples minus the "
        "median of the first third must be at most %.0f MiB. Growth that is "
        "legitimate and bounded: SQLite's page cache (one connection, default "
        "cache_size 2000 KiB, filled as the database grows), and the daemon's "
        "name and metric tables (files up to --max-files 65536, cgroups up to "
        "--max-cgroups 16384), hash tables that double when full -- so RSS "
        "grows in steps, whenever anything on the machine shows the daemon new "
        "files or cgroups. 4 MiB covers the SQLite cache plus a doubling or two. "
        "A leak does not hide under it: between the two medians lie ~2/3 of the "
        "run (~40 intervals, ~1e8 events in 600 s), so ~100 KiB per interval or "
        "0.04 bytes per event crosses 4 MiB. No relative limit: at ~12 MiB RSS "
        "a 10 %% limit (1.2 MiB) is smaller than SQLite's default cache alone "
        "and fails a daemon that works as designed; the relative growth, "
        "RssAnon (heap), the least-squares slope and the files/cgroups first "
        "seen are reported beside it to tell steps from a slope."
        % LIMITS["rss_growth_mib"],
        "- maps: cachewatch_map_entries (keys drained from each aggregate map in "
        "the last interval) must stay below cachewatch_map_capacity_entries in "
        "every sample: at capacity, a new key would have been dropped "
        "(lost_events{reason=\"*_map_full\"}).",
        "- lost events: every cachewatch_lost_events_total series and "
        "v_runs.lost_events must be 0 at default sizes. shadow_displaced "
        "(a remembered eviction overwritten by a newer one before its page "
        "came back) is a measure of the shadow map's reach, not a loss, and "
        "is only reported.",
        "- intervals on time: every gap between consecutive `intervals.ts` of "
        "the run is the interval +- %d s (ts is whole seconds, so +-1 s is "
        "rounding); the last interval, written at SIGTERM, may be shorter. "
        "Also no interval write failures and at least lifetime/interval - 1 "
        "intervals." % LIMITS["interval_slack_s"],
        "- clean exit: cachewatchd exits 0 after SIGTERM.",
    ]


class SoakContext:
    """Paths, options and everything created so far.

    Has the attributes bench.cleanup() and bench's helpers use, so they
    undo what this script creates the same way.
    """

    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.out = os.path.abspath(args.out)
        self.src = os.path.normpath(os.path.join(os.path.dirname(
            os.path.abspath(__file__)), "..", ".."))
        self.work = None
        self.procs = []
        self.cgroups = []
        self.bpf_stats_old = None
        self.mounted_tracefs = False
        self.sparse_file = None
        self.cg_seq = 0

    def binary(self, rel):
        """Path of a built program, relative to the build directory."""
        return os.path.join(self.build, rel)


# ------------------------------------------------------------------ helpers

def try_reap(ctx, proc):
    """Reap proc if it has exited: (exit code, rusage), else None.

    Uses wait4 like bench.reap, so the CPU figures come from the same
    source (Popen.poll would reap without rusage).
    """
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if not pid:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc in ctx.procs:
        ctx.procs.remove(proc)
    return proc.returncode, usage


def cg_create(ctx, limit):
    """A fresh v1 memory cgroup with a limit (as bench.cg_create, named cwsoak_*)."""
    ctx.cg_seq += 1
    path = os.path.join(CG_ROOT, "cwsoak_%d_%d" % (os.getpid(), ctx.cg_seq))
    os.mkdir(path)
    ctx.cgroups.append(path)
    with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
        f.write(str(limit))
    return path


def prepare_sparse(ctx):
    """The 2 GiB sparse file of workload (b), as bench.prepare_files makes it."""
    ctx.sparse_file = os.path.join(ctx.work, "sparse.bin")
    with open(ctx.sparse_file, "wb") as f:
        f.truncate(SPARSE_BYTES)


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_fields(pid, keys):
    """Several kB fields of /proc/PID/status as a dict (missing: None)."""
    return {k: status_kib(pid, k) for k in keys}


METRIC_LINE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format as {name: {labels: value}}.

    labels is a tuple of (label, value) pairs, () for an unlabelled series.
    """
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        if not m:
            continue
        labels = tuple(LABEL.findall(m.group(2) or ""))
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        out.setdefault(m.group(1), {})[labels] = value
    return out


def by_label(metrics, name, label):
    """{label value: metric value} of a metric with one label."""
    return {dict(labels).get(label, ""): v
            for labels, v in metrics.get(name, {}).items()}


def scalar(metrics, name):
    """The value of an unlabelled metric, or None."""
    return metrics.get(name, {}).get(())


def scrape(url):
    """GET the metrics page; (parsed metrics, seconds taken)."""
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT_S) as resp:
        text = resp.read().decode(errors="replace")
    return parse_metrics(text), time.monotonic() - t0


def file_size(path):
    """Size of a file, 0 if it does not exist."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def thirds(values):
    """(first third, last third) of a list (each at least one element)."""
    n = max(1, len(values) // 3)
    return values[:n], values[-n:]


def slope_per_min(points):
    """Least-squares slope of (t seconds, value) points, per minute."""
    if len(points) < 2:
        return None
    mt = statistics.fmean(t for t, _ in points)
    mv = statistics.fmean(v for _, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    if den == 0:
        return None
    return 60.0 * sum((t - mt) * (v - mv) for t, v in points) / den


# ------------------------------------------------------------------ daemon

class Daemon:
    """The cachewatchd under test."""

    def __init__(self, proc, tmpdir, db, url):
        self.proc = proc
        self.tmpdir = tmpdir
        self.db = db
        self.url = url
        self.stderr = os.path.join(tmpdir, "stderr.log")

    def stderr_tail(self, n=2000):
        """The end of its stderr."""
        try:
            with open(self.stderr, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""


def start_daemon(ctx, attempts=3):
    """cachewatchd with default options but --db and --metrics; wait until
    it has written its runs row and answers on /metrics.

    The port is found free just before the start; should someone else take
    it in between (the daemon then fails to bind and exits), try again.
    """
    last_error = None
    for attempt in range(attempts):
        tmpdir = tempfile.mkdtemp(prefix="daemon-", dir=ctx.work)
        db = os.path.join(tmpdir, "cachewatch.db")
        port = free_port()
        url = "http://127.0.0.1:%d/metrics" % port
        argv = [ctx.binary("cachewatchd"), "--db", db, "--metrics", "127.0.0.1:%d" % port]
        with open(os.path.join(tmpdir, "stderr.log"), "wb") as errlog:
            proc = spawn(ctx, argv, stderr=errlog)
        d = Daemon(proc, tmpdir, db, url)
        d.argv = argv

        def ready():
            if not bench.db_has_run(db):
                return False
            try:
                scrape(url)
            except OSError:
                return False
            return True

        try:
            bench.wait_ready(proc, ready, READY_TIMEOUT_S, "cachewatchd")
        except BenchError as e:
            if proc.returncode is None:  # wait_ready's poll() reaps an exited one
                proc.kill()
                bench.reap(ctx, proc)
            elif proc in ctx.procs:
                ctx.procs.remove(proc)
            last_error = "%s; its stderr: %s" % (e, d.stderr_tail(1000))
            log("soak: start attempt %d failed: %s" % (attempt + 1, last_error))
            continue
        return d
    raise BenchError(last_error)


def stop_daemon(ctx, d):
    """SIGTERM, wait (SIGKILL after STOP_TIMEOUT_S); exit code, CPU, HWM."""
    pid = d.proc.pid
    hwm = status_kib(pid, "VmHWM") or 0
    d.proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    code, usage = bench.reap(ctx, d.proc, timeout=STOP_TIMEOUT_S)
    exited = time.monotonic()
    return {"exit_code": code, "cpu_ns_at_exit": rusage_ns(usage),
            "hwm_kib": max(hwm, usage.ru_maxrss), "stop_s": exited - sent,
            "exited_at": exited, "stderr_tail": d.stderr_tail() if code != 0 else ""}


# ------------------------------------------------------------------ sampling

def sample(ctx, d, cgroup, t0):
    """One sample: RSS, metrics, sizes, CPU and memcg events."""
    pid = d.proc.pid
    s = {"t": time.monotonic() - t0, "wall": time.time()}
    s.update({k.lower(): v for k, v in
              status_fields(pid, ["VmRSS", "RssAnon", "RssFile", "RssShmem"]).items()})
    s["cpu_ns"] = process_cpu_ns(pid)
    s["events"] = cg_events(cgroup)
    s["db_file_bytes"] = file_size(d.db)
    s["wal_file_bytes"] = file_size(d.db + "-wal")
    try:
        m, took = scrape(d.url)
    except OSError as e:
        s["scrape_error"] = str(e)
        return s
    s["scrape_s"] = took
    s["map_entries"] = {k: int(v) for k, v in
                        by_label(m, "cachewatch_map_entries", "map").items()}
    s["map_capacity"] = {k: int(v) for k, v in
                         by_label(m, "cachewatch_map_capacity_entries", "map").items()}
    s["lost"] = {k: int(v) for k, v in
                 by_label(m, "cachewatch_lost_events_total", "reason").items()}
    s["shadow_displaced"] = int(scalar(m, "cachewatch_shadow_displaced_total") or 0)
    ts = scalar(m, "cachewatch_last_interval_timestamp_seconds")
    s["last_interval_ts"] = int(ts) if ts is not None else None
    s["flush_sum_s"] = scalar(m, "cachewatch_interval_flush_seconds_sum")
    s["flush_count"] = scalar(m, "cachewatch_interval_flush_seconds_count")
    s["last_flush_s"] = scalar(m, "cachewatch_last_interval_flush_seconds")
    s["write_failures"] = scalar(m, "cachewatch_interval_write_failures_total")
    s["db_bytes"] = scalar(m, "cachewatch_database_size_bytes")
    s["wal_bytes"] = scalar(m, "cachewatch_database_wal_size_bytes")
    return s


def progress(s, prev):
    """One line per sample on stderr."""
    cpu = ev = None
    if prev:
        dt = s["t"] - prev["t"]
        cpu = 100.0 * (s["cpu_ns"] - prev["cpu_ns"]) / 1e9 / dt
        ev = (s["events"] - prev["events"]) / dt
    maps = s.get("map_entries", {})
    log("soak: t=%4.0fs rss=%s KiB cpu=%s%% events/s=%s maps=%s lost=%s db=%s wal=%s%s"
        % (s["t"], fmt(s["vmrss"]), fmt(cpu, "{:.1f}"), fmt(ev),
           "/".join(str(maps.get(k, "?")) for k in MAPS),
           fmt(sum(s.get("lost", {}).values())), fmt(s["db_file_bytes"]),
           fmt(s["wal_file_bytes"]),
           " SCRAPE FAILED: " + s["scrape_error"] if "scrape_error" in s else ""))


def run_soak(ctx, d, cgroup):
    """fio for --seconds with a sample every SAMPLE_S; returns the figures."""
    seconds = ctx.args.seconds
    fio_out = os.path.join(ctx.work, "fio.json")
    idle = sample(ctx, d, cgroup, time.monotonic())
    cpu_before, cpu_before_at = process_cpu_ns(d.proc.pid), time.monotonic()
    events_before = cg_events(cgroup)
    total_before, steal_before = proc_stat_cpu()
    load_before = os.getloadavg()
    t0 = time.monotonic()
    with open(fio_out, "wb") as out:
        fio = spawn(ctx, fio_argv(ctx, "randread", seconds), cgroup=cgroup, stdout=out)
    samples = []
    next_at = t0 + SAMPLE_S
    fio_result = None
    while fio_result is None:
        fio_result = try_reap(ctx, fio)
        if fio_result is not None:
            break
        died = try_reap(ctx, d.proc)
        if died is not None:
            raise BenchError("cachewatchd exited %d during the run: %s"
                             % (died[0], d.stderr_tail()))
        now = time.monotonic()
        if now >= next_at:
            samples.append(sample(ctx, d, cgroup, t0))
            progress(samples[-1], samples[-2] if len(samples) > 1 else None)
            next_at += SAMPLE_S
            while next_at <= time.monotonic():  # a stalled sampler skips, not bunches
                next_at += SAMPLE_S
        time.sleep(min(0.2, max(0.01, next_at - time.monotonic())))
    fio_wall = time.monotonic() - t0
    code, usage = fio_result
    events = cg_events(cgroup) - events_before
    total_after, steal_after = proc_stat_cpu()
    # The last sample: fio done, the daemon not yet stopped.
    final = sample(ctx, d, cgroup, t0)
    load_after = os.getloadavg()
    if code != 0:
        raise BenchError("fio exited %d" % code)
    try:
        with open(fio_out, errors="replace") as f:
            text = f.read()
        job = json.loads(text[text.index("{"):])["jobs"][0]
        iops = job["read"]["iops"]
    except (OSError, ValueError, KeyError, IndexError):
        iops = None
    return {"idle": idle, "samples": samples, "final": final,
            "cpu_before_ns": cpu_before, "cpu_before_at": cpu_before_at,
            "fio_wall_s": fio_wall, "fio_cpu_ns": rusage_ns(usage), "fio_iops": iops,
            "events": events, "events_per_s": events / fio_wall if fio_wall else None,
            "steal_pct": 100.0 * (steal_after - steal_before)
            / max(1, total_after - total_before),
            "loadavg_before": load_before, "loadavg_after": load_after}


def read_db(db):
    """Intervals and v_runs of the (only) run, after the daemon stopped."""
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        run = conn.execute("SELECT * FROM v_runs ORDER BY run DESC LIMIT 1").fetchone()
        started = conn.execute("SELECT started FROM runs WHERE id = ?",
                               (run["run"],)).fetchone()[0]
        rows = conn.execute(
            "SELECT seq, ts, duration_ms, lost_evict + lost_add + lost_refault + lost_shadow"
            " + lost_ringbuf + lost_exec + lost_user AS lost, shadow_displaced"
            " FROM intervals WHERE run = ? ORDER BY seq", (run["run"],)).fetchall()
        learned = {t: [r[0] for r in conn.execute(
            "SELECT first_seen FROM %s WHERE first_seen >= ? ORDER BY first_seen" % t,
            (started,))] for t in ("files", "cgroups")}
        return {"run": dict(run), "started": started, "intervals": [dict(r) for r in rows],
                "learned": learned}
    finally:
        conn.close()


# ------------------------------------------------------------------ analysis

def analyse(ctx, fig, stop, dbinfo):
    """Summary figures from the samples, the stop and the database."""
    samples = [s for s in fig["samples"] if "scrape_error" not in s]
    all_samples = fig["samples"] + [fig["final"]]
    interval = dbinfo["run"].get("interval_s") or DEFAULT_INTERVAL_S
    res = {"interval_s": interval, "samples": len(fig["samples"]),
           "scrape_failures": sum(1 for s in all_samples if "scrape_error" in s)}

    # RSS
    rss = [s["vmrss"] for s in fig["samples"] if s.get("vmrss")]
    anon = [s["rssanon"] for s in fig["samples"] if s.get("rssanon")]
    first, last = thirds(rss)
    afirst, alast = thirds(anon) if anon else ([0], [0])
    res["rss"] = {
        "idle_kib": fig["idle"].get("vmrss"),
        "first_third_median_kib": statistics.median(first) if rss else None,
        "last_third_median_kib": statistics.median(last) if rss else None,
        "min_kib": min(rss) if rss else None, "max_kib": max(rss) if rss else None,
        "samples_per_third": len(first),
        "anon_first_third_median_kib": statistics.median(afirst),
        "anon_last_third_median_kib": statistics.median(alast),
        "slope_kib_per_min": slope_per_min(
            [(s["t"], s["vmrss"]) for s in fig["samples"] if s.get("vmrss")]),
        "anon_slope_kib_per_min": slope_per_min(
            [(s["t"], s["rssanon"]) for s in fig["samples"] if s.get("rssanon")]),
        "hwm_kib": stop["hwm_kib"],
    }
    if rss:
        g = res["rss"]["last_third_median_kib"] - res["rss"]["first_third_median_kib"]
        res["rss"]["growth_kib"] = g
        res["rss"]["growth_pct"] = 100.0 * g / res["rss"]["first_third_median_kib"]

    # Names the daemon learned (files and cgroups first seen in this run,
    # anywhere on the machine): bounded tables that grow with what else
    # runs, the usual legitimate cause of RSS growth in a soak.
    n = max(1, len(fig["samples"]) // 3)
    if len(fig["samples"]) >= 2:
        first_end = fig["samples"][n - 1]["wall"]
        last_start = fig["samples"][-n]["wall"]
        res["learned"] = {t: {"total": len(v),
                              "by_first_third_end": sum(1 for x in v if x <= first_end),
                              "in_last_third": sum(1 for x in v if x >= last_start)}
                          for t, v in dbinfo["learned"].items()}
    else:
        res["learned"] = {t: {"total": len(v)} for t, v in dbinfo["learned"].items()}

    # Maps
    maps = {}
    for name in MAPS + ["shadow"]:
        entries = [s["map_entries"][name] for s in samples
                   if name in s.get("map_entries", {})]
        caps = [s["map_capacity"][name] for s in samples
                if name in s.get("map_capacity", {})]
        e_first, e_last = thirds(entries) if entries else ([], [])
        maps[name] = {
            "capacity": max(caps) if caps else None,
            "peak": max(entries) if entries else None,
            "first_third_median": statistics.median(e_first) if e_first else None,
            "last_third_median": statistics.median(e_last) if e_last else None,
            "at_or_above_capacity": sum(1 for s in samples
                                        if name in s.get("map_entries", {})
                                        and s["map_entries"][name]
                                        >= s["map_capacity"].get(name, float("inf"))),
        }
        if maps[name]["peak"] is not None and maps[name]["capacity"]:
            maps[name]["peak_pct"] = 100.0 * maps[name]["peak"] / maps[name]["capacity"]
    res["maps"] = maps
    seen = {s["last_interval_ts"] for s in samples if s.get("last_interval_ts")}
    res["intervals_seen_by_samples"] = len(seen)

    # Lost events and shadow displacements
    final = fig["final"] if "scrape_error" not in fig["final"] else (
        samples[-1] if samples else {})
    res["lost_metrics"] = final.get("lost", {})
    res["lost_metrics_total"] = sum(res["lost_metrics"].values())
    res["lost_db"] = dbinfo["run"].get("lost_events")
    res["shadow_displaced_metrics"] = final.get("shadow_displaced")
    res["shadow_displaced_db"] = dbinfo["run"].get("shadow_displaced")
    res["lost_intervals"] = sum(1 for r in dbinfo["intervals"] if r["lost"])

    # Intervals
    ivs = dbinfo["intervals"]
    ts = [r["ts"] for r in ivs]
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    slack = LIMITS["interval_slack_s"]
    full = gaps[:-1]  # the last interval is the partial one written at SIGTERM
    lifetime = stop["exited_at"] - ctx.daemon_ready_at
    res["intervals"] = {
        "count": len(ivs), "expected_min": int(lifetime // interval) - 1,
        "first_gap_s": ts[0] - dbinfo["started"] if ts else None,
        "max_gap_s": max(gaps) if gaps else None,
        "min_full_gap_s": min(full) if full else None,
        "late": sum(1 for g in gaps if g > interval + slack),
        "early": sum(1 for g in full if g < interval - slack),
        "last_gap_s": gaps[-1] if gaps else None,
        "max_write_ms": max((r["duration_ms"] for r in ivs), default=None),
        "median_write_ms": statistics.median([r["duration_ms"] for r in ivs]) if ivs else None,
        "write_failures": final.get("write_failures"),
        "max_staleness_s": max((s["wall"] - s["last_interval_ts"] for s in samples
                                if s.get("last_interval_ts")), default=None),
    }
    flush = [(s["flush_sum_s"], s["flush_count"]) for s in samples
             if s.get("flush_count") is not None]
    res["flush"] = {
        "mean_s": (flush[-1][0] / flush[-1][1]) if flush and flush[-1][1] else None,
        "max_last_s": max((s["last_flush_s"] for s in samples
                           if s.get("last_flush_s") is not None), default=None),
    }

    # CPU: schedstat just before fio to wait4 rusage at exit (the final
    # interval write included), as bench.py counts the tracer.
    cpu_s = (stop["cpu_ns_at_exit"] - fig["cpu_before_ns"]) / 1e9
    span = stop["exited_at"] - fig["cpu_before_at"]
    res["cpu"] = {"cpu_s": cpu_s, "span_s": span, "core_pct": 100.0 * cpu_s / span,
                  "ns_per_event": cpu_s * 1e9 / fig["events"] if fig["events"] else None}
    windows = []
    prev = None
    for s in fig["samples"]:
        if prev:
            dt = s["t"] - prev["t"]
            de = s["events"] - prev["events"]
            windows.append({"t": s["t"],
                            "core_pct": 100.0 * (s["cpu_ns"] - prev["cpu_ns"]) / 1e9 / dt,
                            "events_per_s": de / dt,
                            "ns_per_event": (s["cpu_ns"] - prev["cpu_ns"]) / de if de else None})
        prev = s
    if windows:
        w_first, w_last = thirds(windows)
        for key in ("core_pct", "events_per_s", "ns_per_event"):
            res["cpu"]["first_third_%s" % key] = bench.median_or_none(
                [w[key] for w in w_first])
            res["cpu"]["last_third_%s" % key] = bench.median_or_none(
                [w[key] for w in w_last])
    res["windows"] = windows
    res["events"] = fig["events"]
    res["events_per_s"] = fig["events_per_s"]
    res["fio_iops"] = fig["fio_iops"]

    # Database
    dbs = [s for s in all_samples if "db_file_bytes" in s]
    res["db"] = {"first_bytes": dbs[0]["db_file_bytes"] if dbs else None,
                 "last_bytes": dbs[-1]["db_file_bytes"] if dbs else None,
                 "max_wal_bytes": max((s["wal_file_bytes"] for s in dbs), default=None),
                 "last_wal_bytes": dbs[-1]["wal_file_bytes"] if dbs else None}
    if len(dbs) > 1 and dbs[-1]["t"] > dbs[0]["t"]:
        res["db"]["growth_mb_per_h"] = ((dbs[-1]["db_file_bytes"] - dbs[0]["db_file_bytes"])
                                        / (dbs[-1]["t"] - dbs[0]["t"]) * 3600 / 1e6)
    return res


def verdict(name, measured, limit, ok, note=""):
    """One row of the verdict table."""
    return {"verdict": name, "measured": measured, "limit": limit,
            "result": "PASS" if ok else "FAIL", "ok": bool(ok), "note": note}


def verdicts(res, stop):
    """The pass/fail table."""
    out = []
    r = res["rss"]
    if r.get("growth_kib") is None or r["samples_per_third"] < 2:
        out.append(verdict("RSS flat", "too few samples", "", False,
                           "need at least 6 samples (--seconds >= 60)"))
    else:
        ok = r["growth_kib"] <= LIMITS["rss_growth_mib"] * 1024
        out.append(verdict(
            "RSS flat",
            "%s -> %s KiB (%+.0f KiB, %+.1f %%)" % (
                fmt(r["first_third_median_kib"]), fmt(r["last_third_median_kib"]),
                r["growth_kib"], r["growth_pct"]),
            "<= %.0f MiB" % LIMITS["rss_growth_mib"],
            ok, "median of first vs last third (%d samples each); RssAnon %s -> %s KiB"
            % (r["samples_per_third"], fmt(r["anon_first_third_median_kib"]),
               fmt(r["anon_last_third_median_kib"]))))
    for name in MAPS:
        m = res["maps"][name]
        ok = m["peak"] is not None and m["capacity"] and m["at_or_above_capacity"] == 0
        out.append(verdict(
            "map %s below capacity" % name,
            "peak %s of %s (%s)" % (fmt(m["peak"]), fmt(m["capacity"]),
                                    fmt(m.get("peak_pct"), "{:.1f} %")),
            "< capacity in every sample", ok,
            "samples at or above capacity: %d" % m["at_or_above_capacity"]))
    lost_ok = res["lost_metrics_total"] == 0 and res["lost_db"] == 0
    nonzero = ", ".join("%s=%d" % kv for kv in sorted(res["lost_metrics"].items()) if kv[1])
    out.append(verdict(
        "no lost events", "metrics %s, v_runs.lost_events %s" % (
            fmt(res["lost_metrics_total"]), fmt(res["lost_db"])),
        "0", lost_ok,
        (nonzero or "every reason 0") + "; shadow displaced %s (a measure, not a loss)"
        % fmt(res["shadow_displaced_db"])))
    out.append(verdict("every scrape answered", "%d of %d failed" % (
        res["scrape_failures"], res["samples"] + 1), "0", res["scrape_failures"] == 0,
        "the map and lost-event verdicts rest on the scrapes"))
    iv = res["intervals"]
    slack = LIMITS["interval_slack_s"]
    ok = (iv["count"] >= max(1, iv["expected_min"]) and iv["late"] == 0 and iv["early"] == 0
          and not iv["write_failures"]
          and (iv["first_gap_s"] is None or iv["first_gap_s"] <= res["interval_s"] + slack))
    out.append(verdict(
        "intervals on time",
        "%d intervals, gaps %s-%s s, %d late, %d early" % (
            iv["count"], fmt(iv["min_full_gap_s"]), fmt(iv["max_gap_s"]), iv["late"],
            iv["early"]),
        "%d +- %d s; >= %d intervals; 0 write failures" % (
            res["interval_s"], slack, max(1, iv["expected_min"])),
        ok, "write time median %s ms, max %s ms; write failures %s; last (SIGTERM) gap %s s"
        % (fmt(iv["median_write_ms"]), fmt(iv["max_write_ms"]), fmt(iv["write_failures"]),
           fmt(iv["last_gap_s"]))))
    out.append(verdict("clean exit", "exit %d after SIGTERM (%.1f s)"
                       % (stop["exit_code"], stop["stop_s"]), "0",
                       stop["exit_code"] == 0, stop.get("stderr_tail", "")[-300:]))
    return out


# ------------------------------------------------------------------ report

def environment(ctx):
    """Kernel, CPUs, git, fio, other tracers (bench.environment's subset)."""
    git = bench.run_quiet(["git", "-C", ctx.src, "rev-parse", "--short", "HEAD"]).strip()
    if git and bench.run_quiet(["git", "-C", ctx.src, "status", "--porcelain"]).strip():
        git += " (with uncommitted changes)"
    with open("/proc/meminfo") as f:
        mem_mib = int(f.readline().split()[1]) // 1024
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "kernel": platform.release(), "cpus": os.cpu_count(), "mem_mib": mem_mib,
            "git": git or "unknown", "fio": bench.first_line(["fio", "--version"]),
            "foreign_progs_start": bench.foreign_tracing_progs(set())}


def markdown(results):
    """The report as Markdown."""
    env, res, s = results["environment"], results["summary"], results["settings"]
    lines = ["# cachewatchd soak test", "",
             "- date %s; kernel %s, %d CPUs, %s MiB RAM; git %s; %s" % (
                 env["date"], env["kernel"], env["cpus"], env["mem_mib"], env["git"],
                 env["fio"]),
             "- workload (b) %s, for %d s; one sample every %d s" % (
                 WORKLOADS["randread"]["title"], s["seconds"], SAMPLE_S),
             "- `%s` (default options otherwise: --interval %d)" % (
                 " ".join(s["daemon_argv"]), res["interval_s"]),
             "", "## Verdicts", ""]
    lines += md_table(["verdict", "measured", "limit", "result", "note"],
                      [[v["verdict"], v["measured"], v["limit"], "**%s**" % v["result"],
                        v["note"].replace("\n", " ").replace("|", "/")]
                       for v in results["verdicts"]])
    r, c, iv, db = res["rss"], res["cpu"], res["intervals"], res["db"]
    lines += ["", "## Figures", ""]
    rows = [
        ["VmRSS KiB: idle before fio / first-third median / last-third median",
         "%s / %s / %s" % (fmt(r["idle_kib"]), fmt(r["first_third_median_kib"]),
                           fmt(r["last_third_median_kib"]))],
        ["VmRSS KiB: min / max / VmHWM at exit",
         "%s / %s / %s" % (fmt(r["min_kib"]), fmt(r["max_kib"]), fmt(r["hwm_kib"]))],
        ["VmRSS / RssAnon slope (least squares, KiB/min)",
         "%s / %s" % (fmt(r["slope_kib_per_min"], "{:+.1f}"),
                      fmt(r["anon_slope_kib_per_min"], "{:+.1f}"))],
    ]
    for t in ("files", "cgroups"):
        lr = res["learned"][t]
        rows.append(["%s first seen during the run (machine-wide): total / by the end of "
                     "the first third / during the last third" % t,
                     "%s / %s / %s" % (fmt(lr["total"]), fmt(lr.get("by_first_third_end")),
                                       fmt(lr.get("in_last_third")))])
    for name in MAPS + ["shadow"]:
        m = res["maps"][name]
        if name == "shadow":
            rows.append(["map shadow: capacity (entries are not exported)",
                         fmt(m["capacity"])])
            continue
        rows.append(["map %s: peak / capacity (first-third, last-third median)" % name,
                     "%s / %s = %s (%s, %s)" % (
                         fmt(m["peak"]), fmt(m["capacity"]), fmt(m.get("peak_pct"), "{:.1f} %"),
                         fmt(m["first_third_median"]), fmt(m["last_third_median"]))])
    rows += [
        ["lost events: metrics (all reasons) / v_runs.lost_events",
         "%s / %s" % (fmt(res["lost_metrics_total"]), fmt(res["lost_db"]))],
        ["shadow displaced: metrics (before stop) / v_runs (at exit)",
         "%s / %s (%s per event)" % (
             fmt(res["shadow_displaced_metrics"]), fmt(res["shadow_displaced_db"]),
             fmt(res["shadow_displaced_db"] / res["events"]
                 if res["events"] and res["shadow_displaced_db"] is not None else None,
                 "{:.4f}"))],
        ["intervals: count / minimum expected / seen by the samples",
         "%d / %d / %d" % (iv["count"], max(1, iv["expected_min"]),
                           res["intervals_seen_by_samples"])],
        ["interval gaps s: first (from start) / min / max / late / early",
         "%s / %s / %s / %d / %d" % (fmt(iv["first_gap_s"]), fmt(iv["min_full_gap_s"]),
                                     fmt(iv["max_gap_s"]), iv["late"], iv["early"])],
        ["metrics staleness (sample time - last interval ts), max s",
         fmt(iv["max_staleness_s"], "{:.1f}")],
        ["interval write ms (intervals.duration_ms): median / max",
         "%s / %s" % (fmt(iv["median_write_ms"]), fmt(iv["max_write_ms"]))],
        ["flush s (metrics): mean / max of last_interval_flush_seconds",
         "%s / %s" % (fmt(res["flush"]["mean_s"], "{:.3f}"),
                      fmt(res["flush"]["max_last_s"], "{:.3f}"))],
        ["daemon CPU, % of a core (fio start to exit) / ns per event",
         "%s %% / %s" % (fmt(c["core_pct"], "{:.2f}"), fmt(c["ns_per_event"]))],
        ["daemon CPU % of a core: first-third / last-third median of 10 s windows",
         "%s / %s" % (fmt(c.get("first_third_core_pct"), "{:.2f}"),
                      fmt(c.get("last_third_core_pct"), "{:.2f}"))],
        ["daemon ns per event: first-third / last-third median",
         "%s / %s" % (fmt(c.get("first_third_ns_per_event")),
                      fmt(c.get("last_third_ns_per_event")))],
        ["events/s (memcg pgpgin+pgpgout) over the run; first / last third",
         "%s; %s / %s" % (fmt(res["events_per_s"]), fmt(c.get("first_third_events_per_s")),
                          fmt(c.get("last_third_events_per_s")))],
        ["fio IOPS", fmt(res["fio_iops"])],
        ["database bytes: first sample / last / growth MB/h",
         "%s / %s / %s" % (fmt(db["first_bytes"]), fmt(db["last_bytes"]),
                           fmt(db.get("growth_mb_per_h"), "{:.1f}"))],
        ["WAL bytes: max / last", "%s / %s" % (fmt(db["max_wal_bytes"]),
                                              fmt(db["last_wal_bytes"]))],
    ]
    lines += md_table(["figure", "value"], rows)
    lines += ["", "## Samples", ""]
    srows = []
    prev = None
    for smp in results["samples"] + [results["final"]]:
        cpu = ev = None
        if prev:
            dt = smp["t"] - prev["t"]
            if dt > 0:
                cpu = 100.0 * (smp["cpu_ns"] - prev["cpu_ns"]) / 1e9 / dt
                ev = (smp["events"] - prev["events"]) / dt
        me = smp.get("map_entries", {})
        srows.append([fmt(smp["t"]), fmt(smp.get("vmrss")), fmt(smp.get("rssanon")),
                      fmt(cpu, "{:.1f}"), fmt(ev),
                      " / ".join(fmt(me.get(k)) for k in MAPS),
                      fmt(sum(smp["lost"].values()) if "lost" in smp else None),
                      fmt(smp.get("shadow_displaced")),
                      fmt(smp["wall"] - smp["last_interval_ts"]
                          if smp.get("last_interval_ts") else None, "{:.1f}"),
                      fmt(smp["db_file_bytes"]), fmt(smp["wal_file_bytes"])])
        prev = smp
    lines += md_table(["t s", "VmRSS KiB", "RssAnon KiB", "CPU %", "events/s",
                       "maps evict / add / refault", "lost", "shadow displaced",
                       "staleness s", "db bytes", "wal bytes"], srows)
    lines += ["", "## Limits", ""] + limits_notes()
    lines += ["", "## Notes", ""] + notes(results)
    return "\n".join(lines) + "\n"


def notes(results):
    """Method and noise notes."""
    env, res, run = results["environment"], results["summary"], results["run"]
    lines = [
        "- events = memcg v1 `pgpgin + pgpgout` delta of the workload's cgroup over "
        "fio's wall time (as bench.py counts them); daemon CPU = schedstat just "
        "before fio to the wait4() rusage at exit (the final interval write "
        "included), divided by that span. The BPF programs run in the context "
        "of the task that adds or evicts the page (fio here) and are not in "
        "this figure: bench.py measures them.",
        "- cachewatch_map_entries is the number of keys drained in the last "
        "interval: a sample every %d s sees most intervals once (%d distinct "
        "intervals seen of %d written), so a peak between samples can be missed; "
        "a key dropped at capacity would show in lost_events{reason=\"*_map_full\"} "
        "regardless." % (SAMPLE_S, res["intervals_seen_by_samples"], res["intervals"]["count"]),
        "- the database is only read after the daemon has stopped (a reader "
        "holding a snapshot would hold back WAL checkpoints); during the run "
        "only file sizes and /metrics are looked at. Default --raw-minutes 60: "
        "no roll-up runs within a soak shorter than an hour, so the database "
        "grows linearly and its size is not judged.",
        "- noise: steal %.1f %% of all CPU time during fio; load average %s at "
        "start, %s at end; %d CPUs shared with other users of the machine."
        % (run["steal_pct"], "/".join("%.2f" % x for x in run["loadavg_before"]),
           "/".join("%.2f" % x for x in run["loadavg_after"]), env["cpus"]),
    ]
    foreign = sorted(set(env["foreign_progs_start"]) | set(results.get("foreign_progs_end", [])))
    if foreign:
        lines.append("- someone else's tracing BPF programs were loaded during the run "
                     "(they add to the kernel's cost per event and may be another "
                     "cachewatchd): %s" % ", ".join(foreign))
    else:
        lines.append("- no other tracing BPF programs were loaded at start or end.")
    return lines


# ------------------------------------------------------------------ main

def parse_args():
    """Command line."""
    p = argparse.ArgumentParser(description="cachewatchd soak test (root)")
    p.add_argument("--build", required=True, help="build directory (cachewatchd, fadv)")
    p.add_argument("--out", required=True, help="output directory (soak.md, soak.json)")
    p.add_argument("--seconds", type=int, default=600,
                   help="how long fio runs (default 600)")
    args = p.parse_args()
    if args.seconds < 1:
        p.error("--seconds must be at least 1")
    return args


def check_prerequisites(ctx):
    """Refuse early, with a clear message, when something is missing."""
    if not os.path.exists(os.path.join(CG_ROOT, "memory.limit_in_bytes")):
        raise BenchError("no cgroup v1 memory hierarchy at %s" % CG_ROOT)
    for rel in ("cachewatchd", "tests/helpers/fadv"):
        if not os.access(ctx.binary(rel), os.X_OK):
            raise BenchError("%s is not built (run `make soak` in %s)"
                             % (ctx.binary(rel), ctx.build))
    if not shutil.which("fio"):
        raise BenchError("fio is not installed")


def soak(ctx):
    """Set up, run, stop, analyse; returns the results dict."""
    started = time.monotonic()
    os.makedirs(ctx.out, exist_ok=True)
    ctx.work = tempfile.mkdtemp(prefix="cachewatch-soak-", dir="/var/tmp")
    env = environment(ctx)
    prepare_sparse(ctx)
    cgroup = cg_create(ctx, WORKLOADS["randread"]["limit"])
    fadvise_drop(ctx, [ctx.sparse_file])
    d = start_daemon(ctx)
    ctx.daemon_ready_at = time.monotonic()
    # cachewatchd writes its runs row before it blocks SIGTERM (see bench.py).
    time.sleep(SETTLE_S)
    log("soak: cachewatchd pid %d (%s), fio randread for %d s in %s"
        % (d.proc.pid, d.url, ctx.args.seconds, cgroup))
    own = bench.bpf_prog_ids(d.proc.pid)
    fig = run_soak(ctx, d, cgroup)
    foreign_end = bench.foreign_tracing_progs(own)
    stop = stop_daemon(ctx, d)
    log("soak: cachewatchd exited %d" % stop["exit_code"])
    dbinfo = read_db(d.db)
    summary = analyse(ctx, fig, stop, dbinfo)
    cg_remove(ctx, cgroup)
    results = {"environment": env,
               "settings": {"seconds": ctx.args.seconds, "sample_s": SAMPLE_S,
                            "daemon_argv": [os.path.basename(d.argv[0])] + d.argv[1:],
                            "limits": LIMITS, "wall_s": time.monotonic() - started},
               "verdicts": verdicts(summary, stop),
               "summary": summary, "stop": stop, "db_run": dbinfo["run"],
               "intervals": dbinfo["intervals"], "foreign_progs_end": foreign_end,
               "run": {k: v for k, v in fig.items()
                       if k not in ("samples", "final", "idle")},
               "idle": fig["idle"], "samples": fig["samples"], "final": fig["final"]}
    results["ok"] = all(v["ok"] for v in results["verdicts"])
    return results


def main():
    """Check, run, write OUT/soak.md and OUT/soak.json, print the Markdown."""
    args = parse_args()
    if os.geteuid() != 0:
        print("soak.py: must run as root: it starts cachewatchd (BPF) and creates "
              "a memory cgroup (try: sudo make soak)", file=sys.stderr)
        return 1
    ctx = SoakContext(args)
    signal.signal(signal.SIGTERM, bench.on_stop_signal)
    signal.signal(signal.SIGINT, bench.on_stop_signal)
    try:
        check_prerequisites(ctx)
        results = soak(ctx)
    except (BenchError, OSError, sqlite3.Error, subprocess.SubprocessError) as e:
        print("soak.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log("soak.py: interrupted; cleaning up")
        return 130
    finally:
        bench.cleanup(ctx)
    text = markdown(results)
    with open(os.path.join(ctx.out, "soak.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
        f.write("\n")
    with open(os.path.join(ctx.out, "soak.md"), "w") as f:
        f.write(text)
    print(text)
    failed = [v["verdict"] for v in results["verdicts"] if not v["ok"]]
    if failed:
        print("soak.py: FAILED: %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
