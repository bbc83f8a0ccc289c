"""Block Storage API quota sets, limits, services, pools and zones,
validated against tempest's volume schemas."""
from tests.unit.api_client import ADMIN, OTHER, assert_fault
from tests.unit.test_api_volume_common import VMAX, make_volume, venv, vcheck  # noqa: F401


def test_quota_defaults_show_and_usage(venv):
    make_volume(size=3)
    r = venv.api.get("/os-quota-sets/proj-a")
    qs = vcheck("quotas", "show_quota_set", r)["quota_set"]
    assert (qs["volumes"], qs["snapshots"], qs["gigabytes"]) == (10, 10, 1000)
    assert qs["volumes___DEFAULT__"] == -1
    r = venv.api.get("/os-quota-sets/proj-a?usage=true")
    qs = vcheck("quotas", "show_quota_set_usage", r)["quota_set"]
    assert qs["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert qs["gigabytes"]["in_use"] == 3 and qs["gigabytes___DEFAULT__"]["in_use"] == 3
    r = venv.api.get("/os-quota-sets/proj-a/defaults")
    assert vcheck("quotas", "show_quota_set", r)["quota_set"]["volumes"] == 10
    assert_fault(venv.api.get("/os-quota-sets/" + OTHER["project"]), 403)


def test_quota_update_and_revert(venv):
    venv.admin.post("/types", {"volume_type": {"name": "gold"}})
    r = venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {
        "volumes": 5, "gigabytes_gold": 100, "snapshots": "7"}})
    qs = vcheck("quotas", "update_quota_set", r)["quota_set"]
    assert qs["volumes"] == 5 and qs["gigabytes_gold"] == 100 and qs["snapshots"] == 7
    assert venv.api.get("/os-quota-sets/proj-a").get_json()["quota_set"]["volumes"] == 5
    make_volume(size=1)
    make_volume(size=1)
    assert_fault(venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"volumes": 1}}), 400)
    assert_fault(venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"bogus": 1}}), 400)
    assert_fault(venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"volumes": -2}}), 400)
    assert_fault(venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"volumes": "x"}}), 400)
    assert_fault(venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"volumes": 2 ** 40}}),
                 400)
    assert_fault(venv.api.put("/os-quota-sets/proj-a", {"quota_set": {"volumes": 50}}), 403)
    r = venv.admin.delete("/os-quota-sets/proj-a")
    vcheck("quotas", "delete_quota_set", r)
    assert venv.api.get("/os-quota-sets/proj-a").get_json()["quota_set"]["volumes"] == 10


def test_limits(venv):
    make_volume(size=4)
    r = venv.api.get("/limits")
    absolute = vcheck("limits", "show_limits", r)["limits"]["absolute"]
    assert absolute["maxTotalVolumes"] == 10 and absolute["totalVolumesUsed"] == 1
    assert absolute["totalGigabytesUsed"] == 4 and absolute["maxTotalVolumeGigabytes"] == 1000


def test_services(venv):
    r = venv.admin.get("/os-services")
    services = vcheck("services", "list_services", r)["services"]
    assert {s["host"] for s in services} == {"host1@fileback", "host1@second"}
    assert all(s["state"] == "up" and s["status"] == "enabled" for s in services)
    assert {s["zone"] for s in services} == {"az1", "az2"}
    r = venv.admin.get("/os-services", version="3.7")
    vcheck("v3_7.services", "list_services", r)
    assert_fault(venv.api.get("/os-services"), 403)
    body = {"host": "host1@second", "binary": "cinder-volume"}
    r = venv.admin.put("/os-services/disable", body)
    assert vcheck("services", "disable_service", r)["status"] == "disabled"
    r = venv.admin.put("/os-services/disable-log-reason", dict(body, disabled_reason="maint"))
    assert vcheck("services", "disable_log_reason", r)["disabled_reason"] == "maint"
    r = venv.admin.put("/os-services/enable", body)
    assert vcheck("services", "enable_service", r)["status"] == "enabled"
    assert_fault(venv.admin.put("/os-services/enable", {"host": "nope",
                                                        "binary": "cinder-volume"}), 404)
    assert_fault(venv.admin.put("/os-services/bogus", body), 404)
    assert_fault(venv.admin.put("/os-services/enable", {}), 400)


def test_pools(venv):
    r = venv.admin.get("/scheduler-stats/get_pools")
    pools = vcheck("scheduler_stats", "get_pools_no_detail", r)["pools"]
    assert {p["name"] for p in pools} == {"host1@fileback#fileback", "host1@second#second"}
    r = venv.admin.get("/scheduler-stats/get_pools?detail=true", version=VMAX)
    pools = vcheck("scheduler_stats", "get_pools_with_detail", r)["pools"]
    caps = {p["name"]: p["capabilities"] for p in pools}
    assert caps["host1@second#second"]["total_capacity_gb"] == 500.0
    assert caps["host1@fileback#fileback"]["volume_backend_name"] == "fileback"
    assert_fault(venv.api.get("/scheduler-stats/get_pools"), 403)


def test_availability_zones(venv):
    r = venv.api.get("/os-availability-zone")
    zones = r.get_json()["availabilityZoneInfo"]
    assert zones == [{"zoneName": "az1", "zoneState": {"available": True}},
                     {"zoneName": "az2", "zoneState": {"available": True}}]
    assert ADMIN
