"""Volume scheduler: Cinder's capacity math, filters, weighers, selection."""
import datetime

import numpy as np
import pytest

from controlplane.volume import exception as vexc
from controlplane.volume.scheduler import capacity
from controlplane.volume.scheduler import filters as vfilters
from controlplane.volume.scheduler import weighers as vweighers
from controlplane.volume.scheduler.host_state import PoolStates
from controlplane.volume.scheduler.manager import FilterScheduler
from controlplane.volume.scheduler.request import VolumeRequest

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0)


def row(name, total=100.0, free=100.0, provisioned=0.0, allocated=0.0, thin=False,
        ratio=1.0, reserved=0, az="nova", caps=None, backend_name=None, up=True,
        disabled=False):
    host, rest = name.split("@")
    backend, pool = rest.split("#")
    return {"name": name, "host": host, "backend": backend, "pool": pool,
            "total_capacity_gb": total, "free_capacity_gb": free,
            "provisioned_capacity_gb": provisioned, "allocated_capacity_gb": allocated,
            "thin_provisioning_support": thin, "thick_provisioning_support": not thin,
            "max_over_subscription_ratio": ratio, "reserved_percentage": reserved,
            "availability_zone": az, "volume_backend_name": backend_name or backend,
            "capabilities": caps or {"storage_protocol": "file"},
            "service_disabled": disabled,
            "service_updated_at": NOW if up else NOW - datetime.timedelta(hours=1)}


def states(*rows):
    return PoolStates(list(rows), down_time=60, now=NOW)


# --- capacity math (Cinder's CapacityFilter / calculate_virtual_free_capacity) ----

@pytest.mark.parametrize("args,size,thin,expected", [
    # thick: free - floor(total * reserved%) >= size
    ((100, 30, 0, False, 1.0, 10), 20, True, True),     # 30 - 10 = 20
    ((100, 30, 0, False, 1.0, 10), 21, True, False),
    ((100, 30, 0, False, 1.0, 15.5), 15, False, True),  # floor(15.5) = 15
    # thin: (provisioned + size) / total <= ratio and (free - reserved) * ratio >= size
    ((500, 200, 500, True, 2.0, 5), 100, True, True),   # 600/500=1.2; 175*2=350
    ((500, 200, 800, True, 2.0, 5), 200, True, True),   # 1000/500 = 2.0 exactly
    ((500, 200, 800, True, 2.0, 5), 201, True, False),  # ratio exceeded
    ((500, 30, 0, True, 2.0, 5), 11, True, False),      # (30-25)*2 = 10 < 11
    ((500, 200, 0, True, 0.8, 0), 1, True, False),      # ratio < 1 never passes thin
    ((500, 200, 900, True, 2.0, 0), 150, False, True),  # thick request on thin pool: free
    ((0, 0, 0, True, 2.0, 0), 1, True, False),          # total 0
])
def test_capacity_fits_matches_cinder(args, size, thin, expected):
    total, free, prov, thin_support, ratio, reserved = args
    assert capacity.fits(size, total, free, prov, thin_support, ratio, reserved, thin) is expected
    got = capacity.fits_mask(size, np.array([total], float), np.array([free], float),
                             np.array([prov], float), np.array([thin_support]),
                             np.array([ratio], float), np.array([reserved], float), thin)
    assert bool(got[0]) is expected


def test_virtual_free_capacity():
    # thin: total * ratio - provisioned - floor(total * reserved)
    assert capacity.virtual_free(500, 200, 300, True, 2.0, 5) == 1000 - 300 - 25
    # thick (or thin request on a thick pool): free - reserved
    assert capacity.virtual_free(500, 200, 300, False, 2.0, 5) == 175
    assert capacity.virtual_free(500, 200, 300, True, 2.0, 5, thin=False) == 175
    assert capacity.request_is_thin({}) and not capacity.request_is_thin(
        {"provisioning:type": "thick"})


# --- filters -------------------------------------------------------------------

def test_down_and_disabled_backends_are_not_schedulable():
    st = states(row("a@b1#p"), row("b@b1#p", up=False), row("c@b1#p", disabled=True))
    assert st.names == ["a@b1#p"]


def test_availability_zone_filter():
    st = states(row("a@b#p", az="az1"), row("b@b#p", az="az2"))
    f = vfilters.AvailabilityZoneFilter()
    assert f.mask(st, VolumeRequest("v", 1)) is None
    assert list(f.mask(st, VolumeRequest("v", 1, availability_zone="az2"))) == [False, True]
    assert not f.mask(st, VolumeRequest("v", 1, availability_zone="nope")).any()


def test_capabilities_filter():
    st = states(row("a@gold#p", caps={"storage_protocol": "file", "compression": True,
                                      "tiers": ["ssd", "nvme"], "iops": 5000}),
                row("b@silver#p", thin=True, ratio=2.0,
                    caps={"storage_protocol": "nfs", "iops": 100}))
    f = vfilters.CapabilitiesFilter()

    def mask(specs):
        return list(f.mask(st, VolumeRequest("v", 1, extra_specs=specs)))
    assert mask({"volume_backend_name": "gold"}) == [True, False]
    assert mask({"capabilities:storage_protocol": "<in> nf"}) == [False, True]
    assert mask({"compression": "<is> True"}) == [True, False]
    assert mask({"thin_provisioning_support": "<is> True"}) == [False, True]
    assert mask({"tiers": "nvme"}) == [True, False]             # any element of a list
    assert mask({"iops": ">= 1000"}) == [True, False]
    assert mask({"storage_protocol": "<or> nfs <or> iscsi"}) == [False, True]
    assert mask({"provisioning:type": "thick", "QoS:x": "1"}) == [True, True]  # other scopes
    assert mask({"missing_capability": "x"}) == [False, False]


def test_capacity_filter_thin_and_thick():
    st = states(row("a@b#p", total=100, free=10), row("b@b#p", total=100, free=10,
                                                      thin=True, ratio=10.0))
    f = vfilters.CapacityFilter()
    assert list(f.mask(st, VolumeRequest("v", 50))) == [False, True]
    assert list(f.mask(st, VolumeRequest("v", 50, thin=False))) == [False, False]


def test_run_filters_retry_list_source_pool_and_no_valid_backend():
    sched = FilterScheduler(["AvailabilityZoneFilter", "CapacityFilter",
                             "CapabilitiesFilter"], ["CapacityWeigher"])
    st = states(row("a@b1#p", free=50), row("b@b2#p", free=90), row("c@b3#p", free=10))
    order = sched.candidates(st, VolumeRequest("v", 5))
    assert [st.names[i] for i in order] == ["b@b2#p", "a@b1#p", "c@b3#p"]
    order = sched.candidates(st, VolumeRequest("v", 5, excluded=("b@b2#p",)))
    assert [st.names[i] for i in order] == ["a@b1#p", "c@b3#p"]
    order = sched.candidates(st, VolumeRequest("v", 5, source_pool="c@b3#p"))
    assert [st.names[i] for i in order] == ["c@b3#p"]
    with pytest.raises(vexc.NoValidBackend) as err:
        sched.candidates(st, VolumeRequest("v", 20, source_pool="c@b3#p"))
    assert "No valid backend was found" in str(err.value)
    assert "CapacityFilter" in str(err.value)
    with pytest.raises(vexc.NoValidBackend):
        sched.candidates(st, VolumeRequest("v", 1000))
    with pytest.raises(vexc.NoValidBackend):
        sched.candidates(st, VolumeRequest("v", 1, extra_specs={"volume_backend_name": "x"}))


def test_static_masks_are_memoised_per_snapshot():
    st = states(row("a@b1#p"), row("b@b2#p"))
    calls = []

    class Counting(vfilters.CapabilitiesFilter):
        def mask(self, states, req):
            calls.append(1)
            return super().mask(states, req)
    req = VolumeRequest("v", 1, extra_specs={"volume_backend_name": "b1"})
    for _ in range(3):
        assert list(vfilters.run_filters([Counting()], st, req)) == [0]
    assert len(calls) == 1


def test_unknown_filter_or_weigher_is_a_config_error():
    from controlplane import exception
    with pytest.raises(exception.SchedulerConfigError):
        vfilters.load_filters(["NopeFilter"])
    with pytest.raises(exception.SchedulerConfigError):
        vweighers.load_weighers(["NopeWeigher"])


# --- weighers --------------------------------------------------------------------

def test_capacity_weigher_uses_virtual_free_capacity(conf):
    # thin pool: 100*5 - 400 = 100 virtual free; thick pool: 150 free
    st = states(row("a@b#p", total=100, free=90, provisioned=400, thin=True, ratio=5.0),
                row("b@b#p", total=200, free=150))
    idx = np.arange(st.n)
    assert list(vweighers.CapacityWeigher().raw(st, idx, VolumeRequest("v", 1))) == [100, 150]
    order = vweighers.order([vweighers.CapacityWeigher()], st, idx, VolumeRequest("v", 1))
    assert [st.names[i] for i in order] == ["b@b#p", "a@b#p"]
    conf.set_override("capacity_weight_multiplier", -1.0, "volume_scheduler")
    order = vweighers.order([vweighers.CapacityWeigher()], st, idx, VolumeRequest("v", 1))
    assert [st.names[i] for i in order] == ["a@b#p", "b@b#p"]


def test_allocated_capacity_weigher_prefers_least_allocated(conf):
    st = states(row("a@b#p", allocated=50), row("b@b#p", allocated=10),
                row("c@b#p", allocated=30))
    idx = np.arange(st.n)
    order = vweighers.order([vweighers.AllocatedCapacityWeigher()], st, idx,
                            VolumeRequest("v", 1))
    assert [st.names[i] for i in order] == ["b@b#p", "c@b#p", "a@b#p"]


def test_chance_weigher_spreads(conf):
    st = states(*[row("h%d@b#p" % i) for i in range(20)])
    idx = np.arange(st.n)
    firsts = {int(vweighers.order([vweighers.ChanceWeigher()], st, idx,
                                  VolumeRequest("v", 1))[0]) for _ in range(50)}
    assert len(firsts) > 1


def test_consume_updates_the_snapshot():
    st = states(row("a@b#p", free=10))
    st.consume(0, 4)
    p = st.pool_state(0)
    assert (p.free_capacity_gb, p.allocated_capacity_gb, p.provisioned_capacity_gb) == (6, 4, 4)
    assert p.backend_id == "a@b#p" and p.capabilities["volume_backend_name"] == "b"


def test_request_from_spec():
    req = VolumeRequest.from_spec(
        {"volume_id": "v", "size": 3, "availability_zone": "az",
         "volume_type": {"extra_specs": {"provisioning:type": "thick"}}},
        {"retry": {"num_attempts": 1, "backends": ["a@b#p"]}})
    assert (req.size, req.availability_zone, req.thin, req.excluded) == (
        3, "az", False, ("a@b#p",))
