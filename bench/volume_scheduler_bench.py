"""Benchmark of the volume scheduler: decisions per second over N backends.

Synthetic pool states for 1,000 backends (one pool each; three
availability zones; a thin/thick mix with over-subscription ratios 1-20
and reserved percentages 0-10; three storage protocols and a ``tier``
capability; ~3% of the services down, ~2% disabled, ~10% nearly full).
Requests: sizes 1-200 GiB, a zone in 80% of them, a volume type with
extra specs in 60% (``volume_backend_name``, ``capabilities:tier``,
``<is> True`` on thin support, ``provisioning:type=thick``).

Scenario ``select``: filters (AvailabilityZone, Capacity, Capabilities)
and weighers (Capacity, AllocatedCapacity), pick the best pool and consume
the request in the snapshot — the scheduler's pure computation per volume.
Scenario ``select_and_claim`` (with ``--claims``): the same plus the atomic
claim in a throw-away MariaDB API database (``volume_pools.claim``), with
``--threads`` schedulers in parallel, as ``VolumeSchedulerManager.schedule``
runs it.

Prints one JSON line per (backends, scenario): ``{"backends", "scenario",
"decisions", "seconds", "decisions_per_s", "median_ms", "p95_ms", "p99_ms",
"no_valid_backend", "threads"}``.

Usage: ``python bench/volume_scheduler_bench.py [--decisions 5000]
[--sizes 1000] [--claims] [--threads 4] [--mysql mysql+pymysql://root@127.0.0.1]``
"""
import argparse
import datetime
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from controlplane.conf import CONF  # noqa: E402
from controlplane.volume import exception as vexc  # noqa: E402
from controlplane.volume.scheduler.host_state import PoolStates  # noqa: E402
from controlplane.volume.scheduler.manager import FilterScheduler  # noqa: E402
from controlplane.volume.scheduler.request import VolumeRequest  # noqa: E402

ZONES = ["az1", "az2", "az3"]
PROTOCOLS = ["file", "nfs", "iscsi"]
FILTERS = ["AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter"]
WEIGHERS = ["CapacityWeigher", "AllocatedCapacityWeigher"]


def make_rows(n, seed=7, now=None):
    """Rows shaped like ``volume_pools.get_pool_states`` for ``n`` backends."""
    rnd = random.Random(seed)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    rows = []
    for i in range(n):
        thin = rnd.random() < 0.6
        total = float(rnd.choice([1000, 2000, 5000, 10000]))
        full = rnd.random() < 0.10
        used = total * (0.995 if full else rnd.random() * 0.7)
        rows.append({
            "name": "vol%04d@be%04d#pool0" % (i, i), "host": "vol%04d" % i,
            "backend": "be%04d" % i, "pool": "pool0",
            "volume_backend_name": "tier%d" % (i % 10),
            "availability_zone": ZONES[i % 3],
            "total_capacity_gb": total, "free_capacity_gb": total - used,
            "allocated_capacity_gb": used, "provisioned_capacity_gb": used * (2 if thin else 1),
            "thin_provisioning_support": thin, "thick_provisioning_support": not thin,
            "max_over_subscription_ratio": float(rnd.choice([1, 2, 5, 20])) if thin else 1.0,
            "reserved_percentage": rnd.choice([0, 5, 10]),
            "capabilities": {"storage_protocol": PROTOCOLS[(i // 3) % 3], "tier": str(i % 4),
                             "vendor_name": "controlplane", "QoS_support": False},
            "service_disabled": rnd.random() < 0.02,
            "service_updated_at": now - datetime.timedelta(
                seconds=3600 if rnd.random() < 0.03 else 5),
        })
    return rows


def make_requests(k, seed=11):
    rnd = random.Random(seed)
    out = []
    for _ in range(k):
        specs = {}
        r = rnd.random()
        if r < 0.2:
            specs = {"volume_backend_name": "tier%d" % rnd.randrange(10)}
        elif r < 0.4:
            specs = {"capabilities:tier": ">= 2", "storage_protocol": "<or> nfs <or> file"}
        elif r < 0.5:
            specs = {"thin_provisioning_support": "<is> True"}
        elif r < 0.6:
            specs = {"provisioning:type": "thick"}
        spec = {"volume_id": str(uuid.uuid4()), "size": rnd.choice([1, 5, 10, 20, 50, 100, 200]),
                "availability_zone": rnd.choice(ZONES) if rnd.random() < 0.8 else None,
                "volume_type": {"extra_specs": specs}}
        out.append(spec)
    return out


def _stats(times, decisions, seconds, misses, backends, scenario, threads):
    times = sorted(times)

    def pct(p):
        return round(times[min(len(times) - 1, int(p * len(times)))] * 1000, 4)
    return {"backends": backends, "scenario": scenario, "decisions": decisions,
            "seconds": round(seconds, 3),
            "decisions_per_s": round(decisions / seconds, 1) if seconds else None,
            "median_ms": round(statistics.median(times) * 1000, 4), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "no_valid_backend": misses, "threads": threads}


def run_select(n, decisions):
    states = PoolStates(make_rows(n), down_time=60)
    sched = FilterScheduler(FILTERS, WEIGHERS)
    specs = make_requests(decisions)
    times, misses = [], 0
    start = time.perf_counter()
    for spec in specs:
        t0 = time.perf_counter()
        req = VolumeRequest.from_spec(spec)   # parsing the request is included
        try:
            order = sched.candidates(states, req)
            states.consume(order[0], req.size)
        except vexc.NoValidBackend:
            misses += 1
        times.append(time.perf_counter() - t0)
    return _stats(times, decisions, time.perf_counter() - start, misses, n, "select", 1)


def run_claims(n, decisions, threads, mysql):
    """select + DB claim against a temporary migrated API database."""
    import sqlalchemy as sa
    from controlplane.db import engine as db_engine
    from controlplane.db import migration
    from controlplane.db import volume_pools as db_pools
    from controlplane.db import volume_services as db_services
    from controlplane.volume.scheduler.manager import VolumeSchedulerManager
    name = "bench_volsched_%s" % uuid.uuid4().hex[:8]
    url = "%s/%s" % (mysql, name)
    migration.db_sync(url, "api")
    engine = db_engine.get_engine(url, "api_database")
    try:
        rows = make_rows(n)
        for r in rows:
            db_pools.report_pools(engine, r["host"], r["backend"], [dict(
                {k: r[k] for k in db_pools.REPORTED_FIELDS}, pool_name=r["pool"],
                **r["capabilities"])])
            svc = db_services.create_or_get_service(engine, "%s@%s" % (r["host"], r["backend"]),
                                                    db_services.VOLUME_BINARY)
            if r["service_disabled"]:
                db_services.set_disabled(engine, svc["host"], svc["binary"], True)
        with engine.begin() as conn:   # claims own allocated/provisioned: seed them
            for r in rows:
                conn.execute(sa.text(
                    "UPDATE volume_pools SET allocated_capacity_gb=:a, "
                    "provisioned_capacity_gb=:p WHERE name=:n"),
                    {"a": r["allocated_capacity_gb"], "p": r["provisioned_capacity_gb"],
                     "n": r["name"]})
        CONF.set_override("scheduler_default_filters", FILTERS, "volume_scheduler")
        CONF.set_override("scheduler_default_weighers", WEIGHERS, "volume_scheduler")
        CONF.set_override("pool_state_refresh_interval", 2.0, "volume_scheduler")
        mgr = VolumeSchedulerManager(engine=engine, volume_api=object())
        mgr.pool_states(force=True)
        specs = make_requests(decisions)
        times, misses = [], [0]
        lock = threading.Lock()

        def worker(chunk):
            local = []
            for spec in chunk:
                t0 = time.perf_counter()
                try:
                    mgr.schedule(VolumeRequest.from_spec(spec))
                except vexc.NoValidBackend:
                    with lock:
                        misses[0] += 1
                local.append(time.perf_counter() - t0)
            with lock:
                times.extend(local)
        chunks = [specs[i::threads] for i in range(threads)]
        ts = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        start = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        seconds = time.perf_counter() - start
        return _stats(times, decisions, seconds, misses[0], n, "select_and_claim", threads)
    finally:
        db_engine.dispose_all()
        admin = sa.create_engine(mysql + "/", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS `%s`" % name))
        admin.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--sizes", default="1000")
    parser.add_argument("--claims", action="store_true",
                        help="also run select_and_claim against MariaDB")
    parser.add_argument("--claim-decisions", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--mysql", default=os.environ.get("CONTROLPLANE_TEST_MYSQL",
                                                          "mysql+pymysql://root@127.0.0.1"))
    args = parser.parse_args(argv)
    CONF([], project="controlplane", default_config_files=[])
    for n in (int(s) for s in args.sizes.split(",")):
        print(json.dumps(run_select(n, args.decisions)), flush=True)
        if args.claims:
            print(json.dumps(run_claims(n, args.claim_decisions, args.threads, args.mysql)),
                  flush=True)


if __name__ == "__main__":
    main()
