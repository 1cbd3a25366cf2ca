#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""cachewatch overhead benchmark (make bench).

Runs four page-cache workloads -- (a) the exec-thrash scenario, (b) fio 4 KiB
random reads of a sparse file, (c) fio sequential 1 MiB reads of a sparse
file, (d) small-file churn -- each inside a fresh memory cgroup, under five
configurations: nothing attached (base), the floor programs, cachewatchd,
cachewatchd with --refault-sample 16, and a bpftrace peer script.  Runs are
interleaved (round by round, configurations in rotated order) so that drift
in the VM hits every configuration alike, and every ratio is taken between
runs of the same invocation.  Separate runs with kernel.bpf_stats_enabled=1
give BPF nanoseconds per event; a synthetic 24 h database from dbgen gives
the storage and query figures.  Results go to OUT/bench.md and
OUT/bench.json; the Markdown is also printed.  Needs root; everything it
creates (cgroups, processes, files, the bpf_stats sysctl, a tracefs mount)
is undone on exit, also on Ctrl-C.  The method (interleaving, memcg
event counts, wait4 CPU, schedstat for the tracer) follows the project's
performance research notes, sections 1-3.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CG_ROOT = "/sys/fs/cgroup/memory"
TRACEFS = "/sys/kernel/tracing"
BPF_STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20
SETTLE_S = 1.0
SPARSE_BYTES = 2 << 30
EXEC_BYTES = 48 << 20
EVENTS_REFERENCE = 50_000
QUERY_TIMEOUT_S = 60
QUIET_WAIT_S = 30
QUIET_BUDGET_S = 240

WORKLOADS = {
    "exec": {"letter": "a", "limit": 96 * MIB, "unit": "pages/s",
             "title": "exec-thrash: 48 MiB PROT_EXEC file touched page by page, "
                      "pass after pass, in a 96 MiB memcg; a 72 MiB anonymous hog "
                      "joins part-way (timings under durations)"},
    "randread": {"letter": "b", "limit": 256 * MIB, "unit": "IOPS",
                 "title": "fio 4 KiB random buffered reads (psync, 1 job) of a "
                          "2 GiB sparse file, 256 MiB memcg: CPU-bound, order-0"},
    "seqread": {"letter": "c", "limit": 64 * MIB, "unit": "MB/s",
                "title": "fio 1 MiB sequential reads of a 2 GiB sparse file, "
                         "64 MiB memcg: large folios, few events"},
    "churn": {"letter": "d", "limit": 256 * MIB, "unit": "files/s",
              "title": "small-file churn: create, 4 x 4 KiB writes, close, "
                       "unlink (truncate path)"},
}
THROUGHPUT_CONFIGS = ["base", "floor", "cachewatchd", "cachewatchd-sampled", "bpftrace"]
# floor-keyed only runs with bpf_stats: it explains the floor ratio, it is
# not a contender.
CONFIGS = THROUGHPUT_CONFIGS + ["floor-keyed"]
STATS_CONFIGS = ["floor", "floor-keyed", "cachewatchd", "cachewatchd-sampled"]
# Programs whose run time is read from bpf_stats, per configuration.
PROG_NAMES = {
    "floor": {"add": "cwb_floor_add", "delete": "cwb_floor_del"},
    "floor-keyed": {"add": "cwb_key_add", "delete": "cwb_key_del"},
    "cachewatchd": {"add": "cw_page_cache_add", "delete": "cw_page_cache_delete"},
    "cachewatchd-sampled": {"add": "cw_page_cache_add",
                            "delete": "cw_page_cache_delete"},
}
# Both report formats are timed over the synthetic day (html runs gnuplot).
REPORT_FORMATS = ["md", "html"]
# Throughput loss allowed for cachewatchd, per workload.
LOSS_TARGETS = {"exec": 0.01, "randread": 0.05, "seqread": 0.01, "churn": 0.01}


class BenchError(Exception):
    """A run or a setup step failed; the message says what."""


# ------------------------------------------------------------------ context

class Context:
    """Paths, options and everything created so far (undone by cleanup)."""

    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.src = os.path.abspath(args.src)
        self.out = os.path.abspath(args.out)
        self.work = None
        self.procs = []
        self.cgroups = []
        self.bpf_stats_old = None
        self.mounted_tracefs = False
        self.cg_seq = 0
        self.durations = durations(args.quick)
        self.empty_db_bytes = None
        self.empty_db_max = None
        self.quiet_budget = QUIET_BUDGET_S
        self.exec_file = self.sparse_file = self.churn_dir = None

    def binary(self, rel):
        """Path of a built program, relative to the build directory."""
        return os.path.join(self.build, rel)


def durations(quick):
    """Workload durations in seconds for throughput runs ("run") and
    bpf_stats runs ("stats"), which only need enough events."""
    short = {"exec_total": 10, "exec_hog_delay": 3, "exec_hog": 6, "fio": 3, "churn": 3}
    if quick:
        return {"run": short, "stats": short}
    full = {"exec_total": 17, "exec_hog_delay": 4, "exec_hog": 10, "fio": 8, "churn": 8}
    stats = {"exec_total": 10, "exec_hog_delay": 3, "exec_hog": 6, "fio": 4, "churn": 4}
    return {"run": full, "stats": stats}


def log(msg):
    """Progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes

class LineReader(threading.Thread):
    """Reads a child's stdout in the background, timestamping each line.

    Keeps at most `keep` lines (the rest are read and dropped) and sets
    `ready` when a line equal to "ready" arrives.
    """

    def __init__(self, stream, keep=100000):
        super().__init__(daemon=True)
        self.stream = stream
        self.keep = keep
        self.lines = []
        self.count = 0
        self.ready = threading.Event()

    def run(self):
        """Thread body: read until end of file."""
        for raw in self.stream:
            line = raw.decode(errors="replace").rstrip("\n")
            self.count += 1
            if len(self.lines) < self.keep:
                self.lines.append((time.monotonic(), line))
            if line == "ready":
                self.ready.set()


def spawn(ctx, argv, cgroup=None, stdout=subprocess.DEVNULL, stderr=None):
    """Start argv, inside memory cgroup `cgroup` (a path) if given.

    A shell moves itself into the cgroup through cgroup.procs and then
    execs argv, so the workload is charged there from its first page.
    The child gets its own session: Ctrl-C reaches only this script, which
    then stops every child it started.
    """
    if cgroup:
        argv = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"',
                cgroup] + list(argv)
    proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr,
                            start_new_session=True)
    ctx.procs.append(proc)
    return proc


def reap(ctx, proc, timeout=None):
    """Wait for proc (SIGKILL after `timeout` s); return (exit code, rusage)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        flags = 0 if deadline is None else os.WNOHANG
        pid, status, usage = os.wait4(proc.pid, flags)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            deadline = None
        else:
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc in ctx.procs:
        ctx.procs.remove(proc)
    return proc.returncode, usage


def rusage_ns(usage):
    """User plus system CPU of a rusage, in nanoseconds."""
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


def process_cpu_ns(pid):
    """CPU used so far by pid: its threads plus the children it reaped.

    Threads from /proc/PID/task/*/schedstat (nanoseconds, steal excluded);
    reaped children from the cutime/cstime ticks of /proc/PID/stat, so the
    value can be subtracted from the wait4() rusage taken at exit.
    """
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            total += int(f.read().split()[0])
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    children_ticks = int(fields[13]) + int(fields[14])
    return total + children_ticks * 1_000_000_000 // CLK_TCK


def status_kib(pid, key):
    """A kB field of /proc/PID/status (VmHWM, VmRSS), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_quiet(argv, timeout=60):
    """Run a short command; return its stdout, or "" if it fails."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True,
                             timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return res.stdout if res.returncode == 0 else ""


# ------------------------------------------------------------------ cgroups

def cg_create(ctx, limit):
    """Create a fresh v1 memory cgroup with a limit; return its path."""
    ctx.cg_seq += 1
    path = os.path.join(CG_ROOT, "cwbench_%d_%d" % (os.getpid(), ctx.cg_seq))
    os.mkdir(path)
    ctx.cgroups.append(path)
    with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
        f.write(str(limit))
    return path


def cg_stat(path):
    """memory.stat of a cgroup as a dict of ints."""
    stat = {}
    with open(os.path.join(path, "memory.stat")) as f:
        for line in f:
            key, value = line.split()
            stat[key] = int(value)
    return stat


def cg_events(path):
    """Pages charged plus uncharged so far: pgpgin + pgpgout (v1 counters)."""
    stat = cg_stat(path)
    return stat["pgpgin"] + stat["pgpgout"]


def cg_remove(ctx, path):
    """Empty and remove a cgroup made by cg_create (tasks go to the root)."""
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            pids = f.read().split()
        for pid in pids:
            with open(os.path.join(CG_ROOT, "cgroup.procs"), "w") as f:
                f.write(pid)
        with open(os.path.join(path, "memory.force_empty"), "w") as f:
            f.write("0")
    except OSError:
        pass
    for _ in range(50):
        try:
            os.rmdir(path)
            break
        except FileNotFoundError:
            break
        except OSError:
            time.sleep(0.1)
    else:
        log("warning: could not remove cgroup %s" % path)
        return
    if path in ctx.cgroups:
        ctx.cgroups.remove(path)


# ------------------------------------------------------------------ system

def proc_stat_cpu():
    """(busy+idle total, steal) jiffies from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields[:8]), fields[7]


def bpf_prog_ids(pid):
    """Ids of the BPF programs a process holds (prog and link fds)."""
    ids = set()
    fd_dir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fd_dir):
        try:
            with open(os.path.join(fd_dir, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    return ids


def bpf_progs():
    """Every loaded BPF program, from bpftool prog show -j."""
    out = run_quiet(["bpftool", "prog", "show", "-j"])
    try:
        return json.loads(out) if out else []
    except ValueError:
        return []


def prog_run_stats(pid, names):
    """run_time_ns and run_cnt of the programs of pid named in names.

    names maps a hook ("add", "delete") to a program name; returns
    {hook: {"run_time_ns": N, "run_cnt": N}}.
    """
    ids = bpf_prog_ids(pid)
    stats = {}
    for prog in bpf_progs():
        if prog.get("id") not in ids:
            continue
        for hook, name in names.items():
            if prog.get("name") == name:
                stats[hook] = {"run_time_ns": prog.get("run_time_ns", 0),
                               "run_cnt": prog.get("run_cnt", 0)}
    return stats


def foreign_tracing_progs(own_ids):
    """Names of tracing BPF programs loaded by someone else (noise)."""
    kinds = ("tracing", "tracepoint", "raw_tracepoint", "kprobe", "perf_event")
    return sorted(p.get("name", "?") for p in bpf_progs()
                  if p.get("type") in kinds and p.get("id") not in own_ids)


def wait_for_quiet(ctx):
    """Wait until no one else's tracing BPF program is loaded.

    Another cachewatchd (an integration test, say) on the same hooks would
    add its cost to every configuration, base included.  Waits at most
    QUIET_WAIT_S per run and QUIET_BUDGET_S over the whole benchmark;
    returns the programs still loaded (the run is then flagged as noisy).
    """
    start = time.monotonic()
    deadline = start + min(QUIET_WAIT_S, ctx.quiet_budget)
    foreign = foreign_tracing_progs(set())
    while foreign and time.monotonic() < deadline:
        time.sleep(1)
        foreign = foreign_tracing_progs(set())
    ctx.quiet_budget = max(0.0, ctx.quiet_budget - (time.monotonic() - start))
    return foreign


def set_bpf_stats(ctx, value):
    """Set kernel.bpf_stats_enabled, remembering the first old value."""
    with open(BPF_STATS_SYSCTL) as f:
        old = f.read().strip()
    if ctx.bpf_stats_old is None:
        ctx.bpf_stats_old = old
    with open(BPF_STATS_SYSCTL, "w") as f:
        f.write(str(value))


def ensure_tracefs(ctx):
    """Mount tracefs if needed (bpftrace reads tracepoint formats there)."""
    if os.path.isdir(os.path.join(TRACEFS, "events")):
        return True
    res = subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        log("cannot mount tracefs: %s" % res.stderr.strip())
        return False
    ctx.mounted_tracefs = True
    return True


def fadvise_drop(ctx, files):
    """Drop the page cache of files with the fadv helper."""
    code, _ = reap(ctx, spawn(ctx, [ctx.binary("tests/helpers/fadv")] + files))
    if code != 0:
        raise BenchError("fadv failed on %s" % files)


# ------------------------------------------------------------------ configs

class Tracer:
    """A running configuration: its process and what it needs at stop."""

    def __init__(self, config, proc, tmpdir, reader=None, db=None):
        self.config = config
        self.proc = proc
        self.tmpdir = tmpdir
        self.reader = reader
        self.db = db
        self.ready_at = time.monotonic()


def new_tmpdir(ctx, tag):
    """A temporary directory inside the work directory (removed at cleanup)."""
    return tempfile.mkdtemp(prefix="%s-" % tag, dir=ctx.work)


def db_has_run(db):
    """True once cachewatchd has written its open runs row."""
    if not os.path.exists(db):
        return False
    try:
        conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1)
        try:
            row = conn.execute(
                "SELECT count(*) FROM runs WHERE stopped IS NULL").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row[0] == 1


def wait_ready(proc, is_ready, timeout, what):
    """Poll is_ready() until true; fail if proc exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not is_ready():
        if proc.poll() is not None:
            raise BenchError("%s exited (status %s) before it was ready"
                             % (what, proc.returncode))
        if time.monotonic() > deadline:
            raise BenchError("%s not ready after %d s" % (what, timeout))
        time.sleep(0.05)


def tracer_argv(ctx, config, tmpdir):
    """Command line of a configuration's process."""
    if config == "floor":
        return [ctx.binary("tests/bench/floor")]
    if config == "floor-keyed":
        return [ctx.binary("tests/bench/floor"), "--keyed"]
    if config == "bpftrace":
        return ["bpftrace", os.path.join(ctx.src, "tests/bench/peer.bt")]
    argv = [ctx.binary("cachewatchd"), "--db", os.path.join(tmpdir, "cachewatch.db"),
            "--interval", "10"]
    if config == "cachewatchd-sampled":
        argv += ["--refault-sample", "16"]
    return argv


def start_config(ctx, config):
    """Start a configuration and wait until it is attached; None for base.

    floor and bpftrace print "ready" once attached (bpftrace from BEGIN,
    which runs after every probe is attached); their stdout is read and,
    for bpftrace, dropped: the equivalent of /dev/null.  cachewatchd is
    ready when its open runs row exists.
    """
    if config == "base":
        return None
    tmpdir = new_tmpdir(ctx, config)
    errpath = os.path.join(tmpdir, "stderr.log")
    with open(errpath, "wb") as errlog:
        if config in ("floor", "floor-keyed", "bpftrace"):
            proc = spawn(ctx, tracer_argv(ctx, config, tmpdir),
                         stdout=subprocess.PIPE, stderr=errlog)
            reader = LineReader(proc.stdout, keep=0 if config == "bpftrace" else 100)
            reader.start()
            tracer = Tracer(config, proc, tmpdir, reader=reader)
            is_ready = reader.ready.is_set
        else:
            proc = spawn(ctx, tracer_argv(ctx, config, tmpdir), stderr=errlog)
            tracer = Tracer(config, proc, tmpdir, db=os.path.join(tmpdir, "cachewatch.db"))
            is_ready = lambda: db_has_run(tracer.db)
    try:
        wait_ready(proc, is_ready, 120, config)
    except BenchError as e:
        if proc.returncode is None:
            proc.kill()
            reap(ctx, proc)
        with open(errpath, errors="replace") as f:
            raise BenchError("%s; its stderr: %s" % (e, f.read()[-1000:]))
    tracer.ready_at = time.monotonic()
    return tracer


def parse_floor_counts(lines):
    """The counts line the floor loader prints at exit, as a dict."""
    for _, line in lines:
        if line.startswith("floor "):
            return {k: int(v) for k, v in
                    (item.split("=") for item in line.split()[1:])}
    return None


def db_bytes(db):
    """Size of a SQLite database plus its -wal file."""
    total = 0
    for path in (db, db + "-wal"):
        if os.path.exists(path):
            total += os.path.getsize(path)
    return total


def stop_config(ctx, tracer):
    """SIGTERM the configuration and collect its figures.

    Returns exit code, rusage CPU (ns), peak RSS (KiB: VmHWM just before the
    signal or ru_maxrss at exit, whichever is larger), lifetime since ready,
    the database size for cachewatchd and the counts for floor.
    """
    pid = tracer.proc.pid
    hwm = status_kib(pid, "VmHWM") or 0
    tracer.proc.send_signal(signal.SIGTERM)
    code, usage = reap(ctx, tracer.proc, timeout=60)
    stopped = time.monotonic()
    if tracer.reader:
        tracer.reader.join(timeout=10)
    result = {"exit_code": code, "cpu_ns_at_exit": rusage_ns(usage),
              "hwm_kib": max(hwm, usage.ru_maxrss),
              "lifetime_s": stopped - tracer.ready_at, "exited_at": stopped}
    if tracer.db:
        result["db_bytes"] = db_bytes(tracer.db)
    if tracer.config.startswith("floor"):
        result["floor_counts"] = parse_floor_counts(tracer.reader.lines)
    if code != 0:
        with open(os.path.join(tracer.tmpdir, "stderr.log"), errors="replace") as f:
            result["stderr_tail"] = f.read()[-2000:]
    return result


def measure_empty_db(ctx, repeat=3):
    """Bytes of a freshly created cachewatchd database (start, then stop).

    SQLite files grow by whole pages and not always by the same number, so
    this is done `repeat` times; returns (smallest, largest).
    """
    sizes = []
    for _ in range(repeat):
        tracer = start_config(ctx, "cachewatchd")
        # cachewatchd writes its runs row before it blocks SIGTERM (main.c
        # sets up its signalfd afterwards): a signal sent at once kills it.
        time.sleep(SETTLE_S)
        stop = stop_config(ctx, tracer)
        if stop["exit_code"] != 0:
            raise BenchError("cachewatchd exited %d: %s"
                             % (stop["exit_code"], stop.get("stderr_tail", "")))
        sizes.append(stop["db_bytes"])
    return min(sizes), max(sizes)


# ------------------------------------------------------------------ workloads

def prepare_files(ctx):
    """Create the exec file (random bytes), the sparse file and churn dir."""
    ctx.exec_file = os.path.join(ctx.work, "exec.bin")
    with open(ctx.exec_file, "wb") as f:
        for _ in range(EXEC_BYTES // MIB):
            f.write(os.urandom(MIB))
    ctx.sparse_file = os.path.join(ctx.work, "sparse.bin")
    with open(ctx.sparse_file, "wb") as f:
        f.truncate(SPARSE_BYTES)
    ctx.churn_dir = os.path.join(ctx.work, "churn")
    os.mkdir(ctx.churn_dir)


def median_or_none(values):
    """Median of the values that are not None, or None."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run_exec(ctx, cgroup, stats_run):
    """(a) exectouch for the whole scenario, memhog after a delay.

    Throughput is pages touched per second over the toucher's run; the
    press phase is the passes that ended while the hog was running.
    """
    d = ctx.durations["stats" if stats_run else "run"]
    start = time.monotonic()
    toucher = spawn(ctx, [ctx.binary("tests/helpers/exectouch"), ctx.exec_file,
                          str(d["exec_total"])], cgroup=cgroup, stdout=subprocess.PIPE)
    reader = LineReader(toucher.stdout)
    reader.start()
    time.sleep(d["exec_hog_delay"])
    hog_start = time.monotonic()
    hog = spawn(ctx, [ctx.binary("tests/helpers/memhog"), "72", str(d["exec_hog"])],
                cgroup=cgroup)
    code_t, usage_t = reap(ctx, toucher)
    wall = time.monotonic() - start
    code_h, usage_h = reap(ctx, hog)
    reader.join(timeout=10)
    if code_t != 0 or code_h != 0:
        raise BenchError("exectouch exited %d, memhog %d" % (code_t, code_h))
    pages = None
    press = []
    hog_end = hog_start + d["exec_hog"]
    for t, line in reader.lines:
        m = re.match(r"SUMMARY passes=\d+ avg_ms=[\d.]+ pages=(\d+)", line)
        if m:
            pages = int(m.group(1))
        m = re.match(r"pass \d+ ms=([\d.]+)", line)
        if m and hog_start <= t <= hog_end:
            press.append(float(m.group(1)))
    if pages is None:
        raise BenchError("no SUMMARY line from exectouch")
    return {"wall_s": wall, "throughput": pages / wall,
            "workload_cpu_ns": rusage_ns(usage_t) + rusage_ns(usage_h),
            "press_p50_ms": median_or_none(press), "press_passes": len(press)}


def fio_argv(ctx, kind, seconds):
    """fio command line for the randread (b) or seqread (c) workload."""
    argv = ["fio", "--name=" + kind, "--filename=" + ctx.sparse_file,
            "--size=%d" % SPARSE_BYTES, "--ioengine=psync", "--numjobs=1",
            "--runtime=%d" % seconds, "--time_based", "--invalidate=1",
            "--output-format=json"]
    if kind == "randread":
        return argv + ["--rw=randread", "--bs=4k"]
    return argv + ["--rw=read", "--bs=1m"]


def run_fio(ctx, cgroup, kind, stats_run):
    """(b)/(c) one fio job; throughput in IOPS (randread) or MB/s (seqread)."""
    seconds = ctx.durations["stats" if stats_run else "run"]["fio"]
    start = time.monotonic()
    proc = spawn(ctx, fio_argv(ctx, kind, seconds), cgroup=cgroup,
                 stdout=subprocess.PIPE)
    out = proc.stdout.read().decode(errors="replace")
    code, usage = reap(ctx, proc)
    wall = time.monotonic() - start
    if code != 0:
        raise BenchError("fio exited %d" % code)
    try:
        job = json.loads(out[out.index("{"):])["jobs"][0]
    except (ValueError, KeyError, IndexError):
        raise BenchError("cannot parse fio output: %s" % out[:300])
    if kind == "randread":
        throughput = job["read"]["iops"]
    else:
        throughput = job["read"]["bw_bytes"] / 1e6
    return {"wall_s": wall, "throughput": throughput,
            "workload_cpu_ns": rusage_ns(usage)}


def run_churn(ctx, cgroup, stats_run):
    """(d) the churn helper; throughput in files per second."""
    seconds = ctx.durations["stats" if stats_run else "run"]["churn"]
    start = time.monotonic()
    proc = spawn(ctx, [ctx.binary("tests/bench/churn"), "-t", str(seconds),
                       ctx.churn_dir], cgroup=cgroup, stdout=subprocess.PIPE)
    out = proc.stdout.read().decode(errors="replace")
    code, usage = reap(ctx, proc)
    wall = time.monotonic() - start
    m = re.search(r"files=(\d+) seconds=([\d.]+) files_per_s=([\d.]+)", out)
    if code != 0 or not m:
        raise BenchError("churn exited %d: %s" % (code, out.strip()))
    return {"wall_s": wall, "throughput": float(m.group(3)),
            "files": int(m.group(1)), "workload_cpu_ns": rusage_ns(usage)}


def run_workload(ctx, workload, cgroup, stats_run):
    """Dispatch to the workload's runner."""
    if workload == "exec":
        return run_exec(ctx, cgroup, stats_run)
    if workload in ("randread", "seqread"):
        return run_fio(ctx, cgroup, workload, stats_run)
    return run_churn(ctx, cgroup, stats_run)


def workload_files(ctx, workload):
    """Files whose page cache is dropped before a run of the workload."""
    if workload == "exec":
        return [ctx.exec_file]
    if workload in ("randread", "seqread"):
        return [ctx.sparse_file]
    return []


# ------------------------------------------------------------------ one run

def run_one(ctx, workload, config, round_no, stats_run=False):
    """One workload under one configuration; returns the run's record.

    Order: fresh memcg, drop the files' cache, start the configuration,
    settle, snapshot, workload, snapshot, stop the configuration, remove
    the memcg.  A failure is recorded in the record, not raised.
    """
    rec = {"round": round_no, "workload": workload, "config": config,
           "stats_run": stats_run, "ok": False}
    started = time.monotonic()
    cgroup = None
    tracer = None
    try:
        waited = time.monotonic()
        foreign = set(wait_for_quiet(ctx))
        rec["quiet_wait_s"] = time.monotonic() - waited
        cgroup = cg_create(ctx, WORKLOADS[workload]["limit"])
        files = workload_files(ctx, workload)
        if files:
            fadvise_drop(ctx, files)
        tracer = start_config(ctx, config)
        time.sleep(SETTLE_S)
        own = bpf_prog_ids(tracer.proc.pid) if tracer else set()
        foreign.update(foreign_tracing_progs(own))
        names = PROG_NAMES.get(config)
        if stats_run:
            prog_before = prog_run_stats(tracer.proc.pid, names)
        if tracer:
            cpu_before = process_cpu_ns(tracer.proc.pid)
            cpu_before_at = time.monotonic()
        events_before = cg_events(cgroup)
        total_before, steal_before = proc_stat_cpu()

        rec.update(run_workload(ctx, workload, cgroup, stats_run))

        events = cg_events(cgroup) - events_before
        total_after, steal_after = proc_stat_cpu()
        foreign.update(foreign_tracing_progs(own))
        rec["foreign_progs"] = sorted(foreign)
        if stats_run:
            prog_after = prog_run_stats(tracer.proc.pid, names)
            rec["bpf"] = bpf_delta(prog_before, prog_after)
        if tracer:
            rec["tracer_cpu_during_ns"] = process_cpu_ns(tracer.proc.pid) - cpu_before
            stop = stop_config(ctx, tracer)
            tracer = None
            rec.update(tracer_figures(ctx, stop, cpu_before, cpu_before_at, events))
        rec["events"] = events
        rec["events_per_s"] = events / rec["wall_s"]
        rec["workload_cpu_ns_per_event"] = (rec["workload_cpu_ns"] / events
                                            if events else None)
        rec["steal_pct"] = (100.0 * (steal_after - steal_before)
                            / max(1, total_after - total_before))
        rec["ok"] = not rec.get("error")
    except (BenchError, OSError, subprocess.SubprocessError) as e:
        rec["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if tracer:
            stop_config(ctx, tracer)
        if cgroup:
            cg_remove(ctx, cgroup)
    rec["run_s"] = time.monotonic() - started
    return rec


def bpf_delta(before, after):
    """Per-hook run_time_ns/run_cnt differences and ns per run."""
    delta = {}
    for hook, a in after.items():
        b = before.get(hook, {"run_time_ns": 0, "run_cnt": 0})
        ns = a["run_time_ns"] - b["run_time_ns"]
        cnt = a["run_cnt"] - b["run_cnt"]
        delta[hook] = {"run_time_ns": ns, "run_cnt": cnt,
                       "ns_per_run": ns / cnt if cnt else None}
    return delta


def tracer_figures(ctx, stop, cpu_before, cpu_before_at, events):
    """Tracer CPU, RSS and database figures of one run.

    Tracer CPU is counted from just before the workload to the tracer's
    exit, so cachewatchd's last interval write (which drains the
    workload's events) is included; the % of a core uses the same span.
    """
    cpu = stop["cpu_ns_at_exit"] - cpu_before
    span = stop["exited_at"] - cpu_before_at
    fig = {"tracer_exit_code": stop["exit_code"],
           "tracer_cpu_s": cpu / 1e9,
           "tracer_cpu_span_s": span,
           "tracer_core_pct": 100.0 * cpu / 1e9 / span,
           "tracer_ns_per_event": cpu / events if events else None,
           "tracer_hwm_kib": stop["hwm_kib"],
           "tracer_lifetime_s": stop["lifetime_s"]}
    if stop["exit_code"] != 0:
        fig["error"] = "tracer exited %d: %s" % (stop["exit_code"],
                                                 stop.get("stderr_tail", ""))
    if "db_bytes" in stop:
        fig["db_bytes"] = stop["db_bytes"]
        if ctx.empty_db_bytes is not None:
            fig["db_bytes_per_hour"] = ((stop["db_bytes"] - ctx.empty_db_bytes)
                                        / stop["lifetime_s"] * 3600)
    if stop.get("floor_counts"):
        fig["floor_counts"] = stop["floor_counts"]
    return fig


# ------------------------------------------------------------------ schedule

def progress_line(i, total, rec):
    """One line of progress for a finished run."""
    head = "[%d/%d] %s%s/%s" % (i, total, "stats " if rec["stats_run"] else
                                "round %d " % rec["round"], rec["workload"], rec["config"])
    head += " (%.1f s)" % rec["run_s"]
    if not rec["ok"]:
        return "%s: FAILED: %s" % (head, rec.get("error", "?"))
    text = "%s: %s %s, %s events/s" % (head, fmt(rec["throughput"]),
                                       WORKLOADS[rec["workload"]]["unit"],
                                       fmt(rec["events_per_s"]))
    if "tracer_core_pct" in rec:
        text += ", tracer %.2f %% of a core" % rec["tracer_core_pct"]
    for hook, b in sorted(rec.get("bpf", {}).items()):
        text += ", %s %s ns/run" % (hook, fmt(b["ns_per_run"]))
    return text


def rotated(items, shift):
    """items rotated left by shift."""
    shift %= len(items)
    return items[shift:] + items[:shift]


def throughput_rounds(ctx, workloads, configs):
    """The interleaved rounds: per round, per workload, rotated configs."""
    runs = []
    total = ctx.args.rounds * len(workloads) * len(configs)
    for r in range(ctx.args.rounds):
        for wi, workload in enumerate(workloads):
            for config in rotated(configs, r + wi):
                rec = run_one(ctx, workload, config, r)
                runs.append(rec)
                log(progress_line(len(runs), total, rec))
    return runs


def stats_runs(ctx, workloads, configs):
    """One run per workload and configuration with bpf_stats enabled."""
    runs = []
    total = len(workloads) * len(configs)
    set_bpf_stats(ctx, 1)
    try:
        for workload in workloads:
            for config in configs:
                rec = run_one(ctx, workload, config, 0, stats_run=True)
                runs.append(rec)
                log(progress_line(len(runs), total, rec))
    finally:
        restore_bpf_stats(ctx)
    return runs


def restore_bpf_stats(ctx):
    """Put kernel.bpf_stats_enabled back to the value found at start."""
    if ctx.bpf_stats_old is None:
        return
    with open(BPF_STATS_SYSCTL, "w") as f:
        f.write(ctx.bpf_stats_old)
    ctx.bpf_stats_old = None


# ------------------------------------------------------------------ synthetic

def parse_keyvals(line):
    """key=value words of a line as a dict of numbers (or strings)."""
    values = {}
    for word in line.split():
        if "=" not in word:
            continue
        key, value = word.split("=", 1)
        try:
            values[key] = float(value) if "." in value else int(value)
        except ValueError:
            values[key] = value
    return values


def time_query(db, sql, repeat):
    """Median seconds of a read-only query (fresh connection each time).

    Returns (seconds, rows, note).  A run longer than QUERY_TIMEOUT_S is
    interrupted (progress handler) and reported as that many seconds; the
    repeats stop once QUERY_TIMEOUT_S has been spent in total.
    """
    times = []
    rows = 0
    spent = 0.0
    for _ in range(repeat):
        conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        start = time.perf_counter()
        deadline = start + QUERY_TIMEOUT_S
        conn.set_progress_handler(lambda: time.perf_counter() > deadline, 100000)
        try:
            rows = len(conn.execute(sql).fetchall())
        except sqlite3.OperationalError:
            if INTERRUPTED.is_set():
                raise KeyboardInterrupt
            if time.perf_counter() < deadline:
                raise
            return QUERY_TIMEOUT_S, None, "interrupted after %d s" % QUERY_TIMEOUT_S
        finally:
            conn.close()
        times.append(time.perf_counter() - start)
        spent += times[-1]
        if spent > QUERY_TIMEOUT_S:
            break
    return statistics.median(times), rows, "median of %d" % len(times)


def time_report(ctx, db, repeat, form):
    """Median seconds of `cachewatch report --db DB --format FORM`, or a reason."""
    cli = ctx.binary("cachewatch")
    if not os.access(cli, os.X_OK):
        return None, "not built yet"
    times = []
    for _ in range(repeat):
        start = time.monotonic()
        try:
            res = subprocess.run([cli, "report", "--db", db, "--format", form],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 timeout=QUERY_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            return QUERY_TIMEOUT_S, "killed after %d s" % QUERY_TIMEOUT_S
        times.append(time.monotonic() - start)
        if res.returncode != 0:
            return None, "failed (exit %d): %s" % (res.returncode,
                                                   res.stderr.decode(errors="replace")[-300:])
    return statistics.median(times), None


def remove_db(db):
    """Remove a SQLite database and its -wal/-shm files."""
    for path in (db, db + "-wal", db + "-shm"):
        if os.path.exists(path):
            os.remove(path)


def synthetic_db(ctx):
    """dbgen's 24 h database: its size, v_exec_thrash time, report time."""
    dbgen = ctx.binary("tests/bench/dbgen")
    if not os.access(dbgen, os.X_OK):
        return {"status": "not built"}
    db = os.path.join(ctx.out, "synthetic24h.db")
    remove_db(db)
    log("dbgen: generating a 24 h database ...")
    start = time.monotonic()
    try:
        res = subprocess.run([dbgen, "--db", db, "--hours", "24"], capture_output=True,
                             text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        remove_db(db)
        return {"status": "dbgen killed after 900 s"}
    result = {"status": "ok", "dbgen_wall_s": time.monotonic() - start,
              "dbgen_output": res.stdout.strip()}
    if res.returncode != 0:
        result["status"] = "dbgen failed (exit %d): %s" % (res.returncode,
                                                           res.stderr.strip()[-500:])
        remove_db(db)
        return result
    result.update(parse_keyvals(res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""))
    result["db_bytes"] = db_bytes(db)
    try:
        (result["v_exec_thrash_s"], result["v_exec_thrash_rows"],
         result["v_exec_thrash_note"]) = time_query(db, "SELECT * FROM v_exec_thrash", 5)
    except sqlite3.Error as e:
        result["v_exec_thrash_error"] = str(e)
    for form in REPORT_FORMATS:
        result["report_%s_s" % form], result["report_%s_note" % form] = \
            time_report(ctx, db, 3, form)
    if not ctx.args.keep_db:
        remove_db(db)
    return result


# ------------------------------------------------------------------ results

def good(runs, workload, config, stats_run=False):
    """The successful runs of one workload and configuration."""
    return [r for r in runs if r["ok"] and r["workload"] == workload
            and r["config"] == config and r["stats_run"] == stats_run]


def field_median(runs, key):
    """Median of a field over runs that have it."""
    return median_or_none([r.get(key) for r in runs])


def paired_ratios(runs, workload, config):
    """Per-round throughput ratio config/base (same round, same workload)."""
    base = {r["round"]: r["throughput"] for r in good(runs, workload, "base")}
    return [r["throughput"] / base[r["round"]] for r in good(runs, workload, config)
            if base.get(r["round"])]


def summarize(runs, workloads, configs):
    """Per workload and configuration: medians, ratios and costs."""
    summary = {}
    for w in workloads:
        base_median = field_median(good(runs, w, "base"), "throughput")
        base_cpu = field_median(good(runs, w, "base"), "workload_cpu_ns_per_event")
        summary[w] = {}
        for c in configs:
            rs = good(runs, w, c)
            thr = field_median(rs, "throughput")
            hwm = [r["tracer_hwm_kib"] for r in rs if r.get("tracer_hwm_kib")]
            summary[w][c] = {
                "n": len(rs),
                "noisy": len([r for r in rs if r.get("foreign_progs")]),
                "throughput": thr,
                "ratio": thr / base_median if thr and base_median else None,
                "paired_ratio": median_or_none(paired_ratios(runs, w, c)),
                "events_per_s": field_median(rs, "events_per_s"),
                "workload_cpu_ns_per_event": field_median(rs, "workload_cpu_ns_per_event"),
                "tracer_cpu_s": field_median(rs, "tracer_cpu_s"),
                "tracer_core_pct": field_median(rs, "tracer_core_pct"),
                "tracer_ns_per_event": field_median(rs, "tracer_ns_per_event"),
                "extra_ns_per_event": extra_cpu(rs, base_cpu),
                "tracer_peak_rss_mib": max(hwm) / 1024 if hwm else None,
                "db_bytes_per_hour": field_median(rs, "db_bytes_per_hour"),
                "press_p50_ms": field_median(rs, "press_p50_ms"),
            }
    return summary


def extra_cpu(runs, base_cpu):
    """Extra CPU per event over base: workload CPU/event minus base's median,
    plus the tracer's own CPU/event (medians)."""
    cpu = field_median(runs, "workload_cpu_ns_per_event")
    if cpu is None or base_cpu is None:
        return None
    return cpu - base_cpu + (field_median(runs, "tracer_ns_per_event") or 0)


def resolution(runs, workloads):
    """Spread of base throughput across rounds, per workload (fractions)."""
    res = {}
    for w in workloads:
        thr = [r["throughput"] for r in good(runs, w, "base")]
        if len(thr) < 2:
            res[w] = {"n": len(thr), "half_range": None}
            continue
        med = statistics.median(thr)
        res[w] = {"n": len(thr), "min": min(thr), "max": max(thr), "median": med,
                  "half_range": (max(thr) - min(thr)) / 2 / med}
    return res


def bpf_costs(runs, workloads, configs):
    """BPF ns per run per hook, weighted per event, and ratio to floor."""
    table = {}
    for w in workloads + ["all"]:
        table[w] = {}
        for c in configs:
            rs = [r for r in runs if r["ok"] and r["stats_run"] and r["config"] == c
                  and (w == "all" or r["workload"] == w)]
            if not rs:
                continue
            entry = {}
            for hook in ("add", "delete"):
                ns = sum(r["bpf"].get(hook, {}).get("run_time_ns", 0) for r in rs)
                cnt = sum(r["bpf"].get(hook, {}).get("run_cnt", 0) for r in rs)
                entry[hook] = {"run_time_ns": ns, "run_cnt": cnt,
                               "ns_per_run": ns / cnt if cnt else None}
            ns = entry["add"]["run_time_ns"] + entry["delete"]["run_time_ns"]
            cnt = entry["add"]["run_cnt"] + entry["delete"]["run_cnt"]
            entry["ns_per_event"] = ns / cnt if cnt else None
            table[w][c] = entry
        if not table[w]:
            del table[w]
            continue
        floor = table[w].get("floor", {}).get("ns_per_event")
        for entry in table[w].values():
            entry["vs_floor"] = (entry["ns_per_event"] / floor
                                 if floor and entry["ns_per_event"] else None)
    return table


def loss(s):
    """Throughput loss (1 - ratio) from the paired ratio, else the medians."""
    ratio = s["paired_ratio"] if s["paired_ratio"] is not None else s["ratio"]
    return None if ratio is None else 1 - ratio


def target(name, value, shown, limit, met, note=""):
    """One row of the targets table; met is True, False or None (n/a)."""
    if met is None:
        verdict = "n/a"
    else:
        verdict = "met" if met else "missed"
    return {"target": name, "value": value, "measured": shown, "limit": limit,
            "verdict": verdict, "note": note}


def evaluate_targets(summary, res, bpf, synthetic):
    """Every target against its measured figure (cachewatchd, default options)."""
    rows = []
    cw = {w: s.get("cachewatchd") for w, s in summary.items()}

    ratio = bpf.get("all", {}).get("cachewatchd", {}).get("vs_floor")
    keyed = bpf.get("all", {}).get("floor-keyed", {}).get("vs_floor")
    note = "bpf_stats runs, all workloads pooled"
    if keyed:
        note += ("; floor-keyed (floor + one per-CPU hash update keyed by memcg "
                 "and inode, the least that names cgroup and file) is %.2fx" % keyed)
    rows.append(target("BPF cost per event (add+delete, weighted), cachewatchd / floor",
                       ratio, fmt(ratio, "{:.2f}x"), "<= 1.25x",
                       at_most(ratio, 1.25), note))

    for w, limit in LOSS_TARGETS.items():
        if not cw.get(w):
            continue
        value = loss(cw[w])
        noise = res.get(w, {}).get("half_range")
        note = ""
        if noise is not None and noise > limit:
            note = "%g %% is below the resolution (base spread +-%.1f %%)" % (
                100 * limit, 100 * noise)
        rows.append(target("Throughput loss vs base, (%s) %s" % (WORKLOADS[w]["letter"], w),
                           value, fmt(pct(value), "{:+.1f} %"), "<= %g %%" % (100 * limit),
                           at_most(value, limit), note))

    rows.append(bpftrace_target(summary))
    rows.append(daemon_cpu_target(summary))

    hwm = max((s["tracer_peak_rss_mib"] for s in cw.values()
               if s and s["tracer_peak_rss_mib"]), default=None)
    rows.append(target("Daemon peak RSS (VmHWM)", hwm, fmt(hwm, "{:.1f} MiB"),
                       "<= 32 MiB", at_most(hwm, 32), "max over runs"))

    day = synthetic.get("db_bytes")
    rows.append(target("Database size per day (dbgen, 24 h)", day,
                       fmt(None if day is None else day / 1e6, "{:.1f} MB"), "<= 100 MB",
                       at_most(day, 100e6), synthetic.get("status", "")))
    q = synthetic.get("v_exec_thrash_s")
    rows.append(target("SELECT * FROM v_exec_thrash over 24 h", q,
                       fmt(None if q is None else q * 1000, "{:.1f} ms"), "<= 100 ms",
                       at_most(q, 0.1), synthetic.get("v_exec_thrash_note", "")))
    for form in REPORT_FORMATS:
        rep = synthetic.get("report_%s_s" % form)
        rows.append(target("cachewatch report --format %s over 24 h" % form, rep,
                           fmt(rep, "{:.2f} s"), "<= 5 s", at_most(rep, 5),
                           synthetic.get("report_%s_note" % form) or "median of 3"))
    return rows


def at_most(value, limit):
    """value <= limit, or None when there is no value."""
    return None if value is None else value <= limit


def pct(fraction):
    """A fraction as percent, None-safe."""
    return None if fraction is None else 100 * fraction


def bpftrace_target(summary):
    """(b): bpftrace's overhead must be at least 3x cachewatchd's."""
    s = summary.get("randread", {})
    if not s.get("cachewatchd") or not s.get("bpftrace"):
        return target("bpftrace overhead / cachewatchd overhead on (b)", None, "–",
                      ">= 3x", None, "needs both configurations")
    o_cw, o_bt = loss(s["cachewatchd"]), loss(s["bpftrace"])
    if o_cw is None or o_bt is None:
        return target("bpftrace overhead / cachewatchd overhead on (b)", None, "–",
                      ">= 3x", None, "no paired runs")
    shown = "%.1f %% vs %.1f %%" % (100 * o_bt, 100 * o_cw)
    if o_cw <= 0:
        if o_bt > 0:
            return target("bpftrace overhead / cachewatchd overhead on (b)", None, shown,
                          ">= 3x", True, "cachewatchd shows no loss at all")
        return target("bpftrace overhead / cachewatchd overhead on (b)", None, shown,
                      ">= 3x", None, "neither shows a loss")
    ratio = o_bt / o_cw
    return target("bpftrace overhead / cachewatchd overhead on (b)", ratio,
                  "%.1fx (%s)" % (ratio, shown), ">= 3x", ratio >= 3,
                  "overhead = 1 - paired throughput ratio")


def daemon_cpu_target(summary):
    """Daemon CPU per event scaled to 50 k events/s; the worst workload counts.

    The worst case is taken because the daemon's cost per event depends on
    the workload (many short-lived files cost more than a few busy ones).
    """
    worst = None
    for w, s in summary.items():
        cw = s.get("cachewatchd")
        if not cw or cw["tracer_ns_per_event"] is None:
            continue
        value = cw["tracer_ns_per_event"] * EVENTS_REFERENCE / 1e9 * 100
        if worst is None or value > worst[0]:
            worst = (value, w, cw)
    if worst is None:
        return target("Daemon CPU at 50 k events/s", None, "–", "<= 2 % of one core",
                      None, "no cachewatchd runs")
    value, w, cw = worst
    return target("Daemon CPU at 50 k events/s", value, "%.2f %% of one core" % value,
                  "<= 2 % of one core", value <= 2,
                  "worst workload (%s): %s ns/event, measured %.2f %% at %s events/s"
                  % (WORKLOADS[w]["letter"], fmt(cw["tracer_ns_per_event"], "{:.1f}"),
                     cw["tracer_core_pct"], fmt(cw["events_per_s"])))


# ------------------------------------------------------------------ output

def fmt(value, spec="{:,.0f}"):
    """Format a number, or a dash for None."""
    if value is None:
        return "–"
    return spec.format(value)


def md_table(headers, rows):
    """Markdown table lines."""
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    return lines


def md_environment(env, settings):
    """The environment and settings section."""
    lines = ["- date: %s; wall time %.1f min" % (env["date"], settings["wall_s"] / 60),
             "- kernel %s, %d CPUs (%s), %s MiB RAM" % (env["kernel"], env["cpus"],
                                                       env["cpu_model"], env["mem_mib"]),
             "- git %s" % env["git"],
             "- tools: " + "; ".join("%s %s" % kv for kv in env["tools"].items()),
             "- rounds %d%s; workloads %s; configurations %s" % (
                 settings["rounds"], " (quick)" if settings["quick"] else "",
                 ", ".join(settings["workloads"]), ", ".join(settings["configs"])),
             "- durations (s): throughput runs %s; bpf_stats runs %s; settle %.0f s "
             "after the configuration is ready" % (
                 json.dumps(settings["durations_s"]["run"]),
                 json.dumps(settings["durations_s"]["stats"]), settings["settle_s"]),
             "- tracing programs of others loaded at start: %s"
             % (", ".join(env["foreign_progs"]) or "none")]
    return lines


def md_targets(targets):
    """The targets table."""
    rows = [[t["target"], t["measured"], t["limit"], "**%s**" % t["verdict"], t["note"]]
            for t in targets]
    return md_table(["target", "measured", "limit", "verdict", "note"], rows)


def md_resolution(res):
    """What differences the method can resolve, from base's spread."""
    lines = ["Throughput of `base` across rounds (half the min-max range, relative "
             "to the median). A throughput target tighter than this cannot be "
             "confirmed or refuted by these runs; paired ratios cancel slow drift "
             "but not run-to-run noise.", ""]
    rows = []
    for w, r in res.items():
        rows.append(["(%s) %s" % (WORKLOADS[w]["letter"], w), str(r["n"]),
                     fmt(pct(r["half_range"]), "+-{:.1f} %"),
                     "%s .. %s" % (fmt(r.get("min")), fmt(r.get("max")))])
    return lines + md_table(["workload", "n", "spread", "base min .. max"], rows)


def md_workload(w, per_config):
    """One workload's table: a row per configuration."""
    info = WORKLOADS[w]
    headers = ["config", "n", "throughput (%s)" % info["unit"], "ratio vs base",
               "paired ratio", "events/s", "workload CPU ns/event",
               "extra CPU ns/event", "tracer CPU s",
               "tracer % core", "tracer ns/event", "tracer peak RSS MiB", "DB MB/h"]
    if w == "exec":
        headers.append("press p50 ms")
    rows = []
    for c, s in per_config.items():
        n = str(s["n"]) + (" (%d noisy)" % s["noisy"] if s["noisy"] else "")
        row = [c, n, fmt(s["throughput"]), fmt(s["ratio"], "{:.3f}"),
               fmt(s["paired_ratio"], "{:.3f}"), fmt(s["events_per_s"]),
               fmt(s["workload_cpu_ns_per_event"]), fmt(s["extra_ns_per_event"], "{:+,.0f}"),
               fmt(s["tracer_cpu_s"], "{:.3f}"),
               fmt(s["tracer_core_pct"], "{:.2f}"), fmt(s["tracer_ns_per_event"], "{:.1f}"),
               fmt(s["tracer_peak_rss_mib"], "{:.1f}"),
               fmt(None if s["db_bytes_per_hour"] is None else s["db_bytes_per_hour"] / 1e6,
                   "{:.2f}")]
        if w == "exec":
            row.append(fmt(s["press_p50_ms"], "{:.1f}"))
        rows.append(row)
    return ["### (%s) %s" % (info["letter"], w), "", info["title"] + ".", ""] + \
        md_table(headers, rows)


def md_bpf(bpf):
    """BPF run time per event from the bpf_stats runs."""
    rows = []
    for w, per_config in bpf.items():
        label = "all (pooled)" if w == "all" else "(%s) %s" % (WORKLOADS[w]["letter"], w)
        for c, e in per_config.items():
            rows.append([label, c,
                         "%s (%s)" % (fmt(e["add"]["ns_per_run"]), fmt(e["add"]["run_cnt"])),
                         "%s (%s)" % (fmt(e["delete"]["ns_per_run"]),
                                      fmt(e["delete"]["run_cnt"])),
                         fmt(e["ns_per_event"]), fmt(e["vs_floor"], "{:.2f}x")])
    return md_table(["workload", "config", "add ns/run (runs)", "delete ns/run (runs)",
                     "ns/event", "vs floor"], rows)


def md_synthetic(syn):
    """The synthetic database section."""
    if syn.get("status") != "ok":
        return ["- dbgen: %s" % syn.get("status", "skipped")]
    lines = ["- dbgen: `%s` (%.1f s)" % (syn.get("dbgen_output", ""), syn["dbgen_wall_s"]),
             "- size after 24 h: %s bytes (%.1f MB)" % (fmt(syn["db_bytes"]),
                                                       syn["db_bytes"] / 1e6)]
    if "v_exec_thrash_s" in syn:
        lines.append("- `SELECT * FROM v_exec_thrash`: %.1f ms, %s (%s rows)"
                     % (syn["v_exec_thrash_s"] * 1000, syn["v_exec_thrash_note"],
                        fmt(syn["v_exec_thrash_rows"])))
    else:
        lines.append("- `SELECT * FROM v_exec_thrash`: error %s"
                     % syn.get("v_exec_thrash_error"))
    for form in REPORT_FORMATS:
        if syn.get("report_%s_s" % form) is not None:
            lines.append("- `cachewatch report --format %s`: %.2f s, %s"
                         % (form, syn["report_%s_s" % form],
                            syn.get("report_%s_note" % form) or "median of 3"))
        else:
            lines.append("- `cachewatch report --format %s`: %s"
                         % (form, syn.get("report_%s_note" % form)))
    return lines


def empty_db_note(results):
    """What the empty-database size was and how much it varied."""
    low, high = results["empty_db_bytes"], results["empty_db_max_bytes"]
    if low is None:
        return ""
    return (" Empty database (start, stop; 3 times): %s to %s bytes; a difference "
            "of that size is page-allocation noise, not data." % (fmt(low), fmt(high)))


def md_notes(results):
    """Method notes, failures and interference seen during the runs."""
    runs = results["runs"]
    failed = [r for r in runs if not r["ok"]]
    foreign = [r for r in runs if r.get("foreign_progs")]
    lines = [
        "- events = memcg v1 `pgpgin + pgpgout` delta of the workload's cgroup "
        "(folio charge/uncharge events; equal to BPF event counts for order-0 "
        "folios); events/s over the workload's wall time.",
        "- workload CPU: wait4() rusage of the workload processes; tracer CPU: "
        "schedstat of the tracer just before the workload to its wait4() "
        "rusage at exit, so cachewatchd's final interval write is included; "
        "`% core` divides by that span.",
        "- throughput ratio = median / base median; paired ratio = median over "
        "rounds of (run / base run of the same round).",
        "- extra CPU ns/event = workload CPU/event minus base's, plus tracer "
        "CPU/event (medians): the cost per event as the workload and the "
        "tracer see it, including the BPF programs.",
        "- DB MB/h = (db + wal bytes after exit - empty database) / daemon "
        "lifetime x 3600; a short run holds one or two interval writes, so "
        "this overstates a steady state with 10 s intervals.%s" % empty_db_note(results),
        "- BPF ns/run come from separate runs with kernel.bpf_stats_enabled=1 "
        "(not used for throughput); they include ~60-80 ns of stats "
        "bookkeeping per run on this VM.",
    ]
    if failed:
        lines.append("- %d run(s) failed:" % len(failed))
        for r in failed:
            lines.append("  - %s/%s round %d: %s" % (r["workload"], r["config"],
                                                     r["round"], r.get("error")))
    if foreign:
        names = sorted({n for r in foreign for n in r["foreign_progs"]})
        lines.append("- %d run(s) (\"noisy\" in the tables) had someone else's tracing "
                     "BPF programs loaded before or after the workload, after waiting "
                     "up to %d s for them to go: %s. They are kept in the medians."
                     % (len(foreign), QUIET_WAIT_S, ", ".join(names)))
    waited = sum(r.get("quiet_wait_s", 0) for r in runs)
    if waited >= 1:
        lines.append("- waited %.0f s in all for other tracers to unload" % waited)
    floors = [r for r in runs if r["ok"] and r.get("floor_counts")]
    if floors:
        ratio = median_or_none([(r["floor_counts"]["add_events"]
                                 + r["floor_counts"]["delete_events"]) / r["events"]
                                for r in floors if r["events"]])
        lines.append("- floor's BPF event count (system-wide, attach to exit) / memcg "
                     "events: median %s" % fmt(ratio, "{:.3f}"))
    return lines


def markdown(results):
    """The whole report as Markdown text."""
    lines = ["# cachewatch benchmark", ""]
    lines += md_environment(results["environment"], results["settings"])
    lines += ["", "## Targets", "",
              "Judged on cachewatchd with default options (`--interval 10`).", ""]
    lines += md_targets(results["targets"])
    lines += ["", "## Resolution of the method", ""]
    lines += md_resolution(results["resolution"])
    lines += ["", "## Workloads", ""]
    for w, per_config in results["summary"].items():
        lines += md_workload(w, per_config) + [""]
    if results["bpf"]:
        lines += ["## BPF run time per event (bpf_stats runs)", ""]
        lines += md_bpf(results["bpf"]) + [""]
    lines += ["## Synthetic 24 h database", ""]
    lines += md_synthetic(results["synthetic"])
    lines += ["", "## Notes", ""]
    lines += md_notes(results)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ setup

def first_line(argv):
    """First line of a command's output (version strings)."""
    out = run_quiet(argv)
    return out.strip().splitlines()[0] if out.strip() else "unavailable"


def environment(ctx):
    """Kernel, CPUs, date, git commit and tool versions."""
    git = run_quiet(["git", "-C", ctx.src, "rev-parse", "--short", "HEAD"]).strip()
    if git and run_quiet(["git", "-C", ctx.src, "status", "--porcelain"]).strip():
        git += " (with uncommitted changes)"
    cpu_model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_mib = int(f.readline().split()[1]) // 1024
    tools = {
        "fio": first_line(["fio", "--version"]),
        "bpftrace": first_line(["bpftrace", "--version"]),
        "bpftool": first_line(["bpftool", "version"]),
        "clang": first_line(["clang", "--version"]),
        "libbpf": run_quiet(["dpkg-query", "-W", "-f", "${Version}", "libbpf1"]).strip()
        or "?",
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
    }
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "kernel": platform.release(), "cpus": os.cpu_count(), "cpu_model": cpu_model,
            "mem_mib": mem_mib, "git": git or "unknown", "tools": tools,
            "foreign_progs": foreign_tracing_progs(set())}


def parse_args():
    """Command line."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="cachewatch overhead benchmark (root)")
    p.add_argument("--build", required=True, help="build directory (cachewatchd, helpers)")
    p.add_argument("--out", required=True, help="output directory (bench.md, bench.json)")
    p.add_argument("--src", default=os.path.normpath(os.path.join(here, "..", "..")),
                   help="source directory (peer.bt, git commit)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--quick", action="store_true",
                   help="short workloads (3 s, exec scenario 10 s)")
    p.add_argument("--only", default=",".join(WORKLOADS),
                   help="workloads, comma-separated: " + ",".join(WORKLOADS))
    p.add_argument("--configs", default=",".join(CONFIGS),
                   help="configurations, comma-separated: " + ",".join(CONFIGS))
    p.add_argument("--no-bpf-stats", action="store_true", help="skip the bpf_stats runs")
    p.add_argument("--no-synthetic", action="store_true", help="skip dbgen and the queries")
    p.add_argument("--keep-db", action="store_true", help="keep OUT/synthetic24h.db")
    args = p.parse_args()
    args.only = [w for w in args.only.split(",") if w]
    args.configs = [c for c in args.configs.split(",") if c]
    for w in args.only:
        if w not in WORKLOADS:
            p.error("unknown workload %s (known: %s)" % (w, ", ".join(WORKLOADS)))
    for c in args.configs:
        if c not in CONFIGS:
            p.error("unknown configuration %s (known: %s)" % (c, ", ".join(CONFIGS)))
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def check_prerequisites(ctx):
    """Refuse early, with a clear message, when something is missing."""
    if not os.path.exists(os.path.join(CG_ROOT, "memory.limit_in_bytes")):
        raise BenchError("no cgroup v1 memory hierarchy at %s" % CG_ROOT)
    needed = ["tests/helpers/exectouch", "tests/helpers/memhog", "tests/helpers/fadv",
              "tests/bench/churn"]
    if any(c.startswith("floor") for c in ctx.args.configs):
        needed.append("tests/bench/floor")
    if any(c.startswith("cachewatchd") for c in ctx.args.configs):
        needed.append("cachewatchd")
    for rel in needed:
        if not os.access(ctx.binary(rel), os.X_OK):
            raise BenchError("%s is not built (run `make bench` in %s)"
                             % (ctx.binary(rel), ctx.build))
    if set(ctx.args.only) & {"randread", "seqread"} and not shutil.which("fio"):
        raise BenchError("fio is not installed")
    if "bpftrace" in ctx.args.configs and not shutil.which("bpftrace"):
        raise BenchError("bpftrace is not installed (or leave it out with --configs)")


def cleanup(ctx):
    """Undo everything: processes, cgroups, sysctl, tracefs, work files."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for proc in list(ctx.procs):
        if proc.returncode is None:
            try:
                proc.terminate()
                reap(ctx, proc, timeout=10)
            except (ProcessLookupError, ChildProcessError):
                pass
    for path in reversed(list(ctx.cgroups)):
        cg_remove(ctx, path)
    try:
        restore_bpf_stats(ctx)
    except OSError as e:
        log("warning: cannot restore %s: %s" % (BPF_STATS_SYSCTL, e))
    if ctx.mounted_tracefs:
        subprocess.run(["umount", TRACEFS], check=False)
    if ctx.work:
        shutil.rmtree(ctx.work, ignore_errors=True)


# Set by on_stop_signal: a Ctrl-C caught inside SQLite surfaces as an
# OperationalError, and this tells the two apart.
INTERRUPTED = threading.Event()


def on_stop_signal(signum, frame):
    """SIGINT and SIGTERM: note it, then stop and clean up."""
    INTERRUPTED.set()
    raise KeyboardInterrupt


def bench(ctx):
    """Everything between setup and cleanup; returns the results dict."""
    started = time.monotonic()
    workloads, configs = ctx.args.only, list(ctx.args.configs)
    os.makedirs(ctx.out, exist_ok=True)
    ctx.work = tempfile.mkdtemp(prefix="cachewatch-bench-", dir="/var/tmp")
    env = environment(ctx)
    prepare_files(ctx)
    if "bpftrace" in configs and not ensure_tracefs(ctx):
        raise BenchError("bpftrace needs tracefs at %s" % TRACEFS)
    if any(c.startswith("cachewatchd") for c in configs):
        ctx.empty_db_bytes, ctx.empty_db_max = measure_empty_db(ctx)
    runs = throughput_rounds(ctx, workloads, [c for c in configs if c in THROUGHPUT_CONFIGS])
    stats_configs = [c for c in STATS_CONFIGS if c in configs]
    if not ctx.args.no_bpf_stats and stats_configs:
        runs += stats_runs(ctx, workloads, stats_configs)
    synthetic = {"status": "skipped"} if ctx.args.no_synthetic else synthetic_db(ctx)
    summary = summarize(runs, workloads, [c for c in configs if c in THROUGHPUT_CONFIGS])
    res = resolution(runs, workloads)
    bpf = bpf_costs(runs, workloads, stats_configs)
    return {"environment": env,
            "settings": {"rounds": ctx.args.rounds, "quick": ctx.args.quick,
                         "workloads": workloads, "configs": configs,
                         "durations_s": ctx.durations, "settle_s": SETTLE_S,
                         "wall_s": time.monotonic() - started},
            "empty_db_bytes": ctx.empty_db_bytes, "empty_db_max_bytes": ctx.empty_db_max,
            "targets": evaluate_targets(summary, res, bpf, synthetic),
            "resolution": res, "summary": summary, "bpf": bpf,
            "synthetic": synthetic, "runs": runs}


def main():
    """Check, run, write OUT/bench.md and OUT/bench.json, print the Markdown."""
    args = parse_args()
    if os.geteuid() != 0:
        print("bench.py: must run as root: it loads BPF programs, creates memory "
              "cgroups and toggles kernel.bpf_stats_enabled (try: sudo make bench)",
              file=sys.stderr)
        return 1
    ctx = Context(args)
    signal.signal(signal.SIGTERM, on_stop_signal)
    signal.signal(signal.SIGINT, on_stop_signal)
    try:
        check_prerequisites(ctx)
        results = bench(ctx)
    except BenchError as e:
        print("bench.py: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log("bench.py: interrupted; cleaning up")
        return 130
    finally:
        cleanup(ctx)
    text = markdown(results)
    with open(os.path.join(ctx.out, "bench.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
        f.write("\n")
    with open(os.path.join(ctx.out, "bench.md"), "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
