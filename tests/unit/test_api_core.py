"""The WSGI pipeline: request ids, errors in the OpenStack format, body size,
rate limit, auth strategies, policy overrides; bad input is never a 500."""
import http.server
import json
import threading

import pytest

from controlplane import policies
from controlplane.api import app as app_mod
from controlplane.context import RequestContext
from tests.unit.api_client import ADMIN, MEMBER, ApiClient, assert_fault


def test_request_id_headers(env):
    r = env.api.get("/limits")
    rid = r.headers["x-openstack-request-id"]
    assert rid.startswith("req-") and r.headers["x-compute-request-id"] == rid


def test_unknown_url_and_wrong_method(env):
    assert_fault(env.api.get("/nothing-here"), 404)
    r = env.api.get("/nothing-here")
    assert "itemNotFound" in r.get_json()
    r = env.api.request("PATCH", "/limits")
    assert_fault(r, 405)
    assert "badMethod" in r.get_json()
    assert_fault(env.api.delete("/servers"), 405)


def test_unauthenticated_is_401(env):
    r = env.api.get("/servers", who=None)
    assert_fault(r, 401)


def test_body_too_large(env):
    env.conf.set_override("max_request_body_size", 1000, "api")
    wsgi = app_mod.create_app(env.conf)
    api = ApiClient(wsgi)
    big = json.dumps({"server": {"name": "x" * 2000}})
    r = api.post("/servers", raw=big)
    assert_fault(r, 413)
    assert "requestEntityTooLarge" in r.get_json()
    # chunked body without Content-Length is cut while being read
    r = api.client.open("/v2.1/servers", method="POST", input_stream=None,
                        data=big.encode(), headers={
                            "X-User-Id": "u", "X-Project-Id": "p",
                            "Transfer-Encoding": "chunked",
                            "Content-Type": "application/json"})
    assert_fault(r, 413)


def test_rate_limit_429(env):
    env.conf.set_override("enabled", True, "rate_limit")
    env.conf.set_override("limit", "3/minute", "rate_limit")
    api = ApiClient(app_mod.create_app(env.conf))
    codes = [api.get("/limits").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.get("/limits")
    assert_fault(r, 429)
    assert int(r.headers["Retry-After"]) >= 1 and "overLimit" in r.get_json()
    # another project (another key) is not limited
    assert api.get("/limits", who=dict(MEMBER, project="proj-q")).status_code == 200


def test_keystone_strategy_needs_token_but_not_for_versions(env):
    env.conf.set_override("auth_strategy", "keystone", "api")
    app_mod.create_app(env.conf)           # registers [keystone_authtoken]
    env.conf.set_override("www_authenticate_uri", "http://keystone.test:5000",
                          "keystone_authtoken")
    api = ApiClient(app_mod.create_app(env.conf))
    assert api.get("/servers", who=None).status_code == 401
    assert api.get("/", who=None, prefix="").status_code == 200
    assert api.get("/v2.1", who=None, prefix="").status_code == 200


def test_policy_file_overrides_defaults(env, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text('"os_compute_api:limits": "role:admin"\n')
    env.conf.set_override("policy_file", str(path), "oslo_policy")
    policies.reset()
    api = ApiClient(app_mod.create_app(env.conf))
    assert_fault(api.get("/limits"), 403)
    assert api.get("/limits", who=ADMIN).status_code == 200


def test_domain_errors_map_to_status(env):
    from controlplane import exception
    flask_app = env.wsgi.flask_app

    @flask_app.route("/v2.1/_boom/<kind>")
    def boom(kind):
        if kind == "nf":
            raise exception.NotFound("gone")
        if kind == "conflict":
            raise exception.Conflict("busy")
        raise RuntimeError("secret detail")
    assert assert_fault(env.api.get("/_boom/nf"), 404) == "gone"
    assert assert_fault(env.api.get("/_boom/conflict"), 409) == "busy"
    msg = assert_fault(env.api.get("/_boom/other"), 500)
    assert "secret" not in msg


class _Glance(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/v2/images/good") and self.headers["X-Auth-Token"] == "tok":
            body = json.dumps({"id": "good", "name": "cirros", "status": "active",
                               "min_ram": 64, "min_disk": 1, "disk_format": "qcow2",
                               "hw_qemu_guest_agent": "yes", "size": 10}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


def test_glance_client(conf):
    from controlplane.image import glance
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Glance)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        ctxt = RequestContext(user_id="u", project_id="p", auth_token="tok",
                              service_catalog=[{"type": "image", "endpoints": [
                                  {"interface": "public", "url": url}]}])
        image = glance.get_image(ctxt, "good")          # endpoint from the catalog
        assert image["min_ram"] == 64 and image["properties"] == {
            "hw_qemu_guest_agent": "yes", "disk_format": "qcow2"}
        conf.set_override("api_servers", url, "glance")
        with pytest.raises(glance.ImageNotFound):
            glance.get_image(ctxt, "missing")
        conf.set_override("api_servers", "http://127.0.0.1:1", "glance")
        with pytest.raises(glance.ImageServiceUnavailable):
            glance.get_image(ctxt, "good")
    finally:
        server.shutdown()
