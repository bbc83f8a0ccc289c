"""Policies of /os-availability-zone (Nova's os-availability-zone): anyone
may list zones, only admins see hosts and services (detail)."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-availability-zone:%s"

rules = [
    policy.DocumentedRuleDefault(P % "list", base.ANY, "List availability zones",
                                 [{"method": "GET", "path": "/os-availability-zone"}]),
    policy.DocumentedRuleDefault(P % "detail", base.ADMIN,
                                 "List availability zones with their hosts and services",
                                 [{"method": "GET", "path": "/os-availability-zone/detail"}]),
]
