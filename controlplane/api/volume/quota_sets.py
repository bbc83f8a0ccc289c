"""``/os-quota-sets`` of the Block Storage API (Cinder's quota sets).

Resources: ``volumes``, ``snapshots``, ``gigabytes``,
``per_volume_gigabytes``, ``backups``, ``backup_gigabytes``, ``groups``
and per volume type ``volumes_<type>``, ``snapshots_<type>``,
``gigabytes_<type>`` (default -1). ``?usage=true`` gives each as
``{"limit", "in_use", "reserved": 0}``. A member reads its own project's
quota; only the admin changes or reverts one (a limit below what is in
use is 400, -1 is unlimited).
"""
import logging

import flask

from controlplane.api import common, faults
from controlplane.api.volume import helpers
from controlplane.api.volume.schemas import quota as schema
from controlplane.api.volume.schemas.types_common import MAX_INT
from controlplane.db import engine as db_engine
from controlplane.db import volume_quotas as db_vquotas

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("volume_quota_sets", __name__)

P = "volume_extension:quotas:%s"
#: Cinder's default for groups (no group support here: reported, not counted)
GROUPS_DEFAULT = 10


def _with_groups(limits):
    out = dict(limits)
    out.setdefault("groups", GROUPS_DEFAULT)
    return out


def _order(limits):
    base = ["volumes", "snapshots", "gigabytes", "per_volume_gigabytes", "backups",
            "backup_gigabytes", "groups"]
    out = {k: limits[k] for k in base if k in limits}
    out.update({k: limits[k] for k in sorted(limits) if k not in out})
    return out


@bp.get("/os-quota-sets/<target_project>")
def show(target_project):
    """``{"quota_set": {"id", <resource>: limit | {limit, in_use, reserved}}}``."""
    project_id = target_project
    common.authorize(P % "show", helpers.target(project_id))
    eng = db_engine.api_engine()
    limits = _order(_with_groups(db_vquotas.get_limits(eng, project_id)))
    body = {"id": project_id}
    if helpers.bool_query("usage"):
        usage = db_vquotas.count_usage(eng, project_id)
        for key, limit in limits.items():
            body[key] = {"limit": limit, "in_use": int(usage.get(key, 0)), "reserved": 0}
    else:
        body.update(limits)
    return {"quota_set": body}


@bp.get("/os-quota-sets/<target_project>/defaults")
def defaults(target_project):
    """The default limits (tempest ``show_quota_set``)."""
    project_id = target_project
    common.authorize(P % "show", helpers.target(project_id))
    body = {"id": project_id}
    body.update(_order(_with_groups(db_vquotas.get_defaults(db_engine.api_engine()))))
    return {"quota_set": body}


@bp.put("/os-quota-sets/<target_project>")
def update(target_project):
    """Admin: set limits → 200 ``{"quota_set": {...}}`` (tempest ``update_quota_set``).

    400: unknown resource, a value below -1, or below the usage.
    """
    project_id = target_project
    common.authorize(P % "update", helpers.target(project_id))
    body = common.validate(schema.update, common.json_body())["quota_set"]
    body.pop("tenant_id", None)
    eng = db_engine.api_engine()
    current = _with_groups(db_vquotas.get_limits(eng, project_id))
    usage = db_vquotas.count_usage(eng, project_id)
    values = {}
    for key, raw in body.items():
        if key not in current:
            raise faults.BadRequest("Bad key(s) in quota set: %s" % key)
        value = int(raw)
        if value < -1 or value > MAX_INT:
            raise faults.BadRequest("Quota value %s for %s must be between -1 and %d." % (
                value, key, MAX_INT))
        in_use = int(usage.get(key, 0))
        if value != -1 and value < in_use and key != "per_volume_gigabytes":
            raise faults.BadRequest("Quota limit %s for %s must be greater than or equal "
                                    "to already used and reserved %s." % (value, key, in_use))
        values[key] = value
    if values:
        db_vquotas.set_project_quotas(eng, project_id, values)
        LOG.info("volume quota of project %s set: %s", project_id, values)
    limits = _with_groups(db_vquotas.get_limits(eng, project_id))
    return {"quota_set": _order(limits)}


@bp.delete("/os-quota-sets/<target_project>")
def delete(target_project):
    """Admin: revert the project to the defaults (200)."""
    project_id = target_project
    common.authorize(P % "delete", helpers.target(project_id))
    db_vquotas.delete_project_quotas(db_engine.api_engine(), project_id)
    return "", 200
