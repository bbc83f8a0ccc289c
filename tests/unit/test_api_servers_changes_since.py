"""GET /servers[/detail]?changes-since=...: only servers changed since then,
deleted ones included (Nova's API guide, "Efficient polling with the
Changes-Since parameter")."""
import datetime
import urllib.parse

from controlplane.db import engine as db_engine
from controlplane.db import instances
from controlplane.db.services import utcnow
from tests.unit.api_client import assert_fault, boot_body, place


def boot(env, **kw):
    r = env.api.post("/servers", boot_body(**kw))
    assert r.status_code == 202, r.data
    return r.get_json()["server"]["id"]


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def listed(env, since, path="/servers/detail"):
    r = env.api.get("%s?changes-since=%s" % (path, since))
    assert r.status_code == 200, r.data
    return {s["id"]: s for s in r.get_json()["servers"]}


def test_changes_since_lists_changed_and_deleted_servers(env):
    queued, active, gone, old = (boot(env, name=n) for n in ("q", "a", "g", "o"))
    for sid in (active, gone, old):
        place(env, sid)
    engine = db_engine.cell_engine(env.cell1)
    past = utcnow() - datetime.timedelta(hours=1)
    with engine.begin() as conn:   # "old" last changed long ago
        conn.execute(instances._t.update().where(instances._t.c.uuid == old)
                     .values(updated_at=past - datetime.timedelta(hours=1)))
    before = utcnow() - datetime.timedelta(seconds=5)
    instances.update_instance(engine, active, {"task_state": None})
    instances.soft_delete_instance(engine, gone)

    got = listed(env, iso(before))
    assert set(got) == {queued, active, gone}       # build request counts as changed
    assert got[active]["status"] == "ACTIVE"
    assert got[gone]["status"] == "DELETED"
    assert got[queued]["status"] == "BUILD"
    assert set(listed(env, iso(before), "/servers")) == {queued, active, gone}
    # an offset is honoured; no offset means UTC
    plus2 = urllib.parse.quote(
        (before + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"))
    assert set(listed(env, plus2)) == {queued, active, gone}
    assert listed(env, iso(utcnow() + datetime.timedelta(minutes=5))) == {}
    assert set(listed(env, (past - datetime.timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%S"))) == {queued, active, gone, old}
    # without the filter deleted servers stay hidden
    plain = {s["id"] for s in env.api.get("/servers").get_json()["servers"]}
    assert plain == {queued, active, old}


def test_changes_since_must_be_a_date(env):
    assert_fault(env.api.get("/servers/detail?changes-since=yesterday"), 400)
