"""Boot end to end without the API: conductor + scheduler + compute (fake
driver, two nodes) as in-process services on a real RabbitMQ vhost and
real MariaDB API, cell0 and cell1 databases."""
import time
import uuid as uuidlib

import pytest
import sqlalchemy as sa

from controlplane import rpc
from controlplane.compute import rpcapi as compute_rpcapi
from controlplane.compute import states
from controlplane.compute.fake import FakeDriver
from controlplane.compute.manager import ComputeManager
from controlplane.conductor.manager import ConductorManager
from controlplane.conductor.rpcapi import ConductorAPI
from controlplane.context import RequestContext
from controlplane.db import build_requests as br_db
from controlplane.db import cells as cells_db
from controlplane.db import compute_nodes as cn_db
from controlplane.db import engine as db_engine
from controlplane.db import instances as inst_db
from controlplane.db import migration
from controlplane.db import services as svc_db
from controlplane.db.engine import CELL0_UUID
from controlplane.scheduler.manager import SchedulerManager
from controlplane.service import Service

pytestmark = pytest.mark.integration

CELL1 = "c0ffee00-0000-4000-8000-000000000001"
FLAVOR = {"flavorid": "1", "name": "m1.tiny", "vcpus": 1, "memory_mb": 512,
          "root_gb": 1, "ephemeral_gb": 0, "swap": 0, "extra_specs": {}}


@pytest.fixture
def cell0_db(conf, mysql_server_url):
    name = "t_cell0_%s" % uuidlib.uuid4().hex[:10]
    url = "%s/%s" % (mysql_server_url, name)
    migration.db_sync(url, "cell")
    yield url
    db_engine.dispose_all()
    eng = sa.create_engine(mysql_server_url + "/", poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS `%s`" % name))
    eng.dispose()


class Stack:
    """Handles to the running services and databases of one test."""

    def __init__(self, host, transport_url, cell1, cell0):
        self.host = host
        self.nodes = [host, host + "-1"]
        self.transport_url = transport_url
        self.cell1 = cell1
        self.cell0 = cell0
        self.engine = db_engine.cell_engine(cell1)
        self.engine0 = db_engine.cell_engine(cell0)
        self.services = []
        self.ctxt = RequestContext(user_id="u1", project_id="p1")

    def boot(self, flavor=FLAVOR, image="img-1", conductor_api=None):
        uuid = str(uuidlib.uuid4())
        cells_db.create_instance_mapping(uuid, "p1", "u1", flavor["vcpus"],
                                         flavor["memory_mb"])
        instance = {"uuid": uuid, "project_id": "p1", "user_id": "u1",
                    "display_name": "vm-" + uuid[:8], "flavor": flavor,
                    "image_ref": image, "vm_state": "building",
                    "task_state": "scheduling", "metadata": {}}
        br = br_db.create_build_request(uuid, "p1", instance)
        spec = {"instance_uuid": uuid, "project_id": "p1", "user_id": "u1",
                "flavor": flavor, "image": {"id": image, "properties": {}},
                "num_instances": 1, "scheduler_hints": {}}
        br_db.create_request_spec(uuid, spec)
        (conductor_api or ConductorAPI()).schedule_and_build_instances(self.ctxt, [br], [spec])
        return uuid, br, spec

    def wait_for(self, uuid, predicate, timeout=30.0):
        """Poll the instance (through its mapping) until ``predicate``."""
        deadline = time.monotonic() + timeout
        inst = None
        while time.monotonic() < deadline:
            try:
                mapping = cells_db.get_instance_mapping(uuid)
                if mapping["cell_mapping"]:
                    eng = db_engine.cell_engine(mapping["cell_mapping"])
                    inst = inst_db.get_instance(eng, uuid, read_deleted="yes")
                    if predicate(inst):
                        return inst
            except Exception:  # noqa: BLE001 - not there yet
                pass
            time.sleep(0.1)
        raise AssertionError("instance %s did not reach the state in time: %s" % (uuid, inst))

    def wait_settled(self, uuid):
        return self.wait_for(uuid, lambda i: i["vm_state"] in ("active", "error"))

    def node(self, name):
        return cn_db.get_compute_nodes(self.engine, host=name)[0]


@pytest.fixture
def stack(conf, api_db, cell_db, cell0_db, rabbit_url):
    conf.set_override("host_count", 2, "fake_driver")
    conf.set_override("host_state_refresh_interval", 0, "scheduler")
    conf.set_override("resource_update_interval", 3600, "compute")
    conf.set_override("rpc_response_timeout", 20)
    cell0 = cells_db.create_cell_mapping(CELL0_UUID, "cell0", "none:///", cell0_db)
    cell1 = cells_db.create_cell_mapping(CELL1, "cell1", rabbit_url, cell_db)
    host = "cmp" + uuidlib.uuid4().hex[:6]
    s = Stack(host, rabbit_url, cell1, cell0)
    compute = ComputeManager(host=host, driver=FakeDriver(host=host))
    for svc in (Service(svc_db.SCHEDULER_BINARY, "scheduler", [SchedulerManager()],
                        host="sched-" + host),
                Service(svc_db.CONDUCTOR_BINARY, "conductor", [ConductorManager()],
                        host="cond-" + host),
                Service(svc_db.COMPUTE_BINARY, "compute", [compute], host=host,
                        hosts=compute.hosts)):
        svc.start()
        s.services.append(svc)
    s.compute = compute
    yield s
    for svc in reversed(s.services):
        svc.stop()
    for svc in reversed(s.services):
        svc.wait(10)
    compute_rpcapi.reset_clients()
    rpc.cleanup_transports()


def test_boot_to_active(stack):
    uuid, _, _ = stack.boot()
    inst = stack.wait_settled(uuid)
    assert (inst["vm_state"], inst["task_state"], inst["power_state"]) == \
        ("active", None, states.RUNNING)
    assert inst["host"] in stack.nodes and inst["node"] == inst["host"]
    assert inst["launched_at"] is not None and inst["flavor"]["vcpus"] == 1
    assert cells_db.get_instance_mapping(uuid)["cell_mapping"]["uuid"] == CELL1
    with pytest.raises(br_db.BuildRequestNotFound):
        br_db.get_build_request(uuid)
    alloc = cn_db.get_allocation(stack.engine, uuid)
    assert alloc["host"] == inst["host"] and alloc["vcpus"] == 1
    assert stack.node(inst["host"])["vcpus_used"] == 1
    action = inst_db.get_action(stack.engine, uuid, stack.ctxt.request_id)
    assert action["action"] == "create"
    assert [e["result"] for e in action["events"]] == ["Success"]
    binaries = {(s["binary"], s["host"]) for s in svc_db.list_services(stack.engine)}
    assert {(svc_db.COMPUTE_BINARY, n) for n in stack.nodes} <= binaries
    assert svc_db.SCHEDULER_BINARY in {b for b, _ in binaries}
    assert svc_db.CONDUCTOR_BINARY in {b for b, _ in binaries}
    assert ConductorAPI().ping(stack.ctxt, timeout=10) == "pong"


def test_reschedule_after_failing_first_host(stack, conf):
    bad, good = stack.nodes
    # Make the failing node the scheduler's first choice: the weighers
    # spread, so take resources on the good one first.
    assert cn_db.claim(stack.engine, stack.node(good)["uuid"], "filler", 2, 4096, 10)
    conf.set_override("fail_spawn_hosts", [bad], "fake_driver")
    uuid, _, _ = stack.boot()
    inst = stack.wait_settled(uuid)
    assert (inst["vm_state"], inst["host"]) == ("active", good)
    fault = inst_db.get_latest_fault(stack.engine, uuid)
    assert "fail_spawn_hosts" in fault["message"] and fault["host"] == bad
    assert stack.node(bad)["vcpus_used"] == 0
    assert cn_db.get_allocation(stack.engine, uuid)["host"] == good


def test_all_hosts_fail_ends_in_error(stack, conf):
    conf.set_override("fail_spawn_images", ["broken-image"], "fake_driver")
    uuid, _, _ = stack.boot(image="broken-image")
    inst = stack.wait_settled(uuid)
    assert (inst["vm_state"], inst["task_state"]) == ("error", None)
    fault = inst_db.get_latest_fault(stack.engine, uuid)
    assert fault["message"].startswith("Exceeded maximum number of retries.")
    assert cn_db.get_allocation(stack.engine, uuid) is None
    assert all(stack.node(n)["vcpus_used"] == 0 for n in stack.nodes)


def test_no_valid_host_goes_to_cell0(stack):
    huge = dict(FLAVOR, flavorid="huge", vcpus=100000)
    uuid, _, _ = stack.boot(flavor=huge)
    inst = stack.wait_settled(uuid)
    assert cells_db.get_instance_mapping(uuid)["cell_mapping"]["uuid"] == CELL0_UUID
    assert (inst["vm_state"], inst["host"]) == ("error", None)
    fault = inst_db.get_latest_fault(stack.engine0, uuid)
    assert fault["code"] == 500 and fault["message"].startswith("No valid host was found.")
    with pytest.raises(br_db.BuildRequestNotFound):
        br_db.get_build_request(uuid)
    assert inst_db.list_instances(stack.engine) == []


def test_redelivered_build_creates_no_duplicate(stack):
    uuid, br, spec = stack.boot()
    stack.wait_settled(uuid)
    # The same message handled again (as after a conductor crash before ack).
    ConductorManager().schedule_and_build_instances(stack.ctxt, [br], [spec])
    rows = inst_db.list_instances(stack.engine, read_deleted="yes", filters={"uuid": [uuid]})
    assert len(rows) == 1 and rows[0]["vm_state"] == "active"
    assert inst_db.list_instances(stack.engine0) == []
    # Two deliveries of one boot in parallel: one instance, one claim.
    api = ConductorAPI()
    uuid2, br2, spec2 = stack.boot(conductor_api=api)
    api.schedule_and_build_instances(stack.ctxt, [br2], [spec2])
    inst = stack.wait_settled(uuid2)
    assert inst["vm_state"] == "active"
    time.sleep(0.5)  # let the duplicate finish before counting
    rows = inst_db.list_instances(stack.engine, read_deleted="yes", filters={"uuid": [uuid2]})
    assert len(rows) == 1
    used = sum(stack.node(n)["vcpus_used"] for n in stack.nodes)
    assert used == 2


def test_power_actions_and_delete(stack):
    uuid, _, _ = stack.boot()
    inst = stack.wait_settled(uuid)
    api = compute_rpcapi.ComputeAPI()
    host = inst["host"]
    inst_db.update_instance(stack.engine, uuid, {"task_state": states.POWERING_OFF},
                            expected_task_state=[None])
    api.stop_instance(RequestContext(), host, uuid)
    stack.wait_for(uuid, lambda i: i["vm_state"] == "stopped" and i["task_state"] is None)
    inst_db.update_instance(stack.engine, uuid, {"task_state": states.POWERING_ON},
                            expected_task_state=[None])
    api.start_instance(RequestContext(), host, uuid)
    stack.wait_for(uuid, lambda i: i["vm_state"] == "active" and i["task_state"] is None)
    inst_db.update_instance(stack.engine, uuid, {"task_state": states.REBOOTING_HARD},
                            expected_task_state=[None])
    api.reboot_instance(RequestContext(), host, uuid, reboot_type="HARD")
    inst = stack.wait_for(uuid, lambda i: i["task_state"] is None)
    assert inst["power_state"] == states.RUNNING
    inst_db.update_instance(stack.engine, uuid, {"task_state": states.DELETING})
    api.terminate_instance(RequestContext(), host, uuid)
    inst = stack.wait_for(uuid, lambda i: i["deleted"] != 0)
    assert inst["vm_state"] == "deleted"
    assert cn_db.get_allocation(stack.engine, uuid) is None
    assert cells_db.get_instance_mapping(uuid)["queued_for_delete"] is True


def test_group_info_read_from_the_databases(conf, api_db, cell_db):
    """The conductor fills the request spec's server group (members, hosts
    of the members already placed) from MariaDB via db.server_groups."""
    from controlplane.db import server_groups
    cell1 = cells_db.create_cell_mapping(CELL1, "cell1", "rabbit://", cell_db)
    placed, building = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    inst_db.create_instance(db_engine.cell_engine(cell1), {
        "uuid": placed, "project_id": "p1", "user_id": "u1", "host": "h9", "flavor": {}})
    cells_db.create_instance_mapping(placed, "p1", "u1", 1, 512, cell_id=cell1["id"])
    group = server_groups.create_group("p1", "u1", "g", "anti-affinity")
    server_groups.add_members(group["uuid"], [placed, building])
    spec = {"instance_group": {"uuid": group["uuid"]}}
    ConductorManager(scheduler_api=object(), compute_api=object())._populate_group_info(spec)
    assert spec["instance_group"]["members"] == [placed, building]
    assert spec["instance_group"]["hosts"] == ["h9"]
    assert spec["instance_group"]["policy"] == "anti-affinity"
    spec = {"instance_group": {"uuid": str(uuidlib.uuid4()), "policy": "affinity"}}
    ConductorManager(scheduler_api=object(), compute_api=object())._populate_group_info(spec)
    assert spec["instance_group"]["policy"] == "affinity" and "hosts" not in spec["instance_group"]
