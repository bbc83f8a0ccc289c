"""Issue 6 end to end: block storage through the unmodified `openstack`
CLI and openstacksdk against a stack of every service as its own process
(stack ``vole2e``: compute API on 18784, Block Storage API on 18786,
controlplane-volume with the ``file`` backend ``fileback`` in az1 and the
``fake`` backend ``second`` in az2), real Keystone, Glance, MariaDB and
RabbitMQ. The block-storage endpoint is the catalog form
``/v3/<project id>``."""
import time
import uuid

import pytest

from tests.e2e.conftest import OSC
from tools.devenv import api as devenv
from tools.stack import Stack

pytestmark = pytest.mark.e2e

STACK = "vole2e"
API_PORT = 18784
VOLUME_PORT = 18786


@pytest.fixture(scope="module")
def vstack():
    devenv.ensure_up()
    st = Stack(STACK, api_port=API_PORT, computes=["vnode1"], volumes=True,
               volume_api_port=VOLUME_PORT,
               extra_conf={"scheduler": {"host_state_refresh_interval": "0"}})
    st.stop()
    st.drop()
    st.prepare()
    st.start()
    yield st
    st.stop()
    st.drop()


class VolumeOSC(OSC):
    """OSC with the stack's compute and block-storage endpoints."""

    def __init__(self, stack):
        super().__init__(stack)     # clouds with both endpoints of the stack
        assert "block_storage_endpoint_override" in next(iter(self.clouds.values()))

    def fails(self, *args, cloud="demo"):
        """Run a command that must fail; returns its stderr."""
        res = self.run(*args, cloud=cloud, check=False, fmt_json=False)
        assert res.returncode != 0, res.stdout
        return res.stderr

    def wait_volume(self, name, statuses, cloud="demo", timeout=90):
        deadline = time.monotonic() + timeout
        while True:
            vol = self.run("volume", "show", name, cloud=cloud)
            if vol["status"] in statuses:
                return vol
            assert vol["status"] not in ("error", "error_deleting", "error_extending"), vol
            if time.monotonic() > deadline:
                raise AssertionError("volume %s stayed %s (wanted %s)" % (
                    name, vol["status"], statuses))
            time.sleep(0.5)

    def wait_field(self, args, field, wanted, cloud="demo", timeout=90):
        deadline = time.monotonic() + timeout
        while True:
            obj = self.run(*args, cloud=cloud)
            if obj.get(field) == wanted:
                return obj
            assert time.monotonic() < deadline, (args, field, obj.get(field), wanted)
            time.sleep(0.5)


@pytest.fixture(scope="module")
def vosc(vstack):
    return VolumeOSC(vstack)


@pytest.fixture(scope="module")
def vsdk(vosc):
    from openstack import config as sdk_config
    from openstack import connection
    conns = {}
    loader = sdk_config.OpenStackConfig(config_files=[str(vosc.clouds_file)])

    def connect(cloud="demo"):
        if cloud not in conns:
            conns[cloud] = connection.Connection(config=loader.get_one(cloud=cloud))
        return conns[cloud]
    return connect


@pytest.fixture(scope="module")
def gold(vosc):
    vosc.run("volume", "type", "create", "--property", "volume_backend_name=fileback",
             "gold", cloud="admin")
    return "gold"


def _files(vstack):
    return sorted(p.name for p in vstack.volume_share.iterdir())


def test_issue_scenario(vosc, vstack, gold):
    """The issue's commands, in order, as demo (admin for types/services)."""
    t = vosc.run("volume", "type", "show", "gold", cloud="admin")
    assert t["properties"] == {"volume_backend_name": "fileback"}
    v1 = vosc.run("volume", "create", "--size", "10", "--type", "gold",
                  "--availability-zone", "az1", "v1")
    assert v1["status"] == "creating" and v1["type"] == "gold"
    v1 = vosc.wait_volume("v1", ["available"])
    assert v1["availability_zone"] == "az1" and v1["size"] == 10
    admin_v1 = vosc.run("volume", "show", v1["id"], cloud="admin")
    assert admin_v1["os-vol-host-attr:host"].endswith("@fileback#share")

    vosc.run("volume", "create", "--source", "v1", "v1-clone")
    clone = vosc.wait_volume("v1-clone", ["available"])
    assert clone["size"] == 10 and clone["source_volid"] == v1["id"]

    vosc.run("volume", "set", "--size", "20", "v1", fmt_json=False)
    vosc.wait_field(("volume", "show", "v1"), "size", 20)
    vosc.wait_volume("v1", ["available"])

    vosc.run("volume", "snapshot", "create", "--volume", "v1", "s1")
    vosc.wait_field(("volume", "snapshot", "show", "s1"), "status", "available")

    vosc.run("volume", "create", "--snapshot", "s1", "--size", "20", "v2")
    v2 = vosc.wait_volume("v2", ["available"])
    assert v2["snapshot_id"] == vosc.run("volume", "snapshot", "show", "s1")["id"]

    vosc.run("volume", "create", "--image", "cirros", "--size", "1", "boot-vol")
    boot = vosc.wait_volume("boot-vol", ["available"])
    assert boot["bootable"] is True or boot["bootable"] == "true"
    assert boot["volume_image_metadata"]["image_name"] == "cirros"

    # qcow2: the 20 GiB of v2 are mostly holes, the image stays small
    image_name = "img-from-vol-" + uuid.uuid4().hex[:6]     # Glance is shared
    up = vosc.run("image", "create", "--volume", "v2", "--disk-format", "qcow2", image_name)
    assert up["status"] == "uploading" and up["image_name"] == image_name
    img = vosc.wait_field(("image", "show", up["image_id"]), "status", "active", timeout=180)
    assert img["disk_format"] == "qcow2" and img["name"] == image_name
    vosc.wait_volume("v2", ["available"])
    vosc.run("image", "delete", up["image_id"], fmt_json=False)
    assert {"volume-" + v1["id"], "volume-" + clone["id"]} <= set(_files(vstack))


def test_attach_detach_and_server_delete(vosc, vstack):
    existing = {f["Name"] for f in vosc.run("flavor", "list", "--all", cloud="admin")}
    if "m1.tiny" not in existing:
        vosc.run("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "m1.tiny",
                 cloud="admin")
    vosc.run("server", "create", "--flavor", "m1.tiny", "--image", "cirros", "--nic", "none",
             "--wait", "vm1", timeout=180)
    att = vosc.run("server", "add", "volume", "vm1", "v1")
    assert att["Device"] == "/dev/vdb"
    vol = vosc.wait_volume("v1", ["in-use"])
    (a,) = vol["attachments"]
    assert a["server_id"] == vosc.run("server", "show", "vm1")["id"] and a["device"] == "/dev/vdb"
    listed = vosc.run("server", "volume", "list", "vm1")
    assert [x["Volume ID"] for x in listed] == [vol["id"]]
    # an in-use volume cannot be deleted (409)
    assert "409" in vosc.fails("volume", "delete", "v1")
    vosc.run("server", "remove", "volume", "vm1", "v1", fmt_json=False)
    vol = vosc.wait_volume("v1", ["available"])
    assert vol["attachments"] == []
    # a server delete detaches; the volume stays whole
    vosc.run("server", "add", "volume", "vm1", "v1-clone")
    vosc.wait_volume("v1-clone", ["in-use"])
    vosc.run("server", "delete", "--wait", "vm1", fmt_json=False, timeout=120)
    clone = vosc.wait_volume("v1-clone", ["available"])
    assert clone["size"] == 10 and clone["attachments"] == []
    assert "volume-" + clone["id"] in _files(vstack)     # the data is kept


def test_quotas(vosc):
    q = {r["Resource"]: r["Limit"] for r in vosc.run("quota", "show")}
    assert (q["volumes"], q["snapshots"], q["gigabytes"]) == (10, 10, 1000)
    assert q["volumes_gold"] == -1 and q["gigabytes_gold"] == -1
    used = {r["Resource"]: r["In Use"] for r in vosc.run("quota", "show", "--usage")}
    assert used["volumes"] == 4 and used["snapshots"] == 1
    # v1 20 + v1-clone 10 + v2 20 + boot-vol 1, and the snapshot s1 20
    assert used["gigabytes"] == 71
    assert used["volumes_gold"] == 3    # v1, v1-clone and v2 (from v1's snapshot)
    vosc.run("quota", "set", "--volume-type", "gold", "--volumes", "3", "demo",
             cloud="admin", fmt_json=False)
    q = {r["Resource"]: r["Limit"] for r in vosc.run("quota", "show", "demo", cloud="admin")}
    assert q["volumes_gold"] == 3
    err = vosc.fails("volume", "create", "--size", "1", "--type", "gold", "one-too-many")
    assert "413" in err and "volumes_gold" in err
    assert "403" in vosc.fails("quota", "set", "--volumes", "50", "demo")
    vosc.run("quota", "set", "--volume-type", "gold", "--volumes", "-1", "demo",
             cloud="admin", fmt_json=False)


def test_services_and_pools(vosc):
    services = vosc.run("volume", "service", "list", cloud="admin")
    backends = {s["Host"].split("@")[-1]: s for s in services
                if s["Binary"] == "controlplane-volume"}
    assert set(backends) == {"fileback", "second"}
    assert all(s["State"] == "up" and s["Status"] == "enabled" for s in backends.values())
    assert {backends["fileback"]["Zone"], backends["second"]["Zone"]} == {"az1", "az2"}
    pools = vosc.run("volume", "backend", "pool", "list", "--long", cloud="admin")
    names = {p["Name"] for p in pools}
    assert any(n.endswith("@fileback#share") for n in names) and len(names) == 2
    assert "403" in vosc.fails("volume", "service", "list")


def test_isolation_and_errors(vosc, vsdk):
    from openstack import exceptions as sdk_exc
    v1 = vosc.run("volume", "show", "v1")
    alt = vsdk("alt_demo").block_storage
    with pytest.raises(sdk_exc.NotFoundException):
        alt.get_volume(v1["id"])
    assert v1["id"] not in {v.id for v in alt.volumes()}
    demo = vsdk("demo").block_storage
    with pytest.raises(sdk_exc.BadRequestException):
        demo.create_volume(size=0, name="zero")
    with pytest.raises(sdk_exc.ResourceNotFound):
        demo.create_volume(size=1, volume_type="no-such-type")
    with pytest.raises(sdk_exc.BadRequestException):
        demo.create_volume(size=1, availability_zone="nowhere")
    with pytest.raises(sdk_exc.ConflictException):
        demo.delete_volume(v1["id"])            # still has snapshot s1
    assert "403" in vosc.fails("volume", "type", "create", "nope")


def test_sdk_lifecycle(vsdk, gold):
    conn = vsdk("demo").block_storage
    vol = conn.create_volume(size=2, name="sdk-vol-%s" % uuid.uuid4().hex[:6],
                             volume_type=gold)
    vol = conn.wait_for_status(vol, status="available", wait=90)
    assert vol.size == 2 and vol.volume_type == gold
    conn.extend_volume(vol, 3)
    vol = conn.wait_for_status(conn.get_volume(vol), status="available", wait=90)
    deadline = time.monotonic() + 60
    while conn.get_volume(vol).size != 3:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    snap = conn.create_snapshot(volume_id=vol.id, name="sdk-snap")
    snap = conn.wait_for_status(snap, status="available", wait=90)
    conn.delete_snapshot(snap)
    conn.wait_for_delete(snap, wait=60)
    conn.delete_volume(vol)
    conn.wait_for_delete(vol, wait=60)


def test_deletes(vosc, vstack):
    vosc.run("volume", "snapshot", "delete", "s1", fmt_json=False)
    deadline = time.monotonic() + 60
    while vosc.run("volume", "snapshot", "list"):
        assert time.monotonic() < deadline, "snapshot s1 not deleted"
        time.sleep(0.5)
    vosc.run("volume", "delete", "v1", "v1-clone", "v2", "boot-vol", fmt_json=False)
    deadline = time.monotonic() + 60
    while vosc.run("volume", "list"):
        assert time.monotonic() < deadline, "volumes not deleted"
        time.sleep(0.5)
    assert _files(vstack) == []
    used = {r["Resource"]: r["In Use"] for r in vosc.run("quota", "show", "--usage")}
    assert used["volumes"] == 0 and used["gigabytes"] == 0
