"""Running commands, timing steps, probing ports and managing daemons.

Stdlib only: the devenv must run with a bare Debian ``python3``.
"""

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import config

LOG = logging.getLogger(__name__)

# name -> seconds, filled by step(); the CLI prints it at the end.
TIMINGS: dict[str, float] = {}


class DevenvError(RuntimeError):
    """A step of the devenv failed; the message says what to do."""


@contextlib.contextmanager
def step(name: str):
    """Log the start and the duration of a (possibly long) step."""
    LOG.info("==> %s ...", name)
    start = time.monotonic()
    try:
        yield
    finally:
        took = time.monotonic() - start
        TIMINGS[name] = TIMINGS.get(name, 0.0) + took
        LOG.info("<== %s done in %.1fs", name, took)


def run(cmd, *, check=True, env=None, input=None, log_name=None,
        timeout=None, quiet=False) -> subprocess.CompletedProcess:
    """Run ``cmd`` (list), capture its output, raise DevenvError on failure.

    With ``log_name`` the output is also appended to <state>/logs/<log_name>.log.
    """
    if not quiet:
        LOG.debug("running: %s", " ".join(map(str, cmd)))
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        res = subprocess.run([str(c) for c in cmd], env=full_env, input=input,
                             capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise DevenvError(f"command not found: {cmd[0]} ({exc})") from exc
    if log_name:
        with open(config.log_path(log_name), "a") as fh:
            fh.write(f"$ {' '.join(map(str, cmd))}\n{res.stdout}{res.stderr}")
    if check and res.returncode != 0:
        tail = (res.stderr or res.stdout or "").strip()[-3000:]
        raise DevenvError(f"command failed ({res.returncode}): "
                          f"{' '.join(map(str, cmd))}\n{tail}")
    return res


def which(name: str, extra_dirs=("/usr/sbin", "/sbin")) -> str | None:
    """shutil.which that also looks in sbin dirs (root's PATH may lack them)."""
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        p = Path(d) / name
        if p.exists() and os.access(p, os.X_OK):
            return str(p)
    return None


def port_open(port: int, host: str = config.HOST, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes] | None:
    """(status, body) of a GET, or None if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, ValueError):
        return None


def wait_for(predicate, what: str, timeout: float = 60.0,
             interval: float = 0.5, proc_alive=None, log_file=None):
    """Poll ``predicate()`` until true; raise DevenvError after ``timeout`` s.

    ``proc_alive`` (callable) lets the wait stop early when the daemon that
    should answer has died; the tail of ``log_file`` goes in the error.
    """
    deadline = time.monotonic() + timeout
    LOG.info("waiting for %s (up to %ds)", what, timeout)
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc_alive is not None and not proc_alive():
            raise DevenvError(f"{what}: the process exited.{_tail(log_file)}")
        time.sleep(interval)
    raise DevenvError(f"timed out after {timeout}s waiting for {what}."
                      f"{_tail(log_file)}")


def _tail(log_file, n: int = 30) -> str:
    if not log_file or not Path(log_file).exists():
        return ""
    lines = Path(log_file).read_text(errors="replace").splitlines()[-n:]
    return f"\nlast lines of {log_file}:\n" + "\n".join(lines)


def port_owner(port: int) -> str:
    """Best-effort description of the process listening on ``port``."""
    ss = which("ss")
    if ss:
        res = run([ss, "-ltnpH", f"sport = :{port}"], check=False, quiet=True)
        if res.stdout.strip():
            return res.stdout.strip().splitlines()[0]
    return "unknown process (install iproute2 for details)"


# ---------------------------------------------------------------- daemons

def read_pid(name: str) -> int | None:
    """The pid in <state>/run/<name>.pid if that process is alive."""
    f = config.pid_path(name)
    try:
        lines = f.read_text().split()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not pid_alive(pid):
        return None
    # The second line is the process start time: a recycled pid (after a
    # reboot, say) belongs to another process and is not ours to signal.
    if len(lines) > 1 and _start_time(pid) not in (None, lines[1]):
        return None
    return pid


def _start_time(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot (/proc/PID/stat)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def start_daemon(name: str, cmd: list, env: dict | None = None,
                 cwd: str | None = None) -> int:
    """Start ``cmd`` detached (own session), output to logs/<name>.log.

    The pid goes to run/<name>.pid; returns it. The process outlives the
    caller; stop it with stop_daemon(name).
    """
    log_file = config.log_path(name)
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(log_file, "a") as out:
        out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: "
                  f"{' '.join(map(str, cmd))}\n")
        out.flush()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=full_env,
                                cwd=cwd, start_new_session=True,
                                close_fds=True)
    config.pid_path(name).write_text(f"{proc.pid}\n{_start_time(proc.pid) or ''}\n")
    LOG.info("started %s (pid %d), log %s", name, proc.pid, log_file)
    return proc.pid


def stop_daemon(name: str, timeout: float = 15.0) -> bool:
    """SIGTERM the process group devenv started as ``name``; SIGKILL after
    ``timeout`` s. Returns True if something was stopped."""
    pid = read_pid(name)
    pidfile = config.pid_path(name)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    LOG.info("stopping %s (pid %d)", name, pid)
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        _reap(pid)
        time.sleep(0.2)
    if pid_alive(pid):
        LOG.warning("%s did not stop in %ss; killing", name, timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)
    _reap(pid)
    pidfile.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    # If this process started the daemon, collect its exit status.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
