"""Volume types (Cinder's ``/types``, ``os-volume-type-access`` and
``/types/{id}/extra_specs``).

Anyone lists and shows the public types and the private ones their
project was given access to (another private type is 404); the admin
manages them, sees private types (``?is_public=None`` or ``false``) and
every extra spec. ``GET /types/default`` is the default type
(``[DEFAULT] default_volume_type``).
"""
import flask

from controlplane.api import common, faults
from controlplane.api.volume import helpers
from controlplane.api.volume.schemas import types as schema
from controlplane.api.volume.views import types as view
from controlplane.conf import CONF
from controlplane.db import engine as db_engine
from controlplane.db import volume_types as db_types
from controlplane.volume import exception as vexc

bp = flask.Blueprint("volume_types", __name__)

P = "volume_extension:%s"


def _engine():
    return db_engine.api_engine()


def _read_sensitive():
    return common.can(P % "types_extra_specs:read_sensitive")


def find_type(ident, for_use=False):
    """The type named or identified by ``ident`` as the caller may see it.

    ``"default"`` is the default type. A private type the caller's project
    has no access to is not found (unless admin).
    :raises faults.NotFound.
    """
    eng = _engine()
    ctxt = common.context()
    try:
        if ident == "default":
            vtype = db_types.get_default_volume_type(eng, CONF.default_volume_type)
        elif for_use:
            vtype = db_types.get_volume_type_by_name_or_id(eng, ident)
        else:
            vtype = db_types.get_volume_type(eng, ident)
    except vexc.VolumeTypeNotFound:
        raise faults.NotFound("Volume type %s could not be found." % ident)
    if not vtype["is_public"] and not common.can(P % "volume_type_access") and \
            not db_types.project_can_use(eng, vtype["id"], ctxt.project_id):
        raise faults.NotFound("Volume type %s could not be found." % ident)
    return vtype


def _is_public_filter():
    """Cinder's ``is_public`` query: admin default True, ``None`` means all;
    non-admins always get public + accessible ones."""
    if not common.can(P % "volume_type_access"):
        return None, common.context().project_id
    raw = flask.request.args.get("is_public")
    if raw is None:
        return True, None
    if raw.strip().lower() == "none":
        return None, None
    return helpers.str_bool(raw, "is_public"), None


@bp.get("/types")
def index():
    """``{"volume_types": [...]}`` (tempest ``list_volume_types``)."""
    common.authorize(P % "type_get_all", helpers.target(common.context().project_id))
    is_public, project = _is_public_filter()
    limit, marker = common.paginate_params()
    sort = _sort_param()
    try:
        types = db_types.list_volume_types(_engine(), project_id=project,
                                           is_public=is_public, limit=limit, marker=marker,
                                           sort=sort)
    except ValueError as exc:
        raise faults.BadRequest(str(exc))
    sensitive = _read_sensitive()
    return {"volume_types": [view.volume_type(t, sensitive) for t in types]}


def _sort_param():
    raw = flask.request.args.get("sort")
    if not raw:
        key = flask.request.args.get("sort_key")
        if not key:
            return None
        return [(key, flask.request.args.get("sort_dir", "desc"))]
    out = []
    for part in raw.split(","):
        key, _, direction = part.strip().partition(":")
        out.append((key, direction or "desc"))
    return out


@bp.get("/types/<type_id>")
def show(type_id):
    """``{"volume_type": {...}}`` (tempest ``show_volume_type``)."""
    common.authorize(P % "type_get", helpers.target(common.context().project_id))
    return {"volume_type": view.volume_type(find_type(type_id), _read_sensitive())}


@bp.post("/types")
def create():
    """Admin: create a type → 200 ``{"volume_type"}`` (tempest ``create_volume_type``)."""
    common.authorize(P % "types_manage")
    body = common.validate(schema.create, common.json_body())["volume_type"]
    name = body["name"].strip()
    if not name:
        raise faults.BadRequest("Volume type name can not be empty.")
    is_public = body.get("os-volume-type-access:is_public", body.get("is_public", True))
    is_public = helpers.str_bool(is_public, "is_public")
    try:
        vtype = db_types.create_volume_type(_engine(), name,
                                            description=body.get("description"),
                                            is_public=is_public,
                                            extra_specs=_spec_strings(
                                                body.get("extra_specs") or {}))
    except vexc.VolumeTypeExists:
        raise faults.Conflict("Volume Type %s already exists." % name)
    out = view.volume_type(vtype, True)
    out.pop("qos_specs_id")
    return {"volume_type": out}


@bp.put("/types/<type_id>")
def update(type_id):
    """Admin: change name, description, is_public → 200 (tempest ``update_volume_types``)."""
    common.authorize(P % "types_manage")
    body = common.validate(schema.update, common.json_body())["volume_type"]
    if not body:
        raise faults.BadRequest("Specify volume type name, description, is_public or "
                                "a combination thereof.")
    name = body.get("name")
    if name is not None and not name.strip():
        raise faults.BadRequest("Volume type name can not be empty.")
    is_public = body.get("is_public")
    if is_public is not None:
        is_public = helpers.str_bool(is_public, "is_public")
    vtype = find_type(type_id)
    if vtype["name"] == db_types.DEFAULT_TYPE_NAME and name and name != vtype["name"]:
        raise faults.BadRequest("The default volume type cannot be renamed.")
    try:
        vtype = db_types.update_volume_type(_engine(), vtype["id"], name=name,
                                            description=body.get("description"),
                                            is_public=is_public)
    except vexc.VolumeTypeExists:
        raise faults.Conflict("Volume Type %s already exists." % name)
    return {"volume_type": view.volume_type(vtype, True, with_access_key=False)}


@bp.delete("/types/<type_id>")
def delete(type_id):
    """Admin: delete a type (202); 400 while volumes use it or for the default."""
    common.authorize(P % "types_manage")
    vtype = find_type(type_id)
    try:
        db_types.delete_volume_type(_engine(), vtype["id"])
    except (vexc.VolumeTypeInUse, vexc.VolumeTypeDefault) as exc:
        raise faults.BadRequest(exc.message)
    return "", 202


# --- extra specs --------------------------------------------------------------

def _spec_strings(specs):
    """Values as strings (``True`` → ``"True"``); 400 beyond 255 characters."""
    out = {k: str(v) for k, v in specs.items()}
    for k, v in out.items():
        if len(v) > 255:
            raise faults.BadRequest("Extra spec %s is longer than 255 characters." % k)
    return out


@bp.get("/types/<type_id>/extra_specs")
def specs_index(type_id):
    """``{"extra_specs": {...}}`` (tempest ``list_volume_types_extra_specs``)."""
    common.authorize(P % "types_extra_specs:index", helpers.target(common.context().project_id))
    vtype = find_type(type_id)
    return {"extra_specs": view.visible_specs(vtype["extra_specs"], _read_sensitive())}


@bp.post("/types/<type_id>/extra_specs")
def specs_create(type_id):
    """Admin: add or change specs → 200 ``{"extra_specs": <as sent>}``."""
    common.authorize(P % "types_extra_specs:manage")
    specs = common.validate(schema.extra_specs, common.json_body())["extra_specs"]
    vtype = find_type(type_id)
    specs = _spec_strings(specs)
    db_types.set_extra_specs(_engine(), vtype["id"], specs)
    return {"extra_specs": specs}


@bp.get("/types/<type_id>/extra_specs/<key>")
def specs_show(type_id, key):
    """``{key: value}``; 404 for an unknown key."""
    common.authorize(P % "types_extra_specs:index", helpers.target(common.context().project_id))
    specs = view.visible_specs(find_type(type_id)["extra_specs"], _read_sensitive())
    if key not in specs:
        raise faults.NotFound("Volume Type %s has no extra specs with key %s." % (type_id, key))
    return {key: specs[key]}


@bp.put("/types/<type_id>/extra_specs/<key>")
def specs_update(type_id, key):
    """Admin: ``{key: value}`` (the body must name ``key`` and only it)."""
    common.authorize(P % "types_extra_specs:manage")
    body = common.validate(schema.extra_spec_item, common.json_body())
    if key not in body:
        raise faults.BadRequest("Request body and URI mismatch")
    vtype = find_type(type_id)
    value = _spec_strings(body)[key]
    db_types.set_extra_specs(_engine(), vtype["id"], {key: value})
    return {key: value}


@bp.delete("/types/<type_id>/extra_specs/<key>")
def specs_delete(type_id, key):
    """Admin: remove a spec (202); 404 for an unknown key."""
    common.authorize(P % "types_extra_specs:manage")
    vtype = find_type(type_id)
    try:
        db_types.delete_extra_spec(_engine(), vtype["id"], key)
    except vexc.VolumeTypeExtraSpecsNotFound as exc:
        raise faults.NotFound(exc.message)
    return "", 202


# --- access to private types ----------------------------------------------------

@bp.get("/types/<type_id>/os-volume-type-access")
def access_index(type_id):
    """Admin: ``{"volume_type_access": [{"volume_type_id", "project_id"}]}``;
    a public type has no access list (404, as Cinder)."""
    common.authorize(P % "volume_type_access")
    vtype = find_type(type_id)
    if vtype["is_public"]:
        raise faults.NotFound("Access list not available for public volume types.")
    return {"volume_type_access": db_types.list_access(_engine(), vtype["id"])}


@bp.post("/types/<type_id>/action")
def access_action(type_id):
    """Admin: ``addProjectAccess`` / ``removeProjectAccess`` (202)."""
    common.authorize(P % "types_manage")
    body = common.validate(schema.type_access, common.json_body())
    vtype = find_type(type_id)
    if vtype["is_public"]:
        raise faults.BadRequest("Invalid volume type: type access modification is not "
                                "applicable to public volume type.")
    try:
        if "addProjectAccess" in body:
            db_types.add_access(_engine(), vtype["id"], body["addProjectAccess"]["project"])
        else:
            db_types.remove_access(_engine(), vtype["id"],
                                   body["removeProjectAccess"]["project"])
    except vexc.VolumeTypeAccessExists as exc:
        raise faults.Conflict(exc.message)
    except vexc.VolumeTypeAccessNotFound as exc:
        raise faults.NotFound(exc.message)
    return "", 202
