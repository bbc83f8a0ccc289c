"""Fixed facts of the development environment: paths, ports, names, secrets.

Everything the devenv creates lives under one *state dir*
(``/var/lib/controlplane-dev`` unless ``CONTROLPLANE_DEV_DIR`` says
otherwise)::

    <state>/venv              repo installed editable with its [test] extras
    <state>/openstack-venv    keystone, glance, gunicorn, PyMySQL, memcache libs
    <state>/secrets/<name>    generated passwords, mode 0600
    <state>/etc/{keystone,glance}/   generated service configuration
    <state>/keystone/ <state>/glance/   key repositories, image store, markers
    <state>/run/*.pid         pid files of the processes devenv started
    <state>/logs/*.log        one log per process plus devenv.log
    <state>/clouds.yaml       clouds admin, demo, alt_demo, reader
    <state>/devenv.json       every URL, credential and DB URL (see outputs.py)
"""

import os
import secrets as _secrets
import string as _string
from pathlib import Path

DEFAULT_STATE_DIR = "/var/lib/controlplane-dev"

#: Characters of generated secrets (see secret()).
_SECRET_CHARS = _string.ascii_letters + _string.digits

HOST = "127.0.0.1"
MARIADB_PORT = 3306
RABBIT_PORT = 5672
MEMCACHED_PORT = 11211
KEYSTONE_PORT = 5000
GLANCE_PORT = 9292
COMPUTE_PORT = 8774
VOLUME_PORT = 8776

KEYSTONE_URL = f"http://{HOST}:{KEYSTONE_PORT}/v3"
GLANCE_URL = f"http://{HOST}:{GLANCE_PORT}"
COMPUTE_URL = f"http://{HOST}:{COMPUTE_PORT}/v2.1"
# Block Storage v3 as Cinder registers it: the project id in the path.
VOLUME_URL = f"http://{HOST}:{VOLUME_PORT}/v3/%(project_id)s"
REGION = "RegionOne"
DOMAIN = "Default"

KEYSTONE_VERSION = "30.0.0"
GLANCE_VERSION = "33.0.0"

# Root access to MariaDB: the house contract is root without password on TCP.
DB_ROOT_USER = os.environ.get("CONTROLPLANE_DEV_DB_ROOT_USER", "root")
DB_ROOT_PASSWORD = os.environ.get("CONTROLPLANE_DEV_DB_ROOT_PASSWORD", "")
RABBIT_USER = os.environ.get("CONTROLPLANE_DEV_RABBIT_USER", "guest")
RABBIT_PASSWORD = os.environ.get("CONTROLPLANE_DEV_RABBIT_PASSWORD", "guest")

# Keystone users created by devenv: name -> (project, role).
PROJECT_USERS = {
    "demo": ("demo", "member"),
    "alt_demo": ("alt_demo", "member"),
    "reader": ("demo", "reader"),
}
SERVICE_PROJECT = "service"
SERVICE_USERS = ("controlplane", "glance")
SERVICE_USER_ROLES = ("admin", "service")


def state_dir() -> Path:
    """The state dir: ``$CONTROLPLANE_DEV_DIR`` or /var/lib/controlplane-dev."""
    return Path(os.environ.get("CONTROLPLANE_DEV_DIR") or DEFAULT_STATE_DIR)


def path(*parts: str) -> Path:
    """A path under the state dir (not created)."""
    return state_dir().joinpath(*parts)


def ensure_dir(p: Path, mode: int = 0o755) -> Path:
    """Create directory ``p`` (and parents) if missing; return it."""
    p.mkdir(parents=True, exist_ok=True, mode=mode)
    return p


def log_path(name: str) -> Path:
    """``<state>/logs/<name>.log``; the logs dir is created."""
    return ensure_dir(path("logs")) / f"{name}.log"


def pid_path(name: str) -> Path:
    """``<state>/run/<name>.pid``; the run dir is created."""
    return ensure_dir(path("run")) / f"{name}.pid"


def secret(name: str) -> str:
    """Return the secret ``name``, generating it on first use.

    Secrets are stored one per file in ``<state>/secrets/<name>`` with mode
    0600 (the dir is 0700); they are random strings of 32 letters and
    digits and never leave the state dir except through devenv.json,
    clouds.yaml and the generated service configs (all 0600).
    """
    d = ensure_dir(path("secrets"), 0o700)
    os.chmod(d, 0o700)
    f = d / name
    if f.exists():
        value = f.read_text().strip()
        if value:
            return value
    # Letters and digits only: a value starting with "-" would read as an
    # option to the command lines it is passed to (keystone-manage bootstrap).
    value = "".join(_secrets.choice(_SECRET_CHARS) for _ in range(32))
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.chmod(f, 0o600)
    return value


def write_private(p: Path, text: str) -> bool:
    """Write ``text`` to ``p`` with mode 0600 if it differs; True if changed."""
    ensure_dir(p.parent)
    if p.exists() and p.read_text() == text:
        os.chmod(p, 0o600)
        return False
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(p, 0o600)
    return True
