"""Compute API ``/servers/{id}/os-volume_attachments`` (tempest compute
schemas) and the compute side (:mod:`controlplane.compute.volume_attach`)
with the fake driver and a volume service stand-in working on the real
API database; a server delete leaves its volumes ``available``."""
import pytest

from controlplane.compute import volume_attach
from controlplane.compute.fake import FakeDriver
from controlplane.context import RequestContext
from controlplane.db import engine as db_engine
from controlplane.db import instances as db_instances
from controlplane.db import volumes as db_volumes
from tests.unit.api_client import (MEMBER, OTHER, READER, assert_fault, boot_body, check,
                                   place)
from tests.unit.test_api_volume_common import make_volume


class FakeVolumeService:
    """What VolumeAPI's calls do on the volume service, in-process."""

    def __init__(self, fail_initialize=False):
        self.calls = []
        self.fail_initialize = fail_initialize

    def initialize_connection(self, ctxt, vol, connector):
        self.calls.append(("initialize_connection", vol["id"], connector["host"]))
        if self.fail_initialize:
            raise RuntimeError("export failed")
        return {"driver_volume_type": "file", "data": {"volume_id": vol["id"]}}

    def attach_volume(self, ctxt, vol, attachment_id, instance_uuid, host, mountpoint):
        self.calls.append(("attach_volume", vol["id"], host, mountpoint))
        return db_volumes.finish_attach(db_engine.api_engine(), attachment_id,
                                        mountpoint=mountpoint, attached_host=host,
                                        instance_uuid=instance_uuid)

    def terminate_connection(self, ctxt, vol, connector, force=False):
        self.calls.append(("terminate_connection", vol["id"]))

    def detach_volume(self, ctxt, vol, attachment_id):
        self.calls.append(("detach_volume", vol["id"]))
        return db_volumes.finish_detach(db_engine.api_engine(), vol["id"], attachment_id)


@pytest.fixture
def att_env(env, monkeypatch):
    from tests.unit.test_api_volume_common import ensure_default_type
    ensure_default_type()
    env.volumes = FakeVolumeService()
    monkeypatch.setattr(volume_attach, "_volume_api", env.volumes)
    env.driver = FakeDriver(host="host1")
    r = env.api.post("/servers", boot_body(), who=MEMBER)
    env.server = r.get_json()["server"]["id"]
    env.inst = place(env, env.server)
    return env


def _vol_status(volume_id):
    return db_volumes.get_volume(db_engine.api_engine(), volume_id)["status"]


def _run_cast(env, method):
    (_m, args, kwargs), = env.casts.of(method)
    env.casts.calls.remove((_m, args, kwargs))
    host, server_id, volume_id, attachment_id = args[:4]
    inst = db_instances.get_instance(db_engine.cell_engine(env.cell1), server_id)
    ctxt = RequestContext(user_id="alice", project_id="proj-a")
    if method == "attach_volume":
        return volume_attach.attach(env.driver, ctxt, inst, volume_id, attachment_id, args[4])
    return volume_attach.detach(env.driver, ctxt, inst, volume_id, attachment_id)


def attach(env, volume_id, **extra):
    body = {"volumeAttachment": dict({"volumeId": volume_id}, **extra)}
    r = env.api.post("/servers/%s/os-volume_attachments" % env.server, body)
    return check("v2_1.servers", "attach_volume", r)["volumeAttachment"]


def test_attach_list_show_detach(att_env):
    env = att_env
    vol = make_volume(size=10)
    att = attach(env, vol["id"])
    assert att == {"id": vol["id"], "serverId": env.server, "volumeId": vol["id"],
                   "device": "/dev/vdb"}
    assert _vol_status(vol["id"]) == "reserved"
    assert _run_cast(env, "attach_volume") is True
    assert _vol_status(vol["id"]) == "in-use"
    assert [c[0] for c in env.volumes.calls] == ["initialize_connection", "attach_volume"]
    assert env.driver.instances[env.server]["volumes"]["/dev/vdb"]["data"][
        "volume_id"] == vol["id"]
    r = env.api.get("/servers/%s/os-volume_attachments" % env.server)
    (listed,) = check("v2_1.servers", "list_volume_attachments", r)["volumeAttachments"]
    assert listed["volumeId"] == vol["id"]
    r = env.api.get("/servers/%s/os-volume_attachments/%s" % (env.server, vol["id"]),
                    who=READER)
    check("v2_1.servers", "show_volume_attachment", r)
    second = make_volume()
    assert attach(env, second["id"])["device"] == "/dev/vdc"
    r = env.api.delete("/servers/%s/os-volume_attachments/%s" % (env.server, vol["id"]))
    check("v2_1.servers", "detach_volume", r)
    assert _vol_status(vol["id"]) == "detaching"
    assert _run_cast(env, "detach_volume") is True
    assert _vol_status(vol["id"]) == "available"
    assert "/dev/vdb" not in env.driver.instances[env.server]["volumes"]
    assert_fault(env.api.get("/servers/%s/os-volume_attachments/%s" % (
        env.server, vol["id"])), 404)


def test_attach_errors(att_env):
    env = att_env
    vol = make_volume()
    base = "/servers/%s/os-volume_attachments" % env.server
    assert_fault(env.api.post(base, {"volumeAttachment": {}}), 400)
    assert_fault(env.api.post(base, {"volumeAttachment": {"volumeId": "x"}}), 400)
    assert_fault(env.api.post(base, {"volumeAttachment": {"volumeId": vol["id"],
                                                          "device": "vdb"}}), 400)
    assert_fault(env.api.post(base, {"volumeAttachment": {
        "volumeId": "6f1f0c2a-0000-4000-8000-000000000000"}}), 404)
    theirs = make_volume(project=OTHER["project"])
    assert_fault(env.api.post(base, {"volumeAttachment": {"volumeId": theirs["id"]}}), 404)
    assert_fault(env.api.post(base, {"volumeAttachment": {"volumeId": vol["id"]}},
                              who=READER), 403)
    assert_fault(env.api.post(base, {"volumeAttachment": {"volumeId": vol["id"]}},
                              who=OTHER), 404)
    busy = make_volume(status="creating")
    assert_fault(env.api.post(base, {"volumeAttachment": {"volumeId": busy["id"]}}), 409)
    attach(env, vol["id"])
    assert_fault(env.api.post(base, {"volumeAttachment": {"volumeId": vol["id"]}}), 409)
    # detaching while the attach is still in flight is a conflict
    assert_fault(env.api.delete(base + "/" + vol["id"]), 409)
    assert_fault(env.api.delete(base + "/" + make_volume()["id"]), 404)
    r = env.api.post("/servers", boot_body(), who=MEMBER)
    building = r.get_json()["server"]["id"]
    assert_fault(env.api.post("/servers/%s/os-volume_attachments" % building,
                              {"volumeAttachment": {"volumeId": make_volume()["id"]}}), 409)


def test_failed_attach_rolls_back(att_env):
    env = att_env
    env.volumes.fail_initialize = True
    vol = make_volume()
    attach(env, vol["id"])
    assert _run_cast(env, "attach_volume") is False
    assert _vol_status(vol["id"]) == "available"
    assert db_volumes.list_attachments(db_engine.api_engine(), volume_id=vol["id"]) == []


def test_attach_redelivery_is_a_noop(att_env):
    env = att_env
    vol = make_volume()
    attach(env, vol["id"])
    (_m, args, kwargs), = env.casts.of("attach_volume")
    _run_cast(env, "attach_volume")
    inst = db_instances.get_instance(db_engine.cell_engine(env.cell1), env.server)
    ctxt = RequestContext(user_id="alice", project_id="proj-a")
    assert volume_attach.attach(env.driver, ctxt, inst, *args[2:]) is True
    assert [c[0] for c in env.volumes.calls].count("attach_volume") == 1


def test_server_delete_detaches_volumes(att_env, monkeypatch):
    env = att_env
    from controlplane.compute import manager as compute_manager
    vols = [make_volume(size=1), make_volume(size=2)]
    for v in vols:
        attach(env, v["id"])
        _run_cast(env, "attach_volume")
    assert {_vol_status(v["id"]) for v in vols} == {"in-use"}

    class Cells:
        def queue_instance_mapping_for_delete(self, uuid):
            return True
    mgr = compute_manager.ComputeManager(host="host1", driver=env.driver,
                                         engine=db_engine.cell_engine(env.cell1),
                                         conductor_api=object(), cells_db=Cells())
    mgr.terminate_instance(RequestContext(user_id="alice", project_id="proj-a",
                                          request_id="req-del"), env.server)
    for v in vols:
        after = db_volumes.get_volume(db_engine.api_engine(), v["id"])
        assert after["status"] == "available" and after["attach_status"] == "detached"
        assert after["size"] == v["size"] and not after["deleted"]
    assert db_volumes.list_attachments(db_engine.api_engine(), instance_uuid=env.server) == []
