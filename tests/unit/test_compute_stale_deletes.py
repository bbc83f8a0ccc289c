"""ComputeManager.complete_stale_deletes: instances of this host left in
``deleting`` (their terminate_instance lost, or failed and acked anyway)
are deleted by the periodic task once older than ``[compute]
stale_delete_seconds``; on SQLite with the fake driver and fakes for the
claims, the conductor and the cells database (as test_compute_manager)."""
import pytest

from controlplane.compute import manager as compute_manager
from controlplane.compute.fake import FakeDriver
from controlplane.db import instances as inst_db
from tests.unit.backdate import backdate
from tests.unit.test_compute_manager import FakeCells, FakeClaims, FakeConductor


class FlakyDriver(FakeDriver):
    """The fake driver whose destroy fails for the uuids in ``fail``."""

    def __init__(self, host):
        super().__init__(host=host)
        self.fail = set()
        self.destroyed = []

    def destroy(self, ctxt, instance):
        self.destroyed.append(instance["uuid"])
        if instance["uuid"] in self.fail:
            raise RuntimeError("hypervisor unreachable")
        super().destroy(ctxt, instance)


@pytest.fixture
def mgr(engine, conf, monkeypatch):
    monkeypatch.setattr(compute_manager, "cn_db", FakeClaims())
    return compute_manager.ComputeManager(host="cmp", driver=FlakyDriver("cmp"),
                                          engine=engine, conductor_api=FakeConductor(),
                                          cells_db=FakeCells())


def _instance(mgr, uuid, host="cmp", age=None, **kw):
    """An instance on ``host`` last updated ``age`` seconds ago (None: now)."""
    values = {"uuid": uuid, "project_id": "p", "user_id": "u", "host": host, "node": host,
              "flavor": {"vcpus": 1}, "image_ref": "img", "vm_state": "active",
              "task_state": None}
    values.update(kw)
    inst_db.create_instance(mgr.engine, values)
    backdate(mgr.engine, inst_db._t, age or 0, inst_db._t.c.uuid == uuid)


def _get(mgr, uuid):
    return inst_db.get_instance(mgr.engine, uuid, read_deleted="yes")


def test_old_deleting_instance_is_deleted_fresh_one_left(mgr, conf):
    conf.set_override("stale_delete_seconds", 60, "compute")
    _instance(mgr, "old", age=120, task_state="deleting")
    _instance(mgr, "fresh", age=10, task_state="deleting")
    mgr.driver.spawn(None, _get(mgr, "old"), {})
    assert mgr.complete_stale_deletes() == ["old"]
    old = _get(mgr, "old")
    assert old["deleted"] and old["vm_state"] == "deleted"
    assert "old" not in mgr.driver.list_instance_uuids()
    assert mgr.cells_db.queued == ["old"]
    assert compute_manager.cn_db.released == ["old"]
    # the fresh one's terminate_instance may still be on its way
    fresh = _get(mgr, "fresh")
    assert not fresh["deleted"] and fresh["task_state"] == "deleting"
    assert mgr.driver.destroyed == ["old"]
    # once it is older than the threshold, the next run deletes it
    conf.set_override("stale_delete_seconds", 5, "compute")
    assert mgr.complete_stale_deletes() == ["fresh"]
    assert _get(mgr, "fresh")["deleted"]


def test_other_task_states_and_hosts_untouched(mgr):
    _instance(mgr, "idle", age=3600)
    _instance(mgr, "stopping", age=3600, task_state="powering-off")
    _instance(mgr, "rebooting", age=3600, task_state="rebooting")
    _instance(mgr, "spawning", age=3600, vm_state="building", task_state="spawning")
    _instance(mgr, "elsewhere", host="cmp2", age=3600, task_state="deleting")
    assert mgr.complete_stale_deletes() == []
    assert mgr.driver.destroyed == []
    for uuid, task in [("idle", None), ("stopping", "powering-off"),
                       ("rebooting", "rebooting"), ("spawning", "spawning"),
                       ("elsewhere", "deleting")]:
        inst = _get(mgr, uuid)
        assert not inst["deleted"] and inst["task_state"] == task, uuid


def test_one_failing_delete_does_not_stop_the_next(mgr, caplog):
    _instance(mgr, "bad", age=600, task_state="deleting")
    _instance(mgr, "good", age=600, task_state="deleting")
    mgr.driver.fail.add("bad")
    with caplog.at_level("WARNING", logger="controlplane.stale_deletes"):
        assert mgr.complete_stale_deletes() == ["good"]
    assert mgr.driver.destroyed == ["bad", "good"]
    assert _get(mgr, "good")["deleted"]
    bad = _get(mgr, "bad")
    assert not bad["deleted"] and bad["task_state"] == "deleting"
    warned = [r.getMessage() for r in caplog.records  # not other threads' lines
              if r.name == "controlplane.stale_deletes" and r.levelname == "WARNING"]
    assert len(warned) == 2 and all("completing a delete" in m for m in warned)
    assert any("bad" in r.getMessage() and r.exc_info for r in caplog.records
               if r.levelname == "ERROR")
    # terminate_instance moved its updated_at: retried after the threshold again
    assert mgr.complete_stale_deletes() == []
    mgr.driver.fail.clear()
    backdate(mgr.engine, inst_db._t, 600, inst_db._t.c.uuid == "bad")
    assert mgr.complete_stale_deletes() == ["bad"]
    assert _get(mgr, "bad")["deleted"]


def test_listing_failure_propagates_to_the_service(mgr, monkeypatch):
    """The Service logs a failed periodic task and runs it again next interval."""
    def down(engine, hosts):
        raise RuntimeError("galera down")
    monkeypatch.setattr(compute_manager.inst_db, "list_instances_by_host", down)
    with pytest.raises(RuntimeError):
        mgr.complete_stale_deletes()


def test_registered_as_periodic_task(mgr, conf):
    conf.set_override("stale_delete_interval", 7, "compute")
    tasks = dict((task.__name__, interval) for interval, task in mgr.get_periodic_tasks())
    assert tasks["complete_stale_deletes"] == 7
    assert tasks["update_available_resource"] == conf.compute.resource_update_interval
    assert conf.compute.stale_delete_seconds == 60
