"""The block-storage OCF resource agents against a real stack.

``controlplane-volume-api`` (version document, then a token-validated
``GET /v3/{project_id}/types``), ``controlplane-volume-scheduler`` (RPC
ping to ``volume-scheduler.<host>``) and ``controlplane-volume`` (fresh
``volume_services`` heartbeats of every backend of the host): the
meta-data validates against resource-agents' ``ra-api-1.dtd``,
``ocf-tester`` passes (the three side by side in the background), and the
actions give the OCF exit codes: start twice → 0, monitor → 0, a failing
health check → 1, kill -9 → 7, stop twice → 0, bad configuration → 6,
missing binary/share/qemu-img → 5. A frozen volume service (SIGSTOP)
stops heartbeating: its monitor answers 1 although the process exists.

Needs MariaDB, RabbitMQ, the devenv's Keystone, resource-agents and
qemu-utils; everything lives in the stack ``ocfvol`` (databases
``ocfvol_*``, vhost ``controlplane_ocfvol``, volume API port 28776, host
``ocfvolnode``), dropped at the end.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ocf.conftest import (OCF_ERR_CONFIGURED, OCF_ERR_GENERIC, OCF_ERR_INSTALLED,
                                OCF_ERR_PERM, OCF_NOT_RUNNING, OCF_SUCCESS, AgentRunner,
                                OcfTesterRuns, check_action_exit_codes, check_meta_data)

pytestmark = pytest.mark.ocf


SERVICES = ("volume-scheduler", "volume", "volume-api")
VOLUME_API_PORT = 28776
HOST = "ocfvolnode"
#: service_down_time of the stack: a frozen service is down this fast
DOWN_TIME = 6
COMMON_PARAMS = {"binary", "config", "additional_parameters", "user", "pid", "log_file",
                 "manage_binary", "monitor_timeout", "health_grace"}
API_PARAMS = {"url", "auth_url", "username", "password_file", "project_name",
              "user_domain_name", "project_domain_name", "check_path"}


def _until(predicate, timeout):
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def vol_stack(ocf_tools):
    from tools.devenv import api as devenv
    from tools.stack import Stack
    devenv.ensure_up()
    stack = Stack("ocfvol", api_port=28785, computes=[], volumes=True,
                  volume_api_port=VOLUME_API_PORT, venv_bin=Path(sys.executable).parent,
                  extra_conf={"DEFAULT": {"host": HOST, "report_interval": "2",
                                          "service_down_time": str(DOWN_TIME)},
                              # one gunicorn worker: faster start on a small machine
                              "volume_api": {"workers": "1"}})
    stack.prepare()
    yield stack
    stack.drop()


@pytest.fixture(scope="module")
def vol_state(tmp_path_factory):
    return tmp_path_factory.mktemp("ocfvol")


@pytest.fixture(scope="module")
def vol_agents(vol_stack, vol_state):
    """``{service: AgentRunner}`` for the ``ocfvol`` stack; stopped afterwards."""
    admin = vol_stack.info["admin"]
    password_file = vol_state / "admin.password"
    password_file.write_text(admin["password"] + "\n")
    password_file.chmod(0o600)
    runners = {}
    for service in SERVICES:
        params = {
            "binary": vol_stack.bin / ("controlplane-" + service),
            "manage_binary": vol_stack.bin / "controlplane-manage",
            "config": vol_stack.conf_file,
            "pid": vol_state / ("%s.pid" % service),
            "log_file": vol_state / "logs" / ("%s.log" % service),
            "monitor_timeout": 10,
        }
        if service == "volume-api":
            params.update(url="%s/v3" % vol_stack.volume_url, auth_url=admin["auth_url"],
                          username=admin["username"], password_file=password_file,
                          project_name=admin["project_name"])
        runners[service] = AgentRunner(service, {k: str(v) for k, v in params.items()})
    yield runners
    for runner in runners.values():
        runner.run("stop")


@pytest.fixture(scope="module", autouse=True)
def testers(vol_agents, ocf_tools, vol_state):
    runner = OcfTesterRuns(vol_agents, ocf_tools["ocf_tester"], vol_state)
    yield runner
    runner.close()


def idle_agent(vol_agents, testers, service):
    testers.wait(service)
    return vol_agents[service]


# --------------------------------------------------------------------------- meta-data

@pytest.mark.parametrize("service", SERVICES)
def test_meta_data_validates_against_dtd(vol_agents, ocf_tools, service):
    agent = vol_agents[service]
    env = {"PATH": "/usr/bin:/bin", "OCF_ROOT": "/usr/lib/ocf"}  # no parameters at all
    params, actions = check_meta_data(agent.path, env, ocf_tools["xmllint"], service,
                             COMMON_PARAMS | (API_PARAMS if service == "volume-api" else {"host"}))
    defaults = {n: p.find("content").get("default") for n, p in params.items()}
    assert defaults["binary"] == "controlplane-" + service
    assert defaults["pid"] == "/run/controlplane/controlplane-%s.pid" % service
    if service == "volume-api":
        assert defaults["url"] == "http://127.0.0.1:8776/v3"
        assert defaults["check_path"] == "/{project_id}/types"


# --------------------------------------------------------------------------- actions

def _unhealthy_overrides(service, vol_state):
    if service == "volume-api":
        wrong = vol_state / "wrong.password"
        wrong.write_text("not-the-password\n")
        return {"password_file": str(wrong)}
    return {"host": "no-such-host"}


@pytest.mark.parametrize("service", SERVICES)
def test_actions_exit_codes(vol_agents, testers, vol_state, service):
    check_action_exit_codes(idle_agent(vol_agents, testers, service),
                            _unhealthy_overrides(service, vol_state))


def test_volume_api_checks_a_project_path_with_the_token(vol_agents, testers, vol_state):
    """The token-validated request goes to /v3/<the token's project>/types;
    a cached token the API refuses is replaced, not a failure."""
    agent = idle_agent(vol_agents, testers, "volume-api")
    assert agent.rc("start") == OCF_SUCCESS
    try:
        cache = vol_state / "volume-api.pid.token"
        data = json.loads(cache.read_text())
        assert len(data["project_id"]) == 32  # a Keystone project id
        cache.write_text(json.dumps(dict(data, token="revoked-token")))
        assert agent.rc("monitor") == OCF_SUCCESS
        assert json.loads(cache.read_text())["token"] not in ("revoked-token", data["token"])
        # a path the API does not serve answers 404: not healthy
        res = agent.run("monitor", {"check_path": "/{project_id}/no-such-resource",
                                    "health_grace": 0})
        assert res.returncode == OCF_ERR_GENERIC, res.stderr
        assert "answered 404" in res.stderr
    finally:
        assert agent.rc("stop") == OCF_SUCCESS


def test_frozen_volume_service_is_unhealthy(vol_agents, testers):
    """monitor checks heartbeats, not only the pid: a stopped (SIGSTOP)
    controlplane-volume is reported 1 once its backends' heartbeats are
    older than service_down_time, and 0 again after SIGCONT."""
    agent = idle_agent(vol_agents, testers, "volume")
    assert agent.rc("start") == OCF_SUCCESS
    pid = agent.pid()
    try:
        os.killpg(pid, signal.SIGSTOP)
        assert _until(lambda: agent.rc("monitor", {"health_grace": 0}) == OCF_ERR_GENERIC,
                      DOWN_TIME * 4)
        res = agent.run("monitor", {"health_grace": 0})
        assert "is down: last heartbeat" in res.stderr
        os.killpg(pid, signal.SIGCONT)
        assert _until(lambda: agent.rc("monitor") == OCF_SUCCESS, DOWN_TIME * 4)
    finally:
        os.killpg(pid, signal.SIGCONT)
        assert agent.rc("stop") == OCF_SUCCESS


def _conf_without(vol_stack, vol_state, name, drop=(), change=None):
    """A copy of the stack's controlplane.conf without the ``drop``
    ``(section, option)`` pairs and with ``change`` {section: {opt: val}}."""
    sections = vol_stack.config_sections()
    for section, option in drop:
        sections[section].pop(option, None)
    for section, values in (change or {}).items():
        sections.setdefault(section, {}).update(values)
    path = vol_state / name
    path.write_text(vol_stack._ini(sections))
    path.chmod(0o600)
    return str(path)


@pytest.mark.parametrize("service", SERVICES)
def test_bad_configuration(vol_agents, testers, vol_stack, vol_state, service):
    agent = idle_agent(vol_agents, testers, service)
    not_ini = vol_state / "not-ini.conf"
    not_ini.write_text("this is not an INI file\n")
    no_api_db = _conf_without(vol_stack, vol_state, "no-api-db.conf",
                              drop=[("api_database", "connection")])
    for overrides in ({"config": str(not_ini)}, {"config": no_api_db},
                      {"config": str(vol_state / "missing.conf")},
                      {"user": "no-such-user-ocf"}, {"monitor_timeout": "soon"},
                      {"health_grace": "-1"}):
        res = agent.run("validate-all", overrides)
        assert res.returncode == OCF_ERR_CONFIGURED, (overrides, res.stderr)
        assert "ocf-exit-reason:" in res.stderr
        assert agent.rc("start", overrides) == OCF_ERR_CONFIGURED, overrides
    assert agent.rc("validate-all", {"user": "nobody"}) == OCF_ERR_PERM  # conf is 0600 root
    if service == "volume-api":
        assert agent.rc("validate-all", {"url": "not a url"}) == OCF_ERR_CONFIGURED
    assert agent.pid() is None


def test_volume_validate_checks_backends_share_and_qemu_img(vol_agents, testers, vol_stack,
                                                           vol_state):
    agent = idle_agent(vol_agents, testers, "volume")
    no_backends = _conf_without(vol_stack, vol_state, "no-backends.conf",
                                change={"DEFAULT": {"enabled_backends": ""}})
    res = agent.run("validate-all", {"config": no_backends})
    assert res.returncode == OCF_ERR_CONFIGURED, res.stderr
    assert "enabled_backends is empty" in res.stderr
    no_section = _conf_without(vol_stack, vol_state, "no-section.conf",
                               change={"DEFAULT": {"enabled_backends": "fileback,ghost"}})
    assert agent.rc("validate-all", {"config": no_section}) == OCF_ERR_CONFIGURED
    # the share is not mounted on this node: another node may have it
    unmounted = _conf_without(vol_stack, vol_state, "unmounted.conf",
                              change={"fileback": {"file_share_path": str(vol_state / "nfs")}})
    res = agent.run("validate-all", {"config": unmounted})
    assert res.returncode == OCF_ERR_INSTALLED, res.stderr
    assert "not a directory here" in res.stderr
    assert agent.rc("start", {"config": unmounted}) == OCF_ERR_INSTALLED
    # no qemu-img in PATH
    env_path = {"PATH": str(vol_state)}
    res = subprocess.run([agent.path, "validate-all"], capture_output=True, text=True,
                         env=dict(agent.env(), **env_path), timeout=60)
    assert res.returncode == OCF_ERR_INSTALLED, res.stderr
    assert "qemu-img" in res.stderr
    assert agent.pid() is None


@pytest.mark.parametrize("service", SERVICES)
def test_missing_binary(vol_agents, testers, vol_state, service):
    agent = idle_agent(vol_agents, testers, service)
    missing = {"binary": str(vol_state / ("no-such-controlplane-" + service))}
    assert agent.rc("validate-all", missing) == OCF_ERR_INSTALLED
    assert agent.rc("start", missing) == OCF_ERR_INSTALLED
    assert agent.rc("monitor", missing, interval_ms=0) == OCF_NOT_RUNNING
    assert agent.rc("stop", missing) == OCF_SUCCESS


# --------------------------------------------------------------------------- ocf-tester results

@pytest.mark.parametrize("service", SERVICES)
def test_ocf_tester_passes(testers, vol_agents, service):
    rc, output = testers.wait(service)
    print("ocf-tester controlplane-%s (rc %s):\n%s" % (service, rc, output))
    assert rc == 0, output
    assert "passed all tests" in output
    assert vol_agents[service].rc("monitor") == OCF_NOT_RUNNING
