"""os-quota-sets and os-quota-class-sets against tempest's schemas (2.1, 2.36,
2.50, 2.57/2.60) and Nova's validation rules."""
import pytest

from tests.unit.api_client import ADMIN, MEMBER, assert_fault, boot_body, check

QS = {"2.1": "v2_1.quotas", "2.36": "v2_36.quotas", "2.60": "v2_57.quotas"}
QC = {"2.1": "v2_1.quota_classes", "2.50": "v2_50.quota_classes",
      "2.60": "v2_57.quota_classes"}


@pytest.mark.parametrize("version", sorted(QS))
def test_show_detail_defaults(env, version):
    env.api.post("/servers", boot_body(flavor="2", networks="none"), version="2.60")
    r = env.api.get("/os-quota-sets/proj-a", version=version)
    body = check(QS[version], "get_quota_set", r)["quota_set"]
    assert body["id"] == "proj-a" and body["instances"] == 10
    r = env.api.get("/os-quota-sets/proj-a/detail", version=version)
    body = check(QS[version], "get_quota_set_details", r)["quota_set"]
    assert body["instances"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert body["cores"]["in_use"] == 2 and body["ram"]["in_use"] == 2048
    r = env.api.get("/os-quota-sets/proj-a/defaults", version=version)
    check(QS[version], "get_quota_set", r)
    if version == "2.60":
        assert "injected_files" not in body and "floating_ips" not in body


@pytest.mark.parametrize("version", sorted(QS))
def test_update_and_delete(env, version):
    r = env.api.put("/os-quota-sets/proj-a", {"quota_set": {"instances": 3, "cores": "7"}},
                    who=ADMIN, version=version)
    body = check(QS[version], "update_quota_set", r)["quota_set"]
    assert body["instances"] == 3 and body["cores"] == 7
    assert env.api.get("/os-quota-sets/proj-a").get_json()["quota_set"]["instances"] == 3
    assert env.api.get("/os-quota-sets/proj-b", who=ADMIN).get_json()["quota_set"]["instances"] == 10
    r = env.api.delete("/os-quota-sets/proj-a", who=ADMIN, version=version)
    check(QS[version], "delete_quota", r)
    assert env.api.get("/os-quota-sets/proj-a").get_json()["quota_set"]["instances"] == 10


def test_update_rules(env):
    put = lambda qs, **kw: env.api.put("/os-quota-sets/proj-a", {"quota_set": qs},  # noqa
                                       who=ADMIN, **kw)
    assert_fault(env.api.put("/os-quota-sets/proj-a", {"quota_set": {"instances": 3}}), 403)
    assert_fault(put({"instances": -2}), 400)
    assert_fault(put({"instances": "abc"}), 400)
    assert_fault(put({"instances": 1.5}), 400)
    assert_fault(put({"bogus": 1}), 400)
    assert_fault(put({"floating_ips": 1}, version="2.36"), 400)
    assert_fault(put({"injected_files": 1}, version="2.57"), 400)
    assert put({"floating_ips": 1}).status_code == 200          # ignored before 2.36
    assert put({"instances": -1}).get_json()["quota_set"]["instances"] == -1
    assert_fault(env.api.put("/os-quota-sets/proj-a", raw="{", who=ADMIN), 400)
    # not below usage unless forced
    for _ in range(2):
        assert env.api.post("/servers", boot_body()).status_code == 202
    msg = assert_fault(put({"instances": 1}), 400)
    assert "must be greater than or equal to already used" in msg
    assert put({"instances": 1, "force": True}).status_code == 200
    msg = assert_fault(env.api.post("/servers", boot_body()), 403)
    assert "Quota exceeded for instances" in msg


def test_member_sees_only_own_quota(env):
    assert_fault(env.api.get("/os-quota-sets/proj-b", who=MEMBER), 403)
    assert env.api.get("/os-quota-sets/proj-b/defaults", who=MEMBER).status_code == 200
    assert env.api.get("/os-quota-sets/proj-b", who=ADMIN).status_code == 200


@pytest.mark.parametrize("version", sorted(QC))
def test_quota_class_default(env, version):
    r = env.api.get("/os-quota-class-sets/default", who=ADMIN, version=version)
    body = check(QC[version], "get_quota_class_set", r)["quota_class_set"]
    assert body["id"] == "default" and body["instances"] == 10
    r = env.api.put("/os-quota-class-sets/default",
                    {"quota_class_set": {"instances": 20, "ram": 1024}}, who=ADMIN,
                    version=version)
    body = check(QC[version], "update_quota_class_set", r)["quota_class_set"]
    assert body["instances"] == 20
    # the class default is what projects without their own rows get
    assert env.api.get("/os-quota-sets/proj-a").get_json()["quota_set"]["instances"] == 20
    assert_fault(env.api.get("/os-quota-class-sets/default", who=MEMBER), 403)
    assert_fault(env.api.put("/os-quota-class-sets/default",
                      {"quota_class_set": {"instances": -5}}, who=ADMIN), 400)
