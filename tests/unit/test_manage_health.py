"""controlplane-manage health checks: ``service check`` (SQLite cell DB)
and ``ping`` (a fake RPC client standing in for RabbitMQ)."""
import datetime
import time

import pytest
import sqlalchemy as sa

from controlplane import rpc
from controlplane.cmd import manage
from controlplane.db import engine as db_engine
from controlplane.db import services as svc_db
from controlplane.db.models_cell import CellBase, Service


@pytest.fixture
def setup(tmp_path, conf):
    cell_url = "sqlite:///%s" % (tmp_path / "cell1.db")
    eng = sa.create_engine(cell_url)
    CellBase.metadata.create_all(eng)
    cfg = tmp_path / "cp.conf"
    cfg.write_text("[DEFAULT]\nhost = node7\nservice_down_time = 30\n"
                   "transport_url = rabbit://u:p@127.0.0.1:5672/v\n"
                   "[database]\nconnection = %s\n" % cell_url)
    yield ["--config-file", str(cfg)], eng
    eng.dispose()
    db_engine.dispose_all()


def _age(engine, host, binary, seconds):
    """Move the row's heartbeat ``seconds`` into the past."""
    when = svc_db.utcnow() - datetime.timedelta(seconds=seconds)
    with engine.begin() as conn:
        conn.execute(sa.update(Service.__table__)
                     .where(Service.__table__.c.host == host,
                            Service.__table__.c.binary == binary)
                     .values(last_seen_up=when))


def test_service_check_fresh_heartbeat(setup, capsys):
    args, eng = setup
    svc_db.create_or_get_service(eng, "node7", "controlplane-compute", "compute")
    assert manage.main(args + ["service", "check", "--binary", "compute"]) == 0
    assert "controlplane-compute on node7 is up" in capsys.readouterr().out
    # the full binary name and an explicit host work the same
    assert manage.main(args + ["service", "check", "--binary", "controlplane-compute",
                               "--host", "node7"]) == 0


def test_service_check_stale_heartbeat_is_down(setup, capsys):
    args, eng = setup
    svc_db.create_or_get_service(eng, "node7", "controlplane-compute", "compute")
    _age(eng, "node7", "controlplane-compute", 120)
    assert manage.main(args + ["service", "check", "--binary", "compute"]) == 1
    err = capsys.readouterr().err
    assert "is down" in err and "service_down_time 30 s" in err


def test_service_check_forced_down_and_missing(setup, capsys):
    args, eng = setup
    row = svc_db.create_or_get_service(eng, "node7", "controlplane-conductor", "conductor")
    svc_db.update_service(eng, row["id"], {"forced_down": True})
    assert manage.main(args + ["service", "check", "--binary", "conductor"]) == 1
    assert "forced down" in capsys.readouterr().err
    assert manage.main(args + ["service", "check", "--binary", "compute",
                               "--host", "elsewhere"]) == 1
    assert "no service controlplane-compute on host elsewhere" in capsys.readouterr().err


def test_service_check_since(setup, capsys):
    args, eng = setup
    svc_db.create_or_get_service(eng, "node7", "controlplane-compute", "compute")
    _age(eng, "node7", "controlplane-compute", 5)
    # fresh (5 s < 30 s) but older than a process started just now
    assert manage.main(args + ["service", "check", "--binary", "compute",
                               "--since", str(time.time())]) == 1
    assert "has not reported since" in capsys.readouterr().err
    assert manage.main(args + ["service", "check", "--binary", "compute",
                               "--since", str(time.time() - 60)]) == 0


def test_service_check_requires_binary(setup):
    args, _ = setup
    with pytest.raises(SystemExit) as exc:
        manage.main(args + ["service", "check"])
    assert exc.value.code == 2


class FakeClient:
    """Records RPCClient construction and calls; answers with ``result``
    or raises ``error``."""
    calls = []
    result = "pong"
    error = None

    def __init__(self, transport_url, topic, **kwargs):
        self.transport_url = transport_url
        self.topic = topic

    def call(self, ctxt, method, server=None, timeout=None, **kwargs):
        FakeClient.calls.append({"url": self.transport_url, "topic": self.topic,
                                 "method": method, "server": server, "timeout": timeout})
        if FakeClient.error is not None:
            raise FakeClient.error
        return FakeClient.result


@pytest.fixture
def fake_rpc(monkeypatch):
    FakeClient.calls = []
    FakeClient.result = "pong"
    FakeClient.error = None
    monkeypatch.setattr(rpc, "RPCClient", FakeClient)
    monkeypatch.setattr(rpc, "cleanup_transports", lambda: None)
    return FakeClient


def test_ping_targets_this_hosts_server_queue(setup, fake_rpc, capsys):
    args, _ = setup
    assert manage.main(args + ["ping", "conductor", "--timeout", "3"]) == 0
    assert "pong from conductor.node7" in capsys.readouterr().out
    call = fake_rpc.calls[-1]
    assert call == {"url": "rabbit://u:p@127.0.0.1:5672/v", "topic": "conductor",
                    "method": "ping", "server": "node7", "timeout": 3.0}
    assert manage.main(args + ["ping", "scheduler", "--host", "ctl2"]) == 0
    assert fake_rpc.calls[-1]["topic"] == "scheduler"
    assert fake_rpc.calls[-1]["server"] == "ctl2"
    assert fake_rpc.calls[-1]["timeout"] == 10.0
    assert manage.main(args + ["ping", "scheduler", "--any"]) == 0
    assert fake_rpc.calls[-1]["server"] is None


@pytest.mark.parametrize("error, text", [
    (rpc.MessagingTimeout("Timed out after 3.0 s"), "no reply from conductor.node7"),
    (rpc.MessageUndeliverable("controlplane", "conductor.node7"), "no queue conductor.node7"),
    (rpc.MessagingConnectionError("broker down"), "ping of conductor.node7 failed"),
])
def test_ping_failures_exit_1(setup, fake_rpc, capsys, error, text):
    args, _ = setup
    fake_rpc.error = error
    assert manage.main(args + ["ping", "conductor"]) == 1
    assert text in capsys.readouterr().err


def test_ping_wrong_answer_and_usage(setup, fake_rpc, capsys):
    args, _ = setup
    fake_rpc.result = "hello"
    assert manage.main(args + ["ping", "conductor"]) == 1
    assert "instead of 'pong'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        manage.main(args + ["ping", "compute"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        manage.main(args + ["ping", "conductor", "--any", "--host", "x"])
    assert exc.value.code == 2
