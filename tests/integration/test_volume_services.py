"""Volume service and volume scheduler in-process over a real RabbitMQ vhost
and MariaDB API database: file backends on temp directories (checked with
``qemu-img info``), fake backends for a reschedule after a driver failure,
"No valid backend", racing deletes."""
import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from controlplane.conf import volume as volume_conf
from controlplane.context import RequestContext
from controlplane.db import engine as db_engine
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volume_pools as db_pools
from controlplane.db import volume_quotas as db_quotas
from controlplane.db import volume_services as db_services
from controlplane.db import volume_types as db_types
from controlplane.db import volumes as db_volumes
from controlplane.volume import exception as vexc
from controlplane.volume import rpcapi as volume_rpcapi
from controlplane.volume.manager import VolumeManager
from controlplane.volume.scheduler import rpcapi as sched_rpcapi
from controlplane.volume.scheduler.manager import VolumeSchedulerManager
from controlplane.volume.service import VolumeService

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("qemu-img") is None,
                                 reason="qemu-utils is not installed")]
GiB = 1024 ** 3
HOST = "vh1"


def qemu_info(path):
    return json.loads(subprocess.run(["qemu-img", "info", "--output=json", "-U", path],
                                     check=True, capture_output=True, text=True).stdout)


class Cloud:
    def __init__(self, engine):
        self.engine = engine
        self.ctxt = RequestContext(user_id="u1", project_id="p1")
        self.services = []
        self.volume_api = volume_rpcapi.VolumeAPI()
        self.scheduler_api = sched_rpcapi.SchedulerAPI()

    def start(self, backends):
        managers = {}
        for b in backends:
            m = VolumeManager(b, host=HOST)
            managers[m.backend_host] = m
        self.managers = managers
        for svc in (VolumeService(db_services.VOLUME_BINARY, "volume", managers),
                    VolumeService(db_services.SCHEDULER_BINARY, "volume-scheduler",
                                  {HOST: VolumeSchedulerManager()})):
            svc.start()
            self.services.append(svc)

    def stop(self):
        for s in self.services:
            s.stop()
        for s in self.services:
            s.wait(10)

    def create(self, size, name=None, vtype=None, **extra):
        vtype = vtype or db_types.get_default_volume_type(self.engine)
        limits = db_quotas.get_limits(self.engine, "p1")
        vol = db_quotas.create_volume_within_quota(
            self.engine, "p1", dict({"size": size, "display_name": name, "user_id": "u1",
                                     "volume_type_id": vtype["id"],
                                     "availability_zone": "nova"}, **extra), limits)
        spec = {"volume_id": vol["id"], "size": size, "project_id": "p1",
                "availability_zone": "nova",
                "volume_type": {"id": vtype["id"], "name": vtype["name"],
                                "extra_specs": vtype["extra_specs"]},
                "snapshot_id": extra.get("snapshot_id"),
                "source_volid": extra.get("source_volid")}
        self.scheduler_api.create_volume(self.ctxt, spec, {})
        return vol

    def wait(self, volume_id, statuses, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            vol = db_volumes.get_volume(self.engine, volume_id, read_deleted="yes")
            if vol["status"] in statuses:
                return vol
            if time.monotonic() > deadline:
                raise AssertionError("volume %s stayed %s" % (volume_id, vol["status"]))
            time.sleep(0.1)

    def wait_snapshot(self, snapshot_id, statuses, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            s = db_snapshots.get_snapshot(self.engine, snapshot_id, read_deleted="yes")
            if s["status"] in statuses:
                return s
            if time.monotonic() > deadline:
                raise AssertionError("snapshot %s stayed %s" % (snapshot_id, s["status"]))
            time.sleep(0.1)


@pytest.fixture
def cloud(conf, api_db, rabbit_url):
    conf.set_override("report_interval", 1)
    conf.set_override("volume_capabilities_interval", 1)
    conf.set_override("pool_state_refresh_interval", 0.0, "volume_scheduler")
    c = Cloud(db_engine.get_engine(api_db, "api_database"))
    yield c
    c.stop()
    volume_rpcapi.reset_clients()
    sched_rpcapi.reset_clients()


def _file_backend(conf, name, share):
    volume_conf.backend_conf(conf, name)
    conf.set_override("volume_driver", "file", name)
    conf.set_override("file_share_path", str(share), name)


def _fake_backend(conf, name, capacity, fail=""):
    volume_conf.backend_conf(conf, name)
    conf.set_override("volume_driver", "fake", name)
    conf.set_override("fake_capacity_gb", capacity, name)
    conf.set_override("fake_thin_provisioning", False, name)
    conf.set_override("fake_fail_create", fail, name)


def test_file_backend_volume_lifecycle(conf, cloud, tmp_path):
    share = tmp_path / "share"
    _file_backend(conf, "file1", share)
    cloud.start(["file1"])
    svc = db_services.get_service(cloud.engine, HOST + "@file1", db_services.VOLUME_BINARY)
    assert svc["up"] and svc["topic"] == "volume.%s@file1" % HOST
    [pool] = db_pools.list_pools(cloud.engine)
    assert pool["name"] == HOST + "@file1#share" and pool["thin_provisioning_support"]
    assert pool["total_capacity_gb"] > 0

    vol = cloud.wait(cloud.create(1, "v1")["id"], ["available", "error"])
    assert vol["status"] == "available" and vol["host"] == HOST + "@file1#share"
    path = str(share / ("volume-" + vol["id"]))
    assert qemu_info(path)["format"] == "raw" and qemu_info(path)["virtual-size"] == GiB
    assert db_pools.get_allocation(cloud.engine, vol["id"])["size_gb"] == 1

    # snapshot: a qcow2 overlay
    snap = db_quotas.create_snapshot_within_quota(cloud.engine, "p1", {"volume_id": vol["id"]},
                                                  db_quotas.get_limits(cloud.engine, "p1"))
    cloud.volume_api.create_snapshot(cloud.ctxt, vol, snap)
    assert cloud.wait_snapshot(snap["id"], ["available", "error"])["status"] == "available"
    overlay = qemu_info(str(share / ("volume-%s.%s" % (vol["id"], snap["id"]))))
    assert overlay["format"] == "qcow2" and overlay["backing-filename"] == "volume-" + vol["id"]

    # volume from the snapshot and a clone stay on the source's backend
    from_snap = cloud.wait(cloud.create(2, "from-snap", snapshot_id=snap["id"])["id"],
                           ["available", "error"])
    clone = cloud.wait(cloud.create(1, "clone", source_volid=vol["id"])["id"],
                       ["available", "error"])
    for v in (from_snap, clone):
        assert v["status"] == "available" and v["host"] == vol["host"]
    assert qemu_info(str(share / ("volume-" + from_snap["id"])))["virtual-size"] == 2 * GiB

    # extend (quota-checked begin, then the backend grows claim and file)
    ext = db_quotas.begin_extend_within_quota(cloud.engine, vol["id"], 3,
                                              db_quotas.get_limits(cloud.engine, "p1"))
    cloud.volume_api.extend_volume(cloud.ctxt, ext, 3)
    vol = cloud.wait(vol["id"], ["available", "error_extending"])
    assert vol["size"] == 3 and vol["pending_size"] is None
    active = cloud.volume_api.initialize_connection(cloud.ctxt, vol, {"host": "cmp1"})
    assert qemu_info(active["data"]["device_path"])["virtual-size"] == 3 * GiB
    assert db_pools.get_allocation(cloud.engine, vol["id"])["size_gb"] == 3

    # delete: snapshot first, then the volume; files and claims are gone
    db_snapshots.begin_delete(cloud.engine, snap["id"])
    cloud.volume_api.delete_snapshot(cloud.ctxt, vol, snap)
    assert cloud.wait_snapshot(snap["id"], ["deleted", "error_deleting"])["status"] == "deleted"
    db_volumes.begin_delete(cloud.engine, vol["id"])
    cloud.volume_api.delete_volume(cloud.ctxt, vol)
    assert cloud.wait(vol["id"], ["deleted", "error_deleting"])["deleted"]
    assert not [n for n in os.listdir(share) if n.startswith("volume-" + vol["id"])]
    assert db_pools.get_allocation(cloud.engine, vol["id"]) is None


def test_reschedule_onto_a_second_backend_after_a_driver_failure(conf, cloud):
    _fake_backend(conf, "bad", 1000, fail="boom")     # most free space: tried first
    _fake_backend(conf, "good", 500)
    cloud.start(["bad", "good"])
    vol = cloud.wait(cloud.create(10, "boom-1")["id"], ["available", "error"])
    assert vol["status"] == "available" and vol["host"] == HOST + "@good#pool0"
    pools = {p["name"]: p for p in db_pools.list_pools(cloud.engine)}
    assert pools[HOST + "@bad#pool0"]["allocated_capacity_gb"] == 0
    assert pools[HOST + "@good#pool0"]["allocated_capacity_gb"] == 10
    ok = cloud.wait(cloud.create(10, "fine")["id"], ["available", "error"])
    assert ok["host"] == HOST + "@bad#pool0"


def test_max_attempts_then_error(conf, cloud):
    conf.set_override("scheduler_max_attempts", 2, "volume_scheduler")
    for b in ("b1", "b2", "b3"):
        _fake_backend(conf, b, 100, fail="boom")
    cloud.start(["b1", "b2", "b3"])
    vol = cloud.wait(cloud.create(1, "boom")["id"], ["error"])
    assert vol["host"] is None
    assert sum(p["allocated_capacity_gb"] for p in db_pools.list_pools(cloud.engine)) == 0


def test_no_valid_backend(conf, cloud):
    _fake_backend(conf, "small", 10)
    cloud.start(["small"])
    big = cloud.wait(cloud.create(11, "too-big")["id"], ["available", "error"])
    assert big["status"] == "error" and big["host"] is None
    gold = db_types.create_volume_type(cloud.engine, "gold",
                                       extra_specs={"volume_backend_name": "elsewhere"})
    typed = cloud.wait(cloud.create(1, "typed", vtype=gold)["id"], ["available", "error"])
    assert typed["status"] == "error"
    fits = db_types.create_volume_type(cloud.engine, "small-only",
                                       extra_specs={"volume_backend_name": "small"})
    assert cloud.wait(cloud.create(1, "ok", vtype=fits)["id"],
                      ["available", "error"])["status"] == "available"


def test_racing_deletes_one_proceeds(conf, cloud, tmp_path):
    _file_backend(conf, "file1", tmp_path / "share")
    cloud.start(["file1"])
    vol = cloud.wait(cloud.create(1, "race")["id"], ["available"])
    outcomes = []
    barrier = threading.Barrier(4)

    def delete():
        barrier.wait()
        try:
            v = db_volumes.begin_delete(cloud.engine, vol["id"])
            cloud.volume_api.delete_volume(cloud.ctxt, v)
            outcomes.append(202)
        except (vexc.VolumeInvalidState, vexc.VolumeNotFound) as exc:
            outcomes.append(exc.code)   # 409, or 404 once the winner finished
    threads = [threading.Thread(target=delete) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(202) == 1 and set(outcomes) <= {202, 404, 409}
    assert cloud.wait(vol["id"], ["deleted"])["deleted"]
    assert not os.path.exists(tmp_path / "share" / ("volume-" + vol["id"]))


def test_many_fake_backends_in_one_process(conf, cloud):
    names = ["fake%02d" % i for i in range(12)]
    for n in names:
        _fake_backend(conf, n, 100)
    cloud.start(names)
    assert len(db_services.list_services(cloud.engine, binary=db_services.VOLUME_BINARY)) == 12
    db_quotas.set_project_quotas(cloud.engine, "p1", {"volumes": -1})
    vols = [cloud.create(10, "v%d" % i) for i in range(36)]
    done = [cloud.wait(v["id"], ["available", "error"]) for v in vols]
    assert {v["status"] for v in done} == {"available"}
    pools = db_pools.list_pools(cloud.engine)
    assert sum(p["allocated_capacity_gb"] for p in pools) == 360
    # the CapacityWeigher spreads: every backend got some, none more than its share
    assert all(20 <= p["allocated_capacity_gb"] <= 40 for p in pools)


def test_start_recovers_interrupted_work_and_drops_stale_pools(conf, cloud):
    _fake_backend(conf, "fk", 100)
    eng = cloud.engine
    db_pools.report_pools(eng, HOST, "fk", [{"pool_name": "old", "total_capacity_gb": 1.0,
                                            "free_capacity_gb": 1.0}])
    host = HOST + "@fk#pool0"
    stuck = db_volumes.create_volume(eng, {"project_id": "p1", "size": 1, "host": host})
    dying = db_volumes.create_volume(eng, {"project_id": "p1", "size": 1, "host": host,
                                           "status": "deleting"})
    uploading = db_volumes.create_volume(eng, {"project_id": "p1", "size": 1, "host": host,
                                               "status": "uploading",
                                               "previous_status": "in-use"})
    cloud.start(["fk"])
    assert db_volumes.get_volume(eng, stuck["id"])["status"] == "error"
    assert db_volumes.get_volume(eng, dying["id"], read_deleted="yes")["deleted"]
    assert db_volumes.get_volume(eng, uploading["id"])["status"] == "in-use"
    assert [p["pool"] for p in db_pools.list_pools(eng)] == ["pool0"]
