"""The fence agent ``ocf_agents/fence_podman`` against a real podman API.

A private ``podman system service`` on 127.0.0.1 (a free port) and a
throwaway container (``sleep infinity`` in the lab's base image) stand in
for the lab's API service and a lab host. Checked: the metadata validates
against fence-agents' RelaxNG schema and lists the actions Pacemaker
needs; ``off`` kills the container (SIGKILL, exit code 137, no clean stop),
``on`` starts it, ``status`` exits 0 (on) / 2 (off), ``reboot`` leaves it
running with a new start time; options work from stdin (how
pacemaker-fenced calls agents) and the command line; a missing container,
an unreachable API and missing options fail with exit status 1.

Needs podman, fence-agents (``/usr/share/fence/fencing.py``), libxml2-utils
and a local image (``FENCE_PODMAN_TEST_IMAGE``, default
``localhost/controlplane-lab-base:latest``, made by
tools/lab/build-image.sh); skipped otherwise. Touches only its own
container ``fence-podman-test-<pid>``.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from tests.ocf.conftest import AGENT_DIR

pytestmark = pytest.mark.ocf

AGENT = str(AGENT_DIR / "fence_podman")
FENCING_LIB = "/usr/share/fence/fencing.py"
METADATA_RNG = "/usr/share/cluster/relaxng/metadata.rng"
IMAGE = os.environ.get("FENCE_PODMAN_TEST_IMAGE", "localhost/controlplane-lab-base:latest")
#: An image that boots systemd (the lab's host image): its container takes
#: long enough to die that a start right after the kill raced podman's cleanup.
SYSTEMD_IMAGE = os.environ.get("FENCE_PODMAN_TEST_SYSTEMD_IMAGE", "localhost/controlplane-lab:latest")
PLUG = "fence-podman-test-%d" % os.getpid()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _podman(*args):
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False, timeout=60)


def _inspect(name):
    """``State`` of container ``name`` as podman reports it."""
    out = _podman("container", "inspect", name)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)[0]["State"]


@pytest.fixture(scope="module")
def api():
    """``(address, port)`` of a private podman API service over HTTP."""
    missing = [p for p in ("podman", "xmllint") if shutil.which(p) is None]
    missing += [p for p in (FENCING_LIB, METADATA_RNG) if not os.path.exists(p)]
    if missing:
        pytest.skip("missing %s: apt-get install podman fence-agents libxml2-utils"
                    % ", ".join(missing))
    if _podman("image", "exists", IMAGE).returncode != 0:
        pytest.skip("image %s missing (tools/lab/build-image.sh or FENCE_PODMAN_TEST_IMAGE)" % IMAGE)
    port = _free_port()
    service = subprocess.Popen(["podman", "system", "service", "--time=0", "tcp:127.0.0.1:%d" % port],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert service.poll() is None, "podman system service exited"
            assert time.monotonic() < deadline, "podman API did not listen in 30 s"
            time.sleep(0.2)
    yield ("127.0.0.1", port)
    service.terminate()
    service.wait(timeout=30)


@pytest.fixture(scope="module")
def plug(api):
    """Name of a running throwaway container; removed afterwards."""
    _podman("rm", "-f", "-t", "0", PLUG)
    out = _podman("run", "-d", "--name", PLUG, "--label", "controlplane.test=fence_podman",
                  IMAGE, "sleep", "infinity")
    assert out.returncode == 0, out.stderr
    yield PLUG
    _podman("rm", "-f", "-t", "0", PLUG)


def agent(api, *args, stdin=None):
    """Run the agent: command-line options ``args``, or ``stdin`` lines
    (a dict) the way pacemaker-fenced passes them."""
    if stdin is not None:
        text = "".join("%s=%s\n" % kv for kv in dict({"ip": api[0], "ipport": api[1]}, **stdin).items())
        return subprocess.run([AGENT], input=text, capture_output=True, text=True, timeout=120)
    cmd = [AGENT, "--ip", api[0], "--ipport", str(api[1]), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_metadata_validates_and_lists_fence_actions(api, tmp_path):
    out = subprocess.run([AGENT, "-o", "metadata"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    meta = tmp_path / "fence_podman.xml"
    meta.write_text(out.stdout)
    check = subprocess.run(["xmllint", "--noout", "--relaxng", METADATA_RNG, str(meta)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    root = ET.fromstring(out.stdout)
    assert root.get("name") == "fence_podman"
    actions = {a.get("name") for a in root.iter("action")}
    assert {"on", "off", "reboot", "status", "list", "monitor", "metadata", "validate-all"} <= actions
    params = {p.get("name"): p for p in root.iter("parameter")}
    assert {"ip", "ipport", "plug", "method", "api_version"} <= set(params)
    assert params["ipport"].find("content").get("default") == "2375"


def test_off_kills_on_starts_status_reports(api, plug):
    assert agent(api, "-o", "status", "-n", plug).returncode == 0

    out = agent(api, "-o", "off", "-n", plug)
    assert out.returncode == 0, out.stderr
    assert "Powered OFF" in out.stdout
    state = _inspect(plug)
    assert not state["Running"]
    # SIGKILL, no clean stop: 128 + 9
    assert state["ExitCode"] == 137
    status = agent(api, "-o", "status", "-n", plug)
    assert status.returncode == 2 and "OFF" in status.stdout
    # off again: already off, still a success
    again = agent(api, "-o", "off", "-n", plug)
    assert again.returncode == 0 and "Already OFF" in again.stdout

    out = agent(api, "-o", "on", "-n", plug)
    assert out.returncode == 0, out.stderr
    assert _inspect(plug)["Running"]
    assert agent(api, "-o", "status", "-n", plug).returncode == 0


@pytest.mark.parametrize("method", ["onoff", "cycle"])
def test_reboot_from_stdin_restarts_the_container(api, plug, method):
    before = _inspect(plug)["StartedAt"]
    out = agent(api, stdin={"action": "reboot", "port": plug, "method": method})
    assert out.returncode == 0, out.stderr
    assert "Rebooted" in out.stdout
    state = _inspect(plug)
    assert state["Running"]
    assert state["StartedAt"] != before


def test_list_and_monitor(api, plug):
    out = agent(api, "-o", "list-status")
    assert out.returncode == 0, out.stderr
    rows = {line.split(",")[0]: line.split(",") for line in out.stdout.splitlines()}
    assert rows[plug][2].upper() == "ON"
    assert agent(api, "-o", "monitor").returncode == 0


def test_failures_exit_1(api, plug):
    missing = agent(api, "-o", "off", "-n", plug + "-missing")
    assert missing.returncode == 1
    assert "no such container" in missing.stderr
    unreachable = subprocess.run([AGENT, "--ip", "127.0.0.1", "--ipport", str(_free_port()),
                                  "-o", "monitor"], capture_output=True, text=True, timeout=60)
    assert unreachable.returncode == 1
    no_plug = agent(api, "-o", "validate-all")
    assert no_plug.returncode == 1
    assert agent(api, "-o", "validate-all", "-n", plug).returncode == 0
    assert _inspect(plug)["Running"]


@pytest.mark.parametrize("method", ["cycle", "onoff"])
def test_reboot_clears_the_network_namespace(api, method):
    """A rebooted machine loses the addresses it had (a VIP, in the lab):
    the start waits until podman has released the killed container. Before,
    ``cycle`` started it while it was still ``stopped`` and it came back in
    its old network namespace, with the VIP and the partition drill's
    firewall rules still there."""
    if _podman("image", "exists", SYSTEMD_IMAGE).returncode != 0:
        pytest.skip("image %s missing (tools/lab/build-image.sh or "
                    "FENCE_PODMAN_TEST_SYSTEMD_IMAGE)" % SYSTEMD_IMAGE)
    name = "%s-ns-%s" % (PLUG, method)
    _podman("rm", "-f", "-t", "0", name)
    out = _podman("run", "-d", "--name", name, "--label", "controlplane.test=fence_podman",
                  "--cap-add", "NET_ADMIN", "--systemd=always", SYSTEMD_IMAGE, "/sbin/init")
    assert out.returncode == 0, out.stderr
    try:
        time.sleep(3)  # systemd up: many processes to kill
        add = _podman("exec", name, "ip", "addr", "add", "192.0.2.77/32", "dev", "lo")
        assert add.returncode == 0, add.stderr
        before = _inspect(name)["StartedAt"]
        res = agent(api, stdin={"action": "reboot", "port": name, "method": method})
        assert res.returncode == 0, res.stderr
        state = _inspect(name)
        assert state["Running"] and state["StartedAt"] != before
        addrs = _podman("exec", name, "ip", "-o", "addr", "show", "dev", "lo")
        assert addrs.returncode == 0, addrs.stderr
        assert "192.0.2.77" not in addrs.stdout
    finally:
        _podman("rm", "-f", "-t", "0", name)
