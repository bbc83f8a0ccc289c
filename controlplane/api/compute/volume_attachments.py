"""``/servers/{server_id}/os-volume_attachments`` (Nova's volume attachments,
microversions 2.1 – 2.60).

* ``POST`` {volumeAttachment: {volumeId, device?}}: the server must be
  ``active`` or ``stopped`` with no task (409 otherwise); the volume must
  be visible to the caller (404) and ``available`` (409). The API reserves
  it (volume ``reserved``, an attachment row) in one transaction, picks
  the next free ``/dev/vdX`` unless ``device`` is given, and casts
  ``attach_volume`` to the server's host (see
  :mod:`controlplane.compute.volume_attach`); 200 with the attachment.
* ``DELETE .../{volume_id}``: the volume goes ``in-use`` → ``detaching``
  by compare-and-swap (409 while it is still attaching) and
  ``detach_volume`` is cast; 202.
* ``GET`` list / show: the server's volumes (``id`` and ``volumeId`` are
  the volume id, as Nova shows them).
"""
import logging
import re
import string

import flask

from controlplane.api import common, faults
from controlplane.api.compute import servers
from controlplane.compute import states
from controlplane.db import engine as db_engine
from controlplane.db import volumes as db_volumes
from controlplane.volume import exception as vexc
from controlplane.volume import states as vstates

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("volume_attachments", __name__)

P = "os_compute_api:os-volumes-attachments:%s"
_DEVICE = re.compile(r"^/dev/[a-z]+[a-z0-9]*$")
_UUID = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"

_schema = {
    "type": "object",
    "properties": {
        "volumeAttachment": {
            "type": "object",
            "properties": {
                "volumeId": {"type": "string", "pattern": _UUID},
                "device": {"type": ["string", "null"], "maxLength": 255},
            },
            "required": ["volumeId"],
            "additionalProperties": False,
        },
    },
    "required": ["volumeAttachment"],
    "additionalProperties": False,
}


def _view(att, server_id):
    return {"id": att["volume_id"], "serverId": server_id, "volumeId": att["volume_id"],
            "device": att.get("mountpoint")}


def _attachments(server_id):
    return [a for a in db_volumes.list_attachments(db_engine.api_engine(),
                                                    instance_uuid=server_id)
            if a["attach_status"] != vstates.DETACHED]


def _next_device(used):
    """The first ``/dev/vdX`` not in ``used`` (``/dev/vda`` is the root disk)."""
    for letter in string.ascii_lowercase[1:]:
        dev = "/dev/vd" + letter
        if dev not in used:
            return dev
    raise faults.Conflict("No free device name left on this server.")


def _compute():
    from controlplane.api.compute.server_actions import compute_api
    return compute_api()


@bp.get("/servers/<server_id>/os-volume_attachments")
def index(server_id):
    """``{"volumeAttachments": [...]}`` (tempest ``list_volume_attachments``)."""
    servers.lookup(server_id, rule=P % "index")
    limit, marker = common.paginate_params()
    offset = common.non_negative_int_param("offset", 0)
    atts = _attachments(server_id)[offset:offset + limit]
    return {"volumeAttachments": [_view(a, server_id) for a in atts]}


@bp.get("/servers/<server_id>/os-volume_attachments/<volume_id>")
def show(server_id, volume_id):
    """``{"volumeAttachment": {...}}``; 404 when the volume is not attached here."""
    servers.lookup(server_id, rule=P % "show")
    for att in _attachments(server_id):
        if att["volume_id"] == volume_id:
            return {"volumeAttachment": _view(att, server_id)}
    raise faults.NotFound("Volume %s is not attached to server %s." % (volume_id, server_id))


@bp.post("/servers/<server_id>/os-volume_attachments")
def create(server_id):
    """Attach → 200 ``{"volumeAttachment"}`` (tempest ``attach_volume``)."""
    ctxt = common.context()
    body = common.validate(_schema, common.json_body())["volumeAttachment"]
    inst, cell, _m = servers.lookup(server_id, rule=P % "create")
    volume_id = body["volumeId"]
    if cell is None or cell["uuid"] == db_engine.CELL0_UUID or not inst.get("host") or \
            inst.get("vm_state") not in (states.ACTIVE, states.STOPPED) or \
            inst.get("task_state") is not None:
        raise faults.Conflict("Cannot 'attach_volume' instance %s while it is in vm_state "
                              "%s" % (server_id, inst.get("vm_state")))
    device = body.get("device")
    if device and not _DEVICE.match(device):
        raise faults.BadRequest("The supplied device path (%s) is invalid." % device)
    eng = db_engine.api_engine()
    project = None if common.can("volume:get_all_admin") else ctxt.project_id
    try:
        vol = db_volumes.get_volume(eng, volume_id, project_id=project)
    except vexc.VolumeNotFound:
        raise faults.NotFound("Volume %s could not be found." % volume_id)
    current = _attachments(server_id)
    if any(a["volume_id"] == volume_id for a in current):
        raise faults.Conflict("Volume %s is already attached to server %s." % (
            volume_id, server_id))
    used = {a.get("mountpoint") for a in current}
    if device in used:
        raise faults.Conflict("The device %s is already in use on server %s." % (
            device, server_id))
    device = device or _next_device(used)
    try:
        att = db_volumes.reserve_volume(eng, vol["id"], instance_uuid=server_id,
                                        attached_host=inst.get("node") or inst["host"],
                                        mountpoint=device, project_id=project)
    except vexc.VolumeInvalidState:
        raise faults.Conflict("Invalid volume: volume %s status must be 'available', but "
                              "it is '%s'." % (volume_id, vol["status"]))
    except vexc.VolumeNotFound:
        raise faults.NotFound("Volume %s could not be found." % volume_id)
    try:
        _compute().attach_volume(ctxt, inst["host"], server_id, vol["id"], att["id"], device,
                                 transport_url=cell.get("transport_url"))
    except Exception:
        LOG.exception("could not cast attach_volume for %s; releasing the reservation",
                      volume_id)
        db_volumes.finish_detach(eng, vol["id"], att["id"])
        raise
    LOG.info("attaching volume %s to server %s at %s", volume_id, server_id, device)
    return {"volumeAttachment": _view(att, server_id)}


@bp.delete("/servers/<server_id>/os-volume_attachments/<volume_id>")
def delete(server_id, volume_id):
    """Detach → 202; 404 not attached here, 409 still attaching or detaching."""
    ctxt = common.context()
    inst, cell, _m = servers.lookup(server_id, rule=P % "delete")
    att = next((a for a in _attachments(server_id) if a["volume_id"] == volume_id), None)
    if att is None:
        raise faults.NotFound("Volume %s is not attached to server %s." % (
            volume_id, server_id))
    if cell is None or not inst.get("host") or inst.get("task_state") is not None:
        raise faults.Conflict("Cannot 'detach_volume' instance %s while it is in "
                              "task_state %s" % (server_id, inst.get("task_state")))
    eng = db_engine.api_engine()
    try:
        db_volumes.begin_detach(eng, volume_id, att["id"])
    except vexc.VolumeInvalidState as exc:
        raise faults.Conflict(exc.message)
    _compute().detach_volume(ctxt, inst["host"], server_id, volume_id, att["id"],
                             transport_url=cell.get("transport_url"))
    LOG.info("detaching volume %s from server %s", volume_id, server_id)
    return flask.Response(status=202)
