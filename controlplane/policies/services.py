"""Policies of /os-services (Nova's os-services): admin only."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-services:%s"

rules = [
    policy.DocumentedRuleDefault(P % "list", base.ADMIN, "List compute services",
                                 [{"method": "GET", "path": "/os-services"}]),
    policy.DocumentedRuleDefault(P % "update", base.ADMIN,
                                 "Enable, disable or force down a service",
                                 [{"method": "PUT", "path": "/os-services/{service_id}"}]),
    policy.DocumentedRuleDefault(P % "delete", base.ADMIN, "Delete a service",
                                 [{"method": "DELETE", "path": "/os-services/{service_id}"}]),
]
