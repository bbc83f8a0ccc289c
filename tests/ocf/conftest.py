"""Fixtures of the OCF resource agent tests (marker ``ocf``).

* ``ocf_tools``: resource-agents' ``ocf-tester``, ``ocf.py`` and
  ``ra-api-1.dtd`` and libxml2's ``xmllint`` (the tests are skipped with
  the apt-get command to run when one is missing).
* ``ocf_stack``: a controlplane stack ``ocf`` (tools/stack.py) prepared
  only — config, vhost, databases, cells; no process is started: the
  agents start them. Dropped at the end of the session.
* ``agents``: ``{service: AgentRunner}`` with the parameters for that
  stack; every resource is stopped again at the end.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AGENT_DIR = REPO / "ocf_agents"
SERVICES = ("api", "conductor", "scheduler", "compute")
API_PORT = 28775
COMPUTE_HOST = "ocfnode"
OCF_ROOT = "/usr/lib/ocf"
DTD = "/usr/share/resource-agents/ra-api-1.dtd"


def pytest_configure(config):
    config.addinivalue_line("markers", "ocf: OCF resource agents against a real stack "
                                       "(needs resource-agents, MariaDB, RabbitMQ, Keystone)")


@pytest.fixture(scope="session")
def ocf_tools():
    missing = [p for p in ("ocf-tester", "xmllint") if shutil.which(p) is None]
    missing += [p for p in (OCF_ROOT + "/lib/heartbeat/ocf.py", DTD) if not os.path.exists(p)]
    if missing:
        pytest.skip("missing %s: apt-get install resource-agents libxml2-utils"
                    % ", ".join(missing))
    return {"ocf_tester": shutil.which("ocf-tester"), "xmllint": shutil.which("xmllint")}


class AgentRunner:
    """Runs one agent's actions the way Pacemaker does: the action as the
    only argument, parameters as ``OCF_RESKEY_*`` in the environment.

    :param service: ``api``, ``conductor``, ``scheduler`` or ``compute``.
    :param params: ``{name: value}`` instance parameters.
    """

    def __init__(self, service, params):
        self.service = service
        self.path = str(AGENT_DIR / ("controlplane-" + service))
        self.params = dict(params)

    def env(self, overrides=None, interval_ms=10000, timeout_ms=60000):
        """Environment of one action; ``interval_ms=0`` makes a monitor a probe."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
        env.update(OCF_ROOT=OCF_ROOT, OCF_RESOURCE_INSTANCE="ocf-test-" + self.service,
                   OCF_RESKEY_CRM_meta_interval=str(interval_ms),
                   OCF_RESKEY_CRM_meta_timeout=str(timeout_ms),
                   # the console scripts import controlplane from this tree
                   PYTHONPATH=str(REPO))
        params = dict(self.params, **(overrides or {}))
        env.update({"OCF_RESKEY_" + k: str(v) for k, v in params.items()})
        return env

    def run(self, action, overrides=None, **kwargs):
        """``subprocess.CompletedProcess`` of ``AGENT action``."""
        return subprocess.run([self.path, action], env=self.env(overrides, **kwargs),
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def rc(self, action, overrides=None, **kwargs):
        return self.run(action, overrides, **kwargs).returncode

    def pid(self):
        """Pid recorded in the pid file, or None."""
        try:
            return int(Path(self.params["pid"]).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def tester_args(self, ocf_tester, name):
        """``ocf-tester`` command line for this agent."""
        cmd = [ocf_tester, "-n", name]
        for key, value in self.params.items():
            cmd += ["-o", "%s=%s" % (key, value)]
        return cmd + [self.path]


@pytest.fixture(scope="session")
def ocf_stack(ocf_tools):
    from tools.devenv import api as devenv
    from tools.stack import Stack
    devenv.ensure_up()
    stack = Stack("ocf", api_port=API_PORT, computes=[COMPUTE_HOST],
                  venv_bin=Path(sys.executable).parent)
    stack.prepare()
    yield stack
    stack.drop()


@pytest.fixture(scope="session")
def ocf_state(tmp_path_factory):
    return tmp_path_factory.mktemp("ocf")


@pytest.fixture(scope="session")
def agents(ocf_stack, ocf_state):
    """``{service: AgentRunner}`` for the ``ocf`` stack; stopped afterwards."""
    bin_dir = ocf_stack.bin
    admin = ocf_stack.info["admin"]
    password_file = ocf_state / "admin.password"
    password_file.write_text(admin["password"] + "\n")
    password_file.chmod(0o600)
    # one gunicorn worker: the API starts faster on a small test machine
    api_conf = ocf_state / "api-test.conf"
    api_conf.write_text("[api]\nworkers = 1\n")
    runners = {}
    for service in SERVICES:
        params = {
            "binary": bin_dir / ("controlplane-" + service),
            "manage_binary": bin_dir / "controlplane-manage",
            "config": ocf_stack.conf_file,
            "pid": ocf_state / ("%s.pid" % service),
            "log_file": ocf_state / "logs" / ("%s.log" % service),
            "monitor_timeout": 10,
        }
        if service == "compute":
            params["additional_parameters"] = "--config-file %s" % (
                ocf_stack.dir / ("compute-%s.conf" % COMPUTE_HOST))
        if service == "api":
            params.update(url=ocf_stack.api_url, auth_url=admin["auth_url"],
                          username=admin["username"], password_file=password_file,
                          project_name=admin["project_name"],
                          additional_parameters="--config-file %s" % api_conf)
        runners[service] = AgentRunner(service, {k: str(v) for k, v in params.items()})
    yield runners
    for runner in runners.values():
        runner.run("stop")


#: OCF exit codes (OCF resource agent API, "Return codes").
OCF_SUCCESS, OCF_ERR_GENERIC, OCF_ERR_PERM = 0, 1, 4
OCF_ERR_INSTALLED, OCF_ERR_CONFIGURED, OCF_NOT_RUNNING = 5, 6, 7


def group_gone(pgid):
    """True when no process of process group ``pgid`` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def check_meta_data(agent_path, env, xmllint, service, expected_params):
    """Run ``meta-data`` and check it (OCF resource agent API, "Metadata";
    resource-agents' ra-api-1.dtd): exit 0, valid against the DTD, named
    ``controlplane-<service>``, version 1.1, every name of
    ``expected_params`` present, every parameter with a short and long
    description, a typed content and a default; the actions start, stop,
    monitor, validate-all and meta-data, each timeout in seconds ("20s").

    :returns: ``(params, actions)``: ``{name: <parameter> Element}`` and
        ``{name: <action> Element}``.
    """
    res = subprocess.run([agent_path, "meta-data"], capture_output=True, text=True,
                         env=env, timeout=30)
    assert res.returncode == OCF_SUCCESS, res.stderr
    lint = subprocess.run([xmllint, "--noout", "--dtdvalid", DTD, "-"],
                          input=res.stdout, capture_output=True, text=True, timeout=30,
                          cwd=os.path.dirname(DTD))
    assert lint.returncode == 0, lint.stderr
    root = ET.fromstring(res.stdout)
    assert root.get("name") == "controlplane-" + service
    assert root.findtext("version") == "1.1"
    params = {p.get("name"): p for p in root.iter("parameter")}
    assert set(expected_params) <= set(params)
    for name, param in params.items():
        assert param.findtext("shortdesc").strip(), name
        assert param.findtext("longdesc").strip(), name
        content = param.find("content")
        assert content.get("type") in ("string", "integer", "boolean", "time"), name
        assert content.get("default") is not None, name
    actions = {a.get("name"): a for a in root.iter("action")}
    assert {"start", "stop", "monitor", "validate-all", "meta-data"} <= set(actions)
    assert all(a.get("timeout", "").endswith("s") for a in actions.values())
    return params, actions


def check_action_exit_codes(agent, unhealthy_overrides, while_running=None):
    """Drive one idle agent (an AgentRunner) through a service's life and
    assert every action's exit code (OCF resource agent API, "Return codes";
    every action idempotent): validate-all, stop and monitor of a stopped
    service, start (twice), monitor and probe of a running one,
    ``while_running(agent)`` if given, monitor with ``unhealthy_overrides``
    (the process runs but fails its health check: OCF_ERR_GENERIC with an
    exit reason once it has failed for ``health_grace`` seconds, 0 with a
    warning before), monitor after SIGKILL (OCF_NOT_RUNNING, "is gone"), stop
    of a killed service (its process group gone, the pid file removed),
    stop again."""
    assert agent.rc("validate-all") == OCF_SUCCESS
    assert agent.rc("stop") == OCF_SUCCESS
    assert agent.rc("monitor") == OCF_NOT_RUNNING
    assert agent.rc("monitor", interval_ms=0) == OCF_NOT_RUNNING  # probe

    res = agent.run("start")
    assert res.returncode == OCF_SUCCESS, res.stderr
    pid = agent.pid()
    assert pid and not process_gone(pid, timeout=0)
    assert os.getpgid(pid) == pid  # own session and process group
    # the process is detached from the agent: stdin /dev/null, output to the log
    assert os.path.realpath("/proc/%d/fd/0" % pid) == "/dev/null"
    assert os.path.realpath("/proc/%d/fd/1" % pid) == agent.params["log_file"]
    assert agent.rc("start") == OCF_SUCCESS  # already running
    assert agent.pid() == pid
    assert agent.rc("monitor") == OCF_SUCCESS
    assert agent.rc("monitor", interval_ms=0) == OCF_SUCCESS  # probe
    if while_running is not None:
        while_running(agent)

    # health_grace (default 60 s): a failing check is tolerated, with a
    # warning, until the checks have failed that long...
    res = agent.run("monitor", unhealthy_overrides)
    assert res.returncode == OCF_SUCCESS, res.stderr
    assert "failed its health check" in res.stderr and "ocf-exit-reason:" not in res.stderr
    time.sleep(1.5)
    # ...a passing check ends the run of failures...
    assert agent.rc("monitor") == OCF_SUCCESS
    # ...so a grace of 1 s counts from the next failure, not the first one
    assert agent.rc("monitor", dict(unhealthy_overrides, health_grace=1)) == OCF_SUCCESS
    res = agent.run("monitor", dict(unhealthy_overrides, health_grace=0))
    assert res.returncode == OCF_ERR_GENERIC, res.stderr
    assert "ocf-exit-reason:" in res.stderr and "not healthy" in res.stderr

    os.kill(pid, signal.SIGKILL)
    assert process_gone(pid)
    res = agent.run("monitor")
    assert res.returncode == OCF_NOT_RUNNING, res.stderr
    assert "is gone" in res.stderr

    assert agent.rc("stop") == OCF_SUCCESS
    assert group_gone(pid)  # gunicorn workers of a killed master too
    assert not os.path.exists(agent.params["pid"])
    assert agent.rc("stop") == OCF_SUCCESS
    assert agent.rc("monitor") == OCF_NOT_RUNNING


def process_gone(pid, timeout=10.0):
    """True once ``pid`` is no live process (a zombie counts as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


class OcfTesterRuns:
    """ocf-tester of every agent of ``agents`` (``{service: AgentRunner}``),
    all started at once in the background (they take a while: each starts
    its service three times); a test of a service's actions first waits for
    that service's ocf-tester (``wait``, seconds), so the two never drive
    the same resource at the same time. Output goes to
    ``<state_dir>/ocf-tester-<service>.txt``."""

    def __init__(self, agents, ocf_tester, state_dir):
        self.procs = {}
        self.results = {}
        for service, agent in agents.items():
            env = {k: v for k, v in agent.env().items() if not k.startswith("OCF_")}
            env["OCF_ROOT"] = OCF_ROOT
            out = open(state_dir / ("ocf-tester-%s.txt" % service), "w+")
            proc = subprocess.Popen(agent.tester_args(ocf_tester, "ocf-tester-" + service),
                                    stdout=out, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            self.procs[service] = (proc, out)

    def wait(self, service, timeout=300):
        """``(exit code, output)`` of the service's ocf-tester."""
        if service not in self.results:
            proc, out = self.procs[service]
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # ocf-tester and the agent it runs
                proc.wait()
            out.seek(0)
            self.results[service] = (proc.returncode, out.read())
            out.close()
        return self.results[service]

    def close(self):
        for service in self.procs:
            self.wait(service, timeout=120)
