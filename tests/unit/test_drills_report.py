"""Drill report math: fault window, downtime per operation, recovery
times, target verdicts, summary table (tools/drills/report.py, targets.py)."""
from tools.drills import report, targets, workload


def req(t0, t1, op="show", outcome="ok", **kw):
    return dict(t0=t0, t1=t1, op=op, outcome=outcome, client=0, **kw)


def ev(t, name):
    return {"t": t, "event": name}


BOOKS_OK = {"ok": True, "violations": [], "lost": [], "stuck": [], "build_errors": []}


def test_classify_outcomes():
    assert workload.classify(202) == "ok"
    assert workload.classify(404, expect=(404,)) == "ok"
    assert workload.classify(None, "ConnectionError") == "fail"
    assert workload.classify(503) == "fail"
    assert workload.classify(401) == "fail"
    assert workload.classify(409) == "reject"
    assert workload.classify(403) == "reject"


def test_no_fault_means_no_window():
    assert report.fault_window([req(1, 2)], [ev(0, "workload_start")]) is None
    assert report.downtime([req(1, 2, outcome="fail")], None) == 0.0


def test_downtime_first_failed_to_last_failed_per_op():
    events = [ev(10, "fault"), ev(20, "heal")]
    records = [
        req(5, 5.1, outcome="fail"),                 # before the window: baseline
        req(10.5, 11.0, op="create", outcome="fail"),
        req(11.0, 12.0, op="create", outcome="fail"),
        req(12.0, 12.2, op="create"),
        req(10.2, 13.5, op="list", outcome="fail"),  # hung until its timeout
        req(14, 14.1, op="list"),
        req(30, 30.1),
    ]
    window = report.fault_window(records, events)
    assert window == (9.0, 30.1)
    assert report.downtime(records, window, "create") == 1.5
    assert report.downtime(records, window, "list") == 3.3
    assert report.downtime(records, window, "show") == 0.0
    assert report.downtime(records, window) == 3.3


def test_recovery_times():
    events = [ev(10, "fault"), ev(20, "heal"), ev(50, "healthy")]
    records = [req(19, 21, outcome="fail"), req(22, 24, outcome="fail"), req(25, 26)]
    rec = report.recovery(records, events)
    assert rec == {"healthy_after_heal_s": 30, "serving_after_heal_s": 4}


def test_serving_never_came_back_and_never_healthy():
    events = [ev(10, "fault"), ev(20, "heal")]
    records = [req(15, 16), req(21, 30, outcome="fail")]
    rec = report.recovery(records, events)
    assert rec == {"healthy_after_heal_s": None, "serving_after_heal_s": None}


def test_serving_zero_when_nothing_failed_after_heal():
    events = [ev(10, "fault"), ev(20, "heal"), ev(21, "healthy")]
    assert report.recovery([req(12, 13, outcome="fail"), req(22, 23)], events)[
        "serving_after_heal_s"] == 0.0


def test_verdicts_use_issue_targets_and_miss_unmeasured():
    v = targets.verdicts("controller-crash", {"api_downtime_s": 4.9,
                                              "healthy_after_heal_s": None})
    assert {x["metric"]: x["ok"] for x in v} == {"api_downtime_s": True,
                                                 "healthy_after_heal_s": False}
    v = targets.verdicts("galera-writer-kill", {"api_downtime_s": 3.01})
    assert v == [{"metric": "api_downtime_s", "limit": 3, "measured": 3.01, "ok": False}]
    assert targets.targets_for("rolling-restart") == {"failed_requests": 0}
    assert targets.targets_for("total-outage") == {"serving_after_heal_s": 180}


def test_build_passes_and_fails_on_target_books_and_baseline():
    events = [ev(0, "workload_start"), ev(10, "fault"), ev(20, "heal"), ev(25, "healthy")]
    records = [req(1, 2), req(11, 12, outcome="fail"), req(13, 14)]
    rep = report.build("galera-writer-kill", records, events, BOOKS_OK)
    assert rep["passed"], rep["failures"]
    assert rep["metrics"]["api_downtime_s"] == 1.0
    assert rep["metrics"]["failed_requests"] == 1

    rep = report.build("rabbitmq-node-kill", records, events, BOOKS_OK)
    assert not rep["passed"]
    assert any("failed_requests" in f for f in rep["failures"])

    bad = dict(BOOKS_OK, ok=False, violations=["quota usage 3 != 2 servers"])
    rep = report.build("galera-writer-kill", records, events, bad)
    assert rep["failures"] == ["books: quota usage 3 != 2 servers"]

    rep = report.build("galera-writer-kill", [req(1, 2, outcome="fail")] + records,
                       events, BOOKS_OK)
    assert "1 request(s) failed before the fault" in rep["failures"]


def test_lost_builds_and_compute_down_metrics():
    events = [ev(10, "fault"), ev(14, "compute_down"), ev(20, "heal")]
    books = dict(BOOKS_OK, lost=["a"], build_errors=["b", "c"])
    m = report.metrics([req(1, 2)], events, books)
    assert m["lost_builds"] == 3
    assert m["compute_down_seen"] == 0
    assert m["compute_down_after_fault_s"] == 4
    assert report.metrics([req(1, 2)], [ev(10, "fault")], None)["compute_down_seen"] == 1


def test_summary_table_rows_and_spread():
    events = [ev(10, "fault"), ev(20, "heal"), ev(30, "healthy")]
    reps = []
    for i, down in enumerate((1.0, 2.0, 4.0)):
        records = [req(11, 11 + down, outcome="fail"), req(25, 26)]
        rep = report.build("partition", records, events, BOOKS_OK, run_id="r%d" % i)
        reps.append(rep)
    table = report.summary_table(reps)
    assert table.count("| partition | r") == 3
    assert "| partition | 3 | 3 | 1.0 / 2.0 / 4.0 | 10.0 / 10.0 / 10.0 |" in table


def test_timeline_png_written(tmp_path):
    events = [ev(10, "fault"), ev(20, "heal"), ev(30, "healthy")]
    records = [req(9, 9.5), req(11, 12, outcome="fail"), req(13, 14, op="create",
                                                                 outcome="reject")]
    out = report.timeline_png(records, events, str(tmp_path / "t.png"), title="x")
    assert out.startswith("skipped") or (tmp_path / "t.png").stat().st_size > 1000
