"""VolumeManager.complete_stale_deletes: volumes of this backend left in
``deleting`` (their delete_volume lost, or failed and acked anyway) are
deleted by the periodic task once older than
``volume_stale_delete_seconds``; the API database on SQLite, the fake
driver (recording its deletes)."""
import pytest
import sqlalchemy as sa

from controlplane.db import engine as db_engine
from controlplane.db import volumes as db_volumes
from controlplane.db.models_api import ApiBase
from controlplane.volume import manager as volume_manager
from controlplane.volume.drivers.fake import FakeDriver
from tests.unit.backdate import backdate

HOST, BACKEND = "vh1", "fast"


class RecordingDriver(FakeDriver):
    """The fake driver recording deletes; fails those of ids in ``fail``."""

    def __init__(self, *args):
        super().__init__(*args)
        self.deleted = []
        self.fail = set()

    def delete_volume(self, volume):
        self.deleted.append(volume["id"])
        if volume["id"] in self.fail:
            raise RuntimeError("share unmounted")
        super().delete_volume(volume)


@pytest.fixture
def mgr(tmp_path, conf):
    eng = sa.create_engine("sqlite:///%s" % (tmp_path / "api.db"))
    ApiBase.metadata.create_all(eng)
    from controlplane.conf import volume as volume_conf
    driver = RecordingDriver(BACKEND, volume_conf.backend_conf(conf, BACKEND), HOST)
    m = volume_manager.VolumeManager(BACKEND, host=HOST, engine=eng, driver=driver)
    yield m
    eng.dispose()
    db_engine.dispose_all()


def _volume(mgr, vid, status, age=0, host=HOST + "@" + BACKEND + "#pool0"):
    """A volume on ``host`` last updated ``age`` seconds ago."""
    db_volumes.create_volume(mgr.engine, {"id": vid, "project_id": "p", "size": 1,
                                          "status": status, "host": host})
    backdate(mgr.engine, db_volumes._t, age, db_volumes._t.c.id == vid)


def _get(mgr, vid):
    return db_volumes.get_volume(mgr.engine, vid, read_deleted="yes")


def test_old_deleting_volume_is_deleted_fresh_one_left(mgr, conf):
    _volume(mgr, "old", "deleting", age=120)
    _volume(mgr, "fresh", "deleting", age=10)
    assert mgr.complete_stale_deletes() == ["old"]
    assert mgr.driver.deleted == ["old"]
    old = _get(mgr, "old")
    assert old["deleted"] and old["status"] == "deleted"
    fresh = _get(mgr, "fresh")
    assert not fresh["deleted"] and fresh["status"] == "deleting"
    # a redelivered or late delete_volume is then a no-op
    mgr.delete_volume(None, "old")
    assert mgr.driver.deleted == ["old"]
    conf.set_override("volume_stale_delete_seconds", 5)
    assert mgr.complete_stale_deletes() == ["fresh"]
    assert _get(mgr, "fresh")["deleted"]


def test_other_statuses_and_backends_untouched(mgr):
    for vid, status in [("avail", "available"), ("inuse", "in-use"),
                        ("creating", "creating"), ("errdel", "error_deleting"),
                        ("extending", "extending")]:
        _volume(mgr, vid, status, age=3600)
    _volume(mgr, "elsewhere", "deleting", age=3600, host="vh2@fast#pool0")
    _volume(mgr, "other-backend", "deleting", age=3600, host=HOST + "@slow#pool0")
    assert mgr.complete_stale_deletes() == []
    assert mgr.driver.deleted == []
    for vid, status in [("avail", "available"), ("inuse", "in-use"),
                        ("creating", "creating"), ("errdel", "error_deleting"),
                        ("extending", "extending"), ("elsewhere", "deleting"),
                        ("other-backend", "deleting")]:
        vol = _get(mgr, vid)
        assert not vol["deleted"] and vol["status"] == status, vid


def test_driver_failure_does_not_stop_the_next(mgr, caplog):
    _volume(mgr, "bad", "deleting", age=600)
    _volume(mgr, "good", "deleting", age=600)
    mgr.driver.fail.add("bad")
    with caplog.at_level("WARNING", logger="controlplane.stale_deletes"):
        mgr.complete_stale_deletes()
    assert mgr.driver.deleted == ["bad", "good"]
    assert _get(mgr, "bad")["status"] == "error_deleting"   # as a failed delete_volume
    assert _get(mgr, "good")["deleted"]
    warned = [r.getMessage() for r in caplog.records  # not other threads' lines
              if r.name == "controlplane.stale_deletes" and r.levelname == "WARNING"]
    assert len(warned) == 2 and all("completing a delete" in m for m in warned)


def test_exception_does_not_stop_the_next(mgr, monkeypatch, caplog):
    _volume(mgr, "bad", "deleting", age=600)
    _volume(mgr, "good", "deleting", age=600)
    real = volume_manager.db_snapshots.list_snapshots

    def flaky(engine, filters=None, **kw):
        if (filters or {}).get("volume_id") == "bad":
            raise RuntimeError("galera down")
        return real(engine, filters=filters, **kw)
    monkeypatch.setattr(volume_manager.db_snapshots, "list_snapshots", flaky)
    with caplog.at_level("WARNING", logger="controlplane.stale_deletes"):
        assert mgr.complete_stale_deletes() == ["good"]
    assert _get(mgr, "good")["deleted"]
    bad = _get(mgr, "bad")
    assert not bad["deleted"] and bad["status"] == "deleting"
    assert any("bad" in r.getMessage() and r.exc_info for r in caplog.records
               if r.levelname == "ERROR")
    # the database is back: the next run completes it
    monkeypatch.setattr(volume_manager.db_snapshots, "list_snapshots", real)
    assert mgr.complete_stale_deletes() == ["bad"]
    assert _get(mgr, "bad")["deleted"]


def test_registered_as_periodic_task(mgr, conf):
    conf.set_override("volume_stale_delete_interval", 7)
    tasks = dict((task.__name__, interval) for interval, task in mgr.get_periodic_tasks())
    assert tasks["complete_stale_deletes"] == 7
    assert tasks["report_capabilities"] == conf.volume_capabilities_interval
    assert conf.volume_stale_delete_seconds == 60
