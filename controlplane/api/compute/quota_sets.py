"""os-quota-sets: show, detail, defaults, update and revert a project's quota.

Nova's API reference "Quota sets (os-quota-sets)". Keys per microversion:
network quotas (floating_ips, fixed_ips, security_groups,
security_group_rules) until 2.35, injected_file* until 2.56.
"""
import flask

from controlplane import quota
from controlplane.api import common, faults
from controlplane.api.schemas import quota as schema

bp = flask.Blueprint("quota_sets", __name__)

P = "os_compute_api:os-quota-sets:%s"


def _limits_view(limits, version, quota_class=False):
    out = {}
    for key in schema.keys_for(version, quota_class):
        if key in schema.NETWORK_DEFAULTS:
            out[key] = schema.NETWORK_DEFAULTS[key]
        else:
            out[key] = limits[key]
    return out


def _target(project_id):
    return {"project_id": project_id, "user_id": common.context().user_id}


@bp.route("/os-quota-sets/<project_id>", methods=["GET"])
def show(project_id):
    """``{"quota_set": {"id", <resource>: limit, ...}}``; ``?user_id`` is
    accepted (per-user quotas are not kept: the project's limits apply)."""
    common.authorize(P % "show", _target(project_id))
    body = {"id": project_id}
    body.update(_limits_view(quota.get_project_limits(project_id), common.req_version()))
    return flask.jsonify({"quota_set": body})


@bp.route("/os-quota-sets/<project_id>/detail", methods=["GET"])
def detail(project_id):
    """Each resource as ``{"limit", "in_use", "reserved": 0}``."""
    common.authorize(P % "show", _target(project_id))
    limits = quota.get_project_limits(project_id)
    user_id = flask.request.args.get("user_id") or common.context().user_id
    usage = quota.get_usage(project_id, user_id)
    body = {"id": project_id}
    for key, limit in _limits_view(limits, common.req_version()).items():
        body[key] = {"limit": limit, "in_use": usage.get(key, 0), "reserved": 0}
    return flask.jsonify({"quota_set": body})


@bp.route("/os-quota-sets/<project_id>/defaults", methods=["GET"])
def defaults(project_id):
    """The default limits (class ``default`` over ``[quota]``)."""
    common.authorize(P % "defaults", _target(project_id))
    body = {"id": project_id}
    body.update(_limits_view(quota.get_defaults(), common.req_version()))
    return flask.jsonify({"quota_set": body})


def limits_from_body(values):
    """``{resource: int}`` from the ``quota_set`` / ``quota_class_set`` of
    an update body (after schema validation). Network keys, accepted and
    ignored by the older microversions, are left out.

    :raises faults.BadRequest: a value is not an integer or is below -1.
    """
    limits = {}
    for key, value in values.items():
        if key in schema.NETWORK_KEYS:
            continue
        try:
            limits[key] = int(value)
        except ValueError:
            raise faults.BadRequest("Quota value %r for %s is not an integer" % (value, key))
        if limits[key] < -1:
            raise faults.BadRequest("Quota limit %s for %s must be -1 or greater."
                                    % (limits[key], key))
    return limits


@bp.route("/os-quota-sets/<project_id>", methods=["PUT"])
def update(project_id):
    """Set limits (admin). Values ≥ -1 and, unless ``force``, not below the
    usage (400). Network keys are accepted and ignored before 2.36."""
    common.authorize(P % "update", _target(project_id))
    version = common.req_version()
    body = common.validate(schema.update_schema(version), common.json_body())
    values = dict(body["quota_set"])
    force = str(values.pop("force", False)).lower() in ("true", "1", "yes")
    limits = limits_from_body(values)
    quota.set_project_limits(project_id, limits, force=force)
    return flask.jsonify({"quota_set": _limits_view(quota.get_project_limits(project_id),
                                                    version)})


@bp.route("/os-quota-sets/<project_id>", methods=["DELETE"])
def delete(project_id):
    """Revert the project to the default limits (admin): 202, no body."""
    common.authorize(P % "delete", _target(project_id))
    quota.delete_project_limits(project_id)
    return flask.Response(status=202)
