"""controlplane.db.instances on SQLite: CAS updates, soft delete, faults,
actions, pagination."""
import datetime

import pytest

from controlplane.db import instances as inst_db


def _make(engine, uuid, **kw):
    values = {"uuid": uuid, "project_id": kw.pop("project_id", "p1"), "user_id": "u1",
              "flavor": {"flavorid": "1", "vcpus": 1, "memory_mb": 512},
              "vm_state": "building", "task_state": "scheduling"}
    values.update(kw)
    return inst_db.create_instance(engine, values)


def test_create_is_idempotent_and_ignores_unknown_keys(engine):
    a = _make(engine, "i1", display_name="one", bogus=1, metadata={"k": "v"})
    b = _make(engine, "i1", display_name="other")
    assert a["id"] == b["id"] and b["display_name"] == "one"
    assert b["metadata"] == {"k": "v"}


def test_get_read_deleted(engine):
    _make(engine, "i1")
    inst_db.soft_delete_instance(engine, "i1")
    with pytest.raises(inst_db.InstanceNotFound):
        inst_db.get_instance(engine, "i1")
    row = inst_db.get_instance(engine, "i1", read_deleted="yes")
    assert row["deleted"] == row["id"] and row["vm_state"] == "deleted"
    assert row["task_state"] is None and row["deleted_at"] is not None
    assert inst_db.get_instance(engine, "i1", read_deleted="only")["uuid"] == "i1"
    # soft delete again: same row, no error
    assert inst_db.soft_delete_instance(engine, "i1")["deleted"] == row["id"]
    with pytest.raises(inst_db.InstanceNotFound):
        inst_db.soft_delete_instance(engine, "nope")


def test_update_cas(engine):
    _make(engine, "i1")
    row = inst_db.update_instance(engine, "i1", {"task_state": "spawning"},
                                  expected_task_state=["scheduling", None])
    assert row["task_state"] == "spawning"
    with pytest.raises(inst_db.UnexpectedTaskStateError) as err:
        inst_db.update_instance(engine, "i1", {"task_state": None},
                                expected_task_state=["scheduling"])
    assert err.value.actual["task_state"] == "spawning"
    assert err.value.code == 409
    # [None] means "no task"
    inst_db.update_instance(engine, "i1", {"task_state": None, "vm_state": "active"})
    inst_db.update_instance(engine, "i1", {"task_state": "powering-off"},
                            expected_task_state=[None], expected_vm_state="active")
    with pytest.raises(inst_db.UnexpectedTaskStateError):
        inst_db.update_instance(engine, "i1", {"task_state": "x"},
                                expected_vm_state=["stopped"])
    inst_db.update_instance(engine, "i1", {"task_state": "deleting"})
    with pytest.raises(inst_db.UnexpectedDeletingTaskStateError):
        inst_db.update_instance(engine, "i1", {"task_state": None},
                                expected_task_state=["powering-off"])
    with pytest.raises(inst_db.InstanceNotFound):
        inst_db.update_instance(engine, "nope", {"task_state": None})


def test_faults_newest_wins(engine):
    _make(engine, "i1")
    assert inst_db.get_latest_fault(engine, "i1") is None
    inst_db.add_fault(engine, "i1", 500, "first")
    inst_db.add_fault(engine, "i1", 500, "x" * 300, details="tb", host="h1")
    fault = inst_db.get_latest_fault(engine, "i1")
    assert fault["message"] == "x" * 255 and fault["host"] == "h1"
    assert set(inst_db.get_latest_faults(engine, ["i1", "i2"])) == {"i1"}


def test_actions_and_events(engine):
    _make(engine, "i1")
    a1 = inst_db.record_action(engine, "i1", "create", "req-1", "u", "p")
    assert inst_db.record_action(engine, "i1", "create", "req-1")["id"] == a1["id"]
    inst_db.record_action_event(engine, "i1", "req-1", "compute_build", host="h")
    assert not inst_db.event_succeeded(engine, "i1", "req-1", "compute_build")
    inst_db.record_action_event(engine, "i1", "req-1", "compute_build", finish=True)
    assert inst_db.event_succeeded(engine, "i1", "req-1", "compute_build")
    # an event for a request without action creates the action
    inst_db.record_action_event(engine, "i1", "req-2", "compute_stop_instance",
                                action="stop")
    inst_db.record_action_event(engine, "i1", "req-2", "compute_stop_instance",
                                finish=True, result="Error", traceback="tb")
    act = inst_db.get_action(engine, "i1", "req-2")
    assert act["action"] == "stop" and act["message"] == "Error"
    assert act["events"][0]["result"] == "Error"
    assert {a["request_id"] for a in inst_db.list_actions(engine, "i1")} == {"req-1", "req-2"}


def test_list_filters_sort_marker(engine):
    base = datetime.datetime(2024, 1, 1)
    for i in range(5):
        _make(engine, "i%d" % i, display_name="vm-%d" % i, host="h%d" % (i % 2),
              project_id="p1" if i < 4 else "p2", created_at=base + datetime.timedelta(i))
    assert [r["uuid"] for r in inst_db.list_instances(engine, "p1")] == \
        ["i3", "i2", "i1", "i0"]
    page1 = inst_db.list_instances(engine, "p1", limit=2)
    page2 = inst_db.list_instances(engine, "p1", limit=2, marker=page1[-1]["uuid"])
    assert [r["uuid"] for r in page1 + page2] == ["i3", "i2", "i1", "i0"]
    asc = inst_db.list_instances(engine, sort=[("display_name", "asc")])
    assert [r["uuid"] for r in asc] == ["i0", "i1", "i2", "i3", "i4"]
    assert [r["uuid"] for r in inst_db.list_instances(
        engine, sort=[("display_name", "asc")], marker="i2")] == ["i3", "i4"]
    assert len(inst_db.list_instances(engine, filters={"host": "h1"})) == 2
    assert [r["uuid"] for r in inst_db.list_instances(engine, filters={"name": "vm-4"})] == ["i4"]
    assert len(inst_db.list_instances(engine, filters={"flavor": "1"})) == 5
    assert len(inst_db.list_instances(engine, filters={"task_state": [None]})) == 0
    with pytest.raises(inst_db.MarkerNotFound):
        inst_db.list_instances(engine, marker="nope")
    with pytest.raises(ValueError):
        inst_db.list_instances(engine, sort=[("flavor", "asc")])
    inst_db.soft_delete_instance(engine, "i0")
    assert len(inst_db.list_instances(engine, "p1")) == 3
    assert len(inst_db.list_instances(engine, "p1", read_deleted="yes")) == 4


def test_hosts_and_counts(engine):
    _make(engine, "a", host="h1")
    _make(engine, "b", host="h1")
    _make(engine, "c", host="h2")
    inst_db.soft_delete_instance(engine, "c")
    assert inst_db.get_instance_hosts(engine, ["a", "c", "zz"]) == {"a": "h1"}
    assert inst_db.count_instances_by_host(engine) == {"h1": 2}
    assert [r["uuid"] for r in inst_db.list_instances_by_host(engine, ["h1", "h2"])] == ["a", "b"]
