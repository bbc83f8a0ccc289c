"""Schema migrations with Alembic: ``controlplane-manage db sync``.

Two independent migration trees live in ``controlplane/db/migrations``:
``api`` for the API database and ``cell`` for cell0 and every cell
database. Source of the layout: Nova's ``nova-manage api_db sync`` and
``db sync``.
"""
import logging
import pathlib

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
import sqlalchemy as sa
from sqlalchemy.engine import make_url

LOG = logging.getLogger(__name__)

MIGRATIONS = pathlib.Path(__file__).parent / "migrations"
KINDS = ("api", "cell")


def _config(url, kind):
    if kind not in KINDS:
        raise ValueError("kind must be one of %s, not %r" % (KINDS, kind))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS / kind))
    cfg.attributes["connection_url"] = url
    return cfg


def create_database(url):
    """Create the database named in ``url`` if it does not exist (MySQL only).

    :raises sqlalchemy.exc.OperationalError: the server is unreachable or
        the user may not create databases.
    """
    u = make_url(url)
    if not u.drivername.startswith("mysql") or not u.database:
        return
    server = sa.create_engine(u.set(database=""), poolclass=sa.pool.NullPool)
    with server.connect() as conn:
        conn.execute(sa.text(
            "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_general_ci" % u.database.replace("`", "")))
    server.dispose()


def db_sync(url, kind, revision="head"):
    """Create the database if needed and upgrade its schema to ``revision``.

    :param url: SQLAlchemy URL, e.g. ``mysql+pymysql://u:p@host/controlplane_api``.
    :param kind: ``"api"`` or ``"cell"``.
    Idempotent: a database already at ``revision`` is left alone.
    """
    create_database(url)
    LOG.info("Upgrading %s database %s to %s", kind,
             make_url(url).render_as_string(hide_password=True), revision)
    command.upgrade(_config(url, kind), revision)


def db_version(url):
    """Current Alembic revision of the database at ``url`` (None if unversioned)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
