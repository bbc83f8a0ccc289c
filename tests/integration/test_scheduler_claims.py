"""Claims on real MariaDB: the race for the last slot, release, heal, upsert."""
import threading

import pytest
import sqlalchemy as sa

from controlplane.db import compute_nodes as cn
from controlplane.db import engine as db_engine
from tests.integration.scheduler_db import temp_database

pytestmark = pytest.mark.integration


@pytest.fixture
def cell_engine(conf, mysql_server_url):
    with temp_database(mysql_server_url, "cell") as url:
        yield db_engine.get_engine(url)


def _node(engine, host="h1", **kw):
    values = {"host": host, "hypervisor_hostname": host + ".node", "vcpus": 4,
              "memory_mb": 8192, "local_gb": 100, "cpu_allocation_ratio": 1.0,
              "ram_allocation_ratio": 1.0, "disk_allocation_ratio": 1.0,
              "reserved_host_memory_mb": 0, "reserved_host_disk_mb": 0,
              "reserved_host_cpus": 0, "hypervisor_type": "QEMU",
              "stats": {"gpu": "none"}, "supported_instances": [["x86_64", "qemu", "hvm"]]}
    values.update(kw)
    return cn.upsert_compute_node(engine, values)


def test_upsert_creates_updates_and_never_touches_used(cell_engine):
    node = _node(cell_engine, vcpus=8)
    assert node["vcpus"] == 8 and node["vcpus_used"] == 0 and node["stats"] == {"gpu": "none"}
    assert cn.claim(cell_engine, node["uuid"], "i1", 2, 1024, 10)
    again = _node(cell_engine, vcpus=16, vcpus_used=0, memory_mb_used=0, running_vms=1)
    assert again["uuid"] == node["uuid"] and again["vcpus"] == 16
    assert (again["vcpus_used"], again["memory_mb_used"], again["local_gb_used"]) == (2, 1024, 10)
    assert [n["uuid"] for n in cn.get_compute_nodes(cell_engine, host="h1")] == [node["uuid"]]
    assert cn.list_compute_nodes(cell_engine)[0]["service_uuid"] is None   # no service row
    assert cn.get_host_state_rows(cell_engine) == []                       # not schedulable


def test_claim_respects_capacity_ratios_and_reserved(cell_engine):
    node = _node(cell_engine, vcpus=4, cpu_allocation_ratio=2.0, reserved_host_cpus=1,
                 memory_mb=4096, reserved_host_memory_mb=1024, local_gb=20,
                 reserved_host_disk_mb=1)  # 6 vcpus, 3072 MiB, 19 GiB claimable
    u = node["uuid"]
    assert cn.claim(cell_engine, u, "a", 4, 1024, 10)
    assert not cn.claim(cell_engine, u, "b", 3, 1024, 1)     # vcpus 7 > 6
    assert not cn.claim(cell_engine, u, "b", 1, 2049, 1)     # ram
    assert not cn.claim(cell_engine, u, "b", 1, 1024, 10)    # disk 20 > 19
    assert cn.claim(cell_engine, u, "b", 2, 2048, 9)         # exactly full
    assert not cn.claim(cell_engine, "no-such-node", "c", 1, 1, 1)
    got = cn.get_compute_node(cell_engine, u)
    assert (got["vcpus_used"], got["memory_mb_used"], got["local_gb_used"]) == (6, 3072, 19)
    assert got["generation"] == 2


def test_claim_is_idempotent_and_release_too(cell_engine):
    u = _node(cell_engine)["uuid"]
    other = _node(cell_engine, host="h2")["uuid"]
    assert cn.claim(cell_engine, u, "i1", 1, 1000, 10)
    assert cn.claim(cell_engine, u, "i1", 1, 1000, 10)       # same node: True, not doubled
    assert not cn.claim(cell_engine, other, "i1", 1, 1000, 10)  # allocated elsewhere
    assert cn.get_compute_node(cell_engine, u)["memory_mb_used"] == 1000
    assert cn.get_allocation(cell_engine, "i1")["compute_node_uuid"] == u
    assert cn.release(cell_engine, "i1") is True
    assert cn.release(cell_engine, "i1") is False
    node = cn.get_compute_node(cell_engine, u)
    assert (node["vcpus_used"], node["memory_mb_used"], node["local_gb_used"]) == (0, 0, 0)
    assert cn.get_allocation(cell_engine, "i1") is None


def test_heal_usage_recomputes_from_allocations(cell_engine):
    u = _node(cell_engine)["uuid"]
    cn.claim(cell_engine, u, "i1", 1, 1000, 10)
    cn.claim(cell_engine, u, "i2", 2, 500, 5)
    with cell_engine.begin() as conn:   # simulate drift
        conn.execute(sa.text("UPDATE compute_nodes SET vcpus_used = 99, memory_mb_used = 1"))
    healed = cn.heal_usage(cell_engine, u)
    assert (healed["vcpus_used"], healed["memory_mb_used"], healed["local_gb_used"]) == \
        (3, 1500, 15)


@pytest.mark.parametrize("round_", range(3))
def test_racing_claims_for_the_last_slot(cell_engine, round_):
    """8 threads race for a host with room for exactly one instance."""
    node = _node(cell_engine, vcpus=2, memory_mb=4096, local_gb=40)
    u = node["uuid"]
    assert cn.claim(cell_engine, u, "resident", 1, 2048, 20)   # one slot left
    barrier = threading.Barrier(8)
    results = {}

    def worker(k):
        barrier.wait()
        results[k] = cn.claim(cell_engine, u, "racer-%d" % k, 1, 2048, 20)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(results.values()) == 1, results
    got = cn.get_compute_node(cell_engine, u)
    assert (got["vcpus_used"], got["memory_mb_used"], got["local_gb_used"]) == (2, 4096, 40)
    with cell_engine.connect() as conn:
        n = conn.execute(sa.text("SELECT COUNT(*) FROM allocations")).scalar_one()
    assert n == 2
    winner = next(k for k, ok in results.items() if ok)
    # concurrent releases of the winner: exactly one subtracts
    rel = []
    threads = [threading.Thread(target=lambda: rel.append(cn.release(cell_engine,
                                                                    "racer-%d" % winner)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(rel) == [False, False, False, True]
    assert cn.get_compute_node(cell_engine, u)["memory_mb_used"] == 2048


def test_racing_processes_for_the_last_slot(cell_engine, mysql_server_url):
    """Separate processes (own connections, no shared GIL) race too."""
    import multiprocessing
    node = _node(cell_engine, vcpus=1, memory_mb=1024, local_gb=10)
    url = cell_engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_claim_in_process, [(url, node["uuid"], "p%d" % k)
                                                   for k in range(4)])
    assert sum(results) == 1
    got = cn.get_compute_node(cell_engine, node["uuid"])
    assert got["vcpus_used"] == 1 and got["memory_mb_used"] == 1024


def _claim_in_process(url, node_uuid, instance_uuid):
    from controlplane.conf import CONF
    CONF([], project="controlplane", default_config_files=[])
    from controlplane.db import compute_nodes
    from controlplane.db import engine as eng
    return compute_nodes.claim(eng.get_engine(url), node_uuid, instance_uuid, 1, 1024, 10)
