"""Fencing in the lab (roles/pacemaker pacemaker_stonith_devices,
ocf_agents/fence_podman, the podman API of playbooks/lab.yml).

Checks that stonith-enabled=true with one fence_podman device per
controller, none running on the node it fences; that Pacemaker accepts the
agent's metadata; then fences a controller for real: ``stonith_admin
--fence`` from another controller powers the target's container off
(podman on this machine sees it stopped, killed by SIGKILL), Pacemaker
records the fence as successful and shows the node offline (clean); the
agent powers it on again and the node rejoins the cluster. Timings are
printed, never asserted.

DISRUPTIVE: run it under the lab lock, with the lab's Ansible venv:

    flock /work/lab.lock env PYTEST_ADDOPTS= \\
        /var/lib/controlplane-lab/ansible-venv/bin/pytest -m lab -p no:cacheprovider \\
        --confcutdir tests/lab tests/lab/test_fencing.py -v -s

Environment: CONTROLPLANE_LAB_FENCE_TARGET (default ctl3),
CONTROLPLANE_LAB_PODMAN_API (default 10.77.0.1:2375).
"""
import json
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.lab

CONTROLLERS = os.environ.get("CONTROLPLANE_LAB_CONTROLLERS", "ctl1,ctl2,ctl3").split(",")
TARGET = os.environ.get("CONTROLPLANE_LAB_FENCE_TARGET", "ctl3")
API = os.environ.get("CONTROLPLANE_LAB_PODMAN_API", "10.77.0.1:2375")
TIMEOUT = 300
SUMMARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "playbooks", "files",
                       "pcmk_summary.py")


def _sh(node, *argv, check=True, timeout=120):
    """Run ``argv`` in lab host ``node`` (podman exec); CompletedProcess."""
    proc = subprocess.run(["podman", "exec", node, *argv], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check:
        assert proc.returncode == 0, "%s on %s: rc=%d %s %s" % (argv, node, proc.returncode,
                                                                proc.stdout, proc.stderr)
    return proc


def _state(name):
    out = subprocess.run(["podman", "container", "inspect", name], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)[0]["State"]


def _crm_xml(node):
    return ET.fromstring(_sh(node, "crm_mon", "--one-shot", "--inactive", "--fence-history=1",
                             "--output-as=xml").stdout)


def _node(root, name):
    return next(n for n in root.find("nodes") if n.get("name") == name)


def _healthy(observer, node):
    """True when ``node`` runs resources again and playbooks/files/pcmk_summary.py
    finds no problem but failed actions of the past."""
    with open(SUMMARY, encoding="utf-8") as script:
        out = subprocess.run(["podman", "exec", "-i", observer, "python3", "-"], stdin=script,
                             capture_output=True, text=True, timeout=60, check=True)
    state = json.loads(out.stdout)
    problems = [p for p in state["problems"] if not p.startswith("failed action ")]
    return state["nodes"][node]["resources_running"] > 0 and not problems


def _wait(predicate, what, timeout=TIMEOUT, step=0.5):
    start = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - start
        except (subprocess.SubprocessError, AssertionError, StopIteration, ET.ParseError, ValueError, KeyError):
            pass
        assert time.monotonic() - start < timeout, "timed out after %ds waiting for %s" % (timeout, what)
        time.sleep(step)


@pytest.fixture(scope="module")
def cluster():
    """The observer controller (not the target); skips without the lab."""
    if shutil.which("podman") is None:
        pytest.skip("podman missing")
    for name in CONTROLLERS:
        if subprocess.run(["podman", "container", "inspect", "-f", "{{.State.Running}}", name],
                          capture_output=True, text=True, check=False).stdout.strip() != "true":
            pytest.skip("lab controller %s not running (tools/lab/up.sh)" % name)
    observer = next(n for n in CONTROLLERS if n != TARGET)
    enabled = _sh(observer, "crm_attribute", "--type", "crm_config", "--name", "stonith-enabled",
                  "--query", "--quiet", check=False)
    if enabled.stdout.strip() != "true":
        pytest.skip("stonith-enabled is not true (playbooks/site.yml with inventories/lab)")
    return observer


def test_one_device_per_controller_never_on_its_own_node(cluster):
    root = _crm_xml(cluster)
    devices = {r.get("id"): r for r in root.iter("resource")
               if (r.get("resource_agent") or "").startswith("stonith:")}
    for name in CONTROLLERS:
        device = devices["fence-%s" % name]
        assert device.get("resource_agent") == "stonith:fence_podman"
        assert device.get("role") == "Started"
        running_on = [n.get("name") for n in device.findall("node")]
        assert running_on and name not in running_on
        # --list asks the local fencer: a node does not register the
        # device banned from it (its own), the others do.
        for other in CONTROLLERS:
            can_fence = _sh(other, "stonith_admin", "--list", name).stdout
            assert ("fence-%s" % name in can_fence) == (other != name), (other, can_fence)
    verify = _sh(cluster, "crm_verify", "--live-check", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_pacemaker_reads_the_agent_metadata(cluster):
    meta = _sh(cluster, "stonith_admin", "--metadata", "--agent", "fence_podman").stdout
    root = ET.fromstring(meta)
    assert root.get("name") == "fence_podman"
    assert {"ip", "ipport", "plug"} <= {p.get("name") for p in root.iter("parameter")}
    status = _sh(cluster, "fence_podman", "--ip", API.split(":")[0], "--ipport", API.split(":")[1],
                 "--plug", TARGET, "--action", "status")
    assert "ON" in status.stdout


def test_fence_powers_off_then_node_rejoins(cluster):
    observer = cluster
    assert _state(TARGET)["Running"]
    started = time.monotonic()
    try:
        fence = _sh(observer, "stonith_admin", "--fence", TARGET, "--timeout", "120", timeout=180)
        t_fence_cmd = time.monotonic() - started
        state = _state(TARGET)
        assert not state["Running"], "podman still sees %s running after the fence" % TARGET
        # SIGKILL: no clean shutdown
        assert state["ExitCode"] == 137
        assert fence.returncode == 0

        def fenced():
            root = _crm_xml(observer)
            node = _node(root, TARGET)
            events = [e for e in root.iter("fence_event")
                      if e.get("target") == TARGET and e.get("status") == "success"]
            return node.get("online") == "false" and node.get("unclean") == "false" and events
        t_seen = _wait(fenced, "%s offline and fenced in crm_mon" % TARGET) + t_fence_cmd
        history = _sh(observer, "stonith_admin", "--history", TARGET).stdout
        assert "successful" in history or "success" in history

        on_started = time.monotonic()
        host, port = API.split(":")
        _sh(observer, "fence_podman", "--ip", host, "--ipport", port, "--plug", TARGET, "--action", "on")
        assert _state(TARGET)["Running"]
        t_online = _wait(lambda: _node(_crm_xml(observer), TARGET).get("online") == "true",
                         "%s online again" % TARGET)
        t_running = _wait(lambda: _healthy(observer, TARGET), "cluster healthy with %s back" % TARGET,
                          step=2)
    finally:
        # Whatever failed above, the tests after this one need ctl3 back in
        # the cluster: power it on from outside and wait for the cluster.
        if not _state(TARGET)["Running"]:
            subprocess.run(["podman", "start", TARGET], check=False)
            try:
                _wait(lambda: _healthy(observer, TARGET), "cluster healthy with %s back" % TARGET,
                      step=2)
            except AssertionError:
                pass
    print("\nfence %s from %s: stonith_admin --fence returned after %.1fs, crm_mon showed it "
          "fenced/offline after %.1fs; power on -> node online after %.1fs, cluster healthy %.1fs later"
          % (TARGET, observer, t_fence_cmd, t_seen, t_online, t_running))
    print(history.strip())
    print("total %.1fs" % (time.monotonic() - started) + (" (on issued at +%.1fs)" % (on_started - started)))
