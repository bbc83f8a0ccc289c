"""controlplane-manage argument handling and cells v2 commands (SQLite)."""
import pytest
import sqlalchemy as sa

from controlplane.cmd import manage
from controlplane.db import engine as db_engine
from controlplane.db import services as svc_db
from controlplane.db.engine import CELL0_UUID
from controlplane.db.models_api import ApiBase
from controlplane.db.models_cell import CellBase


@pytest.fixture
def setup(tmp_path, conf):
    api_url = "sqlite:///%s" % (tmp_path / "api.db")
    cell_url = "sqlite:///%s" % (tmp_path / "cell1.db")
    for url, base in ((api_url, ApiBase), (cell_url, CellBase)):
        eng = sa.create_engine(url)
        base.metadata.create_all(eng)
        eng.dispose()
    cfg = tmp_path / "cp.conf"
    cfg.write_text("[DEFAULT]\ntransport_url = rabbit://u:secret@h:5672/v\n"
                   "[database]\nconnection = %s\n[api_database]\nconnection = %s\n"
                   % (cell_url, api_url))
    yield ["--config-file", str(cfg)], cell_url
    db_engine.dispose_all()


def test_help_and_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        manage.main(["--help"])
    assert exc.value.code == 0
    assert "cell_v2" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        manage.main([])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        manage.main(["cell_v2", "bogus"])
    assert exc.value.code == 2


def test_bad_config_file_is_error(tmp_path, capsys, conf):
    assert manage.main(["--config-file", str(tmp_path / "missing.conf"),
                        "cell_v2", "list_cells"]) == 1
    assert "ERROR" in capsys.readouterr().err


def test_url_helpers(conf):
    assert manage.mask_url("rabbit://u:pw@h1:5672,u:pw2@h2:5672/v") == \
        "rabbit://u:****@h1:5672,u:****@h2:5672/v"
    assert manage.mask_url("mysql+pymysql://root@db/x") == "mysql+pymysql://root@db/x"
    conf.set_override("connection", "mysql+pymysql://u:p@db/controlplane", "database")
    assert manage.default_cell0_connection(conf) == \
        "mysql+pymysql://u:p@db/controlplane_cell0"


def test_cells_commands(setup, capsys):
    args, cell_url = setup
    assert manage.main(args + ["cell_v2", "map_cell0", "--database_connection",
                               "sqlite:///c0.db"]) == 0
    assert manage.main(args + ["cell_v2", "map_cell0"]) == 0
    assert "already" in capsys.readouterr().out
    assert manage.main(args + ["cell_v2", "create_cell", "--name", "cell1"]) == 0
    cell_uuid = capsys.readouterr().out.strip().splitlines()[-1]
    # same transport_url + database_connection again: exit 2
    assert manage.main(args + ["cell_v2", "create_cell", "--name", "cellx"]) == 2
    assert manage.main(args + ["cell_v2", "list_cells"]) == 0
    out = capsys.readouterr().out
    assert "cell0" in out and "cell1" in out and "secret" not in out and "****" in out

    eng = db_engine.get_engine(cell_url)
    svc_db.create_or_get_service(eng, "cmp1", svc_db.COMPUTE_BINARY, "compute")
    svc_db.create_or_get_service(eng, "cmp2", svc_db.COMPUTE_BINARY, "compute")
    svc_db.create_or_get_service(eng, "ctl", svc_db.CONDUCTOR_BINARY, "conductor")
    assert manage.main(args + ["cell_v2", "discover_hosts", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "Found 2 unmapped computes" in out
    assert manage.main(args + ["cell_v2", "discover_hosts", "--verbose"]) == 0
    assert "Found 0 unmapped computes" in capsys.readouterr().out
    assert manage.main(args + ["cell_v2", "list_hosts"]) == 0
    out = capsys.readouterr().out
    assert "cmp1" in out and "cmp2" in out and "ctl" not in out and cell_uuid in out
    assert manage.main(args + ["cell_v2", "discover_hosts", "--cell_uuid", "nope"]) == 1

    assert manage.main(args + ["service", "list"]) == 0
    out = capsys.readouterr().out
    assert "controlplane-conductor" in out and "cmp2" in out and " up " in out


def test_cell0_uuid_constant():
    assert CELL0_UUID == "00000000-0000-0000-0000-000000000000"
