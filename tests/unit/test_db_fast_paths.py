"""The short paths of the boot-path db functions (fewer statements per
call) keep the results and errors of the long ones: update_instance
without read-back, an event finished by its id, heartbeats of several
services at once, compute-node claims with prebuilt statements."""
import pytest

from controlplane.db import compute_nodes as cn_db
from controlplane.db import instances as inst_db
from controlplane.db import services as svc_db


def _make(engine, uuid):
    return inst_db.create_instance(engine, {
        "uuid": uuid, "project_id": "p1", "user_id": "u1",
        "flavor": {"flavorid": "1", "vcpus": 1, "memory_mb": 512},
        "vm_state": "building", "task_state": "scheduling"})


def test_update_without_read_back_has_the_same_errors(engine):
    _make(engine, "i1")
    assert inst_db.update_instance(engine, "i1", {"task_state": "spawning"},
                                   expected_task_state=["scheduling", None],
                                   return_row=False) is None
    row = inst_db.get_instance(engine, "i1")
    assert row["task_state"] == "spawning" and row["updated_at"] is not None
    with pytest.raises(inst_db.UnexpectedTaskStateError):
        inst_db.update_instance(engine, "i1", {"vm_state": "active"},
                                expected_task_state=["scheduling"], return_row=False)
    with pytest.raises(inst_db.InstanceNotFound):
        inst_db.update_instance(engine, "nope", {"task_state": None}, return_row=False)
    # JSON columns go through the cached statement too
    inst_db.update_instance(engine, "i1", {"metadata": {"a": "b"}, "vm_state": "active",
                                           "task_state": None},
                            expected_vm_state="building", return_row=False)
    row = inst_db.get_instance(engine, "i1")
    assert row["metadata"] == {"a": "b"} and row["vm_state"] == "active"


def test_event_finished_by_id(engine):
    _make(engine, "i1")
    inst_db.record_action(engine, "i1", "create", "req-1", "u1", "p1")
    started = inst_db.record_action_event(engine, "i1", "req-1", "compute_build",
                                          host="h", return_row=False)
    assert set(started) == {"id"}
    done = inst_db.record_action_event(engine, "i1", "req-1", "compute_build",
                                       finish=True, event_id=started["id"])
    assert done["id"] == started["id"] and done["result"] == "Success"
    assert done["finish_time"] is not None
    assert inst_db.event_succeeded(engine, "i1", "req-1", "compute_build")
    # an error finished by id still marks the action
    ev = inst_db.record_action_event(engine, "i1", "req-1", "compute_x", host="h",
                                     return_row=False)
    inst_db.record_action_event(engine, "i1", "req-1", "compute_x", finish=True,
                                result="Error", traceback="tb", event_id=ev["id"])
    act = inst_db.get_action(engine, "i1", "req-1")
    assert act["message"] == "Error"
    assert [e["result"] for e in act["events"]] == ["Success", "Error"]
    # an unknown id falls back to the newest unfinished event of that name
    inst_db.record_action_event(engine, "i1", "req-1", "compute_y", host="h")
    inst_db.record_action_event(engine, "i1", "req-1", "compute_y", finish=True,
                                event_id=99999)
    assert inst_db.event_succeeded(engine, "i1", "req-1", "compute_y")


def test_heartbeat_many(engine, conf):
    a = svc_db.create_or_get_service(engine, "h1", svc_db.COMPUTE_BINARY)
    b = svc_db.create_or_get_service(engine, "h2", svc_db.COMPUTE_BINARY)
    rows = svc_db.heartbeat_many(engine, [a["uuid"], b["uuid"]])
    assert {r["report_count"] for r in rows.values()} == {1}
    svc_db.delete_service(engine, b["id"])
    rows = svc_db.heartbeat_many(engine, [a["uuid"], b["uuid"]])
    assert set(rows) == {a["uuid"]} and rows[a["uuid"]]["report_count"] == 2
    assert svc_db.heartbeat_many(engine, []) == {}
    assert [s["host"] for s in svc_db.list_services(engine, hosts=["h1", "h9"])] == ["h1"]


def test_claims_with_zero_and_nonzero_requests(engine):
    node = cn_db.upsert_compute_node(engine, {
        "host": "h1", "hypervisor_hostname": "h1", "vcpus": 2, "memory_mb": 1024,
        "local_gb": 10, "cpu_allocation_ratio": 1.0, "ram_allocation_ratio": 1.0,
        "disk_allocation_ratio": 1.0, "reserved_host_memory_mb": 0,
        "reserved_host_disk_mb": 0, "reserved_host_cpus": 0})
    assert cn_db.claim(engine, node["uuid"], "i1", 2, 512, 0)
    assert cn_db.claim(engine, node["uuid"], "i1", 2, 512, 0)      # idempotent
    assert not cn_db.claim(engine, node["uuid"], "i2", 1, 0, 0)     # no vCPU left
    assert cn_db.claim(engine, node["uuid"], "i3", 0, 512, 10)
    assert not cn_db.claim(engine, node["uuid"], "i4", 0, 1, 0)     # no RAM left
    got = cn_db.get_compute_node(engine, node["uuid"])
    assert (got["vcpus_used"], got["memory_mb_used"], got["local_gb_used"]) == (2, 1024, 10)
    assert cn_db.get_allocation(engine, "i3")["compute_node_uuid"] == node["uuid"]
    assert cn_db.release(engine, "i1") and not cn_db.release(engine, "i1")
    assert cn_db.get_compute_node(engine, node["uuid"])["vcpus_used"] == 0
