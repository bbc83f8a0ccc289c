"""ComputeManager state machine on SQLite with the fake driver and fakes
for the claims and the conductor."""
import pytest

from controlplane.compute import manager as compute_manager
from controlplane.compute import states
from controlplane.compute.fake import FakeDriver
from controlplane.context import RequestContext
from controlplane.db import instances as inst_db


class FakeClaims:
    """Stands in for controlplane.db.compute_nodes (claim/release)."""

    def __init__(self):
        self.released = []

    def release(self, engine, instance_uuid):
        self.released.append(instance_uuid)
        return True


class FakeConductor:
    def __init__(self):
        self.calls = []

    def build_instances(self, ctxt, instance_uuid, request_spec, alternates, attempt):
        self.calls.append((instance_uuid, alternates, attempt))


class FakeCells:
    def __init__(self):
        self.queued = []

    def queue_instance_mapping_for_delete(self, uuid):
        self.queued.append(uuid)
        return True


@pytest.fixture
def env(engine, conf, monkeypatch):
    claims = FakeClaims()
    monkeypatch.setattr(compute_manager, "cn_db", claims)
    conductor = FakeConductor()
    cells = FakeCells()
    mgr = compute_manager.ComputeManager(host="cmp", driver=FakeDriver(host="cmp"),
                                         engine=engine, conductor_api=conductor,
                                         cells_db=cells)

    class Env:
        pass
    e = Env()
    e.engine, e.claims, e.conductor, e.cells, e.mgr = engine, claims, conductor, cells, mgr
    e.ctxt = RequestContext(user_id="u", project_id="p")
    return e


def _instance(env, uuid="i1", host="cmp", **kw):
    values = {"uuid": uuid, "project_id": "p", "user_id": "u", "host": host, "node": host,
              "flavor": {"vcpus": 1}, "image_ref": "img", "vm_state": "building",
              "task_state": "scheduling"}
    values.update(kw)
    return inst_db.create_instance(env.engine, values)


def _get(env, uuid="i1", **kw):
    return inst_db.get_instance(env.engine, uuid, **kw)


def test_build_goes_active_and_redelivery_is_noop(env):
    _instance(env)
    env.mgr.build_and_run_instance(env.ctxt, "i1", {"image": {"id": "img"}}, [], 1)
    inst = _get(env)
    assert (inst["vm_state"], inst["task_state"], inst["power_state"]) == \
        ("active", None, states.RUNNING)
    assert inst["launched_at"] is not None
    act = inst_db.get_action(env.engine, "i1", env.ctxt.request_id)
    assert act["events"][0]["event"] == "compute__do_build_and_run_instance"
    assert act["events"][0]["result"] == "Success"
    env.mgr.build_and_run_instance(env.ctxt, "i1", {}, [], 1)
    assert _get(env)["vm_state"] == "active"
    assert env.conductor.calls == [] and env.claims.released == []


def test_build_for_other_host_or_spawning_is_ignored(env):
    _instance(env, "other", host="elsewhere")
    env.mgr.build_and_run_instance(env.ctxt, "other", {}, [], 1)
    assert _get(env, "other")["task_state"] == "scheduling"
    _instance(env, "busy", task_state="spawning")
    env.mgr.build_and_run_instance(env.ctxt, "busy", {}, [], 1)
    assert _get(env, "busy")["task_state"] == "spawning"


def test_build_of_deleted_instance_releases_claim(env):
    env.mgr.build_and_run_instance(env.ctxt, "ghost", {}, [], 1)
    assert env.claims.released == ["ghost"]


def test_spawn_failure_reschedules(env, conf):
    conf.set_override("fail_spawn_hosts", ["cmp"], "fake_driver")
    _instance(env)
    alt = {"host": "h2", "nodename": "h2", "compute_node_uuid": "n2", "cell_uuid": "c1"}
    env.mgr.build_and_run_instance(env.ctxt, "i1", {"image": {"id": "img"}}, [alt], 1)
    inst = _get(env)
    assert (inst["vm_state"], inst["task_state"], inst["host"], inst["node"]) == \
        ("building", "scheduling", None, None)
    assert env.claims.released == ["i1"]
    assert env.conductor.calls == [("i1", [alt], 2)]
    assert "fail_spawn_hosts" in inst_db.get_latest_fault(env.engine, "i1")["message"]


def test_spawn_failure_without_retries_is_error(env, conf):
    conf.set_override("fail_spawn_images", ["img"], "fake_driver")
    conf.set_override("max_attempts", 1, "scheduler")
    _instance(env)
    env.mgr.build_and_run_instance(env.ctxt, "i1", {"image": {"id": "img"}}, [], 1)
    inst = _get(env)
    assert (inst["vm_state"], inst["task_state"]) == ("error", None)
    assert env.conductor.calls == []
    assert inst_db.get_latest_fault(env.engine, "i1")["code"] == 500


def test_stop_start_reboot(env):
    _instance(env, vm_state="active", task_state="powering-off")
    env.mgr.stop_instance(env.ctxt, "i1")
    inst = _get(env)
    assert (inst["vm_state"], inst["task_state"], inst["power_state"]) == \
        ("stopped", None, states.SHUTDOWN)
    env.mgr.stop_instance(env.ctxt, "i1")  # redelivery
    ctxt2 = RequestContext()
    inst_db.update_instance(env.engine, "i1", {"task_state": "powering-on"})
    env.mgr.start_instance(ctxt2, "i1")
    assert _get(env)["vm_state"] == "active"
    ctxt3 = RequestContext()
    inst_db.update_instance(env.engine, "i1", {"task_state": "rebooting_hard"})
    env.mgr.reboot_instance(ctxt3, "i1", reboot_type="HARD")
    inst = _get(env)
    assert (inst["vm_state"], inst["task_state"]) == ("active", None)
    events = inst_db.get_action(env.engine, "i1", ctxt3.request_id)["events"]
    assert [e["event"] for e in events] == ["compute_reboot_instance"]
    # redelivered reboot of the same request does nothing more
    env.mgr.reboot_instance(ctxt3, "i1", reboot_type="HARD")
    assert len(inst_db.get_action(env.engine, "i1", ctxt3.request_id)["events"]) == 1


def test_reboot_refused_while_deleting(env):
    _instance(env, vm_state="active", task_state="deleting")
    env.mgr.reboot_instance(env.ctxt, "i1", reboot_type="SOFT")
    assert _get(env)["task_state"] == "deleting"


def test_terminate_is_idempotent(env):
    _instance(env, vm_state="active", task_state="deleting")
    env.mgr.driver.spawn(None, _get(env), {})
    env.mgr.terminate_instance(env.ctxt, "i1")
    inst = _get(env, read_deleted="yes")
    assert inst["vm_state"] == "deleted" and inst["deleted"]
    assert env.mgr.driver.list_instance_uuids() == []
    assert env.cells.queued == ["i1"]
    env.mgr.terminate_instance(env.ctxt, "i1")
    assert env.claims.released == ["i1", "i1"]


def test_init_host_recovers(env):
    _instance(env, "spawning", task_state="spawning")
    _instance(env, "deleting", vm_state="active", task_state="deleting")
    _instance(env, "stopping", vm_state="active", task_state="powering-off")
    _instance(env, "queued", task_state="scheduling")
    env.mgr.init_host()
    assert _get(env, "spawning")["vm_state"] == "error"
    assert "restart" in inst_db.get_latest_fault(env.engine, "spawning")["message"]
    assert _get(env, "deleting", read_deleted="yes")["vm_state"] == "deleted"
    assert _get(env, "stopping")["vm_state"] == "stopped"
    assert _get(env, "queued")["task_state"] == "scheduling"


def test_periodic_report_uses_upsert(env, monkeypatch, conf):
    conf.set_override("host_count", 2, "fake_driver")
    seen = []
    from controlplane.compute import resource_tracker
    monkeypatch.setattr(resource_tracker.cn_db, "upsert_compute_node",
                        lambda engine, values: seen.append(values) or values)
    _instance(env, "a", host="cmp-1")
    env.mgr.update_available_resource()
    assert [v["host"] for v in seen] == ["cmp", "cmp-1"]
    assert seen[1]["running_vms"] == 1 and seen[0]["vcpus"] == 16
    assert all("vcpus_used" not in v for v in seen)
    assert env.mgr.hosts == ["cmp", "cmp-1"]
