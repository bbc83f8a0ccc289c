"""Block-storage db layer on real MariaDB (migrated API database)."""
import threading

import pytest

from controlplane import exception
from controlplane.db import engine as db_engine
from controlplane.db import migration
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volume_pools as db_pools
from controlplane.db import volume_quotas as db_quotas
from controlplane.db import volume_services as db_services
from controlplane.db import volume_types as db_types
from controlplane.db import volumes as db_volumes
from controlplane.volume import exception as vexc
from controlplane.volume import states
from tests.integration.lost_commit import first_commit_answer_lost

pytestmark = pytest.mark.integration


@pytest.fixture
def eng(api_db):
    return db_engine.get_engine(api_db, "api_database")


def test_migration_is_at_head_and_creates_default_type(api_db, eng):
    assert migration.db_version(api_db) == "api0002"
    t = db_types.get_default_volume_type(eng)
    assert t["name"] == "__DEFAULT__" and t["is_public"] and t["extra_specs"] == {}
    migration.db_sync(api_db, "api")   # idempotent
    assert [x["name"] for x in db_types.list_volume_types(eng)] == ["__DEFAULT__"]


def test_volume_crud_filters_sort_and_marker(eng):
    ids = []
    for i in range(5):
        v = db_volumes.create_volume(eng, {"project_id": "p1", "size": i + 1,
                                           "display_name": "vol%d" % i,
                                           "metadata": {"k": "even" if i % 2 == 0 else "odd"}})
        ids.append(v["id"])
        assert v["status"] == "creating" and v["attach_status"] == "detached"
    db_volumes.create_volume(eng, {"project_id": "p2", "size": 1})
    assert len(db_volumes.list_volumes(eng)) == 6
    mine = db_volumes.list_volumes(eng, project_id="p1", sort=[("size", "asc")])
    assert [v["size"] for v in mine] == [1, 2, 3, 4, 5]
    page1 = db_volumes.list_volumes(eng, project_id="p1", sort=[("size", "desc")], limit=2)
    page2 = db_volumes.list_volumes(eng, project_id="p1", sort=[("size", "desc")], limit=2,
                                    marker=page1[-1]["id"])
    assert [v["size"] for v in page1 + page2] == [5, 4, 3, 2]
    assert len(db_volumes.list_volumes(eng, project_id="p1",
                                       filters={"metadata": {"k": "even"}})) == 3
    assert [v["display_name"] for v in db_volumes.list_volumes(
        eng, filters={"name": "vol3"})] == ["vol3"]
    assert db_volumes.count_volumes(eng, project_id="p1") == 5
    with pytest.raises(exception.MarkerNotFound):
        db_volumes.list_volumes(eng, marker="nope")
    with pytest.raises(ValueError):
        db_volumes.list_volumes(eng, filters={"bogus": 1})
    with pytest.raises(vexc.VolumeNotFound):
        db_volumes.get_volume(eng, ids[0], project_id="p2")
    assert db_volumes.update_volume_metadata(eng, ids[0], {"a": "1"}) == {"k": "even", "a": "1"}
    assert db_volumes.update_volume_metadata(eng, ids[0], {"b": "2"}, delete=True) == {"b": "2"}


def test_shared_filters_on_volumes_and_snapshots(eng):
    """name, name~, metadata, IN lists (None = NULL) and the ignored keys
    work alike on both listings (paging.common_filter_clause)."""
    a = db_volumes.create_volume(eng, {"project_id": "pf", "size": 1, "display_name": "alpha-1",
                                       "host": "h1@b#p", "metadata": {"tier": "gold"}})
    b = db_volumes.create_volume(eng, {"project_id": "pf", "size": 1, "display_name": "beta-1"})
    names = lambda rows: sorted(r["display_name"] for r in rows)  # noqa: E731
    assert names(db_volumes.list_volumes(eng, filters={"name~": "-1"})) == ["alpha-1", "beta-1"]
    assert names(db_volumes.list_volumes(eng, filters={"name": "beta-1"})) == ["beta-1"]
    assert names(db_volumes.list_volumes(eng, filters={"metadata": {"tier": "gold"}})) == ["alpha-1"]
    assert names(db_volumes.list_volumes(eng, project_id="pf", filters={"host": None})) == ["beta-1"]
    assert names(db_volumes.list_volumes(eng, filters={"id": [a["id"], b["id"]],
                                                       "all_tenants": True})) == ["alpha-1", "beta-1"]
    for vol, name in ((a, "snap-a"), (b, "snap-b")):
        db_snapshots.create_snapshot(eng, {"volume_id": vol["id"], "project_id": "pf",
                                           "volume_size": 1, "display_name": name,
                                           "metadata": {"of": vol["display_name"]}})
    assert names(db_snapshots.list_snapshots(eng, filters={"name~": "snap-"})) == ["snap-a", "snap-b"]
    assert names(db_snapshots.list_snapshots(eng, filters={"volume_id": b["id"]})) == ["snap-b"]
    assert names(db_snapshots.list_snapshots(eng, filters={"metadata": {"of": "alpha-1"}})) == ["snap-a"]
    with pytest.raises(ValueError):
        db_snapshots.list_snapshots(eng, filters={"bogus": 1})


def test_update_volume_is_a_compare_and_swap(eng):
    v = db_volumes.create_volume(eng, {"project_id": "p", "size": 1})
    got = db_volumes.update_volume(eng, v["id"], {"status": "available", "host": "h@b#p"},
                                   expected_status="creating")
    assert got["status"] == "available" and got["host"] == "h@b#p"
    with pytest.raises(vexc.VolumeInvalidState) as err:
        db_volumes.update_volume(eng, v["id"], {"status": "error"}, expected_status="creating")
    assert err.value.code == 409 and err.value.kwargs["actual"] == "available"
    assert db_volumes.transition(eng, v["id"], "extend")["status"] == "extending"
    with pytest.raises(vexc.VolumeNotFound):
        db_volumes.update_volume(eng, "missing", {"status": "error"})


def test_racing_deletes_only_one_wins(eng):
    v = db_volumes.create_volume(eng, {"project_id": "p", "size": 1, "status": "available"})
    results = []
    barrier = threading.Barrier(8)

    def go():
        barrier.wait()
        try:
            db_volumes.begin_delete(eng, v["id"])
            results.append("won")
        except vexc.VolumeInvalidState:
            results.append("409")
    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["409"] * 7 + ["won"]
    assert db_volumes.get_volume(eng, v["id"])["status"] == "deleting"
    deleted = db_volumes.soft_delete_volume(eng, v["id"], expected_status="deleting")
    assert deleted["deleted"] and deleted["status"] == "deleted"
    assert db_volumes.soft_delete_volume(eng, v["id"])["deleted"]    # idempotent
    with pytest.raises(vexc.VolumeNotFound):
        db_volumes.get_volume(eng, v["id"])
    assert db_volumes.get_volume(eng, v["id"], read_deleted="yes")["deleted"]


def test_delete_refused_with_snapshots_or_attachments(eng):
    v = db_volumes.create_volume(eng, {"project_id": "p", "size": 1, "status": "available"})
    s = db_snapshots.create_snapshot(eng, {"volume_id": v["id"], "project_id": "p",
                                           "volume_size": 1, "status": "available"})
    with pytest.raises(vexc.VolumeHasSnapshots):
        db_volumes.begin_delete(eng, v["id"])
    db_snapshots.begin_delete(eng, s["id"])
    with pytest.raises(vexc.SnapshotInvalidState):
        db_snapshots.begin_delete(eng, s["id"])
    db_snapshots.soft_delete_snapshot(eng, s["id"])
    att = db_volumes.reserve_volume(eng, v["id"], instance_uuid="i1")
    assert db_volumes.get_volume(eng, v["id"])["status"] == "reserved"
    with pytest.raises(vexc.VolumeInvalidState):
        db_volumes.reserve_volume(eng, v["id"], instance_uuid="i2")
    db_volumes.finish_attach(eng, att["id"], mountpoint="/dev/vdb",
                             connection_info={"driver_volume_type": "file"})
    vol = db_volumes.get_volume(eng, v["id"])
    assert (vol["status"], vol["attach_status"]) == ("in-use", "attached")
    with pytest.raises(vexc.VolumeInvalidState):
        db_volumes.begin_delete(eng, v["id"])
    db_volumes.begin_detach(eng, v["id"], att["id"])
    vol = db_volumes.finish_detach(eng, v["id"], att["id"])
    assert (vol["status"], vol["attach_status"]) == ("available", "detached")
    assert db_volumes.list_attachments(eng, volume_id=v["id"]) == []
    db_volumes.begin_delete(eng, v["id"])


def test_volume_types_specs_and_access(eng):
    t = db_types.create_volume_type(eng, "gold", "fast", extra_specs={
        "volume_backend_name": "file1"})
    assert t["extra_specs"] == {"volume_backend_name": "file1"}
    with pytest.raises(vexc.VolumeTypeExists):
        db_types.create_volume_type(eng, "gold")
    assert db_types.set_extra_specs(eng, t["id"], {"provisioning:type": "thin"}) == {
        "volume_backend_name": "file1", "provisioning:type": "thin"}
    db_types.delete_extra_spec(eng, t["id"], "provisioning:type")
    with pytest.raises(vexc.VolumeTypeExtraSpecsNotFound):
        db_types.delete_extra_spec(eng, t["id"], "provisioning:type")
    priv = db_types.create_volume_type(eng, "secret", is_public=False)
    assert not db_types.project_can_use(eng, priv["id"], "p1")
    db_types.add_access(eng, priv["id"], "p1")
    assert db_types.project_can_use(eng, priv["id"], "p1")
    assert {x["name"] for x in db_types.list_volume_types(eng, project_id="p1")} == {
        "__DEFAULT__", "gold", "secret"}
    assert {x["name"] for x in db_types.list_volume_types(eng, project_id="p2")} == {
        "__DEFAULT__", "gold"}
    assert db_types.get_volume_type_by_name_or_id(eng, "gold")["id"] == t["id"]
    db_volumes.create_volume(eng, {"project_id": "p", "size": 1, "volume_type_id": t["id"]})
    with pytest.raises(vexc.VolumeTypeInUse):
        db_types.delete_volume_type(eng, t["id"])
    with pytest.raises(vexc.VolumeTypeDefault):
        db_types.delete_volume_type(eng, db_types.get_default_volume_type(eng)["id"])
    db_types.delete_volume_type(eng, priv["id"])
    with pytest.raises(vexc.VolumeTypeNotFound):
        db_types.get_volume_type(eng, priv["id"])


def test_services_register_heartbeat_disable(eng):
    s = db_services.create_or_get_service(eng, "h1@file1", db_services.VOLUME_BINARY,
                                          topic="volume.h1@file1", availability_zone="az1")
    assert s["up"] and s["report_count"] == 0
    assert db_services.heartbeat(eng, ["h1@file1", "gone@x"]) == ["h1@file1"]
    assert db_services.get_service(eng, "h1@file1", db_services.VOLUME_BINARY)[
        "report_count"] == 1
    s = db_services.set_disabled(eng, "h1@file1", db_services.VOLUME_BINARY, True, "maint")
    assert s["disabled"] and s["disabled_reason"] == "maint"
    again = db_services.create_or_get_service(eng, "h1@file1", db_services.VOLUME_BINARY)
    assert again["id"] == s["id"] and again["disabled"]
    assert len(db_services.list_services(eng, host="h1")) == 1


def _report(eng, host="h1", backend="b1", pool="p", **kw):
    p = {"pool_name": pool, "total_capacity_gb": 100.0, "free_capacity_gb": 100.0,
         "thin_provisioning_support": False, "thick_provisioning_support": True,
         "max_over_subscription_ratio": 1.0, "reserved_percentage": 0,
         "volume_backend_name": backend, "availability_zone": "nova",
         "storage_protocol": "file"}
    p.update(kw)
    return db_pools.report_pools(eng, host, backend, [p])[0]


def test_pool_report_and_thick_claims(eng):
    pool = _report(eng, reserved_percentage=10)   # 10 GiB reserved
    assert pool["name"] == "h1@b1#p" and pool["capabilities"] == {"storage_protocol": "file"}
    assert db_pools.get_pool_states(eng) == []    # no service row yet
    db_services.create_or_get_service(eng, "h1@b1", db_services.VOLUME_BINARY)
    assert [p["name"] for p in db_pools.get_pool_states(eng)] == ["h1@b1#p"]
    assert db_pools.claim(eng, "h1@b1#p", "v1", 60, thin=False)
    assert db_pools.claim(eng, "h1@b1#p", "v1", 60, thin=False)      # idempotent
    assert not db_pools.claim(eng, "h1@b1#p", "v2", 31, thin=False)  # 40 free - 10 reserved
    assert db_pools.claim(eng, "h1@b1#p", "v2", 30, thin=False)
    assert not db_pools.claim(eng, "other#pool", "v3", 1)
    p = db_pools.get_pool(eng, "h1@b1#p")
    assert (p["allocated_capacity_gb"], p["free_capacity_gb"]) == (90, 10)
    # a report overwrites free capacity but never the claims' columns
    p = _report(eng, reserved_percentage=10, free_capacity_gb=50.0, allocated_capacity_gb=0)
    assert (p["allocated_capacity_gb"], p["free_capacity_gb"]) == (90, 50)
    assert db_pools.release(eng, "v1") and not db_pools.release(eng, "v1")
    assert db_pools.get_pool(eng, "h1@b1#p")["provisioned_capacity_gb"] == 30
    assert db_pools.get_allocation(eng, "v2") == {"volume_id": "v2", "size_gb": 30,
                                                  "pool": "h1@b1#p"}


def test_thin_claims_follow_over_subscription(eng):
    _report(eng, total_capacity_gb=10.0, free_capacity_gb=10.0,
            thin_provisioning_support=True, max_over_subscription_ratio=2.0)
    assert db_pools.claim(eng, "h1@b1#p", "a", 15)          # 15/10 <= 2
    _report(eng, total_capacity_gb=10.0, free_capacity_gb=10.0,
            thin_provisioning_support=True, max_over_subscription_ratio=2.0)
    assert not db_pools.claim(eng, "h1@b1#p", "b", 6)        # (15+6)/10 > 2
    assert db_pools.claim(eng, "h1@b1#p", "b", 5)            # exactly 2.0
    assert not db_pools.claim(eng, "h1@b1#p", "c", 6, thin=False)  # thick: free 10-5 < 6
    assert db_pools.extend_claim(eng, "a", 15)               # no growth
    assert not db_pools.extend_claim(eng, "a", 16)           # over ratio
    assert db_pools.release(eng, "b")
    assert db_pools.extend_claim(eng, "a", 20)
    assert db_pools.get_allocation(eng, "a")["size_gb"] == 20


def test_claim_race_for_the_last_gigabytes(eng):
    _report(eng, total_capacity_gb=10.0, free_capacity_gb=10.0)
    won = []
    barrier = threading.Barrier(6)

    def go(i):
        barrier.wait()
        if db_pools.claim(eng, "h1@b1#p", "v%d" % i, 4, thin=False):
            won.append(i)
    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 2
    assert db_pools.get_pool(eng, "h1@b1#p")["allocated_capacity_gb"] == 8


def test_quota_limits_and_counting(conf, eng):
    gold = db_types.create_volume_type(eng, "gold")
    limits = db_quotas.get_limits(eng, "p")
    assert (limits["volumes"], limits["snapshots"], limits["gigabytes"]) == (10, 10, 1000)
    assert (limits["per_volume_gigabytes"], limits["backups"],
            limits["backup_gigabytes"]) == (-1, 10, 1000)
    assert limits["volumes_gold"] == -1 and limits["gigabytes___DEFAULT__"] == -1
    db_quotas.set_class_quotas(eng, "default", {"volumes": 5})
    db_quotas.set_project_quotas(eng, "p", {"gigabytes": 20, "volumes_gold": 1})
    limits = db_quotas.get_limits(eng, "p")
    assert (limits["volumes"], limits["gigabytes"], limits["volumes_gold"]) == (5, 20, 1)
    v = db_quotas.create_volume_within_quota(
        eng, "p", {"size": 8, "volume_type_id": gold["id"]}, limits)
    with pytest.raises(vexc.VolumeQuotaExceeded) as err:
        db_quotas.create_volume_within_quota(
            eng, "p", {"size": 1, "volume_type_id": gold["id"]}, limits)
    assert err.value.code == 413 and err.value.overs[0]["resource"] == "volumes_gold"
    db_volumes.update_volume(eng, v["id"], {"status": "available"})
    db_quotas.create_snapshot_within_quota(eng, "p", {"volume_id": v["id"]}, limits)
    usage = db_quotas.count_usage(eng, "p")
    assert (usage["volumes"], usage["snapshots"], usage["gigabytes"]) == (1, 1, 16)
    assert usage["gigabytes_gold"] == 16 and usage["snapshots_gold"] == 1
    with pytest.raises(vexc.VolumeQuotaExceeded) as err:
        db_quotas.create_volume_within_quota(eng, "p", {"size": 5}, limits)
    assert err.value.overs == [{"resource": "gigabytes", "requested": 5, "used": 16,
                                "limit": 20}]
    with pytest.raises(vexc.VolumeQuotaExceeded):
        db_quotas.begin_extend_within_quota(eng, v["id"], 13, limits)
    assert db_volumes.get_volume(eng, v["id"])["status"] == "available"
    ext = db_quotas.begin_extend_within_quota(eng, v["id"], 12, limits)
    assert (ext["status"], ext["pending_size"]) == ("extending", 12)
    assert db_quotas.count_usage(eng, "p")["gigabytes"] == 20
    with pytest.raises(exception.Invalid):
        db_quotas.begin_extend_within_quota(eng, v["id"], 5, limits)
    limits["per_volume_gigabytes"] = 2
    with pytest.raises(vexc.VolumeSizeExceedsLimit):
        db_quotas.create_volume_within_quota(eng, "q", {"size": 3}, limits)
    with pytest.raises(vexc.VolumeInvalidState):   # snapshot of an extending volume
        db_quotas.create_snapshot_within_quota(eng, "p", {"volume_id": v["id"]},
                                               db_quotas.get_limits(eng, "p"))


def test_parallel_creates_never_exceed_quota(conf, eng):
    limits = db_quotas.get_limits(eng, "p")
    limits["volumes"] = 3
    ok, over = [], []
    barrier = threading.Barrier(8)

    def go():
        barrier.wait()
        try:
            db_quotas.create_volume_within_quota(eng, "p", {"size": 1}, limits)
            ok.append(1)
        except vexc.VolumeQuotaExceeded:
            over.append(1)
    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(ok), len(over)) == (3, 5)
    assert db_quotas.count_usage(eng, "p")["volumes"] == 3
    assert states.DELETING in states.VOLUME_STATUSES


def test_creates_within_quota_read_back_on_the_writing_connection(conf, eng):
    """Galera has no read-your-writes across nodes, and HAProxy can leave
    pooled connections on different nodes: a create must read its row back
    on the connection that wrote it, so it checks out one connection."""
    import sqlalchemy as sa

    checkouts = []
    listener = lambda *args: checkouts.append(1)  # noqa: E731
    limits = db_quotas.get_limits(eng, "p")
    sa.event.listen(eng, "checkout", listener)
    try:
        v = db_quotas.create_volume_within_quota(eng, "p", {"size": 1}, limits)
        assert (v["status"], v["size"]) == ("creating", 1)
        assert len(checkouts) == 1
        db_volumes.update_volume(eng, v["id"], {"status": "available"})
        del checkouts[:]
        s = db_quotas.create_snapshot_within_quota(eng, "p", {"volume_id": v["id"]}, limits)
        assert (s["status"], s["volume_id"]) == ("creating", v["id"])
        assert len(checkouts) == 1
    finally:
        sa.event.remove(eng, "checkout", listener)


def test_volume_create_retried_after_its_commit_landed_makes_one_volume(conf, eng):
    """The Galera writer dies after the commit but before its answer: the
    transaction is retried (2013) and must find the row of the first
    attempt - same id, chosen by the API outside the retries - instead of
    making a second volume and charging quota twice (the lab's
    galera-writer-kill drill created one volume twice)."""
    from controlplane.api.volume import quota as api_quota
    with first_commit_answer_lost(db_engine.api_engine()) as lost:
        vol = api_quota.create_volume(None, {"project_id": "p", "size": 2},
                                      {"name": "__DEFAULT__"})
    assert lost, "the simulated lost answer never happened"
    assert [v["id"] for v in db_volumes.list_volumes(eng, project_id="p")] \
        == [vol["id"]]
    usage = db_quotas.count_usage(eng, "p")
    assert (usage["volumes"], usage["gigabytes"]) == (1, 2)
