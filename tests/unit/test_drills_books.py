"""The books after a drill: lost acknowledged creates, duplicates, stuck
servers, quota usage vs server count (tools/drills/books.py)."""
from tools.drills import books

PREFIX = "drill-1"


def create(name, sid, ack=True, t=1.0):
    rec = {"t0": t, "t1": t + 0.1, "op": "create", "name": name, "outcome": "ok" if ack else
           "fail", "status": 202 if ack else None}
    if ack:
        rec.update(server_id=sid, ack=True)
    return rec


def server(sid, name, status="ACTIVE", task=None):
    return {"id": sid, "name": name, "status": status, "OS-EXT-STS:task_state": task}


def test_balanced_books():
    records = [create("drill-1-c0-1", "a"), create("drill-1-c0-2", "b"),
               {"op": "delete", "server_id": "b", "outcome": "ok", "status": 204},
               {"op": "show", "server_id": "b", "outcome": "ok", "status": 404}]
    res = books.evaluate(records, [server("a", "drill-1-c0-1"), server("s", "lab-smoke")],
                         2, PREFIX)
    assert res["ok"], res["violations"]
    assert res["acked"] == 2 and res["deleted_by_workload"] == 1


def test_lost_acknowledged_create():
    res = books.evaluate([create("drill-1-c0-1", "a")], [], 0, PREFIX)
    assert not res["ok"]
    assert res["lost"] == ["drill-1-c0-1 (a)"]


def test_vanished_server_seen_404_without_delete_is_lost():
    records = [create("drill-1-c0-1", "a"),
               {"op": "show", "server_id": "a", "outcome": "reject", "status": 404}]
    assert books.evaluate(records, [], 0, PREFIX)["lost"] == ["drill-1-c0-1 (a)"]


def test_server_whose_first_delete_answers_404_vanished_on_its_own():
    # Our first DELETE found it gone, and the show after it says 404 too:
    # nothing of ours deleted it, so the acknowledged create is lost.
    records = [create("drill-1-c0-1", "a"),
               {"op": "delete", "server_id": "a", "outcome": "ok", "status": 404},
               {"op": "show", "server_id": "a", "outcome": "ok", "status": 404}]
    assert books.evaluate(records, [], 0, PREFIX)["lost"] == ["drill-1-c0-1 (a)"]
    # A DELETE that got no answer, then the retry's 404: ours.
    records = [create("drill-1-c0-1", "a"),
               {"op": "delete", "server_id": "a", "outcome": "fail", "status": None},
               {"op": "delete", "server_id": "a", "outcome": "ok", "status": 404}]
    res = books.evaluate(records, [], 0, PREFIX)
    assert res["ok"], res["violations"]
    assert res["deleted_by_workload"] == 1


def test_duplicate_in_listing_and_in_journal():
    records = [create("drill-1-c0-1", None, ack=False),
               {"op": "adopt", "name": "drill-1-c0-1", "server_id": "a", "outcome": "ok"},
               create("drill-1-c1-1", "c")]
    servers = [server("a", "drill-1-c0-1"), server("b", "drill-1-c0-1"),
               server("c", "drill-1-c1-1")]
    res = books.evaluate(records, servers, 3, PREFIX)
    assert res["duplicates"] == {"drill-1-c0-1": ["a", "b"]}
    assert not res["ok"]
    # Two acknowledged ids for one name, one since deleted, is a duplicate too.
    records = [create("drill-1-c0-1", "a"), create("drill-1-c0-1", "b"),
               {"op": "delete", "server_id": "b", "outcome": "ok", "status": 204}]
    res = books.evaluate(records, [server("a", "drill-1-c0-1")], 1, PREFIX)
    assert res["duplicates"] == {"drill-1-c0-1": ["a", "b"]}


def test_stuck_build_and_deleting():
    servers = [server("a", "drill-1-c0-1", "BUILD", "spawning"),
               server("b", "other", "ACTIVE", "deleting"), server("c", "x")]
    res = books.evaluate([], servers, 2, PREFIX)
    assert res["stuck"] == ["drill-1-c0-1 (a) BUILD/spawning"]
    # another run's (an earlier drill reported it) is listed, not a violation
    assert res["stuck_other"] == ["other (b) ACTIVE/deleting"]
    assert res["violations"] == ["1 server(s) stuck: drill-1-c0-1 (a) BUILD/spawning"]
    assert not res["ok"]
    res = books.evaluate([], [server("b", "other", "BUILD", "spawning")], 1, PREFIX)
    assert res["ok"] and res["stuck_other"] == ["other (b) BUILD/spawning"]


def test_quota_usage_must_equal_server_count():
    res = books.evaluate([], [server("a", "x")], 2, PREFIX)
    assert res["violations"] == ["quota usage 2 != 1 servers"]


def test_orphans_and_build_errors_are_reported_not_violations():
    records = [create("drill-1-c0-1", "a"),
               {"op": "show", "server_id": "a", "outcome": "ok", "status": 200,
                "server_status": "ERROR"},
               create("drill-1-c0-2", None, ack=False)]
    servers = [server("a", "drill-1-c0-1", "ERROR"), server("o", "drill-1-c0-2")]
    res = books.evaluate(records, servers, 2, PREFIX)
    assert res["ok"], res["violations"]
    assert res["orphans"] == ["drill-1-c0-2 (o)"]
    assert res["build_errors"] == ["a"]


# ---------------------------------------------------------------- volumes
def vcreate(name, vid, ack=True):
    rec = {"kind": "volume", "op": "vol_create", "name": name,
           "outcome": "ok" if ack else "fail", "status": 202 if ack else None}
    if ack:
        rec.update(volume_id=vid, ack=True)
    return rec


def vrec(op, vid, status, outcome="ok", **kw):
    return dict(kind="volume", op=op, volume_id=vid, status=status, outcome=outcome, **kw)


def volume(vid, name, status="available"):
    return {"id": vid, "name": name, "status": status, "attachments": []}


def vbooks(records, volumes, used, servers=()):
    return books.evaluate(records, list(servers), len(servers), PREFIX,
                          volumes=volumes, volumes_used=used)


def test_volume_books_skipped_without_volumes():
    # Older callers: no volume arguments, no volume keys, volume lines ignored.
    res = books.evaluate([vcreate("drill-1-c0-1-vol", "v")], [], 0, PREFIX)
    assert res["ok"] and res["volumes_checked"] is False
    assert "volume_lost" not in res


def test_volume_books_balance_on_a_clean_run():
    records = [vcreate("drill-1-c0-1-vol", "v1"),
               vrec("vol_show", "v1", 200, volume_status="available"),
               vrec("vol_attach", "v1", 200, server_id="a"),
               vrec("vol_detach", "v1", 202, server_id="a"),
               vrec("vol_delete", "v1", 202),
               vrec("vol_show", "v1", 404),
               vcreate("drill-1-c1-1-vol", "v2")]
    vols = [volume("v2", "drill-1-c1-1-vol", "in-use"), volume("x", "lab-smoke-vol")]
    res = vbooks(records, vols, 2)
    assert res["ok"], res["violations"]
    assert res["volumes_checked"] is True
    assert res["volume_acked"] == 2 and res["volume_deleted_by_workload"] == 1
    assert res["volume_count"] == 2 and res["volume_quota_used"] == 2
    # Server books are untouched by volume lines (server_id on attach/detach).
    assert res["acked"] == 0 and res["lost"] == []


def test_lost_acknowledged_volume():
    res = vbooks([vcreate("drill-1-c0-1-vol", "v1")], [], 0)
    assert not res["ok"]
    assert res["volume_lost"] == ["drill-1-c0-1-vol (v1)"]
    assert res["violations"] == ["1 acknowledged volume create(s) lost: drill-1-c0-1-vol (v1)"]


def test_volume_404_counts_as_deleted_only_after_a_delete_was_sent():
    # Vanished: a 404 with no delete before it.
    records = [vcreate("drill-1-c0-1-vol", "v1"), vrec("vol_show", "v1", 404, "reject"),
               vrec("vol_delete", "v1", 404)]
    assert vbooks(records, [], 0)["volume_lost"] == ["drill-1-c0-1-vol (v1)"]
    # Our first DELETE answered 404: already gone, not ours either.
    records = [vcreate("drill-1-c0-1-vol", "v1"), vrec("vol_delete", "v1", 404),
               vrec("vol_show", "v1", 404)]
    assert vbooks(records, [], 0)["volume_lost"] == ["drill-1-c0-1-vol (v1)"]
    # A DELETE without an answer, then the retry's 404: the workload deleted it.
    records = [vcreate("drill-1-c0-1-vol", "v1"), vrec("vol_delete", "v1", None, "fail"),
               vrec("vol_delete", "v1", 404)]
    res = vbooks(records, [], 0)
    assert res["ok"], res["violations"]
    assert res["volume_deleted_by_workload"] == 1


def test_duplicate_volume_names_in_listing_and_journal():
    records = [vcreate("drill-1-c0-1-vol", None, ack=False),
               {"kind": "volume", "op": "vol_adopt", "name": "drill-1-c0-1-vol",
                "volume_id": "v1", "outcome": "ok"}]
    vols = [volume("v1", "drill-1-c0-1-vol"), volume("v2", "drill-1-c0-1-vol")]
    res = vbooks(records, vols, 2)
    assert res["volume_duplicates"] == {"drill-1-c0-1-vol": ["v1", "v2"]}
    assert res["violations"] == ["1 volume name(s) created twice: drill-1-c0-1-vol"]
    # Two acknowledged ids for one name, one since deleted, is a duplicate too.
    records = [vcreate("drill-1-c0-1-vol", "v1"), vcreate("drill-1-c0-1-vol", "v2"),
               vrec("vol_delete", "v2", 202)]
    res = vbooks(records, [volume("v1", "drill-1-c0-1-vol")], 1)
    assert res["volume_duplicates"] == {"drill-1-c0-1-vol": ["v1", "v2"]}
    assert not res["ok"]


def test_stuck_volumes():
    vols = [volume("v1", "drill-1-c0-1-vol", "creating"),
            volume("v2", "drill-1-c0-2-vol", "reserved"),
            volume("v3", "other", "detaching"),
            volume("v4", "drill-1-c0-3-vol", "deleting"),
            volume("v5", "drill-1-c0-4-vol", "in-use"),
            volume("v6", "drill-1-c0-5-vol", "error")]
    res = vbooks([], vols, 6)
    assert res["volume_stuck"] == ["drill-1-c0-1-vol (v1) creating",
                                   "drill-1-c0-2-vol (v2) reserved",
                                   "drill-1-c0-3-vol (v4) deleting"]
    assert res["volume_stuck_other"] == ["other (v3) detaching"]
    assert res["violations"] == ["3 volume(s) stuck: " + ", ".join(res["volume_stuck"])]


def test_volume_quota_usage_must_equal_volume_count():
    res = vbooks([], [volume("v1", "x")], 2)
    assert res["violations"] == ["volume quota usage 2 != 1 volumes"]
    # Usage unknown: only the quota check is skipped.
    assert vbooks([], [volume("v1", "x")], None)["ok"]


def test_volume_orphans_and_errors_are_reported_not_violations():
    records = [vcreate("drill-1-c0-1-vol", "v1"),
               vrec("vol_show", "v1", 200, volume_status="error"),
               vcreate("drill-1-c0-2-vol", None, ack=False)]
    vols = [volume("v1", "drill-1-c0-1-vol", "error"), volume("o", "drill-1-c0-2-vol")]
    res = vbooks(records, vols, 2)
    assert res["ok"], res["violations"]
    assert res["volume_orphans"] == ["drill-1-c0-2-vol (o)"]
    assert res["volume_errors"] == ["v1"]


def test_server_and_volume_violations_add_up():
    res = books.evaluate([create("drill-1-c0-1", "a"), vcreate("drill-1-c0-1-vol", "v1")],
                         [], 0, PREFIX, volumes=[], volumes_used=1)
    assert res["violations"] == [
        "1 acknowledged create(s) lost: drill-1-c0-1 (a)",
        "1 acknowledged volume create(s) lost: drill-1-c0-1-vol (v1)",
        "volume quota usage 1 != 0 volumes"]


def test_books_check_volumes_only_when_the_workload_exercised_them():
    assert not books.exercised_volumes([create("drill-1-c0-1", "a")])
    assert not books.exercised_volumes([{"kind": "volume", "op": "vol_skip", "outcome": "ok"}])
    assert books.exercised_volumes([vcreate("drill-1-c0-1-vol", None, ack=False)])


class _Resp:
    def __init__(self, status, body=None):
        self.status_code, self._body = status, body

    def json(self):
        return self._body


class _Session:
    """Canned Block Storage/Compute answers; records every request."""
    project_id = "p1"
    volume_url = "http://vip:8776/v3/p1"

    def __init__(self, answers):
        self.answers, self.sent = answers, []

    def volume(self, method, path, json=None, params=None):
        self.sent.append(("volume", method, path))
        return self.answers.get((method, path), _Resp(404))

    def compute(self, method, path, json=None, params=None):
        self.sent.append(("compute", method, path))
        return _Resp(202)


def test_volume_usage_from_limits_else_the_quota_set():
    s = _Session({("GET", "/limits"): _Resp(200, {"limits": {"absolute": {
        "totalVolumesUsed": 3}}})})
    assert books.volumes_used(s) == 3
    s = _Session({("GET", "/limits"): _Resp(404),
                  ("GET", "/os-quota-sets/p1"): _Resp(200, {"quota_set": {
                      "volumes": {"limit": 10, "in_use": 2, "reserved": 0}}})})
    assert books.volumes_used(s) == 2


def test_cleanup_pass_detaches_in_use_deletes_available_and_waits_for_the_rest():
    vols = [{"id": "v1", "name": "drill-1-c0-1-vol", "status": "in-use",
             "attachments": [{"server_id": "s9", "volume_id": "v1"}]},
            {"id": "v2", "name": "drill-1-c0-2-vol", "status": "available"},
            {"id": "v3", "name": "drill-1-c0-3-vol", "status": "deleting"},
            {"id": "v4", "name": "lab-smoke-vol", "status": "available"}]
    s = _Session({("GET", "/volumes/detail"): _Resp(200, {"volumes": vols})})
    left = books._cleanup_volumes(s, PREFIX)
    assert [v["id"] for v in left] == ["v1", "v2", "v3"]
    assert s.sent[1:] == [("compute", "DELETE", "/servers/s9/os-volume_attachments/v1"),
                          ("volume", "DELETE", "/volumes/v2")]


def test_listing_follows_markers_until_a_short_page():
    items = [{"id": "s%03d" % i} for i in range(books.PAGE_SIZE + 1)]
    calls = []

    def request(method, path, params=None):
        calls.append(dict(params))
        start = 0
        if "marker" in params:
            start = [i["id"] for i in items].index(params["marker"]) + 1
        return _Resp(200, {"servers": items[start:start + params["limit"]]})

    class FakeSession:
        compute = staticmethod(request)

    assert books.list_servers(FakeSession()) == items
    assert calls == [{"limit": books.PAGE_SIZE},
                     {"limit": books.PAGE_SIZE, "marker": items[books.PAGE_SIZE - 1]["id"]}]


def test_listing_page_error_raises():
    class FakeSession:
        @staticmethod
        def volume(method, path, params=None):
            return _Resp(503, {})

    try:
        books.list_volumes(FakeSession())
    except RuntimeError as exc:
        assert "volumes list: HTTP 503" in str(exc)
    else:
        raise AssertionError("no error for a failed page")


def test_a_deleting_server_is_not_in_quota_usage():
    # Nova frees the quota when the delete is accepted: another run's server
    # stuck in deleting is listed, not counted, and must not fail this run.
    servers = [server("a", "x"), server("b", "other", "ACTIVE", "deleting")]
    res = books.evaluate([], servers, 1, PREFIX)
    assert res["ok"], res["violations"]
    assert res["server_count"] == 2 and res["server_counted"] == 1
    res = books.evaluate([], servers, 2, PREFIX)
    assert res["violations"] == ["quota usage 2 != 1 servers"]
