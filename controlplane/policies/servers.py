"""Policies of /servers and the server actions (Nova's names)."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:servers:%s"


def _r(name, check, desc, method, path):
    return policy.DocumentedRuleDefault(P % name, check, desc,
                                        [{"method": method, "path": path}])


rules = [
    _r("index", base.PROJECT_READER_OR_ADMIN, "List servers", "GET", "/servers"),
    _r("detail", base.PROJECT_READER_OR_ADMIN, "List servers with details",
       "GET", "/servers/detail"),
    _r("index:get_all_tenants", base.ADMIN, "List servers of every project",
       "GET", "/servers"),
    _r("detail:get_all_tenants", base.ADMIN, "List servers of every project, detailed",
       "GET", "/servers/detail"),
    _r("allow_all_filters", base.ADMIN, "Filter the server list by any field (host ...)",
       "GET", "/servers"),
    _r("show", base.PROJECT_READER_OR_ADMIN, "Show a server", "GET", "/servers/{id}"),
    _r("show:host_status", base.ADMIN, "Show host_status (2.16)", "GET", "/servers/{id}"),
    _r("create", base.PROJECT_MEMBER_OR_ADMIN, "Create a server", "POST", "/servers"),
    _r("create:forced_host", base.ADMIN,
       "Force a host/node with availability_zone 'az:host:node'", "POST", "/servers"),
    _r("update", base.PROJECT_MEMBER_OR_ADMIN, "Rename or describe a server",
       "PUT", "/servers/{id}"),
    _r("delete", base.PROJECT_MEMBER_OR_ADMIN, "Delete a server", "DELETE", "/servers/{id}"),
    _r("start", base.PROJECT_MEMBER_OR_ADMIN, "Start a server (os-start)",
       "POST", "/servers/{id}/action"),
    _r("stop", base.PROJECT_MEMBER_OR_ADMIN, "Stop a server (os-stop)",
       "POST", "/servers/{id}/action"),
    _r("reboot", base.PROJECT_MEMBER_OR_ADMIN, "Reboot a server",
       "POST", "/servers/{id}/action"),
    policy.DocumentedRuleDefault(
        "os_compute_api:os-extended-server-attributes", base.ADMIN,
        "Show OS-EXT-SRV-ATTR:* attributes", [{"method": "GET", "path": "/servers/{id}"}]),
]
