"""Admin-only views of the block-storage deployment: services
(``volume_extension:services:*``), backend pools
(``scheduler_extension:scheduler_stats:get_pools``) and availability zones
(anyone)."""
from oslo_policy import policy

from controlplane.policies import base


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(name, check, description,
                                        [{"method": method, "path": path}])


rules = [
    _rule("volume_extension:services:index", base.ADMIN, "List volume services",
          "GET", "/os-services"),
    _rule("volume_extension:services:update", base.ADMIN,
          "Enable or disable a volume service", "PUT", "/os-services/{action}"),
    _rule("scheduler_extension:scheduler_stats:get_pools", base.ADMIN,
          "List backend pools and their capabilities", "GET", "/scheduler-stats/get_pools"),
    _rule("volume_extension:availability_zone_list", base.ANY,
          "List volume availability zones", "GET", "/os-availability-zone"),
]
