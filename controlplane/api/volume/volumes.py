"""Volumes: create (empty, from a snapshot, a volume or an image), list,
show, update, delete (Cinder's ``/volumes``, Block Storage API v3).

A create validates its sources, counts quota and inserts the volume in
``creating`` in one step (:mod:`controlplane.api.volume.volume_create`),
then casts ``create_volume`` to the volume scheduler, which picks a pool
and hands the work to that backend. A delete moves the volume to
``deleting`` with a compare-and-swap (409 in a wrong state, attached, or
with snapshots unless ``cascade``) and casts ``delete_volume`` to its
backend; a volume never placed on a backend is deleted at once.
"""
import logging

import flask

from controlplane import exception
from controlplane.api import common, faults
from controlplane.api.volume import helpers, lookup, volume_create
from controlplane.api.volume.schemas import volumes as schema
from controlplane.api.volume.views import volumes as view
from controlplane.db import volumes as db_volumes
from controlplane.volume import states

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("volumes", __name__)

#: query keys of GET /volumes that are not filters
_NOT_FILTERS = {"limit", "marker", "sort", "sort_key", "sort_dir", "all_tenants",
                "offset", "with_count", "is_public", "detail"}
#: filters Cinder's resource_filters allow on volumes, mapped to db keys
_FILTERS = {"name": "name", "display_name": "name", "name~": "name~",
            "status": "status", "availability_zone": "availability_zone",
            "bootable": "bootable", "metadata": "metadata", "id": "id",
            "volume_type": "volume_type_id", "volume_type_id": "volume_type_id",
            "project_id": "project_id", "user_id": "user_id", "host": "host",
            "attach_status": "attach_status", "group_id": None,
            "changes-since": "changes-since", "created_at": None, "updated_at": None}


def show_volume(vol, version=None):
    """The detail view of one volume (type name, attachments, admin keys)."""
    version = version or helpers.req_version()
    names = lookup.type_names([vol.get("volume_type_id")])
    atts = lookup.attachments_of([vol["id"]]).get(vol["id"], [])
    return view.detail(vol, version, names.get(vol.get("volume_type_id")), atts,
                       admin=common.can("volume_extension:volume_host_attribute"))


def _short(out):
    """The volume of a create/update answer: without the admin and image
    attributes (Cinder's create view)."""
    for key in ("os-vol-host-attr:host", "os-vol-tenant-attr:tenant_id",
                "os-vol-mig-status-attr:migstat", "os-vol-mig-status-attr:name_id",
                "volume_image_metadata"):
        out.pop(key, None)
    return out


def _sort():
    raw = flask.request.args.get("sort")
    if raw:
        out = []
        for part in raw.split(","):
            key, _, direction = part.strip().partition(":")
            out.append((key.strip(), (direction or "desc").strip()))
    elif flask.request.args.get("sort_key"):
        out = [(flask.request.args["sort_key"], flask.request.args.get("sort_dir", "desc"))]
    else:
        return None
    return [("display_name" if k == "name" else k, d) for k, d in out]


def _filters():
    import json
    out = {}
    for key, value in flask.request.args.items():
        if key in _NOT_FILTERS or key not in _FILTERS or _FILTERS[key] is None:
            continue
        dbkey = _FILTERS[key]
        if dbkey == "bootable":
            value = helpers.str_bool(value, "bootable")
        elif dbkey == "metadata":
            try:
                value = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise faults.BadRequest("Invalid metadata filter: a JSON object is required.")
        elif dbkey == "volume_type_id":
            from controlplane.api.volume import types as types_api
            value = types_api.find_type(value, for_use=True)["id"]
        out[dbkey] = value
    return out


def _list(detail):
    ctxt = common.context()
    common.authorize("volume:get_all", helpers.target(ctxt.project_id))
    project = ctxt.project_id
    if helpers.bool_query("all_tenants") and common.can(lookup.ALL_PROJECTS):
        project = None
    filters = _filters()
    if "project_id" in filters:
        if project is None:
            project = filters.pop("project_id")
        else:
            filters.pop("project_id")
    limit, marker = common.paginate_params()
    try:
        vols = db_volumes.list_volumes(lookup.engine(), project_id=project, filters=filters,
                                       limit=limit, marker=marker, sort=_sort())
    except ValueError as exc:
        raise faults.BadRequest("Invalid input received: %s" % exc)
    except exception.MarkerNotFound:
        raise faults.BadRequest("Marker %s could not be found." % marker)
    version = helpers.req_version()
    if detail:
        names = lookup.type_names(v.get("volume_type_id") for v in vols)
        atts = lookup.attachments_of(v["id"] for v in vols)
        admin = common.can("volume_extension:volume_host_attribute")
        items = [view.detail(v, version, names.get(v.get("volume_type_id")),
                             atts.get(v["id"], []), admin) for v in vols]
    else:
        items = [view.summary(v) for v in vols]
    body = {"volumes": items}
    links = helpers.collection_links("volumes/detail" if detail else "volumes", vols, limit)
    if links:
        body["volumes_links"] = links
    if version >= (3, 45) and helpers.bool_query("with_count"):
        body["count"] = db_volumes.count_volumes(lookup.engine(), project_id=project,
                                                 filters=filters)
    return body


@bp.get("/volumes")
def index():
    """``{"volumes": [{"id", "name", "links"}]}`` (tempest ``list_volumes_no_detail``)."""
    return _list(False)


@bp.get("/volumes/detail")
def detail():
    """``{"volumes": [...]}`` in full (tempest ``list_volumes_with_detail``)."""
    return _list(True)


@bp.get("/volumes/<volume_id>")
def show(volume_id):
    """``{"volume": {...}}`` (tempest ``show_volume``); 404 for another project's."""
    return {"volume": show_volume(lookup.get_volume(volume_id))}


@bp.post("/volumes")
def create():
    """202 ``{"volume": {...}}`` in ``creating`` (tempest ``create_volume``).

    400 bad size/source/zone; 404 unknown type or source; 413 over quota.
    """
    ctxt = common.context()
    common.authorize("volume:create", helpers.target(ctxt.project_id))
    body = common.validate(schema.create, common.json_body())
    vol = volume_create.create(ctxt, body["volume"],
                               body.get("OS-SCH-HNT:scheduler_hints")
                               or body["volume"].get("OS-SCH-HNT:scheduler_hints"))
    resp = flask.jsonify({"volume": _short(show_volume(vol))})
    resp.status_code = 202
    return resp


@bp.put("/volumes/<volume_id>")
def update(volume_id):
    """Change name, description or metadata → 200 ``{"volume"}``."""
    body = common.validate(schema.update, common.json_body())["volume"]
    vol = lookup.get_volume(volume_id)
    common.authorize("volume:update", helpers.target(vol["project_id"]))
    if not body:
        raise faults.BadRequest("Missing request body: name, description or metadata.")
    values = {}
    for src, dst in (("name", "display_name"), ("display_name", "display_name"),
                     ("description", "display_description"),
                     ("display_description", "display_description")):
        if src in body:
            values[dst] = body[src]
    if "metadata" in body:
        values["metadata"] = body["metadata"]
    vol = db_volumes.update_volume(lookup.engine(), volume_id, values)
    return {"volume": _short(show_volume(vol))}


def delete_volume(ctxt, vol, cascade=False, force=False):
    """Move ``vol`` to ``deleting`` and cast its delete (or delete it now
    when it was never placed on a backend).

    :raises VolumeInvalidState, VolumeAttached, VolumeHasSnapshots: 409.
    """
    from controlplane.api.volume import rpc
    expected = states.FORCE_DELETABLE if force else states.DELETABLE
    vol = db_volumes.begin_delete(lookup.engine(), vol["id"], expected_status=expected,
                                  cascade=cascade)
    if not vol.get("host"):
        LOG.info("volume %s has no backend; deleting it from the database", vol["id"])
        rpc.delete_unplaced(ctxt, vol)
        return
    rpc.volume_api().delete_volume(ctxt, vol, cascade=cascade)


@bp.delete("/volumes/<volume_id>")
def delete(volume_id):
    """202; 409 attached, with snapshots (unless ``?cascade=true``) or in a
    state that cannot be deleted."""
    vol = lookup.get_volume(volume_id)
    common.authorize("volume:delete", helpers.target(vol["project_id"]))
    cascade = helpers.bool_query("cascade")
    force = helpers.bool_query("force")
    if force:
        common.authorize("volume_extension:volume_admin_actions:force_delete")
    delete_volume(common.context(), vol, cascade=cascade, force=force)
    return "", 202


@bp.get("/volumes/<volume_id>/metadata")
def metadata_show(volume_id):
    """``{"metadata": {...}}``."""
    return {"metadata": dict(lookup.get_volume(volume_id)["metadata"])}


@bp.route("/volumes/<volume_id>/metadata", methods=["POST", "PUT"])
def metadata_set(volume_id):
    """POST merges, PUT replaces → ``{"metadata": {...}}``."""
    body = common.validate(schema.metadata_body, common.json_body())
    vol = lookup.get_volume(volume_id)
    common.authorize("volume:update", helpers.target(vol["project_id"]))
    new = db_volumes.update_volume_metadata(lookup.engine(), volume_id, body["metadata"],
                                            delete=flask.request.method == "PUT")
    return {"metadata": new}


@bp.delete("/volumes/<volume_id>/metadata/<key>")
def metadata_delete(volume_id, key):
    """Remove one key (200); 404 when absent."""
    vol = lookup.get_volume(volume_id)
    common.authorize("volume:update", helpers.target(vol["project_id"]))
    try:
        db_volumes.update_volume_metadata(lookup.engine(), volume_id, {}, key_to_delete=key)
    except KeyError:
        raise faults.NotFound("Metadata item %s was not found." % key)
    return {}
