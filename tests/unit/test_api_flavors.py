"""/flavors, os-extra_specs and os-flavor-access against a real API database,
responses validated with tempest's schemas (2.1 and 2.60)."""
import pytest

from tests.unit.api_client import ADMIN, MAX, MEMBER, OTHER, READER, assert_fault, check

V21 = "v2_1.flavors"
V255 = "v2_55.flavors"


def _create(api, name="m1.small", who=ADMIN, version=None, **extra):
    body = {"flavor": {"name": name, "ram": 512, "vcpus": 1, "disk": 10, **extra}}
    return api.post("/flavors", body, who=who, version=version)


def test_create_show_list_21(api):
    resp = _create(api, id="42", swap=0)
    flavor = check(V21, "create_update_get_flavor_details", resp)["flavor"]
    assert flavor["id"] == "42" and flavor["ram"] == 512 and flavor["swap"] == ""
    assert flavor["os-flavor-access:is_public"] is True
    check(V21, "create_update_get_flavor_details", api.get("/flavors/42"))
    body = check(V21, "list_flavors", api.get("/flavors"))
    assert [f["id"] for f in body["flavors"]] == ["42"]
    body = check(V21, "list_flavors_details", api.get("/flavors/detail"))
    assert body["flavors"][0]["disk"] == 10


def test_create_generates_uuid_and_description_255(api):
    resp = _create(api, description="small one", swap=1024, version=None)
    assert resp.status_code == 400          # description before 2.55
    resp = api.post("/flavors", {"flavor": {"name": "m1.x", "ram": 512, "vcpus": 1,
                                            "disk": 1, "description": "d", "id": None,
                                            "swap": 1024}}, version=MAX)
    flavor = check(V255, "create_update_get_flavor_details", resp)["flavor"]
    assert len(flavor["id"]) == 36 and flavor["description"] == "d"
    assert flavor["swap"] == 1024
    check(V255, "list_flavors", api.get("/flavors", version=MAX))
    check(V255, "list_flavors_details", api.get("/flavors/detail", version=MAX))
    resp = api.put("/flavors/%s" % flavor["id"], {"flavor": {"description": "new"}},
                   version=MAX)
    assert check(V255, "create_update_get_flavor_details", resp)["flavor"]["description"] == "new"
    assert_fault(api.put("/flavors/%s" % flavor["id"], {"flavor": {"description": "x"}}), 404)


def test_duplicates_conflict(api):
    assert _create(api, id="1").status_code == 200
    assert "already exists" in assert_fault(_create(api, id="2"), 409)
    assert "already exists" in assert_fault(_create(api, name="other", id="1"), 409)


@pytest.mark.parametrize("flavor", [
    {"name": "a", "ram": 0, "vcpus": 1, "disk": 1},
    {"name": "a", "ram": "abc", "vcpus": 1, "disk": 1},
    {"name": "a", "ram": 1, "vcpus": 1},
    {"name": " a", "ram": 1, "vcpus": 1, "disk": 1},
    {"name": "a", "ram": 1, "vcpus": 1, "disk": -1},
    {"name": "a", "ram": 1, "vcpus": 1, "disk": 1, "rxtx_factor": 0},
    {"name": "a", "ram": 1, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": "maybe"},
    {"name": "a", "ram": 1, "vcpus": 1, "disk": 1, "bogus": 1},
    {"name": "a", "ram": 1, "vcpus": 1, "disk": 1, "id": "bad/id"},
    {"name": "a", "ram": 99999999999, "vcpus": 1, "disk": 1},
])
def test_create_bad_input_400(api, flavor):
    assert_fault(api.post("/flavors", {"flavor": flavor}), 400)


def test_create_malformed_and_forbidden(api):
    assert_fault(api.post("/flavors", raw="{not json"), 400)
    assert_fault(api.post("/flavors", raw="[1]"), 400)
    assert_fault(_create(api, who=MEMBER), 403)
    assert_fault(api.delete("/flavors/nope"), 404)
    assert_fault(api.delete("/flavors/nope", who=MEMBER), 403)
    assert_fault(api.get("/flavors/nope"), 404)


def test_string_numbers_accepted(api):
    resp = api.post("/flavors", {"flavor": {"name": "s", "ram": "256", "vcpus": "2",
                                            "disk": "0", "rxtx_factor": "1.5",
                                            "os-flavor-access:is_public": "false"}})
    flavor = check(V21, "create_update_get_flavor_details", resp)["flavor"]
    assert flavor["vcpus"] == 2 and flavor["rxtx_factor"] == 1.5
    assert flavor["os-flavor-access:is_public"] is False


def test_private_flavor_visibility_and_access(api):
    _create(api, name="pub", id="pub")
    _create(api, name="priv", id="priv", **{"os-flavor-access:is_public": False})
    ids = lambda r: [f["id"] for f in r.get_json()["flavors"]]  # noqa: E731
    assert ids(api.get("/flavors", who=MEMBER)) == ["pub"]
    assert_fault(api.get("/flavors/priv", who=MEMBER), 404)
    assert ids(api.get("/flavors?is_public=none")) == ["priv", "pub"]
    assert ids(api.get("/flavors?is_public=false")) == ["priv"]
    assert_fault(api.get("/flavors?is_public=perhaps"), 400)

    resp = api.post("/flavors/priv/action", {"addTenantAccess": {"tenant": "proj-a"}})
    body = check("v2_1.flavors_access", "add_remove_list_flavor_access", resp)
    assert body["flavor_access"] == [{"flavor_id": "priv", "tenant_id": "proj-a"}]
    assert_fault(api.post("/flavors/priv/action", {"addTenantAccess": {"tenant": "proj-a"}}), 409)
    check("v2_1.flavors_access", "add_remove_list_flavor_access",
          api.get("/flavors/priv/os-flavor-access"))
    assert ids(api.get("/flavors", who=MEMBER)) == ["priv", "pub"]
    check(V21, "create_update_get_flavor_details", api.get("/flavors/priv", who=MEMBER))
    assert_fault(api.get("/flavors/priv", who=OTHER), 404)

    assert_fault(api.get("/flavors/pub/os-flavor-access"), 404)
    assert_fault(api.post("/flavors/pub/action", {"addTenantAccess": {"tenant": "p"}}), 409)
    assert_fault(api.post("/flavors/priv/action", {"addTenantAccess": {"tenant": "p"}},
                          who=MEMBER), 403)
    assert_fault(api.post("/flavors/priv/action", {"addTenantAccess": {}}), 400)
    assert_fault(api.post("/flavors/priv/action", {"bogus": {}}), 400)
    resp = api.post("/flavors/priv/action", {"removeTenantAccess": {"tenant": "proj-a"}})
    assert check("v2_1.flavors_access", "add_remove_list_flavor_access",
                 resp)["flavor_access"] == []
    assert_fault(api.post("/flavors/priv/action",
                          {"removeTenantAccess": {"tenant": "proj-a"}}), 404)
    assert_fault(api.post("/flavors/missing/action",
                          {"removeTenantAccess": {"tenant": "proj-a"}}), 404)


def test_filters_sort_pagination(api):
    for i, (ram, disk) in enumerate([(512, 1), (1024, 20), (2048, 40)]):
        _create(api, name="f%d" % i, id=str(i + 1), ram=ram, disk=disk)
    ids = lambda r: [f["id"] for f in r.get_json()["flavors"]]  # noqa: E731
    assert ids(api.get("/flavors?minRam=1000")) == ["2", "3"]
    assert ids(api.get("/flavors/detail?minDisk=30")) == ["3"]
    assert ids(api.get("/flavors?sort_key=memory_mb&sort_dir=desc")) == ["3", "2", "1"]
    assert_fault(api.get("/flavors?minRam=abc"), 400)
    assert_fault(api.get("/flavors?sort_key=bogus"), 400)
    assert_fault(api.get("/flavors?sort_dir=up"), 400)
    resp = api.get("/flavors?limit=2")
    body = check(V21, "list_flavors", resp)
    assert ids(resp) == ["1", "2"] and "marker=2" in body["flavors_links"][0]["href"]
    body = check(V21, "list_flavors_details", api.get("/flavors/detail?limit=2&marker=2"))
    assert [f["id"] for f in body["flavors"]] == ["3"]
    assert_fault(api.get("/flavors?marker=nope"), 400)
    assert_fault(api.get("/flavors?limit=-1"), 400)


def test_delete(api):
    _create(api, id="9")
    resp = api.delete("/flavors/9")
    check(V21, "delete_flavor", resp)
    assert_fault(api.get("/flavors/9"), 404)


def test_extra_specs(api):
    _create(api, id="7")
    specs = "v2_1.flavors_extra_specs"
    resp = api.post("/flavors/7/os-extra_specs",
                    {"extra_specs": {"hw:cpu_policy": "dedicated", "ssd": True, "n": 3}})
    body = check(specs, "set_get_flavor_extra_specs", resp)
    assert body["extra_specs"] == {"hw:cpu_policy": "dedicated", "ssd": "True", "n": "3"}
    body = check(specs, "set_get_flavor_extra_specs",
                 api.get("/flavors/7/os-extra_specs", who=READER))
    assert body["extra_specs"]["n"] == "3"
    body = check(specs, "set_get_flavor_extra_specs_key",
                 api.get("/flavors/7/os-extra_specs/hw:cpu_policy", who=MEMBER))
    assert body == {"hw:cpu_policy": "dedicated"}
    resp = api.put("/flavors/7/os-extra_specs/n", {"n": "4"})
    assert check(specs, "set_get_flavor_extra_specs_key", resp) == {"n": "4"}
    assert_fault(api.put("/flavors/7/os-extra_specs/n", {"m": "4"}), 400)
    assert_fault(api.put("/flavors/7/os-extra_specs/n", {"n": "4", "m": "1"}), 400)
    assert_fault(api.post("/flavors/7/os-extra_specs", {"extra_specs": {"bad/key": "x"}}), 400)
    assert_fault(api.post("/flavors/7/os-extra_specs", {"extra_specs": {"k": "x" * 256}}), 400)
    assert_fault(api.post("/flavors/7/os-extra_specs", {"extra_specs": {"k": None}}), 400)
    assert_fault(api.post("/flavors/7/os-extra_specs", {"specs": {}}), 400)
    assert_fault(api.post("/flavors/7/os-extra_specs", {"extra_specs": {"k": "v"}},
                          who=MEMBER), 403)
    assert_fault(api.post("/flavors/404/os-extra_specs", {"extra_specs": {"k": "v"}}), 404)
    check(specs, "unset_flavor_extra_specs", api.delete("/flavors/7/os-extra_specs/n"))
    assert_fault(api.delete("/flavors/7/os-extra_specs/n"), 404)
    assert_fault(api.get("/flavors/7/os-extra_specs/n"), 404)
    assert_fault(api.delete("/flavors/7/os-extra_specs/ssd", who=MEMBER), 403)
