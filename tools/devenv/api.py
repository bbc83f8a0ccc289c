"""The devenv's operations: deps, keystone, glance, up, down, status,
and ``ensure_up`` for tests.

Each operation is idempotent: it only does what is not done yet, so a
second ``up`` takes a few seconds and ``ensure_up`` returns in
milliseconds when everything already runs. Concurrent callers (parallel
test sessions) serialise on the flock <state>/devenv.lock.
"""

import contextlib
import fcntl
import logging

from . import (config, glance, infra, keystone, keystone_resources, outputs,
               proc, venvs)

LOG = logging.getLogger(__name__)


@contextlib.contextmanager
def _locked():
    config.ensure_dir(config.state_dir())
    with open(config.path("devenv.lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def deps(repo_venv: bool = True) -> None:
    """Install missing Debian packages, start the shared servers that do not
    answer, create openstack-venv and (if ``repo_venv``) the repo venv."""
    with proc.step("debian packages"):
        pkgs = infra.missing_packages(infra.base_python())
        if pkgs:
            infra.apt_install(pkgs)
        else:
            LOG.info("all needed Debian packages are present or their servers answer")
    with proc.step("shared servers (mariadb, rabbitmq, memcached)"):
        for name, state in infra.ensure_services().items():
            LOG.info("%s: %s", name, state)
    with proc.step("openstack-venv (keystone, glance, gunicorn)"):
        venvs.ensure_openstack_venv()
    if repo_venv:
        with proc.step("venv (repo editable with [test] extras)"):
            venvs.ensure_repo_venv()


def _memcached() -> bool:
    return proc.port_open(config.MEMCACHED_PORT)


def setup_keystone() -> dict:
    """Keystone DB/conf/keys/bootstrap, server, projects/users/catalog.
    Returns {"projects": {...}, "users": {...}} (Keystone ids)."""
    with proc.step("keystone setup (db, conf, keystone-manage)"):
        changed = keystone.setup(_memcached())
    with proc.step("keystone server"):
        LOG.info("keystone: %s", keystone.ensure_running(restart=changed))
    with proc.step("keystone projects, users, roles, catalog"):
        resources = keystone_resources.ensure_resources()
    _write_outputs(resources=resources)
    return resources


def setup_glance() -> dict:
    """Glance DB/conf/db_sync, server, images. Returns {image name: id}."""
    with proc.step("glance setup (db, conf, glance-manage)"):
        changed = glance.setup(_memcached())
    with proc.step("glance server"):
        LOG.info("glance: %s", glance.ensure_running(restart=changed))
    with proc.step("glance images"):
        images = glance.ensure_images()
    _write_outputs(images=images)
    return images


def _write_outputs(resources: dict | None = None, images: dict | None = None) -> dict:
    old = outputs.load() or {}
    if resources is None:
        resources = {"projects": old.get("projects", {}), "users": old.get("users", {})}
    if images is None:
        images = old.get("images", {})
    info = outputs.build_info(resources, images, _memcached())
    outputs.write_all(info)
    return info


def up(repo_venv: bool = True) -> dict:
    """deps + keystone + glance; returns the devenv.json content."""
    with _locked():
        return _up(repo_venv)


def _up(repo_venv: bool) -> dict:
    deps(repo_venv=repo_venv)
    resources = setup_keystone()
    images = setup_glance()
    return _write_outputs(resources, images)


def down() -> list[str]:
    """Stop Keystone and Glance (only these; the shared servers stay up).
    Returns the names that were stopped."""
    stopped = []
    for name in (glance.NAME, keystone.NAME):
        if proc.stop_daemon(name):
            stopped.append(name)
    return stopped


def status() -> dict:
    """{component: description} for every piece of the devenv."""
    st = {}
    for name, (port, _pkg, _bin) in infra.SERVICES.items():
        st[name] = f"{'answering' if proc.port_open(port) else 'DOWN'} on port {port}"
    for mod, port in ((keystone, config.KEYSTONE_PORT), (glance, config.GLANCE_PORT)):
        pid = proc.read_pid(mod.NAME)
        health = "answering" if mod.healthy() else "NOT answering"
        st[mod.NAME] = (f"{health} on port {port}, "
                        + (f"pid {pid}" if pid else "not started by devenv"))
    for v in ("venv", "openstack-venv"):
        done = (venvs.venv_dir(v) / ".devenv-done").exists()
        st[v] = f"{'ready' if done else 'MISSING'} at {venvs.venv_dir(v)}"
    info = outputs.load()
    st["devenv.json"] = (str(config.path("devenv.json")) if info else "MISSING")
    st["images"] = ", ".join(f"{k}={v}" for k, v in (info or {}).get("images", {}).items()) or "none"
    return st


def is_up() -> dict | None:
    """The devenv.json content if everything answers (cheap checks only:
    TCP to MariaDB/RabbitMQ, HTTP to Keystone/Glance), else None."""
    info = outputs.load()
    if not info or not info.get("images") or len(info["images"]) < len(glance.IMAGES):
        return None
    if not (proc.port_open(config.MARIADB_PORT) and proc.port_open(config.RABBIT_PORT)):
        return None
    if not (proc.read_pid(keystone.NAME) and proc.read_pid(glance.NAME)):
        return None
    if not (keystone.healthy() and glance.healthy()):
        return None
    return info


def ensure_up(repo_venv: bool = False) -> dict:
    """Make sure the devenv runs; return the devenv.json content.

    Fast (milliseconds) when everything already answers; otherwise runs
    ``up`` which does only the missing steps (the first run on a fresh
    machine takes a few minutes: apt, pip). The repo venv is skipped unless
    ``repo_venv`` (tests run from a venv of their own). Raises
    proc.DevenvError with an explanation when something cannot be started.
    """
    info = is_up()
    if info:
        return info
    with _locked():
        info = is_up()  # another process may have finished meanwhile
        if info:
            return info
        return _up(repo_venv)
