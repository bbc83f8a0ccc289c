"""Checks of the Pacemaker cluster of the main lab (playbooks/cluster.yml,
after playbooks/lab.yml and site.yml/infra.yml): the controllers form a
3-node cluster with quorum, `crm_verify -L -V` is clean, the VIP lives on
exactly one controller and HAProxy answers on it, HAProxy runs on every
controller under Pacemaker only, and the VIP moves when its node is put in
standby (and stays there when the node comes back: resource stickiness).

Run with the lab's Ansible venv (it carries pytest-testinfra); the repo's
tests/conftest.py needs the controlplane venv, hence --confcutdir:

    /var/lib/controlplane-lab/ansible-venv/bin/pytest -m lab -p no:cacheprovider \\
        --confcutdir tests/lab tests/lab/test_cluster.py -v -s

Skipped when testinfra is missing or the lab's controllers are not running.
The VIP failover time is printed (never asserted). Environment:
CONTROLPLANE_LAB_CONTROLLERS (default ctl1,ctl2,ctl3),
CONTROLPLANE_LAB_VIP (default 10.77.0.10).
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

testinfra = pytest.importorskip("testinfra")

pytestmark = pytest.mark.lab

CONTROLLERS = os.environ.get("CONTROLPLANE_LAB_CONTROLLERS", "ctl1,ctl2,ctl3").split(",")
VIP = os.environ.get("CONTROLPLANE_LAB_VIP", "10.77.0.10")
# Keystone's frontend on the VIP: HAProxy answers it whatever the backends.
VIP_PORT = 5000
TIMEOUT = 90


def _lab_running():
    if shutil.which("podman") is None:
        return False
    for name in CONTROLLERS:
        out = subprocess.run(["podman", "container", "inspect", "-f", "{{.State.Running}}", name],
                             capture_output=True, text=True, check=False)
        if out.stdout.strip() != "true":
            return False
    return True


@pytest.fixture(scope="module")
def nodes():
    """name -> testinfra host (podman exec) for every controller."""
    if not _lab_running():
        pytest.skip("lab controllers %s are not running (playbooks/lab.yml)" % CONTROLLERS)
    hosts = {name: testinfra.get_host("podman://" + name) for name in CONTROLLERS}
    if not hosts[CONTROLLERS[0]].service("pacemaker").is_running:
        pytest.skip("pacemaker is not running on %s (playbooks/cluster.yml)" % CONTROLLERS[0])
    return hosts


def _crm_mon(nodes):
    return nodes[CONTROLLERS[0]].check_output("crm_mon -1")


def _holders(nodes):
    return [n for n, h in nodes.items()
            if (" %s/" % VIP) in h.check_output("ip -4 -o addr show")]


def _vip_answers():
    try:
        socket.create_connection((VIP, VIP_PORT), timeout=1).close()
        return True
    except OSError:
        return False


def _wait(predicate, timeout=TIMEOUT, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_all_controllers_online_with_quorum(nodes):
    out = _crm_mon(nodes)
    assert "partition with quorum" in out
    assert "Online: [ %s ]" % " ".join(sorted(CONTROLLERS)) in out


def test_crm_verify_clean(nodes):
    cmd = nodes[CONTROLLERS[0]].run("crm_verify -L -V")
    output = (cmd.stdout + cmd.stderr).lower()
    assert cmd.rc == 0, output
    assert "error" not in output and "warning" not in output


def test_cluster_units_enabled_haproxy_not(nodes):
    for name, host in nodes.items():
        assert host.service("corosync").is_enabled, name
        assert host.service("pacemaker").is_enabled, name
        assert not host.service("haproxy").is_enabled, name


def test_haproxy_running_on_every_controller(nodes):
    assert "Started: [ %s ]" % " ".join(sorted(CONTROLLERS)) in _crm_mon(nodes)
    for name, host in nodes.items():
        assert host.service("haproxy").is_running, name
        assert host.socket("tcp://%s:%d" % (VIP, VIP_PORT)).is_listening, name


def test_vip_on_exactly_one_controller_and_answering(nodes):
    assert _wait(lambda: len(_holders(nodes)) == 1, timeout=30)
    assert _vip_answers()
    try:
        status = urllib.request.urlopen("http://%s:%d/" % (VIP, VIP_PORT), timeout=5).status
    except urllib.error.HTTPError as exc:
        status = exc.code
    # Keystone's version document (300) when it runs, HAProxy's 503 otherwise.
    assert status in (200, 300, 503)


def test_vip_fails_over_on_standby(nodes):
    ctl = nodes[CONTROLLERS[0]]
    (old,) = _holders(nodes)
    t0 = time.monotonic()
    ctl.run_test("crm_attribute --node %s --name standby --update on" % old)
    new = None
    try:
        moved = _wait(lambda: len(_holders(nodes)) == 1 and _holders(nodes) != [old]
                      and _vip_answers(), step=0.1)
        elapsed = time.monotonic() - t0
        assert moved, "VIP did not move away from %s" % old
        (new,) = _holders(nodes)
    finally:
        ctl.run_test("crm_attribute --node %s --name standby --delete" % old)
    print("\nVIP failover: %s" % json.dumps(
        {"from": old, "to": new, "failover_seconds": round(elapsed, 2)}))
    everyone = " ".join(sorted(CONTROLLERS))
    assert _wait(lambda: "Started: [ %s ]" % everyone in _crm_mon(nodes))
    time.sleep(3)
    assert _holders(nodes) == [new]
