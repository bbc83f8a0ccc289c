"""controlplane-manage health checks of the block-storage services:
``service check --binary controlplane-volume`` (every backend of
``enabled_backends``, rows ``host@backend`` of ``volume_services`` in the
API database, here SQLite), ``--binary controlplane-volume-scheduler``, and
``ping volume-scheduler`` (a fake RPC client standing in for RabbitMQ)."""
import time

import pytest
import sqlalchemy as sa

from controlplane import rpc
from controlplane.cmd import manage
from controlplane.db import engine as db_engine
from controlplane.db import volume_services as vs_db
from controlplane.db.models_api import ApiBase
from controlplane.db.models_volume import VolumeService
from tests.unit.backdate import backdate

VOLUME, SCHEDULER = vs_db.VOLUME_BINARY, vs_db.SCHEDULER_BINARY


@pytest.fixture
def setup(tmp_path, conf):
    api_url = "sqlite:///%s" % (tmp_path / "api.db")
    eng = sa.create_engine(api_url)
    ApiBase.metadata.create_all(eng, tables=[VolumeService.__table__])
    cfg = tmp_path / "cp.conf"
    cfg.write_text("[DEFAULT]\nhost = store1\nservice_down_time = 30\n"
                   "enabled_backends = share, fast\n"
                   "transport_url = rabbit://u:p@127.0.0.1:5672/v\n"
                   "[api_database]\nconnection = %s\n"
                   "[database]\nconnection = sqlite://\n" % api_url)
    yield ["--config-file", str(cfg)], eng
    eng.dispose()
    db_engine.dispose_all()


def _age(engine, host, binary, seconds):
    """Move the row's heartbeat ``seconds`` into the past."""
    t = VolumeService.__table__
    backdate(engine, t, seconds, t.c.host == host, t.c.binary == binary)


def _check(args, *extra):
    return manage.main(args + ["service", "check", "--binary"] + list(extra))


def test_volume_check_needs_every_enabled_backend(setup, capsys):
    args, eng = setup
    vs_db.create_or_get_service(eng, "store1@share", VOLUME, "volume.store1@share")
    assert _check(args, "volume") == 1
    assert "no service controlplane-volume on host store1@fast" in capsys.readouterr().err
    vs_db.create_or_get_service(eng, "store1@fast", VOLUME, "volume.store1@fast")
    assert _check(args, "controlplane-volume") == 0
    out = capsys.readouterr().out
    assert "controlplane-volume is up on store1@share" in out and "store1@fast" in out
    # one backend only
    assert _check(args, "volume", "--host", "store1@fast") == 0


def test_volume_check_stale_backend_is_down(setup, capsys):
    args, eng = setup
    for backend in ("share", "fast"):
        vs_db.create_or_get_service(eng, "store1@" + backend, VOLUME)
    _age(eng, "store1@fast", VOLUME, 120)
    assert _check(args, "volume") == 1
    err = capsys.readouterr().err
    assert "store1@fast is down" in err and "service_down_time 30 s" in err
    assert _check(args, "volume", "--host", "store1@share") == 0


def test_volume_check_disabled_is_still_up(setup):
    """A disabled backend takes no new volumes but its process is healthy."""
    args, eng = setup
    for backend in ("share", "fast"):
        vs_db.create_or_get_service(eng, "store1@" + backend, VOLUME)
    vs_db.set_disabled(eng, "store1@share", VOLUME, True, "maintenance")
    assert _check(args, "volume") == 0


def test_volume_check_since(setup, capsys):
    args, eng = setup
    for backend in ("share", "fast"):
        vs_db.create_or_get_service(eng, "store1@" + backend, VOLUME)
        _age(eng, "store1@" + backend, VOLUME, 5)
    assert _check(args, "volume", "--since", str(time.time())) == 1
    assert "has not reported since" in capsys.readouterr().err
    assert _check(args, "volume", "--since", str(time.time() - 60)) == 0


def test_volume_check_other_host(setup, capsys):
    args, eng = setup
    assert _check(args, "volume", "--host", "elsewhere") == 1
    assert "no service controlplane-volume on host elsewhere@share" in capsys.readouterr().err


def test_volume_scheduler_check(setup, capsys):
    args, eng = setup
    assert _check(args, "volume-scheduler") == 1
    assert "no service controlplane-volume-scheduler on host store1" in capsys.readouterr().err
    vs_db.create_or_get_service(eng, "store1", SCHEDULER, "volume-scheduler.store1")
    assert _check(args, "volume-scheduler") == 0
    _age(eng, "store1", SCHEDULER, 120)
    assert _check(args, "controlplane-volume-scheduler") == 1


def test_ping_volume_scheduler(setup, monkeypatch, capsys):
    args, _ = setup
    calls = []

    class Client:
        def __init__(self, transport_url, topic, **kwargs):
            self.topic = topic

        def call(self, ctxt, method, server=None, timeout=None, **kwargs):
            calls.append((self.topic, method, server))
            return "pong"

    monkeypatch.setattr(rpc, "RPCClient", Client)
    monkeypatch.setattr(rpc, "cleanup_transports", lambda: None)
    assert manage.main(args + ["ping", "volume-scheduler", "--timeout", "3"]) == 0
    assert calls == [("volume-scheduler", "ping", "store1")]
    assert "pong from volume-scheduler.store1" in capsys.readouterr().out
