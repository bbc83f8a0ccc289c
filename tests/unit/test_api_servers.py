"""Servers API: create/list/show/update/delete validated against tempest's
schemas at 2.1 and 2.60 (v2_57 is the newest server schema ≤ 2.60)."""

import pytest

from controlplane.db import build_requests, cells, instances
from controlplane.db import engine as db_engine
from tests.unit.api_client import (ADMIN, IMAGE, MAX, MEMBER, OTHER, READER, assert_fault,
                                   boot_body, check, place)

SCHEMA = {"2.1": "v2_1.servers", MAX: "v2_57.servers"}


def boot(env, who=MEMBER, version=None, **kw):
    r = env.api.post("/servers", boot_body(**kw), who=who, version=version)
    assert r.status_code == 202, r.data
    return r.get_json()["server"]["id"]


@pytest.mark.parametrize("version", ["2.1", MAX])
def test_create_validates_and_casts(env, version):
    body = boot_body(networks="none") if version == MAX else boot_body()
    body["server"]["metadata"] = {"k": "v"}
    body["os:scheduler_hints"] = {"same_host": "9d0f1a3c-27ab-4a3e-b8b1-9d2b3c0e1f00",
                                  "query": '[">=", "$free_ram_mb", 1024]'}
    r = env.api.post("/servers", body, version=version)
    server = check("v2_1.servers", "create_server_with_admin_pass", r)["server"]
    assert r.headers["Location"].endswith("/servers/" + server["id"])
    (method, args, kwargs), = env.casts.of("schedule_and_build_instances")
    brs, specs = args
    assert brs[0]["instance_uuid"] == server["id"]
    spec = specs[0]
    assert spec["instance_uuid"] == server["id"] and spec["num_instances"] == 1
    assert spec["flavor"]["memory_mb"] == 512 and spec["flavor"]["extra_specs"] == {}
    assert spec["image"] == {"id": IMAGE, "name": "cirros", "min_ram": 0, "min_disk": 0,
                             "properties": {"os_distro": "cirros"}}
    assert spec["scheduler_hints"]["same_host"] == ["9d0f1a3c-27ab-4a3e-b8b1-9d2b3c0e1f00"]
    assert spec["force_hosts"] == [] and spec["ignore_hosts"] == []
    assert spec["instance_group"] is None
    # the API database holds mapping (no cell), build request and spec
    mapping = cells.get_instance_mapping(server["id"])
    assert mapping["cell_mapping"] is None and mapping["vcpus"] == 1
    assert build_requests.get_request_spec(server["id"])["spec"]["project_id"] == "proj-a"


@pytest.mark.parametrize("version", ["2.1", MAX])
def test_show_and_list_build_request(env, version):
    sid = boot(env, version=version, **({"networks": "auto"} if version == MAX else {}))
    r = env.api.get("/servers/" + sid, version=version)
    server = check(SCHEMA[version], "get_server", r)["server"]
    assert server["status"] == "BUILD" and server["OS-EXT-STS:vm_state"] == "building"
    assert "OS-EXT-SRV-ATTR:host" not in server        # member: no admin attributes
    if version == MAX:
        assert server["flavor"]["original_name"] == "m1.tiny"
        assert server["description"] is None and server["tags"] == [] and not server["locked"]
    else:
        assert server["flavor"]["id"] == "1"
    r = env.api.get("/servers", version=version)
    assert [s["id"] for s in check(SCHEMA[version], "list_servers", r)["servers"]] == [sid]
    r = env.api.get("/servers/detail", version=version)
    check(SCHEMA[version], "list_servers_detail", r)


@pytest.mark.parametrize("version", ["2.1", MAX])
def test_show_active_and_error_servers_as_admin(env, version):
    kw = {"networks": "none"} if version == MAX else {}
    sid = boot(env, version=version, **kw)
    place(env, sid)
    bad = boot(env, version=version, **kw)
    place(env, bad, cell=env.cell0, host=None, vm_state="error", power_state=0)
    instances.add_fault(db_engine.cell_engine(env.cell0), bad, 500,
                        "No valid host was found.", details="trace")
    r = env.api.get("/servers/" + sid, who=ADMIN, version=version,
                    headers={"X-Project-Id": "proj-a"})
    server = check(SCHEMA[version], "get_server", r)["server"]
    assert server["status"] == "ACTIVE" and server["OS-EXT-SRV-ATTR:host"] == "host1"
    assert len(server["hostId"]) == 56
    if version == MAX:
        assert server["host_status"] == "UNKNOWN"
    r = env.api.get("/servers/" + bad, version=version)
    server = check(SCHEMA[version], "get_server", r)["server"]
    assert server["status"] == "ERROR"
    assert server["fault"]["message"] == "No valid host was found."
    assert "details" not in server["fault"]          # 500 details only for admins
    r = env.api.get("/servers/detail?all_tenants=1", who=ADMIN, version=version)
    body = check(SCHEMA[version], "list_servers_detail", r)
    assert {s["id"] for s in body["servers"]} == {sid, bad}
    err = [s for s in body["servers"] if s["id"] == bad][0]
    assert err["fault"]["details"] == "trace"


def test_other_project_gets_404(env):
    sid = boot(env)
    assert_fault(env.api.get("/servers/" + sid, who=OTHER), 404)
    assert_fault(env.api.delete("/servers/" + sid, who=OTHER), 404)
    assert_fault(env.api.post("/servers/%s/action" % sid, {"os-stop": None}, who=OTHER), 404)
    assert env.api.get("/servers", who=OTHER).get_json()["servers"] == []
    # a reader sees it but may not delete it
    assert env.api.get("/servers/" + sid, who=READER).status_code == 200
    assert_fault(env.api.delete("/servers/" + sid, who=READER), 403)


def test_all_tenants_needs_admin(env):
    boot(env)
    assert_fault(env.api.get("/servers?all_tenants=1", who=MEMBER), 403)
    r = env.api.get("/servers?all_tenants=true", who=ADMIN)
    assert len(r.get_json()["servers"]) == 1
    assert env.api.get("/servers", who=ADMIN).get_json()["servers"] == []


def test_list_filters_and_pagination(env):
    ids = [boot(env, name="web-%d" % i) for i in range(4)]
    place(env, ids[0])
    place(env, ids[1], vm_state="stopped", power_state=4)
    r = env.api.get("/servers?limit=2")
    body = check("v2_1.servers", "list_servers", r)
    assert len(body["servers"]) == 2 and "marker=" in body["servers_links"][0]["href"]
    marker = body["servers"][-1]["id"]
    rest = env.api.get("/servers?marker=%s" % marker).get_json()["servers"]
    assert {s["id"] for s in body["servers"]} | {s["id"] for s in rest} == set(ids)
    assert len(rest) == 2
    assert [s["id"] for s in env.api.get("/servers?status=SHUTOFF").get_json()["servers"]] \
        == [ids[1]]
    assert len(env.api.get("/servers?status=BUILD").get_json()["servers"]) == 2
    assert env.api.get("/servers?status=bogus").get_json()["servers"] == []
    assert [s["name"] for s in env.api.get("/servers?name=web-3").get_json()["servers"]] \
        == ["web-3"]
    assert_fault(env.api.get("/servers?marker=nope"), 400)
    assert_fault(env.api.get("/servers?limit=-1"), 400)
    assert_fault(env.api.get("/servers?limit=abc"), 400)
    # host filter only for admins (ignored for members)
    assert len(env.api.get("/servers?host=host1").get_json()["servers"]) == 4
    r = env.api.get("/servers?all_tenants=1&host=host1", who=ADMIN)
    assert {s["id"] for s in r.get_json()["servers"]} == {ids[0], ids[1]}


@pytest.mark.parametrize("version", ["2.1", "2.19", MAX])
def test_update(env, version):
    kw = {"networks": "none"} if version == MAX else {}
    sid = boot(env, version=version, **kw)
    assert_fault(env.api.put("/servers/" + sid, {"server": {"name": "x"}}, version=version), 409)
    place(env, sid)
    change = {"name": "renamed"}
    if version != "2.1":
        change["description"] = "hello"
    r = env.api.put("/servers/" + sid, {"server": change}, version=version)
    module = {"2.1": "v2_1.servers", "2.19": "v2_19.servers", MAX: "v2_57.servers"}[version]
    server = check(module, "update_server", r)["server"]
    assert server["name"] == "renamed"
    if version != "2.1":
        assert server["description"] == "hello"
    assert_fault(env.api.put("/servers/" + sid, {"server": {"description": "x"}}, version="2.1"),
          400)
    assert_fault(env.api.put("/servers/" + sid, {"server": {"name": ""}}), 400)


def test_delete_build_request(env):
    sid = boot(env)
    r = env.api.delete("/servers/" + sid)
    assert r.status_code == 204 and not r.data
    assert_fault(env.api.get("/servers/" + sid), 404)
    assert not build_requests.build_request_exists(sid)
    assert env.casts.of("terminate_instance") == []


def test_delete_in_cell_casts_terminate(env):
    sid = boot(env)
    place(env, sid)
    assert env.api.delete("/servers/" + sid).status_code == 204
    inst = instances.get_instance(db_engine.cell_engine(env.cell1), sid)
    assert inst["task_state"] == "deleting"
    assert cells.get_instance_mapping(sid)["queued_for_delete"]
    (_m, args, kwargs), = env.casts.of("terminate_instance")
    assert args == ("host1", sid) and kwargs["transport_url"] == "rabbit://c1/"
    # a second delete while deleting is accepted and casts again (the first
    # cast may have been lost; terminate_instance is idempotent)
    assert env.api.delete("/servers/" + sid).status_code == 204
    assert len(env.casts.of("terminate_instance")) == 2


def test_delete_in_cell0_is_local(env):
    sid = boot(env)
    place(env, sid, cell=env.cell0, host=None, vm_state="error", power_state=0)
    assert env.api.delete("/servers/" + sid).status_code == 204
    assert_fault(env.api.get("/servers/" + sid), 404)
    assert env.casts.of("terminate_instance") == []
    assert env.api.get("/limits").get_json()["limits"]["absolute"]["totalInstancesUsed"] == 0


# --- create: bad input is 4xx, never 500 -------------------------------------------

@pytest.mark.parametrize("body,code,text", [
    ({"server": {"name": "a", "flavorRef": "99", "imageRef": IMAGE}}, 400,
     "Flavor 99 could not be found"),
    ({"server": {"name": "a", "flavorRef": "1", "imageRef": "nope"}}, 400,
     "Image nope could not be found"),
    ({"server": {"name": "a", "flavorRef": "1"}}, 400, "imageRef"),
    ({"server": {"flavorRef": "1", "imageRef": IMAGE}}, 400, "name"),
    ({"server": {"name": "a", "flavorRef": "1", "imageRef": IMAGE, "min_count": 0}},
     400, "min_count"),
    ({"server": {"name": "a", "flavorRef": "1", "imageRef": IMAGE, "min_count": 3,
                 "max_count": 2}}, 400, "min_count"),
    ({"server": {"name": "a", "flavorRef": "1", "imageRef": IMAGE, "user_data": "%%%"}},
     400, "user_data"),
    ({"server": {"name": "a", "flavorRef": "1", "imageRef": IMAGE, "bogus": 1}}, 400,
     "bogus"),
    ({"server": {"name": "a", "flavorRef": ["1"], "imageRef": IMAGE}}, 400, "flavorRef"),
    ({"server": {"name": "a", "flavorRef": "1", "imageRef": IMAGE,
                 "key_name": "missing"}}, 400, "key_name"),
    ({"server": {"name": "a", "flavorRef": "1", "imageRef": IMAGE,
                 "availability_zone": "nova:host1"}}, 403, "forced_host"),
    ({"server": "x"}, 400, "server"),
    ({}, 400, "server"),
])
def test_create_bad_input(env, body, code, text):
    msg = assert_fault(env.api.post("/servers", body), code)
    assert text in msg
    assert env.casts.calls == []


def test_create_bad_json(env):
    assert_fault(env.api.post("/servers", raw="{not json"), 400)
    assert_fault(env.api.post("/servers", raw="[1, 2]"), 400)
    assert_fault(env.api.post("/servers", raw=""), 400)


def test_create_image_checks(env):
    env.images["queued"] = dict(env.images[IMAGE], id="queued", status="queued")
    env.images["big"] = dict(env.images[IMAGE], id="big", min_ram=4096)
    env.images["disk"] = dict(env.images[IMAGE], id="disk", min_disk=50)
    assert "not active" in assert_fault(env.api.post("/servers", boot_body(image="queued")), 400)
    assert "memory" in assert_fault(env.api.post("/servers", boot_body(image="big")), 400)
    r = env.api.post("/servers", boot_body(image="disk", flavor="2"))
    assert "disk" in assert_fault(r, 400)
    # URLs are accepted for both references
    r = env.api.post("/servers", boot_body(image="http://glance/v2/images/" + IMAGE,
                                           flavor="http://x/v2.1/flavors/2"))
    assert r.status_code == 202


def test_networks_required_from_2_37(env):
    assert "networks" in assert_fault(env.api.post("/servers", boot_body(), version="2.37"), 400)
    assert_fault(env.api.post("/servers", boot_body(networks="some"), version="2.37"), 400)
    assert env.api.post("/servers", boot_body(networks="auto"),
                        version="2.37").status_code == 202


def test_forced_host_for_admin(env):
    r = env.api.post("/servers", boot_body(availability_zone="nova:host7:node7"), who=ADMIN)
    assert r.status_code == 202
    spec = env.casts.of("schedule_and_build_instances")[0][1][1][0]
    assert spec["availability_zone"] == "nova"
    assert spec["force_hosts"] == ["host7"] and spec["force_nodes"] == ["node7"]


def test_metadata_quota_and_multi_create(env):
    env.conf.set_override("metadata_items", 2, "quota")
    body = boot_body(metadata={"a": "1", "b": "2", "c": "3"})
    assert "metadata_items" in assert_fault(env.api.post("/servers", body), 403)
    r = env.api.post("/servers", boot_body(min_count=2, max_count=3))
    assert r.status_code == 202
    names = sorted(s["name"] for s in env.api.get("/servers").get_json()["servers"])
    assert names == ["vm-1", "vm-2", "vm-3"]
    (_m, (brs, specs), _k), = env.casts.of("schedule_and_build_instances")
    assert len(brs) == 3 and all(s["num_instances"] == 3 for s in specs)


def test_create_quota_exceeded(env):
    env.conf.set_override("instances", 2, "quota")
    boot(env)
    boot(env)
    msg = assert_fault(env.api.post("/servers", boot_body()), 403)
    assert msg == "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances"
    # min_count/max_count: as many as fit once a slot is free
    env.conf.set_override("instances", 4, "quota")
    r = env.api.post("/servers", boot_body(min_count=1, max_count=5))
    assert r.status_code == 202
    assert len(env.api.get("/servers").get_json()["servers"]) == 4
    env.conf.set_override("instances", 100, "quota")
    env.conf.set_override("cores", 5, "quota")
    assert "cores" in assert_fault(env.api.post("/servers", boot_body(flavor="2", min_count=1)),
                            403)


def test_server_group_hint(env):
    from controlplane.db import server_groups
    group = server_groups.create_group("proj-a", "alice", "g", "anti-affinity")
    body = boot_body()
    body["os:scheduler_hints"] = {"group": group["uuid"]}
    assert env.api.post("/servers", body).status_code == 202
    spec = env.casts.of("schedule_and_build_instances")[0][1][1][0]
    assert spec["instance_group"] == {"uuid": group["uuid"], "policy": "anti-affinity",
                                      "rules": {}}
    body["os:scheduler_hints"] = {"group": "5d1c9a52-2bd4-4c3f-a2a4-b3f4b6d0e0aa"}
    assert_fault(env.api.post("/servers", body), 400)
