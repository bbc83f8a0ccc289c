"""Quota engine of the Compute API (Nova's ``nova.quota`` with the count model).

Limits, most specific first: a per-project row in ``quotas``, a row of the
quota class ``default`` in ``quota_classes``, the ``[quota]`` option. Usage
is counted from the API database (see :mod:`controlplane.db.quotas`); -1
means unlimited. Resource names are the API's (``injected_file_path_bytes``
for ``[quota] injected_file_path_length``).
"""
import logging

from controlplane import exception
from controlplane.conf import CONF
from controlplane.db import quotas as db_quotas

LOG = logging.getLogger(__name__)

#: every resource the API knows, in the order quota sets show them
RESOURCES = ["instances", "cores", "ram", "metadata_items", "injected_files",
             "injected_file_content_bytes", "injected_file_path_bytes",
             "key_pairs", "server_groups", "server_group_members"]
#: resources whose usage is counted
COUNTED = ("instances", "cores", "ram", "key_pairs", "server_groups")
_CONF_NAME = {"injected_file_path_bytes": "injected_file_path_length"}
DEFAULT_CLASS = "default"


class QuotaExceeded(exception.ControlPlaneException):
    """Over quota: 403 with "Quota exceeded for <resource>: Requested N, but
    already used U of L <resource>" (Nova's TooManyInstances/OverQuota)."""
    code = 403
    msg_fmt = "Quota exceeded for %(resource)s."

    def __init__(self, message=None, overs=None, **kwargs):
        self.overs = overs or []
        super().__init__(message, **kwargs)


def _conf_defaults():
    return {r: getattr(CONF.quota, _CONF_NAME.get(r, r)) for r in RESOURCES}


def get_class_limits(class_name=DEFAULT_CLASS):
    """Limits of a quota class: the ``[quota]`` options overridden by the
    class's rows. Only the class ``default`` is used for projects (as Nova)."""
    limits = _conf_defaults()
    limits.update({k: v for k, v in db_quotas.get_class_quotas(class_name).items()
                   if k in limits})
    return limits


def get_defaults():
    """Default limits every project has unless an admin set its own."""
    return get_class_limits(DEFAULT_CLASS)


def get_project_limits(project_id):
    """Effective limits of a project: ``{resource: limit}`` (the ``[quota]``
    options, overridden by the class ``default``, overridden by the
    project's own rows; both read in one database round trip)."""
    class_rows, project_rows = db_quotas.get_class_and_project_quotas(DEFAULT_CLASS,
                                                                      project_id)
    limits = _conf_defaults()
    limits.update({k: v for k, v in class_rows.items() if k in limits})
    limits.update({k: v for k, v in project_rows.items() if k in limits})
    return limits


def get_usage(project_id, user_id=None):
    """Counted usage: ``{resource: in_use}`` for every resource of
    :data:`RESOURCES` (0 for the uncounted ones; key pairs of ``user_id``)."""
    usage = dict.fromkeys(RESOURCES, 0)
    usage.update(db_quotas.count_usage(project_id, user_id))
    return usage


def _check_limit(resource, value):
    """Raise exception.Invalid unless ``resource`` is one of
    :data:`RESOURCES` and ``value`` (int) is -1 (unlimited) or more."""
    if resource not in RESOURCES:
        raise exception.Invalid("Unknown quota resource %s." % resource)
    if value < -1:
        raise exception.Invalid("Quota limit %s for %s must be -1 or greater."
                                % (value, resource))


def set_project_limits(project_id, limits, force=False):
    """Set per-project limits (admin).

    :param limits: ``{resource: int}``, each ≥ -1.
    :param force: skip the check against usage.
    :raises exception.Invalid: unknown resource, a value below -1, or (without
        force) a limit below what is already used (Nova's message "Quota limit
        N for <resource> must be greater than or equal to already used and
        reserved U.").
    """
    usage = None
    for resource, value in limits.items():
        _check_limit(resource, value)
        if not force and value != -1 and resource in COUNTED:
            if usage is None:
                usage = get_usage(project_id)
            if value < usage[resource]:
                raise exception.Invalid(
                    "Quota limit %s for %s must be greater than or equal to already "
                    "used and reserved %s." % (value, resource, usage[resource]))
    db_quotas.set_project_quotas(project_id, limits)


def delete_project_limits(project_id):
    """Revert a project to the default limits."""
    db_quotas.delete_project_quotas(project_id)


def set_class_limits(class_name, limits):
    """Set limits of a quota class (admin). Values ≥ -1."""
    for resource, value in limits.items():
        _check_limit(resource, value)
    db_quotas.set_class_quotas(class_name, limits)


def _message(over):
    return ("Quota exceeded for %(resource)s: Requested %(requested)d, but already "
            "used %(used)d of %(limit)d %(resource)s" % over)


def create_instances(project_id, user_id, instances):
    """Quota check-and-create of servers (one transaction, see
    :func:`controlplane.db.quotas.create_instances_within_quota`).

    :param instances: list of ``{"instance_uuid", "vcpus", "memory_mb",
        "build_request", "request_spec"}``.
    :raises QuotaExceeded: 403, nothing created.
    """
    limits = get_project_limits(project_id)
    try:
        return db_quotas.create_instances_within_quota(
            project_id, user_id, instances,
            {k: limits[k] for k in ("instances", "cores", "ram")})
    except db_quotas.QuotaOverLimit as exc:
        LOG.info("project %s over quota: %s", project_id, exc.overs)
        raise QuotaExceeded(_message(exc.overs[0]), overs=exc.overs)


def enforce(project_id, user_id, deltas):
    """Check that adding ``deltas`` (e.g. ``{"key_pairs": 1}``,
    ``{"server_groups": 1}``) stays within the limits; for resources counted
    per call, not serialised (Nova checks, creates, then rechecks with a
    zero delta). ``{"metadata_items": n}`` checks a per-server count.

    :raises QuotaExceeded: 403.
    """
    if all(resource not in COUNTED and delta <= 0 for resource, delta in deltas.items()):
        # 0 + delta <= any limit >= 0 (and -1 is unlimited): nothing to check,
        # no need to read the limits (a create without metadata).
        return
    limits = get_project_limits(project_id)
    usage = None
    for resource, delta in deltas.items():
        limit = limits.get(resource, -1)
        if limit < 0:
            continue
        if resource in COUNTED:
            if usage is None:
                usage = get_usage(project_id, user_id)
            used = usage[resource]
        else:
            used = 0
        if used + delta > limit:
            raise QuotaExceeded(_message({"resource": resource, "requested": delta,
                                          "used": used, "limit": limit}),
                                overs=[{"resource": resource, "requested": delta,
                                        "used": used, "limit": limit}])
