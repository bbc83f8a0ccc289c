"""Policies of GET /limits (Nova's names)."""
from oslo_policy import policy

from controlplane.policies import base

rules = [
    policy.DocumentedRuleDefault("os_compute_api:limits", base.ANY,
                                 "Show rate and absolute limits of the own project",
                                 [{"method": "GET", "path": "/limits"}]),
    policy.DocumentedRuleDefault("os_compute_api:limits:other_project", base.ADMIN,
                                 "Show the limits of another project (?tenant_id=)",
                                 [{"method": "GET", "path": "/limits"}]),
]
