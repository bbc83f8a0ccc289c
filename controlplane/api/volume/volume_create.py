"""The API side of a volume create (Cinder's ``cinder.volume.api.API.create``
and its ``CreateVolumeFlow``: validate, reserve quota, create the row,
cast to the scheduler).

Sources, at most one of: ``snapshot_id`` (an ``available`` snapshot; the
size defaults to the snapshot's and may not be smaller), ``source_volid``
(a volume ``available`` or ``in-use``; same size rule), ``imageRef`` (an
image the caller sees in Glance; the size in GiB must hold the image's
``size`` and ``min_disk``). The type is the one named (by id or name),
else the source's, else ``[DEFAULT] default_volume_type``. The zone is
the one named (400 unless a backend reports it), else the source's, else
``[DEFAULT] storage_availability_zone`` when a backend reports it, else
the first zone (by name) a backend reports: a volume always has a zone,
as in Cinder.
"""
import logging
import math

from controlplane.api import faults
from controlplane.api.volume import availability_zones, helpers, lookup, quota, rpc
from controlplane.api.volume import types as types_api
from controlplane.api.volume.schemas.types_common import MAX_INT
from controlplane.volume import states

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3


def _size(raw, what="size"):
    if raw is None:
        return None
    try:
        size = int(raw)
    except (TypeError, ValueError):
        raise faults.BadRequest("Invalid input received: %s %r must be an integer." % (
            what, raw))
    if size <= 0 or size > MAX_INT:
        raise faults.BadRequest("Invalid input received: %s must be an integer (and "
                                "greater than 0), got %r." % (what, raw))
    return size


def _image(ctxt, image_ref, size):
    from controlplane.image import glance
    try:
        image = glance.get_image(ctxt, image_ref)
    except glance.ImageNotFound:
        raise faults.BadRequest("Invalid image identifier or unable to access requested "
                                "image.")
    if image.get("status") != "active":
        raise faults.BadRequest("Image %s is not active." % image_ref)
    image_gb = int(math.ceil((image.get("size") or 0) / float(GiB)))
    if size is None:
        raise faults.BadRequest("Invalid input received: size is required when creating "
                                "a volume from an image.")
    if size < image_gb:
        raise faults.BadRequest("Size of specified image %sGB is larger than volume size "
                                "%sGB." % (image_gb, size))
    if size < image.get("min_disk", 0):
        raise faults.BadRequest("Volume size %sGB cannot be smaller than the image minDisk "
                                "size %sGB." % (size, image["min_disk"]))
    return image


def _zone(requested, inherited):
    known = availability_zones.known_zones()
    if requested:
        if known and requested not in known:
            raise faults.BadRequest("Invalid input received: Availability zone '%s' is "
                                    "invalid." % requested)
        if inherited and requested != inherited:
            raise faults.BadRequest("Invalid input received: Volume must be in the same "
                                    "availability zone as the source (%s)." % inherited)
        return requested
    if inherited:
        return inherited
    from controlplane.conf import CONF
    default = CONF.storage_availability_zone
    if default in known or not known:
        return default
    return sorted(known)[0]


def create(ctxt, req, scheduler_hints=None):
    """Validate ``req`` (the ``volume`` object of the body), create the row
    within quota, cast to the scheduler; returns the volume dict.

    :raises faults.BadRequest / NotFound / OverQuota (413).
    """
    size = _size(req.get("size"))
    snapshot_id, source_volid = req.get("snapshot_id"), req.get("source_volid")
    image_ref = req.get("imageRef") or req.get("image_id")
    if sum(1 for s in (snapshot_id, source_volid, image_ref, req.get("backup_id")) if s) > 1:
        raise faults.BadRequest("Invalid input received: only one of snapshot_id, "
                                "source_volid, imageRef or backup_id may be given.")
    if req.get("backup_id"):
        raise faults.BadRequest("Creating a volume from a backup is not supported.")
    source_type_id, source_zone, image = None, None, None
    values = {"project_id": ctxt.project_id, "user_id": ctxt.user_id,
              "status": states.CREATING, "attach_status": states.DETACHED}
    if snapshot_id:
        snap = lookup.get_snapshot(snapshot_id)
        if snap["status"] != states.SNAP_AVAILABLE:
            raise faults.BadRequest("Invalid snapshot: Originating snapshot status must be "
                                    "one of 'available' values")
        size = snap["volume_size"] if size is None else size
        if size < snap["volume_size"]:
            raise faults.BadRequest("Invalid input received: Volume size '%s'GB cannot be "
                                    "smaller than the snapshot size %sGB." % (
                                        size, snap["volume_size"]))
        source = lookup.get_volume(snap["volume_id"])
        source_type_id = snap.get("volume_type_id") or source.get("volume_type_id")
        source_zone = source.get("availability_zone")
        values["snapshot_id"] = snapshot_id
        values["bootable"] = bool(source.get("bootable"))
        values["glance_metadata"] = dict(source.get("glance_metadata") or {})
    elif source_volid:
        source = lookup.get_volume(source_volid)
        if source["status"] not in states.CLONE_SOURCE:
            raise faults.BadRequest("Invalid volume: Unable to clone volumes that are in "
                                    "%s status." % source["status"])
        size = source["size"] if size is None else size
        if size < source["size"]:
            raise faults.BadRequest("Invalid input received: Clones currently must be >= "
                                    "original volume size.")
        source_type_id = source.get("volume_type_id")
        source_zone = source.get("availability_zone")
        values["source_volid"] = source_volid
        values["bootable"] = bool(source.get("bootable"))
        values["glance_metadata"] = dict(source.get("glance_metadata") or {})
    elif image_ref:
        image = _image(ctxt, image_ref, size)
        values["image_id"] = image["id"]
        values["bootable"] = True
        values["glance_metadata"] = _glance_metadata(image)
    if size is None:
        raise faults.BadRequest("Invalid input received: size is required.")
    if req.get("volume_type"):
        vtype = types_api.find_type(req["volume_type"], for_use=True)
        if source_type_id and vtype["id"] != source_type_id and snapshot_id:
            raise faults.BadRequest("Invalid input received: Invalid volume_type provided: "
                                    "%s (requested type must match the snapshot's)."
                                    % req["volume_type"])
    elif source_type_id:
        vtype = types_api.find_type(source_type_id, for_use=True)
    else:
        vtype = types_api.find_type("default")
    values.update(
        size=size, volume_type_id=vtype["id"],
        availability_zone=_zone(req.get("availability_zone"), source_zone),
        display_name=req.get("name", req.get("display_name")),
        display_description=req.get("description", req.get("display_description")),
        metadata=dict(req.get("metadata") or {}),
        multiattach=helpers.str_bool(req.get("multiattach") or False, "multiattach"))
    if "bootable" in req and req["bootable"] is not None:
        values["bootable"] = helpers.str_bool(req["bootable"], "bootable")
    vol = quota.create_volume(ctxt, values, vtype)
    request_spec = {
        "volume_id": vol["id"], "size": size, "project_id": ctxt.project_id,
        "user_id": ctxt.user_id, "availability_zone": vol["availability_zone"],
        "volume_type": {"id": vtype["id"], "name": vtype["name"],
                        "extra_specs": dict(vtype["extra_specs"])},
        "snapshot_id": values.get("snapshot_id"), "source_volid": values.get("source_volid"),
        "image_id": values.get("image_id"), "multiattach": values["multiattach"],
        "volume_properties": {k: vol.get(k) for k in (
            "size", "availability_zone", "project_id", "user_id", "volume_type_id",
            "display_name", "multiattach", "bootable", "status")},
    }
    try:
        rpc.scheduler_api().create_volume(ctxt, request_spec,
                                          {"scheduler_hints": scheduler_hints or {}})
    except Exception:
        LOG.exception("could not cast create_volume of %s to the scheduler", vol["id"])
        rpc.set_error(vol["id"])
        raise faults.HTTPError("The volume scheduler is unreachable; the volume is in "
                               "error.")
    LOG.info("volume %s (%s GiB, type %s) created in %s; scheduling", vol["id"], size,
             vtype["name"], vol["availability_zone"])
    return vol


def _glance_metadata(image):
    """Cinder's ``volume_image_metadata``: image id, name, formats, sizes and
    the custom properties."""
    meta = {"image_id": image["id"], "image_name": image.get("name") or "",
            "size": str(image.get("size") or 0), "min_disk": str(image.get("min_disk", 0)),
            "min_ram": str(image.get("min_ram", 0))}
    for k, v in (image.get("properties") or {}).items():
        meta[k] = v if isinstance(v, str) else str(v)
    return meta

