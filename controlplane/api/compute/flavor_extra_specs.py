"""``/flavors/{id}/os-extra_specs``: a flavor's extra specs (Nova's
os-flavor-extra-specs).

Project readers may read them, admins write them. Keys are 1–255 characters
of ``[a-zA-Z0-9-_:. ]``, values up to 255 characters (numbers and booleans
are stored as text). Embedding extra specs in the flavor view is 2.61,
above the served range.
"""
import logging

import flask

from controlplane.api import common, faults
from controlplane.api.compute.flavors import get_visible_flavor
from controlplane.api.schemas import flavors as schema
from controlplane.db import flavors as db

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("flavor_extra_specs", __name__)

P = "os_compute_api:os-flavor-extra-specs:%s"


def _as_text(specs):
    out = {}
    for key, value in specs.items():
        value = str(value)
        if len(value) > 255:
            raise faults.BadRequest("Invalid input for field/attribute extra_specs. "
                                    "Value of %s is longer than 255 characters." % key)
        out[key] = value
    return out


@bp.get("/flavors/<flavor_id>/os-extra_specs")
def index(flavor_id):
    """→ ``{"extra_specs": {key: value}}``."""
    common.authorize(P % "index")
    return {"extra_specs": get_visible_flavor(flavor_id)["extra_specs"]}


@bp.post("/flavors/<flavor_id>/os-extra_specs")
def create(flavor_id):
    """Body ``{"extra_specs": {key: value}}`` (admin): create or overwrite the
    keys; → the keys given."""
    common.authorize(P % "create")
    body = common.validate(schema.extra_specs_create, common.json_body())
    specs = _as_text(body["extra_specs"])
    db.update_extra_specs(flavor_id, specs)
    LOG.info("flavor %s: extra specs %s set", flavor_id, sorted(specs))
    return {"extra_specs": specs}


@bp.get("/flavors/<flavor_id>/os-extra_specs/<key>")
def show(flavor_id, key):
    """→ ``{key: value}``; 404 when the flavor has no such key."""
    common.authorize(P % "show")
    specs = get_visible_flavor(flavor_id)["extra_specs"]
    if key not in specs:
        raise faults.NotFound("Flavor %s has no extra specs with key %s." % (flavor_id, key))
    return {key: specs[key]}


@bp.put("/flavors/<flavor_id>/os-extra_specs/<key>")
def update(flavor_id, key):
    """Body ``{key: value}`` with exactly the key of the URL (admin)."""
    common.authorize(P % "update")
    body = common.validate(schema.extra_spec_update, common.json_body())
    if len(body) > 1:
        raise faults.BadRequest("Request body contains too many items")
    if key not in body:
        raise faults.BadRequest("Request body and URI mismatch")
    specs = _as_text(body)
    db.update_extra_specs(flavor_id, specs)
    return specs


@bp.delete("/flavors/<flavor_id>/os-extra_specs/<key>")
def delete(flavor_id, key):
    """Remove one key (admin) → 200 with no body; 404 if absent."""
    common.authorize(P % "delete")
    db.delete_extra_spec(flavor_id, key)
    return "", 200
