"""Block Storage API: version documents, microversion negotiation, the
URL project check and the error format of the pipeline."""
import pytest

from tests.unit.api_client import MEMBER, OTHER, assert_fault
from tests.unit.test_api_volume_common import VMAX, venv, vcheck  # noqa: F401


def test_version_documents_without_token(venv):
    r = venv.api.get("/", prefix="", who=None)
    body = vcheck("versions", "list_versions", r)
    (v3,) = body["versions"]
    assert v3["id"] == "v3.0" and v3["min_version"] == "3.0" and v3["version"] == VMAX
    assert v3["links"][-1]["href"].endswith("/v3/")
    r = venv.api.get("/v3/", prefix="", who=None)
    assert vcheck("versions", "volume_api_version_details", r)["versions"][0]["id"] == "v3.0"


def test_microversion_headers_and_default(venv):
    r = venv.api.get("/volumes")
    assert r.status_code == 200
    assert r.headers["OpenStack-API-Version"] == "volume 3.0"
    assert "OpenStack-API-Version" in r.headers["Vary"]
    r = venv.api.get("/volumes", version="latest")
    assert r.headers["OpenStack-API-Version"] == "volume " + VMAX
    r = venv.api.get("/volumes", headers={"OpenStack-API-Version": "compute 2.60"})
    assert r.headers["OpenStack-API-Version"] == "volume 3.0"


@pytest.mark.parametrize("value,code", [("3.61", 406), ("2.0", 406), ("4.0", 406),
                                        ("3.x", 400), ("three", 400)])
def test_bad_microversions(venv, value, code):
    r = venv.api.get("/volumes", headers={"OpenStack-API-Version": "volume " + value})
    assert_fault(r, code)


def test_url_project_must_be_the_tokens(venv):
    r = venv.api.get("/volumes", prefix="/v3/" + OTHER["project"], who=MEMBER)
    assert "Malformed request url" in assert_fault(r, 400)


def test_no_identity_is_401(venv):
    assert_fault(venv.api.get("/volumes", who=None), 401)


def test_unknown_path_and_method(venv):
    assert_fault(venv.api.get("/nothing-here"), 404)
    r = venv.api.request("PATCH", "/volumes")
    assert_fault(r, 405)


def test_malformed_bodies_are_400(venv):
    assert_fault(venv.api.post("/volumes", raw="{not json"), 400)
    assert_fault(venv.api.post("/volumes", raw="[]"), 400)
    assert_fault(venv.api.post("/volumes", raw=""), 400)


def test_request_id_header(venv):
    r = venv.api.get("/volumes")
    assert r.headers["x-openstack-request-id"].startswith("req-")


def test_console_script_binds_the_volume_api_port(conf):
    from controlplane.conf import volume_api as vconf
    from controlplane.cmd.volume_api import VolumeAPIApplication
    vconf.register_opts(conf)
    conf.set_override("bind_host", "127.0.0.1", "volume_api")
    app = VolumeAPIApplication(conf)
    assert app.cfg.bind == ["127.0.0.1:8776"]
    assert app.cfg.proc_name == "controlplane-volume-api"
