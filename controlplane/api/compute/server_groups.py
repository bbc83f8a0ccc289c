"""``/os-server-groups``: project-scoped server groups (Nova's
os-server-groups, microversions 2.1 – 2.60).

``POST`` takes ``{"server_group": {"name", "policies": [policy]}}`` with
one of ``affinity``/``anti-affinity`` (2.15: also the soft ones), counted
against the ``server_groups`` quota (403 when over). ``GET`` lists the
project's groups (``all_projects`` for admins, ``limit``/``offset``);
another project's group is 404. ``DELETE`` answers 204.

Server create puts the group named by the ``group`` scheduler hint into the
request_spec and adds the new servers with
``controlplane.db.server_groups.add_members``.
"""
import logging

import flask

from controlplane import exception, quota
from controlplane.api import common, faults
from controlplane.api.schemas import server_groups as schema
from controlplane.api.views import server_groups as view
from controlplane.db import server_groups as db

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("server_groups", __name__)

P = "os_compute_api:os-server-groups:%s"


def _offset_limit():
    limit, _marker = common.paginate_params()
    return limit, common.non_negative_int_param("offset", 0)


@bp.get("/os-server-groups")
def index():
    """→ ``{"server_groups": [...]}`` of the caller's project (or all)."""
    common.authorize(P % "index")
    ctxt = common.context()
    project_id = ctxt.project_id
    if "all_projects" in flask.request.args and common.bool_param("all_projects", True):
        common.authorize(P % "index:all_projects")
        project_id = None
    limit, offset = _offset_limit()
    version = common.req_version()
    groups = db.list_groups(project_id=project_id, limit=limit, offset=offset)
    return {"server_groups": [view.group(g, version) for g in groups]}


@bp.post("/os-server-groups")
def create():
    """Create a group in the caller's project → 200 with the group."""
    ctxt = common.context()
    common.authorize(P % "create")
    version = common.req_version()
    body = common.validate(schema.create_v215 if version >= (2, 15) else schema.create,
                           common.json_body())["server_group"]
    limit = quota.get_project_limits(ctxt.project_id).get("server_groups")
    try:
        grp = db.create_group(ctxt.project_id, ctxt.user_id, body["name"],
                              body["policies"][0], limit=limit)
    except exception.OverQuota:
        raise faults.QuotaExceeded("Quota exceeded, too many server groups.")
    LOG.info("server group %s (%s) created in project %s", grp["uuid"], grp["policy"],
             ctxt.project_id)
    return {"server_group": view.group(grp, version)}


def _get_authorized(group_id, action):
    grp = db.get_group(group_id)
    common.authorize(P % action, {"project_id": grp["project_id"],
                                  "user_id": grp["user_id"]}, exc=faults.NotFound)
    return grp


@bp.get("/os-server-groups/<group_id>")
def show(group_id):
    """→ ``{"server_group": {...}}``; 404 unknown or of another project."""
    grp = _get_authorized(group_id, "show")
    return {"server_group": view.group(grp, common.req_version())}


@bp.delete("/os-server-groups/<group_id>")
def delete(group_id):
    """Delete the group → 204 (its servers keep running)."""
    grp = _get_authorized(group_id, "delete")
    db.delete_group(grp["uuid"])
    LOG.info("server group %s deleted", group_id)
    return "", 204
