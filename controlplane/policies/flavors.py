"""Policies of /flavors management (Nova's os-flavor-manage).

Listing and showing flavors has no rule in Nova (every authenticated user
may); only create, update (2.55 description) and delete are admin-only.
"""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-flavor-manage:%s"

rules = [
    policy.DocumentedRuleDefault(P % "create", base.ADMIN, "Create a flavor",
                                 [{"method": "POST", "path": "/flavors"}]),
    policy.DocumentedRuleDefault(P % "update", base.ADMIN,
                                 "Update a flavor's description (2.55)",
                                 [{"method": "PUT", "path": "/flavors/{flavor_id}"}]),
    policy.DocumentedRuleDefault(P % "delete", base.ADMIN, "Delete a flavor",
                                 [{"method": "DELETE", "path": "/flavors/{flavor_id}"}]),
]
