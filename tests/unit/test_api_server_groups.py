"""/os-server-groups against a real API database, validated with tempest's
schemas (2.1 and 2.13, the latest ≤ 2.60), plus the db helpers the
scheduler and server create use."""
import pytest

from controlplane import exception
from controlplane.db import engine as db_engine
from controlplane.db import server_groups as db
from tests.unit.api_client import ADMIN, MAX, MEMBER, OTHER, READER, assert_fault, check

G21, G213 = "v2_1.server_groups", "v2_13.server_groups"


def _create(api, name="g", policies=("affinity",), who=MEMBER, version=None):
    return api.post("/os-server-groups",
                    {"server_group": {"name": name, "policies": list(policies)}},
                    who=who, version=version)


def test_crud(api):
    g = check(G21, "create_show_server_group", _create(api))["server_group"]
    assert g["policies"] == ["affinity"] and g["members"] == []
    resp = _create(api, "soft", ["soft-anti-affinity"], version=MAX)
    g2 = check(G213, "create_show_server_group", resp)["server_group"]
    assert g2["project_id"] == "proj-a" and g2["user_id"] == "alice"
    check(G21, "create_show_server_group", api.get("/os-server-groups/%s" % g["id"],
                                                   who=READER))
    check(G213, "create_show_server_group", api.get("/os-server-groups/%s" % g["id"],
                                                    who=MEMBER, version=MAX))
    body = check(G21, "list_server_groups", api.get("/os-server-groups", who=MEMBER))
    assert len(body["server_groups"]) == 2
    body = check(G213, "list_server_groups",
                 api.get("/os-server-groups?limit=1&offset=1", who=MEMBER, version=MAX))
    assert [x["id"] for x in body["server_groups"]] == [g2["id"]]
    assert api.get("/os-server-groups", who=OTHER).get_json()["server_groups"] == []
    assert_fault(api.get("/os-server-groups/%s" % g["id"], who=OTHER), 404)
    assert_fault(api.delete("/os-server-groups/%s" % g["id"], who=OTHER), 404)
    assert_fault(api.get("/os-server-groups?all_projects=True", who=MEMBER), 403)
    body = api.get("/os-server-groups?all_projects=True", who=ADMIN).get_json()
    assert len(body["server_groups"]) == 2
    check(G21, "delete_server_group",
          api.delete("/os-server-groups/%s" % g["id"], who=MEMBER))
    assert_fault(api.get("/os-server-groups/%s" % g["id"], who=MEMBER), 404)
    assert_fault(api.delete("/os-server-groups/%s" % g["id"], who=ADMIN), 404)
    check(G213, "delete_server_group",
          api.delete("/os-server-groups/%s" % g2["id"], who=ADMIN, version=MAX))


def test_bad_input_and_quota(api, conf):
    for bad in ({"server_group": {"name": "g", "policies": []}},
                {"server_group": {"name": "g", "policies": ["affinity", "anti-affinity"]}},
                {"server_group": {"name": "g", "policies": ["sticky"]}},
                {"server_group": {"name": "g", "policies": ["soft-affinity"]}},  # needs 2.15
                {"server_group": {"name": "", "policies": ["affinity"]}},
                {"server_group": {"name": "g", "policies": "affinity"}},
                {"server_group": {"name": "g"}}, {"server_group": {"name": "g",
                                                                   "policies": ["affinity"],
                                                                   "x": 1}},
                {"group": {}}):
        assert_fault(api.post("/os-server-groups", bad, who=MEMBER), 400)
    assert_fault(api.post("/os-server-groups", raw="not json", who=MEMBER), 400)
    assert_fault(_create(api, who=READER), 403)
    assert_fault(api.get("/os-server-groups?offset=x", who=MEMBER), 400)
    conf.set_override("server_groups", 1, "quota")
    assert _create(api).status_code == 200
    assert "Quota exceeded" in assert_fault(_create(api, "g2"), 403)


def test_members_and_hosts(api, cell1):
    from controlplane.db import cells, instances
    g = _create(api, policies=["anti-affinity"]).get_json()["server_group"]
    uuids = ["11111111-0000-0000-0000-00000000000%d" % i for i in range(3)]
    eng = db_engine.cell_engine(cell1)
    for i, u in enumerate(uuids[:2]):
        instances.create_instance(eng, {"uuid": u, "project_id": "proj-a", "user_id": "alice",
                                        "host": "node%d" % i, "flavor": {}})
        cells.create_instance_mapping(u, "proj-a", "alice", 1, 512, cell_id=cell1["id"])
    grp = db.add_members(g["id"], uuids, limit=10)
    assert grp["members"] == uuids
    assert db.add_members(g["id"], uuids[:1])["members"] == uuids   # idempotent
    with pytest.raises(exception.OverQuota):
        db.add_members(g["id"], ["22222222-0000-0000-0000-000000000000"], limit=3)
    body = api.get("/os-server-groups/%s" % g["id"], who=MEMBER).get_json()
    assert body["server_group"]["members"] == uuids
    hosts = db.get_group_hosts(g["id"])
    assert hosts["hosts"] == ["node0", "node1"]
    assert db.get_group_hosts(g["id"], exclude=[uuids[0]])["hosts"] == ["node1"]
    assert db.get_group_for_instance(uuids[1])["uuid"] == g["id"]
    assert db.remove_member(uuids[1]) is True
    assert db.get_group_for_instance(uuids[1]) is None
