"""The lab after playbooks/site.yml: Keystone, Glance and controlplane on
the right hosts, reachable through the VIP, booting a server.

The URLs go to the VIP (10.77.0.10, or $CONTROLPLANE_LAB_VIP when the
openstack plays ran with `-e openstack_vip=...` before HAProxy/Pacemaker
existed). Credentials come from the clouds.yaml that roles/keystone wrote
($CONTROLPLANE_LAB_CLOUDS, default /var/lib/controlplane-lab/clouds.yaml).

Run: /var/lib/controlplane-lab/ansible-venv/bin/pytest -p no:cacheprovider \
       --confcutdir=tests/lab -m lab tests/lab/test_site.py
"""
import os
import time
import uuid

import pytest

from tests.lab import rest

pytestmark = pytest.mark.lab

VIP = os.environ.get("CONTROLPLANE_LAB_VIP", "10.77.0.10")
CONTROLLER_UNITS = ("keystone", "glance-api")
# Run by Pacemaker on the controllers (clones of our OCF agents, pid files
# of the agents), not by systemd.
PACEMAKER_SERVICES = ("controlplane-api", "controlplane-conductor", "controlplane-scheduler")
COMPUTE_UNITS = ("controlplane-compute",)


@pytest.fixture(scope="session")
def admin(clouds):
    login = rest.login(clouds["lab"])
    return login["token"], login["catalog"]


@pytest.fixture(scope="session")
def demo(clouds):
    login = rest.login(clouds["lab-demo"])
    return login["token"], login["catalog"]


@pytest.mark.parametrize("name", ["ctl1", "ctl2", "ctl3"])
def test_controller_services_active(lab_host, name):
    host = lab_host(name)
    for unit in CONTROLLER_UNITS:
        assert host.service(unit).is_running, "%s on %s" % (unit, name)
    for service in PACEMAKER_SERVICES:
        pid = host.file("/run/controlplane/%s.pid" % service).content_string.split()[0]
        assert host.file("/proc/%s" % pid).is_directory, "%s on %s" % (service, name)
    assert not host.service("controlplane-compute").is_running


@pytest.mark.parametrize("name", ["cmp1", "cmp2"])
def test_compute_services_active(lab_host, name):
    host = lab_host(name)
    assert host.service("controlplane-compute").is_running
    for unit in CONTROLLER_UNITS + PACEMAKER_SERVICES:
        assert not host.service(unit).is_running, "%s must not run on %s" % (unit, name)


@pytest.mark.parametrize("name", ["ctl1", "ctl2", "ctl3"])
def test_apis_listen_on_node_address(lab, lab_host, name):
    host = lab_host(name)
    address = lab["controllers"][name]
    for port in (5000, 9292, 8774):
        assert host.socket("tcp://%s:%d" % (address, port)).is_listening, (name, port)


def test_config_files_are_private(lab_host):
    conf = lab_host("ctl1").file("/etc/controlplane/controlplane.conf")
    assert conf.mode == 0o640 and conf.group == "controlplane"
    for key in lab_host("ctl2").file("/etc/keystone/fernet-keys").listdir():
        f = lab_host("ctl2").file("/etc/keystone/fernet-keys/" + key)
        assert f.mode == 0o600 and f.user == "keystone"


def test_fernet_keys_identical_on_every_controller(lab_host):
    sums = {n: lab_host(n).check_output("cat /etc/keystone/fernet-keys/* | sha256sum")
            for n in ("ctl1", "ctl2", "ctl3")}
    assert len(set(sums.values())) == 1, sums


def test_transport_url_lists_every_rabbitmq_node(lab_host):
    conf = lab_host("cmp1").check_output("grep ^transport_url /etc/controlplane/controlplane.conf")
    for address in ("10.77.0.11:5672", "10.77.0.12:5672", "10.77.0.13:5672"):
        assert address in conf
    assert conf.endswith("/controlplane")


def test_token_from_keystone_through_vip(demo):
    token, catalog = demo
    assert token
    types = {svc["type"]: svc for svc in catalog}
    assert {"identity", "compute", "image"} <= set(types)
    compute = [e["url"] for e in types["compute"]["endpoints"] if e["interface"] == "public"]
    assert compute == ["http://%s:8774/v2.1" % VIP]


def test_token_issued_by_one_node_is_valid_on_another(lab, demo):
    token, _ = demo
    for name, address in lab["controllers"].items():
        status, _, _ = rest.request("GET", "http://%s:5000/v3/auth/tokens" % address,
                                token=token, headers={"X-Subject-Token": token})
        assert status == 200, name


def test_cirros_image_listed_through_vip(demo):
    token, _ = demo
    status, _, data = rest.request("GET", "http://%s:9292/v2/images?name=cirros" % VIP, token=token)
    assert status == 200
    images = [i for i in data["images"] if i["status"] == "active"]
    assert len(images) == 1
    assert images[0]["hypervisor_type"] == "fake"
    assert images[0]["visibility"] == "public"


def test_compute_services_up_through_vip(admin):
    token, _ = admin
    status, _, data = rest.request("GET", "http://%s:8774/v2.1/os-services" % VIP, token=token)
    assert status == 200, data
    up = {(s["binary"], s["host"]) for s in data["services"] if s["state"] == "up"}
    for host in ("cmp1", "cmp2"):
        assert ("nova-compute", host) in up or ("controlplane-compute", host) in up, data


def test_server_boots_to_active_through_vip(admin, demo):
    api = "http://%s:8774/v2.1" % VIP
    admin_token, _ = admin
    token, _ = demo
    status, _, data = rest.request("GET", api + "/flavors/detail", token=admin_token)
    assert status == 200
    flavors = [f for f in data["flavors"] if f["name"] == "m1.tiny"]
    if not flavors:
        status, _, created = rest.request("POST", api + "/flavors", {"flavor": {
            "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1}}, token=admin_token)
        assert status == 200, created
        flavors = [created["flavor"]]
    status, _, images = rest.request("GET", "http://%s:9292/v2/images?name=cirros" % VIP, token=token)
    image_id = images["images"][0]["id"]
    name = "lab-test-%s" % uuid.uuid4().hex[:8]
    status, _, data = rest.request("POST", api + "/servers", {"server": {
        "name": name, "flavorRef": flavors[0]["id"], "imageRef": image_id,
        "networks": "none"}}, token=token, headers={"X-OpenStack-Nova-API-Version": "2.37"})
    assert status == 202, data
    server_id = data["server"]["id"]
    try:
        deadline = time.monotonic() + 120
        server = {}
        while time.monotonic() < deadline:
            status, _, data = rest.request("GET", api + "/servers/" + server_id, token=token)
            server = data["server"]
            if server["status"] in ("ACTIVE", "ERROR"):
                break
            time.sleep(1)
        assert server.get("status") == "ACTIVE", server
    finally:
        rest.request("DELETE", api + "/servers/" + server_id, token=token)
