"""Fixtures shared by every test package.

* ``conf``: the process-wide CONF parsed with no config file, overrides
  cleared after the test.
* ``mysql_server_url``: ``mysql+pymysql://root@127.0.0.1`` (or
  ``$CONTROLPLANE_TEST_MYSQL``); the integration tests need a real MariaDB.
* ``api_db`` / ``cell_db``: fresh databases migrated with Alembic, set as
  ``[api_database] connection`` / ``[database] connection``, dropped after.
* ``rabbit_url``: a fresh RabbitMQ vhost on 127.0.0.1:5672 (or
  ``$CONTROLPLANE_TEST_RABBIT`` host:port) for this test, deleted after.
"""
import logging
import os
import shutil
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from controlplane.conf import CONF

MYSQL = os.environ.get("CONTROLPLANE_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1")
RABBIT = os.environ.get("CONTROLPLANE_TEST_RABBIT", "guest:guest@127.0.0.1:5672")

# A service thread of a test (pika's I/O loop, a heartbeat) may still log
# after pytest closed the stream it captured for that test; logging would
# then print a "--- Logging error ---" traceback that says nothing about any
# test and buries real failures in CI's output.
logging.raiseExceptions = False


def _parse_conf():
    CONF([], project="controlplane", default_config_files=[])


@pytest.fixture
def conf():
    _parse_conf()
    yield CONF
    CONF.reset()


@pytest.fixture(scope="session")
def mysql_server_url():
    engine = sa.create_engine(MYSQL + "/", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - environment problem
        pytest.fail("MariaDB is not reachable at %s: %s (run `make deps`)" % (MYSQL, exc))
    finally:
        engine.dispose()
    return MYSQL


def _make_db(server_url, kind, prefix):
    from controlplane.db import migration
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:10])
    url = "%s/%s" % (server_url, name)
    migration.db_sync(url, kind)
    return name, url


def _drop_db(server_url, name):
    from controlplane.db import engine as db_engine
    db_engine.dispose_all()
    engine = sa.create_engine(server_url + "/", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS `%s`" % name))
    engine.dispose()


@pytest.fixture
def api_db(conf, mysql_server_url):
    """A migrated API database; yields its URL."""
    name, url = _make_db(mysql_server_url, "api", "t_api")
    conf.set_override("connection", url, "api_database")
    yield url
    _drop_db(mysql_server_url, name)


@pytest.fixture
def cell_db(conf, mysql_server_url):
    """A migrated cell database used as ``[database] connection``; yields its URL."""
    name, url = _make_db(mysql_server_url, "cell", "t_cell")
    conf.set_override("connection", url, "database")
    yield url
    _drop_db(mysql_server_url, name)


def _rabbitmqctl(*args):
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        pytest.fail("rabbitmqctl not found: RabbitMQ must run on this machine (make deps)")
    subprocess.run([exe, "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def rabbit_url(conf):
    """A transport_url on a fresh vhost, set as ``[DEFAULT] transport_url``."""
    vhost = "t_" + uuid.uuid4().hex[:10]
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    url = "rabbit://%s/%s" % (RABBIT, vhost)
    conf.set_override("transport_url", url)
    yield url
    try:
        _rabbitmqctl("delete_vhost", vhost)
    except subprocess.CalledProcessError:
        pass
