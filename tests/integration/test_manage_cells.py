"""controlplane-manage against a real MariaDB: db sync creates and
migrates API, cell0 and cell1 databases; cells v2 setup; discover_hosts."""
import subprocess
import sys
import uuid as uuidlib

import pytest
import sqlalchemy as sa

from controlplane.cmd import manage
from controlplane.db import engine as db_engine
from controlplane.db import migration
from controlplane.db import services as svc_db

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(tmp_path, conf, mysql_server_url):
    prefix = "t_manage_%s" % uuidlib.uuid4().hex[:8]
    api = "%s/%s_api" % (mysql_server_url, prefix)
    cell1 = "%s/%s" % (mysql_server_url, prefix)
    cfg = tmp_path / "controlplane.conf"
    cfg.write_text("[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/\n"
                   "[database]\nconnection = %s\n[api_database]\nconnection = %s\n"
                   % (cell1, api))
    yield ["--config-file", str(cfg)], api, cell1
    db_engine.dispose_all()
    eng = sa.create_engine(mysql_server_url + "/", poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        for name in (prefix + "_api", prefix, prefix + "_cell0"):
            conn.execute(sa.text("DROP DATABASE IF EXISTS `%s`" % name))
    eng.dispose()


def test_full_cells_setup(setup, capsys):
    args, api, cell1 = setup
    assert manage.main(args + ["db", "sync"]) == 0
    out = capsys.readouterr().out
    assert "API database synced" in out and "_cell0" in out
    assert migration.db_version(api) is not None
    assert migration.db_version(cell1 + "_cell0") is not None
    assert manage.main(args + ["db", "sync"]) == 0          # idempotent
    assert manage.main(args + ["cell_v2", "map_cell0"]) == 0
    assert manage.main(args + ["cell_v2", "create_cell", "--name", "cell1"]) == 0
    assert manage.main(args + ["cell_v2", "create_cell", "--name", "cell1"]) == 2
    capsys.readouterr()
    assert manage.main(args + ["cell_v2", "list_cells"]) == 0
    out = capsys.readouterr().out
    assert "cell0" in out and "cell1" in out and "guest:****@" in out

    engine = db_engine.get_engine(cell1)
    svc_db.create_or_get_service(engine, "cmp-a", svc_db.COMPUTE_BINARY, "compute")
    assert manage.main(args + ["cell_v2", "discover_hosts", "--verbose"]) == 0
    assert "Found 1 unmapped computes" in capsys.readouterr().out
    assert manage.main(args + ["cell_v2", "discover_hosts", "--verbose"]) == 0
    assert "Found 0 unmapped computes" in capsys.readouterr().out
    assert manage.main(args + ["service", "list"]) == 0
    assert "cmp-a" in capsys.readouterr().out


def test_console_script_help_and_errors(setup):
    args, _, _ = setup
    res = subprocess.run([sys.executable, "-m", "controlplane.cmd.manage", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "discover" not in res.stderr and "cell_v2" in res.stdout
    # API DB not synced yet: a clear error and exit 1, no traceback
    res = subprocess.run([sys.executable, "-m", "controlplane.cmd.manage", *args,
                          "cell_v2", "list_cells"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 1 and res.stderr.startswith("ERROR:")
    assert "Traceback" not in res.stderr
