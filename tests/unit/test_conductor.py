"""ConductorManager: build, cell0 burial, idempotency and reschedule logic,
with SQLite cell databases and fakes for the API DB, scheduler and compute."""
import pytest
import sqlalchemy as sa

from controlplane import exception
from controlplane.conductor import manager as cond_manager
from controlplane.context import RequestContext
from controlplane.db import instances as inst_db
from controlplane.db.engine import CELL0_UUID
from controlplane.db.models_cell import CellBase
from controlplane.rpc.exceptions import RemoteError

CELL1 = "11111111-1111-1111-1111-111111111111"


class FakeCells:
    def __init__(self, cells):
        self.cells = {c["uuid"]: c for c in cells}
        self.mappings = {}
        self.queued = []

    def get_cell_mapping(self, uuid=None, id=None, name=None):
        for c in self.cells.values():
            if c["uuid"] == uuid or c["id"] == id:
                return c
        raise KeyError(uuid)

    def list_cell_mappings(self, include_cell0=True):
        return [c for c in self.cells.values() if include_cell0 or c["uuid"] != CELL0_UUID]

    def get_instance_mapping(self, uuid):
        cell_id = self.mappings[uuid]
        cell = next((c for c in self.cells.values() if c["id"] == cell_id), None)
        return {"instance_uuid": uuid, "cell_id": cell_id, "cell_mapping": cell,
                "queued_for_delete": uuid in self.queued}

    def set_instance_mapping_cell(self, uuid, cell_id):
        self.mappings[uuid] = cell_id

    def queue_instance_mapping_for_delete(self, uuid):
        self.queued.append(uuid)


class FakeBuildRequests:
    def __init__(self):
        self.brs = set()

    def build_request_exists(self, uuid):
        return uuid in self.brs

    def delete_build_request(self, uuid):
        if uuid in self.brs:
            self.brs.remove(uuid)
            return True
        return False


class FakeServerGroups:
    """``get_group_hosts`` of controlplane.db.server_groups over dicts:
    ``groups`` {uuid: group dict}, hosts of members from ``member_hosts``."""

    def __init__(self):
        self.groups = {}
        self.member_hosts = {}

    def get_group_hosts(self, uuid, exclude=()):
        if uuid not in self.groups:
            raise exception.InstanceGroupNotFound(group_uuid=uuid)
        group = self.groups[uuid]
        hosts = {m: self.member_hosts[m] for m in group["members"]
                 if m in self.member_hosts and m not in exclude}
        return {"group": group, "hosts": sorted(set(hosts.values())), "member_hosts": hosts}


class FakeScheduler:
    def __init__(self):
        self.result = None
        self.error = None
        self.specs = []

    def select_destinations(self, ctxt, spec, uuids, return_alternates=True):
        self.specs.append(spec)
        if self.error:
            raise self.error
        return self.result(uuids)


class FakeCompute:
    def __init__(self):
        self.casts = []

    def build_and_run_instance(self, ctxt, host, instance_uuid, request_spec,
                               alternates=None, attempt=1, transport_url=None):
        self.casts.append({"host": host, "uuid": instance_uuid, "alternates": alternates,
                           "attempt": attempt, "transport_url": transport_url})


class FakeClaims:
    def __init__(self):
        self.claimed = {}
        self.refuse = set()
        self.released = []

    def claim(self, engine, node_uuid, instance_uuid, vcpus, memory_mb, disk_gb):
        if node_uuid in self.refuse:
            return False
        self.claimed[instance_uuid] = node_uuid
        return True

    def release(self, engine, instance_uuid):
        self.released.append(instance_uuid)
        return self.claimed.pop(instance_uuid, None) is not None

    def get_allocation(self, engine, instance_uuid):
        return None


def sel(host, node_uuid=None):
    return {"host": host, "nodename": host, "compute_node_uuid": node_uuid or "n-" + host,
            "cell_uuid": CELL1, "limits": {},
            "allocation": {"vcpus": 1, "memory_mb": 512, "disk_gb": 1}}


@pytest.fixture
def env(tmp_path, conf, monkeypatch):
    engines = {}
    cells = []
    for i, (uuid, name) in enumerate([(CELL0_UUID, "cell0"), (CELL1, "cell1")]):
        url = "sqlite:///%s" % (tmp_path / ("%s.db" % name))
        eng = sa.create_engine(url)
        CellBase.metadata.create_all(eng)
        engines[url] = eng
        cells.append({"id": i + 1, "uuid": uuid, "name": name,
                      "transport_url": "rabbit://x/%s" % name, "database_connection": url})

    class E:
        pass
    e = E()
    e.cells = FakeCells(cells)
    e.br = FakeBuildRequests()
    e.groups = FakeServerGroups()
    e.sched = FakeScheduler()
    e.compute = FakeCompute()
    e.claims = FakeClaims()
    monkeypatch.setattr(cond_manager, "cn_db", e.claims)
    e.cell0 = engines[cells[0]["database_connection"]]
    e.cell1 = engines[cells[1]["database_connection"]]
    e.mgr = cond_manager.ConductorManager(
        scheduler_api=e.sched, compute_api=e.compute, cells_db=e.cells,
        build_requests_db=e.br, server_groups_db=e.groups,
        cell_engine=lambda c: engines[c["database_connection"]],
        host_az=lambda host: "az-" + host)
    e.ctxt = RequestContext(user_id="u", project_id="p")
    yield e
    for eng in engines.values():
        eng.dispose()


def _request(env, uuid):
    env.br.brs.add(uuid)
    env.cells.mappings[uuid] = None
    br = {"instance_uuid": uuid, "project_id": "p",
          "instance": {"uuid": uuid, "user_id": "u", "project_id": "p",
                       "display_name": "vm-" + uuid,
                       "flavor": {"flavorid": "1", "vcpus": 1, "memory_mb": 512,
                                  "root_gb": 1}}}
    spec = {"instance_uuid": uuid, "flavor": br["instance"]["flavor"],
            "image": {"id": "img"}, "num_instances": 1}
    return br, spec


def test_ping(env):
    assert env.mgr.ping(env.ctxt) == "pong"


def test_schedule_and_build(env):
    env.sched.result = lambda uuids: [[sel("h1"), sel("h2")] for _ in uuids]
    br, spec = _request(env, "i1")
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    inst = inst_db.get_instance(env.cell1, "i1")
    assert (inst["host"], inst["node"], inst["vm_state"], inst["task_state"]) == \
        ("h1", "h1", "building", "scheduling")
    assert inst["flavor"]["vcpus"] == 1 and inst["availability_zone"] == "az-h1"
    assert env.cells.mappings["i1"] == 2 and "i1" not in env.br.brs
    assert env.compute.casts == [{"host": "h1", "uuid": "i1", "alternates": [sel("h2")],
                                  "attempt": 1, "transport_url": "rabbit://x/cell1"}]
    assert inst_db.get_action(env.cell1, "i1", env.ctxt.request_id)["action"] == "create"


def test_no_valid_host_buries_in_cell0(env):
    env.sched.error = RemoteError("NoValidHost", "No valid host was found. "
                                  "There are not enough hosts available.")
    reqs = [_request(env, "a"), _request(env, "b")]
    env.mgr.schedule_and_build_instances(env.ctxt, [r[0] for r in reqs], [r[1] for r in reqs])
    for uuid in ("a", "b"):
        inst = inst_db.get_instance(env.cell0, uuid)
        assert (inst["vm_state"], inst["task_state"], inst["host"]) == ("error", None, None)
        fault = inst_db.get_latest_fault(env.cell0, uuid)
        assert fault["code"] == 500
        assert fault["message"].startswith("No valid host was found.")
        assert env.cells.mappings[uuid] == 1 and uuid not in env.br.brs
    assert env.compute.casts == []
    # redelivery: nothing new
    env.mgr.schedule_and_build_instances(env.ctxt, [reqs[0][0]], [reqs[0][1]])
    assert len(inst_db.list_instances(env.cell0)) == 2
    assert len(env.sched.specs) == 1


def test_other_scheduler_error_also_goes_to_cell0(env):
    env.sched.error = RuntimeError("scheduler exploded")
    br, spec = _request(env, "i1")
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    fault = inst_db.get_latest_fault(env.cell0, "i1")
    assert fault["message"] == "No valid host was found. scheduler exploded"


def test_redelivered_build_creates_no_duplicate(env):
    env.sched.result = lambda uuids: [[sel("h1")] for _ in uuids]
    br, spec = _request(env, "i1")
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    assert len(inst_db.list_instances(env.cell1, read_deleted="yes")) == 1
    assert len(env.sched.specs) == 1
    # still scheduling on h1: the build is cast again (compute is idempotent)
    assert [c["host"] for c in env.compute.casts] == ["h1", "h1"]
    inst_db.update_instance(env.cell1, "i1", {"vm_state": "active", "task_state": None})
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    assert len(env.compute.casts) == 2


def test_build_request_deleted_while_queued(env):
    env.sched.result = lambda uuids: [[sel("h1")] for _ in uuids]
    br, spec = _request(env, "i1")
    env.claims.claimed["i1"] = "n-h1"
    env.br.brs.discard("i1")            # what the API's delete does
    env.cells.queued.append("i1")
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    assert env.claims.released == ["i1"] and env.compute.casts == []
    assert inst_db.list_instances(env.cell1) == []


def test_build_request_consumed_by_concurrent_delivery(env):
    """A duplicate delivery running in parallel finds the build request
    gone but the mapping intact: it must not release the shared claim."""
    env.sched.result = lambda uuids: [[sel("h1")] for _ in uuids]
    br, spec = _request(env, "i1")
    env.claims.claimed["i1"] = "n-h1"
    env.br.brs.discard("i1")
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    assert env.claims.released == [] and env.claims.claimed == {"i1": "n-h1"}


def test_server_deleted_during_scheduling_is_undone(env):
    def select(uuids):
        env.br.brs.discard("i1")        # the user deletes while the scheduler works
        env.cells.queued.append("i1")
        return [[sel("h1")] for _ in uuids]
    env.sched.result = select
    br, spec = _request(env, "i1")
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    assert env.compute.casts == [] and "i1" in env.claims.released


def test_server_group_info_filled(env):
    env.sched.result = lambda uuids: [[sel("h1")] for _ in uuids]
    env.groups.groups["g1"] = {"uuid": "g1", "members": ["m1", "i1"],
                               "policy": "anti-affinity", "policies": ["anti-affinity"],
                               "rules": {}}
    env.groups.member_hosts["m1"] = "h9"
    br, spec = _request(env, "i1")
    spec["instance_group"] = {"uuid": "g1"}
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    group = env.sched.specs[0]["instance_group"]
    assert group["hosts"] == ["h9"] and group["members"] == ["m1", "i1"]
    assert group["policy"] == "anti-affinity"


def test_server_group_gone_leaves_spec_as_is(env):
    env.sched.result = lambda uuids: [[sel("h1")] for _ in uuids]
    br, spec = _request(env, "i1")
    spec["instance_group"] = {"uuid": "gone", "policy": "affinity"}
    env.mgr.schedule_and_build_instances(env.ctxt, [br], [spec])
    assert env.sched.specs[0]["instance_group"] == {"uuid": "gone", "policy": "affinity"}
    assert [c["host"] for c in env.compute.casts] == ["h1"]


def _scheduled(env, uuid="i1"):
    inst_db.create_instance(env.cell1, {"uuid": uuid, "project_id": "p", "user_id": "u",
                                        "flavor": {"vcpus": 1}, "vm_state": "building",
                                        "task_state": "scheduling", "host": None})
    env.cells.mappings[uuid] = 2


def test_reschedule_claims_next_alternate(env):
    _scheduled(env)
    env.claims.refuse.add("n-h2")
    env.mgr.build_instances(env.ctxt, "i1", {"image": {"id": "img"}},
                            [sel("h2"), sel("h3"), sel("h4")], 2)
    inst = inst_db.get_instance(env.cell1, "i1")
    assert (inst["host"], inst["task_state"]) == ("h3", "scheduling")
    assert env.claims.claimed == {"i1": "n-h3"}
    assert env.compute.casts == [{"host": "h3", "uuid": "i1", "alternates": [sel("h4")],
                                  "attempt": 2, "transport_url": "rabbit://x/cell1"}]


def test_reschedule_exhausted_is_error(env):
    _scheduled(env)
    env.mgr.build_instances(env.ctxt, "i1", {}, [], 2)
    inst = inst_db.get_instance(env.cell1, "i1")
    assert (inst["vm_state"], inst["task_state"]) == ("error", None)
    fault = inst_db.get_latest_fault(env.cell1, "i1")
    assert fault["message"].startswith("Exceeded maximum number of retries.")
    assert "i1" in env.claims.released


def test_reschedule_beyond_max_attempts_is_error(env, conf):
    conf.set_override("max_attempts", 2, "scheduler")
    _scheduled(env)
    env.mgr.build_instances(env.ctxt, "i1", {}, [sel("h2")], 3)
    assert inst_db.get_instance(env.cell1, "i1")["vm_state"] == "error"
    assert env.compute.casts == [] and env.claims.claimed == {}


def test_reschedule_redelivered_is_noop(env):
    _scheduled(env)
    env.mgr.build_instances(env.ctxt, "i1", {}, [sel("h2"), sel("h3")], 2)
    env.mgr.build_instances(env.ctxt, "i1", {}, [sel("h2"), sel("h3")], 2)
    assert len(env.compute.casts) == 1
