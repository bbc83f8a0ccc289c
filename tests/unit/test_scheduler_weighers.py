"""Weighers, normalisation, host_subset_size and alternates."""
import random

import numpy as np
import pytest

from controlplane import exception
from controlplane.scheduler.filter_scheduler import FilterScheduler, NoHostsLeft
from controlplane.scheduler.weighers import (CPUWeigher, DiskWeigher, RAMWeigher,
                                             load_weighers, normalize)
from tests.unit.scheduler_fakes import CELL2, node, request, states


def test_normalize_min_max():
    assert list(normalize([10, 20, 30])) == [0.0, 0.5, 1.0]
    assert list(normalize([5, 5, 5])) == [0.0, 0.0, 0.0]
    assert list(normalize([5, 15], minval=0, maxval=20)) == [0.25, 0.75]
    assert normalize([]).size == 0


def test_unknown_weigher_is_a_clear_error():
    with pytest.raises(exception.SchedulerConfigError, match="Bogus"):
        load_weighers(["RAMWeigher", "Bogus"])


def _three():
    return states([node("a", memory_mb=1000, local_gb=30, vcpus=4),
                   node("b", memory_mb=3000, local_gb=20, vcpus=8),
                   node("c", memory_mb=2000, local_gb=10, vcpus=16, vcpus_used=4)])


def test_raw_weights(conf):
    st = _three()
    idx = np.arange(3)
    req = request()
    assert list(RAMWeigher().raw_weights(st, idx, req)) == [1000, 3000, 2000]
    assert list(DiskWeigher().raw_weights(st, idx, req)) == [30720, 20480, 10240]
    assert list(CPUWeigher().raw_weights(st, idx, req)) == [4, 8, 12]


def test_weights_summed_with_multipliers(conf):
    st = _three()
    sched = FilterScheduler(filter_names=[], weigher_names=["RAMWeigher", "DiskWeigher",
                                                            "CPUWeigher"])
    w = sched.weigh(st, np.arange(3), request())
    # ram: 0, 1, .5 ; disk: 1, .5, 0 ; cpu: 0, .5, 1
    assert list(w) == pytest.approx([1.0, 2.0, 1.5])
    conf.set_override("ram_weight_multiplier", -2.0, "filter_scheduler")   # stack by RAM
    conf.set_override("disk_weight_multiplier", 0.0, "filter_scheduler")   # off
    w = sched.weigh(st, np.arange(3), request())
    assert list(w) == pytest.approx([0.0, -1.5, 0.0])


def test_select_best_and_alternates_from_same_cell(conf):
    st = states([node("a", memory_mb=1000), node("b", memory_mb=4000),
                 node("c", memory_mb=3000), node("d", memory_mb=2000),
                 node("x", memory_mb=9000, cell_uuid=CELL2)])
    sched = FilterScheduler(filter_names=["RamFilter"], weigher_names=["RAMWeigher"])
    conf.set_override("max_attempts", 3, "scheduler")
    d = sched.select(st, request(memory_mb=100))
    assert st.host[d.chosen] == "x" and d.alternates == []   # alone in its cell
    d = sched.select(st, request(memory_mb=100, ignore_hosts=["x"]))
    assert st.host[d.chosen] == "b"
    assert [st.host[i] for i in d.alternates] == ["c", "d"]
    d = sched.select(st, request(memory_mb=100, ignore_hosts=["x"]), num_alternates=0)
    assert d.alternates == []


def test_host_subset_size_picks_among_the_best(conf):
    st = states([node("h%d" % i, memory_mb=1000 * (i + 1)) for i in range(10)])
    sched = FilterScheduler(filter_names=[], weigher_names=["RAMWeigher"],
                            rng=random.Random(3))
    conf.set_override("host_subset_size", 3, "filter_scheduler")
    chosen = {st.host[sched.select(st, request()).chosen] for _ in range(200)}
    assert chosen == {"h9", "h8", "h7"}
    conf.set_override("host_subset_size", 1, "filter_scheduler")
    assert {st.host[sched.select(st, request()).chosen] for _ in range(20)} == {"h9"}


def test_large_candidate_set_uses_partial_sort(conf):
    n = 2000
    st = states([node("h%04d" % i, memory_mb=1000 + i) for i in range(n)])
    sched = FilterScheduler(filter_names=["ComputeFilter"], weigher_names=["RAMWeigher"])
    d = sched.select(st, request(), num_alternates=4)
    assert st.host[d.chosen] == "h1999"
    assert [st.host[i] for i in d.alternates] == ["h1998", "h1997", "h1996", "h1995"]


def test_no_hosts_left_reason_names_the_filter(conf, caplog):
    st = states([node("a", memory_mb=1024), node("b", memory_mb=2048, up=False)])
    sched = FilterScheduler(filter_names=["ComputeFilter", "RamFilter", "CoreFilter"],
                            weigher_names=[])
    with caplog.at_level("INFO"):
        with pytest.raises(NoHostsLeft) as err:
            sched.select(st, request(memory_mb=4096))
    assert "RamFilter" in err.value.reason
    assert "'ComputeFilter: (start: 2, end: 1)'" in caplog.text
    assert "'RamFilter: (start: 1, end: 0)'" in caplog.text
    assert err.value.filter_results[-1] == ("RamFilter", 1, 0)


def test_forced_hosts_bypass_filters(conf):
    st = states([node("a", up=False), node("b", memory_mb=10), node("c")])
    sched = FilterScheduler(filter_names=["ComputeFilter", "RamFilter"],
                            weigher_names=["RAMWeigher"])
    d = sched.select(st, request(memory_mb=4096, force_hosts=["a"]))
    assert st.host[d.chosen] == "a"
    d = sched.select(st, request(memory_mb=4096, force_nodes=["b"]))
    assert st.host[d.chosen] == "b"
    with pytest.raises(NoHostsLeft, match="force_hosts"):
        sched.select(st, request(force_hosts=["zzz"]))
    # ignore_hosts still applies before forcing (Nova)
    with pytest.raises(NoHostsLeft):
        sched.select(st, request(force_hosts=["a"], ignore_hosts=["a"]))
