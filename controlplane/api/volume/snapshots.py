"""Volume snapshots (Cinder's ``/snapshots``): create, list, show, update,
delete, reset status.

A create needs the volume ``available`` (``in-use`` with ``force``), else
409; the snapshot is counted against ``snapshots`` and ``gigabytes``
quotas (413) and inserted in ``creating``, then ``create_snapshot`` is
cast to the volume's backend. A delete moves an ``available`` or
``error`` snapshot to ``deleting`` (409 otherwise) and casts
``delete_snapshot``.
"""
import logging

import flask

from controlplane import exception
from controlplane.api import common, faults
from controlplane.api.volume import helpers, lookup, quota, rpc
from controlplane.api.volume.schemas import snapshots as schema
from controlplane.api.volume.schemas import volumes as vol_schema
from controlplane.api.volume.views import snapshots as view
from controlplane.db import snapshots as db_snapshots
from controlplane.volume import states

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("snapshots", __name__)

_FILTERS = {"name": "name", "display_name": "name", "name~": "name~", "status": "status",
            "volume_id": "volume_id", "project_id": "project_id"}


def _extended():
    return common.can("volume_extension:extended_snapshot_attributes",
                      helpers.target(common.context().project_id))


def _list(detail):
    ctxt = common.context()
    common.authorize("volume:get_all_snapshots", helpers.target(ctxt.project_id))
    project = ctxt.project_id
    if helpers.bool_query("all_tenants") and common.can(lookup.ALL_PROJECTS):
        project = None
    filters = {_FILTERS[k]: v for k, v in flask.request.args.items() if k in _FILTERS}
    if "project_id" in filters:
        pid = filters.pop("project_id")
        if project is None:
            project = pid
    limit, marker = common.paginate_params()
    try:
        snaps = db_snapshots.list_snapshots(lookup.engine(), project_id=project,
                                            filters=filters, limit=limit, marker=marker)
    except ValueError as exc:
        raise faults.BadRequest("Invalid input received: %s" % exc)
    except exception.MarkerNotFound:
        raise faults.BadRequest("Marker %s could not be found." % marker)
    if detail:
        ext = _extended()
        items = [view.detail(s, ext) for s in snaps]
    else:
        items = [view.basic(s) for s in snaps]
    body = {"snapshots": items}
    links = helpers.collection_links("snapshots/detail" if detail else "snapshots", snaps,
                                     limit)
    if links:
        body["snapshots_links"] = links
    return body


@bp.get("/snapshots")
def index():
    """``{"snapshots": [...]}`` (tempest ``list_snapshots_no_detail``)."""
    return _list(False)


@bp.get("/snapshots/detail")
def detail():
    """``{"snapshots": [...]}`` with progress and project (tempest
    ``list_snapshots_with_detail``)."""
    return _list(True)


@bp.get("/snapshots/<snapshot_id>")
def show(snapshot_id):
    """``{"snapshot": {...}}`` (tempest ``show_snapshot``)."""
    return {"snapshot": view.detail(lookup.get_snapshot(snapshot_id), True)}


@bp.post("/snapshots")
def create():
    """202 ``{"snapshot"}`` in ``creating`` (tempest ``create_snapshot``);
    404 unknown volume, 409 volume in a wrong state, 413 over quota."""
    ctxt = common.context()
    req = common.validate(schema.create, common.json_body())["snapshot"]
    vol = lookup.get_volume(req["volume_id"])
    common.authorize("volume:create_snapshot", helpers.target(vol["project_id"]))
    force = helpers.str_bool(req.get("force", False), "force")
    allowed = states.FORCE_SNAPSHOTTABLE if force else states.SNAPSHOTTABLE
    if vol["status"] not in allowed:
        raise faults.Conflict("Invalid volume: Volume %s status must be %s to take a "
                              "snapshot, but current status is: %s." % (
                                  vol["id"], " or ".join(allowed), vol["status"]))
    values = {"volume_id": vol["id"], "user_id": ctxt.user_id,
              "status": states.SNAP_CREATING,
              "display_name": req.get("name", req.get("display_name")),
              "display_description": req.get("description", req.get("display_description")),
              "metadata": dict(req.get("metadata") or {}), "progress": "0%"}
    type_name = lookup.type_names([vol.get("volume_type_id")]).get(vol.get("volume_type_id"))
    snap = quota.create_snapshot(ctxt, values, vol, type_name, allowed)
    rpc.volume_api().create_snapshot(ctxt, vol, snap)
    LOG.info("snapshot %s of volume %s created; casting to %s", snap["id"], vol["id"],
             vol.get("host"))
    resp = flask.jsonify({"snapshot": view.basic(snap)})
    resp.status_code = 202
    return resp


@bp.put("/snapshots/<snapshot_id>")
def update(snapshot_id):
    """Change name/description → 200 ``{"snapshot"}``."""
    req = common.validate(schema.update, common.json_body())["snapshot"]
    snap = lookup.get_snapshot(snapshot_id)
    common.authorize("volume:update_snapshot", helpers.target(snap["project_id"]))
    if not req:
        raise faults.BadRequest("Missing request body: name or description.")
    values = {}
    for src, dst in (("name", "display_name"), ("display_name", "display_name"),
                     ("description", "display_description"),
                     ("display_description", "display_description")):
        if src in req:
            values[dst] = req[src]
    snap = db_snapshots.update_snapshot(lookup.engine(), snapshot_id, values)
    return {"snapshot": view.basic(snap)}


@bp.delete("/snapshots/<snapshot_id>")
def delete(snapshot_id):
    """202; 409 unless ``available`` or ``error``."""
    ctxt = common.context()
    snap = lookup.get_snapshot(snapshot_id)
    common.authorize("volume:delete_snapshot", helpers.target(snap["project_id"]))
    snap = db_snapshots.begin_delete(lookup.engine(), snapshot_id)
    rpc.delete_snapshot(ctxt, snap)
    return "", 202


@bp.post("/snapshots/<snapshot_id>/action")
def snapshot_action(snapshot_id):
    """``os-reset_status`` (admin) → 202; other actions 400."""
    body = common.json_body()
    if "os-reset_status" not in body:
        raise faults.BadRequest("There is no such action: %s" % ", ".join(body))
    common.authorize("volume_extension:snapshot_admin_actions:reset_status")
    req = common.validate(schema.reset_status, body)["os-reset_status"]
    lookup.get_snapshot(snapshot_id)
    db_snapshots.update_snapshot(lookup.engine(), snapshot_id, {"status": req["status"]})
    return "", 202


@bp.get("/snapshots/<snapshot_id>/metadata")
def metadata_show(snapshot_id):
    """``{"metadata": {...}}``."""
    return {"metadata": dict(lookup.get_snapshot(snapshot_id)["metadata"])}


@bp.route("/snapshots/<snapshot_id>/metadata", methods=["POST", "PUT"])
def metadata_set(snapshot_id):
    """POST merges, PUT replaces → ``{"metadata": {...}}``."""
    body = common.validate(vol_schema.metadata_body, common.json_body())
    snap = lookup.get_snapshot(snapshot_id)
    common.authorize("volume:update_snapshot", helpers.target(snap["project_id"]))
    new = db_snapshots.update_snapshot_metadata(lookup.engine(), snapshot_id,
                                                body["metadata"],
                                                delete=flask.request.method == "PUT")
    return {"metadata": new}
