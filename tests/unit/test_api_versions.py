"""Version documents (no authentication) and microversion negotiation."""
import pytest

from controlplane.api.microversion import APIVersion
from tests.unit.api_client import assert_fault, check


def test_root_lists_versions_without_auth(env):
    r = env.api.get("/", who=None, prefix="")
    body = check("v2_1.versions", "list_versions", r)
    by_id = {v["id"]: v for v in body["versions"]}
    assert by_id["v2.1"]["min_version"] == "2.1" and by_id["v2.1"]["version"] == "2.60"
    assert by_id["v2.0"]["status"] == "SUPPORTED"


@pytest.mark.parametrize("path", ["/v2.1", "/v2.1/"])
def test_one_version_without_auth(env, path):
    r = env.api.get(path, who=None, prefix="")
    body = check("v2_1.versions", "get_one_version", r)
    assert body["version"]["version"] == "2.60" and body["version"]["min_version"] == "2.1"


def test_v2_multiple_choices(env):
    r = env.api.get("/v2", who=None, prefix="")
    assert r.status_code == 300
    assert {c["id"] for c in r.get_json()["choices"]} == {"v2.0", "v2.1"}


@pytest.mark.parametrize("headers,expect", [
    ({}, "2.1"),
    ({"OpenStack-API-Version": "compute 2.47"}, "2.47"),
    ({"OpenStack-API-Version": "compute latest"}, "2.60"),
    ({"X-OpenStack-Nova-API-Version": "2.25"}, "2.25"),
    ({"OpenStack-API-Version": "volume 3.0, compute 2.3"}, "2.3"),
])
def test_microversion_headers(env, headers, expect):
    r = env.api.get("/limits", headers=headers)
    assert r.status_code == 200
    assert r.headers["OpenStack-API-Version"] == "compute " + expect
    assert r.headers["X-OpenStack-Nova-API-Version"] == expect
    assert "OpenStack-API-Version" in r.headers["Vary"]


@pytest.mark.parametrize("value,code", [("2.61", 406), ("3.0", 406), ("2.0", 406),
                                        ("abc", 400), ("2", 400), ("2.x", 400)])
def test_bad_microversion(env, value, code):
    r = env.api.get("/limits", headers={"OpenStack-API-Version": "compute " + value})
    assert_fault(r, code)


def test_apiversion_compares_with_tuples():
    assert APIVersion(2, 53) >= (2, 47) and APIVersion(2, 9) < (2, 10)
    assert APIVersion.parse("2.60") == (2, 60) and str(APIVersion(2, 5)) == "2.5"
