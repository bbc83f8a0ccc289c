"""Verify roles/pacemaker with roles/haproxy on three nodes: corosync and
pacemaker up, 3 nodes online with quorum, `crm_verify -L -V` clean, the
VIP on exactly one node and answering through HAProxy, HAProxy running on
every node under Pacemaker (unit not enabled at boot), and the VIP moving
when its node is put in standby, resetting a client's connection that
waits on it (failover time printed and written to
$MOLECULE_EPHEMERAL_DIRECTORY/failover.json).

Tests that take the ``host`` fixture run on every node; the others look at
the whole cluster through ``podman exec`` (testinfra's podman backend) and
run once.
"""
import json
import os
import socket
import time
import urllib.error
import urllib.request

import pytest
import testinfra

NODES = ["mol-pcmk1", "mol-pcmk2", "mol-pcmk3"]
VIP = "10.78.0.10"
# A frontend on the VIP (keystone); HAProxy answers it even with no backend.
VIP_PORT = 5000
TIMEOUT = 90


def _node(name):
    return testinfra.get_host("podman://" + name)


def _holders():
    """Nodes whose eth0 carries the VIP."""
    return [n for n in NODES
            if (" %s/" % VIP) in _node(n).check_output("ip -4 -o addr show dev eth0")]


def _vip_answers():
    """True when a TCP connection to the VIP's frontend succeeds."""
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


# -- every node -------------------------------------------------------------

def test_corosync_and_pacemaker_running_and_enabled(host):
    for unit in ("corosync", "pacemaker"):
        assert host.service(unit).is_running
        assert host.service(unit).is_enabled


def test_haproxy_left_to_pacemaker(host):
    haproxy = host.service("haproxy")
    assert not haproxy.is_enabled
    assert haproxy.is_running
    host.run_test("haproxy -c -q -f /etc/haproxy/haproxy.cfg")


def test_haproxy_config_backends(host):
    cfg = host.file("/etc/haproxy/haproxy.cfg").content_string
    assert "bind %s:8774" % VIP in cfg
    assert "option httpchk GET /" in cfg
    assert "inter 1s fall 2 rise 2" in cfg
    # Galera and Glance: first controller active, the others backup.
    assert "server mol-pcmk2 10.78.0.12:3306 check port 9200 backup" in cfg
    assert "server mol-pcmk1 10.78.0.11:3306 check port 9200 on-marked-down" in cfg
    assert "server mol-pcmk3 10.78.0.13:9292 check backup" in cfg
    assert "server mol-pcmk2 10.78.0.12:8774 check\n" in cfg


def test_vip_bind_mode(host):
    """mol-pcmk3 was created without the sysctl: auto falls back to
    `transparent`; the others bind through ip_nonlocal_bind."""
    nonlocal_bind = host.file("/proc/sys/net/ipv4/ip_nonlocal_bind").content_string.strip()
    transparent = "transparent" in host.file("/etc/haproxy/haproxy.cfg").content_string
    assert transparent == (nonlocal_bind == "0")
    assert host.file("/etc/sysctl.d/60-controlplane-haproxy.conf").contains("net.ipv4.ip_nonlocal_bind=1")
    # HAProxy listens on the VIP whether or not this node holds it.
    assert host.socket("tcp://%s:%d" % (VIP, VIP_PORT)).is_listening


def test_authkey_private_and_shared(host):
    key = host.file("/etc/corosync/authkey")
    assert key.mode == 0o400 and key.user == "root"
    assert key.size == 256
    secrets = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if secrets:
        local = os.path.join(secrets, "secrets", "corosync_authkey")
        assert oct(os.stat(local).st_mode & 0o777) == "0o600"
        with open(local, "rb") as f:
            import hashlib
            assert key.sha256sum == hashlib.sha256(f.read()).hexdigest()


def test_corosync_conf(host):
    conf = host.file("/etc/corosync/corosync.conf").content_string
    assert "transport: knet" in conf
    assert "crypto_cipher: aes256" in conf and "crypto_hash: sha256" in conf
    assert "provider: corosync_votequorum" in conf


def test_stats_page_on_node_address(host):
    address = host.check_output("hostname -i").split()[0]
    out = host.run("python3 -c \"import urllib.request as u; u.urlopen('http://%s:8404/')\"" % address)
    assert "401" in out.stderr  # password protected


# -- the cluster -------------------------------------------------------------

def test_three_nodes_online_with_quorum():
    out = _node(NODES[0]).check_output("crm_mon -1")
    assert "partition with quorum" in out
    assert "Online: [ %s ]" % " ".join(NODES) in out


def test_crm_verify_clean():
    cmd = _node(NODES[0]).run("crm_verify -L -V")
    assert cmd.rc == 0, cmd.stdout + cmd.stderr
    assert "error" not in (cmd.stdout + cmd.stderr).lower()
    assert "warning" not in (cmd.stdout + cmd.stderr).lower()


def test_properties_and_defaults():
    node = _node(NODES[0])
    q = "crm_attribute --type %s --name %s --query --quiet"
    assert node.check_output(q % ("crm_config", "no-quorum-policy")) == "stop"
    assert node.check_output(q % ("crm_config", "stonith-enabled")) == "false"
    assert node.check_output(q % ("rsc_defaults", "resource-stickiness")) == "100"
    assert node.check_output(q % ("rsc_defaults", "migration-threshold")) == "3"


def test_haproxy_clone_started_everywhere():
    out = _node(NODES[0]).check_output("crm_mon -1")
    assert "Started: [ %s ]" % " ".join(NODES) in out


def test_vip_held_by_exactly_one_node_and_answering():
    assert _wait(lambda: len(_holders()) == 1, timeout=30)
    assert _vip_answers()
    # HAProxy itself answers (no backend runs here: 503).
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen("http://%s:%d/" % (VIP, VIP_PORT), timeout=5)
    assert err.value.code == 503


def test_vip_fails_over_on_standby_and_stays_after_return():
    ctl = _node(NODES[0])
    (old,) = _holders()
    # A client waiting on the VIP (connected, request not yet complete, so
    # HAProxy waits for the rest): vip-sockets must reset it when the VIP
    # leaves, not leave it hanging.
    waiting = socket.create_connection((VIP, VIP_PORT), timeout=5)
    waiting.sendall(b"GET / HTTP/1.1\r\n")
    t0 = time.monotonic()
    ctl.run_test("crm_attribute --node %s --name standby --update on" % old)
    try:
        waiting.settimeout(30)
        with pytest.raises(ConnectionResetError):
            waiting.recv(1024)
        moved = _wait(lambda: _holders() not in ([], [old]) and len(_holders()) == 1
                      and _vip_answers(), step=0.1)
        elapsed = time.monotonic() - t0
        assert moved, "VIP did not move away from %s" % old
        (new,) = _holders()
        assert new != old
    finally:
        waiting.close()
        ctl.run_test("crm_attribute --node %s --name standby --delete" % old)
    result = {"from": old, "to": new, "failover_seconds": round(elapsed, 2)}
    print("\nVIP failover: %s" % json.dumps(result))
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if ephemeral:
        with open(os.path.join(ephemeral, "failover.json"), "w") as f:
            json.dump(result, f)
    # Back online, the old node does not take the VIP back (stickiness).
    assert _wait(lambda: "Online: [ %s ]" % " ".join(NODES) in ctl.check_output("crm_mon -1"))
    assert _wait(lambda: "Started: [ %s ]" % " ".join(NODES) in ctl.check_output("crm_mon -1"))
    time.sleep(3)
    assert _holders() == [new]
