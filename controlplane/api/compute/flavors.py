"""``/flavors``: list, show, create, update (2.55) and delete flavors.

Follows Nova's flavors and flavor-manage APIs (microversions 2.1 – 2.60):

* ``GET /flavors`` and ``/flavors/detail`` take ``is_public`` (admins only:
  ``true`` (default, public plus those shared with the caller's project),
  ``false`` or ``none`` (all)), ``minRam``, ``minDisk``, ``sort_key``,
  ``sort_dir``, ``limit`` and ``marker`` (a flavor id). A non-admin sees
  enabled public flavors plus private ones shared with their project.
* ``POST /flavors`` (admin) creates one; ``id`` is optional (a uuid is
  generated); a taken name or id is 409.
* ``PUT /flavors/{id}`` (2.55, admin) changes the description.
* ``DELETE /flavors/{id}`` (admin) answers 202.
"""
import logging
import uuid

import flask

from controlplane import exception
from controlplane.api import common, faults
from controlplane.api.schemas import flavors as schema
from controlplane.api.views import flavors as view
from controlplane.db import flavors as db

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("flavors", __name__)

_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def parse_bool(value, what):
    """A JSON/query boolean given as bool or string; 400 otherwise."""
    if isinstance(value, bool):
        return value
    low = str(value).strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise faults.BadRequest("Invalid %s value [%s]" % (what, value))


def _project_filter():
    """``project_id`` that restricts what a non-admin may see (None for admin)."""
    ctxt = common.context()
    return None if ctxt.is_admin else ctxt.project_id


def get_visible_flavor(flavor_id):
    """The flavor if the caller may see it (404 otherwise); used by the
    extra-specs and access resources too."""
    return db.get_flavor(flavor_id, project_id=_project_filter())


def _int_filter(name):
    raw = flask.request.args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise faults.BadRequest("Invalid %s filter [%s]" % (name, raw))
    if value < 0:
        raise faults.BadRequest("Invalid %s filter [%s]" % (name, raw))
    return value


def _list(detail):
    ctxt = common.context()
    version = common.req_version()
    limit, marker = common.paginate_params()
    kwargs = {}
    if ctxt.is_admin:
        raw = flask.request.args.get("is_public")
        if raw is None:
            kwargs["is_public"] = True
        elif raw.strip().lower() == "none":
            kwargs["is_public"] = None
        else:
            kwargs["is_public"] = parse_bool(raw, "is_public filter")
    else:
        kwargs["is_public"] = True
        kwargs["include_disabled"] = False
    sort_key = flask.request.args.get("sort_key") or "flavorid"
    sort_dir = flask.request.args.get("sort_dir") or "asc"
    if sort_key not in db.SORT_KEYS:
        raise faults.BadRequest("Invalid sort_key: %s" % sort_key)
    if sort_dir not in ("asc", "desc"):
        raise faults.BadRequest("Invalid sort_dir: %s" % sort_dir)
    try:
        flavors = db.list_flavors(
            project_id=ctxt.project_id, min_memory_mb=_int_filter("minRam"),
            min_root_gb=_int_filter("minDisk"), sort_key=sort_key, sort_dir=sort_dir,
            limit=limit, marker=marker, **kwargs)
    except exception.MarkerNotFound:
        raise faults.BadRequest("marker [%s] not found" % marker)
    build = view.detail if detail else view.basic
    body = {"flavors": [build(f, version) for f in flavors]}
    links = common.collection_links("flavors/detail" if detail else "flavors",
                                    [{"id": f["flavorid"]} for f in flavors], limit)
    if links:
        body["flavors_links"] = links
    return body


@bp.get("/flavors")
def index():
    """``GET /flavors`` → ``{"flavors": [{"id", "name", "links"}]}``."""
    return _list(detail=False)


@bp.get("/flavors/detail")
def detail():
    """``GET /flavors/detail`` → ``{"flavors": [detail]}``."""
    return _list(detail=True)


@bp.get("/flavors/<flavor_id>")
def show(flavor_id):
    """``GET /flavors/{id}``; 404 for an unknown or inaccessible flavor."""
    return {"flavor": view.detail(get_visible_flavor(flavor_id), common.req_version())}


def _int_field(flavor, key, minimum, default=None):
    if key not in flavor:
        return default
    value = int(flavor[key])
    if not minimum <= value <= schema.MAX_INT:
        raise faults.BadRequest(
            "Invalid input for field/attribute %s. Value: %s. must be an integer "
            "between %d and %d" % (key, flavor[key], minimum, schema.MAX_INT))
    return value


@bp.post("/flavors")
def create():
    """``POST /flavors`` (admin) → 200 ``{"flavor": detail}``; 409 on a taken
    name or id."""
    common.authorize("os_compute_api:os-flavor-manage:create")
    version = common.req_version()
    body = common.validate(schema.create_v255 if version >= (2, 55) else schema.create,
                           common.json_body())
    f = body["flavor"]
    values = {
        "name": f["name"],
        "flavorid": f.get("id") or str(uuid.uuid4()),
        "memory_mb": _int_field(f, "ram", 1),
        "vcpus": _int_field(f, "vcpus", 1),
        "root_gb": _int_field(f, "disk", 0),
        "ephemeral_gb": _int_field(f, "OS-FLV-EXT-DATA:ephemeral", 0, 0),
        "swap": _int_field(f, "swap", 0, 0),
        "is_public": parse_bool(f.get("os-flavor-access:is_public", True), "is_public"),
        "description": f.get("description"),
    }
    if "rxtx_factor" in f:
        rxtx = float(f["rxtx_factor"])
        if not 0 < rxtx <= 3.40282e38:
            raise faults.BadRequest("rxtx_factor must be greater than 0 and at most 3.40282e+38")
        values["rxtx_factor"] = rxtx
    flavor = db.create_flavor(values)
    LOG.info("created flavor %s (%s)", flavor["flavorid"], flavor["name"])
    return {"flavor": view.detail(flavor, version)}


@bp.put("/flavors/<flavor_id>")
def update(flavor_id):
    """``PUT /flavors/{id}`` (2.55, admin): set the description."""
    version = common.req_version()
    if version < (2, 55):
        raise faults.NotFound("The resource could not be found.")
    common.authorize("os_compute_api:os-flavor-manage:update")
    body = common.validate(schema.update_v255, common.json_body())
    flavor = db.update_flavor_description(flavor_id, body["flavor"]["description"])
    return {"flavor": view.detail(flavor, version)}


@bp.delete("/flavors/<flavor_id>")
def delete(flavor_id):
    """``DELETE /flavors/{id}`` (admin) → 202."""
    common.authorize("os_compute_api:os-flavor-manage:delete")
    db.delete_flavor(flavor_id)
    LOG.info("deleted flavor %s", flavor_id)
    return "", 202
