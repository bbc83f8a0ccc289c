"""os-quota-class-sets: the ``default`` quota class (admin).

Nova's API reference "Quota class sets". Only the class ``default``
affects projects; other class names are stored but unused (as Nova).
Keys: the 2.1 quota-set keys until 2.49; from 2.50 no network quotas and
server_groups/server_group_members; from 2.57 no injected_file*.
"""
import flask

from controlplane import quota
from controlplane.api import common
from controlplane.api.compute.quota_sets import _limits_view, limits_from_body
from controlplane.api.schemas import quota as schema

bp = flask.Blueprint("quota_classes", __name__)

P = "os_compute_api:os-quota-class-sets:%s"


@bp.route("/os-quota-class-sets/<class_name>", methods=["GET"])
def show(class_name):
    """``{"quota_class_set": {"id": class_name, <resource>: limit}}``."""
    common.authorize(P % "show")
    body = {"id": class_name}
    body.update(_limits_view(quota.get_class_limits(class_name), common.req_version(),
                             quota_class=True))
    return flask.jsonify({"quota_class_set": body})


@bp.route("/os-quota-class-sets/<class_name>", methods=["PUT"])
def update(class_name):
    """Set limits of the class (values ≥ -1); answers the class without ``id``."""
    common.authorize(P % "update")
    version = common.req_version()
    body = common.validate(schema.update_schema(version, quota_class=True),
                           common.json_body())
    limits = limits_from_body(body["quota_class_set"])
    quota.set_class_limits(class_name, limits)
    return flask.jsonify({"quota_class_set": _limits_view(
        quota.get_class_limits(class_name), version, quota_class=True)})
