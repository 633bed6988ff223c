#!/usr/bin/env python3
"""Soak test: a real Apache with the module (embedded and daemon mode), a
moderate mixed load for a long time, errors counted, the RSS of every
Apache child and daemon process sampled into a CSV, and a summary.

Run through soak/run (see --help). Uses the test harness
(tests/harness/apache.py, tests/harness/load.py).
"""

import argparse
import csv
import hashlib
import json
import os
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

from harness import apache as harness  # noqa: E402
from harness.load import Load  # noqa: E402

CONFIG = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess soak processes=2 threads=8 display-name=%{GROUP}
WSGIScriptAlias /e @APPS@/soak/soak.wsgi
WSGIScriptAlias /d @APPS@/soak/soak.wsgi process-group=soak
<Directory @APPS@/soak>
    Require all granted
</Directory>
"""

UPLOAD = os.urandom(48 * 1024)
UPLOAD_ANSWER = ("%s %d" % (hashlib.sha256(UPLOAD).hexdigest(), len(UPLOAD))).encode()


def check_get(status, body):
    return status == 200 and len(body) > 0


def check_upload(status, body):
    return status == 200 and body == UPLOAD_ANSWER


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def classify(parent):
    """{pid: kind} for the Apache parent, its MPM children, daemon
    managers and daemon processes."""
    out = {parent: "parent"}
    for pid in harness.descendants(parent):
        cmd = harness._proc_cmdline(pid) or ""
        if "(wsgi:" in cmd:
            out[pid] = "daemon-manager" if "manager" in cmd else "daemon"
        else:
            out[pid] = "apache-child"
    return out


def summarize(samples, warmup_s, duration_s):
    """samples: [(t, pid, kind, rss_kb)] → per kind: start/end/max (per
    process, KB) and the growth between the first and last tenth."""
    kinds = {}
    for t, pid, kind, rss in samples:
        kinds.setdefault(kind, []).append((t, pid, rss))
    report = {}
    window = max(duration_s * 0.1, 10.0)
    for kind, rows in sorted(kinds.items()):
        after = [r for r in rows if r[0] >= warmup_s] or rows
        t0 = after[0][0]
        t1 = max(r[0] for r in after)
        first = [r[2] for r in after if r[0] <= t0 + window]
        last = [r[2] for r in after if r[0] >= t1 - window]
        pids = sorted({r[1] for r in rows})
        report[kind] = {
            "processes_seen": len(pids),
            "start_kb": max(first),
            "end_kb": max(last),
            "max_kb": max(r[2] for r in rows),
            "growth_kb": max(last) - max(first),
        }
    return report



def plot_rss(samples, path, summary):
    """The RSS curve: per process kind, the largest process at each sample
    time. Needs matplotlib (python3-matplotlib); skipped without it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("soak: no matplotlib, no RSS chart (apt-get install python3-matplotlib)")
        return None
    series = {}
    for t, _pid, kind, rss in samples:
        per_t = series.setdefault(kind, {})
        per_t[t] = max(per_t.get(t, 0), rss)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for kind in sorted(series):
        pts = sorted(series[kind].items())
        ax.plot([t / 60 for t, _ in pts], [kb / 1024 for _, kb in pts], label=kind)
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS of the largest process, MiB")
    ax.set_ylim(bottom=0)
    ax.set_title("soak: %d requests in %.0f min, %d errors"
                 % (summary["requests"], summary["minutes"], summary["errors"]))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=8,
                    help="concurrent keep-alive clients (GET mix); 2 more upload")
    ap.add_argument("--pause", type=float, default=0.01,
                    help="seconds each client waits between requests")
    ap.add_argument("--interval", type=float, default=5.0, help="RSS sampling period (s)")
    ap.add_argument("--warmup", type=float, default=30.0,
                    help="seconds before the RSS baseline is taken")
    ap.add_argument("--mpm", default="event", choices=harness.MPMS)
    ap.add_argument("--out", default=None, help="results directory")
    ap.add_argument("--max-growth-mb", type=float, default=None,
                    help="fail if any kind's RSS grew more than this")
    args = ap.parse_args()

    duration = args.minutes * 60.0
    warmup = min(args.warmup, duration / 4)
    out_dir = args.out or os.path.join(HERE, "results", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "rss.csv")

    srv = harness.Apache(CONFIG, mpm=args.mpm, name="soak")
    soak_apps = os.path.join(srv.apps, "soak")
    os.makedirs(soak_apps, exist_ok=True)
    with open(os.path.join(HERE, "soak.wsgi"), "rb") as f:
        app = f.read()
    with open(os.path.join(soak_apps, "soak.wsgi"), "wb") as f:
        f.write(app)
    with open(os.path.join(soak_apps, "soak-data.bin"), "wb") as f:
        f.write(os.urandom(64 * 1024))
    for dirpath, _, files in os.walk(soak_apps):
        os.chmod(dirpath, 0o755)
        for fn in files:
            os.chmod(os.path.join(dirpath, fn), 0o644)

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    srv.start()
    print("soak: Apache %s (%s MPM) on port %d, %.1f min, %d+2 clients, pause %.3f s"
          % (srv.root, args.mpm, srv.port, args.minutes, args.clients, args.pause))
    print("soak: RSS samples every %.0f s into %s" % (args.interval, csv_path))
    paths = []
    for m in ("e", "d"):
        paths += ["/%s/hello" % m, "/%s/json?x=1" % m, "/%s/stream" % m,
                  "/%s/file" % m, "/%s/environ" % m, "/%s/slow" % m]
    gets = Load(srv.port, paths, clients=args.clients, duration=duration + 5,
                max_requests=10 ** 9, timeout=30, check=check_get,
                pause=args.pause, keep_results=False,
                headers={"X-Soak": "1", "Cookie": "session=abc"})
    posts = Load(srv.port, ["/d/upload", "/e/upload"], clients=2, duration=duration + 5,
                 max_requests=10 ** 9, timeout=30, check=check_upload, method="POST",
                 body=UPLOAD, pause=args.pause, keep_results=False,
                 headers={"Content-Type": "application/octet-stream"})
    samples = []
    t_start = time.monotonic()
    gets.start()
    posts.start()
    rc = 0
    try:
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["t_s", "pid", "kind", "rss_kb", "requests", "errors"])
            next_sample = 0.0
            while not stop.is_set():
                now = time.monotonic() - t_start
                if now >= duration:
                    break
                if now >= next_sample:
                    parent = srv._read_pidfile() or srv.pid
                    reqs = gets.count_ok + gets.count_failed + posts.count_ok + posts.count_failed
                    errs = gets.count_failed + posts.count_failed
                    for pid, kind in sorted(classify(parent).items()):
                        rss = rss_kb(pid)
                        if rss is not None:
                            samples.append((now, pid, kind, rss))
                            w.writerow(["%.1f" % now, pid, kind, rss, reqs, errs])
                    f.flush()
                    if int(now) % 60 < args.interval:
                        print("soak: %5.0f s  %8d requests  %d errors" % (now, reqs, errs),
                              flush=True)
                    next_sample += args.interval
                stop.wait(0.2)
    finally:
        gets.stop(join_timeout=40)
        posts.stop(join_timeout=40)
        elapsed = time.monotonic() - t_start
        log_tail = srv.error_log_tail(20)
        errlog = os.path.join(out_dir, "error.log")
        try:
            srv.stop()
        except Exception as e:  # report, keep the summary
            print("soak: stopping Apache: %s" % e)
            rc = 1
        try:
            import shutil
            shutil.copyfile(srv.errlog, errlog)
            shutil.rmtree(srv.root, ignore_errors=True)
        except OSError:
            pass

    total = gets.count_ok + gets.count_failed + posts.count_ok + posts.count_failed
    errors = gets.count_failed + posts.count_failed
    kinds = dict(gets.failure_kinds)
    for k, v in posts.failure_kinds.items():
        kinds[k] = kinds.get(k, 0) + v
    report = summarize(samples, warmup, elapsed) if samples else {}
    summary = {
        "minutes": round(elapsed / 60, 2),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1) if elapsed else 0,
        "errors": errors,
        "error_kinds": kinds,
        "rss_kb": report,
        "csv": csv_path,
        "error_log": errlog,
    }
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    chart = plot_rss(samples, os.path.join(out_dir, "rss.png"), summary)
    print()
    print("== soak summary (%s)" % out_dir)
    print("duration %.1f min, %d requests (%.0f/s), %d errors"
          % (elapsed / 60, total, summary["requests_per_s"], errors))
    for k, v in kinds.items():
        print("   error: %dx %s" % (v, k))
    print("%-15s %6s %10s %10s %10s %10s" % ("RSS (KB)", "procs", "start", "end", "max", "growth"))
    for kind, r in report.items():
        print("%-15s %6d %10d %10d %10d %+10d" % (kind, r["processes_seen"], r["start_kb"],
                                                 r["end_kb"], r["max_kb"], r["growth_kb"]))
    print("(start/end: the largest process of that kind in the first/last tenth "
          "after a %.0f s warm-up)" % warmup)
    if errors:
        rc = 1
        print("error log tail:\n" + log_tail)
    if args.max_growth_mb is not None:
        for kind, r in report.items():
            if kind != "parent" and r["growth_kb"] > args.max_growth_mb * 1024:
                print("soak: FAIL: %s RSS grew %d KB (> %.1f MB)"
                      % (kind, r["growth_kb"], args.max_growth_mb))
                rc = 1
    if chart:
        print("RSS curve: %s" % chart)
    print("soak: %s" % ("PASS" if rc == 0 else "FAIL"))
    return rc


if __name__ == "__main__":
    sys.exit(main())
