"""What the deployment of controlplane still has to do (and one fix-up).

Installed by roles/controlplane and run with the controlplane virtualenv's
Python, so that the role only runs `controlplane-manage` steps that have
work to do (a second deployment run changes nothing):

    {"schema": {"api":   {"current": REV|null, "head": REV},
                "cell0": {...}, "cell1": {...}},
     "cells": [uuid, ...],        # cell_mappings (empty if no table yet)
     "cell_current": bool,        # CELL_UUID's transport_url and
                                  # database_connection equal the config's
     "hosts": [host, ...]}        # host_mappings

Usage:
    python controlplane-deploy-status.py CONFIG_FILE CELL0_DB_NAME CELL_UUID
    python controlplane-deploy-status.py CONFIG_FILE --update-cell CELL_UUID

``--update-cell`` sets the cell's transport_url and database_connection to
``[DEFAULT] transport_url`` and ``[database] connection`` of CONFIG_FILE
(through controlplane.db.cells.update_cell_mapping), e.g. after the
RabbitMQ nodes or the database address changed. URLs (with passwords) come
from CONFIG_FILE, never from the command line, and are never printed.
"""
import configparser
import json
import sys

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from controlplane.db import migration


def head(kind):
    cfg = Config()
    cfg.set_main_option("script_location", str(migration.MIGRATIONS / kind))
    return ScriptDirectory.from_config(cfg).get_current_head()


def inspect(url, queries=()):
    """(current revision or None, [rows of each query]) of the database at url;
    a database that does not exist yet has no revision and no rows."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            tables = set(sa.inspect(conn).get_table_names())
            rows = [[r[0] for r in conn.execute(sa.text(q), params)] if table in tables else []
                    for table, q, params in queries]
            return current, rows
    except sa.exc.OperationalError as exc:
        if exc.orig is not None and exc.orig.args and exc.orig.args[0] == 1049:  # unknown database
            return None, [[] for _ in queries]
        raise
    finally:
        engine.dispose()


def update_cell(config_file, cell_uuid):
    """Point cell ``cell_uuid`` at the config's transport_url and database."""
    from controlplane.conf import parse_args
    from controlplane.db import cells as cells_db
    conf = parse_args(["--config-file", config_file], prog="controlplane-deploy-status")
    cells_db.update_cell_mapping(cell_uuid, transport_url=conf.transport_url,
                                 database_connection=conf.database.connection)
    print(json.dumps({"updated": cell_uuid}))
    return 0


def main(argv):
    if argv[2] == "--update-cell":
        return update_cell(argv[1], argv[3])
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(argv[1])
    api_url = conf.get("api_database", "connection")
    cell1_url = conf.get("database", "connection")
    transport_url = conf.get("DEFAULT", "transport_url")
    cell0_url = make_url(cell1_url).set(database=argv[2]).render_as_string(hide_password=False)
    api_cur, (cells, hosts, current) = inspect(api_url, [
        ("cell_mappings", "SELECT uuid FROM cell_mappings", {}),
        ("host_mappings", "SELECT host FROM host_mappings", {}),
        ("cell_mappings", "SELECT transport_url = :t AND database_connection = :d "
                          "FROM cell_mappings WHERE uuid = :u",
         {"t": transport_url, "d": cell1_url, "u": argv[3]})])
    out = {"schema": {"api": {"current": api_cur, "head": head("api")},
                      "cell0": {"current": inspect(cell0_url)[0], "head": head("cell")},
                      "cell1": {"current": inspect(cell1_url)[0], "head": head("cell")}},
           "cells": sorted(cells), "cell_current": bool(current and current[0]),
           "hosts": sorted(hosts)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
