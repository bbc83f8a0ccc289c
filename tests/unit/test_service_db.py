"""controlplane.db.services on SQLite: registration, heartbeat, liveness."""
import datetime

import pytest

from controlplane.db import services as svc_db


def test_create_or_get_is_idempotent(engine):
    a = svc_db.create_or_get_service(engine, "h1", svc_db.COMPUTE_BINARY, "compute")
    b = svc_db.create_or_get_service(engine, "h1", svc_db.COMPUTE_BINARY, "compute")
    assert a["uuid"] == b["uuid"] and a["id"] == b["id"]
    svc_db.create_or_get_service(engine, "h1", svc_db.CONDUCTOR_BINARY, "conductor")
    assert len(svc_db.list_services(engine)) == 2
    assert len(svc_db.list_services(engine, binary=svc_db.COMPUTE_BINARY)) == 1
    assert svc_db.list_services(engine, host="h2") == []


def test_heartbeat_and_is_up(engine, conf):
    s = svc_db.create_or_get_service(engine, "h1", svc_db.COMPUTE_BINARY)
    s2 = svc_db.heartbeat(engine, s["uuid"])
    assert s2["report_count"] == 1 and svc_db.is_up(s2)
    stale = dict(s2, last_seen_up=svc_db.utcnow() - datetime.timedelta(
        seconds=conf.service_down_time + 5))
    assert not svc_db.is_up(stale)
    forced = svc_db.update_service(engine, s["uuid"], {"forced_down": True})
    assert forced["up"] is False
    svc_db.delete_service(engine, s["id"])
    with pytest.raises(svc_db.ServiceNotFound):
        svc_db.heartbeat(engine, s["uuid"])
    with pytest.raises(svc_db.ServiceNotFound):
        svc_db.get_service(engine, s["uuid"])


def test_update_service(engine):
    s = svc_db.create_or_get_service(engine, "h1", svc_db.COMPUTE_BINARY)
    row = svc_db.update_service(engine, s["uuid"], {"disabled": True,
                                                   "disabled_reason": "maintenance"})
    assert row["disabled"] and row["disabled_reason"] == "maintenance"
    assert svc_db.get_service(engine, str(s["id"]))["disabled"]
    with pytest.raises(ValueError):
        svc_db.update_service(engine, s["uuid"], {"host": "x"})
    with pytest.raises(svc_db.ServiceNotFound):
        svc_db.update_service(engine, "nope", {"disabled": False})
