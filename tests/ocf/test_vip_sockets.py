"""The OCF agent ``ocf_agents/vip-sockets`` in two network namespaces.

A "node" namespace holds the virtual IP and a second, own address on a
veth pair; a "client" namespace connects to both. A server in the node
namespace accepts and never answers, as a backend does while a request is
in flight. Checked: the meta-data validates against ``ra-api-1.dtd``;
``ocf-tester`` passes; the exit codes of every action (idempotent start
and stop, monitor 7 when stopped, a bad ``ip`` or ``block_seconds`` → 6);
and what the agent is for: its stop resets the client's connection to
the VIP (the client gets ECONNRESET, not its timeout) and leaves the
connection to the node's own address alone; after the stop, new
connections to the VIP are dropped (for ``block_seconds``, or until the
next start), while the node's own address still accepts; the listener
is kept, so after the start or the block's expiry the VIP accepts again.

Needs root, ``ip netns`` (iproute2), nftables and resource-agents;
skipped otherwise. Namespaces ``vsk-node-<pid>``/``vsk-client-<pid>``, removed at
the end.
"""
import os
import shutil
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET

import pytest

from tests.ocf.conftest import (AGENT_DIR, DTD, OCF_ERR_CONFIGURED, OCF_NOT_RUNNING, OCF_ROOT,
                                OCF_SUCCESS)

pytestmark = pytest.mark.ocf

AGENT = str(AGENT_DIR / "vip-sockets")
NODE_NS = "vsk-node-%d" % os.getpid()
CLIENT_NS = "vsk-client-%d" % os.getpid()
VIP, OWN, CLIENT = "198.51.100.10", "198.51.100.11", "198.51.100.20"
PORT = 8774
#: Seconds a client waits for an answer before it reports a timeout.
CLIENT_WAIT = 20

SERVER = textwrap.dedent("""
    import socket, sys, time
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("", %d))
    srv.listen(16)
    print("listening", flush=True)
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)   # read nothing, answer nothing
""" % PORT)

CLIENT_SCRIPT = textwrap.dedent("""
    import socket, sys
    sock = socket.create_connection((sys.argv[1], %d), timeout=5)
    sock.sendall(b"GET / HTTP/1.1\\r\\nHost: vip\\r\\n\\r\\n")
    print("connected", flush=True)
    sock.settimeout(%d)
    try:
        data = sock.recv(1024)
        print("eof" if not data else "data", flush=True)
    except ConnectionResetError:
        print("reset", flush=True)
    except socket.timeout:
        print("timeout", flush=True)
""" % (PORT, CLIENT_WAIT))


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


@pytest.fixture(scope="module")
def netns():
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    if shutil.which("ip") is None or shutil.which("ss") is None or shutil.which("nft") is None:
        pytest.skip("needs iproute2 (ip, ss) and nftables (nft)")
    if not os.path.exists(os.path.join(OCF_ROOT, "lib", "heartbeat", "ocf.py")):
        pytest.skip("needs resource-agents (apt-get install resource-agents)")
    _ip("netns", "add", NODE_NS)
    _ip("netns", "add", CLIENT_NS)
    try:
        veth_node, veth_client = "vskn%d" % (os.getpid() % 10000), "vskc%d" % (os.getpid() % 10000)
        _ip("link", "add", veth_node, "netns", NODE_NS, "type", "veth", "peer", "name",
            veth_client, "netns", CLIENT_NS)
        for ns, dev, addrs in ((NODE_NS, veth_node, (OWN, VIP)), (CLIENT_NS, veth_client, (CLIENT,))):
            for addr in addrs:
                _ip("-n", ns, "addr", "add", addr + "/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield
    finally:
        _ip("netns", "del", NODE_NS, check=False)
        _ip("netns", "del", CLIENT_NS, check=False)


def _agent_env(tmp_path, ip=VIP, **params):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
    env.update(OCF_ROOT=OCF_ROOT, OCF_RESOURCE_INSTANCE="vip-sockets-test",
               OCF_RESKEY_CRM_meta_interval="10000", OCF_RESKEY_CRM_meta_timeout="20000",
               HA_RSCTMP=str(tmp_path))
    if ip is not None:
        env["OCF_RESKEY_ip"] = ip
    env.update({"OCF_RESKEY_" + k: str(v) for k, v in params.items()})
    return env


def _agent(action, tmp_path, ip=VIP, **params):
    """Exit code of the agent's ``action`` run in the node namespace."""
    cmd = ["ip", "netns", "exec", NODE_NS, AGENT, action]
    res = subprocess.run(cmd, env=_agent_env(tmp_path, ip, **params), capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)
    return res.returncode


def _connects(address, timeout=2):
    """True when a TCP connection from the client namespace is accepted."""
    script = "import socket, sys; socket.create_connection((sys.argv[1], %d), timeout=%g)" % (
        PORT, timeout)
    res = subprocess.run(["ip", "netns", "exec", CLIENT_NS, sys.executable, "-c", script,
                          address], capture_output=True, timeout=timeout + 30)
    return res.returncode == 0


def _spawn(ns, script, *args):
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", script, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def _client(address):
    proc = _spawn(CLIENT_NS, CLIENT_SCRIPT, address)
    line = proc.stdout.readline().strip()
    assert line == "connected", (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


def test_meta_data_validates_against_dtd(ocf_tools):
    res = subprocess.run([AGENT, "meta-data"], capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin", "OCF_ROOT": OCF_ROOT})
    assert res.returncode == OCF_SUCCESS, res.stderr
    lint = subprocess.run([ocf_tools["xmllint"], "--noout", "--dtdvalid", DTD, "-"],
                          input=res.stdout, capture_output=True, text=True, timeout=30,
                          cwd=os.path.dirname(DTD))
    assert lint.returncode == 0, lint.stderr
    root = ET.fromstring(res.stdout)
    assert root.get("name") == "vip-sockets"
    ip = {p.get("name"): p for p in root.iter("parameter")}["ip"]
    assert ip.get("required") == "1" and ip.get("unique") == "1"
    actions = {a.get("name") for a in root.iter("action")}
    assert {"start", "stop", "monitor", "validate-all", "meta-data"} <= actions


def test_ocf_tester_passes(ocf_tools, netns, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
    env.update(OCF_ROOT=OCF_ROOT, HA_RSCTMP=str(tmp_path))
    # in the node namespace: its stops block the VIP there, not on this host
    res = subprocess.run(["ip", "netns", "exec", NODE_NS, ocf_tools["ocf_tester"], "-n",
                          "vip-sockets-tester", "-o", "ip=" + VIP, AGENT],
                         capture_output=True, text=True, timeout=300,
                         env=env, stdin=subprocess.DEVNULL)
    print(res.stdout, res.stderr)
    assert res.returncode == 0


def test_actions_exit_codes(netns, tmp_path):
    assert _agent("monitor", tmp_path) == OCF_NOT_RUNNING
    assert _agent("stop", tmp_path) == OCF_SUCCESS        # stop of a stopped resource
    assert _agent("validate-all", tmp_path) == OCF_SUCCESS
    assert _agent("start", tmp_path) == OCF_SUCCESS
    assert _agent("start", tmp_path) == OCF_SUCCESS       # start twice
    assert _agent("monitor", tmp_path) == OCF_SUCCESS
    assert _agent("stop", tmp_path) == OCF_SUCCESS
    assert _agent("stop", tmp_path) == OCF_SUCCESS        # stop twice
    assert _agent("monitor", tmp_path) == OCF_NOT_RUNNING
    assert _agent("validate-all", tmp_path, ip="not-an-address") == OCF_ERR_CONFIGURED
    assert _agent("start", tmp_path, ip="not-an-address") == OCF_ERR_CONFIGURED
    assert _agent("monitor", tmp_path, ip=None) == OCF_ERR_CONFIGURED  # ip is required
    assert _agent("validate-all", tmp_path, block_seconds="-1") == OCF_ERR_CONFIGURED
    assert _agent("start", tmp_path, block_seconds="soon") == OCF_ERR_CONFIGURED


def test_stop_resets_the_vip_connections_only(netns, tmp_path):
    server = _spawn(NODE_NS, SERVER)
    try:
        assert server.stdout.readline().strip() == "listening"
        assert _agent("start", tmp_path) == OCF_SUCCESS   # lifts the earlier tests' blocks
        to_vip, to_own = _client(VIP), _client(OWN)
        assert _agent("start", tmp_path) == OCF_SUCCESS
        assert to_vip.poll() is None and to_own.poll() is None  # start resets nothing
        assert _agent("stop", tmp_path) == OCF_SUCCESS
        out, _ = to_vip.communicate(timeout=CLIENT_WAIT + 10)
        assert out.strip() == "reset"
        assert to_own.poll() is None                  # the node's own address: untouched
        to_own.kill()
        to_own.wait()
        assert not _connects(VIP)                     # new connections dropped...
        assert _connects(OWN)                         # ...to the VIP only
        assert _agent("start", tmp_path) == OCF_SUCCESS
        assert _connects(VIP)                         # start lifts the block; listener kept
        # block_seconds=0: no block; a short block expires by itself
        assert _agent("stop", tmp_path, block_seconds=0) == OCF_SUCCESS
        assert _connects(VIP)
        assert _agent("start", tmp_path) == OCF_SUCCESS
        assert _agent("stop", tmp_path, block_seconds=2) == OCF_SUCCESS
        assert not _connects(VIP, timeout=1)
        time.sleep(2)
        assert _connects(VIP)
    finally:
        server.kill()
        server.wait()
