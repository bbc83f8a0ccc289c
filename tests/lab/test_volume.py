"""Block storage in the lab after playbooks/site.yml: controlplane-volume
(systemd) on the hosts of the `volume` group (cmp1, cmp2) with the `file`
backend on one share bind-mounted into both, controlplane-volume-api and
-volume-scheduler as Pacemaker clones on the controllers, the Block
Storage API behind the VIP (HAProxy :8776) and in the Keystone catalog,
and a volume created, seen on the share and deleted through the VIP.

Run: /var/lib/controlplane-lab/ansible-venv/bin/pytest -p no:cacheprovider \
       --confcutdir=tests/lab -m lab tests/lab/test_volume.py
"""
import json
import os
import time
import uuid

import pytest

from tests.lab import pacemaker_lab as lab_pcmk
from tests.lab import rest

pytestmark = pytest.mark.lab

VIP = os.environ.get("CONTROLPLANE_LAB_VIP", "10.77.0.10")
SHARE = "/var/lib/controlplane/volumes-share"
VOLUME_HOSTS = ("cmp1", "cmp2")
CONTROLLERS = ("ctl1", "ctl2", "ctl3")
CLONES = ("cp-volume-api-clone", "cp-volume-scheduler-clone")


@pytest.fixture(scope="session")
def admin(clouds):
    return rest.login(clouds["lab"])


@pytest.fixture(scope="session")
def demo(clouds):
    return rest.login(clouds["lab-demo"])


def _endpoint(login, service_type):
    for service in login["catalog"]:
        if service["type"] == service_type:
            return {e["interface"]: e["url"] for e in service["endpoints"]}
    raise AssertionError("no %s service in the catalog" % service_type)


# --------------------------------------------------------------------------- hosts

@pytest.mark.parametrize("name", VOLUME_HOSTS)
def test_volume_service_runs_on_volume_hosts(lab_host, name):
    host = lab_host(name)
    assert host.service("controlplane-volume").is_running
    assert host.service("controlplane-volume").is_enabled
    assert host.package("qemu-utils").is_installed
    conf = host.file("/etc/controlplane/controlplane.conf").content_string
    assert "enabled_backends = file" in conf
    assert "[file]" in conf and "file_share_path = %s" % SHARE in conf
    share = host.file(SHARE)
    assert share.is_directory and share.user == "controlplane" and share.mode == 0o750
    assert host.mount_point(SHARE).exists  # bind mount of the lab machine's directory


def test_volume_hosts_share_one_directory(lab_host):
    """A file written on cmp1's share is there on cmp2 (the same share)."""
    marker = "%s/lab-test-%s" % (SHARE, uuid.uuid4().hex)
    first, second = lab_host(VOLUME_HOSTS[0]), lab_host(VOLUME_HOSTS[1])
    first.run_test("echo shared > %s", marker)
    try:
        assert second.file(marker).content_string.strip() == "shared"
    finally:
        first.run("rm -f %s", marker)


@pytest.mark.parametrize("name", CONTROLLERS)
def test_volume_controller_services_under_pacemaker(lab, lab_host, name):
    host = lab_host(name)
    for service in ("controlplane-volume-api", "controlplane-volume-scheduler"):
        pid = host.file("/run/controlplane/%s.pid" % service).content_string.split()[0]
        assert host.file("/proc/%s" % pid).is_directory, (service, name)
        assert not host.service(service).is_running  # no systemd unit
    assert not host.service("controlplane-volume").is_running
    assert host.socket("tcp://%s:8776" % lab["controllers"][name]).is_listening


def test_volume_clones_started_on_every_controller(lab):
    status = lab_pcmk.crm_status()
    for clone in CLONES:
        assert sorted(status.get(clone, {})) == sorted(CONTROLLERS), (clone, status.get(clone))


# --------------------------------------------------------------------------- through the VIP

def test_block_storage_in_the_catalog(demo):
    for service_type in ("block-storage", "volumev3"):
        urls = _endpoint(demo, service_type)
        assert set(urls) >= {"public", "internal", "admin"}
        assert urls["public"] == "http://%s:8776/v3/%s" % (VIP, demo["project_id"])


def test_version_document_through_vip(lab):
    status, _, data = rest.request("GET", "http://%s:8776/" % VIP)
    assert status == 300 and data["versions"][0]["id"] == "v3.0"


def test_volume_services_up_through_vip(admin):
    url = "http://%s:8776/v3/%s/os-services" % (VIP, admin["project_id"])
    status, _, data = rest.request("GET", url, token=admin["token"])
    assert status == 200, data
    states = {(s["binary"], s["host"]): s["state"] for s in data["services"]}
    for name in VOLUME_HOSTS:
        assert states.get(("controlplane-volume", "%s@file" % name)) == "up", states
    for name in CONTROLLERS:
        assert states.get(("controlplane-volume-scheduler", name)) == "up", states


def test_volume_lifecycle_through_vip(demo, lab_host):
    """demo creates a 1 GiB volume through the VIP: available, its file on
    the share (seen from both volume hosts), then deleted with its file."""
    base = "http://%s:8776/v3/%s" % (VIP, demo["project_id"])
    name = "lab-test-%s" % uuid.uuid4().hex[:8]
    status, _, data = rest.request("POST", base + "/volumes", {"volume": {"size": 1, "name": name}},
                               token=demo["token"])
    assert status == 202, data
    vol_id = data["volume"]["id"]
    try:
        deadline = time.monotonic() + 120
        while True:
            status, _, data = rest.request("GET", base + "/volumes/" + vol_id, token=demo["token"])
            assert status == 200, data
            if data["volume"]["status"] != "creating" or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert data["volume"]["status"] == "available", data
        path = "%s/volume-%s" % (SHARE, vol_id)
        for host in VOLUME_HOSTS:
            assert lab_host(host).file(path).exists, (host, path)
        info = lab_host(VOLUME_HOSTS[0]).run_test("qemu-img info --output=json %s", path)
        assert json.loads(info.stdout)["virtual-size"] == 1024 ** 3
    finally:
        status, _, _ = rest.request("DELETE", base + "/volumes/" + vol_id, token=demo["token"])
        assert status == 202
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if rest.request("GET", base + "/volumes/" + vol_id, token=demo["token"])[0] == 404:
            break
        time.sleep(1)
    assert rest.request("GET", base + "/volumes/" + vol_id, token=demo["token"])[0] == 404
    assert not lab_host(VOLUME_HOSTS[1]).file("%s/volume-%s" % (SHARE, vol_id)).exists
