"""Policies of os-quota-sets and os-quota-class-sets (Nova's names)."""
from oslo_policy import policy

from controlplane.policies import base

QS = "os_compute_api:os-quota-sets:%s"
QC = "os_compute_api:os-quota-class-sets:%s"

rules = [
    policy.DocumentedRuleDefault(QS % "show", base.PROJECT_READER_OR_ADMIN,
                                 "Show a project's quota",
                                 [{"method": "GET", "path": "/os-quota-sets/{tenant_id}"},
                                  {"method": "GET",
                                   "path": "/os-quota-sets/{tenant_id}/detail"}]),
    policy.DocumentedRuleDefault(QS % "defaults", base.ANY, "Show the default quota",
                                 [{"method": "GET",
                                   "path": "/os-quota-sets/{tenant_id}/defaults"}]),
    policy.DocumentedRuleDefault(QS % "update", base.ADMIN, "Set a project's quota",
                                 [{"method": "PUT", "path": "/os-quota-sets/{tenant_id}"}]),
    policy.DocumentedRuleDefault(QS % "delete", base.ADMIN,
                                 "Revert a project's quota to the defaults",
                                 [{"method": "DELETE",
                                   "path": "/os-quota-sets/{tenant_id}"}]),
    policy.DocumentedRuleDefault(QC % "show", base.ADMIN, "Show a quota class",
                                 [{"method": "GET", "path": "/os-quota-class-sets/{id}"}]),
    policy.DocumentedRuleDefault(QC % "update", base.ADMIN, "Set a quota class",
                                 [{"method": "PUT", "path": "/os-quota-class-sets/{id}"}]),
]
