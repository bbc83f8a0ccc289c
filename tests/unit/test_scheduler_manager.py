"""SchedulerManager with in-memory claims: races, multi-instance, groups."""
import pytest

from controlplane import exception
from controlplane.scheduler.filter_scheduler import FilterScheduler
from controlplane.scheduler.host_manager import HostManager
from controlplane.scheduler.manager import SchedulerManager
from tests.unit.scheduler_fakes import CELL1, node, spec, states


class FakeClaims:
    """Claims against a dict of capacities; ``lose`` makes named nodes lose races."""

    def __init__(self, capacity_mb, lose=()):
        self.free = dict(capacity_mb)
        self.lose = set(lose)
        self.allocations = {}
        self.calls = []

    def claim(self, engine, node_uuid, instance_uuid, vcpus, memory_mb, disk_gb):
        self.calls.append(node_uuid)
        if instance_uuid in self.allocations:
            return self.allocations[instance_uuid][0] == node_uuid
        if node_uuid in self.lose or self.free[node_uuid] < memory_mb:
            return False
        self.free[node_uuid] -= memory_mb
        self.allocations[instance_uuid] = (node_uuid, memory_mb)
        return True

    def release(self, engine, instance_uuid):
        a = self.allocations.pop(instance_uuid, None)
        if a:
            self.free[a[0]] += a[1]
        return a is not None

    def get_allocation(self, engine, instance_uuid):
        a = self.allocations.get(instance_uuid)
        if not a:
            return None
        return {"compute_node_uuid": a[0], "host": a[0][5:], "vcpus": 1,
                "memory_mb": a[1], "disk_gb": 1}


def make_manager(records, claims, filters=None, lookup=None):
    hm = HostManager(load_cells=lambda: [{"uuid": CELL1, "name": "cell1",
                                          "database_connection": "x", "disabled": False}],
                     refresh_interval=3600)
    hm.set_states(states(records))
    sched = FilterScheduler(
        filter_names=filters or ["ComputeFilter", "RamFilter", "ServerGroupAntiAffinityFilter",
                                 "ServerGroupAffinityFilter"],
        weigher_names=["RAMWeigher"])
    return SchedulerManager(host_manager=hm, scheduler=sched,
                            instance_host_lookup=lookup or (lambda uuids: {}),
                            claim_func=claims.claim, release_func=claims.release,
                            get_allocation_func=claims.get_allocation,
                            engine_func=lambda cell: None), hm


def test_ping(conf):
    m, _ = make_manager([node("a")], FakeClaims({"uuid-a": 1}))
    assert m.ping(None) == "pong"


def test_select_destinations_shape_and_claim(conf):
    claims = FakeClaims({"uuid-a": 8192, "uuid-b": 4096, "uuid-c": 2048})
    m, hm = make_manager([node("a", memory_mb=8192), node("b", memory_mb=4096),
                          node("c", memory_mb=2048)], claims)
    out = m.select_destinations(None, spec(memory_mb=1024), ["i1"])
    assert len(out) == 1 and len(out[0]) == 3
    first = out[0][0]
    assert first == {"host": "a", "nodename": "a", "compute_node_uuid": "uuid-a",
                     "cell_uuid": CELL1, "limits": {},
                     "allocation": {"vcpus": 1, "memory_mb": 1024, "disk_gb": 1}}
    assert [s["host"] for s in out[0][1:]] == ["b", "c"]
    assert claims.allocations == {"i1": ("uuid-a", 1024)}
    assert hm.get_host_states().host_state(0).memory_mb_used == 1024   # cache consumed
    assert len(m.select_destinations(None, spec(), ["i2"], return_alternates=False)[0]) == 1


def test_lost_race_tries_next_host(conf):
    claims = FakeClaims({"uuid-a": 8192, "uuid-b": 4096}, lose={"uuid-a"})
    m, hm = make_manager([node("a", memory_mb=8192), node("b", memory_mb=4096)], claims)
    out = m.select_destinations(None, spec(memory_mb=1024), ["i1"])
    assert out[0][0]["host"] == "b"
    assert claims.calls == ["uuid-a", "uuid-b"]
    st = hm.get_host_states()
    assert st.host_state(0).memory_mb_used == 0          # given back
    assert st.host_state(1).memory_mb_used == 1024


def test_all_claims_lost_is_no_valid_host(conf):
    claims = FakeClaims({"uuid-a": 8192}, lose={"uuid-a"})
    m, _ = make_manager([node("a")], claims)
    with pytest.raises(exception.NoValidHost, match="No valid host was found. .*claims lost"):
        m.select_destinations(None, spec(), ["i1"])


def test_multi_instance_consumes_between_picks(conf):
    claims = FakeClaims({"uuid-a": 4096, "uuid-b": 4096})
    m, _ = make_manager([node("a", memory_mb=4096), node("b", memory_mb=4096)], claims)
    out = m.select_destinations(None, spec(memory_mb=2048), ["i1", "i2", "i3", "i4"])
    hosts = sorted(sel[0]["host"] for sel in out)
    assert hosts == ["a", "a", "b", "b"]


def test_multi_instance_failure_releases_earlier_claims(conf):
    claims = FakeClaims({"uuid-a": 4096})
    m, _ = make_manager([node("a", memory_mb=4096)], claims)
    with pytest.raises(exception.NoValidHost, match="RamFilter"):
        m.select_destinations(None, spec(memory_mb=2048), ["i1", "i2", "i3"])
    assert claims.allocations == {}


def test_anti_affinity_sees_earlier_picks(conf):
    claims = FakeClaims({"uuid-a": 8192, "uuid-b": 8192, "uuid-c": 8192})
    m, _ = make_manager([node("a"), node("b"), node("c")], claims)
    group = {"uuid": "g", "policy": "anti-affinity", "rules": {}, "hosts": [],
             "members": []}
    out = m.select_destinations(None, spec(group=group), ["i1", "i2", "i3"])
    assert sorted(s[0]["host"] for s in out) == ["a", "b", "c"]
    with pytest.raises(exception.NoValidHost):
        m.select_destinations(None, spec(group=group), ["j1", "j2", "j3", "j4"])
    assert set(claims.allocations) == {"i1", "i2", "i3"}


def test_affinity_keeps_instances_together(conf):
    claims = FakeClaims({"uuid-a": 8192, "uuid-b": 8192, "uuid-c": 8192})
    m, _ = make_manager([node("a"), node("b"), node("c")], claims)
    group = {"uuid": "g", "policy": "affinity", "rules": {}, "hosts": [], "members": []}
    out = m.select_destinations(None, spec(group=group), ["i1", "i2", "i3"])
    assert len({s[0]["host"] for s in out}) == 1


def test_redelivered_request_returns_existing_claim(conf):
    claims = FakeClaims({"uuid-a": 8192, "uuid-b": 8192})
    m, _ = make_manager([node("a", memory_mb=8192), node("b", memory_mb=8192)], claims)
    claims.allocations["i1"] = ("uuid-b", 512)
    out = m.select_destinations(None, spec(), ["i1"])
    assert out[0][0]["compute_node_uuid"] == "uuid-b"


def test_same_host_hint_uses_lookup(conf):
    claims = FakeClaims({"uuid-a": 8192, "uuid-b": 8192})
    looked = []

    def lookup(uuids):
        looked.append(list(uuids))
        return {"peer": "b"}
    m, _ = make_manager([node("a", memory_mb=16384), node("b")], claims,
                        filters=["SameHostFilter"], lookup=lookup)
    out = m.select_destinations(None, spec(hints={"same_host": ["peer"]}), ["i1"])
    assert out[0][0]["host"] == "b" and looked == [["peer"]]


def test_claim_alternate_and_release(conf):
    claims = FakeClaims({"uuid-a": 8192, "uuid-b": 8192})
    m, hm = make_manager([node("a"), node("b")], claims)
    sel = {"host": "b", "nodename": "b", "compute_node_uuid": "uuid-b", "cell_uuid": CELL1,
           "limits": {}, "allocation": {"vcpus": 1, "memory_mb": 512, "disk_gb": 1}}
    assert m.claim_alternate(None, sel, "i9") is True
    assert m.claim_alternate(None, sel, "i9") is True      # idempotent
    assert claims.free["uuid-b"] == 8192 - 512
    assert m.release_claim(None, "i9", CELL1) is True
    assert m.release_claim(None, "i9", CELL1) is False


def test_unknown_filter_fails_at_start(conf):
    conf.set_override("enabled_filters", ["ComputeFilter", "Nope"], "filter_scheduler")
    with pytest.raises(exception.SchedulerConfigError, match="Nope"):
        SchedulerManager(host_manager=HostManager(load_cells=lambda: []))
