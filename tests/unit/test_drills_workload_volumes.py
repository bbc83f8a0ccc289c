"""The workload's volume step against an in-memory Block Storage/Compute
fake: create, attach, detach, delete, adoption of a create whose answer was
lost, leftovers, and the books over the journal it writes
(tools/drills/workload.py, books.py, client.py). No network, no sleeps."""
import threading

import pytest
import requests

from tools.drills import books, client, workload

PREFIX = "drill-1"
SERVER = "srv-1"


class Resp:
    def __init__(self, status, body=None):
        self.status_code = status
        self._body = body
        self.text = "" if body is None else str(body)

    def json(self):
        if self._body is None:
            raise ValueError("no body")
        return self._body


class FakeCloud:
    """Volumes whose status advances one step per show, attachments made
    through the Compute API. ``lose`` maps ``(method, path)`` to a number of
    answers to drop after the request was carried out (ConnectionError)."""

    def __init__(self):
        self.volumes = {}
        self.next_id = 0
        self.lose = {}
        self.calls = []

    def _lost(self, method, path):
        key = (method, path)
        if self.lose.get(key):
            self.lose[key] -= 1
            raise requests.ConnectionError("answer lost")

    def volume(self, method, path, json=None, params=None):
        self.calls.append(("volume", method, path))
        if method == "POST" and path == "/volumes":
            self.next_id += 1
            vid = "00000000-0000-0000-0000-%012d" % self.next_id
            self.volumes[vid] = {"id": vid, "name": json["volume"]["name"],
                                 "status": "creating", "attachments": []}
            self._lost(method, path)
            return Resp(202, {"volume": dict(self.volumes[vid])})
        if method == "GET" and path == "/volumes/detail":
            found = [dict(v) for v in self.volumes.values()
                     if not params or params.get("name") in (None, v["name"])]
            return Resp(200, {"volumes": found})
        vid = path.split("/")[2]
        vol = self.volumes.get(vid)
        if vol is None:
            return Resp(404, {"itemNotFound": {"code": 404}})
        if method == "GET":
            nxt = {"creating": "available", "reserved": "in-use",
                   "detaching": "available"}.get(vol["status"])
            if vol["status"] == "deleting":
                del self.volumes[vid]
                return Resp(404, {"itemNotFound": {"code": 404}})
            body = {"volume": dict(vol)}
            if nxt:
                vol["status"] = nxt
            if nxt == "available":
                vol["attachments"] = []
            return Resp(200, body)
        if method == "DELETE":
            if vol["status"] not in ("available", "error"):
                return Resp(409, {"badRequest": {"code": 409}})
            vol["status"] = "deleting"
            self._lost(method, path)
            return Resp(202)
        raise AssertionError((method, path))

    def compute(self, method, path, json=None, params=None):
        self.calls.append(("compute", method, path))
        parts = path.split("/")            # ['', 'servers', sid, 'os-volume_attachments', ...]
        sid = parts[2]
        if method == "POST":
            vol = self.volumes[json["volumeAttachment"]["volumeId"]]
            if vol["status"] != "available":
                return Resp(409, {"conflictingRequest": {"code": 409}})
            vol["status"] = "reserved"
            vol["attachments"] = [{"server_id": sid, "volume_id": vol["id"]}]
            return Resp(200, {"volumeAttachment": {"volumeId": vol["id"], "serverId": sid}})
        vol = self.volumes.get(parts[4])
        if vol is None or not vol["attachments"]:
            return Resp(404, {"itemNotFound": {"code": 404}})
        if vol["status"] != "in-use":
            return Resp(409, {"conflictingRequest": {"code": 409}})
        vol["status"] = "detaching"     # the attachment goes once detached
        return Resp(202)


class FakeSession(FakeCloud):
    volume_url = "http://vip:8776/v3/p1"
    compute_url = "http://vip:8774/v2.1"

    def reset(self):
        pass


class Journal:
    def __init__(self):
        self.records = []

    def write(self, rec):
        self.records.append(rec)

    def ops(self):
        return [r["op"] for r in self.records]


class Config:
    compute_url = "http://vip:8774/v2.1"
    volume_url = None


@pytest.fixture
def drill():
    opts = dict(workload.DEFAULTS, retry_interval=0, poll_interval=0)
    c = workload.Client(0, Config(), Journal(), threading.Event(), PREFIX, "f", "i", opts)
    c.session = FakeSession()
    return c


def balance(c):
    vols = list(c.session.volumes.values())
    return books.evaluate(c.writer.records, [], 0, PREFIX, volumes=vols,
                          volumes_used=len(vols))


def test_a_round_creates_attaches_detaches_and_deletes(drill):
    drill.volume_round(SERVER, PREFIX + "-c0-1")
    ops = drill.writer.ops()
    assert ops[0] == "vol_create"
    for op in ("vol_attach", "vol_detach", "vol_delete"):
        assert ops.count(op) == 1, ops
    assert ops.index("vol_attach") < ops.index("vol_detach") < ops.index("vol_delete")
    assert drill.session.volumes == {} and drill.owned_volumes == {}
    create = drill.writer.records[0]
    assert create["ack"] is True and create["kind"] == "volume"
    assert create["name"] == "drill-1-c0-1-vol" and create["volume_id"]
    assert all(r["kind"] == "volume" for r in drill.writer.records)
    attach = next(r for r in drill.writer.records if r["op"] == "vol_attach")
    assert attach["server_id"] == SERVER and attach["status"] == 200
    assert drill.writer.records[-1]["status"] == 404      # seen gone
    res = balance(drill)
    assert res["ok"], res["violations"]
    assert res["volume_acked"] == 1 and res["volume_deleted_by_workload"] == 1


def test_a_create_whose_answer_was_lost_is_adopted_not_duplicated(drill):
    drill.session.lose[("POST", "/volumes")] = 1
    drill.volume_round(SERVER, PREFIX + "-c0-1")
    ops = drill.writer.ops()
    assert ops[:3] == ["vol_create", "vol_lookup", "vol_adopt"]
    assert ops.count("vol_create") == 1                    # no second volume
    assert drill.writer.records[0]["outcome"] == "fail"
    assert drill.session.volumes == {}
    res = balance(drill)
    assert res["ok"], res["violations"]
    assert res["volume_acked"] == 0 and res["volume_duplicates"] == {}


def test_a_delete_whose_answer_was_lost_is_retried_and_balances(drill):
    drill.session.lose[("DELETE", "/volumes/00000000-0000-0000-0000-000000000001")] = 1
    drill.volume_round(SERVER, PREFIX + "-c0-1")
    # The retry finds the volume already deleting (409, as Cinder answers a
    # second delete): the client waits for the 404 all the same.
    deletes = [r for r in drill.writer.records if r["op"] == "vol_delete"]
    assert [(d["outcome"], d["status"]) for d in deletes] == [("fail", None), ("reject", 409)]
    assert drill.writer.records[-1]["op"] == "vol_show"
    assert drill.writer.records[-1]["status"] == 404
    assert drill.session.volumes == {} and drill.owned_volumes == {}
    res = balance(drill)
    assert res["ok"], res["violations"]
    assert res["volume_deleted_by_workload"] == 1


def test_leftover_in_use_volume_is_detached_then_deleted_next_cycle(drill):
    s = drill.session
    s.volumes["v1"] = {"id": "v1", "name": "drill-1-c0-1-vol", "status": "in-use",
                       "attachments": [{"server_id": SERVER, "volume_id": "v1"}]}
    drill.owned_volumes["v1"] = "drill-1-c0-1-vol"
    drill.reap_volumes()
    assert ("compute", "DELETE", "/servers/%s/os-volume_attachments/v1" % SERVER) in s.calls
    assert ("volume", "DELETE", "/volumes/v1") in s.calls
    assert s.volumes == {} and drill.owned_volumes == {}


def test_no_new_volume_while_the_client_owns_too_many(drill):
    drill.owned_volumes = {"a": "x", "b": "y"}
    drill.volume_round(SERVER, PREFIX + "-c0-3")
    assert drill.writer.records == []


def test_a_volume_surprise_is_journaled_not_raised(drill):
    def boom(*_a, **_k):
        raise KeyError("surprise")
    drill.session.volume = boom
    drill._guarded(lambda: drill.volume_round(SERVER, PREFIX + "-c0-1"))
    assert drill.writer.records[-1]["op"] == "internal"
    assert drill.writer.records[-1]["kind"] == "volume"


def test_volumes_are_off_by_option_or_without_endpoint(drill):
    assert drill.volumes_on()
    drill.session.volume_url = None
    assert not drill.volumes_on()
    drill.session.volume_url = "http://vip:8776/v3/p1"
    drill.opts["volumes"] = False
    assert not drill.volumes_on()


def test_volume_endpoint_from_catalog_and_override(tmp_path):
    catalog = [{"type": "compute", "endpoints": [
                   {"interface": "public", "url": "http://vip:8774/v2.1"}]},
               {"type": "volumev3", "endpoints": [
                   {"interface": "public", "url": "http://vip:8776/v3/p1/"}]}]
    assert client.volume_endpoint(catalog) == "http://vip:8776/v3/p1"
    catalog.append({"type": "block-storage", "endpoints": [
        {"interface": "internal", "url": "http://int:8776/v3/p1"},
        {"interface": "public", "url": "http://pub:8776/v3/p1"}]})
    assert client.volume_endpoint(catalog) == "http://pub:8776/v3/p1"
    assert client.volume_endpoint(catalog[:1]) is None
    assert client.volume_url_for("http://h:8776/v3/%(project_id)s", "p1") == \
        "http://h:8776/v3/p1"
    assert client.volume_url_for("http://h:8776/", "p1") == "http://h:8776/v3/p1"
    assert client.volume_url_for("http://h:8776/v3", "p1") == "http://h:8776/v3/p1"
    assert client.volume_url_for("http://h:8776/v3/p1", "p1") == "http://h:8776/v3/p1"
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  a:\n    auth: {auth_url: 'http://k:5000'}\n"
                      "    block_storage_endpoint_override: http://h:8776/v3/x\n"
                      "  b:\n    auth: {auth_url: 'http://k:5000'}\n")
    assert client.CloudConfig(str(clouds), "a").volume_url == "http://h:8776/v3/x"
    assert client.CloudConfig(str(clouds), "b").volume_url is None
    assert client.CloudConfig(str(clouds), "b", volume_url="http://o").volume_url == "http://o"


def test_a_detach_whose_answer_was_lost_is_waited_for(drill):
    s = drill.session
    real = s.compute

    def lose_first_detach(method, path, json=None, params=None):
        resp = real(method, path, json=json, params=params)
        if method == "DELETE" and not s.lose.get("detach_lost"):
            s.lose["detach_lost"] = True
            raise requests.ConnectionError("answer lost")
        return resp
    s.compute = lose_first_detach
    drill.volume_round(SERVER, PREFIX + "-c0-1")
    # The retry finds it detaching (409, as controlplane answers): waited for.
    detaches = [r for r in drill.writer.records if r["op"] == "vol_detach"]
    assert [(d["outcome"], d["status"]) for d in detaches] == [("fail", None),
                                                               ("reject", 409)]
    assert s.volumes == {} and drill.owned_volumes == {}
    assert balance(drill)["ok"]


def test_a_failing_volume_step_never_stops_the_server_part(drill, monkeypatch):
    done = []
    monkeypatch.setattr(drill, "auth", lambda: "ok")
    monkeypatch.setattr(drill, "create", lambda name: "s1")
    monkeypatch.setattr(drill, "wait_status", lambda *a, **k: "ACTIVE")
    monkeypatch.setattr(drill, "call", lambda *a, **k: ("ok", None))
    monkeypatch.setattr(drill, "action", lambda sid, name, action, wanted:
                        done.append(action) or wanted[0])
    monkeypatch.setattr(drill, "delete", lambda sid, name: done.append("delete"))

    def broken(*_a):
        raise RuntimeError("volume API surprise")
    monkeypatch.setattr(drill, "volume_round", broken)
    drill.cycle()
    assert done == ["os-stop", "os-start", "delete"]
    assert drill.writer.records[-1]["op"] == "internal"
    assert "volume API surprise" in drill.writer.records[-1]["error"]


def test_leftover_gone_after_our_delete_or_vanished(drill):
    drill.owned_volumes = {"v1": "drill-1-c0-1-vol", "v2": "drill-1-c0-2-vol"}
    drill.volume_delete_sent.add("v1")       # deleted earlier, 404 not yet seen
    records = [{"kind": "volume", "op": "vol_create", "name": n, "volume_id": v, "ack": True,
                "outcome": "ok", "status": 202} for v, n in drill.owned_volumes.items()]
    records.append({"kind": "volume", "op": "vol_delete", "volume_id": "v1", "status": 202,
                    "outcome": "ok"})
    drill.reap_volumes()
    shows = {r["volume_id"]: r["outcome"] for r in drill.writer.records}
    assert shows == {"v1": "ok", "v2": "reject"}
    assert drill.owned_volumes == {}
    res = books.evaluate(records + drill.writer.records, [], 0, PREFIX, volumes=[],
                         volumes_used=0)
    assert res["volume_lost"] == ["drill-1-c0-2-vol (v2)"]
