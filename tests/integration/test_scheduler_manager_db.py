"""SchedulerManager end to end on MariaDB: cells, services, nodes, aggregates, claims."""
import pytest

from controlplane import exception
from controlplane.db import aggregates as agg
from controlplane.db import cells
from controlplane.db import compute_nodes as cn
from controlplane.db import engine as db_engine
from controlplane.db import instances
from controlplane.db import services
from controlplane.scheduler.manager import SchedulerManager
from tests.integration.scheduler_db import temp_database
from tests.unit.scheduler_fakes import spec

pytestmark = pytest.mark.integration

CELL_UUID = "c0ffee00-0000-0000-0000-000000000001"


@pytest.fixture
def cloud(conf, mysql_server_url):
    with temp_database(mysql_server_url, "api") as api_url, \
            temp_database(mysql_server_url, "cell") as cell_url:
        conf.set_override("connection", api_url, "api_database")
        conf.set_override("connection", cell_url, "database")
        conf.set_override("host_state_refresh_interval", 0, "scheduler")
        cells.create_cell_mapping(db_engine.CELL0_UUID, "cell0", "none:///", cell_url)
        cells.create_cell_mapping(CELL_UUID, "cell1", "rabbit://", cell_url)
        engine = db_engine.get_engine(cell_url)
        nodes = {}
        for host, mem in (("h1", 4096), ("h2", 8192), ("h3", 16384)):
            services.create_or_get_service(engine, host, services.COMPUTE_BINARY)
            nodes[host] = cn.upsert_compute_node(engine, {
                "host": host, "hypervisor_hostname": host, "vcpus": 8, "memory_mb": mem,
                "local_gb": 100, "cpu_allocation_ratio": 1.0, "ram_allocation_ratio": 1.0,
                "disk_allocation_ratio": 1.0, "reserved_host_memory_mb": 0})
        yield engine, nodes


def test_select_destinations_claims_in_the_cell(cloud, conf):
    engine, nodes = cloud
    a = agg.create_aggregate("zone-a", availability_zone="az-a")
    agg.add_host(a["id"], "h1")
    agg.add_host(a["id"], "h2")
    m = SchedulerManager()
    out = m.select_destinations(None, spec(memory_mb=2048, az="az-a"), ["i1"])
    assert out[0][0]["host"] == "h2" and out[0][0]["cell_uuid"] == CELL_UUID
    assert [s["host"] for s in out[0][1:]] == ["h1"]
    assert cn.get_allocation(engine, "i1")["compute_node_uuid"] == nodes["h2"]["uuid"]
    # az-a holds six 2 GiB instances (h1: 2, h2: 4); h3 is in the default zone
    out = m.select_destinations(None, spec(memory_mb=2048, az="az-a"),
                                ["i2", "i3", "i4", "i5", "i6"])
    assert sorted(s[0]["host"] for s in out) == ["h1", "h1", "h2", "h2", "h2"]
    with pytest.raises(exception.NoValidHost, match="No valid host was found"):
        m.select_destinations(None, spec(memory_mb=2048, az="az-a"), ["i7"])
    assert cn.get_allocation(engine, "i7") is None
    # all-or-nothing: a 2-instance request in az-a after freeing one slot fails whole
    assert m.release_claim(None, "i6", CELL_UUID) is True
    with pytest.raises(exception.NoValidHost):
        m.select_destinations(None, spec(memory_mb=2048, az="az-a"), ["i8", "i9"])
    assert cn.get_allocation(engine, "i8") is None
    # alternates can be claimed on a reschedule, and released
    assert m.release_claim(None, "i1", CELL_UUID) is True
    sel = {"host": "h2", "nodename": "h2", "compute_node_uuid": nodes["h2"]["uuid"],
           "cell_uuid": CELL_UUID, "limits": {},
           "allocation": {"vcpus": 1, "memory_mb": 2048, "disk_gb": 1}}
    assert m.claim_alternate(None, sel, "i1") is True
    assert m.claim_alternate(None, dict(sel, compute_node_uuid=nodes["h1"]["uuid"]),
                             "i10") is False


def test_disabled_service_and_different_host(cloud, conf):
    engine, nodes = cloud
    svc = services.get_service_by_host_binary(engine, "h3", services.COMPUTE_BINARY)
    services.update_service(engine, svc["id"], {"disabled": True})
    m = SchedulerManager()
    out = m.select_destinations(None, spec(memory_mb=1024), ["i1"])
    assert out[0][0]["host"] == "h2"          # h3 has most RAM but is disabled
    instances.create_instance(engine, {"uuid": "i1", "project_id": "p", "user_id": "u",
                                       "host": "h2", "flavor": {}})
    out = m.select_destinations(None, spec(memory_mb=1024,
                                           hints={"different_host": ["i1"]}), ["i2"])
    assert out[0][0]["host"] == "h1"
