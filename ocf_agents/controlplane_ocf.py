"""Shared code of the controlplane OCF resource agents.

The agents (``controlplane-api``, ``controlplane-conductor``,
``controlplane-scheduler``, ``controlplane-compute`` and the block-storage
``controlplane-volume-api``, ``controlplane-volume-scheduler``,
``controlplane-volume`` in this directory) each describe one service with
a :class:`ServiceSpec` and hand it to :func:`main`. Everything else lives
here:

* meta-data (OCF 1.1 content within resource-agents' ``ra-api-1.dtd``),
  built with resource-agents' ``ocf.py`` (``ocf.Agent``);
* the process: started detached (own session and process group, stdin
  ``/dev/null``, stdout/stderr appended to ``log_file``), its pid and
  kernel start time written to ``pid`` so a recycled pid is never taken
  for ours; stopped with SIGTERM to the process group, then SIGKILL;
* the actions with their OCF exit codes (see :class:`ServiceAgent`);
* health checks: :func:`check_api` (version document, then a
  token-validated request) and :func:`manage_check` (a
  ``controlplane-manage ping`` / ``service check`` run);
  :func:`validate_volume` (the backends' shares and ``qemu-img``).

Runs with the system ``python3`` and its standard library only (plus
``ocf.py``): the agent must work before and whatever the controlplane
virtualenv contains, and ``ocf-tester`` runs ``meta-data`` as ``nobody``.
"""
import configparser
import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape


def _load_ocf():
    """Import resource-agents' ``ocf.py`` from ``$OCF_FUNCTIONS_DIR``,
    ``$OCF_ROOT/lib/heartbeat`` or Debian's ``/usr/lib/ocf/lib/heartbeat``."""
    candidates = [os.environ.get("OCF_FUNCTIONS_DIR"),
                  os.path.join(os.environ.get("OCF_ROOT") or "/usr/lib/ocf", "lib", "heartbeat"),
                  "/usr/lib/ocf/lib/heartbeat"]
    for directory in candidates:
        if directory and os.path.isfile(os.path.join(directory, "ocf.py")):
            if directory not in sys.path:
                sys.path.insert(0, directory)
            break
    import ocf  # noqa: E402 - found above
    return ocf


ocf = _load_ocf()

#: Seconds kept back from the action timeout Pacemaker gives us, so that
#: the agent answers before Pacemaker gives up on it.
TIMEOUT_MARGIN = 2.0
#: Seconds stop waits after SIGKILL for the processes to disappear.
KILL_WAIT = 5.0


# ----------------------------------------------------------------------------
# Parameters and the service description


class Param:
    """One OCF instance parameter (``OCF_RESKEY_<name>``).

    :param kind: OCF content type: ``string``, ``integer``, ``boolean``
        or ``time``.
    :param default: value used when the parameter is not set (a string,
        shown in the meta-data), or None for "no default".
    """

    def __init__(self, name, shortdesc, longdesc, kind="string", default=None,
                 unique=False, required=False):
        self.name = name
        self.shortdesc = shortdesc
        self.longdesc = longdesc
        self.kind = kind
        self.default = default
        self.unique = unique
        self.required = required


class ServiceSpec:
    """What differs between the agents.

    :param service: ``api``, ``conductor``, ``scheduler``, ``compute``,
        ``volume-api``, ``volume-scheduler`` or ``volume``.
    :param shortdesc, longdesc: the agent's meta-data descriptions.
    :param params: extra :class:`Param` objects of this agent.
    :param health: ``f(agent, timeout, since) -> (ok: bool, message: str)``;
        ``since`` is the Unix time the process was started by this very
        ``start`` action, else None.
    :param required_options: ``[(section, option)]`` the merged config
        files must set (validate-all answers OCF_ERR_CONFIGURED otherwise).
    :param validate: optional ``f(agent) -> (rc, message)`` for checks of
        the extra parameters.
    :param host_param: whether the agent has the ``host`` parameter
        (default: all but ``api``; an HTTP API is checked by URL).
    """

    def __init__(self, service, shortdesc, longdesc, params, health,
                 required_options=(), validate=None, host_param=None):
        self.service = service
        self.name = "controlplane-" + service
        self.shortdesc = shortdesc
        self.longdesc = longdesc
        self.params = list(params)
        self.health = health
        self.required_options = list(required_options)
        self.validate = validate
        self.host_param = (service != "api") if host_param is None else host_param


def common_params(spec_name, host_param=True):
    """The parameters every agent has, with defaults for ``spec_name``
    (e.g. ``controlplane-conductor``)."""
    params = [
        Param("binary", "Service command",
              "Path of the %s command (a name alone is looked up in PATH), usually "
              "in the controlplane virtualenv, e.g. /opt/controlplane/venv/bin/%s."
              % (spec_name, spec_name), default=spec_name),
        Param("config", "Configuration file",
              "Path of controlplane.conf, passed to the service and to the health "
              "checks as --config-file.", default="/etc/controlplane/controlplane.conf"),
        Param("additional_parameters", "Extra command-line arguments",
              "More arguments for the service command, split like a shell does, "
              "e.g. '--config-file /etc/controlplane/compute-node1.conf'. Every "
              "--config-file and --config-dir given here is also passed to "
              "controlplane-manage by the health checks.", default=""),
        Param("user", "User the service runs as",
              "System user the process runs as (its primary group and "
              "supplementary groups too). A dedicated unprivileged user that can "
              "read the configuration is recommended.", default="root"),
        Param("pid", "Pid file",
              "File where the agent records the process id (and its start time, "
              "so a recycled pid is never mistaken for the service). Its "
              "directory is created when missing. Give every resource of the "
              "same service on one node its own file.",
              default="/run/controlplane/%s.pid" % spec_name, unique=True),
        Param("log_file", "Log file",
              "File the process's standard output and error are appended to "
              "(the service logs to stderr unless [DEFAULT] log_file is set). "
              "Its directory is created when missing.",
              default="/var/log/controlplane/%s.log" % spec_name),
        Param("manage_binary", "controlplane-manage command",
              "Path of controlplane-manage, which the health checks run (a name "
              "alone is looked up in PATH; default: the controlplane-manage next "
              "to the service command, else the one in PATH).", default=""),
        Param("monitor_timeout", "Health check timeout (seconds)",
              "Seconds one health check may take (HTTP requests, RPC reply "
              "wait). Keep it well below the monitor operation's timeout.",
              kind="integer", default="10"),
        Param("health_grace", "Seconds a failing health check is tolerated",
              "monitor reports a running process whose health check fails as "
              "failed (1) only once every check has failed for this many seconds; "
              "until then it logs a warning and returns 0. A broker or database "
              "failover (a RabbitMQ node lost, quorum queues re-electing their "
              "leaders, the Galera writer moving) fails the checks of every node's "
              "healthy services for a while, and restarting them then only adds an "
              "outage. A process that is gone is reported at once. 0: the first "
              "failed check fails the monitor.", kind="integer", default="60"),
    ]
    if host_param:
        params.append(Param(
            "host", "Host name of the service",
            "The [DEFAULT] host the service runs as; the health check looks "
            "for this host's server queue or service record. Empty: the value "
            "controlplane-manage reads from the same configuration files.",
            default=""))
    return params


# ----------------------------------------------------------------------------
# Small process helpers


class SpawnError(Exception):
    """The service command could not be executed; ``rc`` is the OCF code
    (ERR_PERM for a permission problem, ERR_INSTALLED for a missing
    interpreter or file, else ERR_GENERIC)."""

    def __init__(self, error, user):
        super().__init__("cannot execute the service as %s: %s" % (user, error))
        if isinstance(error, PermissionError):
            self.rc = ocf.OCF_ERR_PERM
        elif isinstance(error, FileNotFoundError):
            self.rc = ocf.OCF_ERR_INSTALLED
        else:
            self.rc = ocf.OCF_ERR_GENERIC


def readable_by(path, pw):
    """Whether the user of ``pw`` (a ``pwd`` entry) may read ``path`` by
    its mode bits (root always may)."""
    if pw.pw_uid == 0:
        return True
    try:
        st = os.stat(path)
    except OSError:
        return False
    if st.st_uid == pw.pw_uid:
        return bool(st.st_mode & 0o400)
    if st.st_gid in os.getgrouplist(pw.pw_name, pw.pw_gid):
        return bool(st.st_mode & 0o040)
    return bool(st.st_mode & 0o004)


def resolve_binary(path):
    """Absolute path of an executable ``path`` (looked up in PATH when it
    has no slash), or None."""
    if not path:
        return None
    if os.sep in path:
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(path)


def proc_start_time(pid):
    """Kernel start time of ``pid`` (clock ticks since boot, field 22 of
    ``/proc/<pid>/stat``) or None when there is no such live process
    (zombies count as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if not fields or fields[0] in ("Z", "X", "x"):
        return None
    return fields[19]


def group_alive(pgid):
    """True while any process of process group ``pgid`` exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid, sig, group):
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def crm_timeout(default):
    """The action timeout Pacemaker gave (``OCF_RESKEY_CRM_meta_timeout``,
    milliseconds) in seconds, else ``default``."""
    value = os.environ.get("OCF_RESKEY_CRM_meta_timeout")
    try:
        return max(1.0, int(value) / 1000.0)
    except (TypeError, ValueError):
        return float(default)


def read_config_files(paths):
    """Merge INI files like oslo.config does (later files win).

    :returns: ``configparser.RawConfigParser``.
    :raises OSError: a file cannot be read.
    :raises configparser.Error: a file is not valid INI.
    """
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    for path in paths:
        with open(path) as f:
            parser.read_file(f, source=path)
    return parser


def config_args_of(argv):
    """The ``--config-file``/``--config-dir`` options (with their values)
    among ``argv``, in order."""
    out = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        for opt in ("--config-file", "--config-dir"):
            if arg == opt and i + 1 < len(argv):
                out += [opt, argv[i + 1]]
                i += 1
            elif arg.startswith(opt + "="):
                out += [opt, arg.split("=", 1)[1]]
        i += 1
    return out


# ----------------------------------------------------------------------------
# The agent


class ServiceAgent:
    """Actions of one controlplane service resource.

    Exit codes (OCF):

    * ``start``: 0 once the health check passes (also when already
      running); the validate-all code when the configuration is wrong; 1
      when the process exits or is not healthy before the start timeout.
    * ``stop``: 0 once no process of the service's process group is left
      (also when nothing ran); 1 if processes survive SIGKILL.
    * ``monitor``: 7 when the recorded process is gone (or was never
      started); 0 when it runs and the health check passes; 1 when it runs
      but every check has failed for ``health_grace`` seconds (0 with a
      warning before that). A probe (interval 0) is the same: it never
      fails for a missing binary or configuration.
    * ``validate-all``: 5 (ERR_INSTALLED) for a missing service or
      controlplane-manage command; 6 (ERR_CONFIGURED) for a missing or
      unreadable configuration file, invalid INI, a missing required
      option, an unknown user or bad parameter values; 4 (ERR_PERM) when
      ``user`` cannot read a configuration file, or the agent is not root
      but asked to run the service as another user.
    """

    def __init__(self, spec):
        self.spec = spec
        self.params = common_params(spec.name, host_param=spec.host_param) + spec.params

    # -- parameters ---------------------------------------------------------
    def p(self, name):
        """Value of parameter ``name`` (its default when unset)."""
        for param in self.params:
            if param.name == name:
                return ocf.get_parameter(name, param.default)
        raise KeyError(name)

    @property
    def pidfile(self):
        return self.p("pid")

    @property
    def extra_args(self):
        return shlex.split(self.p("additional_parameters") or "")

    @property
    def config_args(self):
        """``--config-file`` options of the service: ``config`` first,
        then those of ``additional_parameters``."""
        return ["--config-file", self.p("config")] + config_args_of(self.extra_args)

    def config_files(self):
        args = self.config_args
        files = [args[i + 1] for i in range(0, len(args), 2) if args[i] == "--config-file"]
        for i in range(0, len(args), 2):
            if args[i] == "--config-dir" and os.path.isdir(args[i + 1]):
                files += sorted(os.path.join(args[i + 1], n) for n in os.listdir(args[i + 1])
                                if n.endswith(".conf"))
        return files

    def monitor_timeout(self):
        return float(int(self.p("monitor_timeout")))

    def manage_binary(self):
        """Path of controlplane-manage or None."""
        configured = self.p("manage_binary")
        if configured:
            return resolve_binary(configured)
        binary = resolve_binary(self.p("binary"))
        if binary:
            sibling = os.path.join(os.path.dirname(binary), "controlplane-manage")
            if os.access(sibling, os.X_OK):
                return sibling
        return resolve_binary("controlplane-manage")

    # -- meta-data ----------------------------------------------------------
    def ocf_agent(self):
        """The ``ocf.Agent`` carrying the meta-data and the handlers."""
        def text(value):
            return escape(value, {'"': "&quot;"})
        agent = ocf.Agent(self.spec.name, text(self.spec.shortdesc), text(self.spec.longdesc),
                          version="1.0", ocf_version="1.1")
        for param in self.params:
            agent.add_parameter(param.name, shortdesc=text(param.shortdesc),
                                longdesc=text(param.longdesc), content_type=param.kind,
                                unique=param.unique, required=param.required,
                                default=None if param.default is None else text(param.default))
        agent.add_action("start", timeout=60, handler=self.start)
        agent.add_action("stop", timeout=60, handler=self.stop)
        agent.add_action("monitor", timeout=30, interval=10, depth=0, handler=self.monitor)
        agent.add_action("validate-all", timeout=20, handler=self.validate_all)
        agent.add_action("meta-data", timeout=5)
        return agent

    # -- pid file -------------------------------------------------------------
    def read_pidfile(self):
        """``(pid, start_time or None)`` from the pid file, or None."""
        try:
            with open(self.pidfile) as f:
                lines = f.read().split()
        except OSError:
            return None
        try:
            return int(lines[0]), (lines[1] if len(lines) > 1 else None)
        except (IndexError, ValueError):
            return None

    def running_pid(self):
        """Pid of our live service process, or None."""
        rec = self.read_pidfile()
        if rec is None:
            return None
        pid, started = rec
        now = proc_start_time(pid)
        if now is None or (started is not None and now != started):
            return None
        return pid

    def _owned_group(self):
        """Pid (= process group id) recorded in the pid file when that
        group can only be ours: the leader is our process, or no process
        has that pid any more. None otherwise."""
        rec = self.read_pidfile()
        if rec is None:
            return None
        pid, started = rec
        now = proc_start_time(pid)
        if now is None or started is None or now == started:
            return pid
        return None

    @property
    def unhealthy_file(self):
        """File holding the time (epoch seconds) of the first of the
        current run of failed health checks; absent while they pass."""
        return self.pidfile + ".unhealthy"

    def _failing_since(self, now):
        """Epoch time the current run of failed checks began (``now``,
        recorded, for the first one)."""
        try:
            with open(self.unhealthy_file) as f:
                return float(f.read().strip())
        except (OSError, ValueError):
            pass
        tmp = self.unhealthy_file + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write("%.3f\n" % now)
            os.replace(tmp, self.unhealthy_file)
        except OSError as exc:
            ocf.logger.warning("cannot record the failed health check in %s: %s",
                               self.unhealthy_file, exc)
        return now

    def _clear_failing(self):
        try:
            os.unlink(self.unhealthy_file)
        except FileNotFoundError:
            pass

    def _remove_pidfile(self):
        for path in (self.pidfile, self.pidfile + ".token", self.unhealthy_file):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- validate-all ---------------------------------------------------------
    def validate(self):
        """``(rc, message)``: OCF_SUCCESS or the code of the first problem."""
        if resolve_binary(self.p("binary")) is None:
            return ocf.OCF_ERR_INSTALLED, "%s not found or not executable" % self.p("binary")
        if self.manage_binary() is None:
            return (ocf.OCF_ERR_INSTALLED, "controlplane-manage (%s) not found or not "
                    "executable" % (self.p("manage_binary") or "next to the service or in PATH"))
        try:
            extra = self.extra_args
        except ValueError as exc:
            return ocf.OCF_ERR_CONFIGURED, "additional_parameters cannot be parsed: %s" % exc
        del extra
        try:
            if int(self.p("monitor_timeout")) < 1:
                raise ValueError
        except ValueError:
            return ocf.OCF_ERR_CONFIGURED, "monitor_timeout must be a positive integer"
        try:
            if int(self.p("health_grace")) < 0:
                raise ValueError
        except ValueError:
            return ocf.OCF_ERR_CONFIGURED, "health_grace must be a non-negative integer"
        files = self.config_files()
        for path in files:
            if not os.path.isfile(path) or not os.access(path, os.R_OK):
                return ocf.OCF_ERR_CONFIGURED, "configuration file %s is missing or unreadable" \
                    % path
        try:
            parser = read_config_files(files)
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            return ocf.OCF_ERR_CONFIGURED, "configuration is not valid INI: %s" % \
                " ".join(str(exc).split())
        for section, option in self.spec.required_options:
            value = parser.get(section, option, fallback="") if (
                section == "DEFAULT" or parser.has_section(section)) else ""
            if not value.strip():
                return ocf.OCF_ERR_CONFIGURED, "[%s] %s is not set in %s" % (
                    section, option, ", ".join(files))
        user = self.p("user")
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            return ocf.OCF_ERR_CONFIGURED, "user %s does not exist" % user
        if os.geteuid() != 0 and pw.pw_uid != os.geteuid():
            return ocf.OCF_ERR_PERM, "only root can run the service as %s" % user
        for path in files:
            if not readable_by(path, pw):
                return ocf.OCF_ERR_PERM, "user %s cannot read %s" % (user, path)
        if self.spec.validate is not None:
            rc, msg = self.spec.validate(self)
            if rc != ocf.OCF_SUCCESS:
                return rc, msg
        return ocf.OCF_SUCCESS, "ok"

    def validate_all(self):
        rc, msg = self.validate()
        if rc != ocf.OCF_SUCCESS:
            ocf.ocf_exit_reason(msg)
        return rc

    # -- health ---------------------------------------------------------------
    def health(self, timeout, since=None):
        """``(ok, message)`` of the service's health check."""
        try:
            return self.spec.health(self, timeout, since)
        except Exception as exc:  # noqa: BLE001 - a failed check, not a crash
            return False, "health check failed: %s: %s" % (type(exc).__name__, exc)

    # -- start ------------------------------------------------------------------
    def _prepare_dirs(self, pw):
        for path, owner in ((os.path.dirname(self.pidfile), None),
                            (os.path.dirname(self.p("log_file")), pw)):
            if path and not os.path.isdir(path):
                os.makedirs(path, mode=0o755, exist_ok=True)
                if owner is not None and os.geteuid() == 0:
                    os.chown(path, owner.pw_uid, owner.pw_gid)

    def _spawn(self, pw):
        cmd = [resolve_binary(self.p("binary")), "--config-file", self.p("config")] \
            + self.extra_args
        env = dict(os.environ, HOME=pw.pw_dir, USER=pw.pw_name, LOGNAME=pw.pw_name)
        env = {k: v for k, v in env.items()
               if not k.startswith(("OCF_", "__OCF_", "HA_", "PCMK_", "CRM_"))}
        kwargs = {}
        if pw.pw_uid != os.geteuid():
            kwargs = {"user": pw.pw_uid, "group": pw.pw_gid,
                      "extra_groups": os.getgrouplist(pw.pw_name, pw.pw_gid)}
        log_file = self.p("log_file")
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        if os.geteuid() == 0:
            os.fchown(fd, pw.pw_uid, pw.pw_gid)
        with os.fdopen(fd, "a") as log:
            log.write("\n--- %s %s starting (resource %s): %s\n" % (
                time.strftime("%Y-%m-%d %H:%M:%S"), self.spec.name,
                ocf.OCF_RESOURCE_INSTANCE, " ".join(shlex.quote(c) for c in cmd)))
            log.flush()
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, cwd="/", env=env,
                                        start_new_session=True, close_fds=True, **kwargs)
            except OSError as exc:
                log.write("cannot execute: %s\n" % exc)
                raise SpawnError(exc, pw.pw_name) from exc
        started = proc_start_time(proc.pid) or ""
        tmp = self.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n%s\n" % (proc.pid, started))
        os.replace(tmp, self.pidfile)
        return proc

    def _log_tail(self, lines=5):
        try:
            with open(self.p("log_file"), "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 4096))
                tail = f.read().decode("utf-8", "replace").splitlines()[-lines:]
            return " | ".join(line.strip() for line in tail if line.strip())
        except OSError:
            return ""

    def start(self):
        rc, msg = self.validate()
        if rc != ocf.OCF_SUCCESS:
            ocf.ocf_exit_reason(msg)
            return rc
        pid = self.running_pid()
        if pid is not None:
            ocf.logger.info("%s is already running (pid %d)", self.spec.name, pid)
            return ocf.OCF_SUCCESS
        deadline = time.monotonic() + crm_timeout(60) - TIMEOUT_MARGIN
        self._kill_leftovers()
        pw = pwd.getpwnam(self.p("user"))
        self._prepare_dirs(pw)
        since = time.time()
        self._clear_failing()
        try:
            proc = self._spawn(pw)
        except SpawnError as exc:
            ocf.ocf_exit_reason(str(exc))
            return exc.rc
        ocf.logger.info("started %s (pid %d); waiting for its health check",
                        self.spec.name, proc.pid)
        message = "no health check ran"
        while True:
            if proc.poll() is not None:
                self._remove_pidfile()
                ocf.ocf_exit_reason("%s exited with status %s during start: %s" % (
                    self.spec.name, proc.returncode, self._log_tail()))
                return ocf.OCF_ERR_GENERIC
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ok, message = self.health(max(1.0, min(self.monitor_timeout(), remaining)), since)
            if ok:
                ocf.logger.info("%s is up: %s", self.spec.name, message)
                return ocf.OCF_SUCCESS
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        ocf.ocf_exit_reason("%s (pid %d) did not become healthy before the start timeout: %s"
                            % (self.spec.name, proc.pid, message))
        return ocf.OCF_ERR_GENERIC

    # -- stop -------------------------------------------------------------------
    def _wait_gone(self, pid, group, until):
        while time.monotonic() < until:
            alive = group_alive(pid) if group else proc_start_time(pid) is not None
            if not alive:
                return True
            time.sleep(0.2)
        return not (group_alive(pid) if group else proc_start_time(pid) is not None)

    def _kill_leftovers(self):
        """SIGKILL what is left of our process group after its leader died
        (e.g. gunicorn workers of a killed master)."""
        pgid = self._owned_group()
        if pgid is not None and self.running_pid() is None and group_alive(pgid):
            ocf.logger.warning("killing leftover processes of group %d", pgid)
            _signal(pgid, signal.SIGKILL, True)
            self._wait_gone(pgid, True, time.monotonic() + KILL_WAIT)

    def stop(self):
        pid = self.running_pid()
        if pid is None:
            self._kill_leftovers()
            self._remove_pidfile()
            ocf.logger.info("%s is not running", self.spec.name)
            return ocf.OCF_SUCCESS
        try:
            group = os.getpgid(pid) == pid
        except ProcessLookupError:
            group = False
        timeout = crm_timeout(60)
        term_until = time.monotonic() + max(1.0, timeout - KILL_WAIT - TIMEOUT_MARGIN)
        ocf.logger.info("stopping %s (pid %d) with SIGTERM", self.spec.name, pid)
        _signal(pid, signal.SIGTERM, group)
        if not self._wait_gone(pid, group, term_until):
            ocf.logger.warning("%s (pid %d) still there after SIGTERM; sending SIGKILL",
                               self.spec.name, pid)
            _signal(pid, signal.SIGKILL, group)
            if not self._wait_gone(pid, group, time.monotonic() + KILL_WAIT):
                ocf.ocf_exit_reason("%s (pid %d) survived SIGKILL" % (self.spec.name, pid))
                return ocf.OCF_ERR_GENERIC
        self._remove_pidfile()
        ocf.logger.info("%s stopped", self.spec.name)
        return ocf.OCF_SUCCESS

    # -- monitor ------------------------------------------------------------------
    def monitor(self):
        pid = self.running_pid()
        if pid is None:
            if self.read_pidfile() is not None and not ocf.is_probe():
                ocf.ocf_exit_reason("%s process recorded in %s is gone"
                                    % (self.spec.name, self.pidfile))
            return ocf.OCF_NOT_RUNNING
        try:
            timeout = self.monitor_timeout()
        except ValueError:
            timeout = 10.0
        ok, message = self.health(timeout)
        if ok:
            self._clear_failing()
            return ocf.OCF_SUCCESS
        now = time.time()
        failing = max(0.0, now - self._failing_since(now))
        try:
            grace = int(self.p("health_grace"))
        except ValueError:
            grace = 0
        if failing < grace:
            ocf.logger.warning("%s (pid %d) failed its health check (failing for %.0f s; "
                               "reported as failed after %d s): %s",
                               self.spec.name, pid, failing, grace, message)
            return ocf.OCF_SUCCESS
        ocf.ocf_exit_reason("%s (pid %d) runs but is not healthy (failing for %.0f s): %s"
                            % (self.spec.name, pid, failing, message))
        return ocf.OCF_ERR_GENERIC


# ----------------------------------------------------------------------------
# Health checks


def manage_check(agent, args, timeout):
    """Run ``controlplane-manage <config args> ARGS``; ``(ok, message)``
    with ok when it exits 0. ``timeout`` bounds the check itself; the
    command gets a few more seconds to start Python."""
    manage = agent.manage_binary()
    if manage is None:
        return False, "controlplane-manage not found"
    cmd = [manage] + agent.config_args + list(args)
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout + 10, cwd="/")
    except subprocess.TimeoutExpired:
        return False, "%s did not finish in %.0f s" % (" ".join(args), timeout + 10)
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    message = (errors or lines or ["(no output)"])[-1].strip()
    return res.returncode == 0, message


def _http(url, timeout, method="GET", headers=None, body=None):
    """``(status, headers, body bytes)``; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def keystone_token(auth_url, username, password, project_name, user_domain,
                   project_domain, timeout):
    """A project-scoped token from Keystone v3 (password method).

    :returns: ``(token, project id)``.
    :raises RuntimeError: Keystone refused or answered oddly.
    """
    base = auth_url.rstrip("/")
    if not base.endswith("/v3"):
        base += "/v3"
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": username, "domain": {"name": user_domain}, "password": password}}},
        "scope": {"project": {"name": project_name, "domain": {"name": project_domain}}}}}
    status, headers, answer = _http(base + "/auth/tokens", timeout, "POST",
                                    {"Content-Type": "application/json"},
                                    json.dumps(body).encode())
    token = headers.get("X-Subject-Token") if headers else None
    if status != 201 or not token:
        raise RuntimeError("Keystone %s answered %s to the token request" % (base, status))
    try:
        project_id = json.loads(answer)["token"]["project"]["id"]
    except (ValueError, KeyError, TypeError):
        project_id = ""
    return token, project_id


def _version_id(body):
    """Version id of a version document: Nova's ``{"version": {...}}`` or
    Cinder's ``{"versions": [{...}]}`` (the CURRENT entry, else the first)."""
    try:
        doc = json.loads(body)
        if isinstance(doc.get("version"), dict):
            return doc["version"].get("id")
        versions = [v for v in doc.get("versions") or [] if isinstance(v, dict)]
        current = [v for v in versions if v.get("status") == "CURRENT"] or versions
        return current[0].get("id") if current else None
    except (ValueError, AttributeError):
        return None


def check_api(agent, timeout, since=None):
    """controlplane-api (and -volume-api) health: the version document at
    ``url`` answers 200, then (when ``auth_url`` is set) a Keystone token
    for the configured user is accepted: GET ``url`` + ``check_path`` → 200
    (401 means the API does not validate tokens, 5xx a broken service).
    ``{project_id}`` in ``check_path`` becomes the token's project id (the
    Block Storage API has it in every path)."""
    deadline = time.monotonic() + timeout

    def left():
        return max(0.5, deadline - time.monotonic())

    url = agent.p("url").rstrip("/")
    try:
        status, _, body = _http(url, left())
    except (OSError, ValueError) as exc:
        return False, "GET %s failed: %s" % (url, exc)
    if status != 200:
        return False, "GET %s answered %s" % (url, status)
    version = _version_id(body)
    if not version:
        return False, "GET %s did not return a version document" % url
    if not agent.p("auth_url"):
        return True, "version document %s (no token check: auth_url is empty)" % version
    cache = TokenCache(agent.pidfile + ".token", _token_key(agent))
    token, project_id = cache.get()
    if "{project_id}" in agent.p("check_path") and not project_id:
        token = None  # cached by an agent that did not keep the project id
    fresh = token is None
    while True:
        if token is None:
            try:
                with open(agent.p("password_file")) as f:
                    password = f.read().strip()
                token, project_id = keystone_token(
                    agent.p("auth_url"), agent.p("username"), password,
                    agent.p("project_name"), agent.p("user_domain_name"),
                    agent.p("project_domain_name"), left())
            except (OSError, RuntimeError, ValueError) as exc:
                return False, "no Keystone token: %s" % exc
            cache.put(token, project_id)
        check = url + "/" + agent.p("check_path").lstrip("/").replace(
            "{project_id}", project_id or "")
        try:
            status, _, _ = _http(check, left(), headers={"X-Auth-Token": token,
                                                          "Accept": "application/json"})
        except (OSError, ValueError) as exc:
            return False, "GET %s failed: %s" % (check, exc)
        if status == 401 and not fresh:
            # the cached token was revoked or expired early: try a new one once
            cache.clear()
            token, fresh = None, True
            continue
        break
    if status != 200:
        cache.clear()
        return False, "GET %s with a token answered %s" % (check, status)
    return True, "version document %s and GET %s with a token answered 200" % (
        version, agent.p("check_path"))


def _token_key(agent):
    """What a cached token belongs to: Keystone, user, project and the
    password file's change time (a new password invalidates the cache)."""
    try:
        mtime = os.stat(agent.p("password_file")).st_mtime_ns
    except OSError:
        mtime = 0
    return "|".join([agent.p("auth_url"), agent.p("username"), agent.p("user_domain_name"),
                     agent.p("project_name"), agent.p("project_domain_name"),
                     agent.p("password_file"), str(mtime)])


class TokenCache:
    """The api health check's Keystone token, kept between monitors in a
    root-only file next to the pid file so that a monitor every few
    seconds does not ask Keystone for a new token each time.

    A token is reused for at most :attr:`MAX_AGE` seconds (well within
    Keystone's default one hour expiry); a 401 drops it.
    """

    MAX_AGE = 600

    def __init__(self, path, key):
        self.path = path
        self.key = key

    def get(self):
        """``(token, project id)`` from the cache, or ``(None, None)``."""
        try:
            with open(self.path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            return None, None
        if not isinstance(data, dict) or data.get("key") != self.key or \
                time.time() - float(data.get("at", 0)) > self.MAX_AGE or \
                not data.get("token"):
            return None, None
        return data["token"], data.get("project_id") or ""

    def put(self, token, project_id=""):
        try:
            fd = os.open(self.path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"key": self.key, "at": time.time(), "token": token,
                           "project_id": project_id}, f)
            os.replace(self.path + ".tmp", self.path)
        except OSError as exc:
            ocf.logger.debug("cannot cache the token in %s: %s", self.path, exc)

    def clear(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass


def validate_api(agent):
    """Checks of the api agent's own parameters."""
    url = urllib.parse.urlsplit(agent.p("url") or "")
    if url.scheme not in ("http", "https") or not url.netloc:
        return ocf.OCF_ERR_CONFIGURED, "url %r is not an http(s) URL" % agent.p("url")
    if agent.p("auth_url"):
        auth = urllib.parse.urlsplit(agent.p("auth_url"))
        if auth.scheme not in ("http", "https") or not auth.netloc:
            return ocf.OCF_ERR_CONFIGURED, "auth_url %r is not an http(s) URL" % \
                agent.p("auth_url")
        for name in ("username", "password_file", "project_name"):
            if not agent.p(name):
                return ocf.OCF_ERR_CONFIGURED, "%s is required when auth_url is set" % name
        if not os.access(agent.p("password_file"), os.R_OK):
            return ocf.OCF_ERR_CONFIGURED, "password_file %s is missing or unreadable" % \
                agent.p("password_file")
    return ocf.OCF_SUCCESS, "ok"


def api_params(name="Compute API", url="http://127.0.0.1:8774/v2.1",
               example="http://10.0.0.11:8774/v2.1", check_path="/flavors",
               check_note="flavors and servers need only a member role"):
    """Parameters of an API agent (controlplane-api by default; the
    volume-api agent passes its own URL and check path)."""
    return [
        Param("url", "%s URL" % name,
              "URL of the API's version document, e.g. %s "
              "(this node's own address, not the virtual IP); monitor expects 200."
              % example, default=url),
        Param("auth_url", "Keystone URL",
              "Keystone URL (v3) for the token-validated check. Empty: the "
              "monitor checks the version document only.", default=""),
        Param("username", "Keystone user", "User the health check gets a token for.",
              default=""),
        Param("password_file", "File with the Keystone password",
              "File holding the health check user's password (first line); keep it "
              "readable by root only.", default=""),
        Param("project_name", "Keystone project", "Project the token is scoped to.",
              default=""),
        Param("user_domain_name", "User domain", "Domain of the user.", default="Default"),
        Param("project_domain_name", "Project domain", "Domain of the project.",
              default="Default"),
        Param("check_path", "Path of the token-validated request",
              "Path below url requested with the token; 200 expected "
              "(%s). {project_id} is replaced by the token's project id."
              % check_note, default=check_path),
    ]


def rpc_ping_health(topic):
    """Health check of a conductor/scheduler: ``controlplane-manage ping
    <topic>`` to this host's server queue ``<topic>.<host>``."""
    def health(agent, timeout, since=None):
        args = ["ping", topic, "--timeout", "%g" % timeout]
        if agent.p("host"):
            args += ["--host", agent.p("host")]
        return manage_check(agent, args, timeout)
    return health


def volume_health(agent, timeout, since=None):
    """Health check of controlplane-volume: the ``volume_services`` row of
    every backend this host serves (``<host>@<backend>`` for each of
    ``[DEFAULT] enabled_backends``) heartbeats (``controlplane-manage
    service check --binary controlplane-volume``); during start the
    heartbeats must come from the new process (``--since``)."""
    args = ["service", "check", "--binary", "controlplane-volume"]
    if agent.p("host"):
        args += ["--host", agent.p("host")]
    if since is not None:
        args += ["--since", "%d" % int(since)]
    return manage_check(agent, args, timeout)


#: Defaults of controlplane/conf/volume.py that validate_volume needs.
VOLUME_DRIVER_DEFAULT = "file"
FILE_SHARE_PATH_DEFAULT = "/var/lib/controlplane/volumes"


def validate_volume(agent):
    """Checks of controlplane-volume's configuration and node: ``[DEFAULT]
    enabled_backends`` names backends (else OCF_ERR_CONFIGURED); for every
    ``file`` backend, its ``file_share_path`` is a directory on this node
    (the share is mounted) and ``qemu-img`` is installed (else
    OCF_ERR_INSTALLED: a node-local problem, Pacemaker tries another node)."""
    parser = read_config_files(agent.config_files())
    backends = [b.strip() for b in parser.get("DEFAULT", "enabled_backends",
                                              fallback="").split(",") if b.strip()]
    if not backends:
        return ocf.OCF_ERR_CONFIGURED, "[DEFAULT] enabled_backends is empty"
    for backend in backends:
        if not parser.has_section(backend):
            return ocf.OCF_ERR_CONFIGURED, "backend section [%s] is missing" % backend
        driver = parser.get(backend, "volume_driver", fallback=VOLUME_DRIVER_DEFAULT).strip()
        if driver != "file":
            continue
        share = parser.get(backend, "file_share_path", fallback=FILE_SHARE_PATH_DEFAULT).strip()
        if not os.path.isdir(share):
            return ocf.OCF_ERR_INSTALLED, "share %s of backend %s is not a directory here " \
                "(not mounted?)" % (share, backend)
        if shutil.which("qemu-img") is None:
            return ocf.OCF_ERR_INSTALLED, "qemu-img (Debian package qemu-utils) is not " \
                "installed; backend %s needs it" % backend
    return ocf.OCF_SUCCESS, "ok"


def compute_health(agent, timeout, since=None):
    """Health check of a compute service: its ``services`` row heartbeats
    (``controlplane-manage service check``); during start the heartbeat
    must come from the new process (``--since`` its start time)."""
    args = ["service", "check", "--binary", "controlplane-compute"]
    if agent.p("host"):
        args += ["--host", agent.p("host")]
    if since is not None:
        args += ["--since", "%d" % int(since)]
    return manage_check(agent, args, timeout)


def main(spec):
    """Run the action asked for (``argv[1]`` or ``$__OCF_ACTION``); exits."""
    agent = ServiceAgent(spec)
    ocf.run(agent.ocf_agent())
