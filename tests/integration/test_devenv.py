"""The development environment gives real Keystone and Glance.

After ``tools.devenv.ensure_up()``: a demo token from Keystone lists the
``cirros`` images in Glance, the controlplane service user can validate
that token (what keystonemiddleware does for the compute API), and the
catalog has compute and image endpoints in RegionOne.
"""

import json
import os
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import devenv  # noqa: E402

ka_session = pytest.importorskip("keystoneauth1.session")
ka_identity = pytest.importorskip("keystoneauth1.identity")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def info():
    return devenv.ensure_up()


def _session(cred: dict):
    auth = ka_identity.v3.Password(
        auth_url=cred["auth_url"], username=cred["username"],
        password=cred["password"], project_name=cred["project_name"],
        user_domain_name=cred["user_domain_name"],
        project_domain_name=cred["project_domain_name"])
    return ka_session.Session(auth=auth)


def _images(sess, info):
    resp = sess.get(info["glance"]["url"] + "/v2/images", raise_exc=True)
    return {img["name"]: img for img in resp.json()["images"]}


def test_demo_token_lists_cirros_images(info):
    sess = _session(info["demo"])
    images = _images(sess, info)
    assert "cirros" in images
    cirros = images["cirros"]
    assert cirros["id"] == info["images"]["cirros"]
    assert cirros["status"] == "active"
    assert cirros["visibility"] == "public"
    assert cirros["hypervisor_type"] == "fake"
    assert cirros["container_format"] == "bare"
    big = images["cirros-big"]
    assert (big["min_ram"], big["min_disk"]) == (8192, 100)


def test_glance_rejects_requests_without_token(info):
    sess = ka_session.Session()
    resp = sess.get(info["glance"]["url"] + "/v2/images", raise_exc=False)
    assert resp.status_code == 401


def test_service_user_validates_demo_token(info):
    demo_token = _session(info["demo"]).get_token()
    service = _session(info["service_users"]["controlplane"])
    resp = service.get(info["keystone"]["url"] + "/auth/tokens",
                       headers={"X-Subject-Token": demo_token}, raise_exc=False)
    assert resp.status_code == 200, resp.text
    token = resp.json()["token"]
    assert token["user"]["name"] == "demo"
    assert token["project"]["name"] == "demo"
    assert {"member", "reader"} <= {r["name"] for r in token["roles"]}


def test_service_user_rejects_bogus_token(info):
    service = _session(info["service_users"]["controlplane"])
    resp = service.get(info["keystone"]["url"] + "/auth/tokens",
                       headers={"X-Subject-Token": "not-a-token"}, raise_exc=False)
    assert resp.status_code in (401, 404)


def test_demo_cannot_validate_other_users_token(info):
    # Without the service role a plain member may not look at another
    # user's token: this is why controlplane needs its service user.
    alt_token = _session(info["alt_demo"]).get_token()
    demo = _session(info["demo"])
    resp = demo.get(info["keystone"]["url"] + "/auth/tokens",
                    headers={"X-Subject-Token": alt_token}, raise_exc=False)
    assert resp.status_code == 403


def test_catalog_has_compute_and_image(info):
    sess = _session(info["demo"])
    for interface in ("public", "internal", "admin"):
        assert sess.get_endpoint(service_type="compute", interface=interface,
                                 region_name="RegionOne") == info["compute"]["url"]
        assert sess.get_endpoint(service_type="image", interface=interface,
                                 region_name="RegionOne") == info["glance"]["url"]


@pytest.mark.parametrize("user,project,role", [
    ("alt_demo", "alt_demo", "member"),
    ("reader", "demo", "reader"),
])
def test_other_users_have_their_roles(info, user, project, role):
    sess = _session(info[user])
    access = sess.auth.get_access(sess)
    assert access.project_name == project
    assert role in access.role_names
    if role == "reader":
        assert "member" not in access.role_names


def test_outputs_are_private_and_complete(info):
    state = Path(info["state_dir"])
    for f in (state / "devenv.json", state / "clouds.yaml"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    secrets = state / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    for f in secrets.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert json.loads((state / "devenv.json").read_text()) == info
    assert info["transport_url"].startswith("rabbit://")
    assert info["mariadb"]["root_url"].startswith("mysql+pymysql://")
    yaml = pytest.importorskip("yaml")
    clouds = yaml.safe_load((state / "clouds.yaml").read_text())["clouds"]
    assert set(clouds) == {"admin", "demo", "alt_demo", "reader"}
    for name, cloud in clouds.items():
        assert cloud["auth"]["auth_url"] == "http://127.0.0.1:5000/v3"
        assert cloud["auth"]["password"] == info[name]["password"]
        assert cloud["region_name"] == "RegionOne"
        assert cloud["identity_api_version"] == 3


def test_ensure_up_again_changes_nothing(info):
    again = devenv.ensure_up()
    assert again["images"] == info["images"]
    assert again["users"] == info["users"]
    assert devenv.is_up() is not None
    assert os.path.exists(again["clouds_yaml"])
