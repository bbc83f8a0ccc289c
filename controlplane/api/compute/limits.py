"""GET /limits: absolute limits and usage of the caller's project.

Nova's API reference "Limits". Keys per microversion: network limits until
2.35, ``maxImageMeta`` until 2.38, ``maxPersonality*`` until 2.56. ``rate``
is always ``[]`` (rate limits are enforced in middleware, not reported).
``?tenant_id=`` shows another project for an admin.
"""
import flask

from controlplane import quota
from controlplane.api import common

bp = flask.Blueprint("limits", __name__)


def absolute_limits(limits, usage, version):
    """The ``absolute`` dict for ``version`` (an APIVersion)."""
    out = {
        "maxServerMeta": limits["metadata_items"],
        "maxTotalInstances": limits["instances"],
        "maxTotalCores": limits["cores"],
        "maxTotalRAMSize": limits["ram"],
        "maxTotalKeypairs": limits["key_pairs"],
        "maxServerGroups": limits["server_groups"],
        "maxServerGroupMembers": limits["server_group_members"],
        "totalInstancesUsed": usage["instances"],
        "totalCoresUsed": usage["cores"],
        "totalRAMUsed": usage["ram"],
        "totalServerGroupsUsed": usage["server_groups"],
    }
    if version < (2, 57):
        out["maxPersonality"] = limits["injected_files"]
        out["maxPersonalitySize"] = limits["injected_file_content_bytes"]
    if version < (2, 39):
        out["maxImageMeta"] = limits["metadata_items"]
    if version < (2, 36):
        out.update(maxSecurityGroups=10, maxSecurityGroupRules=20,
                   maxTotalFloatingIps=10, totalFloatingIpsUsed=0,
                   totalSecurityGroupsUsed=0)
    return out


@bp.route("/limits", methods=["GET"])
def index():
    """``{"limits": {"absolute": {...}, "rate": []}}``."""
    ctxt = common.context()
    common.authorize("os_compute_api:limits")
    project_id = ctxt.project_id
    other = flask.request.args.get("tenant_id")
    if other and other != project_id and common.can(
            "os_compute_api:limits:other_project", {"project_id": other}):
        project_id = other
    limits = quota.get_project_limits(project_id)
    usage = quota.get_usage(project_id, ctxt.user_id)
    return flask.jsonify({"limits": {
        "absolute": absolute_limits(limits, usage, common.req_version()),
        "rate": []}})
