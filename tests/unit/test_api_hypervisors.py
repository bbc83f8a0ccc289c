"""/os-hypervisors against real databases, validated with tempest's schemas
(2.1, 2.28, 2.33, 2.53/2.60)."""
import pytest

from controlplane.db import engine as db_engine
from tests.unit.api_client import MAX, MEMBER, add_service, assert_fault, check

INST = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def nodes(cell1):
    from controlplane.db import instances
    add_service(cell1, "node1")
    add_service(cell1, "node2", disabled=True, disabled_reason="maint")
    instances.create_instance(db_engine.cell_engine(cell1), {
        "uuid": INST, "project_id": "p", "user_id": "u", "display_name": "vm1",
        "host": "node1", "node": "node1.example", "flavor": {}, "vm_state": "active"})


def test_list_and_detail(api, nodes):
    body = check("v2_1.hypervisors", "list_search_hypervisors", api.get("/os-hypervisors"))
    assert [(h["hypervisor_hostname"], h["status"]) for h in body["hypervisors"]] == [
        ("node1.example", "enabled"), ("node2.example", "disabled")]
    assert isinstance(body["hypervisors"][0]["id"], int)
    body = check("v2_1.hypervisors", "list_hypervisors_detail",
                 api.get("/os-hypervisors/detail"))
    h = body["hypervisors"][0]
    assert isinstance(h["cpu_info"], str) and h["vcpus"] == 16 and h["state"] == "up"
    check("v2_28.hypervisors", "list_hypervisors_detail",
          api.get("/os-hypervisors/detail", version="2.28"))
    resp = api.get("/os-hypervisors?limit=1", version="2.33")
    body = check("v2_33.hypervisors", "list_search_hypervisors", resp)
    assert len(body["hypervisors"]) == 1 and body["hypervisors_links"]
    marker = body["hypervisors"][0]["id"]
    body = check("v2_33.hypervisors", "list_hypervisors_detail",
                 api.get("/os-hypervisors/detail?marker=%s" % marker, version="2.33"))
    assert [h["hypervisor_hostname"] for h in body["hypervisors"]] == ["node2.example"]
    assert_fault(api.get("/os-hypervisors?marker=999", version="2.33"), 400)
    assert_fault(api.get("/os-hypervisors", who=MEMBER), 403)


def test_253(api, nodes):
    resp = api.get("/os-hypervisors?with_servers=true", version=MAX)
    body = check("v2_53.hypervisors", "list_search_hypervisors", resp)
    by_name = {h["hypervisor_hostname"]: h for h in body["hypervisors"]}
    assert by_name["node1.example"]["servers"] == [{"uuid": INST, "name": "vm1"}]
    resp = api.get("/os-hypervisors/detail?hypervisor_hostname_pattern=node2", version=MAX)
    body = check("v2_53.hypervisors", "list_hypervisors_detail", resp)
    (h,) = body["hypervisors"]
    assert h["service"]["disabled_reason"] == "maint" and len(h["id"]) == 36
    hid = by_name["node1.example"]["id"]
    resp = api.get("/os-hypervisors/%s?with_servers=1" % hid, version=MAX)
    hyp = check("v2_53.hypervisors", "get_hypervisor", resp)["hypervisor"]
    assert hyp["running_vms"] == 0 and hyp["servers"][0]["name"] == "vm1"
    assert isinstance(hyp["cpu_info"], dict)
    assert_fault(api.get("/os-hypervisors?hypervisor_hostname_pattern=zzz", version=MAX), 404)
    assert_fault(api.get("/os-hypervisors?hypervisor_hostname_pattern=n&limit=1",
                         version=MAX), 400)
    assert_fault(api.get("/os-hypervisors/1", version=MAX), 400)
    assert_fault(api.get("/os-hypervisors/00000000-0000-0000-0000-00000000000a",
                         version=MAX), 404)
    assert_fault(api.get("/os-hypervisors/node/search", version=MAX), 404)
    assert_fault(api.get("/os-hypervisors?with_servers=maybe", version=MAX), 400)
    resp = api.get("/os-hypervisors/%s/uptime" % hid, version=MAX)
    assert "up" in check("v2_53.hypervisors", "get_hypervisor_uptime", resp)["hypervisor"][
        "uptime"]


def test_show_stats_uptime_search_servers_21(api, nodes):
    ids = {h["hypervisor_hostname"]: h["id"]
           for h in api.get("/os-hypervisors").get_json()["hypervisors"]}
    resp = api.get("/os-hypervisors/%d" % ids["node1.example"])
    hyp = check("v2_1.hypervisors", "get_hypervisor", resp)["hypervisor"]
    assert hyp["free_ram_mb"] == 32768 - hyp["memory_mb_used"]
    assert_fault(api.get("/os-hypervisors/9999"), 404)
    assert_fault(api.get("/os-hypervisors/abc"), 404)
    resp = api.get("/os-hypervisors/statistics")
    stats = check("v2_1.hypervisors", "get_hypervisor_statistics", resp)
    assert stats["hypervisor_statistics"]["count"] == 2
    assert stats["hypervisor_statistics"]["vcpus"] == 32
    check("v2_53.hypervisors", "get_hypervisor_statistics",
          api.get("/os-hypervisors/statistics", version=MAX))
    resp = api.get("/os-hypervisors/%d/uptime" % ids["node1.example"])
    check("v2_1.hypervisors", "get_hypervisor_uptime", resp)
    resp = api.get("/os-hypervisors/node/search")
    body = check("v2_1.hypervisors", "list_search_hypervisors", resp)
    assert len(body["hypervisors"]) == 2
    assert_fault(api.get("/os-hypervisors/zzz/search"), 404)
    resp = api.get("/os-hypervisors/node/servers")
    body = check("v2_1.hypervisors", "get_hypervisors_servers", resp)
    by_name = {h["hypervisor_hostname"]: h for h in body["hypervisors"]}
    assert by_name["node1.example"]["servers"] == [{"uuid": INST, "name": "vm1"}]
    assert "servers" not in by_name["node2.example"]
    assert_fault(api.get("/os-hypervisors/zzz/servers"), 404)
    assert_fault(api.get("/os-hypervisors/statistics", who=MEMBER), 403)
