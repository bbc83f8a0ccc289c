"""Policies of /os-hypervisors (Nova's os-hypervisors): admin only."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-hypervisors:%s"


def _r(name, desc, path):
    return policy.DocumentedRuleDefault(P % name, base.ADMIN, desc,
                                        [{"method": "GET", "path": path}])


rules = [
    _r("list", "List hypervisors", "/os-hypervisors"),
    _r("list-detail", "List hypervisors with details", "/os-hypervisors/detail"),
    _r("show", "Show a hypervisor", "/os-hypervisors/{hypervisor_id}"),
    _r("statistics", "Show summed hypervisor statistics (until 2.87)",
       "/os-hypervisors/statistics"),
    _r("uptime", "Show a hypervisor's uptime", "/os-hypervisors/{hypervisor_id}/uptime"),
    _r("search", "Search hypervisors by name (until 2.52)",
       "/os-hypervisors/{hypervisor_hostname_pattern}/search"),
    _r("servers", "List the servers of hypervisors (until 2.52)",
       "/os-hypervisors/{hypervisor_hostname_pattern}/servers"),
]
