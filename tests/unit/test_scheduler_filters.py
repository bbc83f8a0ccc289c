"""Each scheduler filter on synthetic host states (Nova semantics)."""
import json

import numpy as np
import pytest

from controlplane import exception
from controlplane.scheduler import extra_specs_ops
from controlplane.scheduler import filters as F
from controlplane.scheduler.filters.image_props import int_to_version, version_satisfies
from tests.unit.scheduler_fakes import node, passing, request, states


@pytest.fixture(autouse=True)
def _conf(conf):
    return conf


# -- extra_specs_ops -----------------------------------------------------------

@pytest.mark.parametrize("value,req,expected", [
    ("1", "1", True), ("1", "2", False), ("abc", "abc", True),
    ("4", "= 2", True), ("2", "= 4", False),           # '=' means >=
    ("4", "== 4", True), ("4.0", "== 4", True), ("3", "== 4", False),
    ("3", "!= 4", True), ("4", "!= 4", False),
    ("4", ">= 4", True), ("3", ">= 4", False),
    ("4", "<= 4", True), ("5", "<= 4", False),
    ("abc", "s== abc", True), ("abd", "s== abc", False),
    ("abd", "s!= abc", True), ("abb", "s< abc", True), ("abd", "s< abc", False),
    ("abc", "s<= abc", True), ("abd", "s> abc", True), ("abc", "s>= abd", False),
    ("avx2 sse4", "<in> avx2", True), ("sse4", "<in> avx2", False),
    ("avx avx2 sse", "<all-in> avx sse", True), ("avx", "<all-in> avx sse", False),
    ("b", "<or> a <or> b <or> c", True), ("d", "<or> a <or> b", False),
    ("x", ">= 4", False),                               # not a number
    (None, ">= 4", False), (None, "x", False),
    ("4", ">=", False),                                 # operator without operand
])
def test_extra_specs_ops(value, req, expected):
    assert extra_specs_ops.match(value, req) is expected


# -- loading -------------------------------------------------------------------

def test_unknown_filter_is_a_clear_error():
    with pytest.raises(exception.SchedulerConfigError, match="NoSuchFilter"):
        F.load_filters(["ComputeFilter", "NoSuchFilter"])


def test_load_filters_keeps_order_and_accepts_dotted_names():
    names = [f.name for f in F.load_filters(["RamFilter", "x.y.ComputeFilter"])]
    assert names == ["RamFilter", "ComputeFilter"]


# -- ComputeFilter -------------------------------------------------------------

def test_compute_filter_up_and_enabled():
    st = states([node("a"), node("b", up=False), node("c", disabled=True),
                 node("d", up=False, disabled=True)])
    assert passing(F.ComputeFilter(), st, request()) == ["a"]


# -- Ram / Disk / Core ---------------------------------------------------------

def test_ram_filter_with_ratio_and_reserved():
    st = states([
        node("fits", memory_mb=4096, reserved_host_memory_mb=1024, ram_allocation_ratio=1.5,
             memory_mb_used=2000),                     # cap 4608, 2000+2048 <= 4608
        node("exact", memory_mb=4096, memory_mb_used=2048),   # 2048+2048 == 4096
        node("full", memory_mb=4096, reserved_host_memory_mb=1024,
             memory_mb_used=1500),                      # cap 3072 < 3548
    ])
    assert passing(F.RamFilter(), st, request(memory_mb=2048)) == ["exact", "fits"]


def test_disk_filter_counts_root_ephemeral_swap_and_reserved():
    st = states([
        node("a", local_gb=100, local_gb_used=80),                     # 80+22 > 100
        node("b", local_gb=100, local_gb_used=78),                     # 78+22 = 100
        node("c", local_gb=100, local_gb_used=70, reserved_host_disk_mb=10),  # cap 99
        node("d", local_gb=50, local_gb_used=60, disk_allocation_ratio=2.0),  # cap 100
    ])
    req = request(root_gb=10, ephemeral_gb=11, swap=512)   # 10+11+ceil(0.5) = 22 GiB
    assert req.allocation["disk_gb"] == 22
    assert passing(F.DiskFilter(), st, req) == ["b", "c", "d"]


def test_core_filter_with_ratio_and_reserved_cpus():
    st = states([node("a", vcpus=4, cpu_allocation_ratio=4.0, vcpus_used=14),   # 16
                 node("b", vcpus=4, cpu_allocation_ratio=4.0, vcpus_used=15),
                 node("c", vcpus=4, reserved_host_cpus=1, cpu_allocation_ratio=4.0,
                      vcpus_used=11)])                                            # cap 12
    assert passing(F.CoreFilter(), st, request(vcpus=2)) == ["a"]


def test_resource_filters_cost_nothing_for_zero_requests():
    st = states([node("a", vcpus_used=100)])
    req = request(vcpus=0, memory_mb=0, root_gb=0)
    for f in (F.RamFilter(), F.DiskFilter(), F.CoreFilter()):
        assert f.filter_mask(st, req) is None


# -- AvailabilityZoneFilter ----------------------------------------------------

def _az_aggs():
    az1 = {"id": 1, "uuid": "u1", "name": "a1", "metadata": {"availability_zone": "az1"}}
    other = {"id": 2, "uuid": "u2", "name": "a2", "metadata": {"ssd": "true"}}
    return {"h1": [az1], "h2": [az1, other], "h3": [other]}


def test_availability_zone_filter():
    st = states([node("h1"), node("h2"), node("h3"), node("h4")], _az_aggs(), "nova")
    f = F.AvailabilityZoneFilter()
    assert passing(f, st, request(az="az1")) == ["h1", "h2"]
    assert passing(f, st, request(az="nova")) == ["h3", "h4"]
    assert passing(f, st, request(az="nowhere")) == []
    assert f.filter_mask(st, request()) is None
    assert st.host_state(3).availability_zone == "nova"


# -- AggregateInstanceExtraSpecsFilter -----------------------------------------

def _spec_aggs():
    fast = {"id": 1, "uuid": "u1", "name": "fast",
            "metadata": {"ssd": "true", "cpu_class": "gold, platinum", "tier": "3"}}
    slow = {"id": 2, "uuid": "u2", "name": "slow", "metadata": {"ssd": "false", "tier": "1"}}
    return {"fast": [fast], "slow": [slow], "both": [fast, slow]}


def test_aggregate_extra_specs_scoped_and_unscoped():
    st = states([node("fast"), node("slow"), node("both"), node("none")], _spec_aggs())
    f = F.AggregateInstanceExtraSpecsFilter()
    assert passing(f, st, request(extra_specs={
        "aggregate_instance_extra_specs:ssd": "true"})) == ["both", "fast"]
    # unscoped key is checked too; a host without the key fails
    assert passing(f, st, request(extra_specs={"ssd": "false"})) == ["both", "slow"]
    # comma-separated metadata values are split; operators apply
    assert passing(f, st, request(extra_specs={
        "aggregate_instance_extra_specs:cpu_class": "<or> platinum <or> silver"})) == \
        ["both", "fast"]
    assert passing(f, st, request(extra_specs={
        "aggregate_instance_extra_specs:tier": ">= 2"})) == ["both", "fast"]
    # other scopes are ignored
    assert f.filter_mask(st, request(extra_specs={"hw:cpu_policy": "dedicated",
                                                  "capabilities:x": "1"})) is None
    assert f.filter_mask(st, request()) is None


# -- ComputeCapabilitiesFilter -------------------------------------------------

def test_compute_capabilities_filter():
    st = states([
        node("a", stats={"gpu": "a100", "numa": "2"}, hypervisor_type="QEMU"),
        node("b", stats={"gpu": "t4", "numa": "1"}, hypervisor_type="xen"),
        node("c", stats={}, cpu_info='{"arch": "aarch64"}'),
    ])
    f = F.ComputeCapabilitiesFilter()
    assert passing(f, st, request(extra_specs={"capabilities:gpu": "a100"})) == ["a"]
    assert passing(f, st, request(extra_specs={"capabilities:numa": ">= 1"})) == ["a", "b"]
    assert passing(f, st, request(extra_specs={"capabilities:hypervisor_type": "s== xen"})) \
        == ["b"]
    assert passing(f, st, request(extra_specs={"capabilities:cpu_info:arch": "aarch64"})) \
        == ["c"]
    assert passing(f, st, request(extra_specs={
        "capabilities:hypervisor_version": ">= 6002000"})) == ["a", "b", "c"]
    # unscoped: checked only where the host has the attribute/stat
    assert passing(f, st, request(extra_specs={"gpu": "t4"})) == ["b", "c"]
    # per-host numeric attributes
    st2 = states([node("small", memory_mb=4096), node("big", memory_mb=65536)])
    assert passing(f, st2, request(extra_specs={"capabilities:free_ram_mb": ">= 8192"})) \
        == ["big"]
    assert f.filter_mask(st, request(extra_specs={"hw:x": "1"})) is None


# -- ImagePropertiesFilter -----------------------------------------------------

def test_version_helpers():
    assert int_to_version(6002001) == (6, 2, 1)
    assert version_satisfies(6002000, ">=6.0")
    assert version_satisfies(6002000, ">=6.0, <7")
    assert not version_satisfies(7000000, ">=6.0,<7")


def test_image_properties_filter():
    st = states([
        node("kvm", supported_instances=[["x86_64", "qemu", "hvm"]], hypervisor_version=6002000),
        node("xen", hypervisor_type="xen", supported_instances=[["x86_64", "xen", "xen"]]),
        node("arm", supported_instances=[["aarch64", "qemu", "hvm"]]),
        node("bare", hypervisor_type="QEMU", supported_instances=[]),
    ])
    f = F.ImagePropertiesFilter()
    assert passing(f, st, request(image_props={"hw_architecture": "x86_64"})) == ["kvm", "xen"]
    assert passing(f, st, request(image_props={"img_hv_type": "QEMU"})) == ["arm", "bare", "kvm"]
    assert passing(f, st, request(image_props={"hypervisor_type": "xen",
                                               "vm_mode": "xen"})) == ["xen"]
    assert passing(f, st, request(image_props={"img_hv_type": "qemu",
                                               "img_hv_requested_version": ">=7.0"})) == []
    assert f.filter_mask(st, request(image_props={"os_distro": "cirros"})) is None


def test_image_min_ram_and_min_disk():
    st = states([node("a", memory_mb=2048, local_gb=10), node("b", memory_mb=8192,
                                                               local_gb=100)])
    f = F.ImagePropertiesFilter()
    assert passing(f, st, request(min_ram=4096)) == ["b"]
    assert passing(f, st, request(min_disk=20)) == ["b"]
    assert passing(f, st, request(min_disk=5)) == ["a", "b"]


# -- JsonFilter ----------------------------------------------------------------

def _json_states():
    return states([
        node("a", memory_mb=1024, vcpus=4, vcpus_used=1, local_gb=10),
        node("b", memory_mb=4096, vcpus=8, vcpus_used=8, local_gb=100,
             hypervisor_type="xen", stats={"rack": "r1"}),
        node("c", memory_mb=8192, vcpus=16, vcpus_used=2, local_gb=200,
             stats={"rack": "r2"}),
    ])


@pytest.mark.parametrize("query,expected", [
    (["=", "$free_ram_mb", 4096], ["b"]),
    (["=", "$free_ram_mb", 4096, 1024], []),              # lhs vs each rhs
    (["<", "$free_ram_mb", 4096], ["a"]),
    ([">", "$free_ram_mb", 1024], ["b", "c"]),
    (["<=", "$free_ram_mb", 4096], ["a", "b"]),
    ([">=", "$free_disk_mb", 102400], ["b", "c"]),
    (["in", "$vcpus_total", 4, 16], ["a", "c"]),
    (["not", ["=", "$hypervisor_type", "xen"]], ["a", "c"]),
    (["and", [">=", "$free_ram_mb", 2048], ["<", "$vcpus_used", "$vcpus_total"]], ["c"]),
    (["or", ["=", "$vcpus_used", 1], ["=", "$vcpus_used", 8]], ["a", "b"]),
    (["<", "$total_usable_ram_mb", 5000], ["a", "b"]),
    (["=", "$stats.rack", "r2"], ["c"]),
    (["=", "$nonexistent", 1], []),                        # missing var dropped → <2 args
    (["and"], ["a", "b", "c"]),
    (["or"], []),
    ([], ["a", "b", "c"]),
])
def test_json_filter_operators(query, expected):
    st = _json_states()
    req = request(hints={"query": json.dumps(query)})
    assert passing(F.JsonFilter(), st, req) == expected


def test_json_filter_absent_query_and_bad_operator():
    st = _json_states()
    assert F.JsonFilter().filter_mask(st, request()) is None
    req = request(hints={"query": json.dumps(["xor", 1, 2])})
    assert passing(F.JsonFilter(), st, req) == []


# -- Same/DifferentHost --------------------------------------------------------

def test_same_host_and_different_host():
    st = states([node("a"), node("b"), node("c")])
    where = {"i1": "a", "i2": "b"}
    assert passing(F.SameHostFilter(), st,
                   request(where, hints={"same_host": ["i1", "i2"]})) == ["a", "b"]
    assert passing(F.SameHostFilter(), st,
                   request(where, hints={"same_host": "i1"})) == ["a"]
    assert passing(F.SameHostFilter(), st,
                   request(where, hints={"same_host": ["gone"]})) == []
    assert passing(F.DifferentHostFilter(), st,
                   request(where, hints={"different_host": ["i1"]})) == ["b", "c"]
    assert F.SameHostFilter().filter_mask(st, request()) is None
    assert F.DifferentHostFilter().filter_mask(st, request()) is None


# -- server groups -------------------------------------------------------------

def _group(policy, hosts=(), members=(), rules=None):
    return {"uuid": "g", "policy": policy, "rules": rules or {}, "hosts": list(hosts),
            "members": list(members)}


def test_affinity_filter():
    st = states([node("a"), node("b"), node("c")])
    f = F.ServerGroupAffinityFilter()
    assert f.filter_mask(st, request(group=_group("affinity"))) is None   # first member
    assert passing(f, st, request(group=_group("affinity", hosts=["b"]))) == ["b"]
    assert f.filter_mask(st, request(group=_group("anti-affinity", hosts=["b"]))) is None
    assert f.filter_mask(st, request(group=_group("soft-affinity", hosts=["b"]))) is None


def test_anti_affinity_filter_with_max_server_per_host():
    st = states([node("a"), node("b"), node("c")])
    where = {"m1": "a", "m2": "a", "m3": "b"}
    f = F.ServerGroupAntiAffinityFilter()
    req = request(where, group=_group("anti-affinity", hosts=["a", "b"],
                                      members=["m1", "m2", "m3"]))
    assert passing(f, st, req) == ["c"]
    req = request(where, group=_group("anti-affinity", hosts=["a", "b"],
                                      members=["m1", "m2", "m3"],
                                      rules={"max_server_per_host": 2}))
    assert passing(f, st, req) == ["b", "c"]
    req.record_pick("b")            # an earlier instance of the same request
    assert passing(f, st, req) == ["c"]
    assert f.filter_mask(st, request(group=_group("affinity", hosts=["a"]))) is None


def test_host_state_view_and_consume():
    st = states([node("a", memory_mb=4096, reserved_host_memory_mb=512, local_gb=100,
                      reserved_host_disk_mb=2048)])
    hs = st.host_state(0)
    assert hs.free_ram_mb == 3584 and hs.free_disk_mb == 100 * 1024 - 2048
    st.consume(0, 2, 1024, 10)
    hs = st.host_state(0)
    assert (hs.vcpus_used, hs.memory_mb_used, hs.local_gb_used, hs.num_instances) == \
        (2, 1024, 10, 1)
    assert hs.free_ram_mb == 2560
    st.consume(0, 2, 1024, 10, sign=-1)
    assert st.host_state(0).free_ram_mb == 3584
    assert "a" in str(hs)
    assert np.all(st.cap_disk_gb == 98)
