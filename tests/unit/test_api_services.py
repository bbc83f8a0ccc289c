"""/os-services against real databases, validated with tempest's schemas
(2.1, 2.11 and 2.53/2.60)."""
import datetime

import pytest

from controlplane.db import engine as db_engine
from controlplane.db import services as db_services
from tests.unit.api_client import MAX, MEMBER, add_service, assert_fault, check


@pytest.fixture
def svcs(cell1):
    node1 = add_service(cell1, "node1")
    sched = add_service(cell1, "ctl1", binary="controlplane-scheduler")
    old = datetime.datetime(2020, 1, 1)
    with db_engine.cell_engine(cell1).begin() as conn:   # node2 stopped reporting
        node2 = add_service(cell1, "node2")
        conn.execute(db_services._t.update().where(db_services._t.c.id == node2["id"])
                     .values(last_seen_up=old))
    return {"node1": node1, "node2": node2, "sched": sched}


def test_list(api, svcs):
    body = check("v2_1.services", "list_services", api.get("/os-services"))
    by_host = {s["host"]: s for s in body["services"]}
    assert by_host["node1"]["state"] == "up" and by_host["node2"]["state"] == "down"
    assert by_host["node1"]["zone"] == "nova" and by_host["ctl1"]["zone"] == "internal"
    assert isinstance(by_host["node1"]["id"], int)
    body = check("v2_11.services", "list_services", api.get("/os-services", version="2.11"))
    assert body["services"][0]["forced_down"] is False
    body = check("v2_53.services", "list_services",
                 api.get("/os-services?binary=controlplane-compute", version=MAX))
    assert sorted(s["host"] for s in body["services"]) == ["node1", "node2"]
    body = api.get("/os-services?host=ctl1&binary=nova-scheduler").get_json()
    assert [s["binary"] for s in body["services"]] == ["controlplane-scheduler"]
    assert_fault(api.get("/os-services", who=MEMBER), 403)


def test_legacy_actions(api, svcs):
    hb = {"host": "node1", "binary": "controlplane-compute"}
    resp = api.put("/os-services/disable", hb)
    assert check("v2_1.services", "enable_disable_service", resp)["service"]["status"] == \
        "disabled"
    resp = api.put("/os-services/disable-log-reason", dict(hb, disabled_reason="maint"))
    assert check("v2_1.services", "disable_log_reason", resp)["service"]["disabled_reason"] == \
        "maint"
    listed = api.get("/os-services?host=node1").get_json()["services"][0]
    assert listed["status"] == "disabled" and listed["disabled_reason"] == "maint"
    assert_fault(api.put("/os-services/disable-log-reason", hb), 400)
    resp = api.put("/os-services/enable", hb)
    check("v2_1.services", "enable_disable_service", resp)
    assert api.get("/os-services?host=node1").get_json()["services"][0]["disabled_reason"] is None
    assert_fault(api.put("/os-services/force-down", dict(hb, forced_down=True)), 404)
    resp = api.put("/os-services/force-down", dict(hb, forced_down=True), version="2.11")
    assert check("v2_11.services", "update_forced_down", resp)["service"]["forced_down"] is True
    assert api.get("/os-services?host=node1").get_json()["services"][0]["state"] == "down"
    assert_fault(api.put("/os-services/enable", {"host": "nope", "binary": "x"}), 404)
    assert_fault(api.put("/os-services/enable", {"host": "node1"}), 400)
    assert_fault(api.put("/os-services/explode", hb), 404)
    assert_fault(api.put("/os-services/enable", hb, who=MEMBER), 403)


def test_update_253(api, svcs):
    sid = svcs["node1"]["uuid"]
    resp = api.put("/os-services/%s" % sid, {"status": "disabled", "disabled_reason": "x"},
                   version=MAX)
    svc = check("v2_53.services", "update_service", resp)["service"]
    assert svc["status"] == "disabled" and svc["disabled_reason"] == "x" and svc["id"] == sid
    resp = api.put("/os-services/%s" % sid, {"status": "enabled", "forced_down": True},
                   version=MAX)
    svc = check("v2_53.services", "update_service", resp)["service"]
    assert svc["disabled_reason"] is None and svc["forced_down"] and svc["state"] == "down"
    for bad in ({}, {"status": "enabled", "disabled_reason": "x"}, {"disabled_reason": "x"},
                {"status": "on"}, {"forced_down": "yes"}, {"status": "enabled", "x": 1}):
        assert_fault(api.put("/os-services/%s" % sid, bad, version=MAX), 400)
    assert_fault(api.put("/os-services/not-a-uuid", {"status": "enabled"}, version=MAX), 400)
    assert_fault(api.put("/os-services/%s" % svcs["sched"]["uuid"], {"status": "disabled"},
                         version=MAX), 400)
    assert_fault(api.put("/os-services/00000000-0000-0000-0000-00000000000a",
                         {"status": "enabled"}, version=MAX), 404)


def test_delete(api, svcs, cell1):
    from controlplane.db import compute_nodes
    agg = api.post("/os-aggregates", {"aggregate": {"name": "a"}}).get_json()["aggregate"]
    api.post("/os-aggregates/%d/action" % agg["id"], {"add_host": {"host": "node2"}})
    assert_fault(api.delete("/os-services/abc"), 400)
    assert_fault(api.delete("/os-services/12345"), 404)
    resp = api.delete("/os-services/%d" % svcs["sched"]["id"])
    assert resp.status_code == 204 and not resp.data
    assert_fault(api.delete("/os-services/%s" % svcs["node2"]["id"], version=MAX), 400)
    resp = api.delete("/os-services/%s" % svcs["node2"]["uuid"], version=MAX)
    assert resp.status_code == 204
    eng = db_engine.cell_engine(cell1)
    assert compute_nodes.get_compute_nodes(eng, host="node2") == []
    assert api.get("/os-aggregates/%d" % agg["id"]).get_json()["aggregate"]["hosts"] == []
    assert_fault(api.delete("/os-services/%s" % svcs["node2"]["uuid"], version=MAX), 404)
    assert_fault(api.delete("/os-services/%s" % svcs["node1"]["uuid"], version=MAX,
                            who=MEMBER), 403)


def test_delete_compute_with_instances_conflicts(api, svcs, cell1):
    from controlplane.db import instances
    instances.create_instance(db_engine.cell_engine(cell1), {
        "uuid": "11111111-2222-3333-4444-555555555555", "project_id": "p", "user_id": "u",
        "host": "node1", "flavor": {}, "vm_state": "active"})
    assert_fault(api.delete("/os-services/%s" % svcs["node1"]["uuid"], version=MAX), 409)


@pytest.mark.parametrize("version", [None, MAX])
def test_malformed_bodies_never_500(api, svcs, version):
    """Every write endpoint of the admin resources answers junk with 4xx."""
    api.post("/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 1, "id": "f"}})
    agg = api.post("/os-aggregates", {"aggregate": {"name": "a"}}).get_json()["aggregate"]
    sg = api.post("/os-server-groups", {"server_group": {"name": "g", "policies": ["affinity"]}})
    sid = svcs["node1"]["uuid"]
    targets = [("POST", "/flavors"), ("PUT", "/flavors/f"), ("POST", "/flavors/f/action"),
               ("POST", "/flavors/f/os-extra_specs"), ("PUT", "/flavors/f/os-extra_specs/k"),
               ("POST", "/os-aggregates"), ("PUT", "/os-aggregates/%d" % agg["id"]),
               ("POST", "/os-aggregates/%d/action" % agg["id"]),
               ("PUT", "/os-services/enable"), ("PUT", "/os-services/force-down"),
               ("PUT", "/os-services/%s" % sid), ("POST", "/os-keypairs"),
               ("POST", "/os-server-groups")]
    junk = ["", "null", "[]", "1", '"s"', "{}", '{"x": 1}', "{bad", '{"flavor": null}',
            '{"aggregate": []}', '{"keypair": {"name": 5}}', '{"set_metadata": 1}',
            '{"add_host": {"host": null}}', '{"extra_specs": []}', '{"k": {}}',
            '{"server_group": {"name": "x", "policies": [null]}}', '{"status": null}']
    assert sg.status_code == 200
    for method, path in targets:
        for raw in junk:
            resp = api.request(method, path, raw=raw, version=version)
            assert 400 <= resp.status_code < 500, (method, path, raw, resp.status_code,
                                                   resp.data)
