"""Block Storage API volumes: create (empty, from snapshot, volume, image),
list, show, update, delete, actions; responses validated against
tempest's volume schemas at 3.0 and 3.60."""
import pytest

from controlplane.db import engine as db_engine
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volumes as db_volumes
from tests.unit.api_client import ADMIN, IMAGE, MEMBER, OTHER, READER, assert_fault
from tests.unit.test_api_volume_common import VMAX, make_volume, venv, vcheck  # noqa: F401


def create(venv, version=None, who=MEMBER, **volume):
    volume.setdefault("size", 1)
    r = venv.api.post("/volumes", {"volume": volume}, version=version, who=who)
    assert r.status_code == 202, r.data
    return vcheck("volumes", "create_volume", r)["volume"]


@pytest.mark.parametrize("version", ["3.0", VMAX])
def test_create_casts_to_scheduler(venv, version):
    vol = create(venv, version, size=10, name="v1", description="d", availability_zone="az1",
                 metadata={"k": "v"})
    assert vol["status"] == "creating" and vol["size"] == 10 and vol["name"] == "v1"
    assert vol["volume_type"] == "__DEFAULT__" and vol["availability_zone"] == "az1"
    assert vol["metadata"] == {"k": "v"} and vol["bootable"] == "false"
    (_m, (spec, props), _kw), = venv.casts.of("create_volume")
    assert spec["volume_id"] == vol["id"] and spec["size"] == 10
    assert spec["volume_type"]["name"] == "__DEFAULT__"
    assert spec["availability_zone"] == "az1"
    assert props == {"scheduler_hints": {}}
    row = db_volumes.get_volume(db_engine.api_engine(), vol["id"])
    assert row["project_id"] == "proj-a" and row["status"] == "creating"
    if version == VMAX:
        assert vol["shared_targets"] is False and vol["group_id"] is None


def test_create_with_type_by_name(venv):
    r = venv.admin.post("/types", {"volume_type": {
        "name": "gold", "extra_specs": {"volume_backend_name": "fileback"}}})
    assert r.status_code == 200, r.data
    vol = create(venv, volume_type="gold", size=2)
    assert vol["volume_type"] == "gold"
    (_m, (spec, _p), _kw), = venv.casts.of("create_volume")
    assert spec["volume_type"]["extra_specs"] == {"volume_backend_name": "fileback"}


@pytest.mark.parametrize("volume,code", [
    ({"size": 0}, 400), ({"size": -1}, 400), ({"size": "ten"}, 400), ({"size": 1.5}, 400),
    ({}, 400), ({"size": 1, "availability_zone": "nowhere"}, 400),
    ({"size": 1, "volume_type": "nosuchtype"}, 404),
    ({"size": 1, "snapshot_id": "not-a-uuid"}, 400),
    ({"size": 1, "source_volid": "6f1f0c2a-0000-4000-8000-000000000000"}, 404),
    ({"size": 1, "snapshot_id": "6f1f0c2a-0000-4000-8000-000000000000"}, 404),
    ({"size": 1, "imageRef": "6f1f0c2a-0000-4000-8000-000000000000"}, 400),
    ({"size": 1, "name": "x" * 256}, 400),
    ({"size": 1, "metadata": {"k": 1}}, 400),
    ({"size": 1, "backup_id": "6f1f0c2a-0000-4000-8000-000000000000"}, 400),
    ({"size": 2 ** 31}, 400), ({"size": "99999999999999999999"}, 400),
    ({"size": 1, "multiattach": "perhaps"}, 400),
    ({"size": 1, "metadata": "k=v"}, 400),
])
def test_create_bad_input(venv, volume, code):
    r = venv.api.post("/volumes", {"volume": volume})
    assert_fault(r, code)
    assert not venv.casts.of("create_volume")


def test_create_body_errors(venv):
    assert_fault(venv.api.post("/volumes", {"size": 1}), 400)
    assert_fault(venv.api.post("/volumes", {"volume": "x"}), 400)
    assert_fault(venv.api.post("/volumes", {"volume": {"size": 1}}, who=READER), 403)


def test_create_from_image(venv):
    vol = create(venv, imageRef=IMAGE, size=1)
    assert vol["bootable"] == "true"
    r = venv.api.get("/volumes/" + vol["id"])
    shown = vcheck("volumes", "show_volume", r)["volume"]
    assert shown["volume_image_metadata"]["image_id"] == IMAGE
    (_m, (spec, _p), _kw), = venv.casts.of("create_volume")
    assert spec["image_id"] == IMAGE
    venv.images[IMAGE]["min_disk"] = 5
    assert "minDisk" in assert_fault(
        venv.api.post("/volumes", {"volume": {"size": 1, "imageRef": IMAGE}}), 400)


def test_create_clone_and_from_snapshot(venv):
    src = make_volume(size=10)
    clone = create(venv, source_volid=src["id"], size=None)
    assert clone["size"] == 10 and clone["source_volid"] == src["id"]
    assert clone["availability_zone"] == "az1"
    assert_fault(venv.api.post("/volumes", {"volume": {"source_volid": src["id"],
                                                       "size": 5}}), 400)
    snap = db_snapshots.create_snapshot(db_engine.api_engine(), {
        "volume_id": src["id"], "project_id": "proj-a", "volume_size": 10,
        "status": "available"})
    vol = create(venv, snapshot_id=snap["id"], size=10)
    assert vol["snapshot_id"] == snap["id"]
    spec = venv.casts.of("create_volume")[-1][1][0]
    assert spec["snapshot_id"] == snap["id"]
    assert_fault(venv.api.post("/volumes", {"volume": {"snapshot_id": snap["id"],
                                                       "size": 5}}), 400)
    db_snapshots.update_snapshot(db_engine.api_engine(), snap["id"], {"status": "creating"})
    assert_fault(venv.api.post("/volumes", {"volume": {"snapshot_id": snap["id"]}}), 400)
    busy = make_volume(status="extending")
    assert_fault(venv.api.post("/volumes", {"volume": {"source_volid": busy["id"]}}), 400)


def test_quota_volumes_and_gigabytes_413(venv):
    venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"volumes": 2, "gigabytes": 15}})
    create(venv, size=10)
    r = venv.api.post("/volumes", {"volume": {"size": 10}})
    msg = assert_fault(r, 413)
    assert r.get_json()["overLimit"] and "gigabytes" in msg
    create(venv, size=5)
    assert_fault(venv.api.post("/volumes", {"volume": {"size": 1}}), 413)


@pytest.mark.parametrize("version", ["3.0", VMAX])
def test_list_show_and_isolation(venv, version):
    mine = make_volume(display_name="mine")
    theirs = make_volume(project=OTHER["project"], display_name="theirs")
    r = venv.api.get("/volumes", version=version)
    assert [v["id"] for v in vcheck("volumes", "list_volumes_no_detail", r)["volumes"]] == [
        mine["id"]]
    r = venv.api.get("/volumes/detail", version=version)
    (vol,) = vcheck("volumes", "list_volumes_with_detail", r)["volumes"]
    assert vol["id"] == mine["id"] and "os-vol-host-attr:host" not in vol
    assert_fault(venv.api.get("/volumes/" + theirs["id"], version=version), 404)
    assert_fault(venv.api.get("/volumes/no-such-volume"), 404)
    r = venv.admin.get("/volumes/detail?all_tenants=1", version=version)
    vols = vcheck("volumes", "list_volumes_with_detail", r)["volumes"]
    assert {v["id"] for v in vols} == {mine["id"], theirs["id"]}
    assert all(v["os-vol-host-attr:host"] == "host1@fileback#fileback" for v in vols)
    r = venv.admin.get("/volumes/" + theirs["id"], version=version)
    assert vcheck("volumes", "show_volume", r)["volume"][
        "os-vol-tenant-attr:tenant_id"] == OTHER["project"]
    r = venv.api.get("/volumes/" + mine["id"], who=READER, version=version)
    vcheck("volumes", "show_volume", r)


def test_list_filters_sort_and_pages(venv):
    ids = [make_volume(display_name="v%d" % i, size=i + 1)["id"] for i in range(3)]
    r = venv.api.get("/volumes/detail?name=v1")
    assert [v["id"] for v in r.get_json()["volumes"]] == [ids[1]]
    r = venv.api.get("/volumes/detail?sort=size:asc")
    assert [v["id"] for v in r.get_json()["volumes"]] == ids
    r = venv.api.get("/volumes?sort=size:asc&limit=2")
    body = vcheck("volumes", "list_volumes_no_detail", r)
    assert [v["id"] for v in body["volumes"]] == ids[:2]
    nxt = body["volumes_links"][0]["href"]
    assert "marker=" + ids[1] in nxt and "/v3/proj-a/volumes?" in nxt
    r = venv.api.get("/volumes?sort=size:asc&limit=2&marker=" + ids[1])
    assert [v["id"] for v in r.get_json()["volumes"]] == ids[2:]
    assert_fault(venv.api.get("/volumes?limit=-1"), 400)
    assert_fault(venv.api.get("/volumes?sort=nosuchkey:asc"), 400)
    assert_fault(venv.api.get("/volumes?marker=6f1f0c2a-0000-4000-8000-000000000000"), 400)
    r = venv.api.get("/volumes?with_count=true", version="3.45")
    assert r.get_json()["count"] == 3


def test_update(venv):
    vol = make_volume()
    r = venv.api.put("/volumes/" + vol["id"], {"volume": {"name": "new", "description": "x",
                                                          "metadata": {"a": "b"}}})
    body = vcheck("volumes", "update_volume", r)["volume"]
    assert body["name"] == "new" and body["metadata"] == {"a": "b"}
    assert_fault(venv.api.put("/volumes/" + vol["id"], {"volume": {"size": 3}}), 400)
    assert_fault(venv.api.put("/volumes/" + vol["id"], {"volume": {"name": "r"}},
                              who=READER), 403)
    assert_fault(venv.api.put("/volumes/" + vol["id"], {"volume": {"name": "o"}},
                              who=OTHER), 404)


def test_delete_states(venv):
    vol = make_volume()
    r = venv.api.delete("/volumes/" + vol["id"])
    vcheck("volumes", "delete_volume", r)
    (_m, (dvol,), kw), = venv.casts.of("delete_volume")
    assert dvol["id"] == vol["id"] and dvol["status"] == "deleting"
    assert_fault(venv.api.delete("/volumes/" + vol["id"]), 409)   # already deleting
    busy = make_volume(status="in-use", attach_status="attached")
    assert_fault(venv.api.delete("/volumes/" + busy["id"]), 409)
    creating = make_volume(status="creating", host=None)
    assert_fault(venv.api.delete("/volumes/" + creating["id"]), 409)
    failed = make_volume(status="error", host=None)
    assert venv.api.delete("/volumes/" + failed["id"]).status_code == 202
    assert_fault(venv.api.get("/volumes/" + failed["id"]), 404)     # deleted at once
    other = make_volume(project=OTHER["project"])
    assert_fault(venv.api.delete("/volumes/" + other["id"]), 404)
    assert_fault(venv.api.delete("/volumes/" + make_volume()["id"], who=READER), 403)


def test_delete_with_snapshots_needs_cascade(venv):
    vol = make_volume()
    db_snapshots.create_snapshot(db_engine.api_engine(), {
        "volume_id": vol["id"], "project_id": "proj-a", "volume_size": 1,
        "status": "available"})
    assert_fault(venv.api.delete("/volumes/" + vol["id"]), 409)
    assert venv.api.delete("/volumes/%s?cascade=true" % vol["id"]).status_code == 202
    (_m, _a, kw), = venv.casts.of("delete_volume")
    assert kw["cascade"] is True


def test_extend(venv):
    vol = make_volume(size=10)
    r = venv.api.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 20}})
    vcheck("volumes", "extend_volume", r)
    (_m, (evol, size), _kw), = venv.casts.of("extend_volume")
    assert evol["status"] == "extending" and size == 20
    assert_fault(venv.api.post("/volumes/%s/action" % vol["id"],
                               {"os-extend": {"new_size": 30}}), 409)
    other = make_volume(size=10)
    assert_fault(venv.api.post("/volumes/%s/action" % other["id"],
                               {"os-extend": {"new_size": 5}}), 400)
    assert_fault(venv.api.post("/volumes/%s/action" % other["id"],
                               {"os-extend": {"new_size": "x"}}), 400)
    assert_fault(venv.api.post("/volumes/%s/action" % other["id"], {"os-extend": {}}), 400)
    assert_fault(venv.api.post("/volumes/%s/action" % other["id"],
                               {"os-extend": {"new_size": 2 ** 40}}), 400)
    inuse = make_volume(size=1, status="in-use")
    assert_fault(venv.api.post("/volumes/%s/action" % inuse["id"],
                               {"os-extend": {"new_size": 2}}), 409)
    r = venv.api.post("/volumes/%s/action" % inuse["id"], {"os-extend": {"new_size": 2}},
                      version="3.42")
    assert r.status_code == 202
    venv.admin.put("/os-quota-sets/proj-a", {"quota_set": {"gigabytes": 40}})
    assert_fault(venv.api.post("/volumes/%s/action" % other["id"],
                               {"os-extend": {"new_size": 100}}), 413)


def test_reset_status_is_admin_only(venv):
    vol = make_volume(status="error")
    body = {"os-reset_status": {"status": "available"}}
    assert_fault(venv.api.post("/volumes/%s/action" % vol["id"], body), 403)
    r = venv.admin.post("/volumes/%s/action" % vol["id"], body)
    vcheck("volumes", "reset_volume_status", r)
    assert db_volumes.get_volume(db_engine.api_engine(), vol["id"])["status"] == "available"
    assert_fault(venv.admin.post("/volumes/%s/action" % vol["id"],
                                 {"os-reset_status": {"status": "bogus"}}), 400)


def test_unknown_action(venv):
    vol = make_volume()
    assert_fault(venv.api.post("/volumes/%s/action" % vol["id"], {"os-bogus": {}}), 400)
    assert_fault(venv.api.post("/volumes/%s/action" % vol["id"],
                               {"os-extend": {"new_size": 2}, "x": 1}), 400)


def test_upload_to_image(venv):
    vol = make_volume(size=2)
    r = venv.api.post("/volumes/%s/action" % vol["id"], {"os-volume_upload_image": {
        "image_name": "img", "disk_format": "qcow2", "visibility": "private"}},
        version="3.1")
    assert r.status_code == 202, r.data
    out = r.get_json()["os-volume_upload_image"]
    (vid, meta, image), = venv.created_images
    assert out["image_id"] == image["id"] and out["status"] == "uploading"
    assert meta["disk_format"] == "qcow2" and out["visibility"] == "private"
    (_m, (uvol, image_id, umeta), _kw), = venv.casts.of("upload_to_image")
    assert uvol["status"] == "uploading" and image_id == image["id"]
    assert_fault(venv.api.post("/volumes/%s/action" % vol["id"], {
        "os-volume_upload_image": {"image_name": "again"}}), 409)
    assert_fault(venv.api.post("/volumes/%s/action" % make_volume()["id"], {
        "os-volume_upload_image": {"image_name": "x", "disk_format": "exe"}}), 400)
    assert_fault(venv.api.post("/volumes/%s/action" % make_volume()["id"], {
        "os-volume_upload_image": {"image_name": "x", "visibility": "public"}}), 400)


def test_set_bootable_and_metadata(venv):
    vol = make_volume()
    r = venv.api.post("/volumes/%s/action" % vol["id"], {"os-set_bootable": {"bootable": True}})
    vcheck("volumes", "set_bootable_volume", r)
    assert db_volumes.get_volume(db_engine.api_engine(), vol["id"])["bootable"] is True
    r = venv.api.post("/volumes/%s/metadata" % vol["id"], {"metadata": {"a": "1"}})
    assert vcheck("volumes", "create_volume_metadata", r)["metadata"] == {"a": "1"}
    r = venv.api.get("/volumes/%s/metadata" % vol["id"])
    assert vcheck("volumes", "show_volume_metadata", r)["metadata"] == {"a": "1"}
    assert venv.api.delete("/volumes/%s/metadata/a" % vol["id"]).status_code == 200
    assert_fault(venv.api.delete("/volumes/%s/metadata/a" % vol["id"]), 404)


def test_admin_sees_other_projects_volume_by_id(venv):
    vol = make_volume(project=OTHER["project"])
    r = venv.admin.get("/volumes/" + vol["id"])
    assert r.status_code == 200
    assert r.get_json()["volume"]["os-vol-tenant-attr:tenant_id"] == OTHER["project"]
    assert ADMIN["project"] != OTHER["project"]


def test_bad_query_parameters_are_400(venv):
    for query in ("limit=abc", "all_tenants=perhaps", "bootable=perhaps", "metadata=notjson",
                  "sort=size:sideways", "with_count=perhaps"):
        r = venv.api.get("/volumes/detail?" + query, version="3.45")
        assert_fault(r, 400)
    vol = make_volume()
    assert_fault(venv.api.delete("/volumes/%s?cascade=perhaps" % vol["id"]), 400)
