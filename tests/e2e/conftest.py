"""End-to-end fixtures: Keystone and Glance from the devenv, and a stack
``e2e`` of every controlplane service as its own process on port 18774
(its Block Storage API on 18776: the catalog has a block-storage endpoint,
which `openstack quota show` reads).

Compute hosts: ``node1`` and ``node2`` (ordinary fake hosts) and ``flaky``
(the biggest, so the RAM weigher prefers it, but every spawn on it fails;
it is disabled except in the reschedule test).
"""
import json
import os
import subprocess
import time

import pytest
import yaml

from tools.devenv import api as devenv
from tools.devenv import config as dconfig
from tools.stack import Stack

API_PORT = 18774
VOLUME_PORT = 18776
COMPUTES = ["node1", "node2", "flaky"]


@pytest.fixture(scope="session")
def devenv_info():
    return devenv.ensure_up()


@pytest.fixture(scope="session")
def stack(devenv_info):
    st = Stack("e2e", api_port=API_PORT, computes=COMPUTES, volumes=True,
               volume_api_port=VOLUME_PORT,
               extra_conf={"fake_driver": {"fail_spawn_hosts": "flaky"},
                           "scheduler": {"host_state_refresh_interval": "0"}},
               compute_conf={"flaky": {"fake_driver": {"memory_mb": "262144"}}})
    st.stop()
    st.drop()
    st.prepare()
    st.start()
    yield st
    st.stop()


class OSC:
    """The unmodified `openstack` CLI against the e2e stack."""

    def __init__(self, stack):
        self.stack = stack
        clouds = yaml.safe_load(dconfig.path("clouds.yaml").read_text())
        for cloud in clouds["clouds"].values():
            cloud["compute_endpoint_override"] = stack.api_url
            if getattr(stack, "volumes", False):
                cloud["block_storage_endpoint_override"] = "%s/v3/%s" % (
                    stack.volume_url, stack.info["projects"][cloud["auth"]["project_name"]])
        self.clouds_file = stack.dir / "clouds-e2e.yaml"
        dconfig.write_private(self.clouds_file, yaml.safe_dump(clouds))
        self.clouds = clouds["clouds"]
        self.env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(self.clouds_file))
        self.exe = str(stack.bin / "openstack")

    def run(self, *args, cloud="demo", check=True, fmt_json=True, timeout=120):
        """Run ``openstack --os-cloud CLOUD ARGS``; parsed JSON (or text)."""
        cmd = [self.exe, "--os-cloud", cloud, *args]
        if fmt_json:
            cmd += ["-f", "json"]
        res = subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                             timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s" % (
                " ".join(args), res.returncode, res.stdout, res.stderr))
        if not check:
            return res
        if fmt_json and res.stdout.strip():
            return json.loads(res.stdout)
        return res.stdout

    def wait_status(self, server, statuses, cloud="demo", timeout=60):
        """Poll `server show` until its status is in ``statuses``."""
        deadline = time.monotonic() + timeout
        while True:
            srv = self.run("server", "show", server, cloud=cloud)
            if srv["status"] in statuses:
                return srv
            if time.monotonic() > deadline:
                raise AssertionError("server %s stayed %s (wanted %s)" % (
                    server, srv["status"], statuses))
            time.sleep(0.5)

    def project_id(self, name):
        return self.run("project", "show", name, cloud="admin")["id"]


@pytest.fixture(scope="session")
def osc(stack):
    return OSC(stack)


@pytest.fixture(scope="session")
def sdk(osc):
    """openstacksdk connections per cloud: sdk('demo')."""
    from openstack import config as sdk_config
    from openstack import connection
    # The clouds file is passed explicitly, never through
    # OS_CLIENT_CONFIG_FILE: openstacksdk puts that variable's file before
    # any config_files it is given, so setting it here would send other
    # modules' connections (another stack's clouds file) to this stack.
    loader = sdk_config.OpenStackConfig(config_files=[str(osc.clouds_file)])
    conns = {}

    def connect(cloud="demo"):
        if cloud not in conns:
            conns[cloud] = connection.Connection(config=loader.get_one(cloud=cloud))
        return conns[cloud]
    return connect
