"""Throw-away MariaDB databases for the scheduler integration tests
(created with ``metadata.create_all``; names start with ``test_scheduler_``)."""
import contextlib
import uuid

import sqlalchemy as sa

from controlplane.db import engine as db_engine
from controlplane.db import models_api, models_cell


@contextlib.contextmanager
def temp_database(server_url, kind):
    """Yield the URL of a fresh ``api`` or ``cell`` database; drop it after."""
    name = "test_scheduler_%s_%s" % (kind, uuid.uuid4().hex[:10])
    admin = sa.create_engine(server_url + "/", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE `%s` CHARACTER SET utf8mb4" % name))
    url = "%s/%s" % (server_url, name)
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    base = models_api.ApiBase if kind == "api" else models_cell.CellBase
    base.metadata.create_all(eng)
    eng.dispose()
    try:
        yield url
    finally:
        db_engine.dispose_all()
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS `%s`" % name))
        admin.dispose()
