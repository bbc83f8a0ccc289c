"""Benchmark of the scheduler decision (filter + weigh + select).

Builds synthetic HostStates for 1,000 and 10,000 compute nodes — two
cells, three availability zones, SSD/GPU aggregates with extra-spec
metadata, a hypervisor mix, capability stats, ~5% hosts down, ~3%
disabled, ~10% full — and times one-instance decisions for requests that
use every enabled filter and the three weighers. The claim and the DB load
are excluded; parsing the request_spec is included.

Prints one JSON line per (hosts, scenario):
``{"hosts", "scenario", "runs", "median_ms", "p95_ms", "p99_ms", "min_ms",
"max_ms", "passing_hosts", "filters_used"}``.

Usage: ``python bench/scheduler_bench.py [--runs 200] [--sizes 1000,10000]``
"""
import argparse
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from controlplane.conf import CONF  # noqa: E402
from controlplane.scheduler.filter_scheduler import FilterScheduler  # noqa: E402
from controlplane.scheduler.host_state import HostStates  # noqa: E402
from controlplane.scheduler.request import SchedulingRequest  # noqa: E402

CELLS = ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"]


def make_aggregates():
    """Aggregates: three zones, ssd, gpu, and a 'fast' aggregate with a cpu_class."""
    return [
        {"id": 1, "uuid": "agg-az1", "name": "az1", "metadata": {"availability_zone": "az1"}},
        {"id": 2, "uuid": "agg-az2", "name": "az2", "metadata": {"availability_zone": "az2"}},
        {"id": 3, "uuid": "agg-az3", "name": "az3", "metadata": {"availability_zone": "az3"}},
        {"id": 4, "uuid": "agg-ssd", "name": "ssd", "metadata": {"ssd": "true"}},
        {"id": 5, "uuid": "agg-gpu", "name": "gpu", "metadata": {"gpu": "true", "gpu_model": "a100"}},
        {"id": 6, "uuid": "agg-fast", "name": "fast",
         "metadata": {"cpu_class": "gold,platinum", "tier": "3"}},
    ]


def make_host_states(n, seed=42):
    """``(HostStates, host names)`` for ``n`` synthetic compute nodes."""
    rnd = random.Random(seed)
    aggs = make_aggregates()
    records, host_aggs = [], {}
    for i in range(n):
        host = "cmp%05d" % i
        vcpus = rnd.choice([32, 48, 64, 96])
        mem = rnd.choice([131072, 262144, 524288])
        disk = rnd.choice([1000, 2000, 4000])
        full = rnd.random() < 0.10
        used_frac = 0.99 if full else rnd.random() * 0.7
        hv = "QEMU" if rnd.random() < 0.9 else "xen"
        records.append({
            "host": host, "nodename": host + ".local", "uuid": "node-%05d" % i,
            "cell_uuid": CELLS[i % 2],
            "vcpus": vcpus, "memory_mb": mem, "local_gb": disk,
            "vcpus_used": int(vcpus * 16 * used_frac),
            "memory_mb_used": int((mem - 4096) * 1.5 * used_frac),
            "local_gb_used": int(disk * used_frac),
            "reserved_host_memory_mb": 4096, "reserved_host_disk_mb": 10240,
            "reserved_host_cpus": 2,
            "cpu_allocation_ratio": 16.0, "ram_allocation_ratio": 1.5,
            "disk_allocation_ratio": 1.0,
            "hypervisor_type": hv,
            "hypervisor_version": rnd.choice([6002000, 7001000, 8000000]),
            "supported_instances": [["x86_64", hv.lower(), "hvm"]],
            "stats": {"cpu_model": rnd.choice(["skylake", "cascadelake", "icelake"]),
                      "numa_nodes": rnd.choice(["1", "2"])},
            "up": rnd.random() > 0.05, "disabled": rnd.random() < 0.03,
            "num_instances": rnd.randint(0, 40),
        })
        mine = [aggs[i % 3]]
        if rnd.random() < 0.5:
            mine.append(aggs[3])
        if rnd.random() < 0.1:
            mine.append(aggs[4])
        if rnd.random() < 0.3:
            mine.append(aggs[5])
        host_aggs[host] = mine
    return HostStates(records, host_aggs, "nova"), [r["host"] for r in records]


def make_request(hosts, scenario, rnd):
    """A request_spec using every filter, and the ``{uuid: host}`` of its hints."""
    instance_hosts = {}

    def place(prefix, count):
        uuids = []
        for k in range(count):
            u = "%s-%04d" % (prefix, k)
            instance_hosts[u] = rnd.choice(hosts)
            uuids.append(u)
        return uuids

    hints = {
        "query": json.dumps(["and", [">=", "$free_ram_mb", 1024],
                             [">=", "$free_disk_mb", 20480],
                             ["<", "$vcpus_used", 900],
                             [">=", "$total_usable_ram_mb", 65536],
                             ["not", ["=", "$hypervisor_type", "xen"]],
                             ["or", ["in", "$hypervisor_type", "QEMU", "kvm"],
                              [">", "$vcpus_total", 1000]]]),
        "different_host": place("diff", 20),
    }
    group = {"uuid": "group-1", "rules": {}, "hosts": [], "members": []}
    if scenario == "anti_affinity":
        group["policy"] = "anti-affinity"
        group["rules"] = {"max_server_per_host": 2}
        group["members"] = place("member", 200)
    elif scenario == "flavor_only":  # worst case for weighing: most hosts pass
        spec = {"instance_uuid": "inst-x", "num_instances": 1,
                "flavor": {"flavorid": "f0", "name": "m1.small", "vcpus": 1,
                           "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 0,
                           "swap": 0, "extra_specs": {}},
                "image": {"id": "img", "properties": {}}, "scheduler_hints": {},
                "instance_group": None}
        return spec, {}
    else:  # same_host + affinity: the instance must join its peers
        hints["same_host"] = place("same", 400)
        group["policy"] = "affinity"
        group["members"] = place("aff", 300)
        group["hosts"] = sorted({instance_hosts[u] for u in group["members"]})
    spec = {
        "instance_uuid": "inst-%d" % rnd.randint(0, 1 << 30), "num_instances": 1,
        "project_id": "p", "user_id": "u",
        "flavor": {"flavorid": "f1", "name": "m1.large", "vcpus": 4, "memory_mb": 8192,
                   "root_gb": 40, "ephemeral_gb": 10, "swap": 1024,
                   "extra_specs": {"aggregate_instance_extra_specs:ssd": "true",
                                   "aggregate_instance_extra_specs:cpu_class":
                                       "<or> gold <or> silver",
                                   "capabilities:cpu_model": "<or> skylake <or> cascadelake",
                                   "capabilities:hypervisor_version": ">= 6000000",
                                   "capabilities:numa_nodes": ">= 1",
                                   "hw:cpu_policy": "shared"}},
        "image": {"id": "img", "name": "cirros", "min_ram": 512, "min_disk": 10,
                  "properties": {"hw_architecture": "x86_64", "img_hv_type": "qemu",
                                 "img_hv_requested_version": ">=6.0"}},
        "availability_zone": "az1",
        "force_hosts": [], "force_nodes": [], "ignore_hosts": [hosts[0], hosts[1]],
        "scheduler_hints": hints, "instance_group": group,
    }
    return spec, instance_hosts


def percentile(sorted_values, p):
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def run(n, scenario, runs):
    states, hosts = make_host_states(n)
    scheduler = FilterScheduler(rng=random.Random(1))
    rnd = random.Random(7)
    spec, instance_hosts = make_request(hosts, scenario, rnd)
    times, passing, filters_used = [], None, None
    for k in range(runs + 10):
        t0 = time.perf_counter()
        req = SchedulingRequest(spec, instance_hosts)
        decision = scheduler.select(states, req)
        dt = (time.perf_counter() - t0) * 1000.0
        if k >= 10:  # warm-up excluded
            times.append(dt)
        passing = decision.filter_results[-1][2]
        filters_used = [r[0] for r in decision.filter_results]
    times.sort()
    return {"hosts": n, "scenario": scenario, "runs": runs,
            "median_ms": round(statistics.median(times), 3),
            "p95_ms": round(percentile(times, 95), 3),
            "p99_ms": round(percentile(times, 99), 3),
            "min_ms": round(times[0], 3), "max_ms": round(times[-1], 3),
            "passing_hosts": passing, "filters_used": filters_used,
            "weighers": [w.name for w in scheduler.weighers],
            "host_subset_size": CONF.filter_scheduler.host_subset_size,
            "alternates": CONF.scheduler.max_attempts - 1}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--scenarios", default="anti_affinity,same_host_affinity,flavor_only")
    args = parser.parse_args(argv)
    CONF([], project="controlplane", default_config_files=[])
    for n in (int(s) for s in args.sizes.split(",")):
        for scenario in args.scenarios.split(","):
            print(json.dumps(run(n, scenario, args.runs)), flush=True)


if __name__ == "__main__":
    main()
