"""The controlplane OCF resource agents against a real stack.

For each agent: the meta-data validates against resource-agents'
``ra-api-1.dtd`` (xmllint) and carries the parameters and actions
Pacemaker needs; ``ocf-tester`` passes (the four run side by side in the
background while the other tests run); and
the actions, run as Pacemaker runs them, give the OCF exit codes: start
twice → 0, monitor → 0, a failing health check → 1, kill -9 → monitor 7,
stop twice → 0, bad configuration → 6, missing binary → 5.

Needs MariaDB, RabbitMQ, the devenv's Keystone and resource-agents;
everything lives in the stack ``ocf`` (databases ``ocf_*``, vhost
``controlplane_ocf``, API port 28775), dropped at the end.
"""
import json
import subprocess
from pathlib import Path

import pytest

from tests.ocf.conftest import (OCF_ERR_CONFIGURED, OCF_ERR_INSTALLED,
                                OCF_ERR_PERM, OCF_NOT_RUNNING, OCF_SUCCESS, SERVICES,
                                OcfTesterRuns, check_action_exit_codes, check_meta_data,
                                group_gone, process_gone)

pytestmark = pytest.mark.ocf


COMMON_PARAMS = {"binary", "config", "additional_parameters", "user", "pid", "log_file",
                 "manage_binary", "monitor_timeout", "health_grace"}
#: Order of the per-service tests: the api's ocf-tester takes longest.
ORDER = ("conductor", "scheduler", "compute", "api")
API_PARAMS = {"url", "auth_url", "username", "password_file", "project_name",
              "user_domain_name", "project_domain_name", "check_path"}


# --------------------------------------------------------------------------- meta-data

@pytest.mark.parametrize("service", SERVICES)
def test_meta_data_validates_against_dtd(agents, ocf_tools, service):
    agent = agents[service]
    params, actions = check_meta_data(agent.path, agent.env(), ocf_tools["xmllint"], service,
                             COMMON_PARAMS | (API_PARAMS if service == "api" else {"host"}))
    assert params["monitor_timeout"].find("content").get("type") == "integer"
    assert params["pid"].get("unique") == "1"
    assert actions["monitor"].get("interval") == "10s"


def test_meta_data_needs_no_parameters(agents):
    """Pacemaker asks for meta-data with no parameters at all (ocf-tester
    as user nobody): it must not need the configuration or the binaries."""
    agent = agents["conductor"]
    env = {"PATH": "/usr/bin:/bin", "OCF_ROOT": "/usr/lib/ocf"}
    res = subprocess.run([agent.path, "meta-data"], capture_output=True, text=True,
                         env=env, timeout=30)
    assert res.returncode == OCF_SUCCESS, res.stderr
    assert "<resource-agent" in res.stdout


# --------------------------------------------------------------------------- ocf-tester

@pytest.fixture(scope="module", autouse=True)
def testers(agents, ocf_tools, ocf_state):
    runner = OcfTesterRuns(agents, ocf_tools["ocf_tester"], ocf_state)
    yield runner
    runner.close()


def idle_agent(agents, testers, service):
    """The service's AgentRunner once its ocf-tester has finished."""
    testers.wait(service)
    return agents[service]


# --------------------------------------------------------------------------- actions

#: Parameter changes that keep the process running but fail its health
#: check: another host's (absent) queue / service record, a wrong password.
def _unhealthy_overrides(service, ocf_state):
    if service == "api":
        wrong = ocf_state / "wrong.password"
        wrong.write_text("not-the-password\n")
        return {"password_file": str(wrong)}
    return {"host": "no-such-host"}


def _replaces_a_refused_token(agent):
    """A cached token the API refuses (revoked) is replaced, not a failure."""
    cache = Path(agent.params["pid"] + ".token")
    data = json.loads(cache.read_text())
    cache.write_text(json.dumps(dict(data, token="revoked-token")))
    assert agent.rc("monitor") == OCF_SUCCESS
    assert json.loads(cache.read_text())["token"] not in ("revoked-token", data["token"])


@pytest.mark.parametrize("service", ORDER)
def test_actions_exit_codes(agents, testers, ocf_state, service):
    check_action_exit_codes(idle_agent(agents, testers, service),
                            _unhealthy_overrides(service, ocf_state),
                            _replaces_a_refused_token if service == "api" else None)


def test_stop_terminates_a_running_service(agents, testers):
    """stop sends SIGTERM first: the service shuts down gracefully."""
    agent = idle_agent(agents, testers, "conductor")
    assert agent.rc("start") == OCF_SUCCESS
    pid = agent.pid()
    assert agent.rc("stop") == OCF_SUCCESS
    assert process_gone(pid, timeout=0) and group_gone(pid)
    with open(agent.params["log_file"]) as f:
        assert "received SIGTERM" in f.read()  # a graceful stop, not a kill
    assert agent.rc("monitor") == OCF_NOT_RUNNING


@pytest.mark.parametrize("service", ORDER)
def test_bad_configuration(agents, testers, ocf_state, service):
    agent = idle_agent(agents, testers, service)
    not_ini = ocf_state / "not-ini.conf"
    not_ini.write_text("this is not an INI file\n")
    incomplete = ocf_state / "incomplete.conf"
    incomplete.write_text("[DEFAULT]\ndebug = true\n")
    for overrides in ({"config": str(not_ini)}, {"config": str(incomplete)},
                      {"config": str(ocf_state / "missing.conf")},
                      {"user": "no-such-user-ocf"}, {"monitor_timeout": "soon"},
                      {"health_grace": "-1"}):
        res = agent.run("validate-all", overrides)
        assert res.returncode == OCF_ERR_CONFIGURED, (overrides, res.stderr)
        assert "ocf-exit-reason:" in res.stderr
        assert agent.rc("start", overrides) == OCF_ERR_CONFIGURED, overrides
    # the stack's controlplane.conf is 0600 root: another user cannot read it
    res = agent.run("validate-all", {"user": "nobody"})
    assert res.returncode == OCF_ERR_PERM, res.stderr
    if service == "api":
        assert agent.rc("validate-all", {"url": "not a url"}) == OCF_ERR_CONFIGURED
        assert agent.rc("validate-all", {"password_file": str(ocf_state / "nope")}) \
            == OCF_ERR_CONFIGURED
    assert agent.pid() is None  # nothing was started


@pytest.mark.parametrize("service", ORDER)
def test_missing_binary(agents, testers, ocf_state, service):
    agent = idle_agent(agents, testers, service)
    missing = {"binary": str(ocf_state / ("no-such-controlplane-" + service))}
    res = agent.run("validate-all", missing)
    assert res.returncode == OCF_ERR_INSTALLED, res.stderr
    assert agent.rc("start", missing) == OCF_ERR_INSTALLED
    assert agent.rc("validate-all", {"manage_binary": "/nonexistent/controlplane-manage"}) \
        == OCF_ERR_INSTALLED
    # probes and stops never fail because the software is missing
    assert agent.rc("monitor", missing, interval_ms=0) == OCF_NOT_RUNNING
    assert agent.rc("stop", missing) == OCF_SUCCESS


def test_unknown_action_is_unimplemented(agents, testers):
    assert idle_agent(agents, testers, "scheduler").rc("promote") == 3  # OCF_ERR_UNIMPLEMENTED


# --------------------------------------------------------------------------- ocf-tester results

@pytest.mark.parametrize("service", ORDER)
def test_ocf_tester_passes(testers, agents, service):
    rc, output = testers.wait(service)
    print("ocf-tester controlplane-%s (rc %s):\n%s" % (service, rc, output))
    assert rc == 0, output
    assert "passed all tests" in output
    assert agents[service].rc("monitor") == OCF_NOT_RUNNING  # ocf-tester stopped it
