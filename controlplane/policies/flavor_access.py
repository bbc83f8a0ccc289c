"""Policies of private flavor access (Nova's os-flavor-access): admin only."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-flavor-access"

rules = [
    policy.DocumentedRuleDefault(P, base.ADMIN, "List the projects a private flavor is shared with",
                                 [{"method": "GET", "path": "/flavors/{flavor_id}/os-flavor-access"}]),
    policy.DocumentedRuleDefault(P + ":add_tenant_access", base.ADMIN,
                                 "Share a private flavor with a project",
                                 [{"method": "POST", "path": "/flavors/{flavor_id}/action"}]),
    policy.DocumentedRuleDefault(P + ":remove_tenant_access", base.ADMIN,
                                 "Stop sharing a private flavor with a project",
                                 [{"method": "POST", "path": "/flavors/{flavor_id}/action"}]),
]
