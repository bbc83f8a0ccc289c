"""GET /limits against tempest's schemas (2.1, 2.36, 2.39, 2.57/2.60)."""
import pytest

from tests.unit.api_client import ADMIN, MEMBER, boot_body, check

LIMITS = {"2.1": "v2_1.limits", "2.36": "v2_36.limits", "2.39": "v2_39.limits",
          "2.60": "v2_57.limits"}


@pytest.mark.parametrize("version", sorted(LIMITS))
def test_limits(env, version):
    env.api.post("/servers", boot_body(flavor="2", networks="none"), version="2.60")
    r = env.api.get("/limits", version=version)
    body = check(LIMITS[version], "get_limit", r)["limits"]
    absolute = body["absolute"]
    assert body["rate"] == []
    assert absolute["maxTotalInstances"] == 10 and absolute["totalInstancesUsed"] == 1
    assert absolute["totalCoresUsed"] == 2 and absolute["totalRAMUsed"] == 2048
    assert absolute["totalServerGroupsUsed"] == 0
    assert ("maxImageMeta" in absolute) == (version in ("2.1", "2.36"))


def test_limits_other_project_for_admin_only(env):
    env.api.post("/servers", boot_body())
    r = env.api.get("/limits?tenant_id=proj-a", who=ADMIN)
    assert r.get_json()["limits"]["absolute"]["totalInstancesUsed"] == 1
    other = dict(MEMBER, project="proj-z")
    r = env.api.get("/limits?tenant_id=proj-a", who=other)
    assert r.get_json()["limits"]["absolute"]["totalInstancesUsed"] == 0
