"""Policies of the block-storage quota sets and limits (Cinder's
``volume_extension:quotas:*`` and ``limits_extension:used_limits``)."""
from oslo_policy import policy

from controlplane.policies import base

Q = "volume_extension:quotas:%s"


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(name, check, description,
                                        [{"method": method, "path": path}])


rules = [
    _rule(Q % "show", base.PROJECT_READER_OR_ADMIN, "Show a project's volume quota",
          "GET", "/os-quota-sets/{project_id}"),
    _rule(Q % "update", base.ADMIN, "Set a project's volume quota",
          "PUT", "/os-quota-sets/{project_id}"),
    _rule(Q % "delete", base.ADMIN, "Revert a project's volume quota to the defaults",
          "DELETE", "/os-quota-sets/{project_id}"),
    _rule("limits_extension:used_limits", base.PROJECT_READER_OR_ADMIN,
          "Show the absolute limits and usage", "GET", "/limits"),
]
