"""The report of a bench run: the tables (terminal and results.md), the
ratio chart (results.png) and the memory summaries.

Every server is compared with the best mod_wsgi of its scenario and mode
(the faster of Debian's 4.9.4 and 6.1.1 there) and with the static file.
"""

import os
import time

import config
from config import (ALL_IMPLS, GIB, IMPL_LABEL,
                    MEMORY_LIMIT, MIB, MOD_WSGI_IMPLS, MODULE_IMPLS, MPM_SETTINGS,
                    SCENARIOS, STATIC_TARGET, TARGETS)

SERVER_IMPLS = tuple(i for i in ALL_IMPLS if i != "static")


# ----------------------------------------------------------------- numbers
def fmt_rps(v):
    return "-" if v is None else ("%.0f" % v)


def fmt_ms(v):
    if v is None:
        return "-"
    return "%.2f" % v if v < 10 else "%.1f" % v


def fmt_mib(v):
    return "-" if not v else "%.0f" % (v / MIB)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "-" if r is None else "%.2f" % r


def size_label(n):
    if n % GIB == 0:
        return "%d GiB" % (n // GIB)
    if n % MIB == 0:
        return "%d MiB" % (n // MIB)
    return "%d bytes" % n


def spread(*summaries):
    """Largest (max-min)/median over the rounds of the given summaries."""
    worst = 0.0
    for s in summaries:
        if s.get("rps") and s.get("rps_max") is not None:
            worst = max(worst, (s["rps_max"] - s["rps_min"]) / s["rps"])
    return worst


# ------------------------------------------------------------------- rows
def table_rows(results, args):
    """One row per scenario and mode: every server's summary, the best
    mod_wsgi there, each server's ratios to it and to the static file."""
    rows = []
    for sc in SCENARIOS:
        if sc.key not in results:
            continue
        static = None
        for mode in args.modes:
            st = results[sc.key].get(mode, {}).get("static")
            if st and st.get("rps"):
                static = st
        for mode in args.modes:
            e = results[sc.key].get(mode)
            if not e:
                continue
            impls = {i: e[i] for i in SERVER_IMPLS if i in e}
            rps = {i: s.get("rps") for i, s in impls.items()
                   if not (s.get("broken") or s.get("broken_after"))}
            best = max((i for i in MOD_WSGI_IMPLS if rps.get(i)),
                       key=lambda i: rps[i], default=None)
            best_rps = rps.get(best) if best else None
            static_rps = static.get("rps") if static else None
            vs_best = {i: ratio(v, best_rps) for i, v in rps.items()}
            vs_static = {i: ratio(v, static_rps) for i, v in rps.items()}
            target = TARGETS.get((sc.key, mode))
            starget = STATIC_TARGET.get((sc.key, mode))
            verdict = []
            r = vs_best.get("rs")
            if target:
                verdict.append("≥%.2f %s" % (target, "met" if r and r >= target
                                               else "NOT met"))
            if starget:
                rst = vs_static.get("rs")
                verdict.append("vs static ≥%.2f %s" % (
                    starget, "met" if rst and rst >= starget else "NOT met"))
            rows.append({
                "scenario": sc.label, "key": sc.key, "mode": mode, "conns": sc.conns,
                "impls": impls, "rps": rps, "static": static_rps,
                "static_summary": static,
                "best": best, "best_rps": best_rps,
                "vs_best": vs_best, "vs_static": vs_static,
                "target": "; ".join(verdict),
                "spread": spread(*impls.values()),
            })
    return rows


def present_impls(rows):
    """The servers measured in any row, in the usual order."""
    seen = set()
    for r in rows:
        seen.update(r["impls"])
    return [i for i in SERVER_IMPLS if i in seen]


def _rps_cell(r, impl):
    s = r["impls"].get(impl)
    if s is None:
        return ""
    if s.get("broken") or s.get("broken_after"):
        return "BROKEN"
    return fmt_rps(s.get("rps"))


def _best_label(r):
    return IMPL_LABEL[r["best"]] if r["best"] else "-"


def throughput_table(rows):
    impls = present_impls(rows)
    header = (["scenario", "mode", "c"] + ["%s req/s" % IMPL_LABEL[i] for i in impls]
              + ["static req/s", "spread"])
    body = [[r["scenario"], r["mode"], str(r["conns"])]
            + [_rps_cell(r, i) for i in impls]
            + [fmt_rps(r["static"]), "%.0f%%" % (100 * r["spread"])] for r in rows]
    return header, body


def ratio_table(rows, field):
    impls = present_impls(rows)
    header = ["scenario", "mode"]
    if field == "vs_best":
        header.append("best mod_wsgi")
    header += [IMPL_LABEL[i] for i in impls]
    body = []
    for r in rows:
        cells = [r["scenario"], r["mode"]]
        if field == "vs_best":
            cells.append(_best_label(r))
        cells += [fmt_ratio(r[field].get(i)) if i in r["impls"] else "" for i in impls]
        body.append(cells)
    return header, body


def detail_table(rows):
    header = ["scenario", "mode", "server", "req/s", "p50 ms", "p99 ms",
              "children RSS MiB", "daemons / backend RSS MiB"]
    body = []
    for r in rows:
        for impl in present_impls([r]):
            s = r["impls"][impl]
            mem = s.get("memory", {})
            body.append([r["scenario"], r["mode"], IMPL_LABEL[impl], _rps_cell(r, impl),
                         fmt_ms(s.get("p50")), fmt_ms(s.get("p99")),
                         fmt_mib(mem.get("child")), fmt_mib(mem.get("daemon"))])
    return header, body


def cpu_table(rows):
    """CPU time the server's processes spent per request, user and system."""
    header = ["scenario", "mode", "server", "user µs/req", "system µs/req",
              "total µs/req", "system share"]
    body = []
    for r in rows:
        impls = present_impls([r])
        if r["static"]:
            impls = impls + ["static"]
        for impl in impls:
            s = r["impls"].get(impl) if impl != "static" else r.get("static_summary")
            if not s or s.get("cpu_user_us") is None:
                continue
            u, k = s["cpu_user_us"], s["cpu_sys_us"]
            body.append([r["scenario"], r["mode"], IMPL_LABEL[impl], "%.1f" % u,
                         "%.1f" % k, "%.1f" % (u + k),
                         "%.0f%%" % (100 * k / (u + k)) if u + k else "-"])
    return header, body


def summary_table(rows):
    """The terminal summary: req/s of each server, then mod_wsgi_rs's ratios."""
    impls = present_impls(rows)
    header = (["scenario", "mode"] + [IMPL_LABEL[i] for i in impls]
              + ["static", "rs/best mod_wsgi", "rs/static", "spread"])
    body = [[r["scenario"], r["mode"]] + [_rps_cell(r, i) for i in impls]
            + [fmt_rps(r["static"]), fmt_ratio(r["vs_best"].get("rs")),
               fmt_ratio(r["vs_static"].get("rs")), "%.0f%%" % (100 * r["spread"])]
            for r in rows]
    return header, body


def text_table(table):
    header, body = table
    cells = [header] + body
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    out = []
    for n, c in enumerate(cells):
        out.append("  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def md_table(table):
    header, body = table
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for cells in body:
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# ------------------------------------------------------------------ memory
def _mem_impls(mem, mode):
    return [i for i in MODULE_IMPLS if i in mem.get(mode, {})]


def memory_md(mem, args):
    out = []
    if not mem:
        return "(memory checks skipped)\n"
    out.append("Largest per-process RSS growth (peak sampled every 20 ms during "
               "the transfer, minus the process's RSS just before); limit %d MiB:\n"
               % (MEMORY_LIMIT // MIB))
    out.append("| mode | module | %s upload | %s download |" % (
        size_label(args.big), size_label(args.big)))
    out.append("|---|---|---|---|")
    for mode in args.modes:
        for impl in _mem_impls(mem, mode):
            r = mem[mode][impl]
            cells = []
            for what in ("upload", "download"):
                w = r.get(what)
                if not w:
                    cells.append("error: %s" % r.get("error", "not run"))
                    continue
                g = w["growth"]
                verdict = "ok" if g < MEMORY_LIMIT else "OVER"
                worst = max((p for p in w["processes"] if not p.get("new")),
                            key=lambda p: p["peak"] - p["before"], default=None)
                who = (" (%s)" % worst["cmd"][:40]) if worst and g >= MIB else ""
                cells.append("%s%.1f MiB %s%s, %.1f s" % (
                    "" if w["ok"] else "FAILED (%s) " % w["detail"],
                    g / MIB, verdict, who, w["seconds"]))
            out.append("| %s | %s | %s |" % (mode, IMPL_LABEL[impl], " | ".join(cells)))
    out.append("")
    out.append("Idle RSS per process (after 60 small requests and %g s idle):\n"
               % args.idle_wait)
    out.append("RSS counts pages shared with the Apache parent (and with the "
               "other processes) in full; PSS divides them among their users; USS "
               "(below) counts only the pages a process alone has, what its exit would "
               "free.\n")
    out.append("| mode | module | Apache children RSS (PSS), MiB each | daemon processes RSS (PSS), MiB each | daemons total RSS (PSS) MiB | whole server PSS MiB |")
    out.append("|---|---|---|---|---|---|")
    for mode in args.modes:
        for impl in _mem_impls(mem, mode):
            idle = mem[mode][impl].get("idle")
            if not idle:
                continue
            ch = [p for p in idle if p["kind"] == "child"]
            dm = [p for p in idle if p["kind"] == "daemon"]

            def mib(p):
                return "%.1f (%.1f)" % (p["rss"] / MIB, (p.get("pss") or 0) / MIB)
            out.append("| %s | %s | %s | %s | %s | %s |" % (
                mode, IMPL_LABEL[impl],
                ", ".join(mib(p) for p in ch) or "-",
                ", ".join("%s %s" % (mib(p), "manager" if p["cmd"].endswith("manager")
                                     else "worker") for p in dm) or "-",
                "%.1f (%.1f)" % (sum(p["rss"] for p in dm) / MIB,
                                 sum(p.get("pss") or 0 for p in dm) / MIB)
                if dm else "-",
                "%.1f" % (whole_pss(mem[mode][impl]) / MIB)
                if whole_pss(mem[mode][impl]) else "-"))
    out.append("")
    out.append("Whole server: the PSS of the Apache parent, its children and the "
               "daemon processes added up, the physical memory the server holds "
               "(a page shared by several of them counts once).")
    return "\n".join(out) + "\n"


def whole_pss(r):
    """Sum of the idle PSS of every process of a server, parent included
    (None when the run did not record the parent's)."""
    if not r.get("idle") or not r.get("idle_parent_pss"):
        return None
    return r["idle_parent_pss"] + sum(p.get("pss") or 0 for p in r["idle"])


def memory_verdicts(mem, args):
    """The memory targets of issue 6, for this module."""
    out = []
    for mode in args.modes:
        r = mem.get(mode, {}).get("rs", {})
        for what in ("upload", "download"):
            w = r.get(what)
            if w:
                out.append("- %s %s, %s: largest per-process RSS growth %.1f MiB "
                           "(< %d MiB) %s%s" % (
                               size_label(args.big), what, mode, w["growth"] / MIB,
                               MEMORY_LIMIT // MIB,
                               "met" if w["growth"] < MEMORY_LIMIT else "NOT met",
                               "" if w["ok"] else " (the transfer FAILED: %s)"
                               % w["detail"]))
    rs_idle = mem.get("daemon", {}).get("rs", {}).get("idle")
    for ref_impl in MOD_WSGI_IMPLS:
        mw_idle = mem.get("daemon", {}).get(ref_impl, {}).get("idle")
        if not (rs_idle and mw_idle):
            continue

        def avg(ps, key):
            return sum(p[key] or 0 for p in ps) / len(ps) if ps else 0
        rs_w = [p for p in rs_idle if p["kind"] == "daemon"
                and not p["cmd"].endswith("manager")]
        rs_m = [p for p in rs_idle if p["kind"] == "daemon"
                and p["cmd"].endswith("manager")]
        mw_w = [p for p in mw_idle if p["kind"] == "daemon"]
        for key, what in (("rss", "RSS"), ("pss", "PSS"), ("uss", "USS (private)")):
            w, m, ref = avg(rs_w, key), avg(rs_m, key), avg(mw_w, key)
            out.append("- idle daemon process %s: mod_wsgi_rs worker %.1f MiB "
                       "(+ manager %.1f MiB = %.1f MiB per slot), %s %.1f MiB: "
                       "worker %s, worker + manager %s" % (
                           what, w / MIB, m / MIB, (w + m) / MIB, IMPL_LABEL[ref_impl],
                           ref / MIB, "met" if w <= ref else "NOT met",
                           "met" if w + m <= ref else "NOT met"))
        mine, theirs = whole_pss(mem["daemon"]["rs"]), whole_pss(mem["daemon"][ref_impl])
        if mine and theirs:
            out.append("- idle, whole server in daemon mode (parent, children, daemons), "
                       "PSS: mod_wsgi_rs %.1f MiB, %s %.1f MiB: %s" % (
                           mine / MIB, IMPL_LABEL[ref_impl], theirs / MIB,
                           "met" if mine <= theirs else "NOT met"))
    return out


def memory_text(mem, args):
    lines = []
    for mode in args.modes:
        for impl in _mem_impls(mem, mode):
            r = mem[mode][impl]
            parts = []
            for what in ("upload", "download"):
                w = r.get(what)
                if w:
                    parts.append("%s +%.1f MiB%s" % (what, w["growth"] / MIB,
                                                     "" if w["ok"] else " FAILED"))
            if r.get("error"):
                parts.append("error: %s" % r["error"][:200])
            idle = r.get("idle") or []
            dm = [p["rss"] for p in idle if p["kind"] == "daemon"]
            if dm:
                parts.append("idle daemons %s MiB" % "+".join(
                    "%.1f" % (x / MIB) for x in dm))
            lines.append("  %-9s %-15s %s" % (mode, IMPL_LABEL[impl], ", ".join(parts)))
    return "\n".join(lines)


# ------------------------------------------------------------------- chart
COLORS = {"rs": "#1f77b4", "mod_wsgi": "#bbbbbb", "mod_wsgi6": "#777777",
          "gunicorn": "#2ca02c", "granian": "#d62728"}


def write_chart(rows, path, log):
    """Two panels: every server / the best mod_wsgi, and every server / the
    static file, per scenario and mode."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no chart")
        return False
    impls = present_impls(rows)
    labels = ["%s\n%s" % (r["scenario"], r["mode"]) for r in rows]
    fig, axes = plt.subplots(2, 1, figsize=(max(11, 1.1 * len(rows)), 10))
    width = 0.8 / max(1, len(impls))
    for ax, field, title in (
            (axes[0], "vs_best", "req/s / the best mod_wsgi (4.9.4 or 6.1.1) of that "
                                 "scenario and mode (higher is better)"),
            (axes[1], "vs_static", "req/s / Apache serving a static file of the "
                                   "same size (the upper bound)")):
        for k, impl in enumerate(impls):
            xs, ys = [], []
            for j, r in enumerate(rows):
                v = r[field].get(impl)
                if v:
                    xs.append(j + (k - (len(impls) - 1) / 2) * width)
                    ys.append(v)
            bars = ax.bar(xs, ys, width, label=IMPL_LABEL[impl], color=COLORS.get(impl))
            for b, y in zip(bars, ys):
                ax.text(b.get_x() + b.get_width() / 2, y, "%.2f" % y, ha="center",
                        va="bottom", fontsize=5.5, rotation=90)
        ax.axhline(1.0, color="black", linewidth=0.8)
        top = max([v for r in rows for v in r[field].values() if v] or [1.0])
        ax.set_ylim(0, max(1.05, top) * 1.2)   # room for the legend
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("ratio (median of rounds)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, ncol=len(impls))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# -------------------------------------------------------------- results.md
def reconnects_md(results):
    """wrk's "read" errors: keep-alive connections that Apache closed."""
    out = []
    for sc in SCENARIOS:
        for mode, e in results.get(sc.key, {}).items():
            parts = []
            for impl in ALL_IMPLS:
                x = e.get(impl) or {}
                if x.get("read_errors"):
                    parts.append("%s %d of %d requests" % (
                        IMPL_LABEL[impl], x["read_errors"], x["requests"]))
            if parts:
                out.append("- %s, %s: %s" % (sc.label, mode, ", ".join(parts)))
    if not out:
        return ""
    return ("\nKeep-alive connections closed by Apache (wrk's \"read\" socket "
            "errors; the event MPM closes idle keep-alive connections whenever "
            "all of its %d workers are busy, and wrk reconnects; the same for "
            "every server):\n\n" % 50 + "\n".join(out) + "\n")


def write_results(path, rows, mem, args, info, started, elapsed, loads, results, notes):
    targets_lines = []
    for r in rows:
        if r["target"]:
            targets_lines.append("- %s, %s: %s (measured %s against %s%s)" % (
                r["scenario"], r["mode"], r["target"], fmt_ratio(r["vs_best"].get("rs")),
                _best_label(r),
                ", vs static %s" % fmt_ratio(r["vs_static"].get("rs"))
                if STATIC_TARGET.get((r["key"], r["mode"])) else ""))
    text = """# mod_wsgi_rs vs mod_wsgi and proxied application servers: benchmark results

Measured {date} in one run of

    {command}

({elapsed:.0f} s; {rounds} alternating rounds of {duration:g} s per server and
scenario after a {warmup:g} s warm-up; the figures are the medians of the rounds).

## Machine and versions

- {nproc} CPUs: {cpu}; Linux {kernel}
- Apache: {apache2} (Debian package {apache2_pkg}), event MPM
- Python: {python}; Flask {flask} in a virtualenv (WSGIPythonHome / python-home=)
- mod_wsgi 4.9.4: Debian's libapache2-mod-wsgi-py3 {mod_wsgi} (`/usr/lib/apache2/modules/mod_wsgi.so`)
- mod_wsgi 6.1.1: {mod_wsgi6} (`{mod_wsgi6_so}`, built from PyPI by `scripts/reference-mod_wsgi`)
- Gunicorn {gunicorn} and Granian {granian}, in the same virtualenv, behind Apache's mod_proxy_http
- mod_wsgi_rs: git {rev}
- load generator: {wrk}, on loopback, same machine
- load average at start / end: {load0} / {load1}

## Set-up

Every server: Debian's apache2, event MPM with `{mpm}`, no access log.

- The three modules (mod_wsgi_rs, mod_wsgi 4.9.4, mod_wsgi 6.1.1):
  `WSGIApplicationGroup %{{GLOBAL}}`, each app under its `WSGIScriptAlias`.
  Embedded mode: `WSGIPythonHome <venv>`. Daemon mode: `WSGIDaemonProcess
  bench processes={dp} threads={dt} display-name=%{{GROUP}} python-home=<venv>`,
  `WSGIProcessGroup bench`, `WSGIRestrictEmbedded On` (mod_wsgi's recommended
  daemon set-up, the same for every module).
- What Apache users run instead of a module, measured on the daemon-mode rows
  (separate application processes, like daemon mode): Apache with
  `ProxyPass / http://127.0.0.1:<port>/` (mod_proxy_http, its default pool of
  kept backend connections) in front of `gunicorn --worker-class gthread
  --workers {dp} --threads {dt} --keep-alive 75`, or in front of `granian
  --interface wsgi --workers {dp} --blocking-threads {dt}`; both serve the
  same apps through `apps/dispatch.py` (which mounts each script as
  `WSGIScriptAlias` would) and run as www-data, like the daemon processes.
  Granian has no `wsgi.file_wrapper` (PEP 3333 makes it optional), so for
  it `apps/file.wsgi` returns the file in 64 KiB blocks.
- The static file: Apache without a WSGI module serving a file of the same size
  as each response (the upper bound; measured in the {mode0} pass, and the
  same static figure is shown on the other mode's row).

Each scenario starts fresh servers (so the peak RSS belongs to that
scenario), checks their answers, warms them up, then alternates rounds
between them. `c` is the number of concurrent keep-alive connections of wrk.
CPUs: {pinning} (the Gunicorn and Granian processes too).

## Results

Requests per second (median of the rounds); spread is the largest
(max-min)/median of req/s across the rounds of any server of the row, a
measure of the noise:

{throughput}

Each server's req/s divided by the best mod_wsgi's (the faster of 4.9.4 and
6.1.1 in that scenario and mode):

{vs_best}

Each server's req/s divided by the static file's:

{vs_static}

Latency percentiles from `wrk --latency`; RSS is the sum of VmHWM (peak RSS)
over the processes of that kind at the end of the scenario (children: the
two event MPM children; daemons: every `(wsgi:bench)` process, including
mod_wsgi_rs's `(wsgi:bench) manager` processes, or every Gunicorn / Granian
process):

{details}

CPU time per request of the server's processes (Apache parent and
children, daemon or backend processes; /proc utime and stime over each
round, divided by its requests; median of the rounds). The system share is
the kernel's work (sockets, copies) that no module can avoid:

{cpu_per_request}

Ratio chart: `results.png` (every server / the best mod_wsgi, and / the
static file, per scenario and mode).

### Targets (mod_wsgi_rs / the best mod_wsgi, and / the static file)

{targets}
{mem_targets}

## Memory checks

{memory}
## Noise

This machine has {nproc} CPUs shared by the servers, wrk and whatever else
runs on it (other engineers' test suites ran at the same time), so absolute
figures are noisy: the spread column shows how much the rounds of one server
disagreed. Rounds alternate between the servers so that a burst of outside
load hits them all alike, and the medians are compared; ratios are more
trustworthy than absolute req/s, and a ratio within about the spread of 1.0
is a tie. `results.json` has every round.
{reconnects}{notes}""".format(
        reconnects=reconnects_md(results),
        date=time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(started)),
        command=args.command, elapsed=elapsed, rounds=args.rounds,
        duration=args.duration, warmup=args.warmup,
        mpm="; ".join(MPM_SETTINGS), dp=config.DAEMON_PROCESSES, dt=config.DAEMON_THREADS,
        pinning=args.pinning or "wrk and Apache share every CPU",
        mode0=args.modes[0],
        throughput=md_table(throughput_table(rows)),
        vs_best=md_table(ratio_table(rows, "vs_best")),
        vs_static=md_table(ratio_table(rows, "vs_static")),
        details=md_table(detail_table(rows)),
        cpu_per_request=md_table(cpu_table(rows)),
        targets="\n".join(targets_lines) or "(none measured)",
        mem_targets="\n".join(memory_verdicts(mem, args)),
        memory=memory_md(mem, args), load0=loads[0], load1=loads[1],
        notes=("\n## Problems seen during the run\n\n" +
               "\n".join("- " + n.replace("\n", " ") for n in notes) + "\n")
        if notes else "", **info)
    # The record of each change's before and after (hand-written, kept in
    # bench/changes.md) goes at the end, so a new run does not lose it.
    changes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "changes.md")
    try:
        with open(changes) as f:
            text += "\n" + f.read().replace("# ", "## ", 1)
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)
