"""SQL as MariaDB root through the ``mariadb`` command line client.

The devenv uses the CLI (not PyMySQL) so that it runs with a bare python3.
"""

import logging
import re

from . import config, proc

LOG = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def client() -> str:
    """Path of the mariadb (or mysql) client; DevenvError if neither."""
    c = proc.which("mariadb") or proc.which("mysql")
    if not c:
        raise proc.DevenvError("no mariadb client: run `python3 -m tools.devenv deps`")
    return c


def execute(sql: str, *, socket: bool = False, check: bool = True):
    """Run ``sql`` as root; returns CompletedProcess (stdout is tab-separated).

    By default over TCP 127.0.0.1:3306 with the root credentials of
    config; ``socket=True`` uses the local unix socket (OS root), which a
    fresh Debian install accepts before TCP root login is set up.
    """
    cmd = [client(), "-N", "-B", "-u", config.DB_ROOT_USER]
    if not socket:
        cmd += ["--protocol=TCP", "-h", config.HOST, "-P", str(config.MARIADB_PORT)]
    env = {"MYSQL_PWD": config.DB_ROOT_PASSWORD} if config.DB_ROOT_PASSWORD and not socket else None
    return proc.run(cmd + ["-e", sql], env=env, check=check, quiet=True)


def root_tcp_works() -> bool:
    """True if root can log in over TCP with the configured password."""
    return execute("SELECT 1", check=False).returncode == 0


def root_url() -> str:
    """SQLAlchemy URL of MariaDB root (no database)."""
    pw = f":{config.DB_ROOT_PASSWORD}" if config.DB_ROOT_PASSWORD else ""
    return f"mysql+pymysql://{config.DB_ROOT_USER}{pw}@{config.HOST}:{config.MARIADB_PORT}/"


def ensure_database(db: str, user: str, password: str) -> str:
    """Create database ``db`` and user ``user`` (localhost and 127.0.0.1)
    with all rights on it and password ``password`` (reset every call, so
    the secret file is the truth). Returns the SQLAlchemy URL."""
    for n in (db, user):
        if not _NAME.match(n):
            raise ValueError(f"bad SQL identifier {n!r}")
    if "'" in password or "\\" in password:
        raise ValueError("password must not contain quotes or backslashes")
    stmts = [f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4"]
    for host in ("localhost", "127.0.0.1"):
        stmts += [
            f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}'",
            f"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}'",
            f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{user}'@'{host}'",
        ]
    execute("; ".join(stmts))
    LOG.info("database %s and user %s ready", db, user)
    return (f"mysql+pymysql://{user}:{password}@{config.HOST}:"
            f"{config.MARIADB_PORT}/{db}?charset=utf8mb4")
