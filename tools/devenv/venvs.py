"""The two virtualenvs of the state dir.

* ``venv``: the repository installed editable with its ``[test]`` extras.
* ``openstack-venv``: Keystone, Glance and what runs them (gunicorn,
  PyMySQL, memcache clients).

Each venv keeps a marker file ``.devenv-done`` holding a hash of what was
asked of pip (requirements, repo path, pyproject.toml); an install is
skipped when the marker matches, so a second ``deps`` costs milliseconds.
"""

import hashlib
import logging
from pathlib import Path

from . import config, infra, proc

LOG = logging.getLogger(__name__)

OPENSTACK_REQUIREMENTS = [
    f"keystone=={config.KEYSTONE_VERSION}",
    f"glance=={config.GLANCE_VERSION}",
    "gunicorn==27.0.1",
    "PyMySQL",
    "python-memcached",
    "pymemcache",
]


def repo_root() -> Path:
    """The repository this devenv belongs to (two levels above tools/devenv)."""
    return Path(__file__).resolve().parents[2]


def venv_dir(name: str) -> Path:
    """<state>/<name> (``venv`` or ``openstack-venv``)."""
    return config.path(name)


def bin_path(venv: str, prog: str) -> Path:
    """Path of ``prog`` in venv ``venv``'s bin dir."""
    return venv_dir(venv) / "bin" / prog


def _ensure(name: str, pip_args: list[str], fingerprint: str) -> bool:
    """Create venv ``name`` and pip install ``pip_args`` unless the marker
    says it was done with the same ``fingerprint``. True if work was done."""
    vdir = venv_dir(name)
    marker = vdir / ".devenv-done"
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    if marker.exists() and marker.read_text().strip() == digest and \
            (vdir / "bin" / "python").exists():
        LOG.info("%s is up to date (%s)", name, vdir)
        return False
    if not (vdir / "bin" / "pip").exists():
        LOG.info("creating virtualenv %s", vdir)
        proc.run([infra.base_python(), "-m", "venv", str(vdir)], log_name=f"pip-{name}")
        proc.run([vdir / "bin" / "pip", "install", "-q", "-U", "pip"],
                 log_name=f"pip-{name}", timeout=600)
    LOG.info("pip install into %s: %s (takes a minute or two the first time; "
             "log %s)", name, " ".join(pip_args), config.log_path(f"pip-{name}"))
    proc.run([vdir / "bin" / "pip", "install", *pip_args],
             log_name=f"pip-{name}", timeout=1800)
    marker.write_text(digest + "\n")
    return True


def ensure_openstack_venv() -> bool:
    """Keystone + Glance venv; True if pip ran."""
    return _ensure("openstack-venv", OPENSTACK_REQUIREMENTS,
                   "\n".join(OPENSTACK_REQUIREMENTS))


def ensure_repo_venv() -> bool:
    """Repo venv (``pip install -e 'REPO[test]'``); True if pip ran."""
    root = repo_root()
    pyproject = root / "pyproject.toml"
    fp = f"{root}\n{pyproject.read_text() if pyproject.exists() else ''}"
    return _ensure("venv", ["-e", f"{root}[test]"], fp)
