"""Operations playbooks on the lab: playbooks/cluster-status.yml and
playbooks/maintenance.yml.

* cluster-status.yml reports a healthy cluster and changes nothing
  (changed=0 on every host).
* maintenance.yml ``rolling_restart`` restarts every control service of
  each controller in place (HAProxy drain, Pacemaker ban and clear of the
  node's clone instances, HAProxy reload), one controller at a time, while
  a probe asks the Compute API through the VIP every 0.2 s (a new connection each time, a Keystone token, ``GET
  /v2.1/flavors``): no probe may fail. The duration, the number of probes
  and the slowest answer are printed, never asserted.

DISRUPTIVE: run it under the lab lock, with the lab's Ansible venv:

    flock /work/lab.lock env PYTEST_ADDOPTS= \\
        /var/lib/controlplane-lab/ansible-venv/bin/pytest -m lab -p no:cacheprovider \\
        --confcutdir tests/lab tests/lab/test_maintenance.py -v -s

Needs the deployed lab (playbooks/site.yml) and its clouds.yaml.
Environment: CONTROLPLANE_LAB_VIP (default 10.77.0.10),
CONTROLPLANE_LAB_CLOUDS (default /var/lib/controlplane-lab/clouds.yaml),
CONTROLPLANE_LAB_CLOUD (default lab-demo).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
CONTROLLERS = os.environ.get("CONTROLPLANE_LAB_CONTROLLERS", "ctl1,ctl2,ctl3").split(",")
VIP = os.environ.get("CONTROLPLANE_LAB_VIP", "10.77.0.10")
CLOUDS = os.environ.get("CONTROLPLANE_LAB_CLOUDS", "/var/lib/controlplane-lab/clouds.yaml")
CLOUD = os.environ.get("CONTROLPLANE_LAB_CLOUD", "lab-demo")
PROBE_INTERVAL = 0.2
PROBE_TIMEOUT = 10


def _playbook(name, *extra, timeout=1800):
    """Run playbooks/<name> on the lab inventory; CompletedProcess."""
    ansible = Path(sys.executable).parent / "ansible-playbook"
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    return subprocess.run([str(ansible), "-i", "inventories/lab", "playbooks/" + name, *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)


def _recap(output):
    """``{host: {"changed": n, "failed": n, ...}}`` from a PLAY RECAP."""
    recap = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        recap[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return recap


def _cloud():
    import yaml  # in the lab venv (ansible's dependency)
    with open(CLOUDS, encoding="utf-8") as fh:
        return yaml.safe_load(fh)["clouds"][CLOUD]


class Probe(threading.Thread):
    """GET /v2.1/flavors on the VIP every PROBE_INTERVAL s with a token.

    ``results``: list of ``(monotonic time, seconds, error or None)``.
    """

    def __init__(self):
        super().__init__(daemon=True)
        self.cloud = _cloud()
        self.stop = threading.Event()
        self.results = []
        self.token = None

    def _token(self):
        auth = self.cloud["auth"]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": auth["username"], "password": auth["password"],
            "domain": {"name": auth.get("user_domain_name", "Default")}}}},
            "scope": {"project": {"name": auth["project_name"],
                                  "domain": {"name": auth.get("project_domain_name", "Default")}}}}}
        req = urllib.request.Request(auth["auth_url"].rstrip("/") + "/auth/tokens",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=PROBE_TIMEOUT) as resp:
            return resp.headers["X-Subject-Token"]

    def once(self):
        start = time.monotonic()
        error = None
        try:
            req = urllib.request.Request("http://%s:8774/v2.1/flavors" % VIP,
                                         headers={"X-Auth-Token": self.token,
                                                  "Connection": "close"})
            with urllib.request.urlopen(req, timeout=PROBE_TIMEOUT) as resp:
                resp.read()
                if resp.status != 200:
                    error = "HTTP %d" % resp.status
        except urllib.error.HTTPError as exc:
            error = "HTTP %d %s" % (exc.code, exc.read()[:200])
        except OSError as exc:
            error = repr(exc)
        self.results.append((start, time.monotonic() - start, error))

    def run(self):
        while not self.stop.is_set():
            began = time.monotonic()
            self.once()
            self.stop.wait(max(0.0, PROBE_INTERVAL - (time.monotonic() - began)))


@pytest.fixture(scope="module")
def lab_deployed():
    if shutil.which("podman") is None:
        pytest.skip("podman missing")
    for name in CONTROLLERS:
        if subprocess.run(["podman", "container", "inspect", "-f", "{{.State.Running}}", name],
                          capture_output=True, text=True, check=False).stdout.strip() != "true":
            pytest.skip("lab controller %s not running (tools/lab/up.sh)" % name)
    if not os.path.exists(CLOUDS):
        pytest.skip("%s missing (playbooks/site.yml)" % CLOUDS)


def test_cluster_status_is_healthy_and_read_only(lab_deployed):
    out = _playbook("cluster-status.yml", timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    recap = _recap(out.stdout)
    assert set(recap) >= set(CONTROLLERS)
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), recap
    assert "cluster healthy" in out.stdout


def test_rolling_restart_keeps_the_api_answering(lab_deployed):
    probe = Probe()
    probe.token = probe._token()
    probe.once()
    assert probe.results[-1][2] is None, "API on the VIP fails before the restart: %s" % (probe.results[-1],)
    probe.results.clear()
    probe.start()
    started = time.monotonic()
    try:
        out = _playbook("maintenance.yml", "-e", "maintenance_action=rolling_restart")
    finally:
        duration = time.monotonic() - started
        time.sleep(2)
        probe.stop.set()
        probe.join(timeout=PROBE_TIMEOUT + 5)
    failures = [(round(t - started, 1), round(d, 2), e) for t, d, e in probe.results if e]
    slowest = max((d for _t, d, _e in probe.results), default=0.0)
    print("\nrolling restart of %s: %.0fs; %d probes through the VIP, %d failed, slowest %.2fs"
          % (",".join(CONTROLLERS), duration, len(probe.results), len(failures), slowest))
    for failure in failures[:20]:
        print("  failed probe at +%ss (%ss): %s" % failure)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    recap = _recap(out.stdout)
    assert all(r["failed"] == 0 for r in recap.values()), recap
    assert len(probe.results) > 10
    assert failures == []
    # the cluster is healthy again afterwards
    status = _playbook("cluster-status.yml", timeout=600)
    assert status.returncode == 0, status.stdout[-4000:]
