"""/os-availability-zone against real databases, validated with tempest's schemas."""
from tests.unit.api_client import MAX, MEMBER, add_service, assert_fault, check

AZ = "v2_1.availability_zone"


def test_zones(api, cell1):
    add_service(cell1, "node1")
    add_service(cell1, "node2")
    add_service(cell1, "node3", disabled=True)
    add_service(cell1, "ctl1", binary="controlplane-conductor")
    agg = api.post("/os-aggregates", {"aggregate": {"name": "a", "availability_zone": "az1"}})
    aid = agg.get_json()["aggregate"]["id"]
    api.post("/os-aggregates/%d/action" % aid, {"add_host": {"host": "node1"}})
    agg = api.post("/os-aggregates", {"aggregate": {"name": "b", "availability_zone": "az3"}})
    bid = agg.get_json()["aggregate"]["id"]
    api.post("/os-aggregates/%d/action" % bid, {"add_host": {"host": "node3"}})
    api.post("/os-aggregates", {"aggregate": {"name": "empty", "availability_zone": "azX"}})

    for version in (None, MAX):
        body = check(AZ, "list_availability_zone_list",
                     api.get("/os-availability-zone", who=MEMBER, version=version))
        zones = {z["zoneName"]: z["zoneState"]["available"] for z in body["availabilityZoneInfo"]}
        assert zones == {"az1": True, "nova": True, "az3": False}

    body = check(AZ, "list_availability_zone_list_detail",
                 api.get("/os-availability-zone/detail"))
    zones = {z["zoneName"]: z for z in body["availabilityZoneInfo"]}
    assert set(zones) == {"az1", "nova", "az3", "internal"}
    assert zones["az1"]["hosts"]["node1"]["controlplane-compute"]["available"] is True
    assert zones["internal"]["hosts"]["ctl1"]["controlplane-conductor"]["active"] is True
    assert zones["az3"]["hosts"] is None
    assert list(zones["nova"]["hosts"]) == ["node2"]
    assert_fault(api.get("/os-availability-zone/detail", who=MEMBER), 403)
