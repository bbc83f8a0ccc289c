"""``POST /volumes/{id}/action`` (Cinder's volume actions).

* ``os-extend`` {new_size}: grow an ``available`` volume (``in-use`` too
  from 3.42) → ``extending`` and cast ``extend_volume``; the added GiB
  count against ``gigabytes`` quota (413). 400 when not larger.
* ``os-reset_status`` (admin) {status, attach_status, migration_status}.
* ``os-force_delete`` (admin): delete from any state but attached.
* ``os-volume_upload_image`` {image_name, disk_format, container_format,
  force, visibility, protected}: create the image in Glance (queued),
  move the volume to ``uploading`` and cast ``upload_to_image`` to the
  backend, which uploads the data and puts the volume back.
* ``os-set_bootable`` {bootable}, ``os-update_readonly_flag`` {readonly}.

Any other action is 400. A volume in the wrong state is 409.
"""
import logging

import flask

from controlplane.api import common, faults
from controlplane.api.views.common_times import iso
from controlplane.api.volume import helpers, lookup, quota, rpc
from controlplane.api.volume import volumes as volumes_api
from controlplane.api.volume.schemas import volumes as schema
from controlplane.api.volume.schemas.types_common import MAX_INT
from controlplane.db import volumes as db_volumes
from controlplane.volume import states

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("volume_actions", __name__)

_HANDLERS = {}


def action(name):
    def register(func):
        _HANDLERS[name] = func
        return func
    return register


@bp.post("/volumes/<volume_id>/action")
def dispatch(volume_id):
    """Run the one action named by the body's only key."""
    body = common.json_body()
    if len(body) != 1:
        raise faults.BadRequest("Invalid request body: exactly one action is required.")
    name = next(iter(body))
    handler = _HANDLERS.get(name)
    if handler is None:
        raise faults.BadRequest("There is no such action: %s" % name)
    vol = lookup.get_volume(volume_id)
    return handler(common.context(), vol, body)


def _accepted(body=None):
    if body is None:
        return "", 202
    resp = flask.jsonify(body)
    resp.status_code = 202
    return resp


@action("os-extend")
def extend(ctxt, vol, body):
    common.authorize("volume:extend", helpers.target(vol["project_id"]))
    new_size = int(common.validate(schema.extend, body)["os-extend"]["new_size"])
    if new_size > MAX_INT:
        raise faults.BadRequest("Invalid input received: new_size %s is too large." % new_size)
    if new_size <= vol["size"]:
        raise faults.BadRequest("Invalid input received: New size for extend must be "
                                "greater than current size. (current: %s, extended: %s)."
                                % (vol["size"], new_size))
    in_use_ok = helpers.req_version() >= (3, 42)
    name = "extend_in_use" if in_use_ok else "extend"
    expected, _new = states.expected_for(name)
    if vol["status"] not in expected:
        raise faults.Conflict("Invalid volume: Volume %s status must be %s to extend, but "
                              "current status is: %s." % (vol["id"], " or ".join(expected),
                                                          vol["status"]))
    type_name = lookup.type_names([vol.get("volume_type_id")]).get(vol.get("volume_type_id"))
    vol = quota.begin_extend(ctxt, vol, new_size, type_name, expected)
    rpc.volume_api().extend_volume(ctxt, vol, new_size)
    LOG.info("extending volume %s from %s to %s GiB", vol["id"], vol["size"], new_size)
    return _accepted()


@action("os-reset_status")
def reset_status(ctxt, vol, body):
    common.authorize("volume_extension:volume_admin_actions:reset_status")
    req = common.validate(schema.reset_status, body)["os-reset_status"]
    if not req:
        raise faults.BadRequest("Must specify 'status', 'attach_status' or "
                                "'migration_status' for update.")
    values = {}
    if "status" in req:
        if req["status"] not in states.VOLUME_STATUSES:
            raise faults.BadRequest("Invalid input received: status %r is not a volume "
                                    "status." % req["status"])
        values["status"] = req["status"]
    if "attach_status" in req:
        values["attach_status"] = req["attach_status"]
    if "migration_status" in req:
        values["migration_status"] = req["migration_status"]
    db_volumes.update_volume(lookup.engine(), vol["id"], values)
    LOG.info("admin reset volume %s to %s", vol["id"], values)
    return _accepted()


@action("os-force_delete")
def force_delete(ctxt, vol, body):
    common.authorize("volume_extension:volume_admin_actions:force_delete")
    volumes_api.delete_volume(ctxt, vol, force=True)
    return _accepted()


@action("os-set_bootable")
def set_bootable(ctxt, vol, body):
    common.authorize("volume_extension:volume_actions:bootable",
                     helpers.target(vol["project_id"]))
    req = common.validate(schema.set_bootable, body)["os-set_bootable"]
    db_volumes.update_volume(lookup.engine(), vol["id"],
                             {"bootable": helpers.str_bool(req["bootable"], "bootable")})
    return "", 200


@action("os-update_readonly_flag")
def update_readonly(ctxt, vol, body):
    common.authorize("volume:update_readonly_flag", helpers.target(vol["project_id"]))
    req = body["os-update_readonly_flag"]
    if not isinstance(req, dict) or "readonly" not in req:
        raise faults.BadRequest("Must specify readonly in request.")
    readonly = helpers.str_bool(req["readonly"], "readonly")
    meta = dict(vol["metadata"])
    meta["readonly"] = "True" if readonly else "False"
    db_volumes.update_volume(lookup.engine(), vol["id"], {"metadata": meta})
    return _accepted()


@action("os-volume_upload_image")
def upload_image(ctxt, vol, body):
    common.authorize("volume_extension:volume_actions:upload_image",
                     helpers.target(vol["project_id"]))
    req = common.validate(schema.upload_image, body)["os-volume_upload_image"]
    version = helpers.req_version()
    if ("visibility" in req or "protected" in req) and version < (3, 1):
        raise faults.BadRequest("visibility and protected need microversion 3.1.")
    force = helpers.str_bool(req.get("force", False), "force")
    name = "force_upload_to_image" if force else "upload_to_image"
    expected, _new = states.expected_for(name)
    if vol["status"] not in expected:
        raise faults.Conflict("Invalid volume: Volume %s status must be %s, but current "
                              "status is: %s." % (vol["id"], " or ".join(expected),
                                                  vol["status"]))
    meta = {"name": req["image_name"],
            "disk_format": req.get("disk_format", "raw"),
            "container_format": req.get("container_format", "bare"),
            "visibility": req.get("visibility", "private"),
            "protected": helpers.str_bool(req.get("protected", False), "protected")}
    vol = db_volumes.transition(lookup.engine(), vol["id"], name,
                                {"previous_status": vol["status"]})
    try:
        image = rpc.create_image(ctxt, vol, meta)
    except Exception:
        db_volumes.update_volume(lookup.engine(), vol["id"],
                                 {"status": vol["previous_status"] or states.AVAILABLE},
                                 expected_status=[states.UPLOADING])
        raise
    rpc.volume_api().upload_to_image(ctxt, vol, image["id"], meta)
    LOG.info("uploading volume %s to image %s", vol["id"], image["id"])
    vtype = lookup.type_names([vol.get("volume_type_id")])
    out = {"id": vol["id"], "updated_at": iso(vol.get("updated_at")),
           "status": states.UPLOADING, "display_description": vol["display_description"],
           "size": vol["size"], "volume_type": _type_doc(vol, vtype),
           "image_id": image["id"], "container_format": meta["container_format"],
           "disk_format": meta["disk_format"], "image_name": meta["name"]}
    if version >= (3, 1):
        out.update(visibility=meta["visibility"], protected=meta["protected"])
    return _accepted({"os-volume_upload_image": out})


def _type_doc(vol, names):
    tid = vol.get("volume_type_id")
    if not tid:
        return None
    return {"id": tid, "name": names.get(tid), "is_public": True, "deleted": False,
            "extra_specs": {}, "description": None, "qos_specs_id": None}
