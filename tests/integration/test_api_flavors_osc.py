"""The admin catalogue through the real ``openstack`` CLI (openstackclient +
openstacksdk) against the API served over HTTP on a free local port.

noauth2 trusts the token ``admin:admin``; OSC's ``flavor create`` insists
on building an identity v3 client, so the test server also answers the
identity version document at ``/v3`` (nothing else of Keystone is used).
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def endpoint(conf, api_db, cell_db, tmp_path):
    from werkzeug.serving import make_server

    from controlplane import policies
    from controlplane.api.app import create_app
    from controlplane.db import cells, compute_nodes, engine, services

    conf.set_override("auth_strategy", "noauth2", "api")
    conf.set_override("enabled", False, "rate_limit")
    policies.reset()
    cell = cells.create_cell_mapping(str(uuid.uuid4()), "cell1", "rabbit://", cell_db)
    eng = engine.cell_engine(cell)
    services.create_or_get_service(eng, "node1", "controlplane-compute")
    cells.map_host("node1", cell["uuid"])
    compute_nodes.upsert_compute_node(eng, {"host": "node1", "hypervisor_hostname": "node1",
                                            "vcpus": 8, "memory_mb": 16384, "local_gb": 100})
    api = create_app(conf)

    def app(environ, start_response):
        if environ["PATH_INFO"].startswith("/v3"):
            body = json.dumps({"version": {
                "id": "v3.14", "status": "stable", "updated": "2020-01-01T00:00:00Z",
                "links": [{"rel": "self", "href": "http://%s/v3/" % environ["HTTP_HOST"]}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}]}})
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body.encode()]
        return api(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = "http://127.0.0.1:%d" % server.server_port
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  cp:\n    auth_type: admin_token\n    auth:\n"
        "      token: 'admin:admin'\n      endpoint: %s/v2.1\n"
        "    compute_endpoint_override: %s/v2.1\n"
        "    identity_endpoint_override: %s/v3\n"
        "    identity_api_version: 3\n    compute_api_version: '2.60'\n" % (base, base, base))
    yield str(clouds)
    server.shutdown()
    thread.join(5)
    policies.reset()


def _osc(clouds, *args, fmt=True):
    exe = shutil.which("openstack") or os.path.join(os.path.dirname(sys.executable), "openstack")
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds)
    for k in list(env):
        if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE":
            env.pop(k)
    proc = subprocess.run([exe, "--os-cloud", "cp", *args] + (["-f", "json"] if fmt else []), env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def test_osc_flavor_and_aggregate(endpoint):
    flavor = _osc(endpoint, "flavor", "create", "--vcpus", "2", "--ram", "4096", "--disk", "40",
                  "--property", "ssd=true", "m1.ssd")
    assert flavor["ram"] == 4096 and flavor["properties"] == {"ssd": "true"}
    shown = _osc(endpoint, "flavor", "show", "m1.ssd")
    assert shown["properties"] == {"ssd": "true"} and shown["vcpus"] == 2

    agg = _osc(endpoint, "aggregate", "create", "--zone", "az1", "fast-io")
    assert agg["availability_zone"] == "az1"
    _osc(endpoint, "aggregate", "set", "--property", "ssd=true", "fast-io", fmt=False)
    _osc(endpoint, "aggregate", "add", "host", "fast-io", "node1")
    agg = _osc(endpoint, "aggregate", "show", "fast-io")
    assert agg["hosts"] == ["node1"] and agg["properties"] == {"ssd": "true"}
    zones = _osc(endpoint, "availability", "zone", "list", "--compute")
    assert [z["Zone Name"] for z in zones] == ["az1"]
    services = _osc(endpoint, "compute", "service", "list")
    assert services[0]["Zone"] == "az1" and services[0]["State"] == "up"
    hypervisors = _osc(endpoint, "hypervisor", "list")
    assert hypervisors[0]["Hypervisor Hostname"] == "node1"
