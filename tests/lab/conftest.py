"""Fixtures for the lab tests (tests/lab): the podman lab of
playbooks/lab.yml configured by playbooks/infra.yml.

The tests need pytest-testinfra (in the lab venv, tools/lab/venv.sh) and the
five lab containers running; otherwise they are skipped, so a plain
`pytest tests/` on a machine without the lab stays green.

Run: tools/lab/up.sh   (or, with the lab up:
     /var/lib/controlplane-lab/ansible-venv/bin/pytest -m lab tests/lab)
"""
import os
import shutil
import subprocess

import pytest

from tests.lab import rest

CONTROLLERS = {"ctl1": "10.77.0.11", "ctl2": "10.77.0.12", "ctl3": "10.77.0.13"}
COMPUTES = {"cmp1": "10.77.0.21", "cmp2": "10.77.0.22"}
SECRETS_DIR = os.environ.get("CONTROLPLANE_SECRETS_DIR", "/var/lib/controlplane-lab/secrets")


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: needs the podman HA lab (tools/lab/up.sh)")


def _running(name):
    if not shutil.which("podman"):
        return False
    proc = subprocess.run(["podman", "inspect", "--format", "{{.State.Running}}", name],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "true"


@pytest.fixture(scope="session")
def lab():
    """Skip unless testinfra is importable and every lab host runs.

    Returns ``{"controllers": {name: address}, "computes": {...},
    "secrets_dir": path}``.
    """
    pytest.importorskip("testinfra", reason="pytest-testinfra is in the lab venv (tools/lab/venv.sh)")
    missing = [n for n in list(CONTROLLERS) + list(COMPUTES) if not _running(n)]
    if missing:
        pytest.skip("lab hosts not running: %s (tools/lab/up.sh)" % ", ".join(missing))
    return {"controllers": CONTROLLERS, "computes": COMPUTES, "secrets_dir": SECRETS_DIR}


@pytest.fixture(scope="session")
def lab_host(lab):
    """Return a function name -> testinfra Host for a lab container."""
    import testinfra
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = testinfra.get_host("podman://%s" % name)
        return cache[name]
    return get


@pytest.fixture(scope="session")
def secret(lab):
    """Return a function name -> content of a deploy-time secret file."""
    def read(name):
        with open(os.path.join(lab["secrets_dir"], name), encoding="utf-8") as fh:
            return fh.read().split()[0]
    return read


@pytest.fixture(scope="session")
def clouds(lab):
    """The ``clouds`` of the lab's clouds.yaml (tests/lab/rest.py CLOUDS);
    skips when site.yml has not written it."""
    yaml = pytest.importorskip("yaml")
    if not os.path.exists(rest.CLOUDS):
        pytest.skip("%s is missing: run playbooks/site.yml first" % rest.CLOUDS)
    with open(rest.CLOUDS, encoding="utf-8") as fh:
        return yaml.safe_load(fh)["clouds"]
