"""``/flavors/{id}/os-flavor-access`` and the ``addTenantAccess`` /
``removeTenantAccess`` actions (Nova's os-flavor-access), admin only.

A public flavor has no access list: listing it is 404, adding a project to
it 409, as Nova.
"""
import logging

import flask

from controlplane.api import common, faults
from controlplane.api.schemas import flavors as schema
from controlplane.db import flavors as db

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("flavor_access", __name__)

P = "os_compute_api:os-flavor-access"


@bp.get("/flavors/<flavor_id>/os-flavor-access")
def index(flavor_id):
    """→ ``{"flavor_access": [{"flavor_id", "tenant_id"}]}``."""
    common.authorize(P)
    flavor = db.get_flavor(flavor_id)
    if flavor["is_public"]:
        raise faults.NotFound("Access list not available for public flavors.")
    return {"flavor_access": db.list_flavor_access(flavor_id)}


@bp.post("/flavors/<flavor_id>/action")
def action(flavor_id):
    """``{"addTenantAccess": {"tenant": p}}`` or ``{"removeTenantAccess":
    {"tenant": p}}`` → the access list after the change."""
    body = common.json_body()
    if "addTenantAccess" in body:
        common.authorize(P + ":add_tenant_access")
        body = common.validate(schema.add_tenant_access, body)
        project_id = body["addTenantAccess"]["tenant"]
        flavor = db.get_flavor(flavor_id)
        if flavor["is_public"]:
            raise faults.Conflict("Can not add access to a public flavor.")
        access = db.add_flavor_access(flavor_id, project_id)
        LOG.info("flavor %s shared with project %s", flavor_id, project_id)
    elif "removeTenantAccess" in body:
        common.authorize(P + ":remove_tenant_access")
        body = common.validate(schema.remove_tenant_access, body)
        project_id = body["removeTenantAccess"]["tenant"]
        access = db.remove_flavor_access(flavor_id, project_id)
        LOG.info("flavor %s no longer shared with project %s", flavor_id, project_id)
    else:
        raise faults.BadRequest("There is no such action: %s" % ", ".join(sorted(body)) or "")
    return {"flavor_access": access}
