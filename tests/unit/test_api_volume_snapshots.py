"""Block Storage API snapshots, validated against tempest's
``volume.snapshots`` schemas."""
from controlplane.db import engine as db_engine
from controlplane.db import snapshots as db_snapshots
from tests.unit.api_client import OTHER, READER, assert_fault
from tests.unit.test_api_volume_common import make_volume, venv, vcheck  # noqa: F401


def snap(venv, vol, **extra):
    body = {"volume_id": vol["id"], "name": "s1"}
    body.update(extra)
    r = venv.api.post("/snapshots", {"snapshot": body})
    return vcheck("snapshots", "create_snapshot", r)["snapshot"]


def test_create_casts_and_views(venv):
    vol = make_volume(size=10)
    s = snap(venv, vol, description="d", metadata={"a": "b"})
    assert s["status"] == "creating" and s["size"] == 10 and s["metadata"] == {"a": "b"}
    (_m, (cvol, csnap), _kw), = venv.casts.of("create_snapshot")
    assert cvol["id"] == vol["id"] and csnap["id"] == s["id"]
    r = venv.api.get("/snapshots/" + s["id"])
    shown = vcheck("snapshots", "show_snapshot", r)["snapshot"]
    assert shown["os-extended-snapshot-attributes:project_id"] == "proj-a"
    r = venv.api.get("/snapshots")
    assert [x["id"] for x in vcheck("snapshots", "list_snapshots_no_detail", r)[
        "snapshots"]] == [s["id"]]
    r = venv.api.get("/snapshots/detail?volume_id=" + vol["id"])
    assert len(vcheck("snapshots", "list_snapshots_with_detail", r)["snapshots"]) == 1
    r = venv.api.put("/snapshots/" + s["id"], {"snapshot": {"name": "renamed"}})
    assert vcheck("snapshots", "update_snapshot", r)["snapshot"]["name"] == "renamed"


def test_create_wrong_state_and_force(venv):
    vol = make_volume(status="in-use", attach_status="attached")
    assert_fault(venv.api.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}}), 409)
    s = snap(venv, vol, force=True)
    assert s["status"] == "creating"
    creating = make_volume(status="creating")
    assert_fault(venv.api.post("/snapshots", {"snapshot": {"volume_id": creating["id"],
                                                           "force": True}}), 409)


def test_bad_input_and_isolation(venv):
    assert_fault(venv.api.post("/snapshots", {"snapshot": {}}), 400)
    assert_fault(venv.api.post("/snapshots", {"snapshot": {"volume_id": "x"}}), 400)
    assert_fault(venv.api.post("/snapshots", {"snapshot": {
        "volume_id": "6f1f0c2a-0000-4000-8000-000000000000"}}), 404)
    theirs = make_volume(project=OTHER["project"])
    assert_fault(venv.api.post("/snapshots", {"snapshot": {"volume_id": theirs["id"]}}), 404)
    vol = make_volume()
    assert_fault(venv.api.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}},
                               who=READER), 403)
    s = snap(venv, vol)
    assert_fault(venv.api.get("/snapshots/" + s["id"], who=OTHER), 404)
    assert_fault(venv.api.delete("/snapshots/" + s["id"], who=OTHER), 404)


def test_quota_413(venv):
    venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"snapshots": 1}})
    vol = make_volume()
    snap(venv, vol)
    r = venv.api.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}})
    assert "snapshots" in assert_fault(r, 413)


def test_delete_states(venv):
    vol = make_volume()
    s = snap(venv, vol)
    assert_fault(venv.api.delete("/snapshots/" + s["id"]), 409)     # still creating
    db_snapshots.update_snapshot(db_engine.api_engine(), s["id"], {"status": "available"})
    r = venv.api.delete("/snapshots/" + s["id"])
    vcheck("snapshots", "delete_snapshot", r)
    (_m, (dvol, dsnap), _kw), = venv.casts.of("delete_snapshot")
    assert dsnap["status"] == "deleting"
    assert_fault(venv.api.delete("/snapshots/" + s["id"]), 409)


def test_reset_status_admin(venv):
    s = snap(venv, make_volume())
    body = {"os-reset_status": {"status": "error"}}
    assert_fault(venv.api.post("/snapshots/%s/action" % s["id"], body), 403)
    r = venv.admin.post("/snapshots/%s/action" % s["id"], body)
    vcheck("snapshots", "reset_snapshot_status", r)
    assert_fault(venv.admin.post("/snapshots/%s/action" % s["id"],
                                 {"os-reset_status": {"status": "bogus"}}), 400)
