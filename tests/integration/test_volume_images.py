"""Volume from image and upload to image with the file driver against the
devenv's real Keystone and Glance (the volume and scheduler services run
in-process on a RabbitMQ vhost and a MariaDB API database)."""
import os
import sys
import time
from pathlib import Path

import pytest

from controlplane.context import RequestContext
from controlplane.db import engine as db_engine
from controlplane.db import volume_quotas as db_quotas
from controlplane.db import volume_types as db_types
from controlplane.db import volumes as db_volumes
from controlplane.volume import rpcapi as volume_rpcapi
from controlplane.volume.scheduler import rpcapi as sched_rpcapi
from tests.integration.test_volume_services import Cloud, _file_backend, qemu_info

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import devenv  # noqa: E402

ka_session = pytest.importorskip("keystoneauth1.session")
ka_identity = pytest.importorskip("keystoneauth1.identity")

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
GiB = 1024 ** 3


@pytest.fixture(scope="module")
def info():
    return devenv.ensure_up()


@pytest.fixture
def demo(info):
    cred = info["demo"]
    auth = ka_identity.v3.Password(
        auth_url=cred["auth_url"], username=cred["username"], password=cred["password"],
        project_name=cred["project_name"], user_domain_name=cred["user_domain_name"],
        project_domain_name=cred["project_domain_name"])
    return ka_session.Session(auth=auth)


@pytest.fixture
def cloud(conf, api_db, rabbit_url, info, tmp_path):
    conf.set_override("api_servers", info["glance"]["url"], "glance")
    conf.set_override("image_conversion_dir", str(tmp_path / "conversion"))
    conf.set_override("report_interval", 1)
    conf.set_override("pool_state_refresh_interval", 0.0, "volume_scheduler")
    _file_backend(conf, "file1", tmp_path / "share")
    c = Cloud(db_engine.get_engine(api_db, "api_database"))
    c.share = tmp_path / "share"
    c.start(["file1"])
    yield c
    c.stop()
    volume_rpcapi.reset_clients()
    sched_rpcapi.reset_clients()


def _wait_image(sess, url, image_id, statuses, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        img = sess.get("%s/v2/images/%s" % (url, image_id)).json()
        if img["status"] in statuses:
            return img
        if time.monotonic() > deadline:
            raise AssertionError("image %s stayed %s" % (image_id, img["status"]))
        time.sleep(0.3)


def test_volume_from_image_and_upload_to_image(cloud, demo, info, tmp_path):
    glance = info["glance"]["url"]
    token = demo.get_token()
    project = demo.get_project_id()
    ctxt = RequestContext(user_id=demo.get_user_id(), project_id=project, auth_token=token)
    image_id = info["images"]["cirros"]
    data = demo.get("%s/v2/images/%s/file" % (glance, image_id)).content

    vtype = db_types.get_default_volume_type(cloud.engine)
    vol = db_quotas.create_volume_within_quota(
        cloud.engine, project, {"size": 1, "image_id": image_id, "bootable": True,
                                "volume_type_id": vtype["id"], "availability_zone": "nova"},
        db_quotas.get_limits(cloud.engine, project))
    cloud.scheduler_api.create_volume(ctxt, {
        "volume_id": vol["id"], "size": 1, "availability_zone": "nova",
        "image_id": image_id, "volume_type": {"id": vtype["id"], "extra_specs": {}}}, {})
    vol = cloud.wait(vol["id"], ["available", "error"])
    assert vol["status"] == "available"
    path = cloud.share / ("volume-" + vol["id"])
    got = qemu_info(str(path))
    assert got["format"] == "raw" and got["virtual-size"] == GiB
    if not data.startswith(b"QFI\xfb"):          # a raw image is copied byte for byte
        with open(path, "rb") as f:
            assert f.read(len(data)) == data

    # upload: the API creates the queued image, the backend uploads the data
    img = demo.post(glance + "/v2/images", json={
        "name": "from-volume", "disk_format": "qcow2", "container_format": "bare"}).json()
    try:
        vol = db_volumes.transition(cloud.engine, vol["id"], "upload_to_image",
                                    {"previous_status": "available"})
        cloud.volume_api.upload_to_image(ctxt, vol, img["id"],
                                         {"disk_format": "qcow2", "container_format": "bare"})
        assert cloud.wait(vol["id"], ["available", "error"])["status"] == "available"
        img = _wait_image(demo, glance, img["id"], ["active", "killed", "deleted"])
        assert img["status"] == "active" and img["size"] > 0
        out = tmp_path / "uploaded.qcow2"
        out.write_bytes(demo.get("%s/v2/images/%s/file" % (glance, img["id"])).content)
        up = qemu_info(str(out))
        assert up["format"] == "qcow2" and up["virtual-size"] == GiB
    finally:
        demo.delete("%s/v2/images/%s" % (glance, img["id"]), raise_exc=False)
    assert not os.listdir(tmp_path / "conversion")
