"""Drill report: downtime, recovery, books and target verdicts.

Definitions (times in seconds, from the journals' epoch timestamps):

- *fault window*: from ``WINDOW_LEAD`` s before the first ``fault`` event to
  the end of the journal. Failed requests before it are *baseline
  failures* (the cloud was not healthy when the drill began) and fail the
  drill too.
- *downtime of an operation*: end of its last failed request minus start of
  its first failed request in the window (0 when none failed). A request
  that hung until its timeout counts for its whole duration: the client
  had no answer for that long. ``api_downtime_s`` is the same over every
  operation.
- *healthy after heal*: the first ``healthy`` event after the last ``heal``
  minus that ``heal`` (None: never healthy - the target is missed).
- *serving after heal*: end of the last failed request minus the last
  ``heal`` (0 when nothing failed after it; None when no request succeeded
  after the last failure - the API never came back).

Outputs: ``report.json`` per drill directory, :func:`summary_table` (a
markdown table for all drills, with the spread over repeats) and
``timeline.png`` (requests over time coloured by outcome, fault/heal/
healthy marked; needs matplotlib, skipped with a note without it).
"""
import json
import os
import statistics

from tools.drills import journal
from tools.drills import targets as drill_targets

WINDOW_LEAD = 1.0
OUTCOMES = ("ok", "fail", "reject")


def fault_window(records, events):
    """``(start, end)`` epoch seconds of the fault window, or None when the
    drill recorded no fault."""
    fault = journal.first_event(events, "fault")
    if fault is None:
        return None
    end = max([r["t1"] for r in records] + [e["t"] for e in events] + [fault])
    return (fault - WINDOW_LEAD, end)


def in_window(rec, window):
    return window is not None and rec["t1"] >= window[0] and rec["t0"] <= window[1]


def downtime(records, window, op=None):
    """Seconds from the first failed request to the end of the last one in
    the window (optionally of one operation); 0.0 when none failed."""
    fails = [r for r in records if r["outcome"] == "fail" and in_window(r, window)
             and (op is None or r["op"] == op)]
    if not fails:
        return 0.0
    return round(max(r["t1"] for r in fails) - min(r["t0"] for r in fails), 3)


def counts(records):
    """``{op: {"ok": n, "fail": n, "reject": n}}``."""
    out = {}
    for r in records:
        c = out.setdefault(r["op"], {k: 0 for k in OUTCOMES})
        c[r["outcome"]] = c.get(r["outcome"], 0) + 1
    return out


def last_event(events, name):
    times = [e["t"] for e in events if e.get("event") == name]
    return max(times) if times else None


def recovery(records, events):
    """``{"healthy_after_heal_s", "serving_after_heal_s"}`` (see module doc)."""
    heal = last_event(events, "heal")
    if heal is None:
        return {"healthy_after_heal_s": None, "serving_after_heal_s": None}
    healthy = journal.first_event(events, "healthy", after=heal)
    fails = [r for r in records if r["outcome"] == "fail" and r["t1"] >= heal]
    if not fails:
        serving = 0.0
    else:
        last_fail = max(r["t1"] for r in fails)
        served = any(r["outcome"] == "ok" and r["t0"] >= last_fail for r in records)
        serving = round(last_fail - heal, 3) if served else None
    return {"healthy_after_heal_s": None if healthy is None else round(healthy - heal, 3),
            "serving_after_heal_s": serving}


def metrics(records, events, books):
    """Every metric a target may name (``targets`` module doc)."""
    window = fault_window(records, events)
    fails = [r for r in records if r["outcome"] == "fail" and in_window(r, window)]
    out = {"api_downtime_s": downtime(records, window),
           "failed_requests": len(fails)}
    out.update(recovery(records, events))
    if books and "lost" in books:
        out["lost_builds"] = len(books["lost"]) + len(books["stuck"]) + \
            len(books["build_errors"]) + len(books.get("volume_lost", [])) + \
            len(books.get("volume_stuck", [])) + len(books.get("volume_errors", []))
    else:
        out["lost_builds"] = None
    fault = journal.first_event(events, "fault")
    down = journal.first_event(events, "compute_down", after=fault) if fault else None
    out["compute_down_seen"] = 0 if down is not None else 1
    if down is not None:
        out["compute_down_after_fault_s"] = round(down - fault, 3)
    return out


def build(drill, records, events, books, health=None, run_id=None):
    """The report dict of one drill run (written as ``report.json``)."""
    window = fault_window(records, events)
    t_start = min([r["t0"] for r in records] + [e["t"] for e in events] or [0])
    baseline_fails = [r for r in records if r["outcome"] == "fail"
                      and window is not None and r["t1"] < window[0]]
    m = metrics(records, events, books)
    verdicts = drill_targets.verdicts(drill, m)
    reasons = []
    if window is None:
        reasons.append("no fault event recorded")
    if baseline_fails:
        reasons.append("%d request(s) failed before the fault" % len(baseline_fails))
    if books is None:
        reasons.append("books not checked")
    elif not books.get("ok"):
        reasons.extend("books: " + v for v in books.get("violations", []))
    for v in verdicts:
        if not v["ok"]:
            reasons.append("target missed: %s = %s (target <= %s)" % (
                v["metric"], "not reached" if v["measured"] is None else v["measured"],
                v["limit"]))
    ops = sorted({r["op"] for r in records})
    return {
        "drill": drill,
        "title": drill_targets.DRILLS.get(drill, {}).get("title", drill),
        "run_id": run_id,
        "started_at": t_start,
        "events": [dict(e, at_s=round(e["t"] - t_start, 3)) for e in events],
        "requests": {"total": len(records), "by_op": counts(records),
                     "baseline_failures": len(baseline_fails)},
        "fault_window": None if window is None else
        [round(window[0] - t_start, 3), round(window[1] - t_start, 3)],
        "downtime_s": {"overall": m["api_downtime_s"],
                       "per_op": {op: downtime(records, window, op) for op in ops}},
        "metrics": m,
        "targets": verdicts,
        "books": books,
        "health": health,
        "passed": not reasons,
        "failures": reasons,
    }


def write(drill_dir, drill, run_id=None):
    """Build the report from the drill directory's files and write
    ``report.json`` (and ``timeline.png``). Returns the report dict."""
    records = journal.read(os.path.join(drill_dir, journal.REQUESTS))
    events = journal.read(os.path.join(drill_dir, journal.EVENTS))
    books = _load(os.path.join(drill_dir, "books.json"))
    health = _load(os.path.join(drill_dir, "health.json"))
    rep = build(drill, records, events, books, health,
                run_id=run_id or os.path.basename(os.path.abspath(drill_dir)))
    rep["timeline_png"] = timeline_png(records, events, os.path.join(drill_dir, "timeline.png"),
                                       title="%s: %s" % (drill, rep["title"]))
    with open(os.path.join(drill_dir, "report.json"), "w") as f:
        json.dump(rep, f, indent=2, sort_keys=True)
    return rep


def _load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def text(rep):
    """A few human lines about one report."""
    lines = ["%s (%s): %s" % (rep["drill"], rep["run_id"], "PASSED" if rep["passed"] else "FAILED"),
             "  requests %d, failed in window %d, API downtime %.2fs" % (
                 rep["requests"]["total"], rep["metrics"]["failed_requests"],
                 rep["downtime_s"]["overall"])]
    per_op = ", ".join("%s %.2fs" % (op, s) for op, s in rep["downtime_s"]["per_op"].items() if s)
    if per_op:
        lines.append("  downtime per operation: " + per_op)
    lines.append("  healthy after heal: %s, serving after heal: %s" % (
        _fmt(rep["metrics"].get("healthy_after_heal_s")),
        _fmt(rep["metrics"].get("serving_after_heal_s"))))
    lines.extend("  " + r for r in rep["failures"])
    return "\n".join(lines)


def _fmt(v, unit="s"):
    return "-" if v is None else ("%.1f%s" % (v, unit))


def _spread(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return "-"
    if len(vals) == 1:
        return "%.1f" % vals[0]
    return "%.1f / %.1f / %.1f" % (min(vals), statistics.median(vals), max(vals))


def summary_table(reports):
    """Markdown: one row per drill run, then the spread per drill
    (min / median / max) when a drill ran more than once."""
    head = ["| drill | run | verdict | requests | failed | API downtime s | "
            "healthy after heal s | serving after heal s | books | targets missed |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    rows = []
    order = {d: i for i, d in enumerate(drill_targets.ORDER)}
    reports = sorted(reports, key=lambda r: (order.get(r["drill"], 99), r["drill"],
                                             r.get("run_id") or ""))
    for r in reports:
        m = r["metrics"]
        missed = [v["metric"] for v in r["targets"] if not v["ok"]]
        books = r.get("books") or {}
        rows.append("| %s | %s | %s | %d | %d | %.2f | %s | %s | %s | %s |" % (
            r["drill"], r.get("run_id"), "pass" if r["passed"] else "FAIL",
            r["requests"]["total"], m["failed_requests"], m["api_downtime_s"],
            _fmt(m.get("healthy_after_heal_s"), ""), _fmt(m.get("serving_after_heal_s"), ""),
            "ok" if books.get("ok") else ("%d violation(s)" % len(books.get("violations", []))
                                          if books else "not checked"),
            ", ".join(missed) or "-"))
    out = head + rows
    groups = {}
    for r in reports:
        groups.setdefault(r["drill"], []).append(r)
    if any(len(g) > 1 for g in groups.values()):
        out += ["", "Spread over repeats (min / median / max):", "",
                "| drill | runs | passed | API downtime s | healthy after heal s | "
                "serving after heal s | failed requests |",
                "|---|---|---|---|---|---|---|"]
        for drill, g in groups.items():
            out.append("| %s | %d | %d | %s | %s | %s | %s |" % (
                drill, len(g), sum(1 for r in g if r["passed"]),
                _spread([r["metrics"]["api_downtime_s"] for r in g]),
                _spread([r["metrics"].get("healthy_after_heal_s") for r in g]),
                _spread([r["metrics"].get("serving_after_heal_s") for r in g]),
                _spread([r["metrics"]["failed_requests"] for r in g])))
    return "\n".join(out) + "\n"


def collect(root):
    """Every ``report.json`` under ``root`` (any depth)."""
    out = []
    for dirpath, _dirs, files in os.walk(root):
        if "report.json" in files:
            with open(os.path.join(dirpath, "report.json")) as f:
                out.append(json.load(f))
    return out


COLOURS = {"ok": "#2ca02c", "fail": "#d62728", "reject": "#ff7f0e"}
EVENT_STYLE = {"fault": ("#d62728", "-"), "heal": ("#1f77b4", "-"),
               "healthy": ("#2ca02c", "--")}


def timeline_png(records, events, path, title=""):
    """Requests over time, one row per operation, coloured by outcome, with
    the drill's events as vertical lines. Returns the path, or a note when
    matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "skipped: matplotlib is not installed"
    t_start = min([r["t0"] for r in records] + [e["t"] for e in events] or [0])
    ops = sorted({r["op"] for r in records})
    row = {op: i for i, op in enumerate(ops)}
    fig, ax = plt.subplots(figsize=(12, 1.2 + 0.45 * max(len(ops), 3)))
    for outcome in OUTCOMES:
        sel = [r for r in records if r["outcome"] == outcome]
        if not sel:
            continue
        ax.hlines([row[r["op"]] for r in sel], [r["t0"] - t_start for r in sel],
                  [max(r["t1"], r["t0"] + 0.05) - t_start for r in sel],
                  colors=COLOURS[outcome], linewidth=7,
                  label="%s (%d)" % (outcome, len(sel)))
    for e in events:
        style = EVENT_STYLE.get(e["event"])
        if style is None:
            continue
        ax.axvline(e["t"] - t_start, color=style[0], linestyle=style[1], linewidth=1.2)
        ax.text(e["t"] - t_start, len(ops) - 0.4, " " + e["event"], color=style[0],
                fontsize=8, va="bottom")
    ax.set_yticks(range(len(ops)))
    ax.set_yticklabels(ops)
    ax.set_ylim(-0.7, len(ops) + 0.2)
    ax.set_xlabel("seconds since the workload started")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
